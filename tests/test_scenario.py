"""Scenarios on a hand-made four-city corridor: exact effects of a new line, a removed route,
changed headways, a new transfer; validation errors with file, line and field.

    A ------- B ------- C ------- D      cities 1.3 degrees of longitude apart at lat 45
    slow line S: every hour 06:00-21:00 from A (and from D), 60 min a leg, 2 min dwell
    scenario express X: A - C in 60 min, every hour from 06:30 (both directions)
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from planner.analyses.evaluate.compare import evaluate
from planner.config import Config
from planner.errors import ScenarioError
from planner.ingest.gtfs import read_feeds
from planner.scenarios.apply import apply_to_feeds
from planner.scenarios.spec import load_scenario
from tests.conftest import write_feed

CFG = Config(progress=False)
LON = {"A": 126.0, "B": 127.3, "C": 128.6, "D": 129.9}


def _fmt(t):
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:00"


def corridor(tmp_path):
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(f"{s},City {s},45.0,{lon}\n" for s, lon in LON.items())
    trips = "route_id,service_id,trip_id\n"
    st = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for direction, order in (("E", "ABCD"), ("W", "DCBA")):
        for h in range(6, 22):
            tid = f"S{direction}{h:02d}"
            trips += f"S,D,{tid}\n"
            t = h * 3600
            for k, s in enumerate(order):
                arr = t
                dep = t + (120 if 0 < k < 3 else 0)
                st.append(f"{tid},{_fmt(arr)},{_fmt(dep)},{s},{k + 1}")
                t = dep + 3600
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nR,Rail,https://r.example,Asia/Shanghai\n",
        "stops.txt": stops,
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nS,R,S,2\n",
        "trips.txt": trips,
        "stop_times.txt": "\n".join(st) + "\n",
        "calendar_dates.txt": "service_id,date,exception_type\nD,20250617,1\n",
    }
    return read_feeds([f"rail={write_feed(tmp_path / 'rail', files)}"], config=CFG)


def places():
    return pd.DataFrame({"id": list(LON), "name": [f"City {c}" for c in LON], "lon": list(LON.values()),
                         "lat": [45.0] * 4, "population": [4e6, 1e6, 3e6, 2e6], "stop_id": [""] * 4})


def write(tmp_path, name, text):
    p = tmp_path / f"{name}.yaml"
    p.write_text(text, encoding="utf-8")
    return p


EXPRESS = """name: express
description: A-C express
changes:
  - add_line:
      id: X
      name: Express A-C
      operator: Fast Rail
      mode: high_speed_rail
      stops: [City A, City C]
      run_times_min: [60]
      headway_min: 60
      service: {start: "06:30", end: "21:00"}
      cost_per_km_million: 100
"""


def _T(ev, name):
    res = ev.baseline if name == "baseline" else next(r for r in ev.scenarios if r.name == name)
    ids = list(ev.places["id"])
    return {(a, b): res.matrix_min[i, j] for i, a in enumerate(ids) for j, b in enumerate(ids) if a != b}


def test_new_line_lowers_exactly_the_expected_pairs(tmp_path):
    fs = corridor(tmp_path)
    before = {k: v.copy() for k, v in fs["rail"].tables.items()}
    scn = load_scenario(write(tmp_path, "express", EXPRESS))
    ev = evaluate(fs, [scn], places(), date="2025-06-17", depart_s=6 * 3600, window_min=0, config=CFG,
                  cache_dir=tmp_path / "c")
    base, new = _T(ev, "baseline"), _T(ev, "express")
    # baseline by hand: from 06:00, A->B 60, A->C 122, A->D 184; C->A waits for 07:02 -> 184
    assert base[("A", "B")] == 60 and base[("A", "C")] == 122 and base[("A", "D")] == 184
    assert base[("C", "A")] == 184 and base[("D", "A")] == 184
    changed = {k for k in base if not np.isclose(base[k], new[k])}
    assert changed == {("A", "C"), ("C", "A"), ("D", "A")}
    assert new[("A", "C")] == 90        # express 06:30 -> 07:30
    assert new[("C", "A")] == 90
    assert new[("D", "A")] == 150       # slow D->C 07:00, change (120 s), express 07:30 -> 08:30
    row = ev.ranking.iloc[0]
    assert row["scenario"] == "express" and row["delta_pop_weighted_mean_min"] < 0
    assert row["pairs_faster"] == 3 and row["pairs_slower"] == 0
    # 2.6 degrees of longitude at lat 45 (great circle, nearly the parallel) x 1.1 alignment factor
    assert row["new_line_km"] == pytest.approx(2.6 * 111.195 * np.cos(np.radians(45)) * 1.1, rel=1e-3)
    # the line does not say its track: counted as new track, at its own cost per km
    assert row["capital_million_cny"] == pytest.approx(row["new_line_km"] * 100, rel=1e-3)
    # the baseline feed was not touched
    for k, v in fs["rail"].tables.items():
        pd.testing.assert_frame_equal(v, before[k])


def test_remove_route_raises_travel_times(tmp_path):
    fs = corridor(tmp_path)
    scn = load_scenario(write(tmp_path, "cut", "name: cut\nchanges:\n  - remove_route: {route: S}\n"))
    ev = evaluate(fs, [scn], places(), date="2025-06-17", depart_s=6 * 3600, window_min=0, config=CFG,
                  cache_dir=tmp_path / "c")
    new = _T(ev, "cut")
    assert all(np.isnan(v) for v in new.values())  # nothing else connects the cities
    assert ev.ranking.iloc[0]["pairs_disconnected"] == 12


def test_adjust_headway_factor_doubles_trips(tmp_path):
    fs = corridor(tmp_path)
    scn = load_scenario(write(tmp_path, "dbl", "name: dbl\nchanges:\n  - adjust_headway: {route: rail:S, factor: 0.5}\n"))
    _fs2, report = apply_to_feeds(fs, scn)
    assert report[0]["trips_before"] == 32 and report[0]["trips_after"] == 62  # 15 gaps per direction
    ev = evaluate(fs, [scn], places(), date="2025-06-17", depart_s=6 * 3600 + 10 * 60, window_min=0, config=CFG,
                  cache_dir=tmp_path / "c")
    base, new = _T(ev, "baseline"), _T(ev, "dbl")
    # leaving A at 06:10: baseline waits for 07:00; with half-hourly trains the 06:30 one
    assert base[("A", "B")] == 110 and new[("A", "B")] == 80
    assert all(new[k] <= base[k] for k in base)


def test_add_transfer_changes_only_pairs_using_it(tmp_path):
    fs = corridor(tmp_path)
    # a (fictional) 5-minute connector between City B and City C stations lets B->C walk
    scn = load_scenario(write(tmp_path, "link", "name: link\nchanges:\n"
                              "  - add_transfer: {from_stop: 'rail:B', to_stop: 'rail:C', walk_s: 300}\n"))
    ev = evaluate(fs, [scn], places(), date="2025-06-17", depart_s=6 * 3600, window_min=0, config=CFG,
                  cache_dir=tmp_path / "c")
    base, new = _T(ev, "baseline"), _T(ev, "link")
    assert new[("B", "C")] == 5 and new[("C", "B")] == 5
    changed = {k for k in base if not np.isclose(base[k], new[k], equal_nan=True)}
    assert ("B", "C") in changed and ("C", "B") in changed
    for k in changed:  # every pair that changed got faster
        assert np.isnan(base[k]) or new[k] < base[k]


@pytest.mark.parametrize(("text", "line", "field"), [
    ("name: x\nchanges:\n  - add_line:\n      id: X\n      mode: bus\n      stops: [City A, City C]\n"
     "      run_times_min: [10]\n      headway_min: -5\n", 8, "changes[0].add_line.headway_min"),
    ("name: x\nchanges:\n  - remove_route: {rout: S}\n", 3, "changes[0].remove_route.rout"),
    ("name: x\nchanges:\n  - add_line:\n      id: X\n      mode: spaceship\n      stops: [City A, City C]\n"
     "      run_times_min: [10]\n      departures: ['07:00']\n", 5, "changes[0].add_line.mode"),
    ("name: x\nchanges:\n  - add_line:\n      id: X\n      mode: bus\n      stops: [City A, City C]\n"
     "      run_times_min: [10, 20]\n      departures: ['07:00']\n", 7, "changes[0].add_line.run_times_min"),
    ("name: x\nchanges:\n  - add_line:\n      id: X\n      mode: bus\n      stops: [City A, {lon: 500, lat: 1}]\n"
     "      run_times_min: [10]\n      departures: ['25:99']\n", 6, "changes[0].add_line.stops[1]"),
])
def test_malformed_scenarios_name_file_line_field(tmp_path, text, line, field):
    p = write(tmp_path, "bad", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    msg = str(info.value)
    assert f"{p}:{line}: field '{field}'" in msg
    assert info.value.exit_code == 2


def test_bad_yaml_and_unknown_station(tmp_path):
    with pytest.raises(ScenarioError, match=r"bad\.yaml:3: not valid YAML"):
        load_scenario(write(tmp_path, "bad", "name: x\nchanges:\n  - [unclosed\n"))
    fs = corridor(tmp_path)
    scn = load_scenario(write(tmp_path, "nope", EXPRESS.replace("[City A, City C]", "[City A,\n        Atlantis]")))
    with pytest.raises(ScenarioError, match=r"nope\.yaml:10: add_line 'X': no stop or station named 'Atlantis'"):
        apply_to_feeds(fs, scn)


def test_scenario_feed_is_valid_gtfs(tmp_path):
    from planner.ingest.gtfs import read_feed
    from planner.ingest.gtfs.writer import write_feed_zip

    fs = corridor(tmp_path)
    scn = load_scenario(write(tmp_path, "express", EXPRESS))
    fs2, _ = apply_to_feeds(fs, scn)
    new = fs2.feeds[-1]
    write_feed_zip(new.tables, tmp_path / "x.zip")
    again = read_feed(tmp_path / "x.zip")
    assert again.notices.count() == 0, again.notices.summary()
    assert len(again.trips) == 2 * len(range(6 * 3600 + 1800, 21 * 3600, 3600))


def test_evaluate_cli_outputs_and_errors(tmp_path):
    import sqlite3

    from click.testing import CliRunner

    from planner.cli.main import main

    corridor(tmp_path)
    places().drop(columns=["stop_id"]).to_csv(tmp_path / "places.csv", index=False)
    good = write(tmp_path, "express", EXPRESS)
    out = tmp_path / "out"
    args = ["evaluate", str(good), "--gtfs", str(tmp_path / "rail"), "--places", str(tmp_path / "places.csv"),
            "--date", "2025-06-17", "--depart", "06:00", "--window", "60", "--step", "10",
            "--cache-dir", str(tmp_path / "c"), "-q", "-o", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "express" in r.output and "rank" in r.output
    names = {p.name for p in out.iterdir()}
    assert {"ranking.csv", "places.csv", "matrix.csv", "matrix.parquet", "evaluate.gpkg", "map_baseline.png",
            "map_express.png", "report.html"} <= names
    assert not any(n.startswith(".") for n in names)  # no staging leftovers
    html = (out / "report.html").read_text()
    # self-contained: nothing is loaded from elsewhere (sources cited as text are fine)
    assert "<img" in html and not re.search(r"""(src|href)=['"]?https?:|url\(\s*['"]?https?:""", html)
    con = sqlite3.connect(out / "evaluate.gpkg")
    layers = {row[0] for row in con.execute("select table_name from gpkg_contents")}
    con.close()
    assert layers == {"places", "candidate_lines"}
    # an explicit output folder is not overwritten without --overwrite
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and "already exists" in r.output
    # a malformed scenario: exit 2 naming file, line and field, nothing written
    bad = write(tmp_path, "bad", EXPRESS.replace("headway_min: 60", "headway_min: -5"))
    r = CliRunner().invoke(main, [*args[:1], str(bad), *args[2:-1], str(tmp_path / "out2")])
    assert r.exit_code == 2
    line = next(i for i, t in enumerate(bad.read_text().splitlines(), 1) if "headway_min" in t)
    assert f"{bad}:{line}: field 'changes[0].add_line.headway_min'" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "out2").exists()


def test_scenario_check_and_export_cli(tmp_path):
    from click.testing import CliRunner

    from planner.cli.main import main
    from planner.ingest.gtfs import read_feed

    corridor(tmp_path)
    good = write(tmp_path, "express", EXPRESS)
    r = CliRunner().invoke(main, ["scenario", "check", str(good), "--gtfs", str(tmp_path / "rail")])
    assert r.exit_code == 0 and "add_line" in r.output
    out = tmp_path / "exp"
    r = CliRunner().invoke(main, ["scenario", "export", str(good), "--gtfs", str(tmp_path / "rail"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    feed = read_feed(out / "scenario_express_X.zip")
    assert feed.notices.count() == 0
    assert set(feed.stops["stop_name"]) == {"City A", "City C"}


def test_adjust_headway_with_an_extra_pattern_column(tmp_path):
    """Regression: an extra trips.txt column named 'pattern' must not break adjust_headway."""
    fs = corridor(tmp_path)
    f = fs["rail"]
    f.tables["trips"] = f.tables["trips"].assign(pattern="x")
    scn = load_scenario(write(tmp_path, "dbl", "name: dbl\nchanges:\n  - adjust_headway: {route: rail:S, factor: 0.5}\n"))
    _fs2, report = apply_to_feeds(fs, scn)
    assert report[0]["trips_after"] == 62


def test_gcj02_looking_coordinates_warn(tmp_path):
    from planner.common.datum import wgs84_to_gcj02
    from planner.scenarios.apply import ScenarioWarning

    fs = corridor(tmp_path)
    # City C's station as a map service would publish it (GCJ-02) but without 'datum'
    lon, lat = wgs84_to_gcj02(np.array([LON["C"]]), np.array([45.0]))
    text = EXPRESS.replace("[City A, City C]", f"[City A, {{lon: {lon[0]:.6f}, lat: {lat[0]:.6f}, name: City C}}]")
    scn = load_scenario(write(tmp_path, "gcj", text))
    with pytest.warns(ScenarioWarning, match="GCJ-02 offset"):
        apply_to_feeds(fs, scn)
    ok = load_scenario(write(tmp_path, "gcj2", text.replace("name: City C}", "name: City C, datum: gcj02}")))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apply_to_feeds(fs, ok)
