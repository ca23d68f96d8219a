"""Tables and layers of a :class:`~planner.network.build.Network` for inspection.

``stops``: ``stop_id`` (FEED:ID), ``stop_name``, ``feed_id``, ``lon``, ``lat``,
``parent_station``, ``snapped`` (on the walk network), ``snap_m`` (metres to it),
``patterns`` (number of stop patterns serving it), ``modes``, ``change_s`` (minimum
change time at the stop, seconds).

``footpaths``: ``from_stop_id``, ``to_stop_id``, ``walk_m`` (metres; empty when only a
time is known), ``walk_s`` (seconds, including the minimum change time), ``method``
(``street``, ``straight_line``, ``transfers_txt``, ``local_taxi_bus`` for cross-town
links between rail stations when ``Config.local_rail_transfers`` is on, and for those
links chained with a footpath at either end or both, e.g. a metro stop -> walk -> rail
station -> taxi/bus -> rail station; its ``walk_m`` is the distance of all the legs).

``patterns``: ``pattern_id``, ``route_id``, ``route_name``, ``mode``, ``operator``,
``feed_id``, ``trips``, ``stops``, ``first_departure``/``last_departure`` (HH:MM:SS at the
first stop, past 24:00 for the next day), ``stop_ids`` (``|``-separated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from planner.common.timeofday import hms
from planner.ingest.gtfs.modes import MODES
from planner.network.links import (
    LINK_LOCAL,
    LINK_PATHWAYS,
    LINK_STRAIGHT,
    LINK_STREET,
    LINK_TRANSFERS_TXT,
)

if TYPE_CHECKING:
    from planner.network.model import Network

__all__ = ["footpaths_table", "patterns_table", "stops_table"]


def stops_table(net: Network) -> pd.DataFrame:
    tt = net.timetable
    n_pat = np.diff(tt.stop_patterns_ptr)
    modes = []
    for s in range(tt.n_stops):
        ps = tt.stop_patterns[tt.stop_patterns_ptr[s]:tt.stop_patterns_ptr[s + 1]]
        modes.append(",".join(sorted({MODES[int(m)] for m in tt.pattern_mode[ps]})))
    return pd.DataFrame({
        "stop_id": tt.stop_ids, "stop_name": tt.stop_names,
        "feed_id": np.asarray(tt.feed_ids, dtype=object)[tt.stop_feed], "lon": tt.stop_lon, "lat": tt.stop_lat,
        "parent_station": tt.stop_parent, "snapped": net.stop_node >= 0,
        "snap_m": np.round(np.asarray(net.stop_snap_m, dtype=float), 1), "patterns": n_pat, "modes": modes,
        "change_s": net.change_s,
    })


def footpaths_table(net: Network) -> pd.DataFrame:
    tt = net.timetable
    fp = net.footpaths
    src = np.repeat(np.arange(tt.n_stops), np.diff(fp.ptr))
    method = np.full(len(fp.to), "straight_line", dtype=object)
    method[net.footpath_method == LINK_STREET] = "street"
    method[net.footpath_method == LINK_TRANSFERS_TXT] = "transfers_txt"
    method[net.footpath_method == LINK_STRAIGHT] = "straight_line"
    method[net.footpath_method == LINK_LOCAL] = "local_taxi_bus"
    method[net.footpath_method == LINK_PATHWAYS] = "pathways"
    return pd.DataFrame({"from_stop_id": tt.stop_ids[src], "to_stop_id": tt.stop_ids[fp.to],
                         "walk_m": np.round(fp.metres, 1), "walk_s": fp.seconds, "method": method})


def patterns_table(net: Network) -> pd.DataFrame:
    tt = net.timetable
    rows = []
    for p in range(tt.n_patterns):
        a, b = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        _A, D = tt.pattern_trip_times(p)
        r = int(tt.pattern_route[p])
        rows.append({
            "pattern_id": p, "route_id": tt.route_ids[r], "route_name": tt.route_names[r],
            "mode": MODES[int(tt.pattern_mode[p])], "operator": tt.operator_names[int(tt.pattern_operator[p])],
            "feed_id": tt.feed_ids[int(tt.pattern_feed[p])], "trips": int(D.shape[0]), "stops": int(b - a),
            "first_departure": hms(D[:, 0].min()), "last_departure": hms(D[:, 0].max()),
            "stop_ids": "|".join(tt.stop_ids[tt.pattern_stops[a:b]]),
        })
    return pd.DataFrame(rows)


def write_geopackage(net: Network, path) -> None:
    """Layers ``stops`` (points), ``footpaths`` and ``patterns`` (lines), EPSG:4326."""
    tt = net.timetable
    st = stops_table(net)
    gpd.GeoDataFrame(st, geometry=[Point(x, y) for x, y in zip(st["lon"], st["lat"], strict=True)],
                     crs="EPSG:4326").to_file(path, layer="stops", driver="GPKG")
    fp = footpaths_table(net)
    if len(fp):
        src = np.repeat(np.arange(tt.n_stops), np.diff(net.footpaths.ptr))
        dst = net.footpaths.to
        geom = [LineString([(tt.stop_lon[a], tt.stop_lat[a]), (tt.stop_lon[b], tt.stop_lat[b])])
                for a, b in zip(src, dst, strict=True)]
        gpd.GeoDataFrame(fp, geometry=geom, crs="EPSG:4326").to_file(path, layer="footpaths", driver="GPKG")
    pt = patterns_table(net)
    geom = []
    for p in range(tt.n_patterns):
        s = tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]
        geom.append(LineString(list(zip(tt.stop_lon[s], tt.stop_lat[s], strict=True))))
    gpd.GeoDataFrame(pt, geometry=geom, crs="EPSG:4326").to_file(path, layer="patterns", driver="GPKG")
