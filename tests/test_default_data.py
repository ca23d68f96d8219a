"""The bundled Northeast China sample (gtfs/, osm_cache/, scenarios/): valid, honest, reproducible.

Published run times used below are copied from ../shared/data/northeast_china/rail_fastest_times.csv
(CI has no ../shared); sources per row:

* Harbin West - Dalian North 210 min (2015-04-21): global.chinadaily.com.cn/dfpd/hlj/2015-04/21/content_20495047.htm
* Beijing - Shenyang 164 min (2021-01-22): regional.chinadaily.com.cn/travelshenyang/2021-01/25/c_585146.htm
* Beijing - Harbin 292 min (2021-01-22): same page
* Harbin West - Chengde South 282 min, G380 06:27-11:09 (2019-07-10):
  chinaservicesinfo.com/s/201907/11/WS5d269fb9498e054923eafcbd/harbin-chengde-high-speed-train-to-launch.html
* Harbin - Qiqihar South 85 min (2015-08-17): en.wikipedia.org/wiki/Harbin–Qiqihar_intercity_railway
* Harbin - Mudanjiang 88 min (2018-12-25): news.cgtn.com/news/3d3d514d7a59544e31457a6333566d54/index.html
* Harbin - Jiamusi 123 min (2018-09-30): www.syxd678.com/en/newscenter/Corporation/201810/t20181026_73014.html
* Mudanjiang - Jiamusi 130 min (2021-12 to 2022-12): en.people.cn/n3/2022/1213/c90000-10183691.html
* Changchun - Jilin 29 min (2011): en.wikipedia.org/wiki/Changchun–Jilin_Intercity_Railway
* Changchun - Hunchun about 120 min (2015-09-20): yuzhongnet.com/m/jilin/2015-09/23/content_21961428.htm
* Harbin - Jiamusi via Suihua 344 min (fastest before 2018-09-30; gtfs/facts/rail_fastest_times.csv):
  www.syxd678.com/en/newscenter/Corporation/201810/t20181026_73014.html
"""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from planner.common.notices import Severity
from planner.ingest.gtfs import read_feed, read_feeds
from planner.ingest.gtfs.from_timetable import timetable_to_tables

ROOT = Path(__file__).resolve().parent.parent
GTFS = ROOT / "gtfs"
RAIL = GTFS / "northeast_rail.zip"
METRO = GTFS / "harbin_metro.zip"
SHARED = ROOT.parent / "shared" / "data"

#: pattern -> (published minutes, first station, last station) of direction 0
PUBLISHED = {
    "hada_ex": (210, "哈尔滨西", "大连北"),
    "jingshen_ex": (164, "北京朝阳", "沈阳北"),
    "g380": (282, "哈尔滨西", "承德南"),
    "haqi_ex": (85, "哈尔滨", "齐齐哈尔南"),
    "hamu_ex": (88, "哈尔滨", "牡丹江"),
    "hajia_ex": (123, "哈尔滨", "佳木斯"),
    "mujia_ex": (130, "牡丹江", "佳木斯"),
    "changji_ex": (29, "长春", "吉林"),
    "hasuijia": (344, "哈尔滨东", "佳木斯"),
}


def tables(path: Path) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(path) as zf:
        return {n[:-4]: pd.read_csv(io.BytesIO(zf.read(n)), dtype=str, keep_default_na=False)
                for n in zf.namelist()}


def secs(t: str) -> int:
    h, m, s = (int(x) for x in t.split(":"))
    return h * 3600 + m * 60 + s


@pytest.fixture(scope="module")
def rail():
    return tables(RAIL)


@pytest.fixture(scope="module")
def metro():
    return tables(METRO)


def test_bundled_feeds_load_without_errors():
    for path in (RAIL, METRO):
        feed = read_feed(path)
        assert feed.notices.count(severity=Severity.ERROR) == 0, feed.notices.summary()
        assert feed.notices.count(severity=Severity.WARNING) == 0, feed.notices.summary()
        assert len(feed.trips) > 100 and feed.trips_in_file == len(feed.trips)
    fs = read_feeds([str(RAIL), str(METRO)])
    assert fs.ids == ["northeast_rail", "harbin_metro"]


def test_plan_gtfs_check_reports_zero_errors():
    r = CliRunner().invoke(main, ["gtfs", "check", str(RAIL), str(METRO)])
    assert r.exit_code == 0, r.output
    assert "Notices: 0 errors, 0 warnings" in r.output


def test_sizes_stay_small():
    for p in (RAIL, METRO):
        assert p.stat().st_size < 300_000
    assert (ROOT / "osm_cache" / "harbin_central.osm.pbf").stat().st_size == 1891308


def test_calibrated_trains_match_the_published_times(rail):
    trips = rail["trips"].set_index("trip_id")
    st = rail["stop_times"]
    stops = rail["stops"].set_index("stop_id")["stop_name"]
    calibrated = trips[trips["timing_basis"] == "calibrated"]
    assert set(calibrated["service_pattern"]) == set(PUBLISHED)
    for tid, trip in calibrated.iterrows():
        minutes, a, b = PUBLISHED[trip["service_pattern"]]
        rows = st[st["trip_id"] == tid]
        ends = [stops[rows["stop_id"].iloc[0]], stops[rows["stop_id"].iloc[-1]]]
        assert ends == ([a, b] if trip["direction_id"] == "0" else [b, a]), tid
        elapsed = secs(rows["arrival_time"].iloc[-1]) - secs(rows["departure_time"].iloc[0])
        assert elapsed == minutes * 60, tid
        assert trip["published_min"] == str(minutes)
        assert float(trip["cruise_kmh"]) <= 350
        assert list(rows["planner_assumed"].iloc[[0, -1]]) == ["0", "0"]
        assert (rows["planner_assumed"].iloc[1:-1] == "1").all()


def test_g380_keeps_its_published_clock_times(rail):
    st = rail["stop_times"]
    g = st[st["trip_id"] == "G380"]
    assert (g["departure_time"].iloc[0], g["arrival_time"].iloc[-1]) == ("06:27:00", "11:09:00")
    trips = rail["trips"].set_index("trip_id")
    assert "departure_times" not in trips.loc["G380", "planner_assumed"]
    assert "departure_times" in trips.loc["G380_r", "planner_assumed"]


def test_unreachable_and_check_times_are_reported(rail):
    trips = rail["trips"]
    st = rail["stop_times"]
    ch = trips[trips["service_pattern"] == "changhun"]
    assert set(ch["timing_basis"]) == {"max_speed_unreachable"}
    tid = ch["trip_id"].iloc[0]
    rows = st[st["trip_id"] == tid]
    elapsed = (secs(rows["arrival_time"].iloc[-1]) - secs(rows["departure_time"].iloc[0])) / 60
    assert elapsed > 120                       # "about 2 hours" is not reachable at 250 km/h with its stops
    # the Beijing-Harbin through train runs each line at its calibrated speed: a check, 292 published
    bj = trips[(trips["service_pattern"] == "jingha_ex") & (trips["direction_id"] == "0")]["trip_id"].iloc[0]
    rows = st[st["trip_id"] == bj]
    elapsed = (secs(rows["arrival_time"].iloc[-1]) - secs(rows["departure_time"].iloc[0])) / 60
    assert abs(elapsed - 292) <= 5
    cal = pd.read_csv(GTFS / "source" / "calibration.csv", dtype=str, keep_default_na=False)
    assert {"calibrated", "not_reachable_at_line_speed", "compare_only"} == set(cal["status"])


def test_every_trip_and_stop_time_is_marked(rail, metro):
    known = {"departure_times", "stopping_pattern", "station_list_incomplete", "service_count", "service_split",
             "run_times", "intermediate_times", "dwell_times", "km_marks", "hidden_stops", "line_in_service",
             "headways"}
    for t in (rail, metro):
        items = t["trips"]["planner_assumed"].str.split(";")
        assert (t["trips"]["planner_assumed"] != "").all()
        assert set().union(*map(set, items)) <= known
        assert set(t["stop_times"]["planner_assumed"]) == {"0", "1"}
    trips = rail["trips"].set_index("trip_id")
    assert set(trips["timing_basis"]) <= {"calibrated", "line_speed_calibrated", "line_speed_rule",
                                          "max_speed_unreachable"}
    assert set(trips["service_basis"]) <= {"published", "published_split_assumed", "assumed"}
    # a time is unmarked (0) only at the first stop, or at the last stop of a calibrated train
    st = rail["stop_times"].copy()
    st["seq"] = st["stop_sequence"].astype(int)
    first = st["seq"] == st.groupby("trip_id")["seq"].transform("min")
    last = st["seq"] == st.groupby("trip_id")["seq"].transform("max")
    calibrated = st["trip_id"].map(trips["timing_basis"]).eq("calibrated")
    assert (st.loc[first, "planner_assumed"] == "0").all()
    assert (st.loc[~first & ~(last & calibrated), "planner_assumed"] == "1").all()
    assert (st.loc[last & calibrated, "planner_assumed"] == "0").all()
    # run times of trips that are not calibrated are marked assumed
    assert trips.loc[trips["timing_basis"] != "calibrated", "planner_assumed"].str.contains("run_times").all()
    info = rail["feed_info"].iloc[0]
    assert "assumed" in info["planner_assumptions"].lower()
    assert "assumed" in metro["feed_info"].iloc[0]["planner_assumptions"].lower()


def test_stations_have_quality_and_city(rail, metro):
    for t in (rail, metro):
        s = t["stops"]
        assert set(s["coord_quality"]) <= {"osm", "sourced", "city_centre_approx"}
        assert (s["city"] != "").all()
    s = rail["stops"].set_index("stop_id")
    assert s.loc["VAB", "stop_name"] == "哈尔滨西" and s.loc["VAB", "stop_name_en"] == "Harbin West"
    assert s.loc["VAB", "coord_quality"] == "osm" and s.loc["VAB", "city"] == "harbin"
    assert s.loc["SBT", "city"] == "shenyang" and s.loc["CRT", "city"] == "changchun"
    cities = pd.read_csv(GTFS / "cities.csv", dtype={"city_id": str})
    assert cities["city_id"].is_unique and (cities["population"] > 500_000).all()
    assert set(cities["population_year"]) <= {2020, 2021}
    assert {"harbin", "changchun", "shenyang", "dalian"} <= set(cities["city_id"])
    harbin = cities.set_index("city_id").loc["harbin"]
    assert harbin["population"] == 10009854 and harbin["population_year"] == 2020    # 7th census
    outside = set(s["city"]) - set(cities["city_id"])
    assert outside == {"beijing", "chengde", "tongliao"}      # served, but no population in the facts
    for cid, ids in zip(cities["city_id"], cities["rail_stations"], strict=True):
        assert all(s.loc[i, "city"] == cid for i in ids.split(";"))


def test_suihua_is_served_by_the_conventional_line(rail):
    """Issue 15: Suihua station (SHB) is in the feed, on Harbin East-Suihua trains, and in cities.csv."""
    stops = rail["stops"].set_index("stop_id")
    assert stops.loc["SHB", "stop_name"] == "绥化" and stops.loc["SHB", "city"] == "suihua"
    assert stops.loc["VBB", "stop_name"] == "哈尔滨东" and stops.loc["VBB", "city"] == "harbin"
    cities = pd.read_csv(GTFS / "cities.csv", dtype=str).set_index("city_id")
    assert "SHB" in cities.loc["suihua", "rail_stations"].split(";")
    trips = rail["trips"].set_index("trip_id")
    st = rail["stop_times"]
    served = set(st[st["stop_id"] == "SHB"]["trip_id"])
    assert set(trips.loc[sorted(served), "route_id"]) == {"binbei"}
    assert set(trips.loc[sorted(served), "service_pattern"]) == {"binbei_all", "hasuijia"}
    # nothing published between Harbin East and Suihua: the stopping trains' times are marked assumed
    bb = trips[trips["service_pattern"] == "binbei_all"]
    assert len(bb) == 16 and bb["planner_assumed"].str.contains("run_times").all()
    assert (bb["timing_basis"] == "line_speed_calibrated").all()
    rows = st[st["trip_id"] == bb.index[0]]
    elapsed = (secs(rows["arrival_time"].iloc[-1]) - secs(rows["departure_time"].iloc[0])) / 60
    assert 60 <= elapsed <= 150                 # ~125 km on a conventional line


def test_harbin_metro_follows_the_osm_relations(metro):
    stops = metro["stops"].set_index("stop_id")
    st = metro["stop_times"]
    trips = metro["trips"]
    t1 = trips[(trips["route_id"] == "L1") & (trips["direction_id"] == "0")]["trip_id"].iloc[0]
    names = [stops.loc[i, "stop_name"] for i in st[st["trip_id"] == t1]["stop_id"]]
    # OSM relation 5490209 (哈尔滨地铁1号线: 哈尔滨东站→新疆大街), cut at the extract's edge
    assert names[:4] == ["哈尔滨东站", "桦树街", "交通学院", "太平桥"] and names[-1] == "哈尔滨南站"
    assert len(names) == 18
    platforms = stops[stops["location_type"] == "0"]
    assert (platforms["parent_station"] != "").all()
    museum = platforms[platforms["stop_name"] == "博物馆"]
    assert len(museum) == 2 and museum["parent_station"].nunique() == 1      # lines 1 and 2
    assert set(metro["routes"]["route_type"]) == {"1"}
    assert metro["shapes"]["shape_id"].nunique() == 6
    assert len(metro["transfers"]) == 8
    assert metro["agency"].iloc[0]["agency_name"] == "哈尔滨地铁"


def test_rail_feed_is_the_adapter_output_of_the_bundled_timetable(tmp_path):
    src = GTFS / "source"
    t = timetable_to_tables(src / "rail_timetable.csv", src / "rail_stations.csv", start_date="2025-01-01",
                            end_date="2025-12-31", route_type=101)
    from planner.ingest.gtfs.writer import write_feed_zip

    out = tmp_path / "again.zip"
    write_feed_zip(t, out)
    with zipfile.ZipFile(out) as a, zipfile.ZipFile(RAIL) as b:
        for name in ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt"):
            assert a.read(name) == b.read(name), name


def test_scenarios_are_valid():
    from planner.scenarios.spec import AddLine, load_scenario

    paths = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert 3 <= len(paths) <= 5
    names = set(pd.read_csv(io.BytesIO(zipfile.ZipFile(RAIL).read("stops.txt")), dtype=str)["stop_name"])
    for p in paths:
        s = load_scenario(p)
        assert s.name == p.stem
        for ch in s.of_kind(AddLine):
            for ref in ch.stops:
                assert ref.lon is not None or ref.text in names, (p, ref.text)


def _build_module():
    spec = importlib.util.spec_from_file_location("build_default_data", ROOT / "scripts" / "build_default_data.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "northeast_china" / "rail_lines.csv").is_file(),
                    reason="../shared/data is not beside the repository (a fresh clone): the build script's "
                           "inputs live outside it, so the rebuild cannot be checked here")
def test_build_is_deterministic_and_matches_the_committed_files(tmp_path):
    mod = _build_module()
    a, b = tmp_path / "a", tmp_path / "b"
    mod.build(SHARED, a)
    mod.build(SHARED, b)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
        assert (ROOT / rel).read_bytes() == (a / rel).read_bytes(), f"{rel} is stale: rerun the build script"
