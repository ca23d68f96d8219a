"""Kinematic run times for rail lines: what a stop costs on a real train.

Each segment between two stops is run from rest to rest with a trapezoidal speed profile:
constant acceleration ``a`` up to the cruise speed ``v``, cruise, constant braking ``b``
down to the next stop. When the segment is too short to reach ``v`` the profile is a
triangle peaking at ``v_peak = sqrt(2 L a b / (a + b))`` and there is no cruise::

    cruise reached (L >= v^2/2a + v^2/2b):  t = L / v + v / 2a + v / 2b
    too short:                              t = v_peak / a + v_peak / b

So every stop costs the train ``v / 2a + v / 2b`` of running time plus its dwell, and
closely spaced stops cost more per km than widely spaced ones (short spacing never reaches
line speed). The model ignores gradients, curves, speed restrictions at junctions and the
fall of acceleration with speed; :func:`calibrate_speed` absorbs those into one effective
cruise speed so that a train's end-to-end time matches a published fastest time.

Defaults (all assumptions, stated in the data that uses them):

* :data:`DEFAULT_ACCEL_MPS2` = 0.5 m/s^2. CRH380-class EMUs are quoted at about
  0.4-0.5 m/s^2 start acceleration (not from a cited source: an assumption). The upper end
  is taken because published times need it: the Changchun-Jilin intercity (111 km, a
  250 km/h line) ran non-stop in 29 minutes (2011), which this model reaches only with
  ``1/(2a) + 1/(2b) <= 2.04 s^2/m``, i.e. ``a >= 0.48`` when ``b = 0.5``.
* :data:`DEFAULT_BRAKE_MPS2` = 0.5 m/s^2, a comfortable service-braking rate (assumption).
* :data:`DWELL_S` by station class: ``major`` 4 min (interchange hubs and provincial
  capitals), ``intermediate`` 2 min, ``minor`` 1 min, ``metro`` 30 s, ``metro_interchange``
  45 s (assumptions).
* Line speed classes of Chinese railways: 160, 200, 250, 300 and 350 km/h
  (:data:`SPEED_CLASSES_KMH`); a line's design speed is its class.

>>> round(float(segment_run_times([50_000.0], 350, accel_mps2=0.5, brake_mps2=0.5)[0]), 2)
708.73
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.errors import InputError

__all__ = [
    "DEFAULT_ACCEL_MPS2",
    "DEFAULT_BRAKE_MPS2",
    "DWELL_S",
    "SPEED_CLASSES_KMH",
    "Calibration",
    "SegmentProfile",
    "calibrate_speed",
    "dwell_for_classes",
    "segment_profile",
    "segment_run_times",
    "segments_from_km",
    "stop_offsets",
    "total_time",
]

#: mean acceleration from rest to line speed, m/s^2 (assumption; see the module docstring)
DEFAULT_ACCEL_MPS2 = 0.5
#: service braking, m/s^2 (assumption)
DEFAULT_BRAKE_MPS2 = 0.5
#: dwell time by station class, seconds (assumptions)
DWELL_S: dict[str, int] = {
    "major": 240,
    "intermediate": 120,
    "minor": 60,
    "metro": 30,
    "metro_interchange": 45,
}
#: speed classes of Chinese railway lines, km/h
SPEED_CLASSES_KMH = (160, 200, 250, 300, 350)


def _bad(message: str, hint: str | None = None) -> InputError:
    return InputError(message, code="invalid_runtime_parameter", hint=hint)


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        msg = f"{name} must be a positive number, got {value!r}"
        raise _bad(msg)
    return v


def _segments(seg_m) -> np.ndarray:
    seg = np.atleast_1d(np.asarray(seg_m, dtype=np.float64))
    if seg.ndim != 1:
        msg = f"segment lengths must be a 1-D sequence, got shape {seg.shape}"
        raise _bad(msg)
    bad = ~np.isfinite(seg) | (seg <= 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        msg = f"segment {k} has length {seg[k]!r} m; every segment must be longer than 0 m"
        raise _bad(msg, hint="two consecutive stops at the same km mark: merge them or fix the km marks")
    return seg


def _speeds(speed_kmh, n: int) -> np.ndarray:
    v = np.asarray(speed_kmh, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        msg = f"give one speed or one per segment ({n}), got {v.shape[0]}"
        raise _bad(msg)
    bad = ~np.isfinite(v) | (v <= 0)
    if bad.any():
        msg = f"speed must be positive km/h, got {v[np.flatnonzero(bad)[0]]!r}"
        raise _bad(msg)
    return v / 3.6


def segments_from_km(km) -> np.ndarray:
    """Segment lengths in metres from stop km marks (strictly increasing)."""
    k = np.asarray(km, dtype=np.float64)
    if k.ndim != 1 or len(k) < 2:
        msg = "give at least two km marks"
        raise _bad(msg)
    if not np.isfinite(k).all():
        msg = "km marks must be finite numbers"
        raise _bad(msg)
    d = np.diff(k)
    if (d <= 0).any():
        j = int(np.flatnonzero(d <= 0)[0])
        msg = f"km marks must increase along the line: stop {j + 1} ({k[j + 1]}) is not after stop {j} ({k[j]})"
        raise _bad(msg, hint="reverse the list for the other direction; km marks are along the line")
    return d * 1000.0


@dataclass(frozen=True)
class SegmentProfile:
    """The speed profile of one stop-to-stop segment (SI units)."""

    length_m: float
    v_peak_mps: float
    t_accel_s: float
    t_cruise_s: float
    t_brake_s: float
    cruise_reached: bool

    @property
    def total_s(self) -> float:
        return self.t_accel_s + self.t_cruise_s + self.t_brake_s


def segment_profile(length_m: float, speed_kmh: float, *, accel_mps2: float = DEFAULT_ACCEL_MPS2,
                    brake_mps2: float = DEFAULT_BRAKE_MPS2) -> SegmentProfile:
    """The trapezoid (or triangle) speed profile of one segment run from rest to rest."""
    L = float(_segments([length_m])[0])
    v = _positive("speed_kmh", speed_kmh) / 3.6
    a = _positive("accel_mps2", accel_mps2)
    b = _positive("brake_mps2", brake_mps2)
    d_ab = v * v / (2 * a) + v * v / (2 * b)
    if d_ab <= L:
        return SegmentProfile(L, v, v / a, (L - d_ab) / v, v / b, True)
    vp = math.sqrt(2 * L * a * b / (a + b))
    return SegmentProfile(L, vp, vp / a, 0.0, vp / b, False)


def segment_run_times(seg_m, speed_kmh, *, accel_mps2: float = DEFAULT_ACCEL_MPS2,
                      brake_mps2: float = DEFAULT_BRAKE_MPS2) -> np.ndarray:
    """Running time in seconds (no dwell) of each segment, run from rest to rest.

    Parameters
    ----------
    seg_m
        Segment lengths in metres (all > 0).
    speed_kmh
        Cruise speed (the line speed class, or a calibrated speed): one value or one per
        segment.
    accel_mps2, brake_mps2
        Acceleration and braking rates.

    Returns
    -------
    numpy.ndarray
        Float seconds, one per segment.
    """
    seg = _segments(seg_m)
    v = _speeds(speed_kmh, len(seg))
    a = _positive("accel_mps2", accel_mps2)
    b = _positive("brake_mps2", brake_mps2)
    c = 1.0 / (2 * a) + 1.0 / (2 * b)
    reach = v * v * c <= seg
    vp = np.sqrt(2 * seg * a * b / (a + b))
    return np.where(reach, seg / v + v * c, vp / a + vp / b)


def _dwell_array(dwell_s, n_stops: int) -> np.ndarray:
    d = np.asarray(dwell_s, dtype=np.float64)
    if d.ndim == 0:
        d = np.full(n_stops, float(d))
    if d.shape != (n_stops,):
        msg = f"give one dwell time or one per stop ({n_stops}), got {d.shape[0]}"
        raise _bad(msg)
    if (~np.isfinite(d) | (d < 0)).any():
        msg = "dwell times must be >= 0 seconds"
        raise _bad(msg)
    d = d.copy()
    d[0] = 0.0
    d[-1] = 0.0
    return d


def dwell_for_classes(classes, table: dict[str, int] | None = None) -> np.ndarray:
    """Dwell seconds for a list of station classes (keys of :data:`DWELL_S`)."""
    t = DWELL_S if table is None else table
    out = []
    for c in classes:
        if c not in t:
            msg = f"unknown station class {c!r} (one of {', '.join(sorted(t))})"
            raise _bad(msg)
        out.append(t[c])
    return np.asarray(out, dtype=np.float64)


def stop_offsets(seg_m, speed_kmh, dwell_s=DWELL_S["intermediate"], *,
                 accel_mps2: float = DEFAULT_ACCEL_MPS2,
                 brake_mps2: float = DEFAULT_BRAKE_MPS2) -> tuple[np.ndarray, np.ndarray]:
    """Arrival and departure offsets (seconds after the first departure) at every stop.

    ``dwell_s`` is one value or one per stop (the first and last stops' dwell is ignored).
    ``arrival[0] == departure[0] == 0`` and ``departure[-1] == arrival[-1]``.
    """
    run = segment_run_times(seg_m, speed_kmh, accel_mps2=accel_mps2, brake_mps2=brake_mps2)
    dwell = _dwell_array(dwell_s, len(run) + 1)
    arr = np.zeros(len(run) + 1)
    dep = np.zeros(len(run) + 1)
    for k, r in enumerate(run):
        arr[k + 1] = dep[k] + r
        dep[k + 1] = arr[k + 1] + dwell[k + 1]
    dep[-1] = arr[-1]
    return arr, dep


def total_time(seg_m, speed_kmh, dwell_s=DWELL_S["intermediate"], *, accel_mps2: float = DEFAULT_ACCEL_MPS2,
               brake_mps2: float = DEFAULT_BRAKE_MPS2) -> float:
    """End-to-end seconds (running plus intermediate dwell) of one train."""
    arr, _ = stop_offsets(seg_m, speed_kmh, dwell_s, accel_mps2=accel_mps2, brake_mps2=brake_mps2)
    return float(arr[-1])


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`calibrate_speed`.

    Attributes
    ----------
    speed_kmh
        The cruise speed found (``max_speed_kmh`` when the target is not reachable).
    total_s
        End-to-end seconds at that speed.
    target_s
        The published time aimed at.
    reachable
        False when even ``max_speed_kmh`` is slower than the target.
    min_total_s
        The fastest possible end-to-end time (at ``max_speed_kmh``).
    message
        One sentence saying what happened.
    """

    speed_kmh: float
    total_s: float
    target_s: float
    reachable: bool
    min_total_s: float
    message: str


def calibrate_speed(seg_m, target_s: float, *, max_speed_kmh: float, dwell_s=DWELL_S["intermediate"],
                    accel_mps2: float = DEFAULT_ACCEL_MPS2, brake_mps2: float = DEFAULT_BRAKE_MPS2,
                    min_speed_kmh: float = 20.0, tol_s: float = 0.01) -> Calibration:
    """The cruise speed (at most ``max_speed_kmh``) that makes the end-to-end time ``target_s``.

    The end-to-end time does not increase with the cruise speed (a faster cruise shortens
    every segment that reaches it and leaves the others unchanged), so bisection finds the
    speed to within ``tol_s`` seconds of the target.

    Parameters
    ----------
    seg_m
        Segment lengths in metres between the stops of the train.
    target_s
        The published end-to-end time in seconds (first departure to last arrival).
    max_speed_kmh
        The line's speed class; the cruise speed never exceeds it.
    dwell_s
        Dwell at each intermediate stop: one value or one per stop.

    Returns
    -------
    Calibration
        ``reachable`` is False (and ``speed_kmh == max_speed_kmh``) when the target is
        faster than the train can run at line speed with these stops and rates.
    """
    target = _positive("target_s", target_s)
    vmax = _positive("max_speed_kmh", max_speed_kmh)
    vmin = min(_positive("min_speed_kmh", min_speed_kmh), vmax)

    def f(v: float) -> float:
        return total_time(seg_m, v, dwell_s, accel_mps2=accel_mps2, brake_mps2=brake_mps2)

    fastest = f(vmax)
    if fastest > target + tol_s:
        msg = (f"published time {target / 60:.1f} min is not reachable: at the line's {vmax:g} km/h the train "
               f"needs {fastest / 60:.1f} min with these stops, dwell and acceleration")
        return Calibration(vmax, fastest, target, False, fastest, msg)
    lo, hi = vmin, vmax
    if f(lo) < target:
        msg = f"published time {target / 60:.1f} min is slower than running at {vmin:g} km/h"
        raise _bad(msg, hint="check the target time and the segment lengths")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-9:
            break
    total = f(hi)
    if abs(total - target) > tol_s:
        # the time does not depend on speed here (every segment too short to cruise)
        msg = f"published time {target / 60:.1f} min cannot be matched: no segment reaches cruise speed"
        return Calibration(vmax, fastest, target, False, fastest, msg)
    msg = f"cruise {hi:.1f} km/h matches the published {target / 60:.1f} min (line speed {vmax:g} km/h)"
    return Calibration(hi, total, target, True, fastest, msg)
