"""The fare-aware kernels against slow references on random timetables with several fare
systems: the penalised router against a brute force over (stop, group held, time), McRAPTOR
against an enumeration of every journey, and both against plain RAPTOR without fares."""

from __future__ import annotations

import numpy as np
import pytest

from planner.errors import PlannerError
from planner.ingest.gtfs import read_feed
from planner.network.fares import FareParams
from planner.network.links import Footpaths
from planner.network.timetable import build_timetable
from planner.routing.fares import (
    FareModel,
    budget_arrivals_many,
    pareto_arrivals,
    penalised_earliest_arrival,
    penalised_earliest_arrival_many,
)
from planner.routing.raptor import INF, earliest_arrival
from planner.routing.tariff import tariff_from_arrays
from tests.conftest import seeds, write_feed
from tests.fares_reference import (
    mc_bruteforce,
    partition_fare,
    penalised_bruteforce,
    random_dense_feed,
    random_tariff,
)
from tests.raptor_reference import fp_dict, random_feed, random_footpaths


def _case(seed, tmp_path, *, dense=True, stops=(4, 8), routes=(2, 5), p_fp=0.3):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(*stops))
    if dense:
        files = random_dense_feed(rng, n_stops=n, n_routes=int(rng.integers(*routes)))
    else:
        files = random_feed(rng, n_stops=n, n_routes=int(rng.integers(*routes)))
    tt = build_timetable(read_feed(write_feed(tmp_path / f"f{seed}", files), feed_id="r"), "2024-01-02")
    fp = Footpaths.from_pairs(tt.n_stops, *random_footpaths(rng, tt.n_stops, p=p_fp))
    change = rng.integers(0, 180, size=tt.n_stops).astype(np.int32)
    return rng, tt, fp, change


def _query(rng, tt, max_k=3):
    n_acc = int(rng.integers(1, 3))
    acc = rng.choice(tt.n_stops, size=n_acc, replace=False)
    acc_s = rng.integers(0, 600, size=n_acc)
    dep = int(rng.integers(7 * 3600, 8 * 3600))
    k = int(rng.integers(1, max_k + 1))
    md = int(rng.choice([1800, 3600, 86_400]))
    return acc, acc_s, dep, k, md, list(zip(acc.tolist(), acc_s.tolist(), strict=True))


def _fronts(res):
    got: dict[int, set] = {}
    for s, a, f, k in zip(res.stop, res.arrival_s, res.fare_minor, res.n_trips, strict=True):
        got.setdefault(int(s), set()).add((int(a), int(f), int(k)))
    return got


# --------------------------------------------------------------------------------------
# penalised time-optimal router
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", seeds(32, fast=8))
def test_penalised_router_equals_bruteforce_over_expanded_state(seed, tmp_path):
    rng, tt, fp, change = _case(seed, tmp_path, dense=seed % 2 == 0)
    tar = random_tariff(rng, tt, fares=False)
    model = FareModel(tar, FareParams())
    fps = fp_dict(fp)
    for _q in range(6):
        acc, acc_s, dep, k, md, access = _query(rng, tt, max_k=4)
        res = penalised_earliest_arrival(tt, fp, change, acc, acc_s, dep, model, max_rounds=k, max_duration_s=md)
        ref = penalised_bruteforce(tt, tar, fps, change.tolist(), access, dep, k, md)
        np.testing.assert_array_equal(res.at_stop, np.asarray(ref))


@pytest.mark.parametrize("seed", seeds(25, fast=6))
def test_penalised_router_without_penalties_equals_raptor(seed, tmp_path):
    """One group and no penalty, or several groups with zero penalties: plain RAPTOR."""
    rng, tt, fp, change = _case(seed + 500, tmp_path, dense=False, stops=(4, 14), routes=(2, 7))
    one = FareModel(tariff_from_arrays(tt), FareParams())
    several = FareModel(tariff_from_arrays(tt, pattern_gate=tt.pattern_route % 3, n_gates=3), FareParams())
    for _q in range(4):
        acc, acc_s, dep, k, md, _ = _query(rng, tt, max_k=5)
        plain = earliest_arrival(tt, fp, change, acc, acc_s, dep, max_rounds=k, max_duration_s=md)
        for model in (one, several):
            res = penalised_earliest_arrival(tt, fp, change, acc, acc_s, dep, model, max_rounds=k, max_duration_s=md)
            np.testing.assert_array_equal(res.at_stop, plain.at_stop)


@pytest.mark.parametrize("seed", range(10))
def test_penalised_journeys_are_consistent(seed, tmp_path):
    rng, tt, fp, change = _case(seed + 900, tmp_path)
    tar = random_tariff(rng, tt, fares=False)
    model = FareModel(tar, FareParams())
    acc, acc_s, dep, _k, _md, _ = _query(rng, tt)
    res = penalised_earliest_arrival(tt, fp, change, acc, acc_s, dep, model, max_rounds=4, record=True)
    none = len(tar.gate_ids)
    for stop in np.flatnonzero(res.best < INF):
        legs = res.journey(tt, fp, change, model, int(stop), acc, acc_s)
        assert legs[-1].arr_s == res.best[stop] and legs[-1].to_stop == stop
        held, t = none, legs[0].arr_s
        prev_kind = "access"
        for leg in legs[1:]:
            if leg.kind == "ride":
                p = leg.pattern
                pen = 0 if (tar.pattern_gate[p] == held or (held == none and not tar.first_penalty)) \
                    else int(tar.pattern_penalty_s[p])
                chg = int(change[leg.from_stop]) if prev_kind == "ride" else 0
                assert t + chg + pen <= leg.dep_s
                held = int(tar.pattern_gate[p])
            t = leg.arr_s
            prev_kind = leg.kind


@pytest.mark.slow
def test_penalised_many_equals_one_by_one(tmp_path):
    rng, tt, fp, change = _case(77, tmp_path, stops=(8, 9), routes=(4, 5))
    model = FareModel(random_tariff(rng, tt, fares=False), FareParams())
    ptr, stops, secs, deps = [0], [], [], []
    for _o in range(7):
        n = int(rng.integers(1, 3))
        stops += rng.choice(tt.n_stops, size=n, replace=False).tolist()
        secs += rng.integers(0, 300, size=n).tolist()
        ptr.append(len(stops))
        deps.append(int(rng.integers(7 * 3600, 8 * 3600)))
    many = penalised_earliest_arrival_many(tt, fp, change, ptr, stops, secs, deps, model, max_rounds=4)
    for o in range(7):
        one = penalised_earliest_arrival(tt, fp, change, stops[ptr[o]:ptr[o + 1]], secs[ptr[o]:ptr[o + 1]], deps[o],
                                         model, max_rounds=4)
        np.testing.assert_array_equal(many[o], one.best)


# --------------------------------------------------------------------------------------
# McRAPTOR
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", seeds(26, fast=6))
def test_mcraptor_bags_equal_bruteforce_pareto_enumeration(seed, tmp_path):
    """Small networks: every journey of up to k trips is enumerated (identical states
    merged only)."""
    rng, tt, fp, change = _case(seed + 2000, tmp_path, dense=seed % 3 != 0)
    tar = random_tariff(rng, tt)
    model = FareModel(tar, FareParams())
    fps = fp_dict(fp)
    for _q in range(4):
        acc, acc_s, dep, k, md, access = _query(rng, tt)
        res = pareto_arrivals(tt, fp, change, acc, acc_s, dep, model, max_rounds=k, max_duration_s=md)
        assert _fronts(res) == mc_bruteforce(tt, tar, fps, change.tolist(), access, dep, k, md)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "tickets"), [(s, s % 2 == 1) for s in range(20)])
def test_mcraptor_bags_equal_reference_on_larger_networks(seed, tickets, tmp_path):
    """Larger networks against the enumeration that merges only states with identical
    futures (same stop, system, group, ticket origin zone, expiry and transfers left)."""
    rng, tt, fp, change = _case(seed + 3000, tmp_path, stops=(8, 16), routes=(3, 7))
    tar = random_tariff(rng, tt, tickets=tickets)
    model = FareModel(tar, FareParams())
    fps = fp_dict(fp)
    for _q in range(6):
        acc = rng.choice(tt.n_stops, size=1)
        dep = int(rng.integers(7 * 3600, 8 * 3600))
        res = pareto_arrivals(tt, fp, change, acc, [0], dep, model, max_rounds=4, max_duration_s=86_400)
        ref = mc_bruteforce(tt, tar, fps, change.tolist(), [(int(acc[0]), 0)], dep, 4, 86_400, prune=True)
        assert _fronts(res) == ref


@pytest.mark.parametrize("seed", range(12))
def test_mcraptor_journeys_cost_their_fare(seed, tmp_path):
    """Each option's journey, priced as the cheapest split into tickets (written without
    the kernel's incremental state), costs the option's fare and arrives at its time."""
    rng, tt, fp, change = _case(seed + 4000, tmp_path, stops=(6, 12), routes=(3, 6))
    tar = random_tariff(rng, tt, tickets=seed % 2 == 0)
    model = FareModel(tar, FareParams())
    acc, acc_s, dep, _k, _md, _ = _query(rng, tt)
    res = pareto_arrivals(tt, fp, change, acc, acc_s, dep, model, max_rounds=4)
    assert len(res) > 0
    for i in range(len(res)):
        legs = res.journey(i, tt, fp, acc, acc_s)
        rides = [(leg.pattern, leg.board_pos, leg.alight_pos, leg.dep_s, leg.arr_s) for leg in legs if leg.kind == "ride"]
        assert legs[-1].arr_s == res.arrival_s[i] and legs[-1].to_stop == res.stop[i]
        assert len(rides) == res.n_trips[i]
        assert partition_fare(tt, tar, rides) == res.fare_minor[i]


@pytest.mark.parametrize("seed", seeds(15, fast=5))
def test_mcraptor_without_fares_equals_penalised_router(seed, tmp_path):
    """With every fare zero, the earliest option with at most k trips at each stop is the
    penalised router's label; with no penalty either, plain RAPTOR's."""
    rng, tt, fp, change = _case(seed + 5000, tmp_path, dense=seed % 2 == 0, stops=(5, 14), routes=(2, 7))
    tar = random_tariff(rng, tt, fares=False)
    model = FareModel(tar, FareParams())
    for _q in range(4):
        acc, acc_s, dep, k, md, _ = _query(rng, tt, max_k=4)
        res = pareto_arrivals(tt, fp, change, acc, acc_s, dep, model, max_rounds=k, max_duration_s=md)
        pen = penalised_earliest_arrival(tt, fp, change, acc, acc_s, dep, model, max_rounds=k, max_duration_s=md)
        got = np.full((k + 1, tt.n_stops), INF)
        for s, a, n in zip(res.stop, res.arrival_s, res.n_trips, strict=True):
            got[n:, s] = np.minimum(got[n:, s], a)
        np.testing.assert_array_equal(got, pen.at_stop)
        assert (res.fare_minor == 0).all()


def test_mcraptor_without_fares_or_penalties_equals_raptor(tmp_path):
    rng, tt, fp, change = _case(6000, tmp_path, dense=False, stops=(12, 13), routes=(6, 7))
    model = FareModel(tariff_from_arrays(tt), FareParams())
    for _q in range(10):
        acc, acc_s, dep, k, md, _ = _query(rng, tt, max_k=5)
        res = pareto_arrivals(tt, fp, change, acc, acc_s, dep, model, max_rounds=k, max_duration_s=md)
        plain = earliest_arrival(tt, fp, change, acc, acc_s, dep, max_rounds=k, max_duration_s=md)
        got = np.full((k + 1, tt.n_stops), INF)
        for s, a, n in zip(res.stop, res.arrival_s, res.n_trips, strict=True):
            got[n:, s] = np.minimum(got[n:, s], a)
        np.testing.assert_array_equal(got, plain.at_stop)


def test_budget_arrivals_many_equal_pareto_sets(tmp_path):
    rng, tt, fp, change = _case(7000, tmp_path, stops=(9, 10), routes=(4, 5))
    tar = random_tariff(rng, tt)
    model = FareModel(tar, FareParams())
    budgets = [0.0, 1.5, 3.0, 6.0, np.inf]
    ptr, stops, secs, deps = [0], [], [], []
    for _o in range(6):
        stops.append(int(rng.integers(0, tt.n_stops)))
        secs.append(0)
        ptr.append(len(stops))
        deps.append(int(rng.integers(7 * 3600, 8 * 3600)))
    many = budget_arrivals_many(tt, fp, change, ptr, stops, secs, deps, model, budgets, max_rounds=4)
    assert many.shape == (6, len(budgets), tt.n_stops)
    for o in range(6):
        res = pareto_arrivals(tt, fp, change, [stops[o]], [0], deps[o], model, max_rounds=4)
        for b, budget in enumerate(budgets):
            want = np.full(tt.n_stops, INF)
            for s, a, f in zip(res.stop, res.arrival_s, res.fare_minor, strict=True):
                if f <= budget * 100:
                    want[s] = min(want[s], a)
            np.testing.assert_array_equal(many[o, b], want)
        # more money never arrives later
        assert (np.diff(many[o].astype(np.int64), axis=0) <= 0).all()


def test_label_overflow_is_an_error_with_a_hint(tmp_path):
    rng, tt, fp, change = _case(8000, tmp_path, stops=(8, 9), routes=(4, 5))
    model = FareModel(random_tariff(rng, tt), FareParams(max_labels=3))
    with pytest.raises(PlannerError, match="labels") as err:
        pareto_arrivals(tt, fp, change, [0, 1, 2, 3], [0, 0, 0, 0], 7 * 3600, model)
    assert err.value.code == "fare_label_overflow" and "max_labels" in err.value.hint


@pytest.mark.parametrize("seed", range(10))
def test_first_vehicle_windows_find_real_journeys_and_agree_without_windows(seed, tmp_path):
    """``windows="first_vehicle"``: every option is a real journey costing its fare, and
    no option beats the exact front; without finite windows both settings agree."""
    rng, tt, fp, change = _case(seed + 9000, tmp_path, stops=(6, 12), routes=(3, 6))
    tar = random_tariff(rng, tt, tickets=True)
    exact = FareModel(tar, FareParams())
    fast = FareModel(tar, FareParams(windows="first_vehicle"))
    acc, acc_s, dep, _k, _md, _ = _query(rng, tt)
    ex = pareto_arrivals(tt, fp, change, acc, acc_s, dep, exact, max_rounds=4)
    fa = pareto_arrivals(tt, fp, change, acc, acc_s, dep, fast, max_rounds=4)
    front = _fronts(ex)
    for i in range(len(fa)):
        legs = fa.journey(i, tt, fp, acc, acc_s)
        rides = [(leg.pattern, leg.board_pos, leg.alight_pos, leg.dep_s, leg.arr_s) for leg in legs if leg.kind == "ride"]
        assert partition_fare(tt, tar, rides) == fa.fare_minor[i]
        a, f, n = int(fa.arrival_s[i]), int(fa.fare_minor[i]), int(fa.n_trips[i])
        assert any(x[0] <= a and x[1] <= f and x[2] <= n for x in front[int(fa.stop[i])])
    no_windows = tariff_from_arrays(tt, **{k: getattr(tar, k) for k in (
        "pattern_system", "pattern_gate", "pattern_penalty_s", "stop_zone", "ticket_od", "pattern_ride_table",
        "ride_od", "pattern_rate", "pattern_min", "pattern_round", "pattern_cum_m", "sys_max_transfers",
        "sys_fee", "sys_discount")}, n_systems=len(tar.system_ids), n_zones=len(tar.zone_ids),
        n_gates=len(tar.gate_ids), first_penalty=tar.first_penalty,
        sys_window=np.where(tar.sys_window > 0, 1 << 40, -1))
    a1 = pareto_arrivals(tt, fp, change, acc, acc_s, dep, FareModel(no_windows, FareParams()), max_rounds=4)
    a2 = pareto_arrivals(tt, fp, change, acc, acc_s, dep, FareModel(no_windows, FareParams(windows="first_vehicle")),
                         max_rounds=4)
    assert _fronts(a1) == _fronts(a2)
