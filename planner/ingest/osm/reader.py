"""Read an OSM input: a local ``.osm.pbf`` or ``.osm`` file, or an online request.

:func:`read_osm` returns a :class:`~planner.ingest.osm._raw.RawOSM` and the input's digest
(see the package :mod:`planner.ingest.osm`).
"""


from __future__ import annotations

import hashlib
from pathlib import Path

from planner.common.notices import Notices
from planner.config import Config
from planner.errors import OSMError
from planner.ingest.osm._online import OSMRequest, fetch_request
from planner.ingest.osm._pbf import read_pbf
from planner.ingest.osm._raw import RawOSM
from planner.ingest.osm._xml import read_xml

__all__ = ["DEFAULT_CACHE_DIR", "file_digest", "osm_format", "read_osm"]

#: default cache folder (relative to the current directory)
DEFAULT_CACHE_DIR = Path("osm_cache")

_XML_SUFFIXES = (".osm", ".xml", ".osm.gz", ".osm.bz2", ".xml.gz", ".xml.bz2")


def osm_format(path: Path) -> str:
    """``"pbf"`` or ``"xml"``, from the name, else from the first bytes."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return "pbf"
    if name.endswith(_XML_SUFFIXES):
        return "xml"
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise OSMError(msg, code="input_unreadable") from err
    if head.lstrip().startswith(b"<"):
        return "xml"
    if b"OSMHeader" in head:
        return "pbf"
    msg = f"{path} is neither an OSM PBF nor an OSM XML file"
    raise OSMError(msg, code="not_osm_file", hint="pass an .osm.pbf or .osm extract")


def file_digest(path: str | Path) -> str:
    """SHA-256 hex of a file's bytes (streamed)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise OSMError(msg, code="input_unreadable") from err
    return h.hexdigest()


def read_osm(source: str | Path | OSMRequest, *, config: Config | None = None, count_all: bool = False,
             cache_dir: str | Path | None = None, offline: bool = False,
             notices: Notices | None = None) -> tuple[RawOSM, str]:
    """Read a local OSM file or an online request; returns ``(raw, input_digest)``.

    ``count_all`` counts every node, way and relation (slower on PBF: untagged nodes then
    pass through Python). ``cache_dir`` and ``offline`` only matter for online requests.
    """
    config = config or Config()
    notices = notices if notices is not None else Notices()
    if isinstance(source, OSMRequest):
        raw, digest, _path = fetch_request(source, cache_dir=cache_dir or DEFAULT_CACHE_DIR,
                                           offline=offline, notices=notices)
        return raw, digest
    path = Path(source)
    if not path.exists():
        msg = f"{path} does not exist"
        raise OSMError(msg, code="input_not_found")
    if not path.is_file():
        msg = f"{path} is not a regular file"
        raise OSMError(msg, code="input_unreadable")
    fmt = osm_format(path)
    digest = file_digest(path)
    if fmt == "pbf":
        raw = read_pbf(path, count_all=count_all, notices=notices)
    else:
        raw = read_xml(path, max_bytes=config.osm_max_xml_bytes, notices=notices)
    return raw, digest
