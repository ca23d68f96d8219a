#!/usr/bin/env python
"""Crash consistency of the planner's cache and output writers under ``kill -9`` (issue 11).

Two experiments, both on the real writers and readers of ``planner``:

1. **Kill trials** (goal G8). A child process writes, in a loop and alternating between
   two versions A and B of every payload:

   * ``network``: a multimodal network cache entry (``planner.network.store.save``: ``.npz``
     + ``.json`` under the cache lock);
   * ``streets``: a street network cache entry (``planner.network.streets.save_cached``);
   * ``osm``: an online OSM response entry (``planner.ingest.osm._online.save_response``);
   * ``stage``: an output folder through ``OutputStage`` (CSV, GeoTIFF, JSON);
   * ``atomic``: a CSV (``write_text``) and a GeoTIFF (``write_geotiff``) written in place.

   The parent kills it with SIGKILL after a random delay (uniform over about two write
   cycles, so kills land in every phase), then checks:

   * every final file present (not a temp file) is byte-identical to version A or B of
     that file (GeoTIFFs: identical pixels and tags) -- no half-written final file;
   * every entry read through the library's readers (``_network_io.load``,
     ``streets.load_cached``, ``load_cached_response``, reading the output files) is either
     a miss or equal to version A or B in full -- never a corrupt read. A network pair torn
     by the kill (new npz, old json) must be a miss: its checksum does not match;
   * the next run's sweeps (``sweep_temp_files`` as ``build_street_network`` calls it, the
     network loader's sweep, ``OutputStage``'s sweep, ``atomic_write``'s sweep of the
     file's own orphans) leave no orphan temp file or staging folder;
   * an output folder caught between the publishing renames (files of both versions, each
     whole) holds one version only after the next run's ``OutputStage`` sweep, which
     finishes the interrupted publishing.

   The folders persist from trial to trial (an entry is usually overwritten, as with
   ``--refresh``), except that about one trial in four starts from empty folders.

2. **Concurrency** (goal G9). ``--procs`` processes run ``--iterations`` random operations
   each on one shared cache and output folder: write version A or B of an entry, or read an
   entry and check it is absent or exactly A or B. Any exception (``JSONDecodeError``
   included), any partial or mixed read counts as a failure.

Children are forked from the parent by default (fast: no start-up cost per trial);
``--start spawn`` starts each child as a fresh interpreter instead (about 2 s each; the
child writes every kind once into a scratch folder before it reports ready, so the kill
delays fall on warm write cycles as in fork mode).

Usage::

    python scripts/crash_consistency.py                        # 200 trials, 8 x 50 concurrency
    python scripts/crash_consistency.py --trials 16 --procs 4 --iterations 20 --json
    python scripts/crash_consistency.py --start spawn --trials 50

Exit code 0 when there were no corrupt files, no corrupt reads, no errors and no orphans
left after the sweeps; 1 otherwise. ``tests/test_crash_consistency.py`` runs a small
version in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from planner.common.atomic import (  # noqa: E402
    STAGING_PREFIX,
    TEMP_SUFFIX,
    OutputStage,
    _sweep_orphans_of,
    sweep_temp_files,
    write_text,
)
from planner.config import Config  # noqa: E402
from planner.ingest.osm._online import OSMRequest, load_cached_response, save_response  # noqa: E402
from planner.network import store as _network_io  # noqa: E402
from planner.network.links import Footpaths  # noqa: E402
from planner.network.streets import _ARRAYS, StreetNetwork, load_cached, save_cached  # noqa: E402

KINDS = ("network", "streets", "osm", "stage", "atomic")
STAGE_FILES = ("matrix.csv", "access.tif", "summary.json")
ATOMIC_FILES = ("table.csv", "single.tif")
STREETS_KEY = "crash-consistency-streets"
REQUEST = OSMRequest(bbox=(126.0, 45.0, 126.1, 45.1))
CONFIG = Config()


# ============================================================================ payloads


def _synthetic_feed(folder: Path, size: int = 16) -> Path:
    """A GTFS feed: a size x size grid of stops, a bus line along every row and column,
    both ways, every 10 minutes 06:00-10:00 (about 1 MB of network arrays)."""
    folder.mkdir(parents=True, exist_ok=True)
    stops = ["stop_id,stop_name,stop_lat,stop_lon"]
    for r in range(size):
        for c in range(size):
            stops.append(f"S{r}_{c},Stop {r}/{c},{45.0 + 0.004 * r:.4f},{126.0 + 0.005 * c:.4f}")
    routes = ["route_id,agency_id,route_short_name,route_type"]
    trips = ["route_id,service_id,trip_id"]
    times = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    lines = [[f"S{r}_{c}" for c in range(size)] for r in range(size)]
    lines += [[f"S{r}_{c}" for r in range(size)] for c in range(size)]
    for li, seq in enumerate(lines):
        routes.append(f"L{li},A,{li},3")
        for d, stops_of in enumerate((seq, seq[::-1])):
            for k in range(25):
                trip = f"L{li}_{d}_{k}"
                trips.append(f"L{li},D,{trip}")
                t0 = 6 * 3600 + 600 * k + 60 * li % 300
                for j, s in enumerate(stops_of):
                    t = t0 + 90 * j
                    hms = f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"
                    times.append(f"{trip},{hms},{hms},{s},{j + 1}")
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,A,https://a.example,Asia/Shanghai\n",
        "stops.txt": "\n".join(stops) + "\n", "routes.txt": "\n".join(routes) + "\n",
        "trips.txt": "\n".join(trips) + "\n", "stop_times.txt": "\n".join(times) + "\n",
        "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                         "D,1,1,1,1,1,1,1,20250101,20251231\n"),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _grid_osm(path: Path, size: int = 30) -> Path:
    """OSM XML: a size x size street grid."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for r in range(size):
        for c in range(size):
            out.append(f'<node id="{1 + r * size + c}" lat="{45.0 + 0.002 * r:.4f}" lon="{126.0 + 0.003 * c:.4f}"/>')
    way = 1
    for r in range(size):
        out.append(f'<way id="{way}">' + "".join(f'<nd ref="{1 + r * size + c}"/>' for c in range(size))
                   + '<tag k="highway" v="residential"/></way>')
        way += 1
    for c in range(size):
        out.append(f'<way id="{way}">' + "".join(f'<nd ref="{1 + r * size + c}"/>' for r in range(size))
                   + '<tag k="highway" v="residential"/></way>')
        way += 1
    out.append("</osm>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def prepare_templates(folder: Path) -> None:
    """Build the payloads once (the slow part) and save them under ``folder``."""
    from planner.network.build import build_network
    from planner.network.streets import build_street_network

    folder.mkdir(parents=True, exist_ok=True)
    feed = _synthetic_feed(folder / "feed")
    net = build_network([f"grid={feed}"], "2025-03-04", config=CONFIG, cache_dir=folder / "net_cache")
    (folder / "net_key.txt").write_text(net.key, encoding="utf-8")
    streets = build_street_network(_grid_osm(folder / "grid.osm"), "walk", config=CONFIG, use_cache=False)
    streets.save(folder / "streets" / "walk-template", key=STREETS_KEY)
    rng = np.random.default_rng(11)
    lat = np.round(45.0 + rng.random(5_000) * 0.1, 7)
    lon = np.round(126.0 + rng.random(5_000) * 0.1, 7)
    elements = [{"type": "node", "id": i + 1, "lat": float(a), "lon": float(b), "tags": {"n": str(i)}}
                for i, (a, b) in enumerate(zip(lat, lon, strict=True))]
    (folder / "osm_elements.json").write_text(json.dumps(elements), encoding="utf-8")


def _grid_and_bands(version: int):
    from affine import Affine

    rng = np.random.default_rng(100 + version)
    h, w = 120, 160
    grid = SimpleNamespace(width=w, height=h, shape=(h, w), crs="EPSG:32652",
                           transform=Affine(100.0, 0.0, 300_000.0, 0.0, -100.0, 5_000_000.0))
    bands = [SimpleNamespace(name=f"band{i}", unit="minutes", description=f"version {version} band {i}",
                             tags={"version": str(version)}, values=rng.random((h, w)) * 100.0)
             for i in range(2)]
    return grid, bands


def _csv_text(version: int, rows: int) -> str:
    rng = np.random.default_rng(200 + version)
    vals = rng.random((rows, 3)) * 500.0
    return "from_id,to_id,travel_time_min\n" + "".join(
        f"o{i % 97},d{i},{v[0]:.2f}\n" for i, v in enumerate(vals))


@dataclasses.dataclass
class Context:
    """The two versions of every payload, and their fingerprints."""

    net_key: str
    networks: list
    streets: list
    elements: list
    csv: list
    atomic_csv: list
    rasters: list
    summary: list
    fp: dict = dataclasses.field(default_factory=dict)


def load_context(templates: Path) -> Context:
    key = (templates / "net_key.txt").read_text(encoding="utf-8").strip()
    base = _network_io.load(templates / "net_cache", key, CONFIG)
    if base is None:
        msg = f"template network missing in {templates}"
        raise RuntimeError(msg)
    base.inputs.pop("from_cache", None)
    fp = base.footpaths
    other = dataclasses.replace(base, footpaths=Footpaths(fp.ptr, fp.to, fp.seconds + 1, fp.metres),
                                inputs=dict(base.inputs))
    s_a = StreetNetwork.load(templates / "streets" / "walk-template", key=STREETS_KEY)
    s_b = StreetNetwork.load(templates / "streets" / "walk-template", key=STREETS_KEY)
    s_b.time_s = s_b.time_s + 1.0
    for s in (s_a, s_b):
        s.meta.pop("cache_path", None)
        s.meta.pop("from_cache", None)
    el_a = json.loads((templates / "osm_elements.json").read_text(encoding="utf-8"))
    el_b = [{**e, "tags": {"n": e["tags"]["n"], "v": "B"}} for e in el_a]
    ctx = Context(net_key=key, networks=[base, other], streets=[s_a, s_b], elements=[el_a, el_b],
                  csv=[_csv_text(v, 8000) for v in (0, 1)], atomic_csv=[_csv_text(v + 10, 4000) for v in (0, 1)],
                  rasters=[_grid_and_bands(v) for v in (0, 1)],
                  summary=[json.dumps({"version": v, "rows": 8000}, indent=1) + "\n" for v in (0, 1)])
    ctx.fp = {
        "network": [network_fp(n) for n in ctx.networks],
        "streets": [streets_fp(s) for s in ctx.streets],
        "osm": [_sha(json.dumps(e, sort_keys=True).encode()) for e in ctx.elements],
    }
    return ctx


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _array_bytes(a) -> bytes:
    a = np.asarray(a)
    if a.dtype == object or a.dtype.kind == "U":
        return json.dumps([str(x) for x in a.tolist()]).encode()
    return f"{a.dtype}|{a.shape}".encode() + np.ascontiguousarray(a).tobytes()


def network_fp(net) -> str:
    h = hashlib.sha256()
    tt = net.timetable
    for f in sorted(dataclasses.fields(tt), key=lambda f: f.name):
        v = getattr(tt, f.name)
        if isinstance(v, np.ndarray):
            h.update(f.name.encode() + _array_bytes(v))
    h.update(str(tt.service_date).encode() + json.dumps(list(tt.feed_ids)).encode() + str(tuple(tt.window)).encode())
    fp = net.footpaths
    for a in (fp.ptr, fp.to, fp.seconds, fp.metres, net.footpath_method, net.change_s, net.stop_node,
              np.asarray(net.stop_snap_m, dtype=np.float64)):
        h.update(_array_bytes(a))
    return h.hexdigest()


def streets_fp(net) -> str:
    h = hashlib.sha256()
    for name in _ARRAYS:
        h.update(name.encode() + _array_bytes(getattr(net, name)))
    return h.hexdigest()


def raster_fp(path: Path) -> str:
    import rasterio

    with rasterio.open(path) as src:
        h = hashlib.sha256(json.dumps([src.tags(), [src.tags(i) for i in range(1, src.count + 1)],
                                       list(src.descriptions), str(src.crs), list(src.transform)[:6]],
                                      sort_keys=True).encode())
        for i in range(1, src.count + 1):
            h.update(_array_bytes(src.read(i)))
    return h.hexdigest()


# ============================================================================ writers and readers


@dataclasses.dataclass
class Dirs:
    cache: Path
    out: Path

    @property
    def stage(self) -> Path:
        return self.out / "stage"

    @property
    def atomic(self) -> Path:
        return self.out / "atomic"

    @property
    def streets_stem(self) -> Path:
        return self.cache / "networks" / "walk-crashtest"


def write(kind: str, ctx: Context, dirs: Dirs, v: int) -> None:
    from planner.outputs.raster import write_geotiff

    if kind == "network":
        _network_io.save(ctx.networks[v], dirs.cache)
    elif kind == "streets":
        ctx.streets[v].meta.pop("cache_path", None)  # save_cached records where it saved
        save_cached(ctx.streets[v], dirs.streets_stem, STREETS_KEY)
    elif kind == "osm":
        save_response(dirs.cache, REQUEST, ctx.elements[v])
    elif kind == "stage":
        with OutputStage(dirs.stage, overwrite=True) as stage:
            write_text(stage.path("matrix.csv"), ctx.csv[v])
            grid, bands = ctx.rasters[v]
            write_geotiff(stage.path("access.tif"), grid, bands, tags={"version": str(v)})
            write_text(stage.path("summary.json"), ctx.summary[v])
    elif kind == "atomic":
        write_text(dirs.atomic / "table.csv", ctx.atomic_csv[v])
        grid, bands = ctx.rasters[v]
        write_geotiff(dirs.atomic / "single.tif", grid, bands, tags={"version": str(v)})
    else:
        raise ValueError(kind)


def read(kind: str, ctx: Context, dirs: Dirs) -> dict[str, str]:
    """Read ``kind`` through the library: ``{entry: "A" | "B" | "miss" | "corrupt"}``."""
    def which(fp: str, fps: list[str]) -> str:
        return "AB"[fps.index(fp)] if fp in fps else "corrupt"

    if kind == "network":
        net = _network_io.load(dirs.cache, ctx.net_key, CONFIG)
        return {"network": "miss" if net is None else which(network_fp(net), ctx.fp["network"])}
    if kind == "streets":
        net, _dropped = load_cached(dirs.streets_stem, STREETS_KEY)
        return {"streets": "miss" if net is None else which(streets_fp(net), ctx.fp["streets"])}
    if kind == "osm":
        doc, _path = load_cached_response(dirs.cache, REQUEST)
        if doc is None:
            return {"osm": "miss"}
        return {"osm": which(_sha(json.dumps(doc["elements"], sort_keys=True).encode()), ctx.fp["osm"])}
    out = {}
    if kind == "stage":
        texts = {"matrix.csv": ctx.csv, "summary.json": ctx.summary}
        folder, rasters = dirs.stage, {"access.tif"}
    else:
        texts = {"table.csv": ctx.atomic_csv}
        folder, rasters = dirs.atomic, {"single.tif"}
    for name, versions in texts.items():
        p = folder / name
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            out[f"{kind}/{name}"] = "miss"
            continue
        out[f"{kind}/{name}"] = "AB"[versions.index(text)] if text in versions else "corrupt"
    for name in rasters:
        p = folder / name
        if not p.exists():
            out[f"{kind}/{name}"] = "miss"
            continue
        try:
            fp = raster_fp(p)
        except Exception:  # any failure to read a final file is a corrupt read
            fp = "unreadable"
        out[f"{kind}/{name}"] = which(fp, ctx.fp["raster"])
    return out


def expected_files(ctx: Context, scratch: Path) -> dict[str, set[str]]:
    """SHA-256 of every final file each version writes, by path relative to its root."""
    sums: dict[str, set[str]] = {}
    for v in (0, 1):
        d = Dirs(scratch / f"v{v}" / "cache", scratch / f"v{v}" / "out")
        for kind in KINDS:
            write(kind, ctx, d, v)
        for root in (d.cache, d.out):
            for p in root.rglob("*"):
                if p.is_file():
                    sums.setdefault(p.relative_to(root).as_posix(), set()).add(_file_sum(p))
    ctx.fp["raster"] = [raster_fp(scratch / f"v{v}" / "out" / "atomic" / "single.tif") for v in (0, 1)]
    stage_fp = [raster_fp(scratch / f"v{v}" / "out" / "stage" / "access.tif") for v in (0, 1)]
    if stage_fp != ctx.fp["raster"]:
        msg = "the two GeoTIFF writers disagree"
        raise RuntimeError(msg)
    return sums


def _file_sum(p: Path) -> str:
    return raster_fp(p) if p.suffix == ".tif" else _sha(p.read_bytes())


def orphans(dirs: Dirs) -> list[Path]:
    found = []
    for root in (dirs.cache, dirs.out):
        if root.exists():
            for p in root.rglob("*"):
                if (p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX)) or p.name.startswith(STAGING_PREFIX):
                    found.append(p)
    return found


def final_files(dirs: Dirs) -> dict[str, Path]:
    """Final files (no temp files, nothing inside staging folders), by relative path."""
    out = {}
    for root in (dirs.cache, dirs.out):
        if not root.exists():
            continue
        for p in root.rglob("*"):
            rel = p.relative_to(root)
            if not p.is_file() or any(part.startswith(".") for part in rel.parts):
                continue
            out[rel.as_posix()] = p
    return out


# ============================================================================ kill trials


def child_loop(ctx: Context, dirs: Dirs, log_path: Path, first: int, start_version: int) -> None:
    """Write every kind in turn, alternating versions, forever (until killed)."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, b"ready\n")
    i = 0
    while True:
        kind = KINDS[(first + i) % len(KINDS)]
        v = (start_version + i // len(KINDS)) % 2
        os.write(fd, f"begin {kind} {v}\n".encode())
        write(kind, ctx, dirs, v)
        os.write(fd, f"end {kind} {v}\n".encode())
        i += 1


def _start_child(args, ctx, dirs: Dirs, log_path: Path, first: int, version: int, templates: Path):
    if args.start == "fork":
        pid = os.fork()
        if pid == 0:  # the child: write until killed
            try:
                child_loop(ctx, dirs, log_path, first, version)
            except BaseException:  # report and leave without cleanup
                traceback.print_exc()
            finally:
                os._exit(3)
        return pid
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(templates), str(dirs.cache),
           str(dirs.out), str(log_path), str(first), str(version)]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    return proc


def _wait_ready(log_path: Path, timeout: float) -> bool:
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        with contextlib.suppress(FileNotFoundError):
            if log_path.read_bytes().startswith(b"ready"):
                return True
        time.sleep(0.002)
    return False


def calibrate(ctx: Context, scratch: Path) -> float:
    """Seconds of one full write cycle (every kind once)."""
    d = Dirs(scratch / "cal" / "cache", scratch / "cal" / "out")
    t = time.perf_counter()
    for _ in range(2):
        for kind in KINDS:
            write(kind, ctx, d, 0)
    return (time.perf_counter() - t) / 2


def run_trials(args, ctx: Context, work: Path, templates: Path, expected: dict[str, set[str]], cycle_s: float,
               report: dict) -> None:
    rng = random.Random(args.seed)
    dirs = Dirs(work / "trials" / "cache", work / "trials" / "out")
    max_delay = max(0.02, args.cycles * cycle_s)
    c = report["kill_trials"] = {
        "trials": 0, "kills_mid_write": 0, "kills_between_writes": 0, "kills_by_kind": {k: 0 for k in KINDS},
        "fresh_folders": 0, "orphans_found": 0, "orphans_swept": 0, "orphans_left": 0,
        "final_files_checked": 0, "corrupt_final_files": 0, "reads": 0, "hits": 0, "misses": 0,
        "corrupt_reads": 0, "torn_pairs_dropped": 0, "mixed_output_sets": 0,
        "mixed_output_sets_after_next_run": 0, "errors": 0,
        "max_delay_s": round(max_delay, 4), "cycle_s": round(cycle_s, 4), "start": args.start, "problems": [],
    }
    for trial in range(args.trials):
        if trial == 0 or rng.random() < 0.25:
            shutil.rmtree(dirs.cache, ignore_errors=True)
            shutil.rmtree(dirs.out, ignore_errors=True)
            c["fresh_folders"] += 1
        log_path = work / "trials" / "child.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.unlink(missing_ok=True)
        first, version = rng.randrange(len(KINDS)), rng.randrange(2)
        child = _start_child(args, ctx, dirs, log_path, first, version, templates)
        pid = child if isinstance(child, int) else child.pid
        if not _wait_ready(log_path, 120.0 if args.start == "spawn" else 30.0):
            c["errors"] += 1
            c["problems"].append(f"trial {trial}: child never started")
        time.sleep(rng.uniform(0.0, max_delay))
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if isinstance(child, int):
            _pid, status = os.waitpid(pid, 0)
            if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
                c["errors"] += 1
                c["problems"].append(f"trial {trial}: the child ended before the kill (status {status})")
        else:
            rc = child.wait()
            if rc != -signal.SIGKILL:
                c["errors"] += 1
                c["problems"].append(f"trial {trial}: the child ended before the kill (rc {rc})")
        c["trials"] += 1
        lines = log_path.read_text(encoding="utf-8").split("\n") if log_path.exists() else []
        last = next((ln for ln in reversed(lines) if ln.strip()), "")
        if last.startswith("begin"):
            c["kills_mid_write"] += 1
            c["kills_by_kind"][last.split()[1]] += 1
        else:
            c["kills_between_writes"] += 1
        _verify_after_kill(ctx, dirs, expected, c, trial)


def _verify_after_kill(ctx: Context, dirs: Dirs, expected: dict[str, set[str]], c: dict, trial: int) -> None:
    left = orphans(dirs)
    c["orphans_found"] += len(left)
    # 1. every final file on disk is exactly one version's file
    for rel, p in final_files(dirs).items():
        if rel not in expected:
            c["corrupt_final_files"] += 1
            c["problems"].append(f"trial {trial}: unexpected final file {rel}")
            continue
        c["final_files_checked"] += 1
        try:
            ok = _file_sum(p) in expected[rel]
        except Exception:
            ok = False
        if not ok:
            c["corrupt_final_files"] += 1
            c["problems"].append(f"trial {trial}: half-written or mixed final file {rel}")
    # 2. the library's readers: a miss or one whole version, never anything else
    net_stem = dirs.cache / "networks" / f"multimodal-{ctx.net_key[:40]}"
    had_network = all(net_stem.with_name(net_stem.name + s).exists() for s in (".json", ".npz"))
    had_streets = all(dirs.streets_stem.with_name(dirs.streets_stem.name + s).exists() for s in (".json", ".npz"))
    stage_versions = set()
    for kind in KINDS:
        for entry, got in read(kind, ctx, dirs).items():
            c["reads"] += 1
            if got == "corrupt":
                c["corrupt_reads"] += 1
                c["problems"].append(f"trial {trial}: corrupt read of {entry}")
            elif got == "miss":
                c["misses"] += 1
                if (entry == "network" and had_network) or (entry == "streets" and had_streets):
                    c["torn_pairs_dropped"] += 1
            else:
                c["hits"] += 1
                if entry.startswith("stage/"):
                    stage_versions.add(got)
    if len(stage_versions) > 1:
        c["mixed_output_sets"] += 1
    # 3. the next run's sweeps
    sweep_temp_files(dirs.cache)  # as build_street_network does first
    with OutputStage(dirs.stage, overwrite=True):  # sweeps the output folder
        pass
    for name in ATOMIC_FILES:  # as the next atomic_write of each file does
        _sweep_orphans_of(dirs.atomic / name)
    after = {got for entry, got in read("stage", ctx, dirs).items()}
    if len(after - {"miss"}) > 1 or "corrupt" in after:
        c["mixed_output_sets_after_next_run"] += 1
        c["problems"].append(f"trial {trial}: the output folder still mixes versions after the next run: {after}")
    still = orphans(dirs)
    c["orphans_swept"] += len(left) - len([p for p in still if p in left])
    c["orphans_left"] += len(still)
    if still:
        c["problems"].append(f"trial {trial}: orphans left after the sweeps: {[p.name for p in still]}")


# ============================================================================ concurrency


def concurrency_worker(ctx: Context, dirs: Dirs, seed: int, iterations: int, go_at: float, result: Path) -> None:
    rng = random.Random(seed)
    counts = {"writes": 0, "reads": 0, "hits": 0, "misses": 0, "corrupt_reads": 0, "errors": 0, "problems": []}
    while time.time() < go_at:
        time.sleep(0.001)
    for _ in range(iterations):
        kind = rng.choice(KINDS)
        try:
            if rng.random() < 0.4:
                write(kind, ctx, dirs, rng.randrange(2))
                counts["writes"] += 1
            else:
                for entry, got in read(kind, ctx, dirs).items():
                    counts["reads"] += 1
                    if got == "corrupt":
                        counts["corrupt_reads"] += 1
                        counts["problems"].append(f"corrupt read of {entry}")
                    else:
                        counts["hits" if got != "miss" else "misses"] += 1
        except Exception as err:  # every exception is a failure here
            counts["errors"] += 1
            counts["problems"].append(f"{kind}: {type(err).__name__}: {err}")
    result.write_text(json.dumps(counts), encoding="utf-8")


def run_concurrency(args, ctx: Context, work: Path, report: dict) -> None:
    dirs = Dirs(work / "shared" / "cache", work / "shared" / "out")
    shutil.rmtree(work / "shared", ignore_errors=True)
    go_at = time.time() + 0.3
    pids = []
    t0 = time.perf_counter()
    for k in range(args.procs):
        result = work / "shared_results" / f"{k}.json"
        result.parent.mkdir(parents=True, exist_ok=True)
        result.unlink(missing_ok=True)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                concurrency_worker(ctx, dirs, args.seed * 1000 + k, args.iterations, go_at, result)
            except BaseException:
                traceback.print_exc()
                code = 3
            finally:
                os._exit(code)
        pids.append(pid)
    total = {"procs": args.procs, "iterations": args.iterations, "writes": 0, "reads": 0, "hits": 0,
             "misses": 0, "corrupt_reads": 0, "errors": 0, "problems": []}
    for k, pid in enumerate(pids):
        _pid, status = os.waitpid(pid, 0)
        result = work / "shared_results" / f"{k}.json"
        if status != 0 or not result.exists():
            total["errors"] += 1
            total["problems"].append(f"worker {k} failed (status {status})")
            continue
        for key, v in json.loads(result.read_text(encoding="utf-8")).items():
            total[key] = total[key] + v
    total["seconds"] = round(time.perf_counter() - t0, 2)
    # afterwards every entry is whole and valid
    final = {}
    for kind in KINDS:
        final.update(read(kind, ctx, dirs))
    total["final_entries"] = final
    bad = {k: v for k, v in final.items() if v not in ("A", "B")}
    if bad:
        total["problems"].append(f"final entries not valid: {bad}")
        total["corrupt_reads"] += sum(v == "corrupt" for v in bad.values())
    total["orphans_left"] = len(orphans(dirs))
    report["concurrency"] = total


# ============================================================================ main


def _go_naive() -> None:
    """Replace the atomic writers by plain in-place writes (the negative control)."""
    import planner.ingest.osm._online
    import planner.network.streets
    import planner.outputs.raster

    def naive_bytes(path, data):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)

    def naive_text(path, text, encoding="utf-8"):
        naive_bytes(path, text.encode(encoding))

    @contextlib.contextmanager
    def in_place(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        yield Path(path)

    for mod in (_network_io, planner.network.streets, planner.ingest.osm._online, sys.modules[__name__]):
        if hasattr(mod, "write_bytes"):
            mod.write_bytes = naive_bytes
        if hasattr(mod, "write_text"):
            mod.write_text = naive_text
    planner.outputs.raster.temp_path = in_place


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=200, help="kill trials (default 200)")
    p.add_argument("--procs", type=int, default=8, help="concurrent processes (default 8; 0 skips)")
    p.add_argument("--iterations", type=int, default=50, help="operations per concurrent process (default 50)")
    p.add_argument("--seed", type=int, default=20250304)
    p.add_argument("--cycles", type=float, default=2.0,
                   help="kill delays are uniform over this many write cycles (default 2)")
    p.add_argument("--start", choices=("fork", "spawn"), default="fork",
                   help="fork the writer from this process (fast) or start a fresh interpreter")
    p.add_argument("--workdir", type=Path, default=None, help="keep the folders here (default: a temp folder)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--naive", action="store_true",
                   help="negative control: write every file in place (no temp file, no rename) to show "
                        "that the checks catch torn files; expect FAILED")
    p.add_argument("--child", nargs=6, metavar=("TEMPLATES", "CACHE", "OUT", "LOG", "FIRST", "VERSION"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the readers log each torn entry they drop
    if args.naive:
        _go_naive()
    if args.child:
        templates, cache, out, log_path, first, version = args.child
        ctx = load_context(Path(templates))
        warm = Dirs(Path(log_path).parent / "warmup" / "cache", Path(log_path).parent / "warmup" / "out")
        for kind in KINDS:  # a fresh interpreter's first writes import and initialise lazily
            write(kind, ctx, warm, 0)
        child_loop(ctx, Dirs(Path(cache), Path(out)), Path(log_path), int(first), int(version))
        return 0
    if not hasattr(os, "fork") and args.start == "fork":
        args.start = "spawn"
    t0 = time.perf_counter()
    tmp = None
    if args.workdir is None:
        tmp = tempfile.mkdtemp(prefix="plan-crash-")
        work = Path(tmp)
    else:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    try:
        templates = work / "templates"
        if not (templates / "net_key.txt").exists():
            prepare_templates(templates)
        ctx = load_context(templates)
        expected = expected_files(ctx, work / "expected")
        cycle_s = calibrate(ctx, work)
        report: dict = {"setup_s": round(time.perf_counter() - t0, 2)}
        t1 = time.perf_counter()
        if args.trials:
            run_trials(args, ctx, work, templates, expected, cycle_s, report)
            report["kill_trials"]["seconds"] = round(time.perf_counter() - t1, 2)
        if args.procs:
            run_concurrency(args, ctx, work, report)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    kt = report.get("kill_trials", {})
    cc = report.get("concurrency", {})
    failed = (kt.get("corrupt_final_files", 0) + kt.get("corrupt_reads", 0) + kt.get("orphans_left", 0)
              + kt.get("mixed_output_sets_after_next_run", 0)
              + kt.get("errors", 0) + cc.get("corrupt_reads", 0) + cc.get("errors", 0) + cc.get("orphans_left", 0))
    report["ok"] = failed == 0
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _print_report(report)
    return 0 if failed == 0 else 1


def _print_report(report: dict) -> None:
    kt = report.get("kill_trials")
    if kt:
        print(f"kill -9 trials: {kt['trials']} ({kt['start']}; delays uniform over 0..{kt['max_delay_s']} s, "
              f"one write cycle {kt['cycle_s']} s; {kt['fresh_folders']} from empty folders) in {kt['seconds']} s")
        print(f"  killed mid-write: {kt['kills_mid_write']}  "
              f"({', '.join(f'{k} {n}' for k, n in kt['kills_by_kind'].items())}); "
              f"between writes: {kt['kills_between_writes']}")
        print(f"  final files checked: {kt['final_files_checked']}, half-written or mixed: {kt['corrupt_final_files']}")
        print(f"  reads: {kt['reads']} (hits {kt['hits']}, misses {kt['misses']}, of which torn network pairs "
              f"dropped {kt['torn_pairs_dropped']}), corrupt reads: {kt['corrupt_reads']}")
        print(f"  orphan temp files / staging folders: found {kt['orphans_found']}, swept {kt['orphans_swept']}, "
              f"left {kt['orphans_left']}")
        print(f"  output folders holding files of both versions after a kill: {kt['mixed_output_sets']} "
              f"(each file whole; a kill between the publishing renames), still after the next run's "
              f"sweep: {kt['mixed_output_sets_after_next_run']}")
        for line in kt["problems"][:20]:
            print("  PROBLEM:", line)
    cc = report.get("concurrency")
    if cc:
        print(f"concurrency: {cc['procs']} processes x {cc['iterations']} operations on shared keys in "
              f"{cc['seconds']} s: writes {cc['writes']}, reads {cc['reads']} (hits {cc['hits']}, "
              f"misses {cc['misses']}), corrupt reads {cc['corrupt_reads']}, errors {cc['errors']}, "
              f"orphans left {cc['orphans_left']}")
        for line in cc["problems"][:20]:
            print("  PROBLEM:", line)
    print("OK" if report["ok"] else "FAILED")


if __name__ == "__main__":
    sys.exit(main())
