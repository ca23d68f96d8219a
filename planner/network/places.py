"""Places on the network: from a point to the stops it reaches, and walking between points.

* :func:`access` / :func:`access_many`: the access (or egress) legs of points. Walking uses
  the street network when the point snaps to it (the straight leg to the snapped node at
  walking speed included), and the straight-line approximation (great-circle distance times
  ``Config.straight_line_detour``) for stops that are not on the street network or when the
  point is not. The walk network is treated as symmetric, so the same legs serve as egress.
  Optionally the urban taxi/bus approximation (``local``, agglomeration-scale analyses) and
  park-and-ride on the drive network to rail stations.
* :func:`resolve_points`: the legs of a table of points (``id``, ``lon``, ``lat``, optional
  ``stop_id``: a point at a stop starts there).
* :func:`direct_walk_seconds`: walk-only times between every origin and destination.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.common.geodesy import arc_m, sphere_xyz
from planner.network.links import LINK_DRIVE, LINK_LOCAL, LINK_STRAIGHT, LINK_STREET, Access

if TYPE_CHECKING:
    from planner.network.model import Network

__all__ = ["access", "access_legs", "access_many", "direct_walk_seconds", "resolve_points"]


def access(net: Network, lon: float, lat: float, *, max_s: float | None = None, park_and_ride: bool = False,
           local: bool = False) -> Access:
    """Stops reachable from a point (walking; optionally driving to rail stations).

    Walking uses the street network when the point snaps to it (the straight leg to the
    snapped node at walking speed included), and the straight-line approximation for
    stops that are not on the street network or when the point is not. The walk network
    is treated as symmetric, so the same legs serve as egress to the point.
    """
    cfg = net.config
    limit = float(cfg.access_max_s if max_s is None else max_s)
    speed = cfg.walk_speed_mps
    parts_s, parts_t, parts_m, parts_k = [], [], [], []
    snapped = False
    snap_m = np.nan
    node = -1
    if net.walk is not None:
        n, d = net.walk.snap_index([lon], [lat], max_distance_m=cfg.snap_max_m, config=cfg)
        node = int(n[0])
        if node >= 0:
            snapped = True
            snap_m = float(d[0])
            nodes, cost, metres, _pred = net.walk.reach_index([node], source_cost=[snap_m / speed], cutoff=limit)
            st, tt_s, mm = _stops_at_nodes(net, nodes, cost, metres + snap_m)
            parts_s.append(st)
            parts_t.append(tt_s)
            parts_m.append(mm)
            parts_k.append(np.full(len(st), LINK_STREET, np.int8))
    # straight line: to every stop when the point is off the network, else to the
    # stops that are off the network
    target = np.ones(net.n_stops, bool) if not snapped else (net.stop_node < 0)
    if target.any():
        st, tt_s, mm = _straight_line(net, lon, lat, target, limit)
        parts_s.append(st)
        parts_t.append(tt_s)
        parts_m.append(mm)
        parts_k.append(np.full(len(st), LINK_STRAIGHT, np.int8))
    if local:
        st, tt_s, mm = _local_access(net, lon, lat)
        parts_s.append(st)
        parts_t.append(tt_s)
        parts_m.append(mm)
        parts_k.append(np.full(len(st), LINK_LOCAL, np.int8))
    if park_and_ride and net.drive is not None:
        st, tt_s, mm = _drive_to_rail(net, lon, lat)
        parts_s.append(st)
        parts_t.append(tt_s)
        parts_m.append(mm)
        parts_k.append(np.full(len(st), LINK_DRIVE, np.int8))
    if not parts_s:
        return Access.empty()
    s = np.concatenate(parts_s).astype(np.int32)
    t = np.ceil(np.concatenate(parts_t)).astype(np.int32)
    m = np.concatenate(parts_m)
    k = np.concatenate(parts_k)
    order = np.lexsort((t, s))
    s, t, m, k = s[order], t[order], m[order], k[order]
    first = np.ones(len(s), bool)
    first[1:] = s[1:] != s[:-1]
    return Access(s[first], t[first], m[first], k[first], snapped, snap_m, node)


def _stops_at_nodes(net: Network, nodes: np.ndarray, cost: np.ndarray, metres: np.ndarray):
    """Stops snapped to the settled ``nodes``: (stop, seconds incl. the stop's own snap leg, metres)."""
    ptr, stops = net.node_stops()
    out_s, out_t, out_m = [], [], []
    speed = net.config.walk_speed_mps
    counts = ptr[nodes + 1] - ptr[nodes]
    has = np.flatnonzero(counts > 0)
    for i in has:
        v = nodes[i]
        for k in range(ptr[v], ptr[v + 1]):
            s = stops[k]
            snap = float(net.stop_snap_m[s])
            out_s.append(s)
            out_t.append(cost[i] + snap / speed)
            out_m.append(metres[i] + snap)
    return np.asarray(out_s, np.int32), np.asarray(out_t, np.float64), np.asarray(out_m, np.float64)


def _straight_line(net: Network, lon, lat, target_mask, limit_s):
    cfg = net.config
    xy = net.stop_xyz()
    p = sphere_xyz(np.array([lat]), np.array([lon]))[0]
    radius = limit_s * cfg.walk_speed_mps / cfg.straight_line_detour
    idx = np.asarray(net.stop_tree().query_ball_point(p, radius), dtype=np.int64)
    idx = idx[target_mask[idx]] if len(idx) else idx
    d = arc_m(xy[idx], p) * cfg.straight_line_detour if len(idx) else np.zeros(0)
    return idx.astype(np.int32), d / cfg.walk_speed_mps, d


def _local_access(net: Network, lon, lat):
    """Urban access by taxi/bus where no model of it exists: straight-line distance times
    the detour factor at ``Config.local_access_speed_kmh``, up to ``local_access_max_s``."""
    cfg = net.config
    xy = net.stop_xyz()
    p = sphere_xyz(np.array([lat]), np.array([lon]))[0]
    speed = cfg.local_access_speed_kmh / 3.6
    radius = cfg.local_access_max_s * speed / cfg.straight_line_detour
    idx = np.asarray(net.stop_tree().query_ball_point(p, radius), dtype=np.int64)
    d = arc_m(xy[idx], p) * cfg.straight_line_detour if len(idx) else np.zeros(0)
    return idx.astype(np.int32), d / speed, d


def _drive_to_rail(net: Network, lon, lat):
    cfg = net.config
    n, _d = net.drive.snap_index([lon], [lat], max_distance_m=cfg.snap_max_m, config=cfg)
    if n[0] < 0 or net.stop_drive_node is None:
        return np.zeros(0, np.int32), np.zeros(0), np.zeros(0)
    nodes, cost, metres, _ = net.drive.reach_index([int(n[0])], cutoff=cfg.drive_access_max_s)
    where = {int(v): (c, m) for v, c, m in zip(nodes, cost, metres, strict=True)}
    out_s, out_t, out_m = [], [], []
    for s in np.flatnonzero(net.stop_drive_node >= 0):
        hit = where.get(int(net.stop_drive_node[s]))
        if hit is not None:
            out_s.append(s)
            out_t.append(hit[0] + cfg.park_ride_penalty_s)
            out_m.append(hit[1])
    return np.asarray(out_s, np.int32), np.asarray(out_t, np.float64), np.asarray(out_m, np.float64)


def access_many(net: Network, lon, lat, *, max_s: float | None = None, park_and_ride: bool = False,
                local: bool = False, threads: int | None = None) -> tuple[np.ndarray, list[Access]]:
    """Access legs of many points as CSR (``ptr``) plus the per-point :class:`Access`."""
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    net.stop_xyz()
    if net.walk is not None:
        net.node_stops()
    workers = threads or net.config.threads or 2
    with ThreadPoolExecutor(max_workers=max(1, workers)) as ex:
        acc = list(ex.map(lambda q: access(net, q[0], q[1], max_s=max_s, park_and_ride=park_and_ride,
                                                local=local),
                          zip(lon, lat, strict=True)))
    ptr = np.zeros(len(acc) + 1, np.int64)
    ptr[1:] = np.cumsum([len(a.stops) for a in acc])
    return ptr, acc


def resolve_points(net: Network, points: pd.DataFrame, *, park_and_ride: bool = False,
                   local: bool = False) -> list[Access]:
    """Access (or egress) legs of each point row (``id``, ``lon``, ``lat``, ``stop_id``)."""
    out = []
    lon = points["lon"].to_numpy(dtype=float)
    lat = points["lat"].to_numpy(dtype=float)
    stop_ids = points["stop_id"].to_numpy(dtype=object) if "stop_id" in points else np.array([""] * len(points))
    need = [i for i in range(len(points)) if not stop_ids[i]]
    acc_by_row = {}
    if need:
        _ptr, accs = net.access_many(lon[need], lat[need], park_and_ride=park_and_ride, local=local)
        acc_by_row = dict(zip(need, accs, strict=True))
    for i in range(len(points)):
        if stop_ids[i]:
            s = net.stop_index(str(stop_ids[i]))
            out.append(Access(np.array([s], np.int32), np.array([0], np.int32), np.array([0.0]),
                              np.array([LINK_STREET], np.int8), True, 0.0))
        else:
            out.append(acc_by_row[i])
    return out


def _coords(net: Network, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    lon = points["lon"].to_numpy(dtype=float).copy()
    lat = points["lat"].to_numpy(dtype=float).copy()
    if "stop_id" in points:
        for i, sid in enumerate(points["stop_id"]):
            if sid:
                s = net.stop_index(str(sid))
                lon[i], lat[i] = net.timetable.stop_lon[s], net.timetable.stop_lat[s]
    return lon, lat


def direct_walk_seconds(net: Network, origins: pd.DataFrame, destinations: pd.DataFrame) -> np.ndarray:
    """Walk-only times (s) between every origin and destination, ``-1`` when farther than
    ``Config.access_max_s``: on the street network when both snap, else straight line."""
    cfg = net.config
    olon, olat = _coords(net, origins)
    dlon, dlat = _coords(net, destinations)
    out = np.full((len(olon), len(dlon)), -1, np.int64)
    straight = arc_m(sphere_xyz(olat, olon)[:, None, :], sphere_xyz(dlat, dlon)[None, :, :])
    st_s = straight * cfg.straight_line_detour / cfg.walk_speed_mps
    ok = st_s <= cfg.access_max_s
    out[ok] = np.ceil(st_s[ok]).astype(np.int64)
    if net.walk is not None:
        on, od = net.walk.snap_index(olon, olat, max_distance_m=cfg.snap_max_m, config=cfg)
        dn, dd = net.walk.snap_index(dlon, dlat, max_distance_m=cfg.snap_max_m, config=cfg)
        d_ok = dn >= 0
        speed = cfg.walk_speed_mps
        for i in np.flatnonzero(on >= 0):
            nodes, cost, _m, _ = net.walk.reach_index([int(on[i])], source_cost=[od[i] / speed], cutoff=cfg.access_max_s)
            where = np.full(net.walk.n_nodes, np.inf)
            where[nodes] = cost
            t = where[np.maximum(dn, 0)] + np.nan_to_num(dd) / speed
            t[~d_ok] = np.inf
            street = np.isfinite(t) & (t <= cfg.access_max_s)
            row = np.full(len(dlon), -1, np.int64)
            row[street] = np.ceil(t[street]).astype(np.int64)
            # both on the network: the network decides; otherwise keep the straight line
            out[i, d_ok] = row[d_ok]
    return out


def access_legs(net: Network, lon: np.ndarray, lat: np.ndarray, *, park_and_ride: bool = False,
                 local: bool = False) -> list:
    """:meth:`Network.access` of many points, skipping the points with no stop in reach.

    A stop within a walk of ``access_max_s`` (or the local approximation's reach) lies
    within that many metres in a straight line, so points without any stop in that radius
    get no legs without a search; only their snap to the walk network is kept (the direct
    walk needs it). The legs are exactly those of :meth:`Network.access`.
    """
    cfg = net.config
    n = len(lon)
    if n == 0:
        return []
    if net.walk is not None:
        node, dist = net.walk.snap_index(lon, lat, max_distance_m=cfg.snap_max_m)
    else:
        node, dist = np.full(n, -1, np.int32), np.full(n, np.nan)
    need = np.ones(n, bool)
    if not park_and_ride and net.n_stops:
        radius = cfg.access_max_s * cfg.walk_speed_mps * 1.01 + 1.0
        if local:
            radius = max(radius, cfg.local_access_max_s * cfg.local_access_speed_kmh / 3.6 / cfg.straight_line_detour
                         * 1.01 + 1.0)
        # on the sphere, as Network.access measures: a chord is never longer than its arc
        tree = cKDTree(sphere_xyz(net.timetable.stop_lat, net.timetable.stop_lon))
        need = np.asarray(tree.query_ball_point(sphere_xyz(lat, lon), radius, return_length=True)) > 0
    elif not net.n_stops:
        need[:] = False
    out: list = [None] * n
    for i in np.flatnonzero(~need):
        snapped = bool(node[i] >= 0)
        out[i] = Access(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int8), snapped,
                        float(dist[i]) if snapped else np.nan, int(node[i]))
    idx = np.flatnonzero(need)
    if len(idx):
        _ptr, got = net.access_many(lon[idx], lat[idx], park_and_ride=park_and_ride, local=local)
        for i, a in zip(idx, got, strict=True):
            out[i] = a
    return out
