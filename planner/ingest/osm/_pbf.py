"""Read a local ``.osm.pbf`` file with pyosmium, streaming.

pyosmium's location handler keeps every node location in a compact index (in C++), so a
way arrives with the coordinates of its nodes; a node missing from the file (a clipped
extract) has an invalid location. Untagged nodes never reach Python unless ``count_all``
asks for exact object counts (``plan osm info``).

The file is checked before parsing: an OSM PBF starts with a 4-byte big-endian length and
a ``BlobHeader`` of type ``OSMHeader``. Anything else (an empty file, random bytes, a
Mapbox vector tile) is ``not_osm_pbf``; a file that starts right but breaks later
(truncated, a corrupt blob) is ``osm_pbf_corrupt``. Both are raised before any output.

Then the framing of every block is walked without decompressing anything
(:func:`check_pbf_framing`: a few bytes read per block): a ``BlobHeader`` length over
64 KiB, a ``datasize`` over 32 MiB (the limits of ``osmformat.proto``) or a block that
runs past the end of the file is ``osm_pbf_corrupt`` naming the block and its byte offset,
in milliseconds even for a large truncated file, before libosmium parses (and allocates
for) anything (issue 11).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NoReturn

import osmium

from planner.common.notices import Notices
from planner.errors import OSMError
from planner.ingest.osm._raw import Collector, RawOSM

__all__ = ["check_pbf_framing", "check_pbf_header", "read_pbf"]

#: the PBF format's own limit on a BlobHeader (osmformat.proto: "MUST be less than 64 KiB")
MAX_BLOB_HEADER = 64 * 1024
#: the format's limit on a blob (fileformat.proto: "MUST be less than 32 MiB"; libosmium's
#: max_uncompressed_blob_size is the same)
MAX_BLOB_DATA = 32 * 1024 * 1024
_HINT = "download the extract again; check it with 'osmium fileinfo -e'"


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data) or shift > 63:
            msg = "bad varint"
            raise ValueError(msg)
        b = data[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7


def _blob_header(data: bytes) -> tuple[bytes, int] | None:
    """(type, datasize) of a ``BlobHeader`` message; None when it does not parse."""
    btype, datasize, i = None, None, 0
    try:
        while i < len(data):
            key, i = _varint(data, i)
            num, wire = key >> 3, key & 7
            if wire == 0:
                value, i = _varint(data, i)
                if num == 3:
                    datasize = value
            elif wire == 2:
                n, i = _varint(data, i)
                if i + n > len(data):
                    return None
                if num == 1:
                    btype = data[i:i + n]
                i += n
            elif wire in (1, 5):
                i += 8 if wire == 1 else 4
            else:
                return None
    except ValueError:
        return None
    if btype is None or datasize is None or i != len(data):
        return None
    return btype, datasize


def check_pbf_framing(path: Path) -> int:
    """Walk every block's length prefix and ``BlobHeader``; return the number of blocks.

    Raises ``osm_pbf_corrupt`` (naming the block and its byte offset) for a header length
    over 64 KiB, an unreadable header, a ``datasize`` over 32 MiB, or a block that runs past
    the end of the file (a truncated download). Nothing is decompressed.
    """
    def corrupt(why: str) -> NoReturn:
        msg = f"{path} is corrupt or truncated: {why}"
        raise OSMError(msg, code="osm_pbf_corrupt", hint=_HINT)

    try:
        size = path.stat().st_size
        pos = n = 0
        with open(path, "rb", buffering=0) as fh:
            while pos < size:
                where = f"block {n + 1} at byte offset {pos:,}"
                if pos + 4 > size:
                    corrupt(f"{size - pos} stray byte(s) after the last block, at byte offset {pos:,}")
                fh.seek(pos)
                (hlen,) = struct.unpack(">I", fh.read(4))
                if not 0 < hlen <= MAX_BLOB_HEADER:
                    corrupt(f"{where} declares a {hlen:,}-byte BlobHeader (the format allows up to 64 KiB)")
                if pos + 4 + hlen > size:
                    corrupt(f"truncated in the header of {where} (EOF at byte {size:,})")
                parsed = _blob_header(fh.read(hlen))
                if parsed is None:
                    corrupt(f"{where} has an unreadable BlobHeader")
                _btype, datasize = parsed
                if datasize > MAX_BLOB_DATA:
                    corrupt(f"{where} declares a {datasize:,}-byte blob (the format allows up to 32 MiB)")
                end = pos + 4 + hlen + datasize
                if end > size:
                    corrupt(f"truncated: {where} needs {end:,} bytes, the file has {size:,} (EOF)")
                pos = end
                n += 1
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise OSMError(msg, code="input_unreadable") from err
    return n


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


#: objects with none of these keys never reach Python (``area:highway``: walkable areas;
#: ``building=train_station`` halls come in a second pass, so that no other building does)
_KEYS = ("highway", "railway", "public_transport", "area:highway")


def _way_nodes(obj) -> tuple[list[int], list[float], list[float]]:
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    for nd in obj.nodes:
        refs.append(nd.ref)
        loc = nd.location
        if loc.valid():
            lons.append(loc.lon)
            lats.append(loc.lat)
        else:
            lons.append(float("nan"))
            lats.append(float("nan"))
    return refs, lons, lats


def read_pbf(path: str | Path, *, count_all: bool = False, notices: Notices | None = None) -> RawOSM:
    """Read the ways, way-node coordinates and stations of an ``.osm.pbf`` file."""
    path = Path(path)
    check_pbf_header(path)
    check_pbf_framing(path)
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
            fp = fp.with_filter(osmium.filter.KeyFilter(*_KEYS))
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
                if not ("highway" in tags or "railway" in tags or "public_transport" in tags or "area:highway" in tags):
                    continue
                refs, lons, lats = _way_nodes(obj)
                col.add_way(obj.id, tags, refs, lons, lats)
            else:
                counts["relations"] += 1
                if obj.tags.get("type") == "multipolygon":
                    col.add_relation(obj.id, obj.tags, [(m.type, m.ref, m.role) for m in obj.members])
        # station halls tagged only building=train_station: a second, filtered pass
        fp = (osmium.FileProcessor(str(path)).with_locations()
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY | osmium.osm.RELATION))
              .with_filter(osmium.filter.TagFilter(("building", "train_station")))
              .with_filter(osmium.filter.KeyFilter(*_KEYS[:3]).enable_for(osmium.osm.NODE)))
        for obj in fp:
            if any(k in obj.tags for k in _KEYS[:3]):
                continue  # read in the first pass
            if obj.is_way():
                refs, lons, lats = _way_nodes(obj)
                col.add_way(obj.id, obj.tags, refs, lons, lats)
            elif obj.tags.get("type") == "multipolygon":
                col.add_relation(obj.id, obj.tags, [(m.type, m.ref, m.role) for m in obj.members])
        missing = col.missing_members()
        if missing:  # untagged rings of walkable multipolygons: one more pass, for those ways only
            fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
                  .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                  .with_filter(osmium.filter.IdFilter(sorted(missing))))
            for obj in fp:
                refs, lons, lats = _way_nodes(obj)
                col.add_way(obj.id, {}, refs, lons, lats, member=True)
    except RuntimeError as err:  # libosmium reports every format problem as RuntimeError
        msg = f"{path} is corrupt or truncated: {err}"
        raise OSMError(msg, code="osm_pbf_corrupt", hint=_HINT) from err
    except UnicodeDecodeError as err:  # a header field, tag or role that is not UTF-8 (issue 11 fuzzing)
        msg = f"{path} is corrupt: a text field is not valid UTF-8 ({err.reason} at byte {err.start})"
        raise OSMError(msg, code="osm_pbf_corrupt", hint=_HINT) from err
    if not count_all:
        counts["nodes"] = -1
        counts["ways"] = -1
        counts["relations"] = -1
    return col.finish()
