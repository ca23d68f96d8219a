"""Read a local ``.osm.pbf`` file with pyosmium, streaming.

pyosmium's location handler keeps every node location in a compact index (in C++), so a
way arrives with the coordinates of its nodes; a node missing from the file (a clipped
extract) has an invalid location. Untagged nodes never reach Python unless ``count_all``
asks for exact object counts (``plan osm info``).

The file is checked before parsing: an OSM PBF starts with a 4-byte big-endian length and
a ``BlobHeader`` of type ``OSMHeader``. Anything else (an empty file, random bytes, a
Mapbox vector tile) is ``not_osm_pbf``; a file that starts right but breaks later
(truncated, a corrupt blob) is ``osm_pbf_corrupt``. Both are raised before any output.
"""

from __future__ import annotations

import struct
from pathlib import Path

from planner.errors import OSMError
from planner.notices import Notices
from planner.osm._raw import Collector, RawOSM

__all__ = ["check_pbf_header", "read_pbf"]

#: the PBF format's own limit on a BlobHeader (osmformat.proto: "MUST be less than 64 KiB")
MAX_BLOB_HEADER = 64 * 1024


def check_pbf_header(path: Path) -> None:
    """Raise ``not_osm_pbf`` unless the file starts like an OSM PBF."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4:
                reason = "the file is empty" if not head else "the file is shorter than a PBF header"
                msg = f"{path} is not an OSM PBF file: {reason}"
                raise OSMError(msg, code="not_osm_pbf", hint="pass an .osm.pbf extract (e.g. from Geofabrik)")
            (size,) = struct.unpack(">I", head)
            blob_header = fh.read(min(size, MAX_BLOB_HEADER)) if 0 < size <= MAX_BLOB_HEADER else b""
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise OSMError(msg, code="input_unreadable") from err
    if b"OSMHeader" not in blob_header[:32]:
        msg = f"{path} is not an OSM PBF file: it does not start with an OSMHeader block"
        raise OSMError(msg, code="not_osm_pbf",
                       hint="a .pbf may also be a vector tile or another protobuf; pass an OSM extract")


def read_pbf(path: str | Path, *, count_all: bool = False, notices: Notices | None = None) -> RawOSM:
    """Read the ways, way-node coordinates and stations of an ``.osm.pbf`` file."""
    import osmium

    path = Path(path)
    check_pbf_header(path)
    col = Collector(path.name, notices)
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        try:
            header = reader.header()
            box = header.box()
            if box.valid():
                col.header_bbox = (box.bottom_left.lon, box.bottom_left.lat,
                                   box.top_right.lon, box.top_right.lat)
            col.generator = header.get("generator", "") or ""
        finally:
            reader.close()
        fp = osmium.FileProcessor(str(path)).with_locations()
        if not count_all:
            fp = fp.with_filter(osmium.filter.KeyFilter("highway", "railway", "public_transport"))
        counts = col.counts
        for obj in fp:
            if obj.is_node():
                counts["nodes"] += 1
                tags = obj.tags
                if len(tags) and ("railway" in tags or "public_transport" in tags):
                    loc = obj.location
                    if loc.valid():
                        col.add_station_node(obj.id, loc.lon, loc.lat, tags)
            elif obj.is_way():
                counts["ways"] += 1
                tags = obj.tags
                if "highway" not in tags and "railway" not in tags and "public_transport" not in tags:
                    continue
                refs = []
                lons = []
                lats = []
                for nd in obj.nodes:
                    refs.append(nd.ref)
                    loc = nd.location
                    if loc.valid():
                        lons.append(loc.lon)
                        lats.append(loc.lat)
                    else:
                        lons.append(float("nan"))
                        lats.append(float("nan"))
                col.add_way(obj.id, tags, refs, lons, lats)
            else:
                counts["relations"] += 1
    except RuntimeError as err:  # libosmium reports every format problem as RuntimeError
        msg = f"{path} is corrupt or truncated: {err}"
        raise OSMError(msg, code="osm_pbf_corrupt",
                       hint="download the extract again; check it with 'osmium fileinfo -e'") from err
    if not count_all:
        counts["nodes"] = -1
        counts["ways"] = -1
        counts["relations"] = -1
    return col.finish()
