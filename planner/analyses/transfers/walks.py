"""Walking between stations on the street network, and the search for a new entrance.

Walks run between access points (:mod:`planner.analyses.transfers.stations`): a multi-source
Dijkstra from every access point of one station, each source starting with its inside
walk (entrance to platform) plus its straight snap leg to the street node at walking
speed, ends at the best access point of the other station (its snap leg and inside walk
added). The walk network is treated as symmetric, as :meth:`planner.network.build.Network.access`
does. A station with no access point on the walk network is measured by the straight line
times ``Config.straight_line_detour`` (``walk_method = straight_line``).

The entrance search (:func:`search_connectors`) tries every street node within
``TransferStandard.connector_max_m`` of a station's platforms as the street end of a new
entrance or connector, reached from the nearest platform in a straight line at walking
speed; see :mod:`planner.analyses.transfers.analysis` for the objective. Only rail and metro stations and
stations with mapped entrances get one (a bus or tram stop on the street would have to
move instead, which changes its line).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from planner.analyses.transfers.stations import RAIL_LIKE
from planner.common.geodesy import OSMNX_EARTH_RADIUS_M, haversine_m
from planner.common.progress import progress as bar
from planner.ingest.gtfs.consolidation import local_xy

__all__ = ["Walk", "measure_walks", "search_connectors", "snap_access"]

#: a pair is searched up to this many times its straight-line distance (plus a margin), and
#: at least up to MIN_SEARCH_M: "no path" means no walk within that limit
MAX_DETOUR = 4.0
_MARGIN_M = 300.0
MIN_SEARCH_M = 3000.0


@dataclass
class Walk:
    """The measured walk of one unordered pair, from unit ``a`` to unit ``b``."""

    method: str                      # street | straight_line | none | observed | pathways
    walk_s: float = np.nan
    walk_m: float = np.nan
    inside_m: float = 0.0            # of which inside the two stations (entrance <-> platform)
    ap_a: int = -1                   # access point indices used
    ap_b: int = -1
    coords: list[tuple[float, float]] = field(default_factory=list)   # platform -> ... -> platform
    back_s: float = np.nan           # from b to a when it differs (one-way escalators on pathways)

    def seconds(self, forward: bool) -> float:
        """The walk from a to b (``forward``) or from b to a."""
        return self.walk_s if forward or not np.isfinite(self.back_s) else self.back_s


def snap_access(net, ap) -> tuple[np.ndarray, np.ndarray]:
    """(walk node int32, snap metres) of every access point; -1/nan off the walk network."""
    if net.walk is None or len(ap.lon) == 0:
        return np.full(len(ap.lon), -1, np.int32), np.full(len(ap.lon), np.nan)
    cfg = net.config
    node, d = net.walk._snap_index(ap.lon, ap.lat, cfg.snap_max_m, cfg)
    return node.astype(np.int32), d


class _Search:
    """One multi-source search from a unit's access points, looked up by node."""

    def __init__(self, net, ap, node, snap, u: int, cutoff_s: float):
        speed = net.config.walk_speed_mps
        idx = [k for k in ap.of(u) if node[k] >= 0]
        self.ok = bool(idx)
        if not self.ok:
            return
        cost = {}
        for k in idx:
            c = ap.inside_s[k] + snap[k] / speed
            v = int(node[k])
            if v not in cost or c < cost[v][0]:
                cost[v] = (c, k)
        src = np.array(sorted(cost), np.int64)
        self.src_ap = {v: cost[v][1] for v in cost}
        nodes, c, m, pred = net.walk.reach_index(src, source_cost=[cost[int(v)][0] for v in src], cutoff=cutoff_s)
        order = np.argsort(nodes, kind="stable")
        self.nodes, self.cost, self.metres, self.pred = nodes[order], c[order], m[order], pred[order]
        self.walk = net.walk
        self.ap, self.snap = ap, snap

    def at(self, v) -> np.ndarray:
        """Positions of nodes ``v`` in the search (-1 when not reached)."""
        v = np.atleast_1d(np.asarray(v, np.int64))
        j = np.searchsorted(self.nodes, v)
        jc = np.minimum(j, max(len(self.nodes) - 1, 0))
        hit = (j < len(self.nodes)) & (self.nodes[jc] == v) if len(self.nodes) else np.zeros(len(v), bool)
        return np.where(hit, jc, -1)

    def chain(self, v: int) -> list[int]:
        """Nodes from the source to ``v``."""
        out = []
        while v >= 0:
            out.append(v)
            j = int(self.at(v)[0])
            v = int(self.pred[j])
        return out[::-1]

    def source_metres(self, root: int) -> tuple[int, float]:
        k = self.src_ap[root]
        return k, float(self.ap.inside_m[k] + self.snap[k])


def _point(ap, k: int) -> tuple[float, float]:
    return float(ap.lon[k]), float(ap.lat[k])


def _stop_point(tt, s: int) -> tuple[float, float]:
    return float(tt.stop_lon[s]), float(tt.stop_lat[s])


def _dedupe(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for c in coords:
        if not out or (abs(out[-1][0] - c[0]) > 1e-10 or abs(out[-1][1] - c[1]) > 1e-10):
            out.append(c)
    return out


def straight_m(st, a: int, b: int) -> float:
    """Straight-line metres between the points of units ``a`` and ``b``."""
    xy = local_xy(np.array([st.lat[a], st.lat[b]]), np.array([st.lon[a], st.lon[b]]))
    return float(np.hypot(*(xy[0] - xy[1])))


def measure_walks(net, st, ap, pairs, *, progress: bool = False) -> list[Walk]:
    """The walk of every pair (rows of ``pairs``: ``a``, ``b``), in order."""
    cfg = net.config
    speed = cfg.walk_speed_mps
    tt = net.timetable
    node, snap = snap_access(net, ap)
    a_col = pairs["a"].to_numpy()
    b_col = pairs["b"].to_numpy()
    out: list[Walk | None] = [None] * len(pairs)
    by_a: dict[int, list[int]] = {}
    for i, a in enumerate(a_col):
        by_a.setdefault(int(a), []).append(i)
    for a, rows in bar(sorted(by_a.items()), enabled=progress, desc="walks", unit="station"):
        limit = max(max(straight_m(st, a, int(b_col[i])) for i in rows) * MAX_DETOUR + _MARGIN_M, MIN_SEARCH_M)
        search = _Search(net, ap, node, snap, a, limit / speed) if net.walk is not None else None
        for i in rows:
            b = int(b_col[i])
            w = _street_walk(search, ap, node, snap, b, speed, tt) if search is not None and search.ok else None
            if w is None:
                w = _straight_walk(st, ap, a, b, cfg, tt, net.walk is not None and _on_network(ap, node, a, b))
            out[i] = w
    return [w for w in out if w is not None]


def _on_network(ap, node, a: int, b: int) -> bool:
    return any(node[k] >= 0 for k in ap.of(a)) and any(node[k] >= 0 for k in ap.of(b))


def _street_walk(search: _Search, ap, node, snap, b: int, speed: float, tt) -> Walk | None:
    cand = [k for k in ap.of(b) if node[k] >= 0]
    if not cand:
        return None
    pos = search.at([node[k] for k in cand])
    best = None
    for k, j in zip(cand, pos, strict=True):
        if j < 0:
            continue
        t = float(search.cost[j]) + snap[k] / speed + ap.inside_s[k]
        if best is None or t < best[0]:
            best = (t, k, int(j))
    if best is None:
        return Walk("none")
    t, kb, j = best
    chain = search.chain(int(node[kb]))
    ka, m_a = search.source_metres(chain[0])
    metres = float(search.metres[j]) + m_a + snap[kb] + ap.inside_m[kb]
    w = search.walk
    coords = [_stop_point(tt, int(ap.stop[ka])), _point(ap, ka)]
    coords += [(float(w.lon[v]), float(w.lat[v])) for v in chain]
    coords += [_point(ap, kb), _stop_point(tt, int(ap.stop[kb]))]
    return Walk("street", t, metres, float(ap.inside_m[ka] + ap.inside_m[kb]), ka, kb, _dedupe(coords))


def _straight_walk(st, ap, a: int, b: int, cfg, tt, on_network: bool) -> Walk:
    if on_network:  # both on the network but not connected within the search limit
        return Walk("none")
    d = straight_m(st, a, b) * cfg.straight_line_detour
    ka, kb = int(ap.ptr[a]), int(ap.ptr[b])
    coords = [(float(st.lon[a]), float(st.lat[a])), (float(st.lon[b]), float(st.lat[b]))]
    del ka, kb, tt
    return Walk("straight_line", d / cfg.walk_speed_mps, d, 0.0, -1, -1, coords)


# ---------------------------------------------------------------------- new entrances

@dataclass
class Connector:
    """A new entrance of unit ``side`` at walk node ``node`` and what it does to each pair."""

    side: int
    node: int
    lon: float
    lat: float
    connector_m: float
    new_walk_s: dict[int, float]     # pair row -> new walk time (only rows it improves)
    new_walk_m: dict[int, float]
    coords: dict[int, list[tuple[float, float]]]
    weighted_saving_s: float = 0.0   # use-weighted seconds saved over the pairs of `side`


def _candidates(net, st, u: int, max_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk nodes within ``max_m`` (great circle) of a platform of ``u``: (nodes, connector
    metres, platform stop)."""

    walk = net.walk
    tree = getattr(walk, "_transfer_xy_tree", None)
    if tree is None:
        tree = cKDTree(np.column_stack([walk.x, walk.y]))
        walk._transfer_xy_tree = tree
    tt = net.timetable
    stops = st.stops(u)
    px, py = walk.project(tt.stop_lon[stops], tt.stop_lat[stops])
    best: dict[int, tuple[float, int]] = {}
    for s, x, y in zip(stops, np.atleast_1d(px), np.atleast_1d(py), strict=True):
        near = np.asarray(tree.query_ball_point([x, y], max_m * 1.01 + 1.0), np.int64)  # UTM scale margin
        if len(near) == 0:
            continue
        d = haversine_m(np.radians(tt.stop_lat[s]), np.radians(tt.stop_lon[s]), np.radians(walk.lat[near]),
                        np.radians(walk.lon[near]), radius=OSMNX_EARTH_RADIUS_M, radians=True)
        for v, dv in zip(near[d <= max_m], d[d <= max_m], strict=True):
            if int(v) not in best or dv < best[int(v)][0]:
                best[int(v)] = (float(dv), int(s))
    nodes = np.array(sorted(best), np.int64)
    return (nodes, np.array([best[int(v)][0] for v in nodes]), np.array([best[int(v)][1] for v in nodes], np.int64))


def _can_get_entrance(st, ap, u: int) -> bool:
    """Rail and metro stations, and stations with mapped entrances (a bus stop on the street
    gets no entrance: it would have to move instead)."""
    return st.modes[u] in RAIL_LIKE or any(ap.kind[k] in {"gtfs_entrance", "osm_entrance"} for k in ap.of(u))


def search_connectors(net, st, ap, pairs, walks: list[Walk], weights: np.ndarray, failing: np.ndarray,
                      max_m: float, min_saving_s: float = 0.0) -> dict[int, Connector]:
    """The best new entrance for every failing pair row (see :mod:`planner.analyses.transfers.analysis`).

    ``weights`` per pair row (use in both directions); ``failing`` bool per row; a node
    must shorten the failing pair by at least ``min_saving_s``. Returns {row: Connector};
    rows without such a street node are absent.
    """
    if net.walk is None or not failing.any():
        return {}
    cfg = net.config
    speed = cfg.walk_speed_mps
    node, snap = snap_access(net, ap)
    a_col = pairs["a"].to_numpy()
    b_col = pairs["b"].to_numpy()
    rows_of: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(zip(a_col, b_col, strict=True)):
        rows_of.setdefault(int(a), []).append(i)
        rows_of.setdefault(int(b), []).append(i)
    sides = sorted({int(x) for i in np.flatnonzero(failing) for x in (a_col[i], b_col[i]) if _can_get_entrance(st, ap, int(x))})
    cands = {u: _candidates(net, st, u, max_m) for u in sides}
    # cost from every partner of a side to the side's candidate nodes
    partner_cost: dict[tuple[int, int], tuple[_Search, np.ndarray]] = {}
    searches: dict[int, _Search] = {}
    for u in sides:
        for i in rows_of[u]:
            v = int(b_col[i]) if int(a_col[i]) == u else int(a_col[i])
            if v not in searches:
                partners = rows_of[v]
                lim = max(straight_m(st, int(a_col[k]), int(b_col[k])) for k in partners) * MAX_DETOUR
                searches[v] = _Search(net, ap, node, snap, v, (max(lim, MIN_SEARCH_M) + 2 * max_m + _MARGIN_M) / speed)
            s = searches[v]
            if s.ok:
                partner_cost[(u, v)] = (s, s.at(cands[u][0]))
    out: dict[int, Connector] = {}
    tt = net.timetable
    for i in np.flatnonzero(failing):
        best: tuple[tuple, Connector] | None = None
        for u in (int(a_col[i]), int(b_col[i])):
            if u not in cands:
                continue
            found = _best_node(u, int(i), cands[u], rows_of[u], a_col, b_col, partner_cost, walks, weights, speed,
                               min_saving_s)
            if found is None:
                continue
            j, new, cur, saving = found
            nodes, conn_m, plat = cands[u]
            x = int(nodes[j])
            # compare rounded to a microsecond: equal designs must not be split by float noise
            key = (-round(saving, 6), -round(cur[i] - new[i][j], 6), 0 if u == int(a_col[i]) else 1)
            if best is not None and key >= best[0]:
                continue
            new_s, new_m, coords = {}, {}, {}
            for k, t in new.items():
                if t[j] < cur[k] - 1e-9:
                    s, pos = partner_cost[(u, int(b_col[k]) if int(a_col[k]) == u else int(a_col[k]))]
                    chain = s.chain(x)[::-1]          # from x to the partner's access node
                    kb, m_b = s.source_metres(chain[-1])
                    new_s[k] = float(t[j])
                    new_m[k] = float(conn_m[j] + s.metres[pos[j]] + m_b)
                    wk = s.walk
                    coords[k] = _dedupe([_stop_point(tt, int(plat[j]))]
                                        + [(float(wk.lon[v]), float(wk.lat[v])) for v in chain]
                                        + [_point(ap, kb), _stop_point(tt, int(ap.stop[kb]))])
            best = (key, Connector(u, x, float(net.walk.lon[x]), float(net.walk.lat[x]), float(conn_m[j]),
                                   new_s, new_m, coords, saving))
        if best is not None:
            out[int(i)] = best[1]
    return out


#: stands for "no walk at all" when a connector makes an unreachable pair reachable
_NO_WALK_S = 1.0e6


def _best_node(u, i, cand, rows, a_col, b_col, partner_cost, walks, weights, speed, min_saving_s):
    """The candidate node of side ``u`` that maximises the use-weighted time saved over the
    pairs of ``u``, among the nodes that shorten pair ``i``: (position, new times per row,
    current times per row, weighted saving in seconds); None when no node shortens ``i``."""
    nodes, conn_m, _plat = cand
    if len(nodes) == 0:
        return None
    conn_s = conn_m / speed
    new = {}
    for k in rows:
        v = int(b_col[k]) if int(a_col[k]) == u else int(a_col[k])
        hit = partner_cost.get((u, v))
        if hit is not None:
            s, pos = hit
            new[k] = np.where(pos >= 0, conn_s + s.cost[np.maximum(pos, 0)], np.inf)
    if i not in new:
        return None
    cur = {k: (walks[k].walk_s if np.isfinite(walks[k].walk_s) else _NO_WALK_S) for k in new}
    improves = new[i] < cur[i] - max(min_saving_s, 1e-9)
    if not improves.any():
        return None
    # a pair without a measured walk has no time to save (journeys through it walk on the
    # network's own footpath); only the failing pair itself may be such a pair
    w = {k: float(weights[k]) if cur[k] < _NO_WALK_S else 0.0 for k in new}
    if sum(w.values()) <= 0:  # no routed use: the pair itself decides
        w = {k: 1.0 if k == i else 0.0 for k in new}
    saving = np.zeros(len(nodes))
    for k, t in new.items():
        if w[k] > 0 and cur[k] < _NO_WALK_S:
            saving += w[k] * (cur[k] - np.minimum(t, cur[k]))
    saving = np.where(improves, saving, -np.inf)
    # ties: the larger saving for this pair, then the shorter connector, then the node index
    order = np.lexsort((nodes, np.round(conn_m, 6), np.round(new[i], 6), -np.round(saving, 6)))
    j = int(order[0])
    return j, new, cur, float(saving[j])
