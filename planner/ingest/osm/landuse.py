"""Where people live and where activities are, as OSM draws them: ``plan opportunities``.

:func:`read_landuse` reads an ``.osm.pbf`` (or ``.osm`` XML) file with pyosmium and returns a
:class:`LandUse`: building footprints (with ``building`` and ``building:levels``), ``landuse``
polygons, activity places (shops, offices, schools, hospitals, amenities: nodes and the
centroids of areas) and the administrative boundaries of a level (the relations and the
geometry of their member ways, which a clipped extract only holds in part), all in WGS84.
The street reader (:mod:`planner.ingest.osm._pbf`) keeps none of these, so this is a
second, separate pass over the file (about 5 s on the bundled central-Harbin extract).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import shapely

from planner.errors import OSMError
from planner.ingest.osm._pbf import check_pbf_framing, check_pbf_header

__all__ = ["ACTIVITY_KEYS", "AdminRelation", "LandUse", "read_landuse"]

#: the tag keys of activity places (a node or an area with any of them is one place)
ACTIVITY_KEYS = ("shop", "office", "amenity", "healthcare", "craft", "tourism")
#: amenity values that are street furniture, not places people go to (not counted)
_NOT_PLACES = frozenset({
    "bench", "waste_basket", "parking", "parking_space", "parking_entrance", "bicycle_parking", "toilets",
    "drinking_water", "vending_machine", "atm", "telephone", "post_box", "shelter", "fountain", "recycling",
    "waste_disposal", "clock", "motorcycle_parking", "charging_station", "hunting_stand", "grit_bin",
})


@dataclass
class AdminRelation:
    """One ``boundary=administrative`` relation: its tags of interest and outer member ways."""

    osm_id: int
    name: str
    name_en: str
    admin_level: str
    population: float | None
    population_date: str
    ways: list[int] = field(default_factory=list)


@dataclass
class LandUse:
    """Buildings, land use, activity places and admin boundaries of one OSM file (WGS84).

    ``buildings``: shapely polygons; ``building``: the ``building`` value of each;
    ``levels``: ``building:levels`` as a number (NaN when missing or unreadable).
    ``landuse``/``landuse_kind``: landuse polygons and their value. ``places``: (n, 2)
    lon, lat of activity places, ``place_kind`` ``key=value`` of each. ``admin``: relations
    of the requested level; ``admin_ways``: way id -> the runs of its nodes that the file holds,
    each (k >= 2, 2) lon/lat (a way whose middle nodes are missing, as in a clipped extract,
    is split there rather than bridged by a straight chord; ``admin_ways_clipped`` names those).
    ``extent``: the file header's bounding box (or the data's), ``(w, s, e, n)``.
    """

    source: str
    buildings: np.ndarray
    building: list[str]
    levels: np.ndarray
    landuse: np.ndarray
    landuse_kind: list[str]
    places: np.ndarray
    place_kind: list[str]
    admin: list[AdminRelation]
    admin_ways: dict[int, list[np.ndarray]]
    admin_ways_clipped: set[int]
    extent: tuple[float, float, float, float]


def _levels(value: str | None) -> float:
    if not value:
        return float("nan")
    try:
        v = float(value.replace(",", ".").split(";")[0].strip())
    except ValueError:
        return float("nan")
    return v if 0 < v < 200 else float("nan")


def _place_kind(tags) -> str | None:
    for k in ACTIVITY_KEYS:
        v = tags.get(k)
        if v is not None and v != "no":
            if k == "amenity" and v in _NOT_PLACES:
                continue
            return f"{k}={v}"
    return None


def _check(path: Path) -> None:
    if not path.is_file():
        msg = f"{path} does not exist" if not path.exists() else f"{path} is not a file"
        raise OSMError(msg, code="input_unreadable", hint="give an .osm.pbf or .osm extract")
    if path.suffix.lower() == ".pbf":
        check_pbf_header(path)
        check_pbf_framing(path)


def read_landuse(path: str | Path, *, admin_level: str = "6") -> LandUse:
    """Buildings, landuse, activity places and level-``admin_level`` boundaries of an OSM file."""
    path = Path(path)
    _check(path)
    admin: dict[int, AdminRelation] = {}
    try:
        # pass 1: the admin relations (their member ways come before them in the file)
        for rel in osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(osmium.filter.KeyFilter("boundary")):
            t = rel.tags
            if t.get("boundary") != "administrative" or t.get("admin_level") != admin_level:
                continue
            pop = t.get("population")
            try:
                popv = float(pop) if pop else None
            except ValueError:
                popv = None
            admin[rel.id] = AdminRelation(
                rel.id, t.get("name", ""), t.get("name:en", ""), admin_level, popv, t.get("population:date", ""),
                [m.ref for m in rel.members if m.type == "w" and m.role in ("outer", "")])
        member_ways = {w for r in admin.values() for w in r.ways}
        wkb = osmium.geom.WKBFactory()
        buildings, building, levels, landuse, landuse_kind, places, place_kind = [], [], [], [], [], [], []
        ways: dict[int, list[np.ndarray]] = {}
        clipped: set[int] = set()
        # only the objects of interest reach Python (locations and areas are still built from
        # everything): 1 s instead of 3.5 s on the bundled extract
        keys = osmium.filter.KeyFilter("building", "landuse", *ACTIVITY_KEYS)
        keys.enable_for(osmium.osm.NODE | osmium.osm.AREA)
        ids = osmium.filter.IdFilter(member_ways)
        ids.enable_for(osmium.osm.WAY)
        fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY | osmium.osm.AREA).with_locations()
              .with_areas().with_filter(keys).with_filter(ids))
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        try:
            box = reader.header().box()
            header = ((box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
                      if box.valid() else None)
        finally:
            reader.close()
        for obj in fp:
            if obj.is_node():
                loc = obj.location
                if not loc.valid():
                    continue
                if len(obj.tags):
                    kind = _place_kind(obj.tags)
                    if kind is not None:
                        places.append((loc.lon, loc.lat))
                        place_kind.append(kind)
            elif obj.is_way():
                if obj.id in member_ways:
                    runs, run = [], []
                    for nd in obj.nodes:
                        if nd.location.valid():
                            run.append((nd.location.lon, nd.location.lat))
                        else:
                            runs.append(run)
                            run = []
                    if runs:  # a node was missing
                        clipped.add(obj.id)
                    runs = [np.asarray(r, dtype=np.float64) for r in [*runs, run] if len(r) >= 2]
                    if runs:
                        ways[obj.id] = runs
            elif obj.is_area():
                t = obj.tags
                b, lu, kind = t.get("building"), t.get("landuse"), _place_kind(t)
                if b is None and lu is None and kind is None:
                    continue
                try:
                    geom = shapely.from_wkb(wkb.create_multipolygon(obj))
                except (RuntimeError, shapely.errors.GEOSException):
                    continue  # an area libosmium could not close
                if b is not None and b != "no":
                    buildings.append(geom)
                    building.append(b)
                    levels.append(_levels(t.get("building:levels")))
                if lu is not None:
                    landuse.append(geom)
                    landuse_kind.append(lu)
                if kind is not None:
                    c = shapely.get_coordinates(shapely.point_on_surface(geom))[0]
                    places.append((float(c[0]), float(c[1])))
                    place_kind.append(kind)
    except RuntimeError as err:  # libosmium reports every format problem as RuntimeError
        msg = f"{path} is corrupt or truncated: {err}"
        raise OSMError(msg, code="osm_pbf_corrupt") from err
    if header is None:  # no bounds in the file: the extent of what was read
        pts = [np.asarray(places, dtype=np.float64).reshape(-1, 2), *(r for runs in ways.values() for r in runs)]
        if buildings:
            pts.append(shapely.get_coordinates(np.asarray(buildings, dtype=object)))
        xy = np.vstack(pts)
        header = (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()) if len(xy) else (0.0, 0.0, 0.0, 0.0)
    extent = header
    return LandUse(path.name, np.asarray(buildings, dtype=object), building, np.asarray(levels, dtype=np.float64),
                   np.asarray(landuse, dtype=object), landuse_kind,
                   np.asarray(places, dtype=np.float64).reshape(-1, 2), place_kind,
                   sorted(admin.values(), key=lambda r: r.osm_id), ways, clipped, tuple(float(v) for v in extent))
