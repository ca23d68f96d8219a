"""What every OSM reader produces: the raw ways, their node coordinates and the stations.

The three ways in (``.osm.pbf`` via pyosmium, ``.osm`` XML via defusedxml, an Overpass
response fetched through osmnx) all fill a :class:`Collector`, whose :meth:`finish`
returns one :class:`RawOSM`; the builders (street network, rail layer, ``osm info``) only
ever see that. Only ways that can matter are kept (a ``highway`` tag, a rail ``railway``
tag, a station, a walkable area: see :func:`keep_way`); node coordinates are stored per way
reference, ``nan`` where the node is missing from the input (a clipped extract) or has an
invalid location.

Multipolygon relations that are walkable areas (:func:`~planner.ingest.osm._filters.walk_area_kind`)
are kept in ``RawOSM.relations`` with their member ways; a member way that is not kept on its
own (an untagged ring) is added with empty tags, so the area builder finds every ring in the
same arrays. The XML reader holds the references of the ways it does not keep until the end
(relations come last in a file); the PBF reader reads the missing members in a second,
filtered pass.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.common.notices import Notices, Severity
from planner.ingest.osm._filters import RAIL_LINE_VALUES, station_kind, walk_area_kind

__all__ = ["KEEP_WAY_KEYS", "Collector", "RawOSM", "keep_way"]

#: way tags kept for the builders (everything else is dropped while reading)
KEEP_WAY_KEYS = frozenset({
    "highway", "railway", "area", "access", "foot", "motorcar", "motor_vehicle", "vehicle",
    "service", "sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right", "oneway",
    "junction", "maxspeed", "maxspeed:forward", "maxspeed:backward", "name", "name:en",
    "name:zh", "ref", "usage", "electrified", "gauge", "tracks", "operator", "highspeed",
    "public_transport", "station", "subway", "light_rail", "train", "tram", "bridge",
    "tunnel", "layer", "network", "building", "area:highway", "level", "indoor",
})
#: node tags kept for stations
KEEP_NODE_KEYS = frozenset({
    "railway", "public_transport", "station", "name", "name:en", "name:zh", "subway",
    "light_rail", "train", "tram", "monorail", "operator", "network", "ref", "uic_ref",
    "wheelchair", "level",
})


def keep_way(tags: Any) -> bool:
    """A way worth keeping: any ``highway``, a rail line, a station outline, a walkable area
    (a platform, a station hall, ``area:highway``)."""
    if "highway" in tags:
        return True
    railway = tags.get("railway")
    if railway in RAIL_LINE_VALUES:
        return True
    if station_kind(tags) is not None:
        return True
    return ("building" in tags or "area:highway" in tags or "public_transport" in tags or railway == "platform") \
        and walk_area_kind(tags) is not None


@dataclass
class RawOSM:
    """The kept content of one OSM input.

    Attributes
    ----------
    source
        File name or request description (for messages).
    way_id, way_tags
        OSM id and kept tags of each kept way.
    way_ptr
        int64[n_ways + 1]: references of way ``i`` are ``refs[way_ptr[i]:way_ptr[i + 1]]``.
    refs, lon, lat
        Node id and WGS84 coordinates per way reference (``nan`` when unknown).
    stations
        One dict per station feature: ``osm_type``, ``osm_id``, ``lon``, ``lat``, ``tags``.
    relations
        Walkable multipolygon relations: ``osm_id``, ``tags``, ``members`` (``(way_id, role)``).
    counts
        ``nodes``, ``ways``, ``relations`` read (``nodes`` is ``-1`` when not counted).
    header_bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` from the file header, or None.
    highways, railways
        Kept ways by ``highway`` / ``railway`` value.
    notices
        What was dropped or repaired while reading.
    """

    source: str
    way_id: np.ndarray
    way_tags: list[dict[str, str]]
    way_ptr: np.ndarray
    refs: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    stations: list[dict[str, Any]]
    counts: dict[str, int]
    header_bbox: tuple[float, float, float, float] | None = None
    generator: str = ""
    relations: list[dict[str, Any]] = field(default_factory=list)
    highways: Counter = field(default_factory=Counter)
    railways: Counter = field(default_factory=Counter)
    notices: Notices = field(default_factory=Notices)

    @property
    def n_ways(self) -> int:
        return len(self.way_id)

    def data_bbox(self) -> tuple[float, float, float, float] | None:
        """Bounding box of the way nodes and stations that have coordinates."""
        lons = [self.lon[np.isfinite(self.lon)]]
        lats = [self.lat[np.isfinite(self.lat)]]
        if self.stations:
            lons.append(np.array([s["lon"] for s in self.stations], dtype=np.float64))
            lats.append(np.array([s["lat"] for s in self.stations], dtype=np.float64))
        lon = np.concatenate(lons)
        lat = np.concatenate(lats)
        if lon.size == 0:
            return None
        return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())

    def missing_ref_ways(self) -> np.ndarray:
        """Boolean per way: at least one reference without coordinates."""
        missing = np.concatenate([[0], np.cumsum(~np.isfinite(self.lon))])
        return (missing[self.way_ptr[1:]] - missing[self.way_ptr[:-1]]) > 0


def _kept(tags: Any, keys: frozenset[str]) -> dict[str, str]:
    """The tags among ``keys`` (one pass over the tags: a pyosmium ``TagList`` or a dict)."""
    if isinstance(tags, dict):
        return {k: v for k, v in tags.items() if k in keys}
    return {t.k: t.v for t in tags if t.k in keys}


def _valid_location(lon: float, lat: float) -> bool:
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


class Collector:
    """Accumulates ways, nodes and stations from a reader; :meth:`finish` resolves them.

    Two ways to give node coordinates: with each way (``add_way(..., lons, lats)``, the
    PBF reader, whose location index already resolved them) or as separate nodes
    (``add_node``, the XML and Overpass readers), resolved in :meth:`finish` by one sorted
    lookup, whatever order the input had.
    """

    def __init__(self, source: str, notices: Notices | None = None):
        self.source = source
        self.notices = notices if notices is not None else Notices()
        self.way_id = array("q")
        self.way_tags: list[dict[str, str]] = []
        self.way_ptr = array("q", [0])
        self.refs = array("q")
        self.lon = array("d")
        self.lat = array("d")
        self.node_id = array("q")
        self.node_lon = array("d")
        self.node_lat = array("d")
        self.stations: list[dict[str, Any]] = []
        self._station_ways: list[tuple[int, int, dict[str, str]]] = []  # (way index, id, tags)
        self.counts = {"nodes": 0, "ways": 0, "relations": 0}
        self.header_bbox: tuple[float, float, float, float] | None = None
        self.generator = ""
        self.highways: Counter = Counter()
        self.railways: Counter = Counter()
        self._has_inline_locations = False
        self._bad_nodes = 0
        self._bad_node_sample: int | None = None
        self.relations: list[dict[str, Any]] = []
        self._kept_ids: set[int] = set()
        #: way id -> references of ways not kept (XML only: relations come after the ways)
        self.spare: dict[int, list[int]] | None = None

    # -- nodes

    def add_node(self, node_id: int, lon: float, lat: float, tags: Any = None) -> None:
        """A node with its location (``nan`` or out-of-range: recorded as invalid)."""
        if not _valid_location(lon, lat):  # nan fails both comparisons
            self._bad_nodes += 1
            if self._bad_node_sample is None:
                self._bad_node_sample = node_id
            return
        self.node_id.append(node_id)
        self.node_lon.append(lon)
        self.node_lat.append(lat)
        if tags is not None:
            self.add_station_node(node_id, lon, lat, tags)

    def add_station_node(self, node_id: int, lon: float, lat: float, tags: Any) -> None:
        """Record the node as a station when its tags say so."""
        kind = station_kind(tags)
        if kind is None or not _valid_location(lon, lat):
            return
        kept = {k: tags[k] for k in KEEP_NODE_KEYS if k in tags}
        self.stations.append({"osm_type": "node", "osm_id": int(node_id), "kind": kind,
                              "lon": float(lon), "lat": float(lat), "tags": kept})

    # -- ways

    def add_way(self, way_id: int, tags: Any, refs: list[int],
                lons: list[float] | None = None, lats: list[float] | None = None, *, member: bool = False) -> None:
        """A way (kept only when :func:`keep_way` says so, or as a ``member`` of a kept relation)."""
        if member:
            if way_id in self._kept_ids:
                return
        elif not keep_way(tags):
            if self.spare is not None:
                self.spare[way_id] = list(refs)
            return
        kept = _kept(tags, KEEP_WAY_KEYS)
        self._kept_ids.add(way_id)
        index = len(self.way_id)
        self.way_id.append(way_id)
        self.way_tags.append(kept)
        self.refs.extend(refs)
        if lons is not None and lats is not None:
            self._has_inline_locations = True
            self.lon.extend(lons)
            self.lat.extend(lats)
        self.way_ptr.append(len(self.refs))
        if "highway" in kept:
            self.highways[kept["highway"]] += 1
        if "railway" in kept and kept["railway"] in RAIL_LINE_VALUES:
            self.railways[kept["railway"]] += 1
        if station_kind(kept) is not None:
            self._station_ways.append((index, way_id, kept))

    # -- relations

    def add_relation(self, rel_id: int, tags: Any, members) -> None:
        """A relation: kept when it is a walkable multipolygon; ``members`` are
        ``(type, ref, role)`` with type ``"w"`` for ways."""
        if tags.get("type") != "multipolygon" or walk_area_kind(tags, relation=True) is None:
            return
        if any(r["osm_id"] == int(rel_id) for r in self.relations):
            return  # read twice (the PBF reader's second pass, a repeated online element)
        ways = [(int(ref), str(role)) for typ, ref, role in members if typ == "w"]
        if ways:
            kept = {k: tags[k] for k in KEEP_WAY_KEYS if k in tags}
            self.relations.append({"osm_id": int(rel_id), "tags": kept, "members": ways})

    def missing_members(self) -> set[int]:
        """Member ways of the kept relations that are not kept yet."""
        return {w for r in self.relations for w, _role in r["members"] if w not in self._kept_ids}

    # -- end

    def finish(self) -> RawOSM:
        if self.spare is not None:  # XML: members held back until the relations were read
            for w in sorted(self.missing_members()):
                if w in self.spare:
                    self.add_way(w, {}, self.spare[w], member=True)
            self.spare = None
        if self._bad_nodes:
            self.notices.add("osm_invalid_node_location", Severity.WARNING,
                             f"{self._bad_nodes} node(s) have a missing or invalid location; they are "
                             "dropped and ways through them are split there", file=self.source,
                             field="node", value=self._bad_node_sample, action="dropped",
                             count=self._bad_nodes)
        refs = np.frombuffer(self.refs, dtype=np.int64).copy() if len(self.refs) else np.zeros(0, np.int64)
        if self._has_inline_locations:
            lon = np.frombuffer(self.lon, dtype=np.float64).copy()
            lat = np.frombuffer(self.lat, dtype=np.float64).copy()
            bad = ~((lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90))
            lon[bad] = np.nan
            lat[bad] = np.nan
        else:
            lon, lat = self._resolve(refs)
        way_ptr = np.frombuffer(self.way_ptr, dtype=np.int64).copy()
        for index, way_id, tags in self._station_ways:
            a, b = way_ptr[index], way_ptr[index + 1]
            x, y = lon[a:b], lat[a:b]
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.any():
                kept = {k: tags[k] for k in KEEP_NODE_KEYS if k in tags}
                self.stations.append({"osm_type": "way", "osm_id": int(way_id), "kind": station_kind(tags),
                                      "lon": float(x[ok].mean()), "lat": float(y[ok].mean()), "tags": kept})
        return RawOSM(
            source=self.source,
            way_id=np.frombuffer(self.way_id, dtype=np.int64).copy() if len(self.way_id) else np.zeros(0, np.int64),
            way_tags=self.way_tags,
            way_ptr=way_ptr,
            refs=refs,
            lon=lon,
            lat=lat,
            stations=self.stations,
            counts=dict(self.counts),
            header_bbox=self.header_bbox,
            generator=self.generator,
            relations=self.relations,
            highways=self.highways,
            railways=self.railways,
            notices=self.notices,
        )

    def _resolve(self, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.frombuffer(self.node_id, dtype=np.int64) if len(self.node_id) else np.zeros(0, np.int64)
        nlon = np.frombuffer(self.node_lon, dtype=np.float64) if len(self.node_lon) else np.zeros(0)
        nlat = np.frombuffer(self.node_lat, dtype=np.float64) if len(self.node_lat) else np.zeros(0)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        nlon = nlon[order]
        nlat = nlat[order]
        if ids.size > 1:
            dup = np.flatnonzero(ids[1:] == ids[:-1]) + 1
            if dup.size:
                same = (nlon[dup] == nlon[dup - 1]) & (nlat[dup] == nlat[dup - 1])
                n_conflict = int((~same).sum())
                if n_conflict:
                    first = int(ids[dup[~same][0]])
                    self.notices.add("osm_duplicate_id", Severity.WARNING,
                                     f"{n_conflict} node id(s) appear twice with different locations; "
                                     "the first one is kept", file=self.source, field="node", value=first,
                                     action="dropped", count=n_conflict)
                keep = np.ones(ids.size, dtype=bool)
                keep[dup] = False
                ids, nlon, nlat = ids[keep], nlon[keep], nlat[keep]
        lon = np.full(refs.size, np.nan)
        lat = np.full(refs.size, np.nan)
        if ids.size and refs.size:
            j = np.searchsorted(ids, refs)
            j_clip = np.minimum(j, ids.size - 1)
            found = ids[j_clip] == refs
            lon[found] = nlon[j_clip[found]]
            lat[found] = nlat[j_clip[found]]
        return lon, lat
