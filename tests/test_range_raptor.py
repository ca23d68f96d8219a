"""Range-RAPTOR (labels kept per round from one departure to the next) against independent
single-departure runs, on random and real feeds, and the ride-cap warning."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest

from planner.ingest.gtfs import read_feed
from planner.network.links import Footpaths
from planner.network.timetable import build_timetable
from planner.routing.raptor import (
    INF,
    earliest_arrival,
    range_earliest_arrival,
    range_earliest_arrival_many,
)
from tests.conftest import GTFS_DATA, REAL_FEEDS, seeds
from tests.test_raptor import random_case

ROOT = GTFS_DATA.parent.parent.parent
LOGGER = "planner.routing.raptor"


def _independent(tt, fp, change, acc_stops, acc_s, deps, rounds, max_dur):
    """Earliest arrival per departure (rows) from one independent run each."""
    return np.array([earliest_arrival(tt, fp, change, acc_stops, acc_s, int(d), max_rounds=rounds,
                                      max_duration_s=max_dur, check_ride_cap=False).best for d in deps])


def _capped_count(ref_k, ref_k1):
    """Stops that one more round reaches earlier for at least one departure."""
    return int(np.count_nonzero((ref_k1 < ref_k).any(axis=0)))


def _logged_count(caplog) -> int:
    """The stop count of the ride-cap warning logged, 0 when none."""
    msgs = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(msgs) <= 1, msgs
    if not msgs:
        return 0
    m = re.search(r"instead of \d+, (\d+) stops? ", msgs[0])
    assert m, msgs[0]
    return int(m.group(1))


def _dense_random_case(seed, tmp_path):
    return random_case(seed, tmp_path, stops=(5, 16), routes=(3, 9), trips=(3, 14), tag="d")


@pytest.mark.parametrize("seed", seeds(80, fast=16))
def test_range_equals_independent_runs_at_minute_steps(seed, tmp_path, caplog):
    """Departures a minute apart (most reuse labels), several access legs with footpaths,
    round limits of 1-3 so the limit binds; the ride-cap count against the runs with one
    more round."""
    rng, tt, fp, change = _dense_random_case(seed, tmp_path)
    n_acc = int(rng.integers(1, 4))
    acc_stops = rng.choice(tt.n_stops, size=n_acc, replace=False)
    acc_s = rng.integers(0, 400, size=n_acc)
    step = int(rng.choice([30, 60, 60, 120]))
    deps = np.arange(6 * 3600 + 50 * 60, 9 * 3600 + 10 * 60, step)
    if seed % 3 == 0:  # any order, repeats
        deps = np.r_[deps, deps[:: 7]]
        rng.shuffle(deps)
    K = int(rng.choice([1, 2, 2, 3, 3, 5]))
    max_dur = int(rng.choice([1200, 3600, 24 * 3600]))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got = range_earliest_arrival(tt, fp, change, acc_stops, acc_s, deps, max_rounds=K, max_duration_s=max_dur)
    ref = _independent(tt, fp, change, acc_stops, acc_s, deps, K, max_dur)
    np.testing.assert_array_equal(got, ref)
    more = _independent(tt, fp, change, acc_stops, acc_s, deps, K + 1, max_dur)
    assert _logged_count(caplog) == _capped_count(ref, more)
    # without the check: the same arrivals, nothing logged
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        quiet = range_earliest_arrival(tt, fp, change, acc_stops, acc_s, deps, max_rounds=K, max_duration_s=max_dur,
                                       check_ride_cap=False)
    np.testing.assert_array_equal(quiet, ref)
    assert _logged_count(caplog) == 0


@pytest.mark.parametrize("seed", seeds(12, fast=3))
def test_range_many_origins_equals_independent_runs(seed, tmp_path, caplog):
    rng, tt, fp, change = _dense_random_case(seed + 500, tmp_path)
    deps = np.arange(7 * 3600, 8 * 3600 + 30 * 60, 60)
    ptr, stops, secs = [0], [], []
    for _o in range(5):
        k = int(rng.integers(1, 4))
        stops += rng.choice(tt.n_stops, size=k, replace=False).tolist()
        secs += rng.integers(0, 400, size=k).tolist()
        ptr.append(len(stops))
    K = int(rng.integers(1, 4))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        many = range_earliest_arrival_many(tt, fp, change, ptr, stops, secs, deps, max_rounds=K, max_duration_s=5400)
    capped = 0
    for o in range(5):
        a, b = ptr[o], ptr[o + 1]
        ref = _independent(tt, fp, change, stops[a:b], secs[a:b], deps, K, 5400)
        np.testing.assert_array_equal(many[o], ref)
        capped += _capped_count(ref, _independent(tt, fp, change, stops[a:b], secs[a:b], deps, K + 1, 5400))
    assert _logged_count(caplog) == capped


def _straight_footpaths(tt, metres=400):
    from scipy.spatial import cKDTree

    from planner.ingest.gtfs.consolidation import local_xy

    xy = local_xy(tt.stop_lat, tt.stop_lon)
    pairs = cKDTree(xy).query_pairs(metres, output_type="ndarray").reshape(-1, 2)
    d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    src = np.r_[pairs[:, 0], pairs[:, 1]]
    dst = np.r_[pairs[:, 1], pairs[:, 0]]
    return Footpaths.from_pairs(tt.n_stops, src, dst, np.ceil(np.r_[d, d] / 1.3).astype(int))


REAL = [
    (GTFS_DATA / "caltrain_2017-07-24_gtfs.zip", REAL_FEEDS["caltrain_2017-07-24_gtfs.zip"], 6),
    (GTFS_DATA / "cairns_gtfs.zip", REAL_FEEDS["cairns_gtfs.zip"], 6),
    (GTFS_DATA / "helsinki_gtfs_2022.zip", REAL_FEEDS["helsinki_gtfs_2022.zip"], 5),
    (ROOT / "gtfs" / "harbin_metro.zip", "2025-06-03", 6),
    (ROOT / "gtfs" / "northeast_rail.zip", "2025-06-03", 4),
]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "date", "n_origins"), REAL, ids=[p.name for p, _d, _n in REAL])
def test_range_equals_independent_runs_on_real_feeds(path, date, n_origins):
    """Every bundled real feed: origins with one to three access legs and straight-line
    footpaths, 1-minute departures over 90 minutes, round limits 2 (binding) and 8."""
    feed = read_feed(path)
    tt = build_timetable(feed, date, window=(6 * 3600, 14 * 3600))
    assert tt.n_trips > 0
    fp = _straight_footpaths(tt)
    change = np.full(tt.n_stops, 60, np.int32)
    rng = np.random.default_rng(17)
    deps = np.arange(7 * 3600, 8 * 3600 + 30 * 60, 60)
    served = np.unique(tt.pattern_stops)
    for _q in range(n_origins):
        k = int(rng.integers(1, 4))
        acc_stops = rng.choice(served, size=min(k, len(served)), replace=False)
        acc_s = rng.integers(0, 600, size=len(acc_stops))
        for K in (2, 8):
            got = range_earliest_arrival(tt, fp, change, acc_stops, acc_s, deps, max_rounds=K,
                                         max_duration_s=4 * 3600, check_ride_cap=False)
            ref = _independent(tt, fp, change, acc_stops, acc_s, deps, K, 4 * 3600)
            np.testing.assert_array_equal(got, ref, err_msg=f"{path.name} access {acc_stops} K={K}")
            assert (got < INF).any()


def _three_ride_feed(make_feed):
    """
    R1: A 08:00 -> B 08:10          R2: B 08:15 -> C 08:25
    R3: C 08:30 -> D 08:40 -> E 08:50
    R4: B 08:20 -> E 09:30          (E with two rides: 09:30; with three: 08:50)
    From A at 07:55: D needs three rides, E is reached with two but earlier with three.
    """
    stops = ("stop_id,stop_name,stop_lat,stop_lon\nA,A,45.0,126.0\nB,B,45.0,126.1\nC,C,45.0,126.2\n"
             "D,D,45.1,126.2\nE,E,45.2,126.2\n")
    routes = "route_id,agency_id,route_short_name,route_type\nR1,A,1,3\nR2,A,2,3\nR3,A,3,3\nR4,A,4,3\n"
    trips = "route_id,service_id,trip_id\nR1,WD,T1\nR2,WD,T2\nR3,WD,T3\nR4,WD,T4\n"
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,08:00:00,08:00:00,A,1\nT1,08:10:00,08:10:00,B,2\n"
          "T2,08:15:00,08:15:00,B,1\nT2,08:25:00,08:25:00,C,2\n"
          "T3,08:30:00,08:30:00,C,1\nT3,08:40:00,08:40:00,D,2\nT3,08:50:00,08:50:00,E,3\n"
          "T4,08:20:00,08:20:00,B,1\nT4,09:30:00,09:30:00,E,2\n")
    feed = read_feed(make_feed({"stops.txt": stops, "routes.txt": routes, "trips.txt": trips, "stop_times.txt": st}))
    tt = build_timetable(feed, "2024-01-02")
    idx = tt.stop_index()
    return tt, {k: idx[f"{feed.feed_id}:{k}"] for k in "ABCDE"}


def test_ride_cap_warning_names_the_stops_one_more_ride_improves(make_feed, caplog):
    tt, s = _three_ride_feed(make_feed)
    fp = Footpaths.empty(tt.n_stops)
    deps = np.arange(7 * 3600 + 50 * 60, 8 * 3600 + 1, 60)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        two = range_earliest_arrival(tt, fp, 60, [s["A"]], [0], deps, max_rounds=2)
    assert _logged_count(caplog) == 2  # D (not reached) and E (reached later)
    msg = caplog.records[-1].getMessage()
    assert "--max-rides" in msg and "with 3 vehicles instead of 2" in msg
    assert two[-1, s["D"]] == INF and two[-1, s["E"]] == 9 * 3600 + 30 * 60
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        three = range_earliest_arrival(tt, fp, 60, [s["A"]], [0], deps, max_rounds=3)
    assert _logged_count(caplog) == 0
    assert three[-1, s["D"]] == 8 * 3600 + 40 * 60 and three[-1, s["E"]] == 8 * 3600 + 50 * 60
    # the single-departure router and the many-origin one say the same
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        r = earliest_arrival(tt, fp, 60, [s["A"]], [0], 7 * 3600 + 55 * 60, max_rounds=2, record=True)
    assert _logged_count(caplog) == 2
    assert r.tau_v.shape == (3, tt.n_stops) and r.pv.shape == (3, 3, tt.n_stops)
    full = earliest_arrival(tt, fp, 60, [s["A"]], [0], 7 * 3600 + 55 * 60, max_rounds=2, record=True,
                            check_ride_cap=False)
    for name in ("tau_v", "tau_w", "pv", "pw"):
        np.testing.assert_array_equal(getattr(r, name), getattr(full, name))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        range_earliest_arrival_many(tt, fp, 60, [0, 1, 2], [s["A"], s["B"]], [0, 0], deps, max_rounds=2)
    # from A: D and E; from B (two rides reach D and E at 08:40 and 08:50): none
    assert _logged_count(caplog) == 2
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        earliest_arrival(tt, fp, 60, [s["A"]], [0], 7 * 3600 + 55 * 60, max_rounds=3)
    assert _logged_count(caplog) == 0


def test_a_run_of_many_chunks_warns_once_with_the_totals(caplog):
    """run_in_chunks (every many-origin command) sums the chunks' ride-cap counts and warns
    once: the default plan access ran 155 chunks and would have printed a warning for each."""
    from planner.routing.execution import run_in_chunks
    from planner.routing.raptor import warn_ride_cap

    def fn(_shared, chunk):  # a chunk of origins whose cap cut 3 stops per origin
        warn_ride_cap(3 * len(chunk), 2, len(chunk))
        return np.zeros(len(chunk))

    out = np.zeros(10)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        run_in_chunks(None, fn, None, 10, lambda a, b: list(range(a, b)), out, chunk=3)
    recs = [r.getMessage() for r in caplog.records if "ride cap" in r.getMessage()]
    assert len(recs) == 1
    assert "30 stops (summed over 10 origins)" in recs[0] and "with 3 vehicles instead of 2" in recs[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):  # outside a run: at once, as before
        warn_ride_cap(2, 2)
    assert len(caplog.records) == 1
