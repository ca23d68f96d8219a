"""Opportunities reached from many origins, arrays only: egress, percentiles, decay weights.

For each origin ``i`` (``prange``), each destination ``j`` and each departure ``d``: the
arrival at ``j`` is the earliest over its egress legs (stop ``eg_stop[k]`` reached at
``at[i, d, stop]``, then ``eg_s[k]`` seconds more) and the direct leg from the origin
(``dir_*`` CSR, seconds after the departure); travel times past ``max_dur`` are unreachable.
The ``ranks`` (nearest-rank percentiles over the departures, 1-based) of the sorted travel
times give ``times[i, p, j]`` (when ``want_times``; -1: not reached), and the measure sums
``weight(t) * opp[m, j]`` over destinations for every layer ``m``, percentile and cutoff.

:func:`weight` is R5's decay (``com.conveyal.r5.analyst.decay``) without the two-hour cap:
``kind`` 0 step (1 when ``t < T``), 1 linear of width ``param`` seconds (R5's half-second
table values), 2 exponential with half-life ``T``, 3 logistic with standard deviation
``param`` seconds, scaled to 1 at ``t = 0``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from planner.kernels.options import jit, jit_parallel
from planner.kernels.raptor import INF

__all__ = ["UNREACHED", "opportunities_reached", "weight"]

#: a travel time that is not one (above every real travel time, below int64 overflow)
UNREACHED = np.int64(1) << np.int64(62)
_INF64 = np.int64(INF)


@jit
def weight(kind, param, cutoff_s, t):
    """Weight of an opportunity ``t`` seconds away (R5's decay functions, no 2-hour cap)."""
    if kind == 0:
        return 1.0 if t < cutoff_s else 0.0
    if kind == 1:
        half = np.int64(param) // 2
        i = t - (cutoff_s - half)
        if i < 0:
            return 1.0
        if i < np.int64(param):
            return 1.0 - (i + 0.5) / param
        return 0.0
    if kind == 2:
        if t <= 0:
            return 1.0
        return math.exp(math.log(0.5) / cutoff_s * t)
    scale = param * math.sqrt(3.0) / math.pi
    return (1.0 + math.exp(-cutoff_s / scale)) / (1.0 + math.exp((t - cutoff_s) / scale))


@jit_parallel
def opportunities_reached(at, deps, eg_ptr, eg_stop, eg_s, dir_ptr, dir_dest, dir_s, opp, ranks, cutoffs_s, kind, param,
              max_dur, want_times):
    n, n_dep, _n_stops = at.shape
    n_dest = eg_ptr.shape[0] - 1
    n_lay = opp.shape[0]
    n_p = ranks.shape[0]
    n_c = cutoffs_s.shape[0]
    acc = np.zeros((n, n_lay, n_p, n_c))
    times = np.full((n if want_times else 0, n_p, n_dest), -1, np.int32)
    for i in numba.prange(n):
        at_t = np.ascontiguousarray(at[i].T)  # (stops, departures): one egress stop's times together
        direct = np.full(n_dest, -1, np.int64)
        for k in range(dir_ptr[i], dir_ptr[i + 1]):
            direct[dir_dest[k]] = dir_s[k]
        best = np.empty(n_dep, np.int64)
        for j in range(n_dest):
            for d in range(n_dep):
                best[d] = UNREACHED if direct[j] < 0 else deps[d] + direct[j]
            for k in range(eg_ptr[j], eg_ptr[j + 1]):
                row = at_t[eg_stop[k]]
                e = eg_s[k]
                for d in range(n_dep):
                    a = row[d]
                    if a < _INF64 and a + e < best[d]:
                        best[d] = a + e
            for d in range(n_dep):
                if best[d] < UNREACHED:
                    best[d] -= deps[d]
                    if best[d] > max_dur:
                        best[d] = UNREACHED
            best.sort()
            for p in range(n_p):
                t = best[ranks[p] - 1]
                if t >= UNREACHED:
                    continue
                if want_times:
                    times[i, p, j] = t
                for c in range(n_c):
                    w = weight(kind, param, cutoffs_s[c], t)
                    if w > 0.0:
                        for m in range(n_lay):
                            acc[i, m, p, c] += w * opp[m, j]
    return acc, times
