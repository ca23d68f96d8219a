"""Which text encoding one GTFS file is in, decided per file from its bytes, decoded once.

GTFS files must be UTF-8, but older feeds from Europe, Latin America and Asia come in
Windows-1252, Latin-1, GBK/GB18030 or UTF-16. Each file is decided on its own (a feed whose
``stops.txt`` is Latin-1 and whose ``routes.txt`` is UTF-8 is common), in this order:

1. ``--encoding FEED=NAME`` (:attr:`planner.config.Config.encodings`) forces a codec for every
   file of that feed; bytes it cannot decode are handled as in 4.
2. A UTF-8 BOM, or bytes that decode as UTF-8: UTF-8, no notice. This is the common case and
   costs one ``bytes.decode``, as before.
3. A UTF-16 BOM (little- or big-endian): UTF-16, reported. UTF-16 without a BOM (every other
   byte NUL) and UTF-32 are refused (``invalid_encoding``) with the ``--encoding`` fix.
4. Bytes that are UTF-8 except for a few invalid bytes (more valid multi-byte characters
   than invalid bytes): UTF-8, each invalid byte shown as U+FFFD and reported per field by
   the loader (``invalid_character``: a WARNING that keeps the row in a text field, an ERROR
   that drops it in an id or a required typed field).
5. A file that is not text at all (control bytes, as a binary file named ``stops.txt``) is
   refused (``invalid_encoding``) with the byte offset and line of the first control byte.
6. Otherwise a legacy encoding: **GB18030** when the bytes decode as GB18030 and at least
   80 % of the non-ASCII characters are in GB2312 (the simplified Chinese set station names
   use; Latin-1 text read as GB18030 gives rare or invalid characters instead); otherwise
   **ISO-8859-1 (Latin-1)** when no byte is in 0x80-0x9F (there Windows-1252 and Latin-1
   agree), **Windows-1252** when one is and Windows-1252 defines it, else Latin-1.

Every file not read as UTF-8 gets one ``planner_file_encoding`` WARNING naming the file and
the encoding used (the fix: re-encode the file as UTF-8, or force the right one with
``--encoding``). A guess can be wrong for a file whose few non-ASCII bytes fit both
GB18030 and Latin-1; the notice says which was used, and ``--encoding`` settles it.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["BAD", "CsvFatal", "Decoded", "check_codec", "decode_file", "fixed"]

_BOM8 = b"\xef\xbb\xbf"
_MARK = "planner_mark"
#: an undecodable byte ``b`` is kept as the lone surrogate ``U+DC00 + b`` until it is reported
BAD = re.compile("[\udc00-\udcff]")
_BREAK_OR_BAD = re.compile("\r\n|\r|\n|[\udc00-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_C1 = re.compile(rb"[\x80-\x9f]")
_BINARY_SAMPLE = 1 << 16
_LABELS = {"utf_8": "UTF-8", "utf_8_sig": "UTF-8", "utf_16": "UTF-16", "utf_16_le": "UTF-16LE",
           "utf_16_be": "UTF-16BE", "cp1252": "Windows-1252", "latin_1": "ISO-8859-1 (Latin-1)",
           "iso8859_1": "ISO-8859-1 (Latin-1)", "gb18030": "GB18030", "gbk": "GBK", "gb2312": "GB2312"}


def _mark(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return "".join(chr(0xDC00 + b) for b in err.object[err.start:err.end]), err.end


codecs.register_error(_MARK, _mark)


class CsvFatal(Exception):
    """Raised when the file cannot be tokenised at all; carries the notice code."""

    def __init__(self, message: str, *, code: str, line: int = 0, hint: str | None = None, field: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.hint = hint
        self.field = field


@dataclass
class Decoded:
    """A file's text, the codec that gave it and where it holds undecodable bytes."""

    text: str
    codec: str  # Python codec name, normalised ("utf_8", "latin_1", ...)
    #: why this codec: "" (UTF-8, nothing to report), "BOM", "guessed", "--encoding"
    how: str = ""
    #: {line: byte offset in the file of its first undecodable byte, -1 when not known}
    bad_lines: dict[int, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return _LABELS.get(self.codec, self.codec)

    def notice(self, file: str) -> str | None:
        """The ``planner_file_encoding`` message, or None for a UTF-8 file."""
        if not self.how:
            return None
        why = {"BOM": "by its byte-order mark", "--encoding": "as --encoding says",
               "guessed": "guessed from its bytes: it is not valid UTF-8"}[self.how]
        return f"{file} is not UTF-8; read as {self.label} ({why})"


def check_codec(name: str) -> str:
    """The normalised name of text codec ``name``; ValueError naming it when Python has none."""
    try:
        info = codecs.lookup(name)
        b"a".decode(info.name)  # refuses bytes-to-bytes codecs such as base64 or zlib
    except (LookupError, TypeError) as err:
        msg = f"unknown text encoding {name!r}"
        raise ValueError(msg) from err
    return info.name.replace("-", "_")


def fixed(text: str) -> str:
    """``text`` with every undecodable byte shown as U+FFFD."""
    return BAD.sub("\ufffd", text)


def decode_file(data: bytes, forced: str | None = None) -> Decoded:
    """Decode one file's bytes (see the module docstring); raise :class:`CsvFatal` if unusable."""
    if forced:
        codec = check_codec(forced)
        if codec == "utf_8" and data.startswith(_BOM8):
            codec = "utf_8_sig"
        return _marked(data, codec, "" if codec in {"utf_8", "utf_8_sig"} else "--encoding")
    bom = 3 if data.startswith(_BOM8) else 0
    data = data[bom:]
    head = data[:4]
    if head.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        msg = "file is UTF-32 encoded; GTFS files must be UTF-8"
        raise CsvFatal(msg, code="invalid_encoding", line=1,
                       hint="re-encode the file as UTF-8, or pass --encoding FEED=utf-32")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _marked(data, "utf_16", "BOM")
    probe = data[:512]
    if len(probe) >= 8 and (probe[1::2].count(0) > 0.9 * len(probe[1::2]) or probe[0::2].count(0) > 0.9 * len(probe[0::2])):
        msg = "file looks UTF-16 encoded without a byte-order mark (every other byte is NUL); GTFS files must be UTF-8"
        raise CsvFatal(msg, code="invalid_encoding", line=1,
                       hint="re-encode the file as UTF-8, or pass --encoding FEED=utf-16-le (or utf-16-be)")
    if data.startswith(b"PK\x03\x04"):
        msg = "file is a zip archive, not CSV text (a zip inside the zip?)"
        raise CsvFatal(msg, code="csv_parsing_failed", line=1, hint="unpack the inner archive")
    try:
        return Decoded(data.decode("utf-8"), "utf_8")
    except UnicodeDecodeError:
        pass
    as_utf8 = _marked(data, "utf_8", "", base=bom)
    n_bad = len(BAD.findall(as_utf8.text))
    if len(_NON_ASCII.findall(as_utf8.text)) - n_bad > n_bad:
        return as_utf8  # UTF-8 with a few bad bytes: reported per field
    _refuse_binary(data)
    return _legacy(data)


def _refuse_binary(data: bytes) -> None:
    sample = data[:_BINARY_SAMPLE]
    controls = _CONTROL.findall(sample)
    if len(controls) >= 8 and len(controls) * 100 > len(sample):
        first = _CONTROL.search(sample)
        at = first.start() if first else 0
        line = sample.count(b"\n", 0, at) + 1
        msg = (f"file is not text: {len(controls):,} of its first {len(sample):,} bytes are control characters "
               f"(the first at byte offset {at}, line {line}); a binary file named .txt?")
        raise CsvFatal(msg, code="invalid_encoding", line=line,
                       hint="replace it with the feed's CSV text file (download the feed again)")


def _legacy(data: bytes) -> Decoded:
    try:
        gb = data.decode("gb18030")
    except UnicodeDecodeError:
        gb = None
    if gb is not None:
        counts = Counter(_NON_ASCII.findall(gb))
        common = sum(n for ch, n in counts.items() if _in_gb2312(ch))
        if counts and common >= 0.8 * sum(counts.values()):
            return Decoded(gb, "gb18030", "guessed")
    if _C1.search(data) is None:
        return Decoded(data.decode("latin-1"), "latin_1", "guessed")
    try:
        return Decoded(data.decode("cp1252"), "cp1252", "guessed")
    except UnicodeDecodeError:
        return Decoded(data.decode("latin-1"), "latin_1", "guessed")


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _marked(data: bytes, codec: str, how: str, base: int = 0) -> Decoded:
    """Decode with every undecodable byte kept as a lone surrogate, and find their lines
    (with byte offsets in the file for UTF-8; ``base``: bytes of a BOM already cut off)."""
    text = data.decode(codec, _MARK)
    out = Decoded(text, codec, how)
    if BAD.search(text) is None:
        return out
    byte_offsets = codec in {"utf_8", "utf_8_sig"}
    line, pos, offset = 1, 0, base + (3 if codec == "utf_8_sig" else 0)
    for m in _BREAK_OR_BAD.finditer(text):
        if m.group()[0] in "\r\n":
            line += 1
            continue
        if line not in out.bad_lines:
            if byte_offsets:
                offset += len(text[pos:m.start()].encode("utf-8", errors="surrogateescape"))
                pos = m.start()
            out.bad_lines[line] = offset if byte_offsets else -1
    return out
