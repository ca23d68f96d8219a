"""RAPTOR and range-RAPTOR against slow references on random and real timetables."""

from __future__ import annotations

import numpy as np
import pytest

from planner.ingest.gtfs import read_feed
from planner.kernels._raptor_steps import argsort_stable
from planner.kernels.options import numba_threads, parallel_rows
from planner.network.links import Footpaths
from planner.network.timetable import build_timetable
from planner.routing.raptor import (
    INF,
    earliest_arrival,
    range_earliest_arrival,
    range_earliest_arrival_many,
)
from tests.conftest import GTFS_DATA, seeds, write_feed
from tests.raptor_reference import (
    csa,
    fp_dict,
    random_feed,
    random_footpaths,
    rounds_bruteforce,
    trips_of,
)


def random_case(seed, tmp_path, *, stops=(4, 14), routes=(2, 7), trips=(3, 8), tag="r"):
    """A random timetable (tests/raptor_reference.random_feed, ``stops``/``routes`` drawn in
    these ranges, ``trips`` per route) with random footpaths and change times, from ``seed``."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(*stops))
    files = random_feed(rng, n_stops=n, n_routes=int(rng.integers(*routes)), trips_per_route=trips)
    feed = read_feed(write_feed(tmp_path / f"{tag}{seed}", files), feed_id="r")
    tt = build_timetable(feed, "2024-01-02")
    fp = Footpaths.from_pairs(tt.n_stops, *random_footpaths(rng, tt.n_stops))
    change = rng.integers(0, 180, size=tt.n_stops).astype(np.int32)
    return rng, tt, fp, change


@pytest.mark.parametrize("seed", seeds(60, fast=12))
def test_raptor_equals_references_on_random_timetables(seed, tmp_path):
    rng, tt, fp, change = random_case(seed, tmp_path)
    trips = trips_of(tt)
    fps = fp_dict(fp)
    for _q in range(5):
        n_acc = int(rng.integers(1, 3))
        acc_stops = rng.choice(tt.n_stops, size=n_acc, replace=False)
        acc_s = rng.integers(0, 600, size=n_acc)
        dep = int(rng.integers(6 * 3600, 9 * 3600))
        max_dur = int(rng.choice([3600, 4 * 3600, 24 * 3600]))
        K = int(rng.integers(1, 5))
        access = list(zip(acc_stops.tolist(), acc_s.tolist(), strict=True))
        res = earliest_arrival(tt, fp, change, acc_stops, acc_s, dep, max_rounds=K, max_duration_s=max_dur)
        expected_rounds = rounds_bruteforce(trips, tt.n_stops, fps, change.tolist(), access, dep, K, max_dur)
        np.testing.assert_array_equal(res.at_stop, np.asarray(expected_rounds))
        # with enough rounds, RAPTOR equals the connection scan
        big = earliest_arrival(tt, fp, change, acc_stops, acc_s, dep, max_rounds=tt.n_trips + 1, max_duration_s=max_dur)
        np.testing.assert_array_equal(big.best, np.asarray(csa(trips, tt.n_stops, fps, change.tolist(), access, dep, max_dur)))


@pytest.mark.parametrize("seed", seeds(30, fast=8))
def test_range_raptor_equals_independent_runs(seed, tmp_path):
    rng, tt, fp, change = random_case(seed + 1000, tmp_path)
    acc_stops = rng.choice(tt.n_stops, size=2, replace=False)
    acc_s = rng.integers(0, 300, size=2)
    deps = np.arange(6 * 3600, 9 * 3600, 60 * int(rng.integers(1, 10)))
    rng.shuffle(deps)
    K = int(rng.integers(1, 5))
    max_dur = int(rng.choice([1800, 3600, 24 * 3600]))
    got = range_earliest_arrival(tt, fp, change, acc_stops, acc_s, deps, max_rounds=K, max_duration_s=max_dur)
    for i, d in enumerate(deps):
        one = earliest_arrival(tt, fp, change, acc_stops, acc_s, int(d), max_rounds=K, max_duration_s=max_dur)
        np.testing.assert_array_equal(got[i], one.best, err_msg=f"departure {d}")


def test_many_origins_equals_one_by_one(tmp_path):
    rng, tt, fp, change = random_case(7, tmp_path)
    deps = np.arange(7 * 3600, 8 * 3600, 300)
    ptr = [0]
    stops, secs = [], []
    for _o in range(9):
        k = int(rng.integers(1, 3))
        stops += rng.choice(tt.n_stops, size=k, replace=False).tolist()
        secs += rng.integers(0, 400, size=k).tolist()
        ptr.append(len(stops))
    many = range_earliest_arrival_many(tt, fp, change, ptr, stops, secs, deps, max_rounds=4)
    for o in range(9):
        one = range_earliest_arrival(tt, fp, change, stops[ptr[o]:ptr[o + 1]], secs[ptr[o]:ptr[o + 1]], deps, max_rounds=4)
        np.testing.assert_array_equal(many[o], one)
    # the origins run on Python threads (numba's thread count): the same on one thread
    with numba_threads(1):
        single = range_earliest_arrival_many(tt, fp, change, ptr, stops, secs, deps, max_rounds=4)
    np.testing.assert_array_equal(single, many)


@pytest.mark.parametrize("seed", range(6))
def test_stable_argsort_equals_numpy_mergesort(seed):
    """The kernels' written-out argsort is numpy's stable permutation (ties included)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    keys = rng.integers(-5, 6 if seed % 2 else 10**9, size=n).astype(np.int64)
    np.testing.assert_array_equal(argsort_stable(keys), np.argsort(keys, kind="mergesort"))


def test_threaded_rows_raise_the_error_of_a_row():
    def row(i):
        if i == 3:
            raise ValueError("row 3")

    with numba_threads(2), pytest.raises(ValueError, match="row 3"):
        parallel_rows(row, 8)


def test_hand_made_transfer_semantics(make_feed):
    """
    Line 1: S1 08:00 -> B 08:10 (dep 08:11) -> C 08:20
    Line 2: B 08:11:30 -> D 08:30      (needs <= 90 s change at B)
    From S1 at 07:55, change time at B 60 s: T1 reaches B 08:10, ready 08:11, catches line 2.
    With a 120 s change time at B the connection is missed.
    """
    stops = ("stop_id,stop_name,stop_lat,stop_lon\nS1,A,45.0,126.0\nB,B,45.0,126.1\nC,C,45.0,126.2\n"
             "D,D,45.1,126.1\n")
    routes = "route_id,agency_id,route_short_name,route_type\nR1,A,1,3\nR2,A,2,3\n"
    trips = "route_id,service_id,trip_id\nR1,WD,T1\nR2,WD,U1\n"
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:11:00,B,2\nT1,08:20:00,08:20:00,C,3\n"
          "U1,08:11:30,08:11:30,B,1\nU1,08:30:00,08:30:00,D,2\n")
    feed = read_feed(make_feed({"stops.txt": stops, "routes.txt": routes, "trips.txt": trips, "stop_times.txt": st}))
    tt = build_timetable(feed, "2024-01-02")
    idx = tt.stop_index()
    s1, b, d = idx[f"{feed.feed_id}:S1"], idx[f"{feed.feed_id}:B"], idx[f"{feed.feed_id}:D"]
    fp = Footpaths.empty(tt.n_stops)
    r = earliest_arrival(tt, fp, 60, [s1], [0], 7 * 3600 + 55 * 60, max_rounds=3)
    assert r.at_stop[1, b] == 8 * 3600 + 600
    assert r.at_stop[1, d] == INF  # one trip is not enough
    assert r.at_stop[2, d] == 8 * 3600 + 1800
    r = earliest_arrival(tt, fp, 120, [s1], [0], 7 * 3600 + 55 * 60, max_rounds=3)
    assert r.best[d] == INF


@pytest.mark.slow
@pytest.mark.parametrize("name", ["caltrain_2017-07-24_gtfs.zip", "cairns_gtfs.zip", "helsinki_gtfs_2022.zip"])
def test_raptor_equals_connection_scan_on_real_feeds(name):
    from tests.conftest import REAL_FEEDS

    feed = read_feed(GTFS_DATA / name)
    tt = build_timetable(feed, REAL_FEEDS[name], window=(6 * 3600, 14 * 3600))
    rng = np.random.default_rng(11)
    # footpaths: straight-line pairs under 400 m at 1.3 m/s (a stand-in for the street network)
    from scipy.spatial import cKDTree

    from planner.ingest.gtfs.consolidation import local_xy

    xy = local_xy(tt.stop_lat, tt.stop_lon)
    pairs = cKDTree(xy).query_pairs(400, output_type="ndarray")
    d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    src = np.r_[pairs[:, 0], pairs[:, 1]]
    dst = np.r_[pairs[:, 1], pairs[:, 0]]
    sec = np.r_[d, d] / 1.3
    fp = Footpaths.from_pairs(tt.n_stops, src, dst, np.ceil(sec).astype(int))
    change = np.full(tt.n_stops, 60, np.int32)
    trips = trips_of(tt)
    fps = fp_dict(fp)
    n_queries = 40 if tt.n_stops > 500 else 100
    for _q in range(n_queries):
        o = int(rng.integers(tt.n_stops))
        dep = int(rng.integers(7 * 3600, 10 * 3600))
        res = earliest_arrival(tt, fp, change, [o], [0], dep, max_rounds=30, max_duration_s=4 * 3600)
        expected = csa(trips, tt.n_stops, fps, change.tolist(), [(o, 0)], dep, 4 * 3600)
        np.testing.assert_array_equal(res.best, np.asarray(expected))


@pytest.mark.parametrize("seed", seeds(25, fast=6))
def test_reconstructed_journeys_are_feasible_and_optimal(seed, tmp_path):
    from planner.routing.itinerary import reconstruct

    rng, tt, fp, change = random_case(seed + 500, tmp_path)
    trips = trips_of(tt)
    acc_stops = rng.choice(tt.n_stops, size=2, replace=False)
    acc_s = rng.integers(0, 300, size=2)
    dep = 7 * 3600
    res = earliest_arrival(tt, fp, change, acc_stops, acc_s, dep, max_rounds=6, record=True)
    for target in range(tt.n_stops):
        if res.best[target] >= INF:
            with pytest.raises(ValueError, match="not reachable"):
                reconstruct(tt, fp, change, res, target, acc_stops, acc_s)
            continue
        legs = reconstruct(tt, fp, change, res, target, acc_stops, acc_s)
        assert legs[0].kind == "access" and legs[0].dep_s == dep
        assert legs[-1].arr_s == res.best[target] and legs[-1].to_stop == target
        prev = legs[0]
        for leg in legs[1:]:
            assert leg.from_stop == prev.to_stop
            wait_needed = change[leg.from_stop] if (prev.kind == "ride" and leg.kind == "ride") else 0
            assert leg.dep_s >= prev.arr_s + wait_needed
            if leg.kind == "walk":
                j = [i for i in range(fp.ptr[leg.from_stop], fp.ptr[leg.from_stop + 1]) if fp.to[i] == leg.to_stop]
                assert leg.arr_s - leg.dep_s == fp.seconds[j[0]]
                assert prev.kind in {"ride", "access"}
            if leg.kind == "ride":
                stops, board, alight, arr, dpt = trips[leg.trip]
                assert stops[leg.board_pos] == leg.from_stop and board[leg.board_pos]
                assert stops[leg.alight_pos] == leg.to_stop and alight[leg.alight_pos]
                assert dpt[leg.board_pos] == leg.dep_s and arr[leg.alight_pos] == leg.arr_s
            prev = leg
        rides = sum(leg.kind == "ride" for leg in legs)
        first_round = int(np.flatnonzero(res.at_stop[:, target] == res.best[target])[0])
        assert rides == first_round
