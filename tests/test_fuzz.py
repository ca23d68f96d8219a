"""Fuzzing of every input reader (issue 11; ``anchors/reliability.md`` §9 G5).

Each target in :mod:`tests.fuzz_targets` runs for ``$PLAN_FUZZ_SECONDS`` seconds (default
30) of seeded hypothesis chunks (``$PLAN_FUZZ_SEED``, default 0) in the test process and, at
the same time, for as long in a companion process (``scripts/fuzz.py``, seed + 1) on the
second core: a minute of fuzzing per target in 30 s of the suite. The property is that every
generated input either loads or raises a :class:`planner.errors.PlannerError` that names the
input. ``PLAN_FUZZ_SECONDS=0`` runs one chunk per target in the test process only (a smoke
test); ``python scripts/fuzz.py --minutes 10`` is the long run.

Every finding is kept as a regression input: the files of ``tests/data/fuzz/`` (made by
:mod:`tests.fuzz_fixtures`, described in its README) and the inline cases below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.config import Config
from tests.conftest import MINI, write_feed
from tests.fuzz_fixtures import FIXTURES, FUZZ_DATA
from tests.fuzz_targets import (
    TARGETS,
    CsvCase,
    ScenarioCase,
    XmlCase,
    check_csv,
    check_feed_path,
    check_field,
    check_osm_file,
    check_scenario,
    check_xml,
    fuzz_seconds,
    run_target,
)

#: CI stays on one seed so that a pull request never fails for a finding it did not cause;
#: the long runs (scripts/fuzz.py) vary it
SEED = int(os.environ.get("PLAN_FUZZ_SEED", "0"))


ROOT = Path(__file__).resolve().parent.parent


def _companion(name: str, seconds: float, report: Path) -> subprocess.Popen:
    """The same target with the next seed in another process (the suite runs on one core)."""
    cmd = [sys.executable, str(ROOT / "scripts" / "fuzz.py"), name, "--minutes", f"{seconds / 60:.6f}",
           "--seed", str(SEED + 1), "--json", str(report)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target(name, tmp_path):
    seconds = fuzz_seconds()
    other = _companion(name, seconds, tmp_path / "companion.json") if seconds > 0 else None
    try:
        stats = run_target(TARGETS[name], seconds, seed=SEED)
    finally:
        out = other.communicate(timeout=seconds + 300)[0] if other else ""
    print(stats.summary())
    assert stats.examples >= TARGETS[name].chunk
    if other:
        # a finding there: hypothesis printed the shrunk input and its @reproduce_failure blob
        assert other.returncode == 0, f"seed {SEED + 1} of {name}:\n{out[-6000:]}"
        done = json.loads((tmp_path / "companion.json").read_text())["targets"][name]
        print(f"{name} (seed {SEED + 1}, companion process): {done['examples']} examples in {done['seconds']} s, "
              f"slowest {done['slowest_ms']} ms")
        assert done["examples"] >= TARGETS[name].chunk


# ------------------------------------------------------------------ regression inputs
def test_every_fixture_is_listed_and_described():
    on_disk = {p.name for p in FUZZ_DATA.iterdir() if p.name != "README.md"}
    assert on_disk == set(FIXTURES)
    readme = (FUZZ_DATA / "README.md").read_text(encoding="utf-8")
    missing = [name for name in FIXTURES if f"`{name}`" not in readme]
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fuzz_fixture(name, tmp_path):
    kind, expected = FIXTURES[name]
    path = FUZZ_DATA / name
    t = time.perf_counter()
    if kind == "gtfs":
        outcome = check_feed_path(path, Config(progress=False))
    elif kind == "osm":
        outcome = check_osm_file(path, Config(progress=False), streets=True)
    else:
        outcome = check_scenario(ScenarioCase(path.read_text(encoding="utf-8"), kind == "scenario_apply"), tmp_path)
    assert outcome == expected or outcome.split(":", 1)[-1] == expected, outcome
    assert time.perf_counter() - t < 10.0  # before the fixes some took minutes and gigabytes


def test_inline_regressions(tmp_path):
    # to_int crashed on a leading '+' (arrow's cast refuses it; the integer pattern allows it)
    assert check_field("+00000", tmp_path) == "neither"
    # a bare CR in the header line: csv.Error "new-line character seen in unquoted field"
    assert check_csv(CsvCase(b"\r\x00", 4096), tmp_path).startswith(("fatal:", "rows"))
    # a bad byte after CR line ends was counted on the wrong line: pandas met the surrogate
    assert check_csv(CsvCase(b"stop_id,stop_name,a\n\r,\n,,\xff", 4096), tmp_path).startswith("rows")
    # the fast (pyarrow) and the exact tokeniser disagreed on a blank body and a BOM in it
    assert check_csv(CsvCase(b"stop_id\n ", 4096), tmp_path).startswith("rows")
    assert check_csv(CsvCase(b"stop_id\n\xef\xbb\xbf\n", 4096), tmp_path).startswith("rows")
    # expat raises ValueError for a multi-byte encoding named in the declaration
    xml = XmlCase(b"<?xml version='1.0' encoding='utf-32'?>\n<osm><note/></osm>\n", ".osm", 4 * 1024**3, False)
    assert check_xml(xml, tmp_path) == "read:osm_xml_parse_error"
    # the scenario loader: an empty !!int, a list as mode
    assert check_scenario(ScenarioCase("!!int ", False), tmp_path) == "load:invalid_yaml"
    text = '{"changes": [{"add_line": {"id": "new", "stops": [], "mode": []}}]}'
    assert check_scenario(ScenarioCase(text, True), tmp_path) == "load:invalid_scenario"


def test_plus_sign_integers_are_read_as_numbers(tmp_path):
    from planner.ingest.gtfs import read_feed

    st = MINI["stop_times.txt"].replace(",1\n", ",+1\n")
    feed = read_feed(write_feed(tmp_path / "plus", {**MINI, "stop_times.txt": st}))
    assert sorted(feed.stop_times["stop_sequence"].astype(int).unique()) == [1, 2, 3]
    assert feed.notices.count() == 0


def test_cr_line_endings_load_like_lf(tmp_path):
    from planner.ingest.gtfs import read_feed

    lf = read_feed(write_feed(tmp_path / "lf", MINI))
    cr = read_feed(write_feed(tmp_path / "cr", {k: v.replace("\n", "\r") for k, v in MINI.items()}))
    for name in ("stops", "stop_times", "trips"):
        assert lf[name].drop(columns="_line").equals(cr[name].drop(columns="_line")), name
        assert list(lf[name]["_line"]) == list(cr[name]["_line"])
