#!/usr/bin/env python
"""Run every ``plan`` command on the bundled sample and record what it prints and writes.

    python scripts/cli_snapshot.py OUT.json [--work DIR] [--only NAME ...]
    python scripts/cli_snapshot.py OUT.json --repo /tmp/old-worktree     # another checkout
    python scripts/cli_snapshot.py --compare BEFORE.json AFTER.json

A refactoring check: run it before and after a change that should not change behaviour and
compare the two manifests (elapsed times printed by the commands are masked). Each entry is one command line (every command and subcommand,
their ``--help``, a few bad inputs) with its exit code, stdout and stderr (SHA-256 and the
text) and a checksum of every file it wrote (:func:`tests.output_checksums.file_checksum`:
bytes for text/CSV/PNG, rows for Parquet, pixels and tags for GeoTIFF, features for
GeoPackage, whose file bytes carry a timestamp).

Every run uses the same work folder path (default ``/tmp/plan-cli-snapshot``, emptied first),
a copy of the checkout under test at the same place inside it (``repo/``: the package, the
bundled data and scenarios, so that paths printed by the commands are the same in both runs)
and a fresh network cache, so a cached network built by older code can never hide a change.
``SOURCE_DATE_EPOCH`` is fixed so that the report date is too.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.output_checksums import file_checksum  # noqa: E402

#: ``plan ARGS`` from the source tree given by --repo (PYTHONPATH), named ``plan`` in messages
RUN_PLAN = "import sys; from planner.cli.main import main; sys.exit(main(prog_name='plan'))"

ROUTE_A = ["--from", "126.6254,45.7600", "--to", "126.5723,45.7051", "--depart", "08:00"]
ROUTE_B = ["--from", "126.6254,45.7600", "--to", "125.3245,43.8868", "--depart", "07:30"]


def commands(work: Path) -> list[tuple[str, list[str]]]:
    """(name, argv after ``plan``) for every checked command line."""
    src = work / "repo"  # the copy under test (see the module docstring)
    out = work / "out"
    cache = ["--cache-dir", str(work / "cache")]
    scen = sorted(str(p) for p in (src / "scenarios").glob("*.yaml"))
    bad = work / "bad.yaml"
    cmds: list[tuple[str, list[str]]] = [
        ("help", ["--help"]),
        ("version", ["--version"]),
    ]
    for sub in ["evaluate", "fares", "route", "matrix", "access", "transfers", "net", "gtfs",
                "gtfs check", "gtfs from-timetable", "network", "network build",
                "network export", "osm", "osm info", "scenario", "scenario check",
                "scenario export"]:
        cmds.append((f"help {sub}", [*sub.split(), "--help"]))
    cmds += [
        ("evaluate", ["-q", "evaluate", "-o", str(out / "evaluate"), *cache]),
        ("evaluate spine", ["-q", "evaluate", str(src / "scenarios/spine_express.yaml"),
                            "--window", "60", "--step", "10", "-o", str(out / "evaluate_spine"),
                            *cache]),
        ("fares", ["-q", "fares", "-o", str(out / "fares"), *cache]),
        ("fares stop", ["-q", "fares", "--stop", "harbin_metro:L2_8416702419", "--no-grid",
                        "--window", "30", "--step", "10", "-o", str(out / "fares_stop"), *cache]),
        ("route a", ["-q", "route", *ROUTE_A, "--geojson", str(out / "route_a.geojson"), *cache]),
        ("route b", ["-q", "route", *ROUTE_B, *cache]),
        ("route pnr", ["-q", "route", *ROUTE_B, "--park-and-ride", *cache]),
        ("route stop", ["-q", "route", "--from", "stop:northeast_rail:VAB", "--to",
                        "stop:northeast_rail:CRT", "--depart", "06:00", *cache]),
        ("matrix", ["-q", "matrix", "--origins", str(src / "gtfs/cities.csv"), "--depart",
                    "07:00", "--window", "60", "--step", "10", "--percentiles", "5,50,95",
                    "--cutoff", "120", "-o", str(out / "matrix.csv"), *cache]),
        ("matrix parquet", ["-q", "matrix", "--origins", str(src / "gtfs/cities.csv"),
                            "--depart", "08:00", "-o", str(out / "matrix.parquet"), *cache]),
        ("access", ["-q", "access", "--cutoffs", "60,120,240", "--window", "30", "--step", "15",
                    "-o", str(out / "access"), *cache]),
        ("access surface", ["-q", "access", "--from", "126.6254,45.7600", "--depart", "08:00",
                            "--window", "15", "-o", str(out / "access_surface"), *cache]),
        ("access scenario", ["-q", "access", "--scenario",
                             str(src / "scenarios/spine_express.yaml"), "--cutoffs", "120,240",
                             "--window", "30", "--step", "15", "-o",
                             str(out / "access_scenario"), *cache]),
        ("transfers", ["-q", "transfers", "-o", str(out / "transfers"), "--write-scenario",
                       str(out / "connector.yaml"), *cache]),
        ("transfers places", ["-q", "transfers", "--od", "places", "--window", "30",
                              "-o", str(out / "transfers_places"), *cache]),
        ("net", ["-q", "net", "-o", str(out / "net")]),
        ("net spine", ["-q", "net", str(src / "scenarios/spine_express.yaml"),
                       "-o", str(out / "net_spine")]),
        ("gtfs check", ["gtfs", "check", *[str(p) for p in sorted((src / "gtfs").glob("*.zip"))],
                        "--notices", str(out / "notices.csv")]),
        ("gtfs check json", ["gtfs", "check", "--all", str(src / "gtfs/northeast_rail.zip"),
                             "--notices", str(out / "notices.json")]),
        ("gtfs from-timetable", ["gtfs", "from-timetable",
                                 str(src / "gtfs/source/rail_timetable.csv"),
                                 str(src / "gtfs/source/rail_stations.csv"),
                                 "-o", str(out / "rail.zip"), "--start-date", "2025-01-01",
                                 "--end-date", "2025-12-31", "--route-type", "101"]),
        ("network build", ["-q", "network", "build", "--osm",
                           str(src / "osm_cache/harbin_central.osm.pbf"), "--mode", "walk",
                           "--mode", "drive", "--gtfs", str(src / "gtfs/harbin_metro.zip"),
                           *cache]),
        ("network export", ["-q", "network", "export", "-o", str(out / "export"), *cache]),
        ("osm info", ["osm", "info", str(src / "osm_cache/harbin_central.osm.pbf")]),
        ("osm info json", ["osm", "info", "--json", str(src / "osm_cache/harbin_central.osm.pbf")]),
        ("scenario check", ["-q", "scenario", "check", *scen]),
        ("scenario export", ["-q", "scenario", "export", str(src / "scenarios/spine_express.yaml"),
                             "-o", str(out / "scenario_export")]),
        # bad input: the message and exit code are part of the contract
        ("bad scenario", ["-q", "scenario", "check", str(bad)]),
        ("bad evaluate scenario", ["-q", "evaluate", str(bad), "-o", str(out / "bad"), *cache]),
        ("bad route", ["-q", "route", "--from", "999,1", "--to", "1,1", "--depart", "08:00", *cache]),
        ("bad depart", ["-q", "matrix", "--origins", str(src / "gtfs/cities.csv"), "--depart",
                        "8h", "-o", str(out / "x.csv"), *cache]),
        ("bad gtfs", ["gtfs", "check", str(work / "missing.zip")]),
        ("bad places", ["-q", "net", "--places", str(bad), "-o", str(out / "bad_net")]),
    ]
    return cmds


def _prepare(work: Path, repo: Path) -> None:
    if work.exists():
        shutil.rmtree(work)
    (work / "out").mkdir(parents=True)
    for part in ("planner", "gtfs", "osm_cache", "scenarios"):
        # copy2 keeps the modification times: numba's on-disk cache (in __pycache__) still matches
        shutil.copytree(repo / part, work / "repo" / part, ignore=shutil.ignore_patterns("networks", "requests"))
    (work / "bad.yaml").write_text(
        "name: broken\nchanges:\n  - add_line:\n      id: x\n      stops: [哈尔滨西]\n"
        "      speed_class_kmh: -5\n", encoding="utf-8")


def _files(folder: Path) -> dict[str, dict]:
    return {str(p.relative_to(folder)): file_checksum(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(out_json: Path, work: Path, only: list[str] | None, repo: Path) -> None:
    _prepare(work, repo)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", MPLBACKEND="Agg",
               PYTHONHASHSEED="0", COLUMNS="100", PYTHONPATH=str(work / "repo"))
    manifest: dict[str, dict] = {}
    for name, argv in commands(work):
        if only and name not in only:
            continue
        before = set(p for p in (work / "out").rglob("*") if p.is_file())
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", RUN_PLAN, *argv], capture_output=True,
                              env=env, cwd=work, check=False)
        took = time.perf_counter() - t0
        after = set(p for p in (work / "out").rglob("*") if p.is_file())
        new = sorted(after - before)
        entry = {
            "argv": argv,
            "rc": proc.returncode,
            "stdout_sha": hashlib.sha256(proc.stdout).hexdigest(),
            "stderr_sha": hashlib.sha256(proc.stderr).hexdigest(),
            "stdout": proc.stdout.decode("utf-8", "replace"),
            "stderr": proc.stderr.decode("utf-8", "replace"),
            "files": {str(p.relative_to(work / "out")): file_checksum(p) for p in new},
        }
        manifest[name] = entry
        print(f"{name:24s} rc={proc.returncode} {took:6.1f}s files={len(new)}", flush=True)
    out_json.write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True),
                        encoding="utf-8")


#: the only varying text the commands print: how long they took ("in 7 s", "in 0.5 s")
ELAPSED = re.compile(r"\bin \d+(?:\.\d+)? s\b")


def _untimed(text: str) -> str:
    return ELAPSED.sub("in <elapsed> s", text)


def compare(a: Path, b: Path) -> int:
    before = json.loads(a.read_text(encoding="utf-8"))
    after = json.loads(b.read_text(encoding="utf-8"))
    bad = 0
    for name in sorted(set(before) | set(after)):
        x, y = before.get(name), after.get(name)
        if x is None or y is None:
            print(f"{name}: only in {'after' if x is None else 'before'}")
            bad += 1
            continue
        if x["rc"] != y["rc"]:
            print(f"{name}: exit code {x['rc']} before, {y['rc']} after")
            bad += 1
        for stream in ("stdout", "stderr"):
            a, b = _untimed(x[stream]), _untimed(y[stream])
            if a != b:
                print(f"{name}: {stream} differs")
                print("".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), n=1))[:3000])
                bad += 1
        for f in sorted(set(x["files"]) | set(y["files"])):
            if x["files"].get(f) != y["files"].get(f):
                print(f"{name}: file {f} differs: {x['files'].get(f)} vs {y['files'].get(f)}")
                bad += 1
    total = sum(1 + len(v["files"]) for v in before.values())
    print(f"{len(before)} command lines, {total} outputs compared; {bad} differences")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/plan-cli-snapshot"))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--repo", type=Path, default=REPO,
                    help="source tree to run (e.g. a git worktree of the commit before a change)")
    ap.add_argument("--compare", nargs=2, type=Path)
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)
    if args.out is None:
        ap.error("give OUT.json or --compare BEFORE AFTER")
    run(args.out.resolve(), args.work, args.only, args.repo.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
