"""Golden outputs of ``plan route``, ``plan fares``, ``plan transfers`` and ``plan net`` on
the bundled Northeast China sample (issue 14: pinned before the package was restructured, so
that the move is shown to change nothing).

Each test runs one command through :class:`click.testing.CliRunner` with small windows (the
outputs stay meaningful, the runs short) and compares its tables and terminal text with
``tests/data/golden/snapshots/commands/``. Numbers are compared to 4 decimals (the last digits
of a float mean depend on the order of summation, which may differ between NumPy builds);
files the command writes as text are compared as they are. Update on purpose with
``python -m pytest tests/test_golden_commands.py --update-golden`` (see
``tests/data/golden/README.md``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from tests.conftest import GOLDEN, Golden

ROOT = Path(__file__).parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One network cache for the module: the bundled network is built once."""
    return tmp_path_factory.mktemp("golden-cache")


@pytest.fixture
def snap(golden) -> Golden:
    return Golden(GOLDEN / "snapshots" / "commands", golden.update)


def _run(args: list[str], monkeypatch) -> str:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return r.output


def _untimed(text: str, out: Path) -> str:
    """Terminal text without the elapsed time, the temporary output folder and the checkout's path."""
    text = re.sub(r"\bin \d+(?:\.\d+)? s\b", "in <elapsed> s", text)
    return text.replace(str(out), "<out>").replace(str(ROOT), "<repo>")


def _table(path: Path) -> str:
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return df.to_csv(index=False, float_format="%.4f", lineterminator="\n")


def test_route(snap, cache, tmp_path, monkeypatch):
    geo = tmp_path / "route.geojson"
    # across central Harbin on the metro (three lines), then by high-speed rail Harbin West -> Changchun West
    metro = _run(["route", "-q", "--from", "126.6254,45.7600", "--to", "126.5723,45.7051", "--depart", "08:00",
                  "--geojson", str(geo), "--cache-dir", str(cache)], monkeypatch)
    rail = _run(["route", "-q", "--from", "stop:northeast_rail:VAB", "--to", "stop:northeast_rail:CRT",
                 "--depart", "06:00", "--cache-dir", str(cache)], monkeypatch)
    snap.check("route.txt", _untimed(metro, geo) + "\n" + rail)
    doc = json.loads(geo.read_text(encoding="utf-8"))
    legs = [f["properties"] for f in doc["features"]]
    snap.check("route_legs.json", json.dumps(legs, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    assert "2 transfers" in metro and "board high speed rail" in rail


def test_fares(snap, cache, tmp_path, monkeypatch):
    out = tmp_path / "fares"
    text = _run(["fares", "-q", "--stop", "harbin_metro:L2_8416702419", "--no-grid", "--window", "30",
                 "--step", "10", "-o", str(out), "--cache-dir", str(cache)], monkeypatch)
    snap.check("fares.txt", _untimed(text, out))
    for name in ("fares_od.csv", "fares_places.csv", "fares_distribution.csv"):
        snap.check(name, _table(out / name))
    summary = json.loads((out / "fares_summary.json").read_text(encoding="utf-8"))
    text = json.dumps(summary, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    snap.check("fares_summary.json", _untimed(text, out))
    snap.check("fares_report.md", _untimed((out / "report.md").read_text(encoding="utf-8"), out))


def test_transfers(snap, cache, tmp_path, monkeypatch):
    out = tmp_path / "transfers"
    scenario = tmp_path / "connector.yaml"
    text = _run(["transfers", "-q", "--window", "30", "--maps", "1", "-o", str(out), "--write-scenario",
                 str(scenario), "--cache-dir", str(cache)], monkeypatch)
    snap.check("transfers.txt", _untimed(_untimed(text, out), scenario))
    for name in ("transfers.csv", "transfer_suggestions.csv"):
        snap.check(name, _table(out / name))
    snap.check("transfer_standard.yaml", (out / "transfer_standard.yaml").read_text(encoding="utf-8"))
    snap.check("connector.yaml", scenario.read_text(encoding="utf-8"))


def test_net(snap, tmp_path, monkeypatch):
    out = tmp_path / "net"
    text = _run(["net", "-q", str(ROOT / "scenarios" / "spine_express.yaml"), "-o", str(out)], monkeypatch)
    snap.check("net.txt", _untimed(text, out))
    for name in ("summary.csv", "cities.csv", "stations.csv", "links.csv", "weak_links.csv", "pairs.csv",
                 "changed_pairs.csv", "matrix_baseline_fastest_min.csv", "matrix_spine_express_fastest_min.csv"):
        snap.check(f"net_{name}", _table(out / name))
