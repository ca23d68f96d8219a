"""Travel-time statistics over a departure window (nearest-rank percentiles)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.routing.traveltime import nearest_rank, travel_time_stats

UNREACHABLE = 2_000_000_000


def test_hand_computed_window():
    deps = np.array([0, 60, 120, 180])
    # one destination: arrivals give travel times 10, 9, unreachable, 7 minutes
    arr = np.array([[600], [600], [UNREACHABLE], [600]])
    s = travel_time_stats(arr, deps, percentiles=(0, 25, 50, 75, 100), cutoffs_min=(8, 10), unreachable=UNREACHABLE)
    assert s["min_min"][0] == 7
    # sorted: 7, 9, 10, inf; ranks ceil(p/100*4): 0->1, 25->1, 50->2, 75->3, 100->4
    assert s["p0_min"][0] == 7 and s["p25_min"][0] == 7 and s["p50_min"][0] == 9 and s["p75_min"][0] == 10
    assert math.isnan(s["p100_min"][0])
    assert s["share_within_8"][0] == 0.25 and s["share_within_10"][0] == 0.75


def test_never_reachable_is_nan():
    s = travel_time_stats(np.full((3, 2), UNREACHABLE), np.arange(3), unreachable=UNREACHABLE)
    assert np.isnan(s["min_min"]).all() and np.isnan(s["p50_min"]).all()


@pytest.mark.parametrize("seed", range(20))
def test_nearest_rank_matches_sorted_list(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, size=int(rng.integers(1, 40)))
    x[rng.random(len(x)) < 0.2] = np.inf
    for p in (5, 25, 50, 75, 95):
        v = sorted(x)[max(math.ceil(p / 100 * len(x)), 1) - 1]
        got = nearest_rank(x, [p])[0]
        assert (math.isnan(got) and math.isinf(v)) or got == v
