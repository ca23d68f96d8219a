"""``--no-cache`` is honoured by every command for every network it builds (issue 14).

Each command runs on the synthetic city Gridton (``tests/data/golden/city``) from an empty
working folder with ``--no-cache --cache-dir cache``; the commands that apply a scenario build a
second network for it. Afterwards neither ``cache/`` nor the default ``osm_cache/`` may exist:
nothing was read from or written to a cache (before issue 14, scenario networks of ``plan
evaluate`` and ``plan fares`` fell back to ``osm_cache/``, and street networks were cached
whatever the flag said).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from planner.cli.main import main
from tests.conftest import GOLDEN

CITY = GOLDEN / "city"
DATE = "2025-03-04"
POLICY = """name: gridton_card
changes:
  - adjust_headway: {route: gridton:T1, factor: 0.5}
  - fare_policy: {unified_card: true, operators: [Gridton Transit], transfer_discount: 1}
"""


def _common(feed: str = f"gridton={CITY / 'gtfs'}") -> list[str]:
    return ["--gtfs", feed, "--osm", str(CITY / "streets.osm"), "--date", DATE, "--no-cache", "--cache-dir", "cache"]


@pytest.mark.parametrize("name", ["evaluate", "fares", "access", "route", "matrix", "transfers", "network export"])
def test_no_cache_reads_and_writes_no_cache(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "card.yaml").write_text(POLICY, encoding="utf-8")
    places = str(CITY / "places.csv")
    args = {
        "evaluate": ["evaluate", "-q", str(CITY / "crosstown.yaml"), "--places", places, "--window", "0", "-o", "out"],
        "fares": ["fares", "-q", "--policy", "card.yaml", "--places", places, "--window", "0", "--no-grid",
                  "--flat-fare", "gridton=2", "-o", "out"],
        "access": ["access", "-q", "--scenario", str(CITY / "tram_frequency.yaml"), "--cutoffs", "20", "--window", "0",
                   "--resolution", "800", "--no-png", "--opportunities", f"{places}:population", "-o", "out"],
        "route": ["route", "-q", "--from", "126.000,45.000", "--to", "126.040,45.032", "--depart", "07:00"],
        "matrix": ["matrix", "-q", "--origins", places, "--depart", "07:00", "-o", "out.csv"],
        "transfers": ["transfers", "-q", "--window", "0", "--maps", "0", "-o", "out"],
        "network export": ["network", "export", "-q", "-o", "out"],
    }[name]
    r = CliRunner().invoke(main, [*args, *_common()])
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "cache").exists(), sorted(p.name for p in (tmp_path / "cache").rglob("*"))
    assert not (tmp_path / "osm_cache").exists()


def test_the_cache_is_used_without_the_flag(tmp_path, monkeypatch):
    """The control: the same evaluation without --no-cache caches the baseline's, the
    scenario's and the street networks in --cache-dir (and nothing in osm_cache/)."""
    monkeypatch.chdir(tmp_path)
    args = ["evaluate", "-q", str(CITY / "crosstown.yaml"), "--places", str(CITY / "places.csv"), "--window", "0",
            "-o", "out", "--gtfs", f"gridton={CITY / 'gtfs'}", "--osm", str(CITY / "streets.osm"), "--date", DATE,
            "--cache-dir", "cache"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (tmp_path / "cache" / "networks").iterdir())
    # the baseline (loaded by the command, and again by the evaluation from the parsed feeds) and the scenario
    assert sum(n.startswith("multimodal-") and n.endswith(".json") for n in names) >= 2, names
    assert any(n.startswith("walk-") for n in names), names
    assert not (tmp_path / "osm_cache").exists()
