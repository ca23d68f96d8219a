"""Map context from a user's OSM extract: water, coast, administrative boundaries, buildings.

:func:`read_osm_context` reads an ``.osm.pbf`` extract with pyosmium (the reader of
:mod:`planner.ingest.osm._pbf`, with its header and framing checks) and returns an
:class:`OSMContext` of GeoDataFrames in WGS84 (``EPSG:4326``), each with a ``geometry``
column only, clipped to nothing (features that touch ``box``):

``water``
    polygons: ``natural=water``, ``waterway=riverbank``, ``landuse=reservoir`` (closed ways
    and multipolygon relations, assembled by libosmium);
``rivers``
    lines: ``waterway=river`` or ``canal``;
``coastline``
    lines: ``natural=coastline`` (the ways as drawn; OSM draws land on the left);
``boundaries``
    lines: ``boundary=administrative`` with ``admin_level`` 2 to 6 (tagged ways, and the
    outlines of the boundary relations the extract holds whole), with ``admin_level``;
``buildings``
    polygons: ``building=*`` (only with ``buildings=True``: a station area's map needs them,
    a region's does not);
``roads``
    lines: ``highway`` motorway, trunk, primary, secondary, tertiary (only with
    ``roads=True``: a city raster's streets for orientation).

An XML extract or an online request gives no context (None): the streets still come from
the network, and the caller says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import osmium
import shapely
from shapely.geometry import LineString
from shapely.geometry import box as shapely_box

from planner.errors import OSMError
from planner.ingest.osm._pbf import check_pbf_framing, check_pbf_header
from planner.ingest.osm.reader import osm_format

__all__ = ["OSMContext", "read_osm_context"]

_HINT = "download the extract again; check it with 'osmium fileinfo -e'"
_WATER = {("natural", "water"), ("waterway", "riverbank"), ("landuse", "reservoir")}
_RIVERS = frozenset({"river", "canal"})
_ROADS = frozenset({"motorway", "trunk", "primary", "secondary", "tertiary"})
_MAX_ADMIN_LEVEL = 6
LAYERS = ("water", "rivers", "coastline", "boundaries", "buildings", "roads")


@dataclass
class OSMContext:
    """Context layers from an OSM extract: layer name -> GeoDataFrame (EPSG:4326); only
    non-empty layers are present."""

    layers: dict = field(default_factory=dict)
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.layers)


def _admin_level(tags) -> int | None:
    if tags.get("boundary") != "administrative":
        return None
    try:
        level = int(str(tags.get("admin_level", "")).strip())
    except ValueError:
        return None
    return level if 2 <= level <= _MAX_ADMIN_LEVEL else None


def read_osm_context(path: str | Path, box: tuple[float, float, float, float] | None = None, *,
                     buildings: bool = False, roads: bool = False) -> OSMContext | None:
    """The context layers of the extract ``path`` that touch ``box`` (lon0, lat0, lon1, lat1;
    None: all), or None when ``path`` is not an ``.osm.pbf`` file (see the module docstring).
    A corrupt extract raises :class:`~planner.errors.OSMError`."""
    path = Path(path)
    if not path.is_file() or osm_format(path) != "pbf":
        return None
    check_pbf_header(path)
    check_pbf_framing(path)
    clip = shapely_box(*box) if box is not None else None
    keys = ("natural", "waterway", "landuse", "boundary", *(("building",) if buildings else ()),
            *(("highway",) if roads else ()))
    wkb = osmium.geom.WKBFactory()
    rows: dict[str, list] = {name: [] for name in LAYERS}
    levels: list[int] = []

    def keep(layer: str, geom, level: int | None = None) -> None:
        if geom is None or geom.is_empty or (clip is not None and not geom.intersects(clip)):
            return
        rows[layer].append(geom)
        if layer == "boundaries":
            levels.append(level)

    try:
        fp = (osmium.FileProcessor(str(path), osmium.osm.ALL)
              .with_areas(osmium.filter.KeyFilter(*keys)).with_filter(osmium.filter.KeyFilter(*keys)))
        for obj in fp:
            tags = obj.tags
            if obj.is_node():
                continue
            if obj.is_area():
                kind = next((k for k in _WATER if tags.get(k[0]) == k[1]), None)
                level = _admin_level(tags)
                is_building = buildings and "building" in tags and tags.get("building") != "no"
                if kind is None and level is None and not is_building:
                    continue
                try:
                    geom = shapely.from_wkb(bytes.fromhex(wkb.create_multipolygon(obj)))
                except RuntimeError:  # a ring the extract cut: no polygon
                    continue
                if kind is not None:
                    keep("water", geom)
                elif level is not None:
                    keep("boundaries", geom.boundary, level)
                else:
                    keep("buildings", geom)
            elif obj.is_way():
                line = None
                waterway, natural, level = tags.get("waterway"), tags.get("natural"), _admin_level(tags)
                road = roads and tags.get("highway") in _ROADS
                if waterway in _RIVERS or natural == "coastline" or level is not None or road:
                    pts = [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
                    line = LineString(pts) if len(pts) >= 2 else None
                if line is None:
                    continue
                if natural == "coastline":
                    keep("coastline", line)
                elif waterway in _RIVERS:
                    keep("rivers", line)
                elif road:
                    keep("roads", line)
                else:
                    keep("boundaries", line, level)
    except RuntimeError as err:  # libosmium reports every format problem as RuntimeError
        msg = f"{path} is corrupt or truncated: {err}"
        raise OSMError(msg, code="osm_pbf_corrupt", hint=_HINT) from err
    layers = {}
    for name, geoms in rows.items():
        if geoms:
            extra = {"admin_level": levels} if name == "boundaries" else {}
            layers[name] = gpd.GeoDataFrame(extra, geometry=geoms, crs="EPSG:4326")
    return OSMContext(layers, source=path.name) if layers else None
