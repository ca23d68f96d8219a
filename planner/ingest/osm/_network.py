"""From raw OSM ways to the directed edges of a walk or drive network.

One edge per pair of consecutive way nodes (no topology simplification), in both
directions for walking and as the oneway rules say for driving. Edge length is the
great-circle (haversine) distance in metres on a sphere of radius 6,371,009 m, the same
as osmnx, so lengths can be compared edge by edge.

Clipped extracts: a way whose nodes are partly missing from the file is split at each
missing node; the pieces that still have two consecutive known nodes are kept, and the
count of cut ways and missing references is reported (``osm_missing_node_refs``).
Consecutive duplicate references are collapsed (osmnx does the same).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from planner.common.geodesy import OSMNX_EARTH_RADIUS_M, haversine_m
from planner.common.notices import Notices, Severity
from planner.ingest.osm._filters import (
    DEFAULT_SPEED_KMH,
    FALLBACK_SPEED_KMH,
    drive_direction,
    drive_way,
    parse_maxspeed,
    walk_way,
)
from planner.ingest.osm._raw import RawOSM

__all__ = ["MODES", "EdgeList", "street_edges"]

MODES = ("walk", "drive")
#: at most this many sample ids are echoed in a notice
_SAMPLES = 10


@dataclass
class EdgeList:
    """Directed edges by OSM node id, before node numbering and component filtering."""

    u: np.ndarray  # int64 OSM node id of the tail
    v: np.ndarray  # int64 OSM node id of the head
    u_lon: np.ndarray
    u_lat: np.ndarray
    v_lon: np.ndarray
    v_lat: np.ndarray
    length_m: np.ndarray
    time_s: np.ndarray
    way_id: np.ndarray
    highway: np.ndarray  # int16 index into ``classes``
    classes: tuple[str, ...]
    ways_used: int
    ways_cut: int
    missing_refs: int

    def __len__(self) -> int:
        return len(self.u)


def _speed_notices(notices: Notices, bad: Counter, code: str, what: str, source: str) -> None:
    for value, n in sorted(bad.items(), key=lambda kv: (-kv[1], kv[0])):
        notices.add(code, Severity.WARNING,
                    f"{n} way(s) have a {what} maxspeed; the default speed of their road class is used",
                    file=source, field="maxspeed", value=value, action="fixed", count=n)


def street_edges(raw: RawOSM, mode: str, *, walk_speed_mps: float, notices: Notices) -> EdgeList:
    """Directed edges of the ``mode`` network (``walk`` or ``drive``) in ``raw``."""
    if mode not in MODES:
        msg = f"unknown mode {mode!r}; expected one of {', '.join(MODES)}"
        raise ValueError(msg)
    n_ways = raw.n_ways
    fwd = np.zeros(n_ways, dtype=bool)
    bwd = np.zeros(n_ways, dtype=bool)
    speed_f = np.zeros(n_ways, dtype=np.float64)  # km/h (drive)
    speed_b = np.zeros(n_ways, dtype=np.float64)
    classes: dict[str, int] = {}
    highway = np.zeros(n_ways, dtype=np.int16)
    unparsed: Counter = Counter()
    implausible: Counter = Counter()
    unknown_oneway: Counter = Counter()
    reversible = 0
    for i, tags in enumerate(raw.way_tags):
        hw = tags.get("highway")
        if hw is None:
            continue
        if mode == "walk":
            if not walk_way(tags):
                continue
            fwd[i] = bwd[i] = True
        else:
            if not drive_way(tags):
                continue
            f, b, problem = drive_direction(tags)
            if problem == "unknown_oneway":
                unknown_oneway[tags.get("oneway", "")] += 1
            elif problem == "reversible_oneway":
                reversible += 1
                continue
            fwd[i], bwd[i] = f, b
            default = DEFAULT_SPEED_KMH.get(hw, FALLBACK_SPEED_KMH)
            base, status = parse_maxspeed(tags.get("maxspeed"))
            if status == "unparsed":
                unparsed[tags["maxspeed"]] += 1
            elif status == "implausible":
                implausible[tags["maxspeed"]] += 1
            base = default if base is None else base
            for key, out in (("maxspeed:forward", speed_f), ("maxspeed:backward", speed_b)):
                kmh, status = parse_maxspeed(tags.get(key))
                if status == "unparsed":
                    unparsed[tags[key]] += 1
                elif status == "implausible":
                    implausible[tags[key]] += 1
                out[i] = base if kmh is None else kmh
        highway[i] = classes.setdefault(hw, len(classes))
    if unparsed:
        _speed_notices(notices, unparsed, "osm_unparsed_maxspeed", "unreadable", raw.source)
    if implausible:
        _speed_notices(notices, implausible, "osm_implausible_maxspeed", "implausible", raw.source)
    for value, n in sorted(unknown_oneway.items(), key=lambda kv: (-kv[1], kv[0])):
        notices.add("osm_unknown_oneway", Severity.WARNING,
                    f"{n} way(s) have an unknown oneway value; they are treated as two-way",
                    file=raw.source, field="oneway", value=value, action="fixed", count=n)
    if reversible:
        notices.add("osm_reversible_oneway", Severity.INFO,
                    f"{reversible} way(s) change direction by time of day (oneway=reversible|alternating); "
                    "they are left out of the drive network", file=raw.source, field="oneway",
                    action="dropped", count=reversible)

    used = fwd | bwd
    sizes = np.diff(raw.way_ptr)
    way_of_ref = np.repeat(np.arange(n_ways), sizes)
    # a pair (k, k + 1) is an edge candidate when both references belong to the same used way
    k = np.arange(raw.refs.size - 1)
    same_way = way_of_ref[:-1] == way_of_ref[1:] if raw.refs.size > 1 else np.zeros(0, dtype=bool)
    cand = k[same_way & used[way_of_ref[:-1]]] if raw.refs.size > 1 else k
    known = np.isfinite(raw.lon)
    ok = known[cand] & known[cand + 1] & (raw.refs[cand] != raw.refs[cand + 1])

    # clipped ways: count ways of this mode with missing references and the missing ids
    ref_used = used[way_of_ref] if raw.refs.size else np.zeros(0, dtype=bool)
    missing = ref_used & ~known
    cut_ways = np.unique(way_of_ref[missing])
    missing_ids = np.unique(raw.refs[missing])
    if cut_ways.size:
        sample = ", ".join(str(int(w)) for w in raw.way_id[cut_ways[:_SAMPLES]])
        notices.add("osm_missing_node_refs", Severity.WARNING,
                    f"{cut_ways.size} {mode} way(s) reference {missing_ids.size} node(s) missing from the "
                    "input (a clipped extract); they are split at the missing nodes and the rest is kept",
                    file=raw.source, field="way", value=sample, action="fixed", count=int(cut_ways.size))

    a = cand[ok]
    b = a + 1
    w = way_of_ref[a]
    rlat, rlon = np.radians(raw.lat), np.radians(raw.lon)
    length = haversine_m(rlat[a], rlon[a], rlat[b], rlon[b], radius=OSMNX_EARTH_RADIUS_M, radians=True)
    pieces_u = []
    pieces_v = []
    pieces_w = []
    pieces_len = []
    pieces_speed = []
    for sel, tail, head, speed in ((fwd[w], a, b, speed_f), (bwd[w], b, a, speed_b)):
        pieces_u.append(tail[sel])
        pieces_v.append(head[sel])
        pieces_w.append(w[sel])
        pieces_len.append(length[sel])
        pieces_speed.append(speed[w[sel]])
    tail = np.concatenate(pieces_u)
    head = np.concatenate(pieces_v)
    wi = np.concatenate(pieces_w)
    length_m = np.concatenate(pieces_len)
    if mode == "walk":
        time_s = length_m / float(walk_speed_mps)
    else:
        time_s = length_m / (np.concatenate(pieces_speed) / 3.6)
    return EdgeList(
        u=raw.refs[tail], v=raw.refs[head],
        u_lon=raw.lon[tail], u_lat=raw.lat[tail], v_lon=raw.lon[head], v_lat=raw.lat[head],
        length_m=length_m, time_s=time_s, way_id=raw.way_id[wi], highway=highway[wi],
        classes=tuple(classes), ways_used=int(used.sum()), ways_cut=int(cut_ways.size),
        missing_refs=int(missing_ids.size),
    )
