"""The appraisal of ``plan evaluate`` (issue 15): a benefit-cost ratio recomputed by hand from
the written inputs, the gravity model's calibration, and bad appraisal input.

Data: the hand-made four-city corridor of tests/test_scenario.py (A - B - C - D along lat 45,
a slow hourly line; the scenario's express A - C in 60 min every hour from 06:30) with an
observed OD table written here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.analyses.evaluate.appraisal import annuity, baseline_demand, pv_capital
from planner.analyses.evaluate.compare import evaluate
from planner.analyses.evaluate.parameters import AppraisalParams, load_od, load_params
from planner.cli.fares import CARD_STEP_MIN, CARD_WINDOW_MIN, SAMPLE_VALUE_OF_TIME
from planner.cli.main import main
from planner.common.geodesy import haversine_m
from planner.errors import InputError
from planner.scenarios.costs import UNIT_COSTS
from planner.scenarios.spec import load_scenario
from tests.test_scenario import CFG, EXPRESS, LON, corridor, places, write

EXPRESS_NEW = EXPRESS + "      track: new\n      design_speed_kmh: 160\n"
OD = "from_id,to_id,trips_per_day\nA,C,1000\nC,A,800\nD,A,200\nA,B,500\n"


def _row(ev, name):
    return ev.ranking.set_index("scenario").loc[name]


def test_bcr_by_hand_from_the_written_inputs(tmp_path):
    fs = corridor(tmp_path)
    scn = load_scenario(write(tmp_path, "express", EXPRESS_NEW))
    od_path = tmp_path / "od.csv"
    od_path.write_text(OD, encoding="utf-8")
    params = AppraisalParams()
    ev = evaluate(fs, [scn], places(), date="2025-06-17", depart_s=6 * 3600, window_min=0, config=CFG,
                  cache_dir=tmp_path / "c", params=params, od=load_od(od_path, places()["id"]))
    row = _row(ev, "express")
    # --- minutes (tests/test_scenario.py: by hand from the timetable)
    minutes = {("A", "C"): (122, 90), ("C", "A"): (184, 90), ("D", "A"): (184, 150), ("A", "B"): (60, 60)}
    trips = {("A", "C"): 1000, ("C", "A"): 800, ("D", "A"): 200, ("A", "B"): 500}
    vot, gamma, days = 20.0, 2.0, 365.0
    benefit_day = 0.0
    hours_day = 0.0
    for pair, (t, s) in minutes.items():
        after = trips[pair] * (s / t) ** -gamma
        hours_day += (t - s) / 60 * (trips[pair] + after) / 2
    benefit_day = hours_day * vot
    benefit = benefit_day * days / 1e6                                   # million CNY a year
    assert row["benefit_million_cny_per_year"] == pytest.approx(benefit, abs=1e-3)
    assert row["hours_saved_per_year"] == pytest.approx(hours_day * days, abs=0.1)
    # --- costs: A-C straight line x alignment 1.1 at the line's 100 M/km; maintenance of new
    # track below 200 km/h; 30 express trips (06:30..20:30 hourly, both ways) x km x 1.08 x 60 CNY
    straight_km = float(haversine_m(45.0, LON["A"], 45.0, LON["C"])) / 1000
    line_km = straight_km * 1.1
    capital = 100 * line_km
    maintenance = 0.3 * line_km
    train_km_day = 30 * straight_km * 1.08
    operating = maintenance + train_km_day * 60 * days / 1e6
    assert row["new_line_km"] == pytest.approx(line_km, abs=0.06)
    assert row["capital_million_cny"] == pytest.approx(capital, abs=1e-3)
    assert row["operating_million_cny_per_year"] == pytest.approx(operating, abs=1e-3)
    # --- discounting at 8 %: capital over construction years 0..3, operation years 5..34
    r = 0.08
    disc_capital = capital * np.mean([(1 + r) ** -y for y in range(4)])
    ann = sum((1 + r) ** -y for y in range(5, 35))
    pv_b = benefit * ann
    pv_c = disc_capital + operating * ann
    assert row["construction_years"] == 4
    assert row["pv_benefit_million_cny"] == pytest.approx(pv_b, abs=1e-2)
    assert row["pv_cost_million_cny"] == pytest.approx(pv_c, abs=1e-2)
    assert row["npv_million_cny"] == pytest.approx(pv_b - pv_c, abs=1e-2)
    assert row["bcr"] == pytest.approx(pv_b / pv_c, abs=1e-3)
    assert row["cost_per_hour_saved_cny"] == pytest.approx(pv_c * 1e6 / (hours_day * days * ann), abs=0.01)
    # the same helpers as the module, written out above
    assert annuity(r, 4, 30) == pytest.approx(ann)
    assert pv_capital(capital, r, 4) == pytest.approx(disc_capital)


def test_gravity_model_is_calibrated_on_the_given_total():
    pop = np.array([4e6, 1e6, 3e6, 2e6])
    T = np.array([[0, 60, 122, 184], [60, 0, 60, 122], [184, 60, 0, 60], [184, 122, 60, 0]], float)
    T[1, 3] = np.nan  # an unreachable pair gets no trips
    params = AppraisalParams(calibration_places=("A", "B", "C"), calibration_trips_per_year=3.65e6)
    d = baseline_demand(T, pop, ["A", "B", "C", "D"], params)
    cal = d.trips[:3, :3]
    assert cal.sum() == pytest.approx(10_000)  # 3.65 M a year / 365 days
    # T_ij = k P_i P_j t^-2
    assert d.trips[0, 2] / d.trips[0, 1] == pytest.approx((4e6 * 3e6 / 122**2) / (4e6 * 1e6 / 60**2))
    assert d.trips[1, 3] == 0 and np.diag(d.trips).sum() == 0
    assert d.k == pytest.approx(10_000 / sum(pop[i] * pop[j] * T[i, j] ** -2 for i in range(3) for j in range(3) if i != j))
    # calibration places not among the places: trips unknown (NaN), and the basis says what to give
    lost = baseline_demand(T, pop, ["A", "B", "C", "D"], AppraisalParams())
    assert np.isnan(lost.trips).all() and lost.basis.startswith("not calibrated") and "--od" in lost.basis


def test_without_calibration_the_benefits_are_unknown_not_zero(tmp_path):
    fs = corridor(tmp_path)
    scn = load_scenario(write(tmp_path, "express", EXPRESS_NEW))
    ev = evaluate(fs, [scn], places(), date="2025-06-17", depart_s=6 * 3600, window_min=0, config=CFG,
                  cache_dir=tmp_path / "c")
    row = _row(ev, "express")
    assert np.isnan(row["bcr"]) and np.isnan(row["benefit_million_cny_per_year"])
    assert row["capital_million_cny"] > 0   # the costs are still known
    assert "not calibrated" in ev.recommendation[0]


def test_one_value_of_time_and_one_card_window_for_fares_and_evaluate():
    assert SAMPLE_VALUE_OF_TIME == AppraisalParams().value_of_time_cny_per_h
    from planner.cli.evaluate import _fare_params

    p = _fare_params(False)
    assert (p.window_min, p.step_min, p.value_of_time_per_h) == (CARD_WINDOW_MIN, CARD_STEP_MIN, SAMPLE_VALUE_OF_TIME)


def test_every_input_has_a_source_or_says_assumed():
    for name, u in UNIT_COSTS.items():
        assert u.source and (u.source.startswith("ASSUMED") or "http" in u.source or "World Bank" in u.source), name
    from planner.analyses.evaluate.parameters import SOURCES

    assert set(SOURCES) == {f for f in AppraisalParams.__dataclass_fields__}
    for name, source in SOURCES.items():
        assert source.startswith(("ASSUMED", "Derived")) or "http" in source or "20" in source, name


# ------------------------------------------------------------------------------ bad input
def _run(args, tmp_path):
    return CliRunner().invoke(main, ["evaluate", "-q", "-o", str(tmp_path / "out"), *args])


@pytest.mark.parametrize(("text", "field", "message"), [
    ("name: x\ncosts: {capital_million: -5}\nchanges:\n  - remove_route: {route: S}\n",
     "costs.capital_million", "cannot be negative"),
    (EXPRESS.replace("      cost_per_km_million: 100\n", "      track: tunnel\n"), "changes[0].add_line.track",
     "unknown track kind 'tunnel'"),
    (EXPRESS + "      track: [new, existing]\n", "changes[0].add_line.track", "one track kind per segment"),
    ("name: x\ncosts: {unit_costs: {new_track_999: 5}}\nchanges:\n  - remove_route: {route: S}\n",
     "costs.unit_costs.new_track_999", "unknown unit cost"),
])
def test_bad_scenario_costs_exit_2_with_file_line_field(tmp_path, text, field, message):
    p = write(tmp_path, "bad", text)
    r = _run([str(p)], tmp_path)
    assert r.exit_code == 2, r.output
    assert "bad.yaml:" in r.output and f"field '{field}'" in r.output and message in r.output


def test_discount_rate_of_150_percent_exits_2(tmp_path):
    p = tmp_path / "appraisal.yaml"
    p.write_text("value_of_time_cny_per_h: 25\ndiscount_rate: 1.5\n", encoding="utf-8")
    r = _run(["--appraisal", str(p)], tmp_path)
    assert r.exit_code == 2, r.output
    assert "appraisal.yaml:2: field 'discount_rate'" in r.output and "150%" in r.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "where"), [
    ("operating_years: 12.5\n", "appraisal.yaml:1: field 'operating_years'"),
    ("value_of_tme: 20\n", "appraisal.yaml:1: field 'value_of_tme': unknown parameter"),
    ("calibration: {places: [harbin], trips_per_year: 5}\n", "field 'calibration.places'"),
])
def test_bad_appraisal_parameters(tmp_path, text, where):
    p = tmp_path / "appraisal.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_params(p)
    assert where in str(err.value) and err.value.exit_code == 2


def test_od_table_naming_an_unknown_place_exits_2(tmp_path):
    p = tmp_path / "od.csv"
    p.write_text("from_id,to_id,trips_per_day\nharbin,changchun,5000\nharbin,atlantis,10\n", encoding="utf-8")
    r = _run(["--od", str(p)], tmp_path)
    assert r.exit_code == 2, r.output
    assert "od.csv:3: field 'to_id': unknown place 'atlantis'" in r.output


@pytest.mark.parametrize(("body", "where"), [
    ("A,C,-3\n", "od.csv:2: field 'trips_per_day'"),
    ("A,A,3\n", "od.csv:2: field 'to_id'"),
    ("A,C,3\nA,C,4\n", "od.csv:3: the pair A -> C is listed twice"),
])
def test_bad_od_rows(tmp_path, body, where):
    p = tmp_path / "od.csv"
    p.write_text("from_id,to_id,trips_per_day\n" + body, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_od(p, pd.Index(list(LON)))
    assert where in str(err.value)


def test_library_od_table_with_unknown_places_is_refused():
    T = np.array([[0, 60], [60, 0]], float)
    od = pd.DataFrame({"from_id": ["A"], "to_id": ["Z"], "trips_per_day": [5.0]})
    with pytest.raises(InputError, match="not among the places: Z"):
        baseline_demand(T, np.array([1e6, 1e6]), ["A", "B"], AppraisalParams(), od)
