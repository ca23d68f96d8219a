"""RAPTOR and range-RAPTOR kernels (Delling, Pajor, Werneck, ALENEX 2012), arrays only.

Semantics shared by every kernel here (and by the slow references in the tests):

* The origin reaches stop ``access_stops[j]`` at ``dep + access_s[j]`` (walking, or 0 s for
  a stop origin); one footpath may follow an access leg, so a stop origin can walk to a
  neighbouring stop.
* Round ``k`` (``1 <= k <= max_rounds``) adds one vehicle trip. After alighting at stop
  ``s`` at time ``a`` the traveller can board another trip at ``s`` from ``a + change_s[s]``
  (the minimum transfer time at that stop) or walk one footpath ``s -> s2`` and board there
  from ``a + fp_s`` (footpath times already hold any transfers.txt minimum). Footpaths are
  not chained: after walking one must board.
* Two labels per round and stop: ``tau_v`` (arrived by vehicle; may change or walk on) and
  ``tau_w`` (arrived on foot; may only board). Round-0 walking labels (the access legs) stay
  in ``tau_w[0]``; ``tau_w[k >= 1]`` holds walks after a vehicle. The earliest time *at* a
  stop with at most ``k`` trips is ``min(tau_v[k], tau_w[k], tau_w[0])``; ``INF`` means
  unreachable.
* Arrivals later than ``dep + max_duration`` are pruned.
* Boarding needs ``pattern_board`` at that stop; alighting needs ``pattern_alight``.

Pruning compares a new label with the same round's label (which range-RAPTOR carries over
from later departures: an earlier departure can always wait for them) and, within one
departure, with the best label of rounds up to the current one (local pruning, exact
because rounds run in order). Range-RAPTOR runs departures latest first and reuses the
labels; its result per departure equals an independent run.
"""

from __future__ import annotations

import numpy as np

from planner.kernels._raptor_steps import (
    access_walk,
    access_walks,
    argsort_stable,
    board_earlier,
    queue_patterns,
    take_pattern,
)
from planner.kernels.options import jit, parallel_rows

INF = np.int32(2_000_000_000)

# parent kinds for journey reconstruction
PARENT_NONE = 0
PARENT_ACCESS = 1
PARENT_TRIP = 2
PARENT_WALK = 3


@jit
def _round0(access_stops, access_s, dep, fp_ptr, fp_to, fp_s, tau_w, ready, best_w, best_ready,
            marked, max_arrival, record, pw, upd, in_upd):
    """Access legs and one footpath after them, as round-0 walking labels: every access leg
    first, then the footpaths after them.

    Stops whose labels change are appended to ``upd`` (deduplicated by ``in_upd``);
    returns how many."""
    n_upd = 0
    for footpaths in (False, True):
        for j in range(access_stops.shape[0]):
            lo, hi = access_walks(j, access_stops, fp_ptr)
            s, t, ff = access_walk(j, lo, access_stops, access_s, dep, fp_ptr, fp_to, fp_s)
            if t > max_arrival:
                continue
            for f in range(lo + 1, hi) if footpaths else range(lo, lo + 1):
                s, w, ff = access_walk(j, f, access_stops, access_s, dep, fp_ptr, fp_to, fp_s)
                if w > max_arrival:
                    continue
                if w < tau_w[0, s] and w < best_w[s]:
                    tau_w[0, s] = w
                    best_w[s] = w
                    if record:
                        pw[0, 0, s] = PARENT_ACCESS
                        pw[1, 0, s] = j
                        pw[2, 0, s] = ff
                    if not in_upd[s]:
                        in_upd[s] = True
                        upd[n_upd] = s
                        n_upd += 1
                if w < ready[0, s] and w < best_ready[s]:
                    ready[0, s] = w
                    best_ready[s] = w
                    marked[s] = True
                    if not in_upd[s]:
                        in_upd[s] = True
                        upd[n_upd] = s
                        n_upd += 1
    return n_upd


@jit
def _copy_round(k, tau_v, tau_w, ready, record, pv, pw, upd, n_upd, in_upd, nxt, in_nxt):
    """Round k starts from round k-1 (at most k trips includes at most k-1 trips).

    Only stops whose labels changed in round k-1 (``upd[:n_upd]``) can differ, so only
    they are copied; those whose round-k labels change go to ``nxt``. Returns its length.
    ``in_upd`` is cleared for the stops of ``upd``."""
    n_nxt = 0
    for q in range(n_upd):
        s = upd[q]
        in_upd[s] = False
        changed = False
        if tau_v[k - 1, s] < tau_v[k, s]:
            tau_v[k, s] = tau_v[k - 1, s]
            changed = True
            if record:
                for r in range(pv.shape[0]):
                    pv[r, k, s] = pv[r, k - 1, s]
        # round-0 walking labels (access) stay in round 0: tau_w[k >= 1] holds walks after
        # a vehicle only, so range-RAPTOR can tell the trip-based part of a result apart
        if k > 1 and tau_w[k - 1, s] < tau_w[k, s]:
            tau_w[k, s] = tau_w[k - 1, s]
            changed = True
            if record:
                for r in range(pw.shape[0]):
                    pw[r, k, s] = pw[r, k - 1, s]
        if ready[k - 1, s] < ready[k, s]:
            ready[k, s] = ready[k - 1, s]
            changed = True
        if changed and not in_nxt[s]:
            in_nxt[s] = True
            nxt[n_nxt] = s
            n_nxt += 1
    return n_nxt


@jit
def _rounds(
    pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
    fp_ptr, fp_to, fp_s, change_s,
    tau_v, tau_w, ready, best_v, best_w, best_ready, marked, max_arrival, max_rounds,
    record, pv, pw, pat_first, pat_queue, round_marked, upd, n_upd, in_upd, nxt, in_nxt,
):
    """Rounds 1..max_rounds from the round-0 labels and marks already set.

    ``upd[:n_upd]`` lists the stops whose round-0 labels changed (flags in ``in_upd``);
    ``nxt``/``in_nxt`` are a second list of the same size. Work arrays ``pat_first`` (all -1),
    ``round_marked``, ``in_upd``, ``in_nxt`` (all False) are restored on exit.
    ``pv``/``pw`` are parent arrays (3, K, S): vehicle (pattern, trip, board position) and
    walk (kind, from stop or access index, footpath index).
    """
    for k in range(1, max_rounds + 1):
        # patterns serving the stops marked in round k-1 (all of them are in upd)
        nq = 0
        for q in range(n_upd):
            s = upd[q]
            if not marked[s]:
                continue
            marked[s] = False
            nq = queue_patterns(s, stop_patterns_ptr, stop_patterns, stop_pattern_pos, pat_first, pat_queue, nq)
        n_nxt = _copy_round(k, tau_v, tau_w, ready, record, pv, pw, upd, n_upd, in_upd, nxt, in_nxt)
        upd, nxt = nxt, upd
        in_upd, in_nxt = in_nxt, in_upd
        n_upd = n_nxt
        if nq == 0:
            for k2 in range(k + 1, max_rounds + 1):
                n_nxt = _copy_round(k2, tau_v, tau_w, ready, record, pv, pw, upd, n_upd, in_upd, nxt, in_nxt)
                upd, nxt = nxt, upd
                in_upd, in_nxt = in_nxt, in_upd
                n_upd = n_nxt
            for q in range(n_upd):
                in_upd[upd[q]] = False
            return
        for qi in range(nq):
            p, start, s0, L, nt, tptr = take_pattern(qi, pat_queue, pat_first, pattern_stops_ptr,
                                                     pattern_trips_ptr, pattern_times_ptr)
            trip = -1
            board_pos = -1
            for i in range(start, L):
                s = pattern_stops[s0 + i]
                if trip >= 0 and pattern_alight[s0 + i]:
                    a = arrival[tptr + trip * L + i]
                    if a <= max_arrival and a < tau_v[k, s] and a < best_v[s]:
                        tau_v[k, s] = a
                        best_v[s] = a
                        round_marked[s] = True
                        if not in_upd[s]:
                            in_upd[s] = True
                            upd[n_upd] = s
                            n_upd += 1
                        if record:
                            pv[0, k, s] = p
                            pv[1, k, s] = trip
                            pv[2, k, s] = board_pos
                r = ready[k - 1, s]
                if r < INF and pattern_board[s0 + i] and (trip < 0 or r <= departure[tptr + trip * L + i]):
                    trip, board_pos = board_earlier(departure, tptr, nt, L, i, r, trip, board_pos)
        n_vehicle = n_upd
        for q in range(n_vehicle):
            s = upd[q]
            if not round_marked[s]:
                continue
            round_marked[s] = False
            a = tau_v[k, s]
            r = a + change_s[s]
            if r <= max_arrival and r < ready[k, s] and r < best_ready[s]:
                ready[k, s] = r
                best_ready[s] = r
                marked[s] = True
            # the walking-label update of _round0, written out (as is the list append above):
            # inlined helpers taking the label arrays, here and in the scan, made queries
            # 5-100% slower (numba counts references to the arrays a helper is given)
            for f in range(fp_ptr[s], fp_ptr[s + 1]):
                s2 = fp_to[f]
                w = a + fp_s[f]
                if w > max_arrival:
                    continue
                if w < tau_w[k, s2] and w < best_w[s2]:
                    tau_w[k, s2] = w
                    best_w[s2] = w
                    if record:
                        pw[0, k, s2] = PARENT_WALK
                        pw[1, k, s2] = s
                        pw[2, k, s2] = f
                    if not in_upd[s2]:
                        in_upd[s2] = True
                        upd[n_upd] = s2
                        n_upd += 1
                if w < ready[k, s2] and w < best_ready[s2]:
                    ready[k, s2] = w
                    best_ready[s2] = w
                    marked[s2] = True
                    if not in_upd[s2]:
                        in_upd[s2] = True
                        upd[n_upd] = s2
                        n_upd += 1
    for q in range(n_upd):
        in_upd[upd[q]] = False
        marked[upd[q]] = False


@jit
def raptor(
    pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
    fp_ptr, fp_to, fp_s, change_s,
    access_stops, access_s, dep, max_rounds, max_duration, record,
):
    """Earliest arrival from one departure time, with labels per round.

    Returns
    -------
    tau_v, tau_w : int32 (max_rounds + 1, S)
        Vehicle and walking labels per round (``INF`` unreachable); the time at a stop with
        at most ``k`` trips is ``min(tau_v[k], tau_w[k])``.
    pv : int32 (3, K, S)
        Vehicle parents when ``record``: pattern, trip index within the pattern, boarding
        position.
    pw : int32 (3, K, S)
        Walking parents when ``record``: kind (``PARENT_ACCESS``/``PARENT_WALK``), from
        stop (walk) or access index (access), footpath index (-1 for a bare access leg).
    """
    S = stop_patterns_ptr.shape[0] - 1
    P = pattern_trips_ptr.shape[0] - 1
    K = max_rounds + 1
    max_arrival = dep + max_duration
    tau_v = np.full((K, S), INF, dtype=np.int32)
    tau_w = np.full((K, S), INF, dtype=np.int32)
    ready = np.full((K, S), INF, dtype=np.int32)
    best_v = np.full(S, INF, dtype=np.int32)
    best_w = np.full(S, INF, dtype=np.int32)
    best_ready = np.full(S, INF, dtype=np.int32)
    marked = np.zeros(S, dtype=np.bool_)
    round_marked = np.zeros(S, dtype=np.bool_)
    pat_first = np.full(P, -1, dtype=np.int32)
    pat_queue = np.empty(P, dtype=np.int32)
    shape = (3, K, S) if record else (3, 1, 1)
    pv = np.full(shape, -1, dtype=np.int32)
    pw = np.full(shape, -1, dtype=np.int32)
    upd = np.empty(S, dtype=np.int32)
    nxt = np.empty(S, dtype=np.int32)
    in_upd = np.zeros(S, dtype=np.bool_)
    in_nxt = np.zeros(S, dtype=np.bool_)
    n_upd = _round0(access_stops, access_s, dep, fp_ptr, fp_to, fp_s, tau_w, ready, best_w, best_ready,
                    marked, max_arrival, record, pw, upd, in_upd)
    _rounds(pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
            pattern_trips_ptr, pattern_times_ptr, arrival, departure,
            stop_patterns_ptr, stop_patterns, stop_pattern_pos,
            fp_ptr, fp_to, fp_s, change_s,
            tau_v, tau_w, ready, best_v, best_w, best_ready, marked, max_arrival, max_rounds,
            record, pv, pw, pat_first, pat_queue, round_marked, upd, n_upd, in_upd, nxt, in_nxt)
    return tau_v, tau_w, pv, pw


@jit
def _round0_offsets(access_stops, access_s, fp_ptr, fp_to, fp_s, S):
    """Seconds from the departure to each stop on foot in round 0 (access + one footpath);
    -1 for stops not reached on foot. Returns (stops, offsets) of the reached ones."""
    off = np.full(S, -1, dtype=np.int64)
    for j in range(access_stops.shape[0]):
        lo, hi = access_walks(j, access_stops, fp_ptr)
        for f in range(lo, hi):
            s, w, _ = access_walk(j, f, access_stops, access_s, 0, fp_ptr, fp_to, fp_s)
            if off[s] < 0 or w < off[s]:
                off[s] = w
    n = 0
    for s in range(S):
        if off[s] >= 0:
            n += 1
    stops = np.empty(n, dtype=np.int32)
    offs = np.empty(n, dtype=np.int64)
    n = 0
    for s in range(S):
        if off[s] >= 0:
            stops[n] = s
            offs[n] = off[s]
            n += 1
    return stops, offs


@jit
def _departs_between(stop_dep_ptr, stop_deps, s, lo_t, hi_t):
    """True when a boardable departure at stop ``s`` falls in [lo_t, hi_t)."""
    lo = stop_dep_ptr[s]
    hi = stop_dep_ptr[s + 1]
    while lo < hi:  # first departure >= lo_t
        mid = (lo + hi) // 2
        if stop_deps[mid] >= lo_t:
            hi = mid
        else:
            lo = mid + 1
    return lo < stop_dep_ptr[s + 1] and stop_deps[lo] < hi_t


@jit
def _new_boarding_between(stop_dep_ptr, stop_deps, r0_stops, r0_off, dep, t_last):
    """True when some round-0 stop has a boarding departure in [dep + o, t_last + o)."""
    for q in range(r0_stops.shape[0]):
        if _departs_between(stop_dep_ptr, stop_deps, r0_stops[q], dep + r0_off[q], t_last + r0_off[q]):
            return True
    return False


@jit
def range_raptor(
    pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
    fp_ptr, fp_to, fp_s, change_s, stop_dep_ptr, stop_deps,
    access_stops, access_s, deps, max_rounds, max_duration, check_cap,
):
    """Earliest arrival at every stop for each departure time in ``deps``.

    Returns
    -------
    out : int32 (len(deps), S)
        Row ``i`` holds, for ``deps[i]``, the earliest time at each stop with at most
        ``max_rounds`` trips and at most ``max_duration`` s after ``deps[i]`` (``INF``
        otherwise).
    capped : bool (S,)
        With ``check_cap``: the stops that one more trip (round ``max_rounds + 1``) reaches
        earlier, within ``max_duration``, for at least one of the departures. The search
        then runs one round more than it returns. All False without ``check_cap``.

    Departures are processed latest first and every round's labels are kept from one
    departure to the next (rRAPTOR; Conveyal R5 does the same): a journey found for a later
    departure is one for an earlier departure too (it waits at the origin), so the carried
    labels are upper bounds that only improve, and keeping them per round keeps the round
    limit exact. Rounds run only for a departure after which a trip can be boarded that
    could not be boarded from the previously computed (later) departure: ``stop_dep_ptr``/
    ``stop_deps`` (CSR by stop, sorted) list every boardable departure at each stop.
    Between such departures the trip-based part of the result is unchanged and only the
    walking part (access legs) moves with the departure time, as in the original rRAPTOR,
    which iterates over the departures at the source only.
    """
    S = stop_patterns_ptr.shape[0] - 1
    P = pattern_trips_ptr.shape[0] - 1
    R = max_rounds + 1 if check_cap else max_rounds  # rounds searched
    K = R + 1
    n = deps.shape[0]
    out = np.full((n, S), INF, dtype=np.int32)
    capped = np.zeros(S, dtype=np.bool_)
    tau_v = np.full((K, S), INF, dtype=np.int32)
    tau_w = np.full((K, S), INF, dtype=np.int32)
    ready = np.full((K, S), INF, dtype=np.int32)
    best_v = np.empty(S, dtype=np.int32)
    best_w = np.empty(S, dtype=np.int32)
    best_ready = np.empty(S, dtype=np.int32)
    marked = np.zeros(S, dtype=np.bool_)
    round_marked = np.zeros(S, dtype=np.bool_)
    pat_first = np.full(P, -1, dtype=np.int32)
    pat_queue = np.empty(P, dtype=np.int32)
    dummy = np.full((3, 1, 1), -1, dtype=np.int32)
    upd = np.empty(S, dtype=np.int32)
    nxt = np.empty(S, dtype=np.int32)
    in_upd = np.zeros(S, dtype=np.bool_)
    in_nxt = np.zeros(S, dtype=np.bool_)
    trip_part = np.full(S, INF, dtype=np.int32)  # best time with >= 1 trip, last computed
    r0_stops, r0_off = _round0_offsets(access_stops, access_s, fp_ptr, fp_to, fp_s, S)
    keys = np.empty(n, dtype=np.int64)
    for i in range(n):
        keys[i] = deps[i]
    order = argsort_stable(keys)[::-1]
    t_last = np.int64(-1)
    for oi in range(n):
        i = order[oi]
        dep = deps[i]
        max_arrival = dep + max_duration
        if t_last < 0 or _new_boarding_between(stop_dep_ptr, stop_deps, r0_stops, r0_off, dep, t_last):
            best_v[:] = INF
            best_w[:] = INF
            best_ready[:] = INF
            n_upd = _round0(access_stops, access_s, dep, fp_ptr, fp_to, fp_s, tau_w, ready, best_w, best_ready,
                            marked, max_arrival, False, dummy, upd, in_upd)
            if t_last >= 0:
                # boarding from a round-0 stop with no new departure since t_last catches the
                # trips it caught then, whose consequences the carried labels hold already
                for q in range(r0_stops.shape[0]):
                    s = r0_stops[q]
                    if marked[s] and not _departs_between(stop_dep_ptr, stop_deps, s, dep + r0_off[q],
                                                          t_last + r0_off[q]):
                        marked[s] = False
            t_last = dep
            _rounds(pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
                    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
                    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
                    fp_ptr, fp_to, fp_s, change_s,
                    tau_v, tau_w, ready, best_v, best_w, best_ready, marked, max_arrival, R,
                    False, dummy, dummy, pat_first, pat_queue, round_marked, upd, n_upd, in_upd, nxt, in_nxt)
            for s in range(S):
                t = min(tau_v[max_rounds, s], tau_w[max_rounds, s])
                trip_part[s] = t
                if check_cap:
                    # one more trip reaches s earlier, within the limit, than the search
                    # returns (the walk of round 0 included: that is the current departure's)
                    t1 = min(tau_v[R, s], tau_w[R, s])
                    if t1 < t and t1 <= max_arrival and t1 < tau_w[0, s]:
                        capped[s] = True
        for s in range(S):
            t = trip_part[s]
            out[i, s] = t if t <= max_arrival else INF
        for q in range(r0_stops.shape[0]):
            s = r0_stops[q]
            t = dep + r0_off[q]
            if t <= max_arrival and t < out[i, s]:
                out[i, s] = t
    return out, capped


def range_raptor_many(
    pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
    fp_ptr, fp_to, fp_s, change_s, stop_dep_ptr, stop_deps,
    access_ptr, access_stops, access_s, deps, max_rounds, max_duration, check_cap,
):
    """:func:`range_raptor` for many origins in parallel threads.

    Origin ``o`` has the access legs ``access_stops[access_ptr[o]:access_ptr[o + 1]]``.
    Returns int32 (n_origins, len(deps), S) and, per origin, the stops one more trip would
    reach earlier (bool (n_origins, S), all False without ``check_cap``); each origin's block is computed by one thread
    alone, so the result does not depend on the number of threads. The threads are Python
    threads running the ``nogil`` kernel (:func:`~planner.kernels.options.parallel_rows`), not
    a ``prange`` loop: compiling that loop cost 15 s of every cold start.
    """
    n_orig = access_ptr.shape[0] - 1
    S = stop_patterns_ptr.shape[0] - 1
    out = np.empty((n_orig, deps.shape[0], S), dtype=np.int32)
    capped = np.zeros((n_orig, S), dtype=np.bool_)

    def one(o):
        a = access_ptr[o]
        b = access_ptr[o + 1]
        out[o], capped[o] = range_raptor(pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
                              pattern_trips_ptr, pattern_times_ptr, arrival, departure,
                              stop_patterns_ptr, stop_patterns, stop_pattern_pos,
                              fp_ptr, fp_to, fp_s, change_s, stop_dep_ptr, stop_deps,
                              access_stops[a:b], access_s[a:b], deps, max_rounds, max_duration, check_cap)

    parallel_rows(one, n_orig)
    return out, capped
