"""GTFS parsing on tiny inline feeds: text handling, IDs, service days, overnight trips,
several feeds with colliding IDs, stations, transfers and fares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.common.notices import Notices
from planner.config import Config
from planner.errors import FeedError
from planner.ingest.gtfs import read_feed, read_feeds, service_dates
from planner.ingest.gtfs._convert import format_time, parse_time
from planner.ingest.gtfs._csv import _exact, _fast, tokenize
from planner.network.timetable import build_timetable
from tests.conftest import MINI


def test_minimal_feed_loads_clean(make_feed):
    feed = read_feed(make_feed())
    assert len(feed.trips) == 2
    assert feed.notices.count(severity=None) == 0
    assert feed.stops.loc[feed.stops["stop_id"] == "S1", "parent_station"].item() == "S"


def test_ids_stay_strings(make_feed):
    stops = MINI["stops.txt"].replace("S1,", "007,").replace(",S1,", ",007,")
    stops += "NA,Not Applicable Street,45.79,126.66,0,\n"
    st = MINI["stop_times.txt"].replace(",S1,", ",007,")
    feed = read_feed(make_feed({"stops.txt": stops, "stop_times.txt": st}))
    ids = set(feed.stops["stop_id"])
    assert {"007", "NA"} <= ids
    assert "7" not in ids
    assert set(feed.stop_times["stop_id"]) == {"007", "B", "C"}


def test_bom_crlf_quotes_whitespace(make_feed):
    stops = ("\ufeffstop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\r\n"
             'S,"Central, Main Hall",45.7600,126.6250,1,\r\n'
             'S1,"Central ""Old"" platform",45.7601,126.6251,0,S\r\n'
             "S2,Central platform 2 , 45.7599,126.6249,0,S\r\n"
             "B,Bridge,45.7700,126.6400,0,\n"
             "C,Castle,45.7800,126.6550,0,\r\n")
    feed = read_feed(make_feed({"stops.txt": stops}))
    names = dict(zip(feed.stops["stop_id"], feed.stops["stop_name"], strict=True))
    assert names["S"] == "Central, Main Hall"
    assert names["S1"] == 'Central "Old" platform'
    assert names["S2"] == "Central platform 2"
    assert not any("\ufeff" in c for c in feed.stops.columns)  # BOM not in the header
    assert feed.notices.count("unknown_column") == 0
    assert feed.notices.count("leading_or_trailing_whitespaces") == 2
    assert feed.stops.loc[feed.stops["stop_id"] == "S2", "stop_lat"].item() == pytest.approx(45.7599)


def test_bad_times_drop_the_trip_with_line_and_field(make_feed):
    st = MINI["stop_times.txt"].replace("T2,09:10:00,09:11:00", "T2,25:61:00,09:11:00")
    feed = read_feed(make_feed({"stop_times.txt": st}), config=Config(max_dropped_trip_share=1.0))
    assert set(feed.trips["trip_id"]) == {"T1"}
    notice = next(n for n in feed.notices.sorted() if n.code == "invalid_time")
    assert (notice.file, notice.line, notice.field, notice.value) == ("stop_times.txt", 6, "arrival_time", "25:61:00")


def test_times_past_midnight_accepted(make_feed):
    st = MINI["stop_times.txt"].replace("09:20:00,09:20:00", "100:35:00,100:35:00")
    feed = read_feed(make_feed({"stop_times.txt": st}))
    assert feed.stop_times["arrival_time"].max() == 100 * 3600 + 35 * 60


def test_service_days_calendar_dates_add_and_remove(make_feed):
    cd = "service_id,date,exception_type\nWD,20240101,2\nWD,20240106,1\nHOL,20240101,1\n"
    trips = "route_id,service_id,trip_id\nR1,WD,T1\nR1,HOL,T2\n"
    feed = read_feed(make_feed({"calendar_dates.txt": cd, "trips.txt": trips}))
    sd = service_dates(feed)
    days = {(s, str(d)[:10]) for s, d in zip(sd["service_id"], sd["date"].to_numpy(dtype="datetime64[D]").astype(str), strict=True)}
    assert ("WD", "2024-01-01") not in days  # removed (a Monday)
    assert ("WD", "2024-01-02") in days
    assert ("WD", "2024-01-06") in days  # a Saturday, added
    assert ("WD", "2024-01-07") not in days
    assert ("HOL", "2024-01-01") in days  # only in calendar_dates
    assert sum(1 for s, _ in days if s == "HOL") == 1


def test_overnight_trip_belongs_to_previous_service_day(make_feed):
    """A trip of Monday's service at 25:10 runs at 01:10 on Tuesday; Tuesday's timetable
    holds it at -22:50 relative to... no: at 01:10 (shifted by -24 h from 25:10)."""
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,23:50:00,23:50:00,S1,1\nT1,25:10:00,25:11:00,B,2\nT1,26:00:00,26:00:00,C,3\n"
          "T2,09:00:00,09:00:00,S1,1\nT2,09:10:00,09:11:00,B,2\nT2,09:20:00,09:20:00,C,3\n")
    cal = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
           "MON,1,0,0,0,0,0,0,20240101,20241231\n")
    trips = "route_id,service_id,trip_id\nR1,MON,T1\nR1,MON,T2\n"
    feed = read_feed(make_feed({"stop_times.txt": st, "calendar.txt": cal, "trips.txt": trips}))
    # Tuesday 2024-01-02: only the tail of Monday's T1 is in a 00:00-06:00 window
    tt = build_timetable(feed, "2024-01-02", window=(0, 6 * 3600))
    assert list(tt.trip_ids) == [f"{feed.feed_id}:T1@-1d"]
    A, _ = tt.pattern_trip_times(0)
    assert A[0].tolist() == [23 * 3600 + 50 * 60 - 86400, 3600 + 600, 7200]
    # Monday: both trips, T1 with its own times
    tt = build_timetable(feed, "2024-01-01", window=(0, 48 * 3600))
    assert sorted(tt.trip_ids) == [f"{feed.feed_id}:T1", f"{feed.feed_id}:T2"]
    # Wednesday: nothing from Monday reaches it
    from planner.errors import NoServiceError

    with pytest.raises(NoServiceError, match="2024-01-03"):
        build_timetable(feed, "2024-01-03", window=(0, 24 * 3600))


def test_window_after_midnight_takes_next_service_day(make_feed):
    feed = read_feed(make_feed())
    # Friday 2024-01-05 window 08:00-33:00 includes Saturday? No service Saturday: only Friday's trips
    tt = build_timetable(feed, "2024-01-05", window=(8 * 3600, 33 * 3600))
    assert sorted(tt.trip_ids) == [f"{feed.feed_id}:T1", f"{feed.feed_id}:T2"]
    # Thursday 2024-01-04 window to 32:30 (08:30 Friday) includes Friday's 08:00 trip, +24 h
    tt = build_timetable(feed, "2024-01-04", window=(20 * 3600, 32 * 3600 + 1800))
    assert list(tt.trip_ids) == [f"{feed.feed_id}:T1@1d"]
    assert tt.departure[0] == 86400 + 8 * 3600


def test_two_feeds_with_colliding_ids(make_feed, tmp_path):
    a = make_feed(name="city_a")
    b_stops = MINI["stops.txt"].replace("45.76", "45.86").replace("45.77", "45.87").replace("45.78", "45.88")
    b = make_feed({"stops.txt": b_stops}, name="city_b", as_zip=True)
    fs = read_feeds([a, b])
    assert fs.ids == ["city_a", "city_b"]
    stops = fs.namespaced("stops")
    assert {"city_a:S1", "city_b:S1"} <= set(stops["stop_id"])
    assert set(stops.loc[stops["stop_id"] == "city_b:S1", "parent_station"]) == {"city_b:S"}
    tt = build_timetable(fs, "2024-01-02")
    assert tt.n_stops == 8  # 4 boarding stops per feed, stations excluded
    assert sorted(tt.trip_ids) == ["city_a:T1", "city_a:T2", "city_b:T1", "city_b:T2"]
    assert len(set(tt.pattern_stops.tolist())) == 6  # S2 is never served
    # far apart: no consolidation candidates
    assert fs.consolidation_candidates().empty


def test_same_station_in_two_feeds_is_reported_not_merged(make_feed):
    rail_stops = ("stop_id,stop_name,stop_lat,stop_lon\n"
                  "HRB,Harbin Railway Station,45.76004,126.62545\nX,Elsewhere,45.9,126.9\n")
    rail = {"stops.txt": rail_stops,
            "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                              "T1,08:00:00,08:00:00,HRB,1\nT1,09:00:00,09:00:00,X,2\n",
            "trips.txt": "route_id,service_id,trip_id\nR1,WD,T1\n"}
    metro_stops = ("stop_id,stop_name,stop_lat,stop_lon\n"
                   "m1,Harbin Station,45.7610,126.6260\nm2,Museum,45.7561,126.6402\n")
    metro = {"stops.txt": metro_stops,
             "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                               "T1,08:00:00,08:00:00,m1,1\nT1,08:05:00,08:05:00,m2,2\n",
             "trips.txt": "route_id,service_id,trip_id\nR1,WD,T1\n"}
    fs = read_feeds([f"rail={make_feed(rail)}", f"metro={make_feed(metro)}"])
    c = fs.consolidation_candidates()
    assert len(c) == 1
    row = c.iloc[0]
    assert {row["stop_id_a"], row["stop_id_b"]} == {"HRB", "m1"}
    assert row["reason"] == "same name"
    assert 100 < row["distance_m"] < 200
    assert fs.notices.count("planner_consolidation_candidate") == 1
    # never merged
    assert len(fs.namespaced("stops")) == 4


def test_duplicate_feed_ids_are_refused(make_feed):
    a = make_feed(name="x")
    with pytest.raises(FeedError, match="two feeds have the id"):
        read_feeds([a, f"x={a}"])


def test_transfers_parent_and_fares_kept(make_feed):
    files = {
        "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nS,B,2,120\nB,C,0,\n",
        "fare_attributes.txt": "fare_id,price,currency_type,payment_method,transfers,transfer_duration\nF1,2.00,CNY,0,,3600\n",
        "fare_rules.txt": "fare_id,route_id,origin_id,destination_id,contains_id\nF1,R1,,,\n",
        "fare_products.txt": "fare_product_id,fare_product_name,amount,currency\nP1,Single,2.00,CNY\n",
        "areas.txt": "area_id,area_name\nZ1,Centre\n",
        "stop_areas.txt": "area_id,stop_id\nZ1,S1\n",
    }
    feed = read_feed(make_feed(files))
    assert feed.notices.count() == 0, feed.notices.summary()
    fa = feed["fare_attributes"]
    assert fa["price"].item() == 2.0
    assert fa["transfers"].isna().item()  # empty = unlimited transfers
    assert fa["transfer_duration"].item() == 3600
    assert feed["fare_products"]["amount"].item() == 2.0
    assert feed["stop_areas"]["stop_id"].item() == "S1"
    tt = build_timetable(feed, "2024-01-02")
    idx = tt.stop_index()
    pairs = {(tt.stop_ids[a], tt.stop_ids[b], int(m)) for a, b, m in zip(tt.transfer_from, tt.transfer_to, tt.transfer_min_s, strict=True)}
    sid = feed.feed_id
    # the station rule applies to each child platform
    assert (f"{sid}:S1", f"{sid}:B", 120) in pairs and (f"{sid}:S2", f"{sid}:B", 120) in pairs
    assert (f"{sid}:B", f"{sid}:C", 0) in pairs
    assert f"{sid}:S" not in idx


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(st.integers(min_value=0, max_value=999 * 3600 + 59 * 60 + 59))
def test_time_round_trip(seconds):
    assert parse_time(format_time(seconds)) == seconds


@pytest.mark.parametrize("bad", ["25:61:00", "7:5:3", "-1:00:00", "12:00", "08:00:00.5", "1234:00:12", "", "ab:cd:ef"])
def test_parse_time_rejects(bad):
    with pytest.raises(ValueError, match="invalid GTFS time"):
        parse_time(bad)


_cell = st.text(alphabet=st.sampled_from(list('ab 1,"é\t')), max_size=6)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=8))
def test_fast_and_exact_tokenisers_agree(rows):
    """Whenever the fast (pyarrow) path accepts a file, it gives what the exact path gives."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([["a", "b", "c"], *rows])
    body = buf.getvalue().split("\n", 1)[1]
    fast = _fast(body, ["a", "b", "c"])
    exact = _exact(body, ["a", "b", "c"], feed="f", file="x.txt", notices=Notices(), bad_lines={})
    if fast is None:
        return
    assert fast.lines.tolist() == exact.lines.tolist()
    for c in "abc":
        assert fast.columns[c].tolist() == exact.columns[c].tolist()


def test_tokenize_reports_lines_of_bad_rows():
    data = b"a,b,c\n1,2,3\n4,5\n\n6,\"x\ny\",7\n8,9,10\n"
    ns = Notices()
    raw = tokenize(data, feed="f", file="x.txt", notices=ns, max_cell_chars=4096)
    assert raw.lines.tolist() == [2, 7]
    got = {(n.code, n.line) for n in ns.sorted()}
    assert got == {("invalid_row_length", 3), ("empty_row", 4), ("new_line_in_value", 5)}


def test_timetable_arrays_are_consistent(make_feed):
    feed = read_feed(make_feed())
    tt = build_timetable(feed, "2024-01-02")
    assert tt.arrival.dtype == np.int32 and tt.pattern_stops.dtype == np.int32
    assert tt.n_patterns == 1 and tt.n_trips == 2
    A, D = tt.pattern_trip_times(0)
    assert A.tolist() == [[28800, 29400, 30000], [32400, 33000, 33600]]
    assert D.tolist() == [[28800, 29460, 30000], [32400, 33060, 33600]]
    # stop -> patterns index
    for s in range(tt.n_stops):
        for k in range(tt.stop_patterns_ptr[s], tt.stop_patterns_ptr[s + 1]):
            p, pos = tt.stop_patterns[k], tt.stop_pattern_pos[k]
            assert tt.pattern_stops[tt.pattern_stops_ptr[p] + pos] == s
    assert tt.mode_names().tolist() == ["bus"]
