"""Read a local ``.osm`` XML file (optionally ``.gz`` or ``.bz2``), streaming and defused.

OSM XML never needs a DTD, so any ``<!DOCTYPE>`` is refused before it is processed
(``defusedxml`` with ``forbid_dtd=True``; entities and external references are refused
too): billion-laughs, quadratic-blowup and external-entity documents fail at once with
``osm_xml_dtd_forbidden`` instead of relying on the linked expat's amplification limits
(expat < 2.6 here). The tree is never built: elements are handled at their end tag and
cleared. Compressed input is read through a byte counter capped at
``Config.osm_max_xml_bytes`` (a decompression bomb stops at the cap).

Limits that keep hostile input cheap (issue 11; found or checked by ``tests/test_fuzz.py``
and ``tests/test_resource_limits.py``):

* elements nested deeper than :data:`MAX_DEPTH` are refused (OSM XML nests three levels;
  a million nested elements would otherwise all stay in memory until their end tags);
* a run of more than :data:`MAX_TOKEN_BYTES` bytes without ``<`` or ``>`` (a huge
  attribute value or text) is refused: an OSM tag value has at most 255 characters, and
  expat < 2.6 re-scans a large token on every buffer fill, which is quadratic in time;
* elements the reader does not use are freed at their end tag, like the ones it uses;
* a corrupt ``.gz``/``.bz2`` stream, an unknown ``encoding`` in the XML declaration and ids
  outside the 64-bit range are ``osm_xml_parse_error``, not a Python traceback.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import IO

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError

from planner.common.notices import Notices, Severity
from planner.errors import OSMError
from planner.ingest.osm._raw import Collector, RawOSM

__all__ = ["read_xml"]

#: deepest element nesting accepted (``<osm><way><nd/>`` is 3)
MAX_DEPTH = 32
#: longest run of bytes without ``<`` or ``>`` (one tag, attribute value or text)
MAX_TOKEN_BYTES = 1 << 20
_INT64 = (-(2**63), 2**63 - 1)


class _CappedReader(io.RawIOBase):
    """A read-only stream that raises once more than ``cap`` bytes were read."""

    def __init__(self, inner: IO[bytes], cap: int, name: str):
        self._inner = inner
        self._cap = cap
        self._name = name
        self._read = 0
        self._run = 0  # bytes since the last '<' or '>'

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()

    def readinto(self, buffer) -> int:
        data = self._inner.read(len(buffer))
        self._read += len(data)
        if self._read > self._cap:
            msg = f"{self._name} decompresses to more than {self._cap:,} bytes"
            raise OSMError(msg, code="decompressed_too_large",
                           hint="raise osm_max_xml_bytes if this file is genuine, or convert it to .osm.pbf")
        self._check_tokens(data)
        buffer[: len(data)] = data
        return len(data)

    def _check_tokens(self, data: bytes) -> None:
        last = max(data.rfind(b"<"), data.rfind(b">"))
        if last < 0:
            self._run += len(data)
        else:
            first = min(i for i in (data.find(b"<"), data.find(b">")) if i >= 0)
            longest = max(self._run + first, self._longest_inner(data, first, last))
            self._run = len(data) - 1 - last
            if longest > MAX_TOKEN_BYTES:
                self._run = longest
        if self._run > MAX_TOKEN_BYTES:
            msg = (f"{self._name} has more than {MAX_TOKEN_BYTES:,} bytes without a '<' or '>' near byte "
                   f"{self._read:,}: an attribute value or text far longer than OSM allows")
            raise OSMError(msg, code="osm_xml_token_too_large",
                           hint="OSM tag values have at most 255 characters; this is not an OSM export")

    @staticmethod
    def _longest_inner(data: bytes, first: int, last: int) -> int:
        """Longest run without '<' or '>' strictly between ``first`` and ``last``."""
        if last - first <= MAX_TOKEN_BYTES:
            return 0
        inner = data[first + 1:last].replace(b">", b"<")
        return max(len(part) for part in inner.split(b"<"))


def _open(path: Path, cap: int) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".gz"):
        inner: IO[bytes] = gzip.open(path, "rb")
    elif name.endswith(".bz2"):
        inner = bz2.open(path, "rb")
    else:
        inner = open(path, "rb")
    return io.BufferedReader(_CappedReader(inner, cap, path.name), buffer_size=1 << 16)


def _float(text: str | None) -> float:
    try:
        return float(text) if text is not None else float("nan")
    except ValueError:
        return float("nan")


def read_xml(path: str | Path, *, max_bytes: int, notices: Notices | None = None) -> RawOSM:
    """Read the ways, way-node coordinates and stations of an OSM XML file."""
    path = Path(path)
    col = Collector(path.name, notices)
    col.spare = {}  # ways not kept may be rings of a walkable multipolygon read later
    counts = col.counts
    try:
        stream = _open(path, max_bytes)
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise OSMError(msg, code="input_unreadable") from err
    try:
        with stream:
            root = None
            handled = 0
            depth = 0
            for event, elem in DET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    depth += 1
                    if depth > MAX_DEPTH:
                        msg = (f"{path} nests elements more than {MAX_DEPTH} levels deep (<{_tag(elem)}>); "
                               "OSM XML nests three levels")
                        raise OSMError(msg, code="osm_xml_parse_error", hint="pass an .osm file exported from OpenStreetMap")
                    if root is None:
                        root = elem
                        if elem.tag != "osm":
                            msg = f"{path} is not OSM XML: the root element is <{elem.tag}>, not <osm>"
                            raise OSMError(msg, code="not_osm_xml",
                                           hint="pass an .osm file exported from OpenStreetMap")
                        col.generator = elem.get("generator", "") or ""
                        if "osmnx" in col.generator.lower():
                            col.notices.add("osm_generated_by_osmnx", Severity.WARNING,
                                            "this file was written by osmnx (a simplified graph, not raw OSM); "
                                            "ways and lengths may differ from the original data",
                                            file=path.name, field="generator", value=col.generator)
                    continue
                depth -= 1
                tag = elem.tag
                if tag == "node":
                    counts["nodes"] += 1
                    tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                    node_id = _id(path, elem, "id")
                    col.add_node(node_id, _float(elem.get("lon")), _float(elem.get("lat")),
                                 tags if tags else None)
                elif tag == "way":
                    counts["ways"] += 1
                    tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                    way_id = _id(path, elem, "id")
                    refs = [_id(path, nd, "ref", way_id) for nd in elem.iter("nd")]
                    col.add_way(way_id, tags, refs)
                elif tag == "relation":
                    counts["relations"] += 1
                    tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                    if tags.get("type") == "multipolygon":
                        members = [(m.get("type", "")[:1], _id(path, m, "ref"), m.get("role", ""))
                                   for m in elem.iter("member")]
                        col.add_relation(_id(path, elem, "id"), tags, members)
                elif tag == "bounds" and col.header_bbox is None:
                    box = tuple(_float(elem.get(k)) for k in ("minlon", "minlat", "maxlon", "maxlat"))
                    if all(v == v for v in box):
                        col.header_bbox = box  # type: ignore[assignment]
                elif depth != 1:
                    continue  # a child (tag, nd, member): read with its parent
                elem.clear()
                handled += 1
                if handled % 4096 == 0 and root is not None:
                    root.clear()
            if root is None:
                msg = f"{path} is empty"
                raise OSMError(msg, code="not_osm_xml")
    except OSMError:
        raise
    except DefusedXmlException as err:
        msg = f"{path} declares a DTD or entities ({type(err).__name__}); OSM XML never needs them"
        raise OSMError(msg, code="osm_xml_dtd_forbidden",
                       hint="this can be an XML bomb; export the data again from OpenStreetMap") from err
    except ParseError as err:
        line, column = getattr(err, "position", (0, 0))
        msg = f"{path} is not well-formed XML at line {line}, column {column}: {err.msg}"
        raise OSMError(msg, code="osm_xml_parse_error",
                       hint="the file may be truncated; download it again") from err
    except (LookupError, ValueError) as err:
        # <?xml encoding="..."?> names a codec Python does not know (LookupError) or one expat
        # cannot use (ValueError: "multi-byte encodings are not supported", e.g. utf-32)
        msg = f"{path} declares an unsupported character encoding: {err}"
        raise OSMError(msg, code="osm_xml_parse_error", hint="OSM XML is UTF-8; export the data again") from err
    except (EOFError, OSError, zlib.error, lzma.LZMAError) as err:  # corrupt or truncated .gz/.bz2
        msg = f"{path} cannot be decompressed: {err}"
        raise OSMError(msg, code="osm_xml_parse_error",
                       hint="the compressed file is corrupt or truncated; download it again") from err
    return col.finish()


def _tag(elem) -> str:
    text = str(elem.tag)
    return text if len(text) <= 40 else text[:40] + "..."


def _id(path: Path, elem, attr: str, parent: int | None = None) -> int:
    """The 64-bit integer in attribute ``attr``; ``osm_xml_parse_error`` naming it otherwise."""
    text = elem.get(attr)
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = None
    if value is None or not _INT64[0] <= value <= _INT64[1]:
        where = f"<{_tag(elem)}>" + (f" of way {parent}" if parent is not None else "")
        if text is None:
            msg = f"{path} has an element {where} without an {attr}"
        else:
            shown = repr(text if len(text) <= 40 else text[:40] + "...")
            msg = f"{path} has an element {where} whose {attr} is {shown}, not a 64-bit integer"
        raise OSMError(msg, code="osm_xml_parse_error", hint="OSM ids are whole numbers; export the data again")
    return value
