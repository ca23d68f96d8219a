"""Benchmark the network build on generated grid cities (issue 17, "Scale").

A grid city (seeded, so every run builds the same one): every row and column of an
``n x n`` grid of nodes 80 m apart is a residential street (an ``.osm.pbf`` written with
pyosmium's ``SimpleWriter``); bus lines run along every ``m``-th row and column, both
ways, every 6 minutes from 05:00 to 23:00, stopping every ``b`` blocks (a GTFS zip).

For each size, in child processes (so each peak RSS is one process's own):

* the build, as ``plan network build --osm CITY.osm.pbf --gtfs CITY.zip --date D`` does it
  (walk network, feeds read, multimodal network built and saved to a fresh cache folder),
  with the time of each step and the child's peak RSS (``VmHWM``);
* ``pyarrow.csv.read_csv`` of the same ``stop_times.txt`` (unzipped first, not timed);

and prints the build time as a multiple of pyarrow's read, the seconds and bytes per stop
time, and the machine's load average.

Run: ``python scripts/bench_build.py --sizes small metro region`` (``tiny`` is a smoke
test of a few seconds). Generated cities are kept in ``--data`` (default: the system's
temporary folder, ``plan_bench_build/``), named by size and seed, and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: name -> (grid nodes per side, a line every m rows/columns, a stop every b blocks)
SIZES = {
    "tiny": (24, 8, 4),
    "small": (256, 8, 8),
    "medium": (512, 8, 8),
    "metro": (1024, 16, 8),
    "region": (2048, 32, 8),
}
BLOCK_M = 80.0
LAT0, LON0 = 45.0, 10.0
HEADWAY_S = 360
FIRST_S, LAST_S = 5 * 3600, 23 * 3600
SPEED_MPS = 6.0
DATE = "2026-03-03"


# -- the generator --------------------------------------------------------------------------
def _coords(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    dlat = BLOCK_M / 111_320.0
    dlon = BLOCK_M / (111_320.0 * np.cos(np.radians(LAT0)))
    # a jitter of up to 2 m so that the city is not perfectly regular (seeded)
    jit = rng.uniform(-2.0, 2.0, size=(2, n * n)) / 111_320.0
    r, c = np.divmod(np.arange(n * n), n)
    return LAT0 + r * dlat + jit[0], LON0 + c * dlon + jit[1]


def write_osm(path: Path, n: int, seed: int) -> None:
    """The street grid: node ``r * n + c + 1``; one way per row and per column."""
    import osmium

    lat, lon = _coords(n, seed)
    tmp = path.with_name(path.name + ".part.osm.pbf")
    tmp.unlink(missing_ok=True)
    w = osmium.SimpleWriter(str(tmp))
    try:
        for i in range(n * n):
            w.add_node(osmium.osm.mutable.Node(id=i + 1, location=(float(lon[i]), float(lat[i])), version=1))
        tags = {"highway": "residential"}
        wid = 1
        for r in range(n):
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=list(range(r * n + 1, r * n + n + 1)), tags=tags, version=1))
            wid += 1
        for c in range(n):
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=list(range(c + 1, n * n + 1, n)), tags=tags, version=1))
            wid += 1
    finally:
        w.close()
    os.replace(tmp, path)


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def write_gtfs(path: Path, n: int, m: int, b: int, seed: int) -> dict:
    """Bus lines along every ``m``-th row and column, both directions, a stop every ``b``
    nodes; returns counts."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    lat, lon = _coords(n, seed)
    rows = range(m // 2, n, m)
    lines = []  # (line id, [node index, ...])
    for r in rows:
        lines.append((f"R{r}", [r * n + c for c in range(0, n, b)]))
    for c in rows:
        lines.append((f"C{c}", [r * n + c for r in range(0, n, b)]))
    stop_nodes = sorted({x for _l, nodes in lines for x in nodes})
    hop_s = round(b * BLOCK_M / SPEED_MPS)
    tmp = path.with_name(path.name + ".part")
    n_st = n_trips = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("agency.txt", "agency_id,agency_name,agency_url,agency_timezone\nA,Grid Bus,https://example.org,"
                                 "Europe/Rome\n")
        z.writestr("calendar.txt", "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
                                   "end_date\nALL,1,1,1,1,1,1,1,20260101,20261231\n")
        z.writestr("stops.txt", "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
            f"S{x},Stop {x // n}/{x % n},{lat[x]:.7f},{lon[x]:.7f}\n" for x in stop_nodes))
        z.writestr("routes.txt", "route_id,agency_id,route_short_name,route_long_name,route_type\n" + "".join(
            f"{lid},A,{lid},,3\n" for lid, _n in lines))
        trips = ["route_id,service_id,trip_id,direction_id\n"]
        times = [_hms(s) for s in range(0, 2 * 86_400)]
        with z.open("stop_times.txt", "w") as fh:
            fh.write(b"trip_id,arrival_time,departure_time,stop_id,stop_sequence\n")
            for lid, nodes in lines:
                offset = int(rng.integers(0, HEADWAY_S // 60)) * 60  # lines start at different minutes
                for d, seq in (("0", nodes), ("1", nodes[::-1])):
                    sids = [f"S{x}" for x in seq]
                    for k, t0 in enumerate(range(FIRST_S + offset, LAST_S + 1, HEADWAY_S)):
                        tid = f"{lid}_{d}_{k}"
                        trips.append(f"{lid},ALL,{tid},{d}\n")
                        fh.write("".join(f"{tid},{times[t0 + i * hop_s]},{times[t0 + i * hop_s]},{s},{i + 1}\n"
                                         for i, s in enumerate(sids)).encode())
                        n_trips += 1
                        n_st += len(sids)
        z.writestr("trips.txt", "".join(trips))
    os.replace(tmp, path)
    return {"stops": len(stop_nodes), "lines": len(lines), "trips": n_trips, "stop_times": n_st}


def city(size: str, seed: int, data: Path) -> dict:
    """Generate (or reuse) the city of ``size``; returns its paths and counts."""
    n, m, b = SIZES[size]
    folder = data / f"{size}-{n}-{m}-{b}-seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    osm, gtfs, meta = folder / "city.osm.pbf", folder / "city.zip", folder / "city.json"
    if not meta.exists() or not osm.exists() or not gtfs.exists():
        t = time.perf_counter()
        write_osm(osm, n, seed)
        counts = write_gtfs(gtfs, n, m, b, seed)
        counts["street_nodes"] = n * n
        counts["generated_s"] = round(time.perf_counter() - t, 1)
        tmp = meta.with_suffix(".part")
        tmp.write_text(json.dumps(counts))
        os.replace(tmp, meta)
    counts = json.loads(meta.read_text())
    return {"folder": folder, "osm": osm, "gtfs": gtfs, **counts}


# -- what the child processes do ------------------------------------------------------------
def _peak_rss() -> int:
    """This process's peak resident set (bytes), from /proc (VmHWM) or getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child_build(osm: str, gtfs: str, cache: str) -> dict:
    from planner.config import Config
    from planner.ingest.gtfs.feed import read_feeds
    from planner.network.build import build_network
    from planner.network.streets import build_street_network

    config = Config(progress=False)
    t0 = time.perf_counter()
    walk = build_street_network(osm, "walk", config=config, cache_dir=cache)
    t1 = time.perf_counter()
    feeds = read_feeds([gtfs], config=config)
    t2 = time.perf_counter()
    net = build_network([gtfs], DATE, window=(0, 36 * 3600), walk=walk, config=config, cache_dir=cache,
                        preloaded=feeds)
    t3 = time.perf_counter()
    return {"walk_s": t1 - t0, "read_feeds_s": t2 - t1, "network_s": t3 - t2, "build_s": t3 - t0,
            "stop_events": int(net.timetable.n_stop_events), "peak_rss": _peak_rss()}


def child_read(stop_times: str) -> dict:
    import pyarrow.csv as pacsv

    t = time.perf_counter()
    tbl = pacsv.read_csv(stop_times)
    return {"read_s": time.perf_counter() - t, "rows": tbl.num_rows, "peak_rss": _peak_rss()}


def _run_child(*args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env,
                       check=False)
    if r.returncode != 0:
        msg = f"child {args[0]} failed ({r.returncode}):\n{r.stderr[-4000:]}"
        raise RuntimeError(msg)
    return json.loads(r.stdout.strip().splitlines()[-1])


def measure(size: str, seed: int, data: Path) -> dict:
    c = city(size, seed, data)
    with tempfile.TemporaryDirectory(prefix="bench_build_") as tmp:
        with zipfile.ZipFile(c["gtfs"]) as z:
            z.extract("stop_times.txt", tmp)
        read = _run_child("read", str(Path(tmp) / "stop_times.txt"))
        build = _run_child("build", str(c["osm"]), str(c["gtfs"]), str(Path(tmp) / "cache"))
    n = c["stop_times"]
    return {"size": size, "street_nodes": c["street_nodes"], "stops": c["stops"], "stop_times": n,
            "stop_events": build["stop_events"], "walk_s": build["walk_s"], "read_feeds_s": build["read_feeds_s"],
            "network_s": build["network_s"], "build_s": build["build_s"], "peak_rss": build["peak_rss"],
            "pyarrow_read_s": read["read_s"], "pyarrow_rss": read["peak_rss"],
            "ratio": build["build_s"] / read["read_s"], "us_per_stop_time": build["build_s"] / n * 1e6,
            "bytes_per_stop_time": build["peak_rss"] / n}


def table(results: list[dict]) -> str:
    head = ("| size | street nodes | stops | stop times | walk s | feeds s | network s | build s | peak RSS GB "
            "| pyarrow read s | build / read | µs per stop time | bytes per stop time |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        out.append(f"| {r['size']} | {r['street_nodes']:,} | {r['stops']:,} | {r['stop_times']:,} | {r['walk_s']:.1f} "
                   f"| {r['read_feeds_s']:.1f} | {r['network_s']:.1f} | {r['build_s']:.1f} | {r['peak_rss'] / 1e9:.2f} "
                   f"| {r['pyarrow_read_s']:.2f} | {r['ratio']:.1f} | {r['us_per_stop_time']:.2f} "
                   f"| {r['bytes_per_stop_time']:.0f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["small", "metro"], choices=list(SIZES))
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "plan_bench_build")
    ap.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        kind, *args = a.child
        print(json.dumps(child_build(*args) if kind == "build" else child_read(*args)))
        return 0
    results = []
    start_load = os.getloadavg()
    for size in a.sizes:
        r = measure(size, a.seed, a.data)
        results.append(r)
        print(f"{size}: build {r['build_s']:.1f} s, peak RSS {r['peak_rss'] / 1e9:.2f} GB, "
              f"{r['ratio']:.1f}x pyarrow's read ({r['pyarrow_read_s']:.2f} s)", flush=True)
    print()
    print(table(results))
    print(f"\nload average (1, 5, 15 min) at the start: {', '.join(f'{x:.2f}' for x in start_load)}; at the end: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs")
    if a.json:
        tmp = a.json.with_name(a.json.name + ".part")
        tmp.write_text(json.dumps({"results": results, "loadavg_start": start_load, "loadavg": os.getloadavg()},
                                  indent=1))
        os.replace(tmp, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
