"""The RAPTOR timetable layout: patterns, FIFO splitting, interpolation, time zones,
and invariants on every real feed."""

from __future__ import annotations

import numpy as np
import pytest

from planner.ingest.gtfs import read_feed, read_feeds
from planner.network.timetable import build_timetable
from tests.conftest import GTFS_DATA, MINI, REAL_FEEDS


def _st(rows):
    return "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join(f"{r}\n" for r in rows)


def test_overtaking_trips_are_split_into_fifo_patterns(make_feed):
    """T3 departs after T2 but is an express and arrives first: it must not share T2's pattern.

        T1  08:00 ---------------- 08:40
        T2  08:10 ---------------- 08:50
        T3  08:15 ------ 08:30            (overtakes T2)
    """
    st = _st([
        "T1,08:00:00,08:00:00,S1,1", "T1,08:20:00,08:20:00,B,2", "T1,08:40:00,08:40:00,C,3",
        "T2,08:10:00,08:10:00,S1,1", "T2,08:30:00,08:30:00,B,2", "T2,08:50:00,08:50:00,C,3",
        "T3,08:15:00,08:15:00,S1,1", "T3,08:22:00,08:22:00,B,2", "T3,08:30:00,08:30:00,C,3",
    ])
    trips = "route_id,service_id,trip_id\nR1,WD,T1\nR1,WD,T2\nR1,WD,T3\n"
    feed = read_feed(make_feed({"stop_times.txt": st, "trips.txt": trips}))
    tt = build_timetable(feed, "2024-01-02")
    assert tt.split_patterns == 1
    assert tt.n_patterns == 2
    groups = []
    for p in range(tt.n_patterns):
        ids = tt.trip_ids[tt.pattern_trips_ptr[p]:tt.pattern_trips_ptr[p + 1]]
        groups.append([i.split(":")[1] for i in ids])
    assert sorted(groups) == [["T1", "T2"], ["T3"]]  # first fit in departure order
    _assert_fifo(tt)


def _assert_fifo(tt):
    for p in range(tt.n_patterns):
        A, D = tt.pattern_trip_times(p)
        assert (np.diff(A, axis=0) >= 0).all(), p
        assert (np.diff(D, axis=0) >= 0).all(), p
        assert (D >= A).all()
        assert (A[:, 1:] >= D[:, :-1]).all()


def test_pickup_and_drop_off_rules_make_separate_patterns(make_feed):
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type\n"
          "T1,08:00:00,08:00:00,S1,1,0,1\nT1,08:10:00,08:11:00,B,2,1,0\nT1,08:20:00,08:20:00,C,3,1,0\n"
          "T2,09:00:00,09:00:00,S1,1,,\nT2,09:10:00,09:11:00,B,2,,\nT2,09:20:00,09:20:00,C,3,,\n")
    feed = read_feed(make_feed({"stop_times.txt": st}))
    tt = build_timetable(feed, "2024-01-02")
    assert tt.n_patterns == 2
    rules = {}
    for p in range(tt.n_patterns):
        trip = tt.trip_ids[tt.pattern_trips_ptr[p]].split(":")[1]
        a, b = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        rules[trip] = (tt.pattern_board[a:b].tolist(), tt.pattern_alight[a:b].tolist())
    assert rules["T1"] == ([True, False, False], [False, True, True])
    assert rules["T2"] == ([True, True, True], [True, True, True])


def test_missing_intermediate_times_are_interpolated_by_distance(make_feed):
    # B lies 1/3 of the way from S1 to C along a straight line? Use explicit distances.
    stops = ("stop_id,stop_name,stop_lat,stop_lon\n"
             "S1,A,45.0,126.0\nB,B,45.0,126.1\nC,C,45.0,126.4\n")
    st = _st(["T1,08:00:00,08:00:00,S1,1", "T1,,,B,2", "T1,08:40:00,08:40:00,C,3"])
    trips = "route_id,service_id,trip_id\nR1,WD,T1\n"
    feed = read_feed(make_feed({"stops.txt": stops, "stop_times.txt": st, "trips.txt": trips}))
    tt = build_timetable(feed, "2024-01-02")
    assert tt.interpolated_times == 1
    A, _ = tt.pattern_trip_times(0)
    # along a parallel the distance is proportional to the longitude difference: 0.1 / 0.4
    assert A[0, 1] == pytest.approx(8 * 3600 + 0.25 * 2400, abs=1)


def test_shape_dist_traveled_used_when_complete(make_feed):
    stops = ("stop_id,stop_name,stop_lat,stop_lon\nS1,A,45.0,126.0\nB,B,45.0,126.1\nC,C,45.0,126.4\n")
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n"
          "T1,08:00:00,08:00:00,S1,1,0\nT1,,,B,2,3000\nT1,08:40:00,08:40:00,C,3,4000\n")
    feed = read_feed(make_feed({"stops.txt": stops, "stop_times.txt": st,
                                "trips.txt": "route_id,service_id,trip_id\nR1,WD,T1\n"}))
    tt = build_timetable(feed, "2024-01-02")
    A, _ = tt.pattern_trip_times(0)
    assert A[0, 1] == 8 * 3600 + 1800


def test_feeds_in_other_time_zones_are_shifted(make_feed):
    """Feed b runs in Asia/Tokyo (UTC+9), one hour ahead of Asia/Shanghai: its 09:00 is
    08:00 in the first feed's zone."""
    a = make_feed(name="cn")
    b_agency = MINI["agency.txt"].replace("Asia/Shanghai", "Asia/Tokyo")
    b_stops = MINI["stops.txt"].replace("126.6", "139.6")
    b = make_feed({"agency.txt": b_agency, "stops.txt": b_stops}, name="jp")
    fs = read_feeds([a, b])
    assert fs.notices.count("planner_mixed_timezones") == 1
    tt = build_timetable(fs, "2024-01-02")
    deps = {}
    for i, t in enumerate(tt.trip_ids):
        p = tt.trip_pattern[i]
        k = i - tt.pattern_trips_ptr[p]
        deps[t] = int(tt.pattern_trip_times(p)[1][k, 0])
    assert deps["cn:T1"] == 8 * 3600
    assert deps["jp:T1"] == 7 * 3600


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REAL_FEEDS))
def test_real_feed_timetable_invariants(name):
    feed = read_feed(GTFS_DATA / name)
    tt = build_timetable(feed, REAL_FEEDS[name], window=(0, 30 * 3600))
    assert tt.n_trips > 0
    _assert_fifo(tt)
    # every trip sits in exactly one pattern, trips sorted by departure at the first stop
    assert len(tt.trip_pattern) == tt.n_trips
    assert (np.diff(tt.pattern_trips_ptr) > 0).all()
    lengths = np.diff(tt.pattern_stops_ptr)
    assert (lengths >= 2).all()
    assert (np.diff(tt.pattern_times_ptr) == lengths * np.diff(tt.pattern_trips_ptr)).all()
    # stop -> pattern index is the exact inverse of the pattern stop lists
    pairs = set()
    for p in range(tt.n_patterns):
        for pos, s in enumerate(tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]):
            pairs.add((int(s), p, pos))
    idx = set()
    for s in range(tt.n_stops):
        for k in range(tt.stop_patterns_ptr[s], tt.stop_patterns_ptr[s + 1]):
            idx.add((s, int(tt.stop_patterns[k]), int(tt.stop_pattern_pos[k])))
    assert idx == pairs
    # one route, operator, mode per pattern
    assert len(tt.pattern_route) == len(tt.pattern_mode) == len(tt.pattern_operator) == tt.n_patterns
    assert (tt.pattern_operator >= 0).all()
