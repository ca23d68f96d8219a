"""Steps shared by the RAPTOR kernels (:mod:`~planner.kernels.raptor`,
:mod:`~planner.kernels.fare_raptor`, :mod:`~planner.kernels.mcraptor`), arrays only.

Each is a small numba function inlined into the kernel that calls it (``jit_inline``; the
binary search :func:`earliest_trip` is called), so the kernels share the code without
paying a call. An inlined helper still costs where the kernel runs it most often: numba
counts references to the arrays it is given (atomic updates that also keep LLVM from
optimising the loop around them). So the steps are cut where they run per pattern, per
marked stop or per boarding, and the innermost label updates (after alighting, after a
footpath) stay written out in each kernel:

* the pattern scan: queueing the patterns that serve a stop (:func:`queue_patterns`),
  taking one off the queue with its extent in the timetable arrays (:func:`take_pattern`),
  and the trip to ride on from a position (:func:`earliest_trip`, :func:`board_earlier`);
* ordering: a stable argsort of int64 keys (:func:`argsort_stable`);
* round 0: the walks of the origin, numbered per access leg (:func:`access_walks`,
  :func:`access_walk`): the access leg itself, then one footpath after it.

What a kernel does with a label (its criteria, pruning and parents) stays in the kernel.
"""

from __future__ import annotations

import numba
import numpy as np

from planner.kernels.options import jit, jit_inline, jit_typed

__all__ = [
    "access_walk",
    "access_walks",
    "argsort_stable",
    "board_earlier",
    "earliest_trip",
    "queue_patterns",
    "take_pattern",
]


@jit
def earliest_trip(departure, times_ptr, n_trips, n_stops, pos, ready):
    """First trip (0-based in the pattern, below ``n_trips``) departing position ``pos`` at
    or after ``ready``; ``n_trips`` when none. FIFO patterns keep departures sorted.

    Called, not inlined: inlining its loop into the scan made the penalised kernel slower."""
    lo = 0
    hi = n_trips
    while lo < hi:
        mid = (lo + hi) // 2
        if departure[times_ptr + mid * n_stops + pos] >= ready:
            hi = mid
        else:
            lo = mid + 1
    return lo


@jit_inline
def board_earlier(departure, tptr, nt, L, i, ready, trip, board_pos):
    """The ``(trip, boarding position)`` ridden on from position ``i`` of a pattern (``nt``
    trips, ``L`` stops, times from ``tptr``) by a traveller ready there at ``ready``: the
    first trip caught (boarded at ``i``) when it departs before ``trip``, else ``trip`` and
    ``board_pos`` unchanged. The caller has checked that the traveller catches ``trip``
    (``ready <= departure``), or that no trip is ridden yet (``trip < 0``): the check stays
    in the scan loop, where it is cheaper than an inlined helper."""
    hi = nt if trip < 0 else trip
    t = earliest_trip(departure, tptr, hi, L, i, ready)
    if t < hi:
        return t, i
    return trip, board_pos


@jit_inline
def queue_patterns(s, stop_patterns_ptr, stop_patterns, stop_pattern_pos, pat_first, pat_queue, nq):
    """Queue the patterns serving stop ``s`` for the round's scan, each from the first
    position at which it is reached (``pat_first``, -1 when not queued); returns the new
    length of ``pat_queue``."""
    for j in range(stop_patterns_ptr[s], stop_patterns_ptr[s + 1]):
        p = stop_patterns[j]
        pos = stop_pattern_pos[j]
        if pat_first[p] < 0:
            pat_first[p] = pos
            pat_queue[nq] = p
            nq += 1
        elif pos < pat_first[p]:
            pat_first[p] = pos
    return nq


@jit_inline
def take_pattern(qi, pat_queue, pat_first, pattern_stops_ptr, pattern_trips_ptr, pattern_times_ptr):
    """Take the ``qi``-th queued pattern ``p`` off the queue (``pat_first[p]`` back to -1).
    Returns ``(p, start, s0, L, nt, tptr)``: the pattern, the first position to scan, where
    its stops begin in ``pattern_stops``, its number of stops and of trips, and where its
    times begin (trip ``t`` at position ``i``: ``tptr + t * L + i``)."""
    p = pat_queue[qi]
    start = pat_first[p]
    pat_first[p] = -1
    s0 = pattern_stops_ptr[p]
    L = pattern_stops_ptr[p + 1] - s0
    nt = pattern_trips_ptr[p + 1] - pattern_trips_ptr[p]
    return p, start, s0, L, nt, pattern_times_ptr[p]


@jit_inline
def access_walks(j, access_stops, fp_ptr):
    """The walks of round 0 that start with access leg ``j`` are numbered ``range(lo, hi)``
    (returned): ``lo`` is the access leg alone, ``lo + 1 ..`` the leg and one footpath."""
    s = access_stops[j]
    return fp_ptr[s] - 1, fp_ptr[s + 1]


@jit_inline
def access_walk(j, f, access_stops, access_s, dep, fp_ptr, fp_to, fp_s):
    """Walk ``f`` (numbered by :func:`access_walks`) of access leg ``j`` from a departure at
    ``dep``: ``(stop, arrival time, footpath index or -1 for the access leg alone)``."""
    s = access_stops[j]
    t = dep + access_s[j]
    return (s, t, -1) if f < fp_ptr[s] else (fp_to[f], t + fp_s[f], f)


@jit_typed(numba.int64[::1])
def argsort_stable(keys):
    """Indices that sort ``keys`` ascending, equal keys in their original order: the
    permutation of ``np.argsort(keys, kind="mergesort")``. A bottom-up merge sort written
    out, because numba's generic mergesort costs 2-4 s to compile on every cold start."""
    n = keys.shape[0]
    a = np.arange(n)
    b = np.empty(n, dtype=np.int64)
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            j = mid
            for k in range(lo, hi):
                if i < mid and (j >= hi or keys[a[i]] <= keys[a[j]]):
                    b[k] = a[i]
                    i += 1
                else:
                    b[k] = a[j]
                    j += 1
        a, b = b, a
        width *= 2
    return a
