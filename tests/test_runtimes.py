"""The kinematic run-time model against hand-computed speed profiles, and speed calibration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from planner.errors import InputError
from planner.scenarios import runtimes
from planner.scenarios.runtimes import (
    calibrate_speed,
    dwell_for_classes,
    segment_profile,
    segment_run_times,
    segments_from_km,
    stop_offsets,
    total_time,
)


def test_50_km_at_350_with_half_metre_per_second_squared():
    # v = 350/3.6 = 97.2222 m/s; accelerating and braking each take v/a = 194.44 s over v^2/2a = 9452.2 m;
    # cruise (50000 - 18904.3) m / v = 319.84 s; total 194.44 + 319.84 + 194.44 = 708.73 s
    # (= L/v + v/2a + v/2b = 514.29 + 97.22 + 97.22)
    t = segment_run_times([50_000.0], 350, accel_mps2=0.5, brake_mps2=0.5)[0]
    v = 350 / 3.6
    assert t == pytest.approx(50_000 / v + 2 * v, abs=1e-9)
    assert t == pytest.approx(708.730, abs=1e-3)
    p = segment_profile(50_000.0, 350, accel_mps2=0.5, brake_mps2=0.5)
    assert p.cruise_reached
    assert p.t_accel_s == pytest.approx(194.444, abs=1e-3) and p.t_brake_s == pytest.approx(194.444, abs=1e-3)
    assert p.t_cruise_s == pytest.approx((50_000 - 2 * v * v) / v, abs=1e-9)
    assert p.total_s == pytest.approx(t, abs=1e-9)


def test_triangle_when_too_short_to_reach_line_speed():
    # 2 km at 350 km/h, a = b = 0.5: v_peak = sqrt(2 L a b / (a + b)) = sqrt(1000) = 31.62 m/s (114 km/h)
    p = segment_profile(2_000.0, 350, accel_mps2=0.5, brake_mps2=0.5)
    assert not p.cruise_reached
    assert p.v_peak_mps == pytest.approx(math.sqrt(1000.0))
    assert p.t_cruise_s == 0.0
    assert p.total_s == pytest.approx(4 * math.sqrt(1000.0))          # 126.49 s
    t = segment_run_times([2_000.0], 350, accel_mps2=0.5, brake_mps2=0.5)[0]
    assert t == pytest.approx(126.491, abs=1e-3)


def test_unequal_accel_and_braking():
    # 10 km at 200 km/h, a = 0.4, b = 0.5: v = 55.556 m/s; t = 180 + 55.556/0.8 + 55.556/1.0 = 305.0 s
    t = segment_run_times([10_000.0], 200, accel_mps2=0.4, brake_mps2=0.5)[0]
    assert t == pytest.approx(305.0, abs=1e-9)


def test_profile_is_continuous_where_cruise_is_just_reached():
    v = 300 / 3.6
    L = v * v / (2 * 0.5) + v * v / (2 * 0.5)      # exactly enough to touch 300 km/h
    below = segment_run_times([L * (1 - 1e-9)], 300, accel_mps2=0.5, brake_mps2=0.5)[0]
    above = segment_run_times([L * (1 + 1e-9)], 300, accel_mps2=0.5, brake_mps2=0.5)[0]
    assert below == pytest.approx(above, rel=1e-6)
    assert below == pytest.approx(2 * L / v, rel=1e-6)


def test_monotonic_in_length_and_speed():
    lengths = np.linspace(500, 100_000, 200)
    t = segment_run_times(lengths, 300)
    assert (np.diff(t) > 0).all()
    speeds = np.linspace(80, 350, 100)
    ts = np.array([segment_run_times([30_000.0], s)[0] for s in speeds])
    assert (np.diff(ts) <= 1e-9).all()


def test_short_spacing_costs_more_per_km():
    # 100 km with stops every 10 km vs every 50 km vs none, at 350 km/h, no dwell
    per_km = []
    for n in (1, 2, 10, 50):
        t = segment_run_times(np.full(n, 100_000.0 / n), 350).sum()
        per_km.append(t / 100)
    assert all(b > a for a, b in itertools.pairwise(per_km))
    # a stop that reaches line speed costs exactly v/2a + v/2b of running time
    v = 350 / 3.6
    one, two = segment_run_times([100_000.0], 350).sum(), segment_run_times([50_000.0] * 2, 350).sum()
    assert two - one == pytest.approx(v / (2 * runtimes.DEFAULT_ACCEL_MPS2) + v / (2 * runtimes.DEFAULT_BRAKE_MPS2))


def test_stop_offsets_and_dwell():
    seg = np.array([20_000.0, 30_000.0, 10_000.0])
    run = segment_run_times(seg, 250)
    arr, dep = stop_offsets(seg, 250, [99, 120, 240, 99])
    assert arr[0] == dep[0] == 0.0
    assert arr[1] == pytest.approx(run[0]) and dep[1] == pytest.approx(run[0] + 120)
    assert arr[2] == pytest.approx(run[0] + 120 + run[1]) and dep[2] == pytest.approx(arr[2] + 240)
    assert dep[3] == arr[3] == pytest.approx(run.sum() + 360)
    assert total_time(seg, 250, 120) == pytest.approx(run.sum() + 240)
    # per-segment speeds
    mixed = stop_offsets(seg, [250, 350, 250], 0)[0]
    assert mixed[-1] < stop_offsets(seg, 250, 0)[0][-1]


def test_segments_from_km_and_classes():
    assert np.allclose(segments_from_km([0, 41, 78.5]), [41_000, 37_500])
    with pytest.raises(InputError) as err:
        segments_from_km([0, 10, 10])
    assert err.value.code == "invalid_runtime_parameter"
    assert list(dwell_for_classes(["major", "intermediate"])) == [240, 120]
    with pytest.raises(InputError):
        dwell_for_classes(["hub"])


@pytest.mark.parametrize(("seg", "speed", "kw"), [
    ([-1.0], 300, {}), ([0.0], 300, {}), ([np.nan], 300, {}), ([1000.0], 0, {}),
    ([1000.0], 300, {"accel_mps2": 0}), ([1000.0], 300, {"brake_mps2": -1}), ([1000.0, 2.0], [300], {}),
])
def test_bad_parameters(seg, speed, kw):
    with pytest.raises(InputError) as err:
        segment_run_times(seg, speed, **kw)
    assert err.value.code == "invalid_runtime_parameter"


def test_calibration_recovers_the_speed():
    seg = segments_from_km([0, 238, 540, 921])           # Harbin West - Changchun West - Shenyang North - Dalian North
    dwell = [0, 240, 240, 0]
    target = total_time(seg, 285.0, dwell)
    c = calibrate_speed(seg, target, max_speed_kmh=350, dwell_s=dwell)
    assert c.reachable
    assert c.speed_kmh == pytest.approx(285.0, abs=0.01)
    assert c.total_s == pytest.approx(target, abs=0.01)
    assert c.min_total_s < target
    assert "matches" in c.message


def test_calibration_reports_an_unreachable_time():
    seg = segments_from_km([0, 111])
    c = calibrate_speed(seg, 25 * 60, max_speed_kmh=250)
    assert not c.reachable
    assert c.speed_kmh == 250
    assert c.total_s == pytest.approx(total_time(seg, 250))
    assert "not reachable" in c.message


def test_calibration_of_a_time_slower_than_the_minimum_speed():
    with pytest.raises(InputError):
        calibrate_speed(segments_from_km([0, 100]), 20 * 3600, max_speed_kmh=250, min_speed_kmh=20)


def test_changchun_jilin_nonstop_is_reachable_with_the_default_rates():
    # rail_fastest_times.csv: Changchun-Jilin about 29 minutes (2011), 111 km (rail_lines.csv), 250 km/h
    c = calibrate_speed(segments_from_km([0, 111]), 29 * 60, max_speed_kmh=250)
    assert c.reachable and c.speed_kmh <= 250
