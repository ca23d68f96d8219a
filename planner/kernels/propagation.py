"""From arrival times at stops to arrival times at destinations (egress), arrays only.

A destination ``j`` is reached from stop ``eg_stop[k]`` (``eg_ptr[j] <= k < eg_ptr[j+1]``)
after ``eg_s[k]`` more seconds of walking (or another egress mode). The arrival at the
destination is the minimum over its egress stops, and over a direct street leg from the
origin (``direct_s[j]`` seconds after the departure, ``-1`` when none).
"""

from __future__ import annotations

import numba
import numpy as np

from planner.kernels.options import jit, jit_parallel

INF = np.int32(2_000_000_000)


@jit
def egress_row(at_stop, deps_i, eg_ptr, eg_stop, eg_s, direct_s, out_row):
    """One departure: ``out_row[j]`` = earliest arrival at destination ``j``."""
    n_dest = eg_ptr.shape[0] - 1
    for j in range(n_dest):
        best = INF
        if direct_s[j] >= 0:
            best = deps_i + direct_s[j]
        for k in range(eg_ptr[j], eg_ptr[j + 1]):
            a = at_stop[eg_stop[k]]
            if a < INF:
                t = a + eg_s[k]
                if t < best:
                    best = t
        out_row[j] = best


@jit_parallel
def egress(at_stop, deps, eg_ptr, eg_stop, eg_s, direct_s):
    """All departures: int32 (len(deps), n_dest) arrival times (``INF`` = not reached).

    ``at_stop`` is int32 (len(deps), S) from range-RAPTOR; rows run in parallel.
    """
    n = at_stop.shape[0]
    n_dest = eg_ptr.shape[0] - 1
    out = np.empty((n, n_dest), dtype=np.int32)
    for i in numba.prange(n):
        egress_row(at_stop[i], deps[i], eg_ptr, eg_stop, eg_s, direct_s, out[i])
    return out
