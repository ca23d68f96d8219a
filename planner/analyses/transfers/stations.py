"""Stations of the transfer analysis, their access points and the candidate pairs.

A *station* here is a set of boarding stops of one feed and one mode:

* stops that share a GTFS parent station (``location_type`` 1) form one station per mode
  (a parent holding a tram stop and a bus stop becomes two stations, a candidate pair);
* stops without a parent station that have the same normalised name
  (:func:`planner.ingest.gtfs.consolidation.normalise_name`), the same feed and the same mode and
  lie within ``name_group_m`` of each other (the two sides of a street) form one station.

A stop's mode is the highest-ranked mode of the patterns serving it (:data:`MODE_RANK`),
stops without service in the timetable are left out.

*Access points* are where a traveller enters or leaves a station from the street, in this
order of preference (the first kind found is used, the others are not):

1. GTFS entrances (``location_type`` 2) of the parent station; the walk inside, from the
   entrance to the nearest platform of the station, follows ``pathways.txt`` where the
   feed has it (``traversal_time``, else ``length`` at walking speed, else the straight
   line between the pathway's ends), else the straight line at walking speed;
2. OSM ``railway=subway_entrance`` nodes within ``assign_m`` of a metro or rail station
   (a name that contains the station's name wins; else the nearest metro station, then the
   nearest rail station); inside walk: the straight line to the nearest platform;
3. OSM station nodes (within 500 m), stop positions and tram stops (within 150 m of a
   platform) whose name (``name``, ``name:en`` or ``name:zh``) normalises to the station's
   name, of a matching mode (``station=subway`` for metro, other stations for rail,
   ``tram_stop`` for trams); no walk is counted between such a point and the platform;
4. the station's own stops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from planner.ingest.gtfs.consolidation import local_xy, normalise_name
from planner.ingest.gtfs.modes import MODES

__all__ = ["MODE_RANK", "AccessPoints", "Stations", "build_access", "build_stations", "candidate_pairs", "feed_stops"]

#: preference when a stop serves several modes (lower = preferred)
MODE_RANK = {m: i for i, m in enumerate((
    "high_speed_rail", "intercity_rail", "rail", "metro", "monorail", "tram", "cable_tram", "funicular",
    "aerial_lift", "ferry", "coach", "trolleybus", "bus", "other"))}
RAIL_LIKE = {"high_speed_rail", "intercity_rail", "rail", "metro", "monorail"}
_OSM_STOP_MATCH_M = 500.0      # station / halt nodes (a station is big)
_OSM_POSITION_MATCH_M = 150.0  # stop positions and tram stops, from the nearest platform


@dataclass
class Stations:
    """Station units (see the module docstring); arrays are per unit unless stated."""

    ids: np.ndarray            # object
    names: np.ndarray          # object
    modes: np.ndarray          # object, mode names
    operators: np.ndarray      # object, operator names joined with "; "
    op_sets: list[frozenset[int]]
    feeds: np.ndarray          # object
    base: np.ndarray           # object, parent station id or first stop id of a name group
    norm: np.ndarray           # object, normalised names
    lon: np.ndarray
    lat: np.ndarray
    stop_ptr: np.ndarray       # int64, CSR into stop_list
    stop_list: np.ndarray      # int32 timetable stop indices
    stop_unit: np.ndarray      # int32 per timetable stop, -1 when in no unit
    in_area: np.ndarray        # bool

    @property
    def n(self) -> int:
        return len(self.ids)

    def stops(self, u: int) -> np.ndarray:
        """Timetable stop indices of unit ``u``."""
        return self.stop_list[self.stop_ptr[u]:self.stop_ptr[u + 1]]


@dataclass
class AccessPoints:
    """Access points, grouped by unit (CSR ``ptr``); see the module docstring."""

    ptr: np.ndarray            # int64 (units + 1)
    lon: np.ndarray
    lat: np.ndarray
    kind: np.ndarray           # object: gtfs_entrance | osm_entrance | osm_stop | stop
    ref: np.ndarray            # object: GTFS stop id or "osm:<type>/<id>"
    inside_s: np.ndarray       # walk between the point and the nearest platform
    inside_m: np.ndarray
    stop: np.ndarray           # int32 timetable stop reached inside (for drawing)

    def of(self, u: int) -> range:
        return range(int(self.ptr[u]), int(self.ptr[u + 1]))


class _UnionFind:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _stop_modes(tt) -> tuple[np.ndarray, list[set[int]]]:
    """Best mode name per stop ("" when unserved) and the operator indices serving it."""
    S = tt.n_stops
    rank = np.full(S, 99, np.int64)
    counts = np.diff(tt.pattern_stops_ptr)
    pat_of = np.repeat(np.arange(tt.n_patterns), counts)
    stops = tt.pattern_stops.astype(np.int64)
    mode_rank = np.array([MODE_RANK.get(MODES[int(m)], 99) for m in tt.pattern_mode], np.int64)
    np.minimum.at(rank, stops, mode_rank[pat_of] if len(pat_of) else np.zeros(0, np.int64))
    by_rank = {v: k for k, v in MODE_RANK.items()}
    modes = np.array([by_rank.get(int(r), "") for r in rank], dtype=object)
    ops: list[set[int]] = [set() for _ in range(S)]
    if len(stops):
        pairs = np.unique(np.column_stack([stops, tt.pattern_operator[pat_of].astype(np.int64)]), axis=0)
        for s, o in pairs:
            ops[int(s)].add(int(o))
    return modes, ops


def feed_stops(net) -> pd.DataFrame:
    """Every feed's stops.txt, ids namespaced, indexed by the namespaced stop id."""
    fs = net.load_feeds()
    st = fs.namespaced("stops")
    st = st.drop_duplicates("stop_id")
    st.index = pd.Index(st["stop_id"].to_numpy(dtype=object))
    st["location_type"] = st["location_type"].fillna(0).astype(np.int64)
    return st


def build_stations(net, feed_stops: pd.DataFrame, *, name_group_m: float = 250.0,
                   bbox: tuple[float, float, float, float] | None = None) -> Stations:
    """Group the timetable's served stops into station units (see the module docstring).

    ``bbox`` (west, south, east, north) limits the analysis area; by default it is the
    walk network's extent (every station when there is no walk network).
    """
    tt = net.timetable
    modes, ops = _stop_modes(tt)
    served = np.flatnonzero(modes != "")
    names = tt.stop_names.astype(object)
    norm_stop = np.array([normalise_name(str(n)) for n in names], dtype=object)
    feed_of = np.asarray(tt.feed_ids, dtype=object)[tt.stop_feed]
    parent = tt.stop_parent.astype(object)
    base = np.array(tt.stop_ids, dtype=object).copy()
    # name groups of stops without a parent station
    lone = served[parent[served] == ""]
    if len(lone) > 1:
        xy = local_xy(tt.stop_lat[lone], tt.stop_lon[lone])
        uf = _UnionFind(len(lone))
        for i, j in cKDTree(xy).query_pairs(name_group_m, output_type="ndarray"):
            a, b = lone[i], lone[j]
            if norm_stop[a] and norm_stop[a] == norm_stop[b] and feed_of[a] == feed_of[b] and modes[a] == modes[b]:
                uf.union(int(i), int(j))
        roots = np.array([uf.find(i) for i in range(len(lone))])
        first: dict[int, str] = {}
        for i in np.argsort(tt.stop_ids[lone].astype(str), kind="stable"):
            first.setdefault(int(roots[i]), str(tt.stop_ids[lone[i]]))
        for i, s in enumerate(lone):
            base[s] = first[int(roots[i])]
    has_parent = served[parent[served] != ""]
    base[has_parent] = parent[has_parent]
    keys = sorted({(str(base[s]), str(modes[s])) for s in served})
    key_index = {k: i for i, k in enumerate(keys)}
    modes_per_base: dict[str, int] = {}
    for b, _m in keys:
        modes_per_base[b] = modes_per_base.get(b, 0) + 1
    stop_unit = np.full(tt.n_stops, -1, np.int32)
    for s in served:
        stop_unit[s] = key_index[(str(base[s]), str(modes[s]))]
    U = len(keys)
    order = np.argsort(stop_unit[served], kind="stable")
    stop_list = served[order].astype(np.int32)
    ptr = np.zeros(U + 1, np.int64)
    np.add.at(ptr, stop_unit[served].astype(np.int64) + 1, 1)
    ptr = np.cumsum(ptr)
    ids, unames, umodes, uops, opsets, ufeeds, ubase, unorm = [], [], [], [], [], [], [], []
    lon = np.zeros(U)
    lat = np.zeros(U)
    for u, (b, m) in enumerate(keys):
        members = stop_list[ptr[u]:ptr[u + 1]]
        ids.append(b if modes_per_base[b] == 1 else f"{b}/{m}")
        row = feed_stops.loc[b] if b in feed_stops.index and b not in tt.stop_ids[members] else None
        if row is not None and np.isfinite(row["stop_lat"]) and np.isfinite(row["stop_lon"]):
            name = str(row["stop_name"]) or str(names[members[0]])
            lon[u], lat[u] = float(row["stop_lon"]), float(row["stop_lat"])
        else:
            name = str(names[members[0]])
            lon[u] = float(np.mean(tt.stop_lon[members]))
            lat[u] = float(np.mean(tt.stop_lat[members]))
        unames.append(name)
        umodes.append(m)
        o = set().union(*(ops[int(s)] for s in members))
        opsets.append(frozenset(o))
        uops.append("; ".join(sorted(str(tt.operator_names[i]) for i in o)))
        ufeeds.append(str(feed_of[members[0]]))
        ubase.append(b)
        unorm.append(normalise_name(name))
    if bbox is None and net.walk is not None:
        w = net.walk
        bbox = (float(w.lon.min()), float(w.lat.min()), float(w.lon.max()), float(w.lat.max()))
    in_area = np.ones(U, bool)
    if bbox is not None:
        west, south, east, north = bbox
        for u in range(U):
            m = stop_list[ptr[u]:ptr[u + 1]]
            in_area[u] = bool(np.all((tt.stop_lon[m] >= west) & (tt.stop_lon[m] <= east)
                                     & (tt.stop_lat[m] >= south) & (tt.stop_lat[m] <= north)))
    obj = lambda v: np.array(v, dtype=object)  # noqa: E731
    return Stations(obj(ids), obj(unames), obj(umodes), obj(uops), opsets, obj(ufeeds), obj(ubase), obj(unorm),
                    lon, lat, ptr, stop_list, stop_unit, in_area)


# ---------------------------------------------------------------------- access points

def _dist_m(pa: tuple[float, float], pb: tuple[float, float]) -> float:
    """Metres between two (lon, lat) points (local equirectangular)."""
    xy = local_xy(np.array([pa[1], pb[1]]), np.array([pa[0], pb[0]]))
    return float(np.hypot(*(xy[0] - xy[1])))


def _pathway_inside(feed, entrances: list[str], targets: dict[str, list[str]], speed: float,
                    coords: dict[str, tuple[float, float]]) -> dict[tuple[str, str], tuple[float, float, str]]:
    """{(entrance, unit key): (seconds, metres, platform id)} over ``pathways.txt``."""
    pw = feed.tables.get("pathways")
    if pw is None or pw.empty:
        return {}
    nodes = sorted(set(pw["from_stop_id"]) | set(pw["to_stop_id"]) | set(entrances))
    idx = {s: i for i, s in enumerate(nodes)}
    best: dict[tuple[int, int], tuple[float, float]] = {}   # (from, to) -> fastest (seconds, metres)
    for r in pw.itertuples(index=False):
        a, b = str(r.from_stop_id), str(r.to_stop_id)
        length = float(r.length) if pd.notna(r.length) else np.nan
        if pd.notna(r.traversal_time):
            t = float(r.traversal_time)
        elif np.isfinite(length):
            t = length / speed
        else:
            pa, pb = coords.get(a), coords.get(b)
            length = _dist_m(pa, pb) if pa is not None and pb is not None else 0.0
            t = length / speed
        if not np.isfinite(length):
            length = t * speed
        pairs = [(a, b)] + ([(b, a)] if int(r.is_bidirectional) == 1 else [])
        for x, y in pairs:
            key = (idx[x], idx[y])
            if key not in best or t < best[key][0]:  # stairs and an escalator: the faster one
                best[key] = (t, length)
    n = len(nodes)
    keys = sorted(best)
    g = csr_matrix(([max(best[k][0], 1e-6) for k in keys],  # csgraph drops explicit zeros
                    ([k[0] for k in keys], [k[1] for k in keys])), shape=(n, n))
    length_of = {k: best[k][1] for k in keys}
    starts = [idx[e] for e in entrances if e in idx]
    if not starts:
        return {}
    dist, pred = dijkstra(g, directed=True, indices=starts, return_predecessors=True)
    out = {}
    for k, e in enumerate(e for e in entrances if e in idx):
        for key, plats in targets.items():
            best = None
            for pl in plats:
                j = idx.get(pl)
                if j is None or not np.isfinite(dist[k, j]):
                    continue
                if best is None or dist[k, j] < best[0]:
                    metres, v = 0.0, j
                    while pred[k, v] >= 0:
                        metres += length_of[(int(pred[k, v]), int(v))]
                        v = int(pred[k, v])
                    best = (float(dist[k, j]), metres, pl)
            if best is not None:
                out[(e, key)] = best
    return out


def build_access(net, st: Stations, feed_stops: pd.DataFrame, osm_stations: pd.DataFrame | None, *,
                 assign_m: float = 300.0) -> AccessPoints:
    """Access points of every unit (see the module docstring for the order of preference)."""
    tt = net.timetable
    cfg = net.config
    speed = cfg.walk_speed_mps
    lat0 = float(np.mean(st.lat)) if st.n else 0.0
    rows: list[list[tuple]] = [[] for _ in range(st.n)]

    def nearest_stop(u: int, lon: float, lat: float) -> tuple[int, float]:
        m = st.stops(u)
        d = np.hypot(*(local_xy(tt.stop_lat[m], tt.stop_lon[m], lat0)
                       - local_xy(np.array([lat]), np.array([lon]), lat0)[0]).T)
        k = int(np.argmin(d))
        return int(m[k]), float(d[k])

    # 1. GTFS entrances (+ pathways)
    ent = feed_stops[(feed_stops["location_type"] == 2) & (feed_stops["parent_station"] != "")]
    units_of_base: dict[str, list[int]] = {}
    for u in range(st.n):
        units_of_base.setdefault(str(st.base[u]), []).append(u)
    if len(ent):
        fs = net.load_feeds()
        for fid, grp in ent.groupby("feed_id", sort=True):
            feed = fs[fid]
            prefix = f"{fid}:"
            coords = {str(r.stop_id)[len(prefix):]: (float(r.stop_lon), float(r.stop_lat))
                      for r in feed_stops[feed_stops["feed_id"] == fid].itertuples(index=False)
                      if np.isfinite(r.stop_lon) and np.isfinite(r.stop_lat)}
            targets = {}
            for par in grp["parent_station"].unique():
                for u in units_of_base.get(str(par), []):
                    targets[u] = [str(tt.stop_ids[s])[len(prefix):] for s in st.stops(u)]
            inside = _pathway_inside(feed, [str(e)[len(prefix):] for e in grp["stop_id"]], targets, speed, coords)
            for r in grp.sort_values("stop_id").itertuples(index=False):
                if not (np.isfinite(r.stop_lon) and np.isfinite(r.stop_lat)):
                    continue
                for u in units_of_base.get(str(r.parent_station), []):
                    hit = inside.get((str(r.stop_id)[len(prefix):], u))
                    if hit is not None:
                        s = int(np.flatnonzero(tt.stop_ids == prefix + hit[2])[0])
                        rows[u].append((r.stop_lon, r.stop_lat, "gtfs_entrance", str(r.stop_id), hit[0], hit[1], s))
                    else:
                        s, d = nearest_stop(u, r.stop_lon, r.stop_lat)
                        rows[u].append((r.stop_lon, r.stop_lat, "gtfs_entrance", str(r.stop_id), d / speed, d, s))
    # 2./3. OSM entrances and stop nodes
    if osm_stations is not None and len(osm_stations):
        _osm_access(st, tt, osm_stations, rows, assign_m, lat0, speed, nearest_stop)
    # 4. the stops themselves
    for u in range(st.n):
        if not rows[u]:
            for s in st.stops(u):
                rows[u].append((tt.stop_lon[s], tt.stop_lat[s], "stop", str(tt.stop_ids[s]), 0.0, 0.0, int(s)))
    ptr = np.zeros(st.n + 1, np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    flat = [x for r in rows for x in r]
    cols = list(zip(*flat, strict=True)) if flat else [()] * 7
    return AccessPoints(ptr, np.asarray(cols[0], np.float64), np.asarray(cols[1], np.float64),
                        np.asarray(cols[2], dtype=object), np.asarray(cols[3], dtype=object),
                        np.asarray(cols[4], np.float64), np.asarray(cols[5], np.float64),
                        np.asarray(cols[6], np.int32))


def _osm_names(row) -> set[str]:
    out = set()
    for c in ("name", "name_en", "name_zh"):
        v = row.get(c)
        if isinstance(v, str) and v.strip():
            out.add(normalise_name(v))
    out.discard("")
    return out


def _osm_access(st: Stations, tt, osm: pd.DataFrame, rows, assign_m, lat0, speed, nearest_stop) -> None:
    """Assign OSM subway entrances (2.) and name-matched stop nodes (3.) to units."""
    has_gtfs = np.array([bool(r) for r in rows])
    uxy = local_xy(st.lat, st.lon, lat0)
    tree = cKDTree(uxy) if st.n else None
    osm = osm.sort_values(["osm_type", "osm_id"], kind="stable")
    entrances = osm[osm["kind"] == "subway_entrance"]
    got_entrance = np.zeros(st.n, bool)
    for r in entrances.to_dict("records"):
        if tree is None:
            break
        p = local_xy(np.array([r["lat"]]), np.array([r["lon"]]), lat0)[0]
        near = [u for u in tree.query_ball_point(p, assign_m) if st.in_area[u] and st.modes[u] in RAIL_LIKE
                and not has_gtfs[u]]
        if not near:
            continue
        d = {u: nearest_stop(u, r["lon"], r["lat"])[1] for u in near}
        near = [u for u in near if d[u] <= assign_m]
        if not near:
            continue
        names = _osm_names(r)
        named = [u for u in near if st.norm[u] and any(st.norm[u] in n for n in names)]
        metro = [u for u in near if st.modes[u] in {"metro", "monorail"}]
        pool = named or metro or near
        u = min(pool, key=lambda v: (d[v], str(st.ids[v])))
        s, dist = nearest_stop(u, r["lon"], r["lat"])
        rows[u].append((r["lon"], r["lat"], "osm_entrance", f"osm:{r['osm_type']}/{r['osm_id']}", dist / speed,
                        dist, s))
        got_entrance[u] = True
    stops = osm[osm["kind"].isin(["station", "halt", "stop_position", "tram_stop"])]
    for r in stops.to_dict("records"):
        names = _osm_names(r)
        if not names or tree is None:
            continue
        p = local_xy(np.array([r["lat"]]), np.array([r["lon"]]), lat0)[0]
        for u in tree.query_ball_point(p, _OSM_STOP_MATCH_M):
            if has_gtfs[u] or got_entrance[u] or not st.in_area[u] or st.norm[u] not in names:
                continue
            if st.modes[u] not in _osm_modes(r["kind"], r.get("station")):
                continue
            s, d = nearest_stop(u, r["lon"], r["lat"])
            if d <= (_OSM_STOP_MATCH_M if r["kind"] in {"station", "halt"} else _OSM_POSITION_MATCH_M):
                rows[u].append((r["lon"], r["lat"], "osm_stop", f"osm:{r['osm_type']}/{r['osm_id']}", 0.0, 0.0, s))


def _osm_modes(kind: str, station) -> set[str]:
    """Modes of the GTFS stations an OSM stop feature may stand for."""
    if kind == "tram_stop":
        return {"tram"}
    if kind == "stop_position":
        return RAIL_LIKE | {"tram"}
    if station in ("subway", "monorail"):
        return {"metro", "monorail"}
    if station == "light_rail":
        return {"metro", "monorail", "tram"}
    return {"rail", "high_speed_rail", "intercity_rail"}


# ---------------------------------------------------------------------- pairs

_REASONS = ("radius", "parent", "name", "transfers_txt")


def _differ(st: Stations, a: int, b: int) -> bool:
    return st.modes[a] != st.modes[b] or st.feeds[a] != st.feeds[b] or not (st.op_sets[a] & st.op_sets[b])


def candidate_pairs(st: Stations, tt, *, radius_m: float, name_max_m: float = 5000.0) -> pd.DataFrame:
    """Candidate pairs ``a < b`` (unit indices) with ``found_by`` (``;``-joined reasons).

    * ``radius``: different mode, operator or feed, within ``radius_m`` (straight line
      between the stations' points);
    * ``parent``: two units of one parent station (different modes);
    * ``name``: same normalised name, different mode, operator or feed, within
      ``name_max_m``;
    * ``transfers_txt``: a transfers.txt rule between stops of two different units.

    Only units inside the analysis area take part.
    """
    found: dict[tuple[int, int], set[str]] = {}

    def add(a: int, b: int, why: str) -> None:
        if a == b or not (st.in_area[a] and st.in_area[b]):
            return
        found.setdefault((min(a, b), max(a, b)), set()).add(why)

    if st.n > 1:
        xy = local_xy(st.lat, st.lon)
        tree = cKDTree(xy)
        for a, b in tree.query_pairs(radius_m, output_type="ndarray"):
            if _differ(st, int(a), int(b)):
                add(int(a), int(b), "radius")
        groups: dict[str, list[int]] = {}
        for u in range(st.n):
            groups.setdefault(str(st.base[u]), []).append(u)
            if st.norm[u]:
                groups.setdefault("name:" + str(st.norm[u]), []).append(u)
        for key, members in groups.items():
            if len(members) < 2:
                continue
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    if not key.startswith("name:"):
                        add(a, b, "parent")
                    elif _differ(st, a, b) and np.hypot(*(xy[a] - xy[b])) <= name_max_m:
                        add(a, b, "name")
    for s_from, s_to in zip(tt.transfer_from, tt.transfer_to, strict=True):
        a, b = int(st.stop_unit[s_from]), int(st.stop_unit[s_to])
        if a >= 0 and b >= 0:
            add(a, b, "transfers_txt")
    keys = sorted(found)
    return pd.DataFrame({"a": np.array([k[0] for k in keys], np.int32), "b": np.array([k[1] for k in keys], np.int32),
                         "found_by": [";".join(r for r in _REASONS if r in found[k]) for k in keys]})
