"""Benchmark the fare-aware kernels on the Helsinki feed (tests/data/gtfs/helsinki_gtfs_2022.zip).

Fare systems: HSL is one operator with one zone tariff (GTFS Fares v1, ``contains_id`` read
as zone tickets). To have several systems, it is split by mode as if each mode were a
separate operator keeping HSL's tariff: bus (+ ferry), tram, rail (+ metro) - three
systems, each with its own AB ticket (EUR 2.80, 80 min) and the default ticketing penalties
(ASSUMED: 30 s bus, 120 s tram/rail/metro/ferry). That is the situation a unified card
removes; the card's effect is printed too.

Measured on the same timetable, footpaths (straight lines up to 400 m at 1.3 m/s) and
queries (one origin stop to all stops, departures 07:00-09:00, at most 4 trips):

1. plain RAPTOR (:func:`planner.routing.raptor.earliest_arrival`);
2. penalised RAPTOR (labels per stop and ticketing group held);
3. McRAPTOR over (arrival, fare, trips) (:func:`planner.routing.fares.pareto_arrivals`), with
   ``windows="exact"`` and ``"first_vehicle"``; the target is at most 20x plain RAPTOR;
4. Pareto-set sizes (options per reached stop).

Each query runs ``--repeat`` times and its fastest run counts. Horizons (``--horizons``,
minutes) change the cost: a ticket window longer than the horizon never binds (one ticket
state), a shorter one makes the window's end a criterion. At horizons longer than
``--fare-horizon`` (minutes, default 80, the tickets' window; 0: none) a last row is the
exact-windows McRAPTOR with ``FareParams(fare_horizon_min=...)`` (an approximation: windows
end at the fare horizon; the share of reached stops whose Pareto set differs from the exact
one is printed). The machine's load average is printed at the start and the end. Run:
``python scripts/bench_fares.py [--queries 30] [--rounds 4] [--horizons 45 60 90 120]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_OPT", "1")  # as the plan command line (planner/kernels/options.py)

import numpy as np
from scipy.spatial import cKDTree

from planner.ingest.gtfs import read_feed
from planner.ingest.gtfs.consolidation import local_xy
from planner.network.fares import FareParams, UnifiedCardPolicy, fare_systems_from_feeds
from planner.network.links import Footpaths
from planner.network.timetable import build_timetable
from planner.routing.fares import build_fare_model, pareto_arrivals, penalised_earliest_arrival
from planner.routing.raptor import INF, earliest_arrival

ROOT = Path(__file__).resolve().parent.parent
FEED = ROOT / "tests" / "data" / "gtfs" / "helsinki_gtfs_2022.zip"
DATE = "2022-02-22"
WALK_MPS = 1.3
FOOTPATH_M = 400
CHANGE_S = 60
MAX_ROUNDS = 4


def footpaths(tt):
    xy = local_xy(tt.stop_lat, tt.stop_lon)
    pairs = cKDTree(xy).query_pairs(FOOTPATH_M, output_type="ndarray")
    d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    src = np.r_[pairs[:, 0], pairs[:, 1]]
    dst = np.r_[pairs[:, 1], pairs[:, 0]]
    return Footpaths.from_pairs(tt.n_stops, src, dst, np.ceil(np.r_[d, d] / WALK_MPS).astype(int), np.r_[d, d])


def timed(fn, repeat):
    """Fastest of ``repeat`` runs: ((wall s, this thread's CPU s), result). The kernels run
    in the calling thread, so CPU time is what a shared, loaded machine disturbs least."""
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.thread_time()
        out = fn()
        cpu = min(cpu, time.thread_time() - c)
        wall = min(wall, time.perf_counter() - t)
    return (wall, cpu), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--horizons", type=int, nargs="+", default=[45, 60, 90, 120], help="minutes")
    ap.add_argument("--rounds", type=int, default=MAX_ROUNDS, help="most trips per journey")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fare-horizon", type=float, default=80.0, help="minutes; 0: no fare-horizon row")
    args = ap.parse_args(argv)
    rounds = args.rounds
    print("load average (1, 5, 15 min) at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))

    t0 = time.perf_counter()
    feed = read_feed(FEED)
    tt = build_timetable(feed, DATE)
    fp = footpaths(tt)
    hsl = fare_systems_from_feeds(feed, contains="subset")
    fares = hsl.split_by_mode(feed.feed_id, {"bus": ["bus", "ferry"], "rail": ["rail", "metro"]})
    exact = build_fare_model(tt, fares, params=FareParams())
    fast = build_fare_model(tt, fares, params=FareParams(windows="first_vehicle"))
    card = build_fare_model(tt, fares, params=FareParams(), policy=UnifiedCardPolicy())
    capped = build_fare_model(tt, fares, params=FareParams(fare_horizon_min=args.fare_horizon or None))
    print(f"timetable: {tt.n_stops} stops, {tt.n_patterns} patterns, {tt.n_trips} trips, "
          f"{tt.n_stop_events:,} stop events; {fp.n_links:,} footpaths ({time.perf_counter() - t0:.1f} s)")
    print("fare systems: " + "; ".join(f"{s.system_id} ({len(s.routes)} routes)" for s in fares))
    print("search approximations: " + ("none" if exact.tariff.exact else " | ".join(exact.tariff.notes)))

    rng = np.random.default_rng(args.seed)
    origins = rng.choice(tt.n_stops, size=args.queries, replace=False)
    deps = rng.integers(7 * 3600, 9 * 3600, size=args.queries)
    # compile everything once
    for m in (exact, fast, card, capped):
        pareto_arrivals(tt, fp, CHANGE_S, [0], [0], 8 * 3600, m, max_rounds=2, max_duration_s=600)
        penalised_earliest_arrival(tt, fp, CHANGE_S, [0], [0], 8 * 3600, m, max_rounds=2, max_duration_s=600)
    earliest_arrival(tt, fp, CHANGE_S, [0], [0], 8 * 3600, max_rounds=2, max_duration_s=600)

    ok = True
    for horizon in args.horizons:
        md = horizon * 60
        t_plain, t_pen, t_exact, t_fast, t_cap = [], [], [], [], []
        sizes, labels, multi = [], [], []
        labels_fast, labels_cap, differ = [], [], []
        with_cap = bool(args.fare_horizon) and args.fare_horizon < horizon
        d_time, d_fare = [], []
        for o, dep in zip(origins.tolist(), deps.tolist(), strict=True):
            tp, plain = timed(lambda o=o, dep=dep, md=md: earliest_arrival(
                tt, fp, CHANGE_S, [o], [0], dep, max_rounds=rounds, max_duration_s=md), args.repeat)
            tq, pen = timed(lambda o=o, dep=dep, md=md: penalised_earliest_arrival(
                tt, fp, CHANGE_S, [o], [0], dep, exact, max_rounds=rounds, max_duration_s=md), args.repeat)
            te, res = timed(lambda o=o, dep=dep, md=md: pareto_arrivals(
                tt, fp, CHANGE_S, [o], [0], dep, exact, max_rounds=rounds, max_duration_s=md), args.repeat)
            tf, rf = timed(lambda o=o, dep=dep, md=md: pareto_arrivals(
                tt, fp, CHANGE_S, [o], [0], dep, fast, max_rounds=rounds, max_duration_s=md), args.repeat)
            t_plain.append(tp)
            t_pen.append(tq)
            t_exact.append(te)
            t_fast.append(tf)
            labels_fast.append(len(rf.pool))
            if with_cap:
                tc, rcap = timed(lambda o=o, dep=dep, md=md: pareto_arrivals(
                    tt, fp, CHANGE_S, [o], [0], dep, capped, max_rounds=rounds, max_duration_s=md), args.repeat)
                t_cap.append(tc)
                labels_cap.append(len(rcap.pool))
                differ.append(_share_differing(res, rcap))
            per_stop = np.bincount(res.stop, minlength=tt.n_stops)
            reached = per_stop > 0
            sizes.extend(per_stop[reached].tolist())
            multi.append(float((per_stop[reached] > 1).mean()))
            labels.append(len(res.pool))
            # McRAPTOR's earliest option at each stop is the penalised router's time
            best = np.full(tt.n_stops, INF)
            np.minimum.at(best, res.stop, res.arrival_s)
            if not np.array_equal(best, pen.best):
                print(f"MISMATCH: McRAPTOR and penalised RAPTOR differ for origin {o}", file=sys.stderr)
                ok = False
            assert plain.best.shape == pen.best.shape
            # the unified card: time (penalised) and cheapest fare, per reached stop
            pc = penalised_earliest_arrival(tt, fp, CHANGE_S, [o], [0], dep, card, max_rounds=rounds,
                                            max_duration_s=md)
            both = (pen.best < INF) & (pc.best < INF)
            d_time.extend(((pen.best[both] - pc.best[both]) / 60).tolist())
            rc = pareto_arrivals(tt, fp, CHANGE_S, [o], [0], dep, card, max_rounds=rounds, max_duration_s=md)
            cheap_sep = np.full(tt.n_stops, np.iinfo(np.int64).max)
            cheap_card = cheap_sep.copy()
            np.minimum.at(cheap_sep, res.stop, np.where(res.fare_minor >= 0, res.fare_minor, cheap_sep.max()))
            np.minimum.at(cheap_card, rc.stop, np.where(rc.fare_minor >= 0, rc.fare_minor, cheap_card.max()))
            fb = (cheap_sep < cheap_sep.max()) & (cheap_card < cheap_card.max())
            d_fare.extend(((cheap_sep[fb] - cheap_card[fb]) / 100).tolist())
        plain_ms, plain_cpu = (1000 * statistics.mean(x) for x in zip(*t_plain, strict=True))
        print(f"\nhorizon {horizon} min, {args.queries} queries, at most {rounds} trips (ms per query, mean of "
              f"fastest runs; wall clock, then this thread's CPU time)")
        print(f"  {'plain RAPTOR':<29} {plain_ms:8.2f} ms {'':12} {plain_cpu:8.2f} ms cpu")
        rows = [("penalised RAPTOR", t_pen, None, ""), ("McRAPTOR exact windows", t_exact, labels, ""),
                ("McRAPTOR first vehicle", t_fast, labels_fast, "")]
        if with_cap:
            rows.append((f"McRAPTOR fare horizon {args.fare_horizon:g} min", t_cap, labels_cap,
                         f"; Pareto set differs from exact at {100 * statistics.mean(differ):.1f}% of reached stops"))
        for name, ts, labs, extra in rows:
            ms, cpu = (1000 * statistics.mean(x) for x in zip(*ts, strict=True))
            lab = f"  {statistics.mean(labs):9,.0f} labels per query" if labs else ""
            print(f"  {name:<29} {ms:8.2f} ms {ms / plain_ms:6.1f}x plain {cpu:8.2f} ms cpu {cpu / plain_cpu:6.1f}x plain"
                  f"{lab}{extra}")
        print(f"  Pareto set per reached stop: mean {statistics.mean(sizes):.2f}, median {statistics.median(sizes):.0f}, "
              f"max {max(sizes)}; stops with 2+ options {100 * statistics.mean(multi):.0f}%")
        print(f"  unified card vs separate systems, per reached stop: earliest arrival "
              f"{statistics.mean(d_time):.2f} min earlier (max {max(d_time):.1f}); cheapest fare "
              f"EUR {statistics.mean(d_fare):.2f} lower (max {max(d_fare):.2f})")
    print("load average (1, 5, 15 min) at end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0 if ok else 1


def _share_differing(a, b) -> float:
    """Share of the stops reached in ``a`` whose Pareto set differs in ``b``."""
    def fronts(r):
        out: dict[int, set] = {}
        for s, t, f, k in zip(r.stop.tolist(), r.arrival_s.tolist(), r.fare_minor.tolist(), r.n_trips.tolist(),
                              strict=True):
            out.setdefault(s, set()).add((t, f, k))
        return out
    fa, fb = fronts(a), fronts(b)
    return sum(fa[s] != fb.get(s) for s in fa) / max(1, len(fa))


if __name__ == "__main__":
    raise SystemExit(main())
