"""Tokenise one GTFS CSV file into text columns with the line number of every row.

Everything is text here; types come later from the declared schema. Handled: a UTF-8 BOM,
CRLF and mixed line endings, quoting (RFC 4180), leading/trailing whitespace (stripped and
reported, as the validator does), empty rows, rows with the wrong number of fields, values
spanning lines, cells over the length limit, NUL bytes and invalid UTF-8 (reported with line
and byte offset; the row is dropped). UTF-16/32 input is refused with the fix.

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

_BOM8 = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass
class RawTable:
    """A CSV file as text: column name -> ``str`` Series, and the file line of each row."""

    header: list[str]
    columns: dict[str, pd.Series]
    lines: np.ndarray  # int64, 1-based, header is line 1
    #: rows the tokeniser dropped: (line, fields as far as they could be split)
    dropped: list[tuple[int, list[str]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


class CsvFatal(Exception):
    """Raised when the file cannot be tokenised at all; carries the notice code."""

    def __init__(self, message: str, *, code: str, line: int = 0, hint: str | None = None, field: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.hint = hint
        self.field = field


#: a line break as the csv module counts them (``\r\n``, a bare ``\r`` or ``\n``): line
#: numbers of bad bytes and of rows must agree, also in files with old Mac line endings
_BREAK = re.compile(r"\r\n|\r|\n")
_BREAK_OR_BAD = re.compile("\r\n|\r|\n|[\udc80-\udcff]")


def _count_lines(text: str) -> int:
    """Physical lines of ``text`` (a last line without a break counts)."""
    n = len(_BREAK.findall(text))
    return n + (1 if text and not text.endswith(("\n", "\r")) else 0)


def decode(data: bytes) -> tuple[str, dict[int, int]]:
    """Decode UTF-8 (BOM stripped); return the text and {line: byte offset} of bad bytes."""
    if data.startswith(_BOM8):
        data = data[3:]
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.startswith((b"\x00\x00\xfe\xff",)):
        msg = "file is UTF-16/UTF-32 encoded; GTFS files must be UTF-8"
        raise CsvFatal(msg, code="invalid_encoding", line=1, hint="re-encode the file as UTF-8")
    probe = data[:512]
    if len(probe) >= 8 and (probe[1::2].count(0) > 0.9 * len(probe[1::2]) or probe[0::2].count(0) > 0.9 * len(probe[0::2])):
        msg = "file looks UTF-16 encoded (every other byte is NUL); GTFS files must be UTF-8"
        raise CsvFatal(msg, code="invalid_encoding", line=1, hint="re-encode the file as UTF-8")
    if data.startswith(b"PK\x03\x04"):
        msg = "file is a zip archive, not CSV text (a zip inside the zip?)"
        raise CsvFatal(msg, code="csv_parsing_failed", line=1, hint="unpack the inner archive")
    try:
        return data.decode("utf-8"), {}
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="surrogateescape")
    bad: dict[int, int] = {}
    # one pass: the line of every bad byte and its byte offset (the first per line)
    line, pos, offset = 1, 0, 0
    for m in _BREAK_OR_BAD.finditer(text):
        if m.group()[0] in "\r\n":
            line += 1
            continue
        if line not in bad:
            offset += len(text[pos:m.start()].encode("utf-8", errors="surrogateescape"))
            pos = m.start()
            bad[line] = offset
            if len(bad) > 10_000:
                break
    if len(bad) > 10_000 or (len(bad) > 100 and len(bad) * 2 > text.count("\n") + 1):
        msg = "file is not valid UTF-8 (most lines have invalid bytes); is it Latin-1/Windows-1252?"
        raise CsvFatal(msg, code="invalid_character", line=min(bad), hint="re-encode the file as UTF-8")
    return text, bad


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


def tokenize(data: bytes, *, feed: str, file: str, notices: Notices, max_cell_chars: int) -> RawTable:
    """Tokenise ``data`` (one CSV file). Raises :class:`CsvFatal` when it cannot be read."""
    if not data.strip(b" \t\r\n" + _BOM8):
        msg = "file is empty"
        raise CsvFatal(msg, code="empty_file")
    text, bad_lines = decode(data)
    header, header_len = _header(text)
    if 1 in bad_lines:
        notices.add("invalid_character", Severity.ERROR,
                    f"invalid UTF-8 byte in the header at byte offset {bad_lines[1]}; the column name is unusable",
                    feed=feed, file=file, line=1, value=_SURROGATE.sub("\ufffd", ",".join(header)), action="fixed")
        header = [_SURROGATE.sub("\ufffd", h) for h in header]
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
    body = text[header_len:]
    raw = None
    if not bad_lines and "\x00" not in body and _simple_quoting(body):
        raw = _fast(body, header)
    if raw is None:
        raw = _exact(body, header, feed=feed, file=file, notices=notices, bad_lines=bad_lines)
    return _clean(raw, feed=feed, file=file, notices=notices, max_cell_chars=max_cell_chars)


_QUOTED_FIELD = re.compile(r'(?:^|(?<=,))"(?:[^"\r\n]|"")*"(?=,|\r?$)', re.MULTILINE)


def _simple_quoting(body: str) -> bool:
    """True when every quote belongs to a well-formed quoted field within one line."""
    if '"' not in body:
        return True
    return '"' not in _QUOTED_FIELD.sub("", body)


def _fast(body: str, header: list[str]) -> RawTable | None:
    """pyarrow tokeniser; None when the file needs the exact path."""
    if "\n\n" in body or "\n\r\n" in body or body.startswith(("\n", "\r\n", "\ufeff")):
        return None  # (pyarrow would also drop a BOM that starts the body, the exact path keeps it)
    if "\r" in body and body.count("\r") != body.count("\r\n"):
        return None
    if not body.strip("\r\n"):
        return RawTable(header, {c: pd.Series([], dtype="str") for c in header}, np.zeros(0, np.int64))

    invalid = []

    def handler(row):  # any malformed row sends us to the exact path
        invalid.append(row)
        return "skip"

    try:
        tbl = pacsv.read_csv(
            pa.BufferReader(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=header, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                quote_char='"', double_quote=True, newlines_in_values=False, ignore_empty_lines=True,
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if invalid:
        return None
    n = tbl.num_rows
    lines = np.arange(2, n + 2, dtype=np.int64)
    cols = {
        name: pd.Series(tbl.column(i).combine_chunks().to_pandas(types_mapper=None), dtype="str")
        for i, name in enumerate(header)
    }
    return RawTable(header, cols, lines)


def _exact(body: str, header: list[str], *, feed: str, file: str, notices: Notices, bad_lines: dict[int, int]) -> RawTable:
    ncols = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    dropped: list[tuple[int, list[str]]] = []
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
        if bad_lines and (any(line in bad_lines for line in range(start, end + 1))
                          or any(_SURROGATE.search(v) for v in row)):
            line = next((ln for ln in range(start, end + 1) if ln in bad_lines), start)
            col = next((i for i, v in enumerate(row) if _SURROGATE.search(v)), -1)
            where = f"byte offset {bad_lines[line]} of the file" if line in bad_lines else "this row"
            notices.add("invalid_character", Severity.ERROR,
                        f"invalid UTF-8 byte at {where}",
                        feed=feed, file=file, line=line, field=header[col] if 0 <= col < ncols else "",
                        value=_SURROGATE.sub("\ufffd", ",".join(row)), action="dropped")
            dropped.append((start, [_SURROGATE.sub("\ufffd", v) for v in row]))
            continue
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
        rows.append(row)
        lines.append(start)
    if rows:
        transposed = list(zip(*rows, strict=True))
        cols = {name: pd.Series(list(transposed[i]), dtype="str") for i, name in enumerate(header)}
    else:
        cols = {name: pd.Series([], dtype="str") for name in header}
    return RawTable(header, cols, np.asarray(lines, dtype=np.int64), dropped)


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
        )
    return raw
