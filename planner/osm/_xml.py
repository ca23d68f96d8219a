"""Read a local ``.osm`` XML file (optionally ``.gz`` or ``.bz2``), streaming and defused.

OSM XML never needs a DTD, so any ``<!DOCTYPE>`` is refused before it is processed
(``defusedxml`` with ``forbid_dtd=True``; entities and external references are refused
too): billion-laughs, quadratic-blowup and external-entity documents fail at once with
``osm_xml_dtd_forbidden`` instead of relying on the linked expat's amplification limits
(expat < 2.6 here). The tree is never built: elements are handled at their end tag and
cleared. Compressed input is read through a byte counter capped at
``Config.osm_max_xml_bytes`` (a decompression bomb stops at the cap).
"""

from __future__ import annotations

import bz2
import gzip
import io
from pathlib import Path
from typing import IO

from planner.errors import OSMError
from planner.notices import Notices, Severity
from planner.osm._raw import Collector, RawOSM

__all__ = ["read_xml"]


class _CappedReader(io.RawIOBase):
    """A read-only stream that raises once more than ``cap`` bytes were read."""

    def __init__(self, inner: IO[bytes], cap: int, name: str):
        self._inner = inner
        self._cap = cap
        self._name = name
        self._read = 0

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
        buffer[: len(data)] = data
        return len(data)


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
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError

    path = Path(path)
    col = Collector(path.name, notices)
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
            for event, elem in DET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
                if event == "start":
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
                tag = elem.tag
                if tag == "node":
                    counts["nodes"] += 1
                    tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                    node_id = int(elem.get("id"))
                    col.add_node(node_id, _float(elem.get("lon")), _float(elem.get("lat")),
                                 tags if tags else None)
                elif tag == "way":
                    counts["ways"] += 1
                    tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                    refs = [int(nd.get("ref")) for nd in elem.iter("nd")]
                    col.add_way(int(elem.get("id")), tags, refs)
                elif tag == "relation":
                    counts["relations"] += 1
                elif tag == "bounds" and col.header_bbox is None:
                    box = tuple(_float(elem.get(k)) for k in ("minlon", "minlat", "maxlon", "maxlat"))
                    if all(v == v for v in box):
                        col.header_bbox = box  # type: ignore[assignment]
                else:
                    continue
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
    except (TypeError, ValueError) as err:  # a node/way without a numeric id or ref
        msg = f"{path} has an element without a valid id or ref: {err}"
        raise OSMError(msg, code="osm_xml_parse_error") from err
    return col.finish()
