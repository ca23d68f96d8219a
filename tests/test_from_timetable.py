"""Tabular timetable -> GTFS (planner.ingest.gtfs.from_timetable and 'plan gtfs from-timetable')."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from planner.common.datum import wgs84_to_gcj02
from planner.common.notices import Severity
from planner.errors import InputError, OutputError
from planner.ingest.gtfs import read_feed
from planner.ingest.gtfs.from_timetable import (
    TimetableError,
    convert_timetable,
    parse_running_days,
    timetable_to_tables,
)

# OSM station nodes (harbin_osm_stations.csv / station_coordinates_more.csv, ODbL)
STATIONS = """station_id,name_zh,name_en,lat,lon,quality,city
VAB,哈尔滨西,Harbin West,45.7051442,126.5723242,osm,harbin
CRT,长春西,Changchun West,43.87494,125.1939,osm,changchun
SBT,沈阳北,Shenyang North,41.81733,123.42943,osm,shenyang
"""

TIMETABLE = """train,seq,station,arrival,departure,day_offset,running_days,operator,route_name,route_type,trip_note,platform
G1,0,哈尔滨西,,06:30,0,daily,中国铁路沈阳局集团有限公司,哈大高铁,101,fast,1
G1,1,Changchun West,07:32,07:36,0,,,,,,2
G1,2,SBT,09:05,,0,,,,,,3
D9,0,SBT,,23:10,0,Mon-Fri,中国铁路哈尔滨局集团有限公司,,2,,
D9,1,CRT,23:58,00:04,0,Mon-Fri,,,,,
D9,2,VAB,01:40,,1,Mon-Fri,,,,,
K7,2,沈阳北,12:00,,0,1111100,中国铁路沈阳局集团有限公司,哈大高铁,101,,
K7,0,VAB,,07:00,0,1111100,,,,,
Z5,0,VAB,,10:00,0,"Sat,Sun",中国铁路沈阳局集团有限公司,哈大高铁,101,,
Z5,1,SBT,13:00,,0,"Sat,Sun",,,,,
"""


def write(tmp_path, tt=TIMETABLE, st=STATIONS, name="tt.csv"):
    t = tmp_path / name
    s = tmp_path / "st.csv"
    t.write_text(tt, encoding="utf-8")
    s.write_text(st, encoding="utf-8")
    return t, s


OPTS = {"start_date": "2025-01-01", "end_date": "2025-12-31"}


def members(path):
    with zipfile.ZipFile(path) as zf:
        return {n: pd.read_csv(io.BytesIO(zf.read(n)), dtype=str, keep_default_na=False) for n in zf.namelist()}


def test_convert_writes_a_valid_feed(tmp_path):
    t, s = write(tmp_path)
    out = tmp_path / "rail.zip"
    summary = convert_timetable(t, s, out, **OPTS)
    assert (summary.agencies, summary.routes, summary.trips, summary.stops, summary.stop_times) == (2, 2, 4, 3, 10)
    feed = read_feed(out)
    assert feed.notices.count(severity=Severity.ERROR) == 0
    assert feed.notices.count(severity=Severity.WARNING) == 0
    m = members(out)
    assert sorted(m) == ["agency.txt", "calendar.txt", "feed_info.txt", "routes.txt", "stop_times.txt", "stops.txt",
                         "trips.txt"]
    # one agency per operator, ids by name order
    assert dict(zip(m["agency.txt"]["agency_name"], m["agency.txt"]["agency_id"], strict=True)) == {
        "中国铁路哈尔滨局集团有限公司": "a1", "中国铁路沈阳局集团有限公司": "a2"}
    assert set(m["agency.txt"]["agency_timezone"]) == {"Asia/Shanghai"}
    # routes: by route name; unnamed -> "first – last" (sorted); route types
    r = m["routes.txt"].set_index("route_long_name")
    assert r.loc["哈大高铁", "route_type"] == "101"
    assert r.loc["哈尔滨西 – 沈阳北", "route_type"] == "2"
    # calendar per running-days mask
    cal = m["calendar.txt"].set_index("service_id")
    assert sorted(cal.index) == ["daily", "days_0000011", "days_1111100"]
    assert cal.loc["days_0000011", "saturday"] == "1" and cal.loc["days_0000011", "friday"] == "0"
    assert set(cal["start_date"]) == {"20250101"} and set(cal["end_date"]) == {"20251231"}
    trips = m["trips.txt"].set_index("trip_id")
    assert trips.loc["G1", "service_id"] == "daily" and trips.loc["D9", "service_id"] == "days_1111100"
    assert trips.loc["G1", "trip_headsign"] == "沈阳北" and trips.loc["G1", "note"] == "fast"
    assert trips.loc["G1", "trip_short_name"] == "G1"
    st = m["stop_times.txt"]
    d9 = st[st["trip_id"] == "D9"]
    # past midnight: departure after the arrival at CRT is on the next day; day_offset 1 at VAB
    assert list(d9["arrival_time"]) == ["23:10:00", "23:58:00", "25:40:00"]
    assert list(d9["departure_time"]) == ["23:10:00", "24:04:00", "25:40:00"]
    g1 = st[st["trip_id"] == "G1"]
    assert list(g1["stop_id"]) == ["VAB", "CRT", "SBT"]     # by zh name, English name and id
    assert list(g1["platform"]) == ["1", "2", "3"]            # extra columns to stop_times.txt
    k7 = st[st["trip_id"] == "K7"]
    assert list(k7["stop_sequence"]) == ["0", "2"]           # rows sorted by seq
    stops = m["stops.txt"].set_index("stop_id")
    assert stops.loc["VAB", "stop_name"] == "哈尔滨西" and stops.loc["VAB", "stop_name_en"] == "Harbin West"
    assert stops.loc["VAB", "coord_quality"] == "osm" and stops.loc["VAB", "city"] == "harbin"
    info = m["feed_info.txt"].iloc[0]
    assert info["feed_start_date"] == "20250101" and info["feed_lang"] == "zh"


def test_output_is_deterministic_and_written_only_once(tmp_path):
    t, s = write(tmp_path)
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    convert_timetable(t, s, a, **OPTS)
    convert_timetable(t, s, b, **OPTS)
    assert a.read_bytes() == b.read_bytes()
    with pytest.raises(OutputError) as err:
        convert_timetable(t, s, a, **OPTS)
    assert err.value.code == "output_exists"
    convert_timetable(t, s, a, overwrite=True, **OPTS)
    with pytest.raises(OutputError):
        convert_timetable(t, s, tmp_path / "rail.txt", **OPTS)


def test_failed_conversion_leaves_the_old_file(tmp_path):
    t, s = write(tmp_path)
    out = tmp_path / "rail.zip"
    convert_timetable(t, s, out, **OPTS)
    before = out.read_bytes()
    bad, _ = write(tmp_path, TIMETABLE.replace("07:32", "7h32"), name="bad.csv")
    with pytest.raises(TimetableError):
        convert_timetable(bad, s, out, overwrite=True, **OPTS)
    assert out.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_gcj02_station_coordinates_are_converted(tmp_path):
    gx, gy = wgs84_to_gcj02(126.5723242, 45.7051442)
    st = STATIONS.replace("45.7051442,126.5723242,osm,harbin", f"{float(gy):.9f},{float(gx):.9f},osm,harbin")
    st = st.replace("station_id,name_zh,name_en,lat,lon,quality,city", "station_id,name_zh,name_en,lat,lon,quality,city")
    t, s = write(tmp_path, st=st.replace(",city\n", ",city,datum\n", 1).replace(",harbin\n", ",harbin,gcj02\n")
                 .replace(",changchun\n", ",changchun,\n").replace(",shenyang\n", ",shenyang,\n"))
    tables = timetable_to_tables(t, s, **OPTS)
    vab = tables["stops"].set_index("stop_id").loc["VAB"]
    assert abs(vab["stop_lat"] - 45.7051442) < 1e-7 and abs(vab["stop_lon"] - 126.5723242) < 1e-7
    # the whole file in BD-09 via the option
    tables = timetable_to_tables(t, s, datum="bd09", **OPTS)
    crt = tables["stops"].set_index("stop_id").loc["CRT"]
    assert abs(crt["stop_lat"] - 43.87494) > 1e-3


@pytest.mark.parametrize(("text", "mask"), [
    ("daily", (1,) * 7), ("", (1,) * 7), ("1111100", (1, 1, 1, 1, 1, 0, 0)), ("Mon-Fri", (1, 1, 1, 1, 1, 0, 0)),
    ("sat,sun", (0, 0, 0, 0, 0, 1, 1)), ("Fri-Mon", (1, 0, 0, 0, 1, 1, 1)), ("Mon, Wed; Friday", (1, 0, 1, 0, 1, 0, 0)),
    ("weekends", (0, 0, 0, 0, 0, 1, 1)), ("1-3", (1, 1, 1, 0, 0, 0, 0)), ("Tu", (0, 1, 0, 0, 0, 0, 0)),
])
def test_running_days(text, mask):
    assert parse_running_days(text) == mask


@pytest.mark.parametrize("text", ["0000000", "11111", "Moonday", "Mon-Funday", "x", "M"])
def test_bad_running_days(text):
    assert parse_running_days(text) is None


def expect_error(tmp_path, tt=TIMETABLE, st=STATIONS, **kw):
    t, s = write(tmp_path, tt, st)
    with pytest.raises(TimetableError) as err:
        timetable_to_tables(t, s, **{**OPTS, **kw})
    assert isinstance(err.value, InputError) and err.value.exit_code == 2
    assert err.value.hint
    return err.value


@pytest.mark.parametrize(("old", "new", "code", "where"), [
    ("G1,1,Changchun West", "G1,1,长春", "unknown_station", "tt.csv:3: field 'station'"),
    ("07:32,07:36", "07:32,25:36", "invalid_time", "tt.csv:3: field 'departure'"),
    ("07:32,07:36", "09:32,09:36", "stop_time_with_arrival_before_previous_departure_time", "tt.csv:4: field 'arrival'"),
    ("G1,2,SBT", "G1,1,SBT", "duplicate_key", "tt.csv:4: field 'seq'"),
    ("D9,1,CRT,23:58,00:04,0,Mon-Fri", "D9,1,CRT,23:58,00:04,0,daily", "inconsistent_train_value",
     "tt.csv:6: field 'running_days'"),
    ("Mon-Fri", "Mon-Funday", "invalid_running_days", "tt.csv:5: field 'running_days'"),
    ("G1,0,哈尔滨西,,06:30,0", "G1,0,哈尔滨西,,06:30,1", "invalid_day_offset", "tt.csv:2: field 'day_offset'"),
    ("D9,2,VAB,01:40,,1", "D9,2,VAB,01:40,,x", "invalid_integer", "tt.csv:7: field 'day_offset'"),
    ("G1,2,SBT,09:05,", "G1,2,SBT,,", "missing_required_field", "tt.csv:4: field 'arrival'"),
    ("G1,1,", "G1,x,", "invalid_integer", "tt.csv:3: field 'seq'"),
    (",101,fast,1", ",fast train,fast,1", "invalid_integer", "tt.csv:2: field 'route_type'"),
])
def test_timetable_errors_name_file_line_field(tmp_path, old, new, code, where):
    assert old in TIMETABLE
    err = expect_error(tmp_path, TIMETABLE.replace(old, new, 1 if old != "Mon-Fri" else -1))
    assert err.code == code
    assert where in str(err)


def test_every_problem_is_listed_at_once(tmp_path):
    tt = TIMETABLE.replace("G1,1,Changchun West", "G1,1,长春").replace("Z5,1,SBT,13:00", "Z5,1,SBT,13:61")
    err = expect_error(tmp_path, tt)
    assert "2 problems" in str(err)
    assert "tt.csv:3: field 'station'" in str(err) and "tt.csv:11: field 'arrival'" in str(err)


@pytest.mark.parametrize(("st", "code", "where"), [
    (STATIONS.replace("45.7051442", "north"), "invalid_float", "st.csv:2: field 'lat'"),
    (STATIONS.replace("45.7051442", "95.1"), "number_out_of_range", "st.csv:2: field 'lat'"),
    (STATIONS.replace("CRT,", "VAB,"), "duplicate_key", "st.csv:3: field 'station_id'"),
    (STATIONS.replace(",city\n", ",city,datum\n").replace(",harbin\n", ",harbin,mars\n")
     .replace(",changchun\n", ",changchun,\n").replace(",shenyang\n", ",shenyang,\n"), "invalid_datum",
     "st.csv:2: field 'datum'"),
])
def test_station_errors(tmp_path, st, code, where):
    err = expect_error(tmp_path, st=st)
    assert err.code == code
    assert where in str(err)


@pytest.mark.parametrize(("tt", "code"), [
    ("", "empty_file"),
    ("train,seq,station,arrival,departure\n", "empty_file"),
    ("train,seq,station,arrival\nG1,0,VAB,06:00\n", "missing_required_column"),
    ("train,seq,station,arrival,departure,seq\nG1,0,VAB,,06:00,0\n", "duplicated_column"),
    ("train,seq,station,arrival,departure\nG1,0,VAB,,06:00,extra\n", "invalid_row_length"),
    ("train,seq,station,arrival,departure,stop_id\nG1,0,VAB,,06:00,x\nG1,1,SBT,09:00,,x\n", "reserved_column"),
    ("train,seq,station,arrival,departure,trip_route_id\nG1,0,VAB,,06:00,x\nG1,1,SBT,09:00,,x\n", "reserved_column"),
    ("train,seq,station,arrival,departure\nG1,0,VAB,,06:00\n", "too_few_stops"),
])
def test_file_level_errors(tmp_path, tt, code):
    assert expect_error(tmp_path, tt).code == code


def test_unreadable_inputs(tmp_path):
    t, s = write(tmp_path)
    t.write_bytes(TIMETABLE.encode("gbk"))
    with pytest.raises(TimetableError) as err:
        timetable_to_tables(t, s, **OPTS)
    assert err.value.code == "invalid_encoding"
    with pytest.raises(TimetableError) as err:
        timetable_to_tables(tmp_path / "missing.csv", s, **OPTS)
    assert err.value.code == "input_unreadable"


@pytest.mark.parametrize(("kw", "code"), [
    ({"start_date": "2025-13-01"}, "invalid_date"), ({"end_date": "2024-12-31"}, "start_and_end_range_out_of_order"),
    ({"timezone": "Mars/Olympus"}, "invalid_timezone"), ({"route_type": -1}, "invalid_route_type"),
])
def test_bad_options(tmp_path, kw, code):
    assert expect_error(tmp_path, **kw).code == code


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_converts_and_checks(tmp_path):
    t, s = write(tmp_path)
    out = tmp_path / "rail.zip"
    r = run("gtfs", "from-timetable", t, s, "-o", out, "--start-date", "2025-01-01", "--end-date", "2025-12-31")
    assert r.exit_code == 0, r.output
    assert "Wrote" in r.output and "4 trips" in r.output
    assert "Checked: 0 errors, 0 warnings" in r.output
    r = run("gtfs", "from-timetable", t, s, "-o", out, "--start-date", "2025-01-01", "--end-date", "2025-12-31")
    assert r.exit_code == 2 and "already exists" in r.output
    r = run("gtfs", "from-timetable", t, s, "-o", out, "--start-date", "2025-01-01", "--end-date", "2025-12-31",
            "--overwrite", "--datum", "GCJ02", "--no-check")
    assert r.exit_code == 0 and "Checked" not in r.output


def test_cli_bad_input_exit_2_without_traceback(tmp_path):
    t, s = write(tmp_path, TIMETABLE.replace("G1,1,Changchun West", "G1,1,长春"))
    out = tmp_path / "rail.zip"
    r = run("gtfs", "from-timetable", t, s, "-o", out, "--start-date", "2025-01-01", "--end-date", "2025-12-31")
    assert r.exit_code == 2
    assert "Error [unknown_station]" in r.output
    assert "tt.csv:3: field 'station'" in r.output
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert not out.exists()


def test_cli_help_has_examples():
    r = run("gtfs", "from-timetable", "--help")
    assert r.exit_code == 0
    assert "Examples:" in r.output and "plan gtfs from-timetable trains.csv stations.csv -o rail.zip" in r.output
    r = run("gtfs", "from-timetable", "a.csv", "b.csv")
    assert r.exit_code == 2 and "--output" in r.output
