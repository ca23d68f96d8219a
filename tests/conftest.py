"""Shared fixtures: where the test data is, and a factory for tiny inline GTFS feeds."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

# the kernels compile as under the plan command line (planner/kernels/options.py); before
# any test module imports numba
os.environ.setdefault("NUMBA_OPT", "1")

import pytest

DATA = Path(__file__).parent / "data"
GTFS_DATA = DATA / "gtfs"
OSM_DATA = DATA / "osm"

#: the real feeds in tests/data/gtfs and a date on which each has service
REAL_FEEDS = {
    "google_sample_gtfs.zip": "2008-06-02",
    "cairns_gtfs.zip": "2014-06-02",
    "caltrain_2009_gtfs.zip": "2009-06-02",
    "caltrain_2017-07-24_gtfs.zip": "2017-07-25",
    "helsinki_gtfs_2022.zip": "2022-02-22",
}

def seeds(n: int, *, fast: int) -> list:
    """``range(n)`` as test parameters, all but the first ``fast`` marked ``slow``: the fast tier
    (``-m "not slow"``) tries a few random inputs, the full suite every one."""
    return [pytest.param(s, marks=pytest.mark.slow) if s >= fast else s for s in range(n)]


#: a minimal valid feed: one agency, a station with two platforms, one route, two trips
MINI = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Agency A,https://a.example,Asia/Shanghai\n",
    "stops.txt": (
        "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
        "S,Central,45.7600,126.6250,1,\n"
        "S1,Central platform 1,45.7601,126.6251,0,S\n"
        "S2,Central platform 2,45.7599,126.6249,0,S\n"
        "B,Bridge,45.7700,126.6400,0,\n"
        "C,Castle,45.7800,126.6550,0,\n"
    ),
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,A,1,Line 1,3\n",
    "trips.txt": "route_id,service_id,trip_id\nR1,WD,T1\nR1,WD,T2\n",
    "stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:00:00,08:00:00,S1,1\n"
        "T1,08:10:00,08:11:00,B,2\n"
        "T1,08:20:00,08:20:00,C,3\n"
        "T2,09:00:00,09:00:00,S1,1\n"
        "T2,09:10:00,09:11:00,B,2\n"
        "T2,09:20:00,09:20:00,C,3\n"
    ),
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WD,1,1,1,1,1,0,0,20240101,20241231\n"
    ),
}


def write_feed(folder: Path, files: dict[str, str | bytes], *, as_zip: bool = False) -> Path:
    """Write ``files`` (name -> text or bytes) as a feed folder, or as ``folder``.zip."""
    folder.mkdir(parents=True, exist_ok=True)
    if as_zip:
        path = folder.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in files.items():
                zf.writestr(name, content if isinstance(content, bytes) else content.encode("utf-8"))
        return path
    for name, content in files.items():
        p = folder / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8", newline="")
    return folder


@pytest.fixture
def make_feed(tmp_path):
    """Factory: ``make_feed({"stops.txt": ...}, name="x", base=MINI, as_zip=False)`` -> path.

    Files given override the base feed; a value of None removes a base file.
    """
    counter = {"n": 0}

    def _make(files: dict[str, str | bytes | None] | None = None, *, name: str | None = None,
              base: dict[str, str] | None = None, as_zip: bool = False) -> Path:
        counter["n"] += 1
        merged: dict[str, str | bytes] = dict(MINI if base is None else base)
        for k, v in (files or {}).items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return write_feed(tmp_path / (name or f"feed{counter['n']}"), merged, as_zip=as_zip)

    return _make


# ---------------------------------------------------------------------- golden snapshots
# tests/data/golden/README.md: an intentional change of a snapshot needs
# `pytest --update-golden` (or PLAN_UPDATE_GOLDEN=1); a plain run only compares.

GOLDEN = DATA / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden snapshots in tests/data/golden/snapshots/ instead of comparing")


class Golden:
    """Compare text with a snapshot file, or rewrite it when updating."""

    def __init__(self, folder: Path, update: bool):
        self.folder = folder
        self.update = update

    def check(self, name: str, text: str) -> None:
        import difflib

        path = self.folder / name
        if self.update:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8", newline="\n")
            return
        if not path.exists():
            pytest.fail(f"no golden snapshot {path}; create it with "
                        f"`python -m pytest tests/test_golden.py --update-golden` and review it", pytrace=False)
        expected = path.read_text(encoding="utf-8")
        if expected != text:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                                f"snapshot/{name}", f"now/{name}", n=1))
            lines = diff.splitlines()
            shown = "\n".join(lines[:80]) + (f"\n... {len(lines) - 80} more diff lines" if len(lines) > 80 else "")
            pytest.fail(f"golden snapshot {name} changed:\n{shown}\n\nIf the change is intended, run "
                        f"`python -m pytest tests/test_golden.py --update-golden` (or PLAN_UPDATE_GOLDEN=1) "
                        f"and commit the new snapshot with the change that caused it.", pytrace=False)


@pytest.fixture
def golden(request) -> Golden:
    import os

    update = bool(request.config.getoption("--update-golden")) or os.environ.get("PLAN_UPDATE_GOLDEN") == "1"
    return Golden(GOLDEN / "snapshots", update)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """How many documented examples ran (tests/test_examples.py), and which were not run here."""
    log = getattr(config, "_plan_examples", None)
    if not log:
        return
    elsewhere = [ex for ex, t in log["ran"] if t is None]
    ran = [(ex, t) for ex, t in log["ran"] if t is not None]
    readme = sum(1 for ex, _ in ran if any(s.startswith("README") for s in ex.sources))
    helps = sum(1 for ex, _ in ran if any(s.endswith("--help") for s in ex.sources))
    covered = sum(len(ex.sources) for ex, _ in ran)
    slowest = sorted((r for r in ran if r[1] >= 10), key=lambda r: -r[1])
    tr = terminalreporter
    tr.write_sep("-", "documented examples")
    tr.write_line(f"ran {len(ran)} of {log['distinct']} distinct examples ({readme} from README.md, {helps} from "
                  f"--help), covering {covered} of the {log['documented']} documented example lines")
    for ex in elsewhere:
        tr.write_line(f"run by another test (with checks of its outputs): {ex.text}")
    for name, why in log["not_run"]:
        tr.write_line(f"not run here: {name}: {why}")
    if slowest:
        tr.write_line(f"10 s or longer ({sum(t for _, t in slowest):.0f} s in all):")
        for ex, t in slowest:
            tr.write_line(f"  {t:5.0f} s  {ex.text[:100]}")
