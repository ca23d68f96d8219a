"""Determinism of the main commands on the bundled default data (issue 11, G11).

``plan evaluate`` (full default run), ``plan access`` (full default run) and ``plan matrix``
(the bundled cities as origins and destinations, a one-hour window) run as subprocesses,
each with its own empty cache folder so the networks are built again every time, under
these variants:

========  ===============  =================
variant   PYTHONHASHSEED   NUMBA_NUM_THREADS
========  ===============  =================
a         0                1
b         12345            2
c         0                2   (evaluate only: a/c isolate threads, c/b the hash seed)
========  ===============  =================

Every output file must have the same data checksum in every variant (CSV/PNG/JSON bytes,
Parquet rows, GeoTIFF pixels and tags, GeoPackage features; see ``tests/output_checksums.py``
for what is excluded: the GeoPackage's ``last_change`` timestamp, the report's "created"
date), and the network caches the runs built must hold identical arrays.

The runs share one numba cache folder (``NUMBA_CACHE_DIR`` of the test session when set,
as in CI, else a temporary one), so only the first run may compile kernels. Cost: about 90 s
warm on 2 cores (evaluate about 50 s, access 30 s, matrix 10 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.output_checksums import (
    cache_checksums,
    differences,
    first_csv_difference,
    folder_checksums,
    pixel_difference,
)

ROOT = Path(__file__).parent.parent

VARIANTS = {
    "a": {"PYTHONHASHSEED": "0", "NUMBA_NUM_THREADS": "1"},
    "b": {"PYTHONHASHSEED": "12345", "NUMBA_NUM_THREADS": "2"},
    "c": {"PYTHONHASHSEED": "0", "NUMBA_NUM_THREADS": "2"},
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """``plan(variant, name, *args)`` runs ``plan *args`` in a subprocess (the repository's
    code, not an installed copy), ``{out}`` in an argument standing for the run's output
    folder; returns the run's folder (``out/``, ``cache/``)."""
    base = tmp_path_factory.mktemp("determinism")
    numba_cache = os.environ.get("NUMBA_CACHE_DIR") or str(base / "numba")

    def run(variant: str, name: str, *args: str) -> Path:
        folder = base / f"{name}_{variant}"
        env = {**os.environ, **VARIANTS[variant], "NUMBA_CACHE_DIR": numba_cache, "MPLBACKEND": "Agg",
               "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        env.pop("SOURCE_DATE_EPOCH", None)
        (folder / "out").mkdir(parents=True, exist_ok=True)
        args = tuple(a.replace("{out}", str(folder / "out")) for a in args)
        cmd = [sys.executable, "-c", "from planner.cli.main import main; main()", *args,
               "--cache-dir", str(folder / "cache")]
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert r.returncode == 0, f"{' '.join(args)} ({variant}) failed:\n{r.stdout}\n{r.stderr}"
        return folder

    return run


def _compare(name: str, runs: dict[str, Path], out: str) -> None:
    sums = {v: folder_checksums(f / out) for v, f in runs.items()}
    ref = next(iter(runs))
    assert sums[ref], f"{name}: no outputs"
    for v in runs:
        diff = differences(sums[ref], sums[v])
        if diff:
            detail = []
            for line in diff:
                fname = line.split(":")[0]
                a, b = runs[ref] / out / fname, runs[v] / out / fname
                if fname.endswith(".csv") and a.exists() and b.exists():
                    detail.append(first_csv_difference(a, b))
                elif fname.endswith(".tif") and a.exists() and b.exists():
                    detail.append(pixel_difference(a, b))
            pytest.fail(f"{name}: variant {v} ({VARIANTS[v]}) differs from {ref} ({VARIANTS[ref]}):\n"
                        + "\n".join(diff + detail))
        caches = cache_checksums(runs[ref] / "cache"), cache_checksums(runs[v] / "cache")
        assert caches[0] == caches[1], f"{name}: the cached networks of {ref} and {v} differ"
        assert caches[0], f"{name}: nothing cached"
    # shown with `pytest -s`: what was compared
    print(f"\n{name}: {len(sums[ref])} output files identical in variants {', '.join(runs)}")
    for fname, ck in sums[ref].items():
        print(f"  {fname:40s} {ck['data'][:16]}")
    for fname, ck in cache_checksums(runs[ref] / "cache").items():
        print(f"  cache/{fname:34s} {ck[:16]}")


def test_plan_evaluate_default_is_deterministic(plan):
    runs = {v: plan(v, "evaluate", "evaluate", "-q", "-o", "{out}", "--overwrite") for v in ("a", "b", "c")}
    _compare("plan evaluate", runs, "out")
    names = set(os.listdir(runs["a"] / "out"))
    assert {"ranking.csv", "matrix.csv", "matrix.parquet", "evaluate.gpkg", "report.html", "report.md"} <= names


def test_plan_access_default_is_deterministic(plan):
    runs = {v: plan(v, "access", "access", "-q", "-o", "{out}", "--overwrite") for v in ("a", "b")}
    _compare("plan access", runs, "out")
    names = set(os.listdir(runs["a"] / "out"))
    assert {"access.tif", "opportunities.tif", "access_summary.json"} <= names


def test_plan_matrix_is_deterministic(plan):
    runs = {v: plan(v, "matrix", "matrix", "-q", "--origins", "gtfs/cities.csv", "--depart", "07:00",
                    "--window", "60", "--percentiles", "5,50,95", "--cutoff", "120", "-o", "{out}/matrix.csv")
            for v in ("a", "b")}
    _compare("plan matrix", runs, "out")
