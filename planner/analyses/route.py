"""One door-to-door journey (``plan route``): the earliest arrival and its legs.

:func:`plan_route` returns a :class:`Journey` whose legs carry times, stops, routes and a
geometry (walking legs along the street network where there is one, straight lines where
the straight-line approximation was used, rides along the stops of the trip).
:meth:`Journey.text` prints it for people; :meth:`Journey.geojson` for maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.geodesy import haversine_m
from planner.common.timeofday import clock
from planner.errors import InputError
from planner.ingest.gtfs.modes import MODES
from planner.network.links import LINK_LOCAL, Access
from planner.network.places import direct_walk_seconds
from planner.routing.itinerary import Leg, reconstruct
from planner.routing.raptor import INF, earliest_arrival

if TYPE_CHECKING:
    from planner.network.model import Network

__all__ = ["Journey", "plan_route"]


@dataclass
class Journey:
    """The earliest journey between two places at one departure time."""

    departure_s: int
    arrival_s: int
    legs: list[Leg]
    origin: tuple[float, float]
    destination: tuple[float, float]
    labels: dict = field(default_factory=dict)   # per-leg display names

    @property
    def duration_min(self) -> float:
        return (self.arrival_s - self.departure_s) / 60.0

    @property
    def n_rides(self) -> int:
        return sum(leg.kind == "ride" for leg in self.legs)

    def totals(self) -> dict:
        walk = sum(leg.duration_s for leg in self.legs if leg.kind in {"access", "walk", "egress", "direct"})
        ride = sum(leg.duration_s for leg in self.legs if leg.kind == "ride")
        total = self.arrival_s - self.departure_s
        walk_m = sum(leg.walk_m for leg in self.legs if leg.kind != "ride" and np.isfinite(leg.walk_m))
        return {"travel_time_min": total / 60.0, "walk_min": walk / 60.0, "ride_min": ride / 60.0,
                "wait_min": (total - walk - ride) / 60.0, "walk_m": walk_m,
                "transfers": max(self.n_rides - 1, 0)}

    def text(self, net: Network) -> str:
        """The journey as lines a traveller can follow."""
        tt = net.timetable
        lines = []
        for leg in self.legs:
            t = clock(leg.dep_s)
            mins = leg.duration_s / 60.0
            if leg.kind in {"access", "walk", "egress", "direct"}:
                to = "destination" if leg.to_stop < 0 else f"{tt.stop_names[leg.to_stop]} ({tt.stop_ids[leg.to_stop]})"
                dist = f"{leg.walk_m:,.0f} m " if np.isfinite(leg.walk_m) else ""
                how = self.labels.get(id(leg), "walk")
                lines.append(f"{t}  {how} {dist}({mins:.0f} min) to {to}")
            else:
                route = int(leg.route)
                mode = MODES[int(tt.pattern_mode[leg.pattern])].replace("_", " ")
                op = tt.operator_names[int(tt.pattern_operator[leg.pattern])]
                lines.append(f"{t}  board {mode} {tt.route_names[route]} ({op}) at {tt.stop_names[leg.from_stop]}")
                lines.append(f"{clock(leg.arr_s)}  alight at {tt.stop_names[leg.to_stop]} "
                             f"({mins:.0f} min, {leg.alight_pos - leg.board_pos} stops)")
        tot = self.totals()
        lines.append(f"{clock(self.arrival_s)}  arrive: {tot['travel_time_min']:.0f} min door to door "
                     f"(walk {tot['walk_min']:.0f}, ride {tot['ride_min']:.0f}, wait {tot['wait_min']:.0f} min; "
                     f"{tot['transfers']} transfer{'s' if tot['transfers'] != 1 else ''})")
        return "\n".join(lines)

    def geojson(self, net: Network) -> dict:
        """A GeoJSON FeatureCollection: one LineString per leg (WGS84)."""
        tt = net.timetable
        feats = []
        for i, leg in enumerate(self.legs):
            props = {"leg": i, "kind": leg.kind, "departure": clock(leg.dep_s),
                     "arrival": clock(leg.arr_s), "duration_min": round(leg.duration_s / 60.0, 2)}
            if leg.kind == "ride":
                props.update(route=str(tt.route_names[leg.route]), route_id=str(tt.route_ids[leg.route]),
                             trip_id=str(tt.trip_ids[leg.trip]),
                             mode=MODES[int(tt.pattern_mode[leg.pattern])],
                             operator=str(tt.operator_names[int(tt.pattern_operator[leg.pattern])]))
            else:
                props["walk_m"] = None if not np.isfinite(leg.walk_m) else round(float(leg.walk_m), 1)
            if leg.from_stop >= 0:
                props["from_stop"] = str(tt.stop_ids[leg.from_stop])
            if leg.to_stop >= 0:
                props["to_stop"] = str(tt.stop_ids[leg.to_stop])
            coords = [[round(x, 7), round(y, 7)] for x, y in leg.geometry]
            feats.append({"type": "Feature", "properties": props,
                          "geometry": {"type": "LineString", "coordinates": coords}})
        return {"type": "FeatureCollection", "features": feats}


def _place_access(net: Network, place) -> tuple[Access, tuple[float, float]]:
    tt = net.timetable
    if isinstance(place, str):
        s = net.stop_index(place)
        return (Access(np.array([s], np.int32), np.array([0], np.int32), np.array([0.0]), np.array([1], np.int8),
                       True, 0.0), (float(tt.stop_lon[s]), float(tt.stop_lat[s])))
    lon, lat = place
    return net.access(lon, lat), (float(lon), float(lat))


def plan_route(net: Network, origin, destination, departure_s: int, *, park_and_ride: bool = False) -> Journey:
    """The earliest door-to-door journey leaving ``origin`` at ``departure_s``.

    ``origin``/``destination`` are ``(lon, lat)`` in WGS84 or a stop id (``FEED:ID`` or a
    unique bare id). Raises :class:`InputError` (``no_route``) when nothing arrives within
    ``Config.max_trip_duration_s``.
    """
    cfg = net.config
    tt = net.timetable
    o_acc, o_xy = _place_access(net, origin)
    if park_and_ride and not isinstance(origin, str):
        o_acc = net.access(*o_xy, park_and_ride=True)
    d_acc, d_xy = _place_access(net, destination)
    res = earliest_arrival(tt, net.footpaths, net.change_s, o_acc.stops, o_acc.seconds, departure_s,
                           max_rounds=cfg.max_rides, max_duration_s=cfg.max_trip_duration_s, record=True)
    best = res.best.astype(np.int64)
    cand = best[d_acc.stops] + d_acc.seconds
    cand[best[d_acc.stops] >= INF] = np.iinfo(np.int64).max

    pts_o = pd.DataFrame({"id": ["o"], "lon": [o_xy[0]], "lat": [o_xy[1]], "stop_id": [""]})
    pts_d = pd.DataFrame({"id": ["d"], "lon": [d_xy[0]], "lat": [d_xy[1]], "stop_id": [""]})
    direct = int(direct_walk_seconds(net, pts_o, pts_d)[0, 0])
    if len(cand) and cand.min() < np.iinfo(np.int64).max:
        j = int(np.argmin(cand))
        arr = int(cand[j])
    else:
        j, arr = -1, np.iinfo(np.int64).max
    if direct >= 0 and departure_s + direct <= arr:
        leg = Leg("direct", departure_s, departure_s + direct, walk_m=float("nan"))
        leg.geometry = _walk_geometry(net, o_xy, d_xy)
        leg.walk_m = _geometry_length(leg.geometry)
        return Journey(departure_s, departure_s + direct, [leg], o_xy, d_xy)
    if j < 0 or arr - departure_s > cfg.max_trip_duration_s:
        msg = "no journey found between these places at this time"
        raise InputError(msg, code="no_route",
                         hint="try another departure time or date, or check that both places are near stops")
    stop = int(d_acc.stops[j])
    legs = reconstruct(tt, net.footpaths, net.change_s, res, stop, o_acc.stops, o_acc.seconds)
    labels = {}
    for leg in legs:
        if leg.kind == "access":
            k = int(np.flatnonzero(o_acc.stops == leg.to_stop)[0])
            leg.walk_m = float(o_acc.metres[k])
            if o_acc.method[k] == 3:
                labels[id(leg)] = "drive (park and ride)"
            leg.geometry = _walk_geometry(net, o_xy, _stop_xy(net, leg.to_stop))
        elif leg.kind == "walk":
            if _footpath_kind(net, leg.from_stop, leg.to_stop) == LINK_LOCAL:
                labels[id(leg)] = "taxi/bus (urban approximation, with any walk to and from it)"
            leg.geometry = _walk_geometry(net, _stop_xy(net, leg.from_stop), _stop_xy(net, leg.to_stop))
            if not np.isfinite(leg.walk_m):
                leg.walk_m = _geometry_length(leg.geometry)
        elif leg.kind == "ride":
            a = tt.pattern_stops_ptr[leg.pattern]
            stops = tt.pattern_stops[a + leg.board_pos:a + leg.alight_pos + 1]
            leg.geometry = [(float(tt.stop_lon[s]), float(tt.stop_lat[s])) for s in stops]
    eg = Leg("egress", int(best[stop]), arr, stop, -1, walk_m=float(d_acc.metres[j]))
    eg.geometry = _walk_geometry(net, _stop_xy(net, stop), d_xy)
    legs.append(eg)
    return Journey(departure_s, arr, legs, o_xy, d_xy, labels)


def _footpath_kind(net: Network, a: int, b: int) -> int:
    """The link kind (``LINK_*``) of the footpath ``a -> b`` (-1 when there is none)."""
    fp = net.footpaths
    row = np.flatnonzero(fp.to[fp.ptr[a]:fp.ptr[a + 1]] == b)
    return int(net.footpath_method[fp.ptr[a] + row[0]]) if len(row) else -1


def _stop_xy(net: Network, s: int) -> tuple[float, float]:
    return float(net.timetable.stop_lon[s]), float(net.timetable.stop_lat[s])


def _walk_geometry(net: Network, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    """Street path between two points (straight segments to and from the network), or a
    straight line when either point is off the walk network."""
    walk = net.walk
    if walk is None or a == b:
        return [a, b]
    cfg = net.config
    node, _d = walk.snap_index([a[0], b[0]], [a[1], b[1]], max_distance_m=cfg.snap_max_m, config=cfg)
    if (node < 0).any():
        return [a, b]
    path = walk.path(walk.node_osm_id[node[0]], walk.node_osm_id[node[1]])
    if path.empty:
        return [a, b]
    pts = list(zip(path["lon"].to_numpy(dtype=float), path["lat"].to_numpy(dtype=float), strict=True))
    return [a, *pts, b]


def _geometry_length(coords: list[tuple[float, float]]) -> float:
    if len(coords) < 2:
        return 0.0
    c = np.asarray(coords)
    return float(haversine_m(c[:-1, 1], c[:-1, 0], c[1:, 1], c[1:, 0]).sum())

