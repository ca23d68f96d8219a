"""The McRAPTOR's exact pruning rules and its fare horizon (issue 17, "Scale").

Exactness: the pruned search (``prune=True``, the default) finds the same Pareto sets as the
search without the rules, on random feeds with tariffs that stress ticket states and on the
Helsinki feed at a horizon longer than its 80-minute windows (where the rules matter). The
brute-force enumerations of ``tests/test_fares_kernels.py`` check the pruned search too.

The fare horizon is an approximation in one direction: ticket windows end at the horizon,
so each option is a real journey whose fare is at least its cheapest real price, and is
never better than an option of the exact search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from planner.errors import ConfigError, PlannerError
from planner.ingest.gtfs import read_feed
from planner.ingest.gtfs.consolidation import local_xy
from planner.kernels.fare_bounds import NO_REPL, replace_bounds
from planner.network.fares import FareParams, fare_systems_from_feeds
from planner.network.links import Footpaths
from planner.network.timetable import build_timetable
from planner.routing.fares import FareModel, build_fare_model, pareto_arrivals
from planner.routing.raptor import INF
from planner.routing.tariff import tariff_from_arrays
from tests.conftest import seeds, write_feed
from tests.fares_reference import partition_fare, random_dense_feed, random_tariff
from tests.raptor_reference import random_footpaths

HELSINKI = Path(__file__).parent / "data" / "gtfs" / "helsinki_gtfs_2022.zip"


def _case(seed, tmp_path, stops=(6, 12), routes=(3, 7)):
    rng = np.random.default_rng(seed)
    files = random_dense_feed(rng, n_stops=int(rng.integers(*stops)), n_routes=int(rng.integers(*routes)))
    tt = build_timetable(read_feed(write_feed(tmp_path / f"f{seed}", files), feed_id="r"), "2024-01-02")
    fp = Footpaths.from_pairs(tt.n_stops, *random_footpaths(rng, tt.n_stops, p=0.3))
    change = rng.integers(0, 180, size=tt.n_stops).astype(np.int32)
    return rng, tt, fp, change


def _fronts(res):
    got: dict[int, set] = {}
    for s, a, f, k in zip(res.stop, res.arrival_s, res.fare_minor, res.n_trips, strict=True):
        got.setdefault(int(s), set()).add((int(a), int(f), int(k)))
    return got


@pytest.mark.parametrize("seed", seeds(24, fast=6))
def test_pruned_search_equals_unpruned_on_random_tariffs(seed, tmp_path):
    rng, tt, fp, change = _case(seed + 9000, tmp_path)
    tar = random_tariff(rng, tt, tickets=seed % 2 == 0)
    for windows in ("exact", "first_vehicle"):
        model = FareModel(tar, FareParams(windows=windows))
        for _q in range(4):
            acc = rng.choice(tt.n_stops, size=int(rng.integers(1, 3)), replace=False)
            acc_s = rng.integers(0, 300, size=len(acc))
            dep = int(rng.integers(7 * 3600, 8 * 3600))
            k = int(rng.integers(1, 6))
            md = int(rng.choice([1800, 2700, 3600, 86_400]))
            pruned = pareto_arrivals(tt, fp, change, acc, acc_s, dep, model, max_rounds=k, max_duration_s=md)
            full = pareto_arrivals(tt, fp, change, acc, acc_s, dep, model, max_rounds=k, max_duration_s=md,
                                   prune=False)
            assert _fronts(pruned) == _fronts(full)
            assert len(pruned.pool) <= len(full.pool)


@pytest.mark.parametrize("seed", range(8))
def test_replace_bound_covers_every_ride_and_zone(seed, tmp_path):
    """Starting a new ticket where one would continue costs at most the bound: every first
    ride of every pattern, every open ticket's origin zone and every exit zone."""
    rng, tt, _fp, _change = _case(seed + 9500, tmp_path, stops=(5, 9), routes=(2, 5))
    tar = random_tariff(rng, tt, tickets=seed % 2 == 0)
    bound = replace_bounds(tt.pattern_stops_ptr, tar.pattern_system, tar.ticket_od, tar.pattern_ride_table,
                           tar.ride_od, tar.pattern_rate, tar.pattern_min, tar.pattern_round, tar.pattern_cum_m,
                           tar.sys_fee, tar.sys_discount)
    Z = tar.ticket_od.shape[1]
    worst = np.zeros(len(bound), np.int64)
    for p in range(tt.n_patterns):
        q = int(tar.pattern_system[p])
        a, b = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        zones = tar.stop_zone[tt.pattern_stops[a:b]]
        for ib in range(b - a):
            for ia in range(ib + 1, b - a):
                rp = int(tar.ride_od[tar.pattern_ride_table[p], zones[ib], zones[ia]])
                if tar.pattern_rate[p] > 0 or tar.pattern_min[p] > 0:
                    x = tar.pattern_rate[p] * (tar.pattern_cum_m[a + ia] - tar.pattern_cum_m[a + ib]) / 1000.0
                    step = int(tar.pattern_round[p])
                    rp += max(int(tar.pattern_min[p]), int(np.floor(x / step + 0.5)) * step)
                cont_ride = int(tar.sys_fee[q]) + max(0, rp - int(tar.sys_discount[q]))
                for zo in range(Z):
                    for ze in range(Z):
                        extra = rp + tar.ticket_od[q, zones[ib], ze] - cont_ride - tar.ticket_od[q, zo, ze]
                        worst[q] = max(worst[q], extra)
    assert (bound < NO_REPL).all()
    assert (worst <= bound).all(), (worst, bound)


def _helsinki():
    feed = read_feed(HELSINKI)
    tt = build_timetable(feed, "2022-02-22")
    xy = local_xy(tt.stop_lat, tt.stop_lon)
    pairs = cKDTree(xy).query_pairs(400, output_type="ndarray")
    d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    fp = Footpaths.from_pairs(tt.n_stops, np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]],
                              np.ceil(np.r_[d, d] / 1.3).astype(int), np.r_[d, d])
    fares = fare_systems_from_feeds(feed, contains="subset").split_by_mode(
        feed.feed_id, {"bus": ["bus", "ferry"], "rail": ["rail", "metro"]})
    return tt, fp, fares


@pytest.mark.slow
def test_pruned_search_equals_unpruned_on_helsinki_at_120_min():
    """The benchmark's setting (three fare systems with 80-minute windows, a 120-minute
    horizon, 4 trips): the windows' ends split labels, and the rules must keep the sets."""
    tt, fp, fares = _helsinki()
    rng = np.random.default_rng(17)
    for windows in ("exact", "first_vehicle"):
        model = build_fare_model(tt, fares, params=FareParams(windows=windows))
        for o, dep in zip(rng.choice(tt.n_stops, size=2, replace=False).tolist(),
                          rng.integers(7 * 3600, 9 * 3600, size=2).tolist(), strict=True):
            kw = {"max_rounds": 4, "max_duration_s": 7200}
            pruned = pareto_arrivals(tt, fp, 60, [o], [0], dep, model, **kw)
            full = pareto_arrivals(tt, fp, 60, [o], [0], dep, model, prune=False, **kw)
            assert _fronts(pruned) == _fronts(full)
            assert len(pruned.pool) < len(full.pool)


@pytest.mark.parametrize("seed", seeds(12, fast=4))
def test_fare_horizon_is_exact_past_the_search_and_pessimistic_within_it(seed, tmp_path):
    rng, tt, fp, change = _case(seed + 9800, tmp_path)
    tar = random_tariff(rng, tt, tickets=True)
    exact = FareModel(tar, FareParams())
    for _q in range(3):
        acc = rng.choice(tt.n_stops, size=1)
        dep = int(rng.integers(7 * 3600, 8 * 3600))
        md = int(rng.choice([3600, 5400]))
        ref = pareto_arrivals(tt, fp, change, acc, [0], dep, exact, max_rounds=4, max_duration_s=md)
        same = pareto_arrivals(tt, fp, change, acc, [0], dep, FareModel(tar, FareParams(fare_horizon_min=md / 60)),
                               max_rounds=4, max_duration_s=md)
        assert _fronts(same) == _fronts(ref)
        short = FareModel(tar, FareParams(fare_horizon_min=float(rng.choice([5, 20, 40]))))
        res = pareto_arrivals(tt, fp, change, acc, [0], dep, short, max_rounds=4, max_duration_s=md)
        # times are not approximated: the earliest arrival with at most k trips is the same
        for k in range(5):
            for r in (ref, res):
                best = np.full(tt.n_stops, INF)
                sel = r.n_trips <= k
                np.minimum.at(best, r.stop[sel], r.arrival_s[sel])
                if r is ref:
                    want = best
            np.testing.assert_array_equal(best, want)
        fronts = _fronts(ref)
        for i in range(len(res)):
            s, a, f, n = int(res.stop[i]), int(res.arrival_s[i]), int(res.fare_minor[i]), int(res.n_trips[i])
            # never better than an exact option; a real journey, priced at least at its cost
            assert any(ra <= a and rf <= f and rn <= n for ra, rf, rn in fronts[s])
            legs = res.journey(i, tt, fp, acc, [0])
            rides = [(leg.pattern, leg.board_pos, leg.alight_pos, leg.dep_s, leg.arr_s) for leg in legs
                     if leg.kind == "ride"]
            assert legs[-1].arr_s == a and len(rides) == n
            assert partition_fare(tt, tar, rides) <= f


def test_fare_horizon_must_be_positive():
    with pytest.raises(ConfigError, match="fare_horizon_min"):
        FareParams(fare_horizon_min=0)


def test_overflow_hint_names_the_fare_horizon(tmp_path):
    _rng, tt, fp, change = _case(9900, tmp_path)
    model = FareModel(tariff_from_arrays(tt), FareParams(max_labels=2))
    with pytest.raises(PlannerError, match="labels") as err:
        pareto_arrivals(tt, fp, change, list(range(4)), [0] * 4, 7 * 3600, model)
    assert "--fare-horizon" in err.value.hint and "fare_horizon_min" in err.value.hint
