"""The intercity rail net of an agglomeration (``plan net``): how well rail ties its cities.

Cities are the nodes. A rail station joins a city when it lies within ``cluster_km`` of the
city point; the city is the station's ``city`` attribute where the feed has one, else the
nearest city point (:func:`group_stations`). Other stations remain places to change trains.

City-to-city times come from range-RAPTOR (:func:`planner.routing.raptor.range_earliest_arrival`) on
the rail trips (modes :data:`RAIL_MODES`) of one service date, from all stations of the origin
city at once, for each departure from one of them in ``[depart_s, depart_s + window)``. The
timetable covers the window plus ``Config.net_horizon_h`` hours with the previous day's
overnight trains and the next day's trips: no other cap on travel time. Changing trains takes
``Config.change_time_s`` at a station; between stations the straight-line walk (x
``straight_line_detour`` at ``walk_speed_mps``, up to ``footpath_max_s``) or, between stations
of one city beyond walking range, the urban taxi/bus approximation of ``plan evaluate`` (at
``local_access_speed_kmh``, up to ``local_access_max_s``), at least the change time;
transfers.txt and a scenario's ``add_transfer`` take precedence.

Per ordered city pair (:attr:`RailNet.pairs`): a *connection* is a departure in the window
after which no later departure (up to the horizon) arrives as early; ``journeys`` counts them;
``fastest_min`` and ``median_min`` (nearest-rank, as :mod:`planner.routing.traveltime`) are over their
times from departure to arrival; ``transfers_fastest`` (fewest among equally fast),
``min_transfers`` (fewest of any journey; 0 = a direct train) and ``journeys_with_transfer``;
``transfer_wait_fastest_min`` / ``transfer_wait_mean_min``: time lost to transfers and waiting
(journey time less time on trains) on the fastest connection / on average. One-seat service
apart: ``direct_trains`` (trips serving both cities in this order, leaving in the window: per
day with the default whole-day window), ``fastest_direct_min``, ``median_direct_min``. Then
``crow_km`` between the city points, ``detour_index`` = time / (``crow_km`` at the reference
speed) and ``crow_speed_kmh`` (time: ``fastest_min``, or ``median_min`` with ``basis="median"``).

Net measures (:attr:`RailNet.summary`, over all ordered pairs of distinct cities): efficiency
(Latora and Marchiori, Phys. Rev. Lett. 87, 198701, 2001) ``E = sum(1 / t_ij) / (N (N - 1))``
in 1/h (unreachable: 0), also relative to the ideal net (straight lines at the reference
speed); population-weighted mean time over reachable pairs (:func:`planner.analyses.metrics.measures`);
median detour index; shares of pairs within 1, 2 and 3 h, with a direct train, with at most one
transfer. Per city (:attr:`RailNet.cities`): the population of the other cities within 1, 2 and
3 h (a central city's "radiation"); betweenness and closeness on the *link graph* (igraph,
directed: an edge where a train serves two cities one after the other, weighted by the fastest
such run in minutes). Weak links: detour index over ``Config.net_weak_detour_factor`` x the
median, two or more transfers, or no connection between cities that have stations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import combinations, pairwise
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.analyses.metrics import measures, place_measures
from planner.common.geodesy import EARTH_RADIUS_M, haversine_m
from planner.common.progress import progress as bar
from planner.config import Config
from planner.errors import ConfigError, InputError, NoServiceError
from planner.ingest.gtfs.consolidation import local_xy
from planner.ingest.gtfs.feed import FeedSet
from planner.ingest.gtfs.modes import mode_of_route_type
from planner.network.links import Footpaths
from planner.network.timetable import RAIL_MODES, build_timetable
from planner.routing import raptor as routing
from planner.routing.itinerary import reconstruct
from planner.routing.raptor import INF, stop_departures
from planner.routing.traveltime import nearest_rank

if TYPE_CHECKING:
    from collections.abc import Sequence

    from planner.network.timetable import Timetable
    from planner.scenarios.spec import AddTransfer

__all__ = ["COMPARED", "MEASURES", "RAIL_MODES", "RailNet", "group_stations", "net_measures", "rail_net"]

#: per-pair columns compared between networks by :func:`changed_pairs`
COMPARED = ("fastest_min", "median_min", "journeys", "transfers_fastest", "min_transfers", "direct_trains",
            "fastest_direct_min")
#: net measures in display order, with units
MEASURES = {
    "cities": "count", "cities_with_station": "count", "node_stations": "count", "pairs": "ordered city pairs",
    "reachable_pairs": "ordered city pairs", "efficiency_per_h": "1/h",
    "efficiency_relative": "share of the ideal net", "pop_weighted_mean_min": "min",
    "median_detour_index": "ratio", "share_within_1h": "share of pairs", "share_within_2h": "share of pairs",
    "share_within_3h": "share of pairs", "share_direct": "share of pairs", "share_max_1_transfer": "share of pairs",
    "mean_transfer_wait_min": "min", "links": "count", "weak_links": "count",
}


def _crow_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km (broadcasting)."""
    return haversine_m(lat1, lon1, lat2, lon2, radius=EARTH_RADIUS_M / 1000.0)


def _median(values) -> float:
    v = np.asarray(values, dtype=float)
    return float(nearest_rank(v, [50])[0]) if len(v) else float("nan")


def group_stations(stations: pd.DataFrame, places: pd.DataFrame, *, cluster_km: float,
                   group_by: str = "auto") -> pd.DataFrame:
    """Assign rail stations to cities.

    Parameters
    ----------
    stations
        ``stop_id``, ``stop_name``, ``lon``, ``lat`` and optionally ``city`` (a city id of
        ``places``; empty when unknown).
    places
        City points: ``id``, ``lon``, ``lat`` (see :func:`planner.ingest.points.load_places`).
    cluster_km
        Largest straight-line distance from a station to its city point.
    group_by
        ``attribute``: the ``city`` column names the city; ``distance``: the nearest city
        point; ``auto``: the attribute when some station's ``city`` matches a place id,
        else the distance (stations with an empty attribute always take the nearest point).

    Returns
    -------
    stations
        The input columns plus ``city_id`` (``""`` = no city), ``city_km`` (to the city's
        point, or to the nearest point when none), ``basis`` (``attribute``/``nearest``/``""``)
        and ``note`` (why a station has no city).
    """
    if group_by not in ("auto", "attribute", "distance"):
        msg = f"group_by must be auto, attribute or distance, got {group_by!r}"
        raise ConfigError(msg, code="invalid_parameter")
    out = stations.reset_index(drop=True).copy()
    ids = places["id"].astype(str).to_numpy()
    attr = out["city"].fillna("").astype(str).to_numpy() if "city" in out else np.full(len(out), "", dtype=object)
    if group_by == "attribute" and not (attr != "").any():
        msg = "group_by='attribute' but no station has a 'city' attribute"
        raise InputError(msg, code="missing_required_column", hint="use --group-by distance (nearest city point)")
    use_attr = group_by == "attribute" or (group_by == "auto" and np.isin(attr, ids).any())
    d = _crow_km(out["lat"].to_numpy(float)[:, None], out["lon"].to_numpy(float)[:, None],
               places["lat"].to_numpy(float)[None, :], places["lon"].to_numpy(float)[None, :])
    index = {c: i for i, c in enumerate(ids)}
    rows = []
    for r, a in enumerate(attr):
        j = index.get(a, -1) if use_attr and a else (int(np.argmin(d[r])) if len(ids) else -1)
        dist = float(d[r, j]) if j >= 0 else float("nan")
        if j < 0:
            rows.append(("", dist, "", f"city '{a}' is not among the places" if a else "no places"))
        elif dist > cluster_km:
            rows.append(("", dist, "", f"{dist:.0f} km from the point of '{ids[j]}' (over {cluster_km:g} km)"))
        else:
            rows.append((ids[j], dist, "attribute" if use_attr and a else "nearest", ""))
    res = pd.DataFrame(rows, columns=["city_id", "city_km", "basis", "note"], index=out.index)
    return out.assign(**res.assign(city_km=res["city_km"].round(2)))


def _rail_only(feeds: FeedSet, modes: Sequence[str]) -> FeedSet:
    """The feeds reduced to routes of ``modes`` (feeds without any are left out)."""
    out = []
    for f in feeds:
        routes = f.routes
        keep = np.array([mode_of_route_type(int(x)) in modes for x in routes["route_type"].fillna(-1)], dtype=bool)
        if not keep.any():
            continue
        if keep.all():
            out.append(f)
            continue
        trips = f.trips.loc[f.trips["route_id"].isin(routes.loc[keep, "route_id"])]
        tables = {**f.tables, "routes": routes.loc[keep], "trips": trips,
                  **{k: f.tables[k].loc[f.tables[k]["trip_id"].isin(trips["trip_id"])] for k in ("stop_times",
                                                                                                 "frequencies")}}
        out.append(replace(f, tables=tables))
    if not out:
        msg = f"no route of the feeds is rail ({', '.join(modes)}); the rail net is empty"
        raise NoServiceError(msg, code="planner_no_rail", hint="pass rail feeds with --gtfs (route_type 2 or 100-117)")
    return FeedSet(out, feeds.notices)


def _station_frame(tt: Timetable, feeds: FeedSet) -> tuple[np.ndarray, pd.DataFrame]:
    """Stop indices served by the rail patterns, and their table (with the ``city`` attribute)."""
    idx = np.unique(tt.pattern_stops)
    attr: dict[str, str] = {}
    for f in feeds:
        st = f.stops
        if "city" not in st:
            continue
        city = dict(zip(st["stop_id"], st["city"].fillna("").astype(str).str.strip(), strict=True))
        for sid, parent in zip(st["stop_id"], st["parent_station"].fillna(""), strict=True):
            c = city[sid] or city.get(parent, "")
            if c:
                attr[f"{f.feed_id}:{sid}"] = c
    frame = pd.DataFrame({"stop_id": tt.stop_ids[idx], "stop_name": tt.stop_names[idx],
                          "lon": tt.stop_lon[idx], "lat": tt.stop_lat[idx]})
    frame["city"] = [attr.get(s, "") for s in frame["stop_id"]]
    return idx, frame


def _stop_lookup(tt: Timetable, ref: str) -> int:
    """Index of ``feed:stop`` or of a bare stop id unique across feeds; -1 when absent."""
    ids = tt.stop_ids
    hit = np.flatnonzero(ids == ref)
    if len(hit) == 0:
        hit = np.flatnonzero(np.array([s.split(":", 1)[-1] == ref for s in ids], dtype=bool))
    return int(hit[0]) if len(hit) == 1 else -1


def _footpaths(tt: Timetable, rail: np.ndarray, city_of: np.ndarray, config: Config,
               added: Sequence[AddTransfer] = ()) -> tuple[Footpaths, np.ndarray, list[str]]:
    """Footpaths between rail stations, change time per stop, and notes (see module doc)."""
    S = tt.n_stops
    links: dict[tuple[int, int], tuple[float, float]] = {}

    def put(a: int, b: int, sec: float, metres: float) -> None:  # both ways
        for k in ((a, b), (b, a)):
            if a != b and (k not in links or sec < links[k][0]):
                links[k] = (sec, metres)

    xy = local_xy(tt.stop_lat[rail], tt.stop_lon[rail]) if len(rail) else np.zeros((0, 2))
    det, walk = config.straight_line_detour, config.walk_speed_mps
    near = set()
    if len(rail) > 1:
        for i, j in cKDTree(xy).query_pairs(config.footpath_max_s * walk / det, output_type="ndarray"):
            m = float(np.hypot(*(xy[i] - xy[j]))) * det
            a, b = int(rail[i]), int(rail[j])
            near.update({(a, b), (b, a)})
            put(a, b, m / walk, m)
    speed = config.local_access_speed_kmh / 3.6
    for c in np.unique(city_of[rail][city_of[rail] >= 0]):
        for a, b in combinations(rail[city_of[rail] == c].tolist(), 2):
            if (a, b) in near:
                continue
            m = float(_crow_km(tt.stop_lat[a], tt.stop_lon[a], tt.stop_lat[b], tt.stop_lon[b])) * 1000 * det
            if speed > 0 and m / speed <= config.local_access_max_s:
                put(a, b, m / speed, m)
    links = {k: (max(v[0], float(config.change_time_s)), v[1]) for k, v in links.items()}
    change = np.full(S, config.change_time_s, np.int32)
    for a, b, m, ty in zip(tt.transfer_from, tt.transfer_to, tt.transfer_min_s, tt.transfer_type, strict=True):
        a, b, m, ty = int(a), int(b), int(m), int(ty)
        if a == b:
            change[a] = {0: change[a], 1: 0, 2: m, 3: int(INF) // 4}[ty]
        elif ty == 3:
            links.pop((a, b), None)
        elif ty in (1, 2):
            links[(a, b)] = (0.0 if ty == 1 else float(m), links.get((a, b), (0.0, float("nan")))[1])
    notes = []
    for ch in added:
        a, b = _stop_lookup(tt, ch.from_stop), _stop_lookup(tt, ch.to_stop)
        if a < 0 or b < 0:
            notes.append(f"add_transfer {ch.from_stop} -> {ch.to_stop}: not between two rail stations; "
                         "no effect on the rail net")
            continue
        sec = ch.walk_s if ch.walk_s is not None else float(np.ceil(ch.walk_m / walk))
        metres = ch.walk_m if ch.walk_m is not None else sec * walk
        for x, y in [(a, b)] + ([(b, a)] if ch.both_ways else []):
            links[(x, y)] = (float(sec), float(metres))
    keys = sorted(links)
    fp = Footpaths.from_pairs(S, [k[0] for k in keys], [k[1] for k in keys],
                              [int(np.ceil(links[k][0])) for k in keys], [links[k][1] for k in keys])
    return fp, change, notes


def _city_min(out: np.ndarray, city_stops: list[np.ndarray]) -> np.ndarray:
    res = np.full((out.shape[0], len(city_stops)), INF, dtype=np.int64)
    for c, st in enumerate(city_stops):
        if len(st):
            res[:, c] = out[:, st].min(axis=1)
    return res


def _od(tt: Timetable, fp: Footpaths, change: np.ndarray, city_stops: list[np.ndarray], w0: int, w1: int,
        max_rounds: int, max_dur: int, progress: bool, label: str) -> dict[str, np.ndarray]:
    """Per ordered city pair: the connection statistics of the module docstring, (C, C) arrays."""
    C = len(city_stops)
    res = {k: np.full((C, C), np.nan) for k in ("fastest_min", "median_min", "transfers_fastest", "min_transfers",
                                                "transfer_wait_fastest_min", "transfer_wait_mean_min")}
    res |= {k: np.zeros((C, C), np.int64) for k in ("journeys", "journeys_with_transfer")}
    dep_ptr, dep_times = stop_departures(tt)
    for o in bar(range(C), enabled=progress, desc=f"net {label}", unit="city"):
        st = np.asarray(city_stops[o], dtype=np.int32)
        if len(st) == 0:
            continue
        deps = np.unique(np.concatenate([dep_times[dep_ptr[s]:dep_ptr[s + 1]] for s in st]))
        # later departures (up to the horizon) too: a journey that waits overnight is no
        # connection when the next day's departure arrives as early
        deps = deps[(deps >= w0) & (deps < w0 + max_dur)].astype(np.int32)
        window = deps < w1
        if not window.any():
            continue
        zeros = np.zeros(len(st), np.int32)
        first_k = np.zeros(C, np.int64)
        prev = None
        for k in range(1, max_rounds + 1):
            out = routing.range_earliest_arrival(tt, fp, change, st, zeros, deps, max_rounds=k, max_duration_s=max_dur,
                                                 check_ride_cap=k == max_rounds)
            final = _city_min(out, city_stops)
            first_k[(first_k == 0) & (final[window] < INF).any(axis=0)] = k
            if prev is not None and np.array_equal(out, prev):
                break
            prev = out
        res["min_transfers"][o] = np.where(first_k > 0, first_k - 1, np.nan)
        later = np.vstack([final[1:], np.full((1, C), np.iinfo(np.int64).max)])
        eff = (final < INF) & (final < later) & window[:, None]
        eff[:, o] = False
        found: dict[int, list[tuple[int, int, int]]] = {j: [] for j in range(C)}
        for i in np.flatnonzero(eff.any(axis=1)):
            r = routing.earliest_arrival(tt, fp, change, st, zeros, int(deps[i]), max_rounds=max_rounds,
                                         check_ride_cap=False,  # the range search above warned
                                         max_duration_s=max_dur, record=True)
            at = r.at_stop
            for j in np.flatnonzero(eff[i]):
                sj = city_stops[j]
                best = int(at[-1, sj].min())
                cand = [(int(np.flatnonzero(at[:, s] == best)[0]), int(s)) for s in sj if at[-1, s] == best]
                _, s = min(cand)
                legs = reconstruct(tt, fp, change, r, s, st, zeros)
                rides = [leg for leg in legs if leg.kind == "ride"]  # none: the stations are a walk apart
                wait = (best - rides[0].dep_s if rides else 0) - sum(leg.arr_s - leg.dep_s for leg in rides)
                found[int(j)].append((best - int(deps[i]), max(len(rides) - 1, 0), wait))
        for j, rows in found.items():
            if not rows:
                continue
            arr = np.asarray(rows, dtype=float)
            f = min(range(len(rows)), key=lambda q: (rows[q][0], rows[q][1]))
            res["fastest_min"][o, j] = arr[f, 0] / 60.0
            res["median_min"][o, j] = _median(arr[:, 0]) / 60.0
            res["journeys"][o, j] = len(rows)
            res["journeys_with_transfer"][o, j] = int((arr[:, 1] > 0).sum())
            res["transfers_fastest"][o, j] = arr[f, 1]
            res["transfer_wait_fastest_min"][o, j] = arr[f, 2] / 60.0
            res["transfer_wait_mean_min"][o, j] = arr[:, 2].mean() / 60.0
    return res


def _trip_pairs(tt: Timetable, city_of: np.ndarray, w0: int, w1: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One-seat rides between cities, and the links (consecutive cities of a trip), as
    ``trip, a, b, dep, sec`` frames of the trips leaving ``a`` in the window."""
    direct, link = [], []
    for p in range(tt.n_patterns):
        a0, a1 = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        c = city_of[tt.pattern_stops[a0:a1]]
        pos = np.flatnonzero(c >= 0)
        if len(np.unique(c[pos])) < 2:
            continue
        A, D = tt.pattern_trip_times(p)
        board, alight = tt.pattern_board[a0:a1], tt.pattern_alight[a0:a1]
        trips = np.arange(tt.pattern_trips_ptr[p], tt.pattern_trips_ptr[p + 1])

        def rec(into, i, j, trips=trips, A=A, D=D, c=c):
            into.append(pd.DataFrame({"trip": trips, "a": c[i], "b": c[j], "dep": D[:, i], "sec": A[:, j] - D[:, i]}))

        for n, i in enumerate(pos):
            for j in pos[n + 1:]:
                if board[i] and alight[j] and c[j] != c[i]:
                    rec(direct, i, j)
        runs = np.split(pos, np.flatnonzero(np.diff(c[pos]) != 0) + 1)
        for ra, rb in pairwise(runs):
            i = [q for q in ra if board[q]]
            j = [q for q in rb if alight[q]]
            if i and j:
                rec(link, i[-1], j[0])
    cols = ["trip", "a", "b", "dep", "sec"]
    frames = []
    for rows in (direct, link):
        df = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame({k: pd.Series(dtype="int64") for k in cols})
        df = df.loc[(df["dep"] >= w0) & (df["dep"] < w1)]
        frames.append(df.groupby(["trip", "a", "b"], as_index=False)["sec"].min())
    return frames[0], frames[1]


def net_measures(T: np.ndarray, pop: np.ndarray, crow_km: np.ndarray, *, direct: np.ndarray,
                 min_transfers: np.ndarray, reference_speed_kmh: float) -> dict[str, float]:
    """Measures of a net from its city-to-city times (see the module docstring).

    Parameters
    ----------
    T, crow_km, direct, min_transfers
        (N, N) travel times in minutes (NaN unreachable; diagonal ignored), straight-line
        km between the city points, direct trains and fewest transfers per ordered pair.
    pop
        (N,) populations.
    reference_speed_kmh
        Speed of the ideal net (detour index, relative efficiency).

    Returns
    -------
    measures
        ``efficiency_per_h``, ``efficiency_ideal_per_h``, ``efficiency_relative``,
        ``median_detour_index``, ``share_direct``, ``share_max_1_transfer`` and those of
        :func:`planner.analyses.evaluate.compare.measures`.
    """
    n = len(pop)
    off = ~np.eye(n, dtype=bool)
    npairs = max(int(off.sum()), 1)
    reach = np.isfinite(T) & off
    out = {k: float(v) if isinstance(v, float) else v for k, v in measures(T, pop).items()}
    eff = float((60.0 / T[reach]).sum()) / npairs
    ideal_h = crow_km / reference_speed_kmh
    pos = off & (ideal_h > 0)
    eff_ideal = float((1.0 / ideal_h[pos]).sum()) / npairs
    det = _detour(T, crow_km, reference_speed_kmh)
    out.update({
        "efficiency_per_h": eff, "efficiency_ideal_per_h": eff_ideal,
        "efficiency_relative": eff / eff_ideal if eff_ideal > 0 else float("nan"),
        "median_detour_index": float(np.median(det[reach & np.isfinite(det)])) if (reach & np.isfinite(det)).any()
        else float("nan"),
        "share_direct": float(((direct > 0) & off).sum()) / npairs,
        "share_max_1_transfer": float(((min_transfers <= 1) & off).sum()) / npairs,
    })
    return out


def _detour(T: np.ndarray, crow_km: np.ndarray, speed_kmh: float) -> np.ndarray:
    ideal = crow_km / speed_kmh * 60.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ideal > 0, T / np.where(ideal > 0, ideal, 1.0), np.nan)


def _graph(C: int, links: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Betweenness and closeness (1/h) of each city on the time-weighted link graph."""
    import igraph as ig  # slow (1.3 s): only the centrality measures need it

    g = ig.Graph(n=C, edges=list(zip(links["a"].astype(int), links["b"].astype(int), strict=True)), directed=True)
    w = np.maximum(links["fastest_min"].to_numpy(float), 1e-3).tolist()
    btw = np.asarray(g.betweenness(directed=True, weights=w or None), dtype=float)
    clo = np.asarray(g.closeness(mode="out", weights=w or None, normalized=True), dtype=float) * 60.0
    return btw, clo


@dataclass
class RailNet:
    """The rail net of one network (baseline or scenario); tables documented in the module doc.

    ``pairs``: one row per ordered pair of distinct cities; ``cities``: per city;
    ``links``: per directed link (``trains``, ``fastest_min``, ``crow_km``,
    ``crow_speed_kmh``); ``stations``: the grouping (:func:`group_stations`); ``weak``:
    weak links with ``reason``; ``summary``: net measures.
    """

    name: str
    pairs: pd.DataFrame
    cities: pd.DataFrame
    links: pd.DataFrame
    stations: pd.DataFrame
    weak: pd.DataFrame
    summary: dict
    report: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def matrix(self, column: str) -> np.ndarray:
        """(N, N) array of a per-pair column in the order of :attr:`cities` (NaN diagonal)."""
        ids = self.cities["id"].tolist()
        m = self.pairs.pivot(index="from_id", columns="to_id", values=column).reindex(index=ids, columns=ids)
        return m.to_numpy(dtype=float)


def rail_net(feeds: FeedSet, places: pd.DataFrame, *, date: str, depart_s: int = 0, window_min: int = 1440,
             name: str = "baseline", basis: str = "fastest", cluster_km: float | None = None,
             reference_speed_kmh: float | None = None, group_by: str = "auto",
             central: Sequence[str] | None = None, transfers: Sequence[AddTransfer] = (),
             modes: Sequence[str] = RAIL_MODES, config: Config | None = None, progress: bool = False) -> RailNet:
    """City-to-city rail times and net measures of ``feeds`` (see the module docstring).

    Parameters
    ----------
    feeds
        The feeds; only routes of ``modes`` are used.
    places
        Cities: ``id``, ``name``, ``lon``, ``lat``, ``population``.
    date
        Service date ``YYYY-MM-DD``.
    depart_s, window_min
        Departures from ``depart_s`` (seconds after midnight; may pass 24 h) for
        ``window_min`` minutes; by default the whole service day.
    name
        Label of the network (``baseline`` or the scenario's name).
    basis
        ``fastest`` or ``median``: the pair time the net measures use.
    cluster_km, reference_speed_kmh
        Override ``Config.net_cluster_km`` / ``Config.net_reference_speed_kmh``.
    group_by
        Station grouping (:func:`group_stations`).
    central
        Central city ids; default the ``Config.net_central_count`` most populous.
    transfers
        Extra station links (a scenario's ``add_transfer`` changes).
    modes, config, progress
        Modes of the net; settings (``None``: defaults); show a progress bar.

    Returns
    -------
    net
        A :class:`RailNet`.

    Raises
    ------
    NoServiceError
        When no rail trip runs on the date in the window.
    """
    config = config or Config()
    ck = config.net_cluster_km if cluster_km is None else float(cluster_km)
    ref = config.net_reference_speed_kmh if reference_speed_kmh is None else float(reference_speed_kmh)
    for ok, msg in ((ck >= 0, f"the cluster distance must not be negative, got {ck} km"),
                    (ref > 0, f"the reference speed must be positive, got {ref} km/h"),
                    (window_min > 0, f"the departure window must be positive, got {window_min} min"),
                    (basis in ("fastest", "median"), f"basis must be 'fastest' or 'median', got {basis!r}")):
        if not ok:
            raise ConfigError(msg, code="invalid_parameter")
    w0, w1 = int(depart_s), int(depart_s) + 60 * int(window_min)
    horizon = int(config.net_horizon_h * 3600)
    tt = build_timetable(_rail_only(feeds, modes), date, window=(w0, w1 + horizon))
    rail, frame = _station_frame(tt, feeds)
    stations = group_stations(frame, places, cluster_km=ck, group_by=group_by)
    ids = places["id"].astype(str).tolist()
    C = len(ids)
    index = {c: i for i, c in enumerate(ids)}
    city_of = np.full(tt.n_stops, -1, np.int64)
    city_of[rail] = [index.get(c, -1) for c in stations["city_id"]]
    city_stops = [rail[city_of[rail] == c] for c in range(C)]
    fp, change, notes = _footpaths(tt, rail, city_of, config, transfers)
    od = _od(tt, fp, change, city_stops, w0, w1, config.max_rides, w1 + horizon - w0, progress, name)
    direct, link = _trip_pairs(tt, city_of, w0, w1)
    pop = places["population"].to_numpy(float)
    lat, lon = places["lat"].to_numpy(float), places["lon"].to_numpy(float)
    crow = _crow_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    dg = direct.groupby(["a", "b"])["sec"].agg(["size", "min", _median]).reset_index()
    dmat = {"direct_trains": np.zeros((C, C), np.int64), **{k: np.full((C, C), np.nan) for k in
                                                         ("fastest_direct_min", "median_direct_min")}}
    da, db = dg["a"].to_numpy(int), dg["b"].to_numpy(int)
    dmat["direct_trains"][da, db] = dg["size"]
    dmat["fastest_direct_min"][da, db], dmat["median_direct_min"][da, db] = dg["min"] / 60.0, dg["_median"] / 60.0
    T = od["fastest_min" if basis == "fastest" else "median_min"]
    det = _detour(T, crow, ref)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = crow / (T / 60.0)
    mats = {**od, **dmat, "crow_km": crow, "detour_index": det, "crow_speed_kmh": speed}
    ii, jj = np.nonzero(~np.eye(C, dtype=bool))
    names = places["name"].astype(str).to_numpy()
    pairs = pd.DataFrame({"from_id": np.asarray(ids, dtype=object)[ii], "from_name": names[ii],
                          "to_id": np.asarray(ids, dtype=object)[jj], "to_name": names[jj]})
    for k in ("crow_km", "fastest_min", "median_min", "journeys", "journeys_with_transfer", "transfers_fastest",
              "min_transfers", "transfer_wait_fastest_min", "transfer_wait_mean_min", "direct_trains",
              "fastest_direct_min", "median_direct_min", "detour_index", "crow_speed_kmh"):
        pairs[k] = mats[k][ii, jj]
    lg = link.groupby(["a", "b"]).agg(trains=("trip", "nunique"), sec=("sec", "min")).reset_index()
    la, lb, oid = lg["a"].to_numpy(int), lg["b"].to_numpy(int), np.asarray(ids, dtype=object)
    links = pd.DataFrame({"from_id": oid[la], "to_id": oid[lb], "a": la, "b": lb, "trains": lg["trains"].astype(np.int64),
                          "fastest_min": lg["sec"] / 60.0, "crow_km": crow[la, lb]})
    links["crow_speed_kmh"] = links["crow_km"] / (links["fastest_min"] / 60.0)
    summary = net_measures(T, pop, crow, direct=dmat["direct_trains"], min_transfers=od["min_transfers"],
                           reference_speed_kmh=ref)
    has_station = np.array([len(s) > 0 for s in city_stops])
    weak = _weak(pairs, dict(zip(ids, has_station, strict=True)), config.net_weak_detour_factor,
                 summary["median_detour_index"])
    cities = _cities(places, city_stops, tt, T, pop, links, dmat["direct_trains"], central, config)
    off = ~np.eye(C, dtype=bool)
    reach = np.isfinite(od["transfer_wait_fastest_min"]) & off
    summary.update({"cities": C, "cities_with_station": int(has_station.sum()), "node_stations": int(sum(map(len, city_stops))),
                    "mean_transfer_wait_min": float(od["transfer_wait_fastest_min"][reach].mean()) if reach.any()
                    else float("nan"), "links": len(links), "weak_links": len(weak)})
    for row in cities.loc[cities["central"]].itertuples():
        for h in (1, 2):
            summary[f"pop_within_{h}h:{row.id}"] = float(getattr(row, f"pop_within_{h}h"))
    links = links.drop(columns=["a", "b"])
    return RailNet(name, pairs, cities, links, stations, weak, summary, notes=notes)


def _weak(pairs: pd.DataFrame, has_station: dict, factor: float, median: float) -> pd.DataFrame:
    """Weak links with their ``reason`` (see the module docstring), largest detour first."""
    both = pairs["from_id"].map(has_station).to_numpy(bool) & pairs["to_id"].map(has_station).to_numpy(bool)
    mt = pairs["min_transfers"]
    parts = [np.where(both & pairs["fastest_min"].isna(), "unreachable", ""),
             np.where(pairs["detour_index"] > factor * median, f"detour over {factor:g} x median", ""),
             np.where(mt >= 2, mt.fillna(0).astype(int).astype(str) + " transfers", "")]
    out = pairs[["from_id", "from_name", "to_id", "to_name", "crow_km", "fastest_min", "median_min",
                 "min_transfers", "detour_index"]].assign(reason=["; ".join(x for x in t if x) for t in zip(*parts, strict=True)])
    return out.loc[out["reason"] != ""].sort_values(["detour_index", "from_id", "to_id"], ascending=[False, True, True],
                                                    kind="stable").reset_index(drop=True)


def _cities(places, city_stops, tt, T, pop, links, direct, central, config) -> pd.DataFrame:
    C = len(places)
    if central is None:
        order = np.argsort(-pop, kind="stable")[: config.net_central_count]
        central_ids = set(places["id"].astype(str).to_numpy()[order])
    else:
        central_ids = set(central)
        unknown = central_ids - set(places["id"].astype(str))
        if unknown:
            msg = f"central cities not among the places: {', '.join(sorted(unknown))}"
            raise InputError(msg, code="unknown_city", hint="use ids of the places file (column id)")
    btw, clo = _graph(C, links)
    pm = place_measures(T, pop)
    off = ~np.eye(C, dtype=bool)
    return pd.DataFrame({
        "id": places["id"].astype(str).to_numpy(), "name": places["name"].astype(str).to_numpy(), "population": pop,
        "central": places["id"].astype(str).isin(central_ids).to_numpy(), "stations": [len(s) for s in city_stops],
        "station_names": [" ".join(tt.stop_names[s]) for s in city_stops],
        "reachable_cities": (np.isfinite(T) & off).sum(axis=1), "direct_destinations": ((direct > 0) & off).sum(axis=1),
        **{f"pop_within_{h}h": pm[f"pop_within_{h}h"] for h in (1, 2, 3)}, "mean_time_to_others_min": pm["mean_travel_min"],
        "betweenness": btw, "betweenness_norm": btw / ((C - 1) * (C - 2)) if C > 2 else np.nan, "closeness_per_h": clo})
