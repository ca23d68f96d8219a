"""Tokenise one GTFS CSV file into text columns with the line number of every row.

Everything is text here; types come later from the declared schema. The bytes are decoded
once, by :mod:`planner.ingest.gtfs._encoding` (UTF-8 with or without a BOM; UTF-16 by its
BOM; else a reported fallback, or ``--encoding``). Handled: CRLF and mixed line endings,
quoting (RFC 4180), leading/trailing whitespace (stripped and reported, as the validator
does), empty rows, rows with the wrong number of fields, values spanning lines, cells over
the length limit, NUL bytes, and bytes the encoding cannot decode (shown as U+FFFD; their
cells are listed in :attr:`RawTable.bad_chars` for the loader to report per field, since
whether the row can stay depends on the column's kind).

Two tokenisers give identical results: the exact one (Python's ``csv`` module, which knows
the line of every row) and a fast one (pyarrow) used only when the file has no quotes, no
blank lines and no malformed rows, so that row ``i`` is line ``i + 2`` by construction. The
tests check that both agree.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from planner.common.notices import Notices, Severity
from planner.ingest.gtfs._encoding import BAD, CsvFatal, decode_file, fixed

__all__ = ["CsvFatal", "RawTable", "decode", "tokenize"]

_BOM8 = b"\xef\xbb\xbf"
_SURROGATE = BAD


@dataclass
class RawTable:
    """A CSV file as text: column name -> ``str`` Series, and the file line of each row."""

    header: list[str]
    columns: dict[str, pd.Series]
    lines: np.ndarray  # int64, 1-based, header is line 1
    #: rows the tokeniser dropped: (line, fields as far as they could be split)
    dropped: list[tuple[int, list[str]]] = field(default_factory=list)
    #: cells that held undecodable bytes (now U+FFFD): column -> {row line: byte offset, -1 unknown}
    bad_chars: dict[str, dict[int, int]] = field(default_factory=dict)
    #: the file's encoding, as the notices name it
    encoding: str = "UTF-8"

    def __len__(self) -> int:
        return len(self.lines)


#: a line break as the csv module counts them (``\r\n``, a bare ``\r`` or ``\n``): line
#: numbers of bad bytes and of rows must agree, also in files with old Mac line endings
_BREAK = re.compile(r"\r\n|\r|\n")


def _count_lines(text: str) -> int:
    """Physical lines of ``text`` (a last line without a break counts)."""
    n = len(_BREAK.findall(text))
    return n + (1 if text and not text.endswith(("\n", "\r")) else 0)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, dict[int, int]]:
    """The text of ``data`` (see :mod:`._encoding`) and {line: byte offset} of undecodable bytes."""
    dec = decode_file(data, encoding)
    return dec.text, dec.bad_lines


def _header(text: str) -> tuple[list[str], int]:
    """Column names of the first line and the length of that line (with its break) in chars."""
    m = _BREAK.search(text)
    head = text if m is None else text[:m.start()]
    try:
        row = next(csv.reader([head]), [])
    except csv.Error as err:  # a NUL or a stray quote in the header line
        msg = f"the header line cannot be read as CSV: {err}"
        raise CsvFatal(msg, code="csv_parsing_failed", line=1, hint="fix the first line of the file") from err
    return [c.strip() for c in row], (len(text) if m is None else m.end())


def tokenize(data: bytes, *, feed: str, file: str, notices: Notices, max_cell_chars: int,
             encoding: str | None = None) -> RawTable:
    """Tokenise ``data`` (one CSV file), decoded as :mod:`._encoding` decides, or as
    ``encoding`` when given. Raises :class:`CsvFatal` when it cannot be read."""
    if not data.strip(b" \t\r\n" + _BOM8):
        msg = "file is empty"
        raise CsvFatal(msg, code="empty_file")
    dec = decode_file(data, encoding)
    said = dec.notice(file)
    if said is not None:
        notices.add("planner_file_encoding", Severity.WARNING, said, feed=feed, file=file, value=dec.label,
                    action="fixed")
    text, bad_lines = dec.text, dec.bad_lines
    clean_utf8 = dec.codec == "utf_8" and not bad_lines  # the text is the bytes, decoded as they are
    header, header_len = _header(text)
    if 1 in bad_lines:
        where = f" at byte offset {bad_lines[1]}" if bad_lines[1] >= 0 else ""
        for name in header:
            if _SURROGATE.search(name):
                notices.add("invalid_character", Severity.ERROR,
                            f"invalid {dec.label} byte in the header{where}; the column name is unusable",
                            feed=feed, file=file, line=1, field=fixed(name), value=fixed(name), action="fixed")
        header = [fixed(h) for h in header]
        del bad_lines[1]
    if not any(header):
        msg = "the header line is empty"
        raise CsvFatal(msg, code="empty_file", line=1)
    for i, name in enumerate(header):
        if not name:
            msg = f"column {i + 1} of the header has no name"
            raise CsvFatal(msg, code="empty_column_name", line=1, hint="name every column or remove the empty one",
                           field=f"column {i + 1}")
        if header.index(name) != i:
            msg = f"column {name!r} appears twice in the header"
            raise CsvFatal(msg, code="duplicated_column", line=1, hint="remove the duplicate column", field=name)
    label = dec.label
    raw = None
    if clean_utf8:
        # plain UTF-8: pyarrow reads the file's own bytes (no second copy of the text, no
        # re-encoding: three fewer copies of a large stop_times.txt in memory, issue 17)
        offset = (3 if data.startswith(_BOM8) else 0) + len(text[:header_len].encode("utf-8"))
        if data.find(b"\x00", offset) < 0 and data.find(b'"', offset) < 0:
            del dec, text
            raw = _fast_bytes(data, offset, header)
            if raw is None:  # the exact path needs the text again
                dec = decode_file(data, encoding)
                text = dec.text
    if raw is None:
        body = text[header_len:]
        if not bad_lines and "\x00" not in body and _simple_quoting(body):
            raw = _fast(body, header)
        if raw is None:
            raw = _exact(body, header, feed=feed, file=file, notices=notices, bad_lines=bad_lines)
    raw.encoding = label
    return _clean(raw, feed=feed, file=file, notices=notices, max_cell_chars=max_cell_chars)


_QUOTED_FIELD = re.compile(r'(?:^|(?<=,))"(?:[^"\r\n]|"")*"(?=,|\r?$)', re.MULTILINE)


def _simple_quoting(body: str) -> bool:
    """True when every quote belongs to a well-formed quoted field within one line."""
    if '"' not in body:
        return True
    return '"' not in _QUOTED_FIELD.sub("", body)


def _fast_bytes(data: bytes, offset: int, header: list[str]) -> RawTable | None:
    """:func:`_fast` on ``data[offset:]``, the body of a plain UTF-8 file without quotes or
    NUL bytes, read where it lies; None when the file needs the exact path."""
    if data.find(b"\n\n", offset) >= 0 or data.find(b"\n\r\n", offset) >= 0 or data.startswith((b"\n", b"\r\n", _BOM8), offset):
        return None  # (pyarrow would also drop a BOM that starts the body, the exact path keeps it)
    n_cr = data.count(b"\r", offset)
    if n_cr and n_cr != data.count(b"\r\n", offset):
        return None
    if not data[offset:offset + 4096].strip(b"\r\n") and not data[offset:].strip(b"\r\n"):
        return RawTable(header, {c: pd.Series([], dtype="str") for c in header}, np.zeros(0, np.int64))
    return _arrow_table(pa.py_buffer(data).slice(offset), header)


def _fast(body: str, header: list[str]) -> RawTable | None:
    """pyarrow tokeniser; None when the file needs the exact path."""
    if "\n\n" in body or "\n\r\n" in body or body.startswith(("\n", "\r\n", "\ufeff")):
        return None  # (pyarrow would also drop a BOM that starts the body, the exact path keeps it)
    if "\r" in body and body.count("\r") != body.count("\r\n"):
        return None
    if not body.strip("\r\n"):
        return RawTable(header, {c: pd.Series([], dtype="str") for c in header}, np.zeros(0, np.int64))
    return _arrow_table(pa.py_buffer(body.encode("utf-8")), header)


def _arrow_table(buf: pa.Buffer, header: list[str]) -> RawTable | None:

    invalid = []

    def handler(row):  # any malformed row sends us to the exact path
        invalid.append(row)
        return "skip"

    try:
        tbl = pacsv.read_csv(
            pa.BufferReader(buf),
            read_options=pacsv.ReadOptions(column_names=header, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                quote_char='"', double_quote=True, newlines_in_values=False, ignore_empty_lines=True,
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.large_string()),  # what pandas' str holds
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if invalid:
        return None
    n = tbl.num_rows
    lines = np.arange(2, n + 2, dtype=np.int64)
    cols = {}
    for name in header:
        # one column at a time out of the table, so that its buffers belong to the Series
        # alone (no combined copy of every column at once: issue 17)
        col = tbl.column(0)
        tbl = tbl.remove_column(0)
        cols[name] = pd.Series(pd.array(col, dtype="str"))
        del col
    return RawTable(header, cols, lines)


def _exact(body: str, header: list[str], *, feed: str, file: str, notices: Notices, bad_lines: dict[int, int]) -> RawTable:
    ncols = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    dropped: list[tuple[int, list[str]]] = []
    bad_chars: dict[str, dict[int, int]] = {}
    total_lines = _count_lines(body) + 1
    reader = csv.reader(io.StringIO(body, newline=""), strict=False)
    end = 1  # physical line where the previous row ended (header = 1)
    errors = 0
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            if "field larger than field limit" in str(err):  # a quote that never closes
                msg = f"a quoted value starting on line {start} does not end (an unclosed quote?)"
                raise CsvFatal(msg, code="csv_parsing_failed", line=start,
                               hint="close the quote or remove the stray quote character") from err
            end = reader.line_num + 1
            errors += 1
            notices.add("csv_parsing_failed", Severity.ERROR, f"row cannot be parsed: {err}", feed=feed,
                        file=file, line=start, action="dropped")
            dropped.append((start, []))
            if errors > 1000:
                msg = f"more than 1000 unparsable rows (first at line {start})"
                raise CsvFatal(msg, code="csv_parsing_failed", line=start) from err
            continue
        end = reader.line_num + 1
        if not row:
            if start not in bad_lines:
                notices.add("empty_row", Severity.WARNING, "empty line", feed=feed, file=file, line=start, action="dropped")
            continue
        marked: list[int] = []
        if bad_lines and any(_SURROGATE.search(v) for v in row):
            # undecodable bytes: shown as U+FFFD; the loader reports them per field, by kind
            marked = [i for i, v in enumerate(row) if _SURROGATE.search(v)]
            row = [fixed(v) for v in row]
        spans = any("\n" in v or "\r" in v for v in row)
        if end > start or spans:
            if end >= total_lines and spans:
                msg = f"a quoted value starting on line {start} runs to the end of the file (an unclosed quote?)"
                raise CsvFatal(msg, code="csv_parsing_failed", line=start,
                               hint="close the quote or remove the stray quote character")
            notices.add("new_line_in_value", Severity.ERROR,
                        f"a value spans lines {start}-{end} (an unclosed quote?)",
                        feed=feed, file=file, line=start, value=",".join(row), action="dropped")
            dropped.append((start, row))
            continue
        if len(row) != ncols:
            if len(row) == 1 and not row[0].strip():
                notices.add("empty_row", Severity.WARNING, "blank line", feed=feed, file=file, line=start, action="dropped")
                continue
            notices.add("invalid_row_length", Severity.ERROR,
                        f"row has {len(row)} fields, the header has {ncols}",
                        feed=feed, file=file, line=start, value=",".join(row), action="dropped")
            dropped.append((start, row))
            continue
        if marked:
            line = next((ln for ln in range(start, end + 1) if ln in bad_lines), start)
            for i in marked:
                bad_chars.setdefault(header[i], {})[start] = bad_lines.get(line, -1)
        rows.append(row)
        lines.append(start)
    if rows:
        transposed = list(zip(*rows, strict=True))
        cols = {name: pd.Series(list(transposed[i]), dtype="str") for i, name in enumerate(header)}
    else:
        cols = {name: pd.Series([], dtype="str") for name in header}
    return RawTable(header, cols, np.asarray(lines, dtype=np.int64), dropped, bad_chars)


def _clean(raw: RawTable, *, feed: str, file: str, notices: Notices, max_cell_chars: int) -> RawTable:
    """Strip whitespace (reported), drop rows with NUL bytes, over-long cells or all-empty."""
    n = len(raw.lines)
    if n == 0:
        return raw
    drop = np.zeros(n, dtype=bool)
    for name in raw.header:
        col = raw.columns[name]
        stripped = col.str.strip()
        changed = (stripped != col).to_numpy(dtype=bool)
        if changed.any():
            idx = np.flatnonzero(changed)
            for i in idx[:50]:
                notices.add("leading_or_trailing_whitespaces", Severity.WARNING,
                            "value has leading or trailing whitespace (stripped)", feed=feed, file=file,
                            line=int(raw.lines[i]), field=name, value=col.iloc[i], action="fixed")
            if len(idx) > 50:
                notices.add("leading_or_trailing_whitespaces", Severity.WARNING,
                            "value has leading or trailing whitespace (stripped)", feed=feed, file=file,
                            field=name, action="fixed", count=len(idx) - 50)
            raw.columns[name] = col = stripped
        lengths = col.str.len().to_numpy(dtype=np.int64)
        long = lengths > max_cell_chars
        for i in np.flatnonzero(long & ~drop):
            notices.add("csv_parsing_failed", Severity.ERROR,
                        f"cell is {lengths[i]:,} characters long, over the limit of {max_cell_chars:,}",
                        feed=feed, file=file, line=int(raw.lines[i]), field=name, value=col.iloc[i], action="dropped")
        drop |= long
        nul = col.str.contains("\x00", regex=False).to_numpy(dtype=bool)
        for i in np.flatnonzero(nul & ~drop):
            notices.add("invalid_character", Severity.ERROR, "NUL byte inside a value", feed=feed, file=file,
                        line=int(raw.lines[i]), field=name, value=col.iloc[i], action="dropped")
        drop |= nul
    empty = np.ones(n, dtype=bool)
    for name in raw.header:
        empty &= (raw.columns[name] == "").to_numpy(dtype=bool)
    for i in np.flatnonzero(empty & ~drop):
        notices.add("empty_row", Severity.WARNING, "row has only empty values", feed=feed, file=file,
                    line=int(raw.lines[i]), action="dropped")
    drop |= empty
    if drop.any():
        keep = ~drop
        gone = [(int(raw.lines[i]), [str(raw.columns[h].iloc[i]) for h in raw.header])
                for i in np.flatnonzero(drop & ~empty)]
        raw = RawTable(
            raw.header,
            {k: v[keep].reset_index(drop=True) for k, v in raw.columns.items()},
            raw.lines[keep],
            raw.dropped + gone,
            raw.bad_chars,
            raw.encoding,
        )
    return raw
