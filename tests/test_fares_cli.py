"""``plan fares`` and the fare part of ``plan evaluate`` on the bundled sample (a few places,
a few departures, a coarse grid), and their bad inputs.

The explained saving: from central Harbin to Daqing the fastest journey takes the metro to
Harbin station and a Harbin-Qiqihar train. With separate tickets the change from the metro
to China Railway costs the ticketing penalty of high-speed rail (600 s: ticket, ID and
security check, gate); the card removes it, so on some departures an earlier train is
caught, and its connecting ride is CNY 3 cheaper (the metro ride is free: the bundled
policy's transfer discount equals the metro's 3-yuan fare)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("fares_cache")


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    cities = pd.read_csv(ROOT / "gtfs" / "cities.csv")
    path = tmp_path_factory.mktemp("places") / "places.csv"
    cities[cities["city_id"].isin(["harbin", "daqing", "changchun"])].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run(cache, places, tmp_path_factory):
    out = tmp_path_factory.mktemp("fares") / "out"
    r = CliRunner().invoke(main, ["fares", "-q", "--places", str(places), "--window", "60", "--step", "10",
                                  "--resolution", "6000", "--grid-step", "30", "--time-cutoffs", "120",
                                  "--budgets", "100", "--cache-dir", str(cache), "-o", str(out)],
                           catch_exceptions=False)
    return r, out


@pytest.mark.slow
def test_plan_fares_reports_an_explained_saving(run):
    r, out = run
    assert r.exit_code == 0, r.output
    od = pd.read_csv(out / "fares_od.csv").set_index(["from_id", "to_id"])
    row = od.loc[("harbin", "daqing")]
    # the saving is positive and its parts are the ones the policy explains
    assert row["time_saved_min"] > 0
    assert row["penalty_removed_min"] == pytest.approx(10.0)        # the 600 s high-speed rail penalty
    assert row["card_penalty_min"] == 0.0
    assert row["fare_change"] == pytest.approx(-3.0)                # the metro ride is free with the card
    assert row["time_saved_connection_min"] == 0.0                  # the policy leaves connection times alone
    assert row["time_saved_ticketing_min"] == pytest.approx(row["time_saved_min"])
    assert row["separate_operators"] == row["card_operators"] == "harbin_metro+northeast_rail"
    # metro CNY 3 + train CNY 47.5 (153.2 km Harbin - Daqing East x 0.3094/km, rounded to 0.5)
    assert row["separate_fare"] == pytest.approx(50.5) and row["card_fare"] == pytest.approx(47.5)
    # never slower with the card
    ok = od["time_saved_min"].notna()
    assert (od.loc[ok, "time_saved_min"] >= -1e-9).all()
    summary = json.loads((out / "fares_summary.json").read_text(encoding="utf-8"))
    assert summary["largest_saving"]["from_id"] == "harbin"
    assert "10.0 min removed" in summary["largest_saving"]["explanation"]
    assert summary["policy"]["transfer discount"] == "3 CNY"
    assert any("China Daily" in n for n in summary["notes"])  # the metro fare's source
    assert any("0.3094" in n for n in summary["notes"])       # the rail rate
    # the terminal: the table, the distribution, gainers, the explanation
    assert "Place pairs that gain most" in r.output and "harbin" in r.output
    assert "Journeys (pair x departure) by minutes saved" in r.output
    assert "Largest saving: Harbin -> Daqing" in r.output or "Largest saving: Harbin" in r.output
    assert "money and ticketing" in r.output and "operator mix" in r.output


@pytest.mark.slow
def test_plan_fares_writes_tables_map_raster_and_report(run):
    import rasterio

    r, out = run
    assert r.exit_code == 0, r.output
    for name in ("fares_od.csv", "fares_places.csv", "fares_distribution.csv", "fares_summary.json",
                 "map_fares.png", "fare_access.tif", "report.html", "report.md"):
        assert (out / name).stat().st_size > 0, name
    with rasterio.open(out / "fare_access.tif") as src:
        assert src.crs is not None and src.count == 3
        assert list(src.descriptions) == [f"population_120min_100CNY_{v}" for v in ("separate", "card", "change")]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "The integration dividend of the card" in md and "Accessibility at (time, fare) cutoffs" in md
    places = pd.read_csv(out / "fares_places.csv")
    assert places["id"].iloc[0] == "harbin"  # the place that gains most
    assert not list(out.glob(".*"))  # nothing left of the staging


def test_bad_policy_file_is_a_clean_error(cache, places, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nchanges:\n  - fare_policy:\n      unified_card: true\n      discount: 3\n",
                   encoding="utf-8")
    r = CliRunner().invoke(main, ["fares", "--policy", str(bad), "--places", str(places), "--cache-dir", str(cache),
                                  "-o", str(tmp_path / "o")])
    assert r.exit_code == 2, r.output
    assert f"{bad}:5:" in r.output and "discount" in r.output and "unknown field" in r.output
    assert not (tmp_path / "o").exists()
    # a scenario without a fare policy, and an operator nobody runs
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: plain\nchanges:\n  - remove_route: {route: northeast_rail:hada}\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["fares", "--policy", str(plain), "--places", str(places), "--cache-dir", str(cache)])
    assert r.exit_code == 2 and "no fare_policy" in r.output, r.output
    ghost = tmp_path / "ghost.yaml"
    ghost.write_text("name: ghost\nchanges:\n  - fare_policy:\n      unified_card: true\n"
                     "      operators: [Ghost Railways]\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["fares", "--policy", str(ghost), "--places", str(places), "--no-grid",
                                  "--window", "0", "--cache-dir", str(cache), "-o", str(tmp_path / "g")])
    assert r.exit_code == 2, r.output
    assert f"{ghost}:5:" in r.output and "Ghost Railways" in r.output and "哈尔滨地铁" in r.output


def test_help_has_examples():
    r = CliRunner().invoke(main, ["fares", "--help"])
    assert r.exit_code == 0 and "Examples:" in r.output and "plan fares --policy" in r.output


@pytest.mark.slow
def test_evaluate_composes_with_the_fare_policy(cache, places, tmp_path):
    out = tmp_path / "ev"
    r = CliRunner().invoke(main, ["evaluate", "-q", str(ROOT / "scenarios" / "harbin_west_integration.yaml"),
                                  str(ROOT / "scenarios" / "hada_double_frequency.yaml"), "--places", str(places),
                                  "--window", "30", "--step", "15", "--cache-dir", str(cache), "-o", str(out)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    ranking = pd.read_csv(out / "ranking.csv").set_index("scenario")
    card = ranking.loc["harbin_west_integration"]
    assert card["card_time_saved_min"] > 0 and card["card_fare_change"] < 0
    assert card["card_time_saved_ticketing_min"] + card["card_time_saved_connection_min"] == pytest.approx(
        card["card_time_saved_min"])
    assert pd.isna(ranking.loc["hada_double_frequency", "card_time_saved_min"])  # no card there
    od = pd.read_csv(out / "fares_harbin_west_integration_od.csv").set_index(["from_id", "to_id"])
    assert od.loc[("harbin", "daqing"), "penalty_removed_min"] == pytest.approx(10.0)
    assert not (out / "fares_hada_double_frequency_od.csv").exists()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Scenario harbin_west_integration: the unified fare card" in md
    assert "card_saved_min" in r.output  # the terminal table shows the card column (abbreviated)


@pytest.mark.slow
def test_workers_give_the_same_files(run, cache, places, tmp_path):
    _r, out = run
    other = tmp_path / "w"
    r = CliRunner().invoke(main, ["fares", "-q", "--places", str(places), "--window", "60", "--step", "10",
                                  "--resolution", "6000", "--grid-step", "30", "--time-cutoffs", "120",
                                  "--budgets", "100", "--cache-dir", str(cache), "-o", str(other), "--workers", "2"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    for name in ("fares_od.csv", "fares_places.csv", "fares_distribution.csv", "fare_access.tif"):
        assert (out / name).read_bytes() == (other / name).read_bytes(), name


def test_label_limit_names_the_fare_horizon(cache, places, tmp_path):
    """A fare search that runs out of labels is a clean error (not bad input: exit 1) whose
    hint names --fare-horizon and --max-labels; --fare-horizon is documented in --help, and
    a run with it says so in its report."""
    r = CliRunner().invoke(main, ["fares", "--places", str(places), "--no-grid", "--window", "0", "--max-labels", "5",
                                  "--cache-dir", str(cache), "-o", str(tmp_path / "o")])
    assert r.exit_code == 1, r.output
    assert "labels" in r.output and "--fare-horizon" in r.output and "max_labels" in r.output.replace("-", "_")
    help_text = CliRunner().invoke(main, ["fares", "--help"]).output
    assert "--fare-horizon" in help_text and "--max-labels" in help_text
    r = CliRunner().invoke(main, ["fares", "--places", str(places), "--no-grid", "--window", "0",
                                  "--fare-horizon", "0", "--cache-dir", str(cache)])
    assert r.exit_code == 2 and "--fare-horizon" in r.output, r.output
    # a run with a fare horizon says so in its report
    r = CliRunner().invoke(main, ["fares", "-q", "--places", str(places), "--no-grid", "--window", "0",
                                  "--fare-horizon", "60", "--cache-dir", str(cache), "-o", str(tmp_path / "h")])
    assert r.exit_code == 0, r.output
    assert "ticket windows tracked up to 60 min" in (tmp_path / "h" / "report.md").read_text(encoding="utf-8")
