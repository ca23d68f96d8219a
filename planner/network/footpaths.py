"""Linking a timetable to the street network: stop snaps, footpaths and change times.

* every stop is snapped to the walk network within ``Config.snap_max_m``; stops that cannot
  be snapped are reported (``planner_stop_not_snapped``) and linked by the straight-line
  approximation instead, never dropped;
* footpaths between stops: walking on the street network up to ``Config.footpath_max_s``,
  or, where a stop is not on the street network, the straight-line distance times
  ``Config.straight_line_detour`` at ``Config.walk_speed_mps``; with
  ``Config.local_rail_transfers`` also cross-town links between rail stations (the urban
  taxi/bus approximation), chained with the walks at either end (:func:`_chain_local`:
  a walk to a rail station, the cross-town leg, a walk from the other station, as one
  link, since RAPTOR relaxes one footpath per round); merged with transfers.txt (its ``min_transfer_time`` wins where
  given; ``transfer_type`` 3 removes a link; rules on one stop set that stop's change time);
* between stops that a feed's ``pathways.txt`` joins (platforms of one station), the walk
  along the pathways (:mod:`planner.network.pathways`: the summed traversal times) replaces
  the street and straight-line walks of that pair, which cannot see inside a station (two
  platforms snapped to one street node walk 0 m there); transfers.txt still wins over it;
* per-stop minimum change times (``Config.change_time_s`` unless transfers.txt says); a
  footpath between two stops takes at least that change time too (walking 20 m to the
  next platform does not make a change faster than staying at the same stop).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from planner.common.geodesy import arc_m
from planner.common.notices import Notices, Severity
from planner.common.progress import progress as bar
from planner.network.links import (
    LINK_LOCAL,
    LINK_PATHWAYS,
    LINK_STRAIGHT,
    LINK_STREET,
    LINK_TRANSFERS_TXT,
    Footpaths,
)
from planner.network.model import Network
from planner.network.pathways import pathway_graph
from planner.network.timetable import rail_stop_mask

if TYPE_CHECKING:
    from planner.config import Config
    from planner.network.streets import StreetNetwork
    from planner.network.timetable import Timetable

__all__ = ["link_network"]


def link_network(tt: Timetable, walk: StreetNetwork | None, config: Config, *, progress: bool,
                 feeds=None) -> Network:
    """The :class:`Network` of ``tt`` on ``walk``: stops snapped, footpaths and change times
    (module docstring); ``feeds`` (the loaded FeedSet) gives the pathways."""
    notices = Notices()
    S = tt.n_stops
    stop_node = np.full(S, -1, np.int32)
    stop_snap = np.full(S, np.nan)
    if walk is not None and S:
        stop_node, stop_snap = walk.snap_index(tt.stop_lon, tt.stop_lat, max_distance_m=config.snap_max_m, config=config)
        stop_node = stop_node.astype(np.int32)
        missing = np.flatnonzero(stop_node < 0)
        for s in missing[:50]:
            notices.add("planner_stop_not_snapped", Severity.WARNING,
                        f"stop '{tt.stop_names[s]}' is more than {config.snap_max_m:.0f} m from the walk network; "
                        "linked by the straight-line approximation", file="stops.txt", field="stop_id",
                        value=tt.stop_ids[s])
        if len(missing) > 50:
            notices.add("planner_stop_not_snapped", Severity.WARNING,
                        f"{len(missing) - 50:,} more stops are more than {config.snap_max_m:.0f} m from the walk "
                        "network (outside the OSM extract?); linked by the straight-line approximation",
                        count=len(missing) - 50)
    net = Network(tt, Footpaths.empty(S), np.zeros(0, np.int8), np.full(S, config.change_time_s, np.int32),
                  stop_node, stop_snap, config, walk=walk, notices=notices)
    src, dst, sec, met, how = _street_footpaths(net, progress)
    s2, d2, t2, m2 = _straight_footpaths(net)
    src = np.r_[src, s2]
    dst = np.r_[dst, d2]
    sec = np.r_[sec, t2]
    met = np.r_[met, m2]
    how = np.r_[how, np.full(len(s2), LINK_STRAIGHT, np.int8)]
    if config.local_rail_transfers:
        local = _local_rail_links(net)
        s3, d3, t3, m3 = (np.r_[a, b] for a, b in zip(local, _chain_local((src, dst, sec, met), local, S),
                                                       strict=True))
        src = np.r_[src, s3]
        dst = np.r_[dst, d3]
        sec = np.r_[sec, t3]
        met = np.r_[met, m3]
        how = np.r_[how, np.full(len(s3), LINK_LOCAL, np.int8)]
    if feeds is not None:
        src, dst, sec, met, how = _with_pathways(tt, feeds, config, src, dst, sec, met, how)
    # changing vehicles via a footpath takes at least the change time at one stop
    sec = np.maximum(sec, float(config.change_time_s))
    src, dst, sec, met, how = _merge_transfers(net, src, dst, sec, met, how)
    # shortest per pair, then CSR
    order = np.lexsort((sec, dst, src))
    src, dst, sec, met, how = src[order], dst[order], sec[order], met[order], how[order]
    keep = np.ones(len(src), bool)
    keep[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    keep &= src != dst
    src, dst, sec, met, how = src[keep], dst[keep], sec[keep], met[keep], how[keep]
    ptr = np.zeros(S + 1, np.int64)
    np.add.at(ptr, src + 1, 1)
    net.footpaths = Footpaths(np.cumsum(ptr).astype(np.int32), dst.astype(np.int32),
                              np.ceil(sec).astype(np.int32), met.astype(np.float64))
    net.footpath_method = how.astype(np.int8)
    return net


def _street_footpaths(net: Network, progress: bool):
    """Stop-to-stop walks on the street network within ``footpath_max_s``."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int8))
    walk = net.walk
    if walk is None:
        return empty
    cfg = net.config
    speed = cfg.walk_speed_mps
    snapped = np.flatnonzero(net.stop_node >= 0)
    if len(snapped) == 0:
        return empty
    ptr, node_stops = net.node_stops()
    uniq = np.unique(net.stop_node[snapped])

    def one(u):
        nodes, cost, metres, _ = walk.reach_index([int(u)], cutoff=cfg.footpath_max_s)
        counts = ptr[nodes + 1] - ptr[nodes]
        has = np.flatnonzero(counts > 0)
        return u, nodes[has], cost[has], metres[has]

    results = []
    with ThreadPoolExecutor(max_workers=max(1, cfg.threads or 2)) as ex:
        for r in bar(ex.map(one, uniq), total=len(uniq), enabled=progress, desc="footpaths", unit="stop"):
            results.append(r)
    src, dst, sec, met = [], [], [], []
    for u, nodes, cost, metres in results:
        from_stops = node_stops[ptr[u]:ptr[u + 1]]
        for v, c, m in zip(nodes, cost, metres, strict=True):
            to_stops = node_stops[ptr[v]:ptr[v + 1]]
            for a in from_stops:
                for b in to_stops:
                    if a == b:
                        continue
                    snap = float(net.stop_snap_m[a] + net.stop_snap_m[b])
                    t = c + snap / speed
                    if t <= cfg.footpath_max_s:
                        src.append(a)
                        dst.append(b)
                        sec.append(t)
                        met.append(m + snap)
    n = len(src)
    return (np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(sec, np.float64),
            np.asarray(met, np.float64), np.full(n, LINK_STREET, np.int8))


def _straight_footpaths(net: Network):
    """Straight-line footpaths for pairs where at least one stop is off the street network."""
    cfg = net.config
    off = net.stop_node < 0
    if not off.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    xy = net.stop_xyz()
    radius = cfg.footpath_max_s * cfg.walk_speed_mps / cfg.straight_line_detour
    pairs = net.stop_tree().query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    pairs = pairs[off[pairs[:, 0]] | off[pairs[:, 1]]]
    d = arc_m(xy[pairs[:, 0]], xy[pairs[:, 1]]) * cfg.straight_line_detour
    # the tree's radius is a chord; an arc is a hair longer: keep the promise of footpath_max_s
    ok = d / cfg.walk_speed_mps <= cfg.footpath_max_s
    pairs, d = pairs[ok], d[ok]
    src = np.r_[pairs[:, 0], pairs[:, 1]]
    dst = np.r_[pairs[:, 1], pairs[:, 0]]
    dd = np.r_[d, d]
    return src.astype(np.int64), dst.astype(np.int64), dd / cfg.walk_speed_mps, dd


def _local_rail_links(net: Network):
    """Cross-town links between rail stations (urban taxi/bus approximation), for intercity
    analyses (``Config.local_rail_transfers``)."""
    cfg = net.config
    tt = net.timetable
    rail = rail_stop_mask(tt)
    idx = np.flatnonzero(rail)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if len(idx) < 2:
        return empty
    xy = net.stop_xyz()[idx]
    speed = cfg.local_access_speed_kmh / 3.6
    radius = cfg.local_access_max_s * speed / cfg.straight_line_detour
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return empty
    d = arc_m(xy[pairs[:, 0]], xy[pairs[:, 1]]) * cfg.straight_line_detour
    ok = d / speed <= cfg.local_access_max_s  # the radius is a chord (see _straight_footpaths)
    pairs, d = pairs[ok], d[ok]
    a, b = idx[pairs[:, 0]], idx[pairs[:, 1]]
    return (np.r_[a, b].astype(np.int64), np.r_[b, a].astype(np.int64), np.r_[d, d] / speed, np.r_[d, d])


#: most expanded rows one step of :func:`_chain_local` holds at once (memory: ~40 bytes a row)
_CHAIN_BLOCK = 4_000_000


def _chain_local(walks, local, n_stops: int):
    """Walks chained with the local links: ``X -> A -> B``, ``A -> B -> Y`` and ``X -> A -> B -> Y``
    for every local link ``A -> B`` and footpaths ``X -> A``, ``B -> Y`` of ``walks``
    (street and straight-line, before the change-time floor, which the caller applies once
    to the whole chain). Seconds and metres are the sums of the legs; one link per pair,
    the shortest. Returns (src, dst, seconds, metres) without the local links themselves.

    Min-plus products done by sorting, reduced to one row per pair after each step, so the
    work is the number of (walk, local) and (walk-local, walk) combinations, in blocks.
    """
    if len(local[0]) == 0 or len(walks[0]) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    walks = tuple(np.asarray(a) for a in walks)
    local = tuple(np.asarray(a) for a in local)
    before = _join(walks, local, n_stops)                               # X -> A -> B
    head = _shortest(*(np.r_[a, b] for a, b in zip(local, before, strict=True)))  # (walk) local, per pair
    after = _join(head, walks, n_stops)                                 # (X ->) A -> B -> Y
    return _shortest(*(np.r_[a, b] for a, b in zip(before, after, strict=True)))


def _join(first, second, n_stops: int):
    """Every ``first`` link ``a -> b`` followed by every ``second`` link ``b -> c``: the
    shortest ``a -> c`` per pair (``a != c``), seconds and metres added."""
    fs, fd, ft, fm = first
    ss, sd, st, sm = second
    order = np.argsort(ss, kind="stable")
    count = np.bincount(ss, minlength=n_stops)
    start = np.r_[0, np.cumsum(count)[:-1]]
    n_next = count[fd]
    ends = np.cumsum(n_next)
    out = [tuple(np.zeros(0, a.dtype) for a in first)]
    lo = 0
    while lo < len(fs):
        base = ends[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(ends, base + _CHAIN_BLOCK, side="right")))
        n = n_next[lo:hi]
        i = np.repeat(np.arange(lo, hi), n)
        off = np.arange(len(i)) - np.repeat(np.cumsum(n) - n, n)
        j = order[start[fd[i]] + off]
        keep = fs[i] != sd[j]
        i, j = i[keep], j[keep]
        out.append(_shortest(fs[i], sd[j], ft[i] + st[j], fm[i] + sm[j]))
        lo = hi
    return _shortest(*(np.concatenate(parts) for parts in zip(*out, strict=True)))


def _with_pathways(tt, feeds, config, src, dst, sec, met, how):
    """Footpaths along pathways.txt between the timetable's stops of each feed, replacing the
    street and straight-line walks of the same pairs (module docstring)."""
    S = tt.n_stops
    ps, pd_, pt, pm = [], [], [], []
    for f in feeds:
        g = pathway_graph(f, config.walk_speed_mps)
        if g is None:
            continue
        prefix = f"{f.feed_id}:"
        ids = [str(x) for x in tt.stop_ids]
        mine = [i for i, sid in enumerate(ids) if sid.startswith(prefix)]
        for a, b, t, m in g.between([ids[i][len(prefix):] for i in mine]):
            ps.append(mine[a])
            pd_.append(mine[b])
            pt.append(t)
            pm.append(m)
    if not ps:
        return src, dst, sec, met, how
    joined = np.isin(src * S + dst, np.asarray(ps, np.int64) * S + np.asarray(pd_, np.int64))
    drop = joined & np.isin(how, (LINK_STREET, LINK_STRAIGHT))
    keep = ~drop
    n = len(ps)
    return (np.r_[src[keep], np.asarray(ps, np.int64)], np.r_[dst[keep], np.asarray(pd_, np.int64)],
            np.r_[sec[keep], np.asarray(pt)], np.r_[met[keep], np.asarray(pm)],
            np.r_[how[keep], np.full(n, LINK_PATHWAYS, np.int8)])


def _shortest(src, dst, sec, met):
    """One row per (src, dst) pair: the shortest (the first of equals, in input order)."""
    order = np.lexsort((sec, dst, src))
    src, dst, sec, met = src[order], dst[order], sec[order], met[order]
    keep = np.ones(len(src), bool)
    keep[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return src[keep], dst[keep], sec[keep], met[keep]


def _merge_transfers(net: Network, src, dst, sec, met, how):
    """transfers.txt: min_transfer_time wins; type 3 removes a link; same-stop rules set
    the stop's change time (type 1, timed transfer: 0 s; type 3: no change possible)."""
    tt = net.timetable
    if len(tt.transfer_from) == 0:
        return src, dst, sec, met, how
    pair_sec = {}
    for a, b, m, ty in zip(tt.transfer_from, tt.transfer_to, tt.transfer_min_s, tt.transfer_type, strict=True):
        a, b, m, ty = int(a), int(b), int(m), int(ty)
        if a == b:
            net.change_s[a] = {0: net.change_s[a], 1: 0, 2: m, 3: 2_000_000_000 // 4}[ty]
            continue
        pair_sec[(a, b)] = (m, ty)
    if not pair_sec:
        return src, dst, sec, met, how
    keys = np.array(list(pair_sec), dtype=np.int64).reshape(-1, 2)
    code = src * net.n_stops + dst
    rule_code = keys[:, 0] * net.n_stops + keys[:, 1]
    has_rule = np.isin(code, rule_code)
    keep = ~has_rule
    new_src, new_dst, new_sec, new_met = [], [], [], []
    # the pair's walk (street or straight line) where there is one, else its shortest link
    # (a cross-town one); not whichever came last, now that several links of a pair can meet
    r = np.flatnonzero(has_rule)
    r = r[np.lexsort((sec[r], ~np.isin(how[r], (LINK_STREET, LINK_STRAIGHT))))[::-1]]
    walk_lookup = {(int(a), int(b)): (float(s), float(m)) for a, b, s, m in
                   zip(src[r], dst[r], sec[r], met[r], strict=True)}
    for (a, b), (m, ty) in pair_sec.items():
        if ty == 3:
            continue
        walked = walk_lookup.get((a, b))
        if ty == 2:
            new_src.append(a)
            new_dst.append(b)
            new_sec.append(float(m))
            new_met.append(walked[1] if walked else np.nan)
        else:  # 0/1: recommended or timed: keep the walk (or add one at walking speed)
            if walked is None:
                xy = net.stop_xyz()
                d = float(arc_m(xy[a], xy[b])) * net.config.straight_line_detour
                walked = (d / net.config.walk_speed_mps, d)
            new_src.append(a)
            new_dst.append(b)
            new_sec.append(walked[0] if ty == 0 else 0.0)
            new_met.append(walked[1])
    n = len(new_src)
    return (np.r_[src[keep], np.asarray(new_src, np.int64)], np.r_[dst[keep], np.asarray(new_dst, np.int64)],
            np.r_[sec[keep], np.asarray(new_sec)], np.r_[met[keep], np.asarray(new_met)],
            np.r_[how[keep], np.full(n, LINK_TRANSFERS_TXT, np.int8)])
