"""The rail layer of an OSM input: lines and stations, with their names.

:func:`rail_layer` reads the same sources as the street builder (a ``.osm.pbf`` or
``.osm`` file, or an online request) and returns a :class:`RailLayer` of two
GeoDataFrames in WGS84 (``EPSG:4326``):

``lines``: one row per OSM way with ``railway`` in ``rail``, ``subway``, ``light_rail``,
``tram``. Columns: ``osm_id``, ``railway``, ``name``, ``name_en``, ``name_zh``, ``ref``,
``usage``, ``service``, ``electrified``, ``gauge``, ``tracks``, ``operator``,
``highspeed``, ``maxspeed``, ``bridge``, ``tunnel``, ``length_m`` (great-circle metres
along the kept geometry), ``clipped`` (nodes missing from the extract; the geometry holds
the pieces that remain) and ``geometry`` (LineString, or MultiLineString when clipped in
the middle).

``stations``: one row per station node or station outline (centroid of its nodes).
Columns: ``osm_type`` (``node``/``way``), ``osm_id``, ``kind`` (``station``, ``halt``,
``stop_position``, ``tram_stop``, ``subway_entrance``), ``station`` (the ``station`` tag:
``subway``, ``light_rail``, ``train``...), ``name``, ``name_en``, ``name_zh``,
``operator``, ``network``, ``lon``, ``lat``, ``geometry`` (Point). Bus stops and bus
stations are not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, MultiLineString, Point

from planner.common.geodesy import OSMNX_EARTH_RADIUS_M, haversine_m
from planner.common.notices import Notices
from planner.ingest.osm import read_osm
from planner.ingest.osm._filters import RAIL_LINE_VALUES

if TYPE_CHECKING:
    import geopandas as gpd

    from planner.config import Config
    from planner.ingest.osm._online import OSMRequest
    from planner.ingest.osm._raw import RawOSM

__all__ = ["LINE_COLUMNS", "STATION_COLUMNS", "RailLayer", "rail_from_raw", "rail_layer"]

_LINE_TAGS = {
    "railway": "railway", "name": "name", "name_en": "name:en", "name_zh": "name:zh", "ref": "ref",
    "usage": "usage", "service": "service", "electrified": "electrified", "gauge": "gauge",
    "tracks": "tracks", "operator": "operator", "highspeed": "highspeed", "maxspeed": "maxspeed",
    "bridge": "bridge", "tunnel": "tunnel",
}
_STATION_TAGS = {
    "station": "station", "name": "name", "name_en": "name:en", "name_zh": "name:zh",
    "operator": "operator", "network": "network",
}
LINE_COLUMNS = ["osm_id", *_LINE_TAGS, "length_m", "clipped", "geometry"]
STATION_COLUMNS = ["osm_type", "osm_id", "kind", *_STATION_TAGS, "lon", "lat", "geometry"]


@dataclass
class RailLayer:
    """Rail lines and stations (GeoDataFrames in EPSG:4326) and the reading notices."""

    lines: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    notices: Notices

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts: lines by ``railway`` value, stations by ``kind``."""
        return {
            "lines": {str(k): int(v) for k, v in self.lines["railway"].value_counts().sort_index().items()},
            "stations": {str(k): int(v) for k, v in self.stations["kind"].value_counts().sort_index().items()},
        }


def rail_from_raw(raw: RawOSM) -> RailLayer:
    """Build the rail layer from already-read OSM data."""
    rows = []
    for i, tags in enumerate(raw.way_tags):
        if tags.get("railway") not in RAIL_LINE_VALUES:
            continue
        a, b = raw.way_ptr[i], raw.way_ptr[i + 1]
        lon, lat = raw.lon[a:b], raw.lat[a:b]
        known = np.isfinite(lon)
        pieces = []
        start = None
        for k in range(known.size + 1):
            if k < known.size and known[k]:
                if start is None:
                    start = k
            elif start is not None:
                if k - start >= 2:
                    pieces.append((lon[start:k], lat[start:k]))
                start = None
        if not pieces:
            continue
        length = 0.0
        for x, y in pieces:
            rlon, rlat = np.radians(x), np.radians(y)
            length += float(haversine_m(rlat[:-1], rlon[:-1], rlat[1:], rlon[1:], radius=OSMNX_EARTH_RADIUS_M,
                                        radians=True).sum())
        lines = [LineString(np.column_stack(p)) for p in pieces]
        geom = lines[0] if len(lines) == 1 else MultiLineString(lines)
        row = {"osm_id": int(raw.way_id[i])}
        row.update({col: tags.get(key) for col, key in _LINE_TAGS.items()})
        row.update(length_m=length, clipped=bool((~known).any()), geometry=geom)
        rows.append(row)
    lines_df = gpd.GeoDataFrame(pd.DataFrame(rows, columns=LINE_COLUMNS), geometry="geometry", crs="EPSG:4326")
    lines_df = lines_df.sort_values("osm_id", kind="stable").reset_index(drop=True)

    srows = []
    for s in raw.stations:
        tags = s["tags"]
        row = {"osm_type": s["osm_type"], "osm_id": s["osm_id"], "kind": s["kind"]}
        row.update({col: tags.get(key) for col, key in _STATION_TAGS.items()})
        row.update(lon=s["lon"], lat=s["lat"], geometry=Point(s["lon"], s["lat"]))
        srows.append(row)
    st = gpd.GeoDataFrame(pd.DataFrame(srows, columns=STATION_COLUMNS), geometry="geometry", crs="EPSG:4326")
    st = st.drop_duplicates(["osm_type", "osm_id"]).sort_values(["osm_type", "osm_id"], kind="stable")
    return RailLayer(lines=lines_df, stations=st.reset_index(drop=True), notices=raw.notices)


def rail_layer(source: str | Path | OSMRequest, *, config: Config | None = None,
               cache_dir: str | Path | None = None, offline: bool = False) -> RailLayer:
    """Read an OSM input and return its rail lines and stations."""
    raw, _digest = read_osm(source, config=config, cache_dir=cache_dir, offline=offline)
    return rail_from_raw(raw)
