"""McRAPTOR over (arrival time, fare, trips) with the kernel tariff, arrays only.

Its semantics (the kernel tariff, ticketing groups and penalties, the bags) are documented
in :mod:`planner.kernels.fare_raptor`, which re-exports every public name of this module;
the movement rules are those of :mod:`planner.kernels.raptor`. This module holds the label
pool and its columns (``L_*``), the stop bags, the route bags (``R_*``) and the archive
(``A_*``), the tariff's ride part (:func:`ride_part`) and the kernels :func:`mc_raptor` and
:func:`mc_budget_arrival_many`. The pattern scan and round 0 are the shared steps of
:mod:`planner.kernels._raptor_steps`.
"""

from __future__ import annotations

import numba
import numpy as np

from planner.kernels._raptor_steps import (
    access_walk,
    access_walks,
    argsort_stable,
    earliest_trip,
    queue_patterns,
    take_pattern,
)
from planner.kernels.fare_bounds import NO_REPL, replace_bounds
from planner.kernels.options import jit, jit_parallel, jit_typed
from planner.kernels.raptor import INF

__all__ = [
    "FARE_NA",
    "NA",
    "NL",
    "NR",
    "UNLIMITED",
    "mc_budget_arrival_many",
    "mc_raptor",
    "ride_part",
]

#: a fare no tariff rule gives (the leg is unpriced); sums of it stay far below int64 limits
FARE_NA = 1_000_000_000
#: a transfer window without limit (seconds)
UNLIMITED = 1 << 40

# label pool columns
L_ARR = 0
L_FARE = 1
L_CLOSED = 2      # fare without the open ticket's zone price (== L_FARE when no ticket is open)
L_Q = 3           # fare system of the last ride (-1 none)
L_G = 4           # ticketing group held (n_gates: none)
L_ZO = 5          # origin zone of the open ticket (-1: no open ticket)
L_TEXP = 6        # last departure at which the open ticket may be continued
L_NLEFT = 7       # transfers left on the open ticket (-1 unlimited)
L_NEXT = 8        # next label of the same bag
L_VEH = 9         # 1 arrived by vehicle, 0 on foot
L_STOP = 10
L_ROUND = 11
L_ALIVE = 12
L_PARENT = 13     # label boarded from / walked from (-1: access)
L_P = 14          # pattern (vehicle) or access index (access labels)
L_TRIP = 15       # trip within the pattern
L_BPOS = 16       # boarding position
L_FP = 17         # footpath index (walk and access labels; -1 none)
L_BNEXT = 18      # next boarding candidate at the same stop (previous round's labels)
NL = 19

# route-bag columns
R_TRIP = 0
R_BPOS = 1
R_ZO = 2
R_TEXP = 3
R_NLEFT = 4
R_BASE = 5        # fare before the ride part (new ticket) or continued ride
R_EB = 6          # effective base for comparisons (includes a constant ride part)
R_NEW = 7
R_PARENT = 8
R_ALIVE = 9
NR = 10

# archive columns
A_ARR = 0
A_FARE = 1
A_TRIPS = 2
A_LABEL = 3
A_NEXT = 4
A_ALIVE = 5
A_STOP = 6
NA = 7

# the helpers below work on the kernel's own int64 tables and are compiled for one signature
# each (see :func:`~planner.kernels.options.jit_typed`): typed lazily, the literal 0 and -1
# of round 0 and the int32 stop ids made 2-10 copies of each, 25 s of a cold start
_I = numba.int64
_TABLE = numba.int64[:, ::1]
_HEADS = numba.int64[::1]
_B = numba.boolean


@jit_typed(_I, _I)
def _nleft_ge(a, b):
    """Transfers left ``a`` at least ``b`` (-1 = unlimited)."""
    if a < 0:
        return True
    if b < 0:
        return False
    return a >= b


@jit_typed(*[_I] * 18)
def _dominates(a_arr, a_fare, a_closed, a_q, a_g, a_zo, a_texp, a_nleft,
               b_arr, b_fare, b_closed, b_q, b_g, b_zo, b_texp, b_nleft, maxpen, b_repl):
    """Label a is at least as good as label b for every continuation (same stop and kind).

    ``b_repl``: the most a new ticket of b's system can cost more than continuing b's open
    ticket (:func:`~planner.kernels.fare_bounds.replace_bounds`; ``NO_REPL`` switches the rule off)."""
    if a_arr > b_arr or a_fare > b_fare:
        return False
    if a_g != b_g and b_g >= 0 and a_arr + maxpen > b_arr:
        # another group held: a may pay a penalty b does not (at most maxpen); b_g -1: b is
        # a label of the last round, which boards nothing
        return False
    if b_zo < 0:
        # b holds no open ticket: a can follow any continuation of b with new tickets
        return True
    if a_fare + b_repl <= b_closed:
        # b's open ticket saves b less than a saved already: where b continues it, a starts
        # a new one (a later start, a later expiry, all its transfers) and pays no more
        return True
    return (a_zo == b_zo and a_q == b_q and a_closed <= b_closed and a_texp >= b_texp
            and _nleft_ge(a_nleft, b_nleft))


@jit_typed(_TABLE, _I, _I)
def _grow(arr, n_min, limit):
    cap = arr.shape[0]
    new_cap = max(2 * cap, n_min)
    if limit > 0:
        new_cap = min(new_cap, limit)
    out = np.empty((new_cap, arr.shape[1]), dtype=np.int64)
    # element by element: a slice assignment compiles numba's general setitem (5 s cold)
    for i in range(cap):
        for j in range(arr.shape[1]):
            out[i, j] = arr[i, j]
    return out


@jit_typed(_TABLE, *[_I] * 11)
def _dominated(pool, e, arr, fare, closed, q, g, zo, texp, nleft, maxpen, repl):
    """Whether a label of the bag starting at ``e`` dominates the candidate (scan only);
    ``repl``: the candidate's :func:`~planner.kernels.fare_bounds.replace_bounds` entry (``NO_REPL`` without a ticket)."""
    while e >= 0:
        if (pool[e, L_ARR] <= arr and pool[e, L_FARE] <= fare
                and _dominates(pool[e, L_ARR], pool[e, L_FARE], pool[e, L_CLOSED], pool[e, L_Q], pool[e, L_G],
                               pool[e, L_ZO], pool[e, L_TEXP], pool[e, L_NLEFT],
                               arr, fare, closed, q, g, zo, texp, nleft, maxpen, repl)):
            return True
        e = pool[e, L_NEXT]
    return False


@jit_typed(_TABLE, _I, _HEADS, *[_I] * 18, _HEADS)
def _insert_stop(pool, n, head, s, arr, fare, closed, q, g, zo, texp, nleft, rnd, veh,
                 parent, p, trip, bpos, fp, maxpen, max_labels, repl):
    """Insert a label that :func:`_dominated` accepted into the bag ``head[s]``, dropping the
    labels it dominates (``repl``: :func:`~planner.kernels.fare_bounds.replace_bounds` by system). Returns (pool, n, id);
    id -2 when the pool is full (``max_labels``)."""
    prev = -1
    e = head[s]
    while e >= 0:
        nxt = pool[e, L_NEXT]
        eq = pool[e, L_Q]
        if _dominates(arr, fare, closed, q, g, zo, texp, nleft,
                      pool[e, L_ARR], pool[e, L_FARE], pool[e, L_CLOSED], eq, pool[e, L_G],
                      pool[e, L_ZO], pool[e, L_TEXP], pool[e, L_NLEFT], maxpen,
                      repl[eq] if eq >= 0 else NO_REPL):
            pool[e, L_ALIVE] = 0
            if prev < 0:
                head[s] = nxt
            else:
                pool[prev, L_NEXT] = nxt
        else:
            prev = e
        e = nxt
    if n >= max_labels:
        return pool, n, -2
    if n >= pool.shape[0]:
        pool = _grow(pool, n + 1, max_labels)
    pool[n, L_ARR] = arr
    pool[n, L_FARE] = fare
    pool[n, L_CLOSED] = closed
    pool[n, L_Q] = q
    pool[n, L_G] = g
    pool[n, L_ZO] = zo
    pool[n, L_TEXP] = texp
    pool[n, L_NLEFT] = nleft
    pool[n, L_ROUND] = rnd
    pool[n, L_VEH] = veh
    pool[n, L_STOP] = s
    pool[n, L_NEXT] = head[s]
    pool[n, L_ALIVE] = 1
    pool[n, L_PARENT] = parent
    pool[n, L_P] = p
    pool[n, L_TRIP] = trip
    pool[n, L_BPOS] = bpos
    pool[n, L_FP] = fp
    pool[n, L_BNEXT] = -1
    head[s] = n
    return pool, n + 1, n


@jit_typed(_TABLE, _I, _HEADS, *[_I] * 5)
def _insert_archive(arch, na, head_a, s, arr, fare, trips, label):
    """Keep the Pareto set over (arrival, fare, trips) of stop ``s``. Returns (arch, na)."""
    prev = -1
    e = head_a[s]
    while e >= 0:
        nxt = arch[e, A_NEXT]
        if arch[e, A_ARR] <= arr and arch[e, A_FARE] <= fare and arch[e, A_TRIPS] <= trips:
            return arch, na
        if arr <= arch[e, A_ARR] and fare <= arch[e, A_FARE] and trips <= arch[e, A_TRIPS]:
            arch[e, A_ALIVE] = 0
            if prev < 0:
                head_a[s] = nxt
            else:
                arch[prev, A_NEXT] = nxt
        else:
            prev = e
        e = nxt
    if na >= arch.shape[0]:
        arch = _grow(arch, na + 1, 0)
    arch[na, A_ARR] = arr
    arch[na, A_FARE] = fare
    arch[na, A_TRIPS] = trips
    arch[na, A_LABEL] = label
    arch[na, A_NEXT] = head_a[s]
    arch[na, A_ALIVE] = 1
    arch[na, A_STOP] = s
    head_a[s] = na
    return arch, na + 1


@jit_typed(_TABLE, *[_I] * 8, _B)
def _route_dominates(rb, x, trip, bpos, zo, texp, nleft, eb, new, const):
    """Route label ``x`` is at least as good as the candidate on every later stop."""
    if rb[x, R_TRIP] > trip or rb[x, R_ZO] != zo:
        return False
    if not const and (rb[x, R_BPOS] != bpos or rb[x, R_NEW] != new):
        return False
    return rb[x, R_EB] <= eb and rb[x, R_TEXP] >= texp and _nleft_ge(rb[x, R_NLEFT], nleft)


@jit_typed(_TABLE, *[_I] * 8, _B)
def _route_dominated(rb, nrb, trip, bpos, zo, texp, nleft, eb, new, const):
    for x in range(nrb):
        if rb[x, R_ALIVE] == 1 and _route_dominates(rb, x, trip, bpos, zo, texp, nleft, eb, new, const):
            return True
    return False


@jit_typed(_TABLE, *[_I] * 10, _B)
def _insert_route(rb, nrb, trip, bpos, zo, texp, nleft, base, eb, new, parent, const):
    """Add a boarding to the route bag unless dominated; drop those it dominates."""
    for x in range(nrb):
        if rb[x, R_ALIVE] == 0:
            continue
        if _route_dominates(rb, x, trip, bpos, zo, texp, nleft, eb, new, const):
            return rb, nrb
    for x in range(nrb):
        if rb[x, R_ALIVE] == 0:
            continue
        if (trip <= rb[x, R_TRIP] and zo == rb[x, R_ZO]
                and (const or (bpos == rb[x, R_BPOS] and new == rb[x, R_NEW]))
                and eb <= rb[x, R_EB] and texp >= rb[x, R_TEXP] and _nleft_ge(nleft, rb[x, R_NLEFT])):
            rb[x, R_ALIVE] = 0
    if nrb >= rb.shape[0]:
        rb = _grow(rb, nrb + 1, 0)
    rb[nrb, R_TRIP] = trip
    rb[nrb, R_BPOS] = bpos
    rb[nrb, R_ZO] = zo
    rb[nrb, R_TEXP] = texp
    rb[nrb, R_NLEFT] = nleft
    rb[nrb, R_BASE] = base
    rb[nrb, R_EB] = eb
    rb[nrb, R_NEW] = new
    rb[nrb, R_PARENT] = parent
    rb[nrb, R_ALIVE] = 1
    return rb, nrb + 1


@jit
def _departs_in(sys_dep_ptr, sys_deps, q, lo, hi):
    """True when system ``q`` has a boardable departure in (lo, hi]."""
    a = sys_dep_ptr[q]
    b = sys_dep_ptr[q + 1]
    end = b
    while a < b:  # first departure > lo
        mid = (a + b) // 2
        if sys_deps[mid] > lo:
            b = mid
        else:
            a = mid + 1
    return a < end and sys_deps[a] <= hi


@jit
def _last_at_most(values, lo, hi, x):
    """Index of the last of the sorted ``values[lo:hi]`` at most ``x``; -1 if none."""
    a = lo
    b = hi
    while a < b:
        mid = (a + b) // 2
        if values[mid] <= x:
            a = mid + 1
        else:
            b = mid
    return a - 1 if a > lo else -1


@jit
def ride_part(p, ib, ia, pattern_stops_ptr, pattern_stops, stop_zone, pattern_ride_table, ride_od,
              pattern_rate, pattern_min, pattern_round, pattern_cum_m):
    """Price of riding pattern ``p`` from position ``ib`` to ``ia`` as the first ride of a
    ticket (zone table part + distance part), in minor units."""
    s0 = pattern_stops_ptr[p]
    zb = stop_zone[pattern_stops[s0 + ib]]
    za = stop_zone[pattern_stops[s0 + ia]]
    price = ride_od[pattern_ride_table[p], zb, za]
    rate = pattern_rate[p]
    mn = pattern_min[p]
    if rate > 0.0 or mn > 0:
        x = rate * (pattern_cum_m[s0 + ia] - pattern_cum_m[s0 + ib]) / 1000.0
        step = pattern_round[p]
        d = np.int64(np.floor(x / step + 0.5)) * step
        price += max(mn, d)
    return price


@jit
def mc_raptor(
    pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
    fp_ptr, fp_to, fp_s, change_s,
    pattern_gate, pattern_penalty_s, n_gates, first_penalty,
    pattern_system, stop_zone, ticket_od, pattern_ride_table, ride_od,
    pattern_rate, pattern_min, pattern_round, pattern_cum_m, pattern_const_rp,
    sys_window, sys_max_transfers, sys_fee, sys_discount, sys_dep_ptr, sys_deps,
    stop_dep_ptr, stop_deps, flexible_start,
    access_stops, access_s, dep, max_rounds, max_duration, max_labels, fare_horizon, prune,
):
    """McRAPTOR over (arrival, fare, trips) with the kernel tariff of the module docstring.

    ``fare_horizon`` (seconds after ``dep``): windowed tickets end at ``dep + fare_horizon``
    at the latest (no ticket is continued on a later vehicle: a new one is bought), which
    bounds the ticket states; ``>= max_duration`` is the exact search. ``prune`` applies
    the exact rules of :mod:`planner.kernels.fare_raptor` ("Pruning": ticket replacement,
    the last round without ticket state, walking labels' tickets checked against the
    departures at their stop, ``stop_dep_ptr``/``stop_deps``); ``False`` is the search
    without them, for tests.

    ``pattern_const_rp[p]`` is the ride part of pattern ``p`` when it does not depend on the
    boarding and alighting positions, -1 otherwise (it lets route-bag labels that boarded at
    different stops be compared). ``sys_dep_ptr``/``sys_deps`` (CSR by system, sorted) list
    every boardable departure of each system: a ticket started on a later vehicle is kept
    only when its longer window reaches one more of them.

    Returns
    -------
    arch : int64 (n, NA)
        Archive rows; those with ``arch[:, A_ALIVE] == 1`` are, per stop ``arch[:, A_STOP]``,
        the Pareto set over (arrival ``A_ARR``, fare ``A_FARE``, trips ``A_TRIPS``), each
        with the label ``A_LABEL`` that reached it.
    pool : int64 (m, NL)
        Every label created (columns ``L_*``), for journey reconstruction.
    overflow : bool
        True when the pool reached ``max_labels`` and the search stopped early.
    """
    S = stop_patterns_ptr.shape[0] - 1
    P = pattern_trips_ptr.shape[0] - 1
    C = sys_fee.shape[0]
    NONE = n_gates
    max_arrival = dep + max_duration
    # windowed tickets expire by tcap (unlimited ones by max_arrival, as without a horizon)
    tcap = min(max_arrival, dep + max(0, fare_horizon))
    maxpen = 0
    for p in range(P):
        maxpen = max(maxpen, pattern_penalty_s[p])
    if prune:
        repl = replace_bounds(pattern_stops_ptr, pattern_system, ticket_od, pattern_ride_table, ride_od,
                              pattern_rate, pattern_min, pattern_round, pattern_cum_m, sys_fee, sys_discount)
    else:
        repl = np.full(sys_fee.shape[0], NO_REPL, dtype=np.int64)
    cap0 = max(1, min(max_labels, max(1024, 8 * S)))
    pool = np.empty((cap0, NL), dtype=np.int64)
    n = 0
    arch = np.empty((max(256, 2 * S), NA), dtype=np.int64)
    na = 0
    head_v = np.full(S, -1, dtype=np.int64)
    head_w = np.full(S, -1, dtype=np.int64)
    head_a = np.full(S, -1, dtype=np.int64)
    bhead = np.full(S, -1, dtype=np.int64)
    rb = np.empty((64, NR), dtype=np.int64)
    pat_first = np.full(P, -1, dtype=np.int32)
    pat_queue = np.empty(P, dtype=np.int32)
    overflow = False
    # round 0: access legs, then one footpath (walking labels, no ticket)
    for j in range(access_stops.shape[0]):
        lo, hi = access_walks(j, access_stops, fp_ptr)
        for f in range(lo, hi):
            s2, w, ff = access_walk(j, f, access_stops, access_s, dep, fp_ptr, fp_to, fp_s)
            if w > max_arrival or _dominated(pool, head_w[s2], w, 0, 0, -1, NONE, -1, -1, 0, maxpen, NO_REPL):
                continue
            pool, n, lid = _insert_stop(pool, n, head_w, s2, w, 0, 0, -1, NONE, -1, -1, 0, 0, 0,
                                        -1, j, -1, -1, ff, maxpen, max_labels, repl)
            if lid == -2:
                return arch[:na], pool[:n], True
            arch, na = _insert_archive(arch, na, head_a, s2, w, 0, 0, lid)
    lo = 0
    hi = n
    for k in range(1, max_rounds + 1):
        # boarding candidates: labels of round k-1 still alive, listed per stop
        nq = 0
        for lid in range(lo, hi):
            if pool[lid, L_ALIVE] == 0:
                continue
            s = pool[lid, L_STOP]
            if bhead[s] < 0:
                nq = queue_patterns(s, stop_patterns_ptr, stop_patterns, stop_pattern_pos, pat_first, pat_queue, nq)
            pool[lid, L_BNEXT] = bhead[s]
            bhead[s] = lid
        if nq == 0:
            break
        lo_k = n
        last_round = prune and k == max_rounds
        for qi in range(nq):
            p, start, s0, L, nt, tptr = take_pattern(qi, pat_queue, pat_first, pattern_stops_ptr,
                                                     pattern_trips_ptr, pattern_times_ptr)
            q = pattern_system[p]
            gp = pattern_gate[p]
            pen = pattern_penalty_s[p]
            crp = pattern_const_rp[p]
            const = crp >= 0
            disc = sys_discount[q]
            fee = sys_fee[q]
            window = sys_window[q]
            maxtr = sys_max_transfers[q]
            nrb = 0
            for i in range(start, L):
                s = pattern_stops[s0 + i]
                if nrb > 0 and pattern_alight[s0 + i]:
                    zs = stop_zone[s]
                    for x in range(nrb):
                        if rb[x, R_ALIVE] == 0:
                            continue
                        trip = rb[x, R_TRIP]
                        a = arrival[tptr + trip * L + i]
                        if a > max_arrival:
                            continue
                        b = rb[x, R_BPOS]
                        if const:
                            rp = crp
                        else:
                            rp = ride_part(p, b, i, pattern_stops_ptr, pattern_stops, stop_zone,
                                           pattern_ride_table, ride_od, pattern_rate, pattern_min,
                                           pattern_round, pattern_cum_m)
                        if rb[x, R_NEW] == 1:
                            closed = rb[x, R_BASE] + rp
                        else:
                            closed = rb[x, R_BASE] + max(0, rp - disc)
                        zo = rb[x, R_ZO]
                        fare = closed + ticket_od[q, zo, zs]
                        texp = rb[x, R_TEXP]
                        nleft = rb[x, R_NLEFT]
                        lq = q
                        lg = gp
                        if nleft == 0 or last_round:
                            # in the last round nothing boards again: only (arrival, fare) count
                            closed = fare
                            zo = -1
                            texp = -1
                            nleft = 0
                            if last_round:
                                lq = -1
                                lg = -1  # ends here: no group (see _dominates)
                        if _dominated(pool, head_v[s], a, fare, closed, lq, lg, zo, texp, nleft, maxpen,
                                      repl[lq] if zo >= 0 else NO_REPL):
                            continue
                        pool, n, lid = _insert_stop(pool, n, head_v, s, a, fare, closed, lq, lg, zo, texp,
                                                    nleft, k, 1, rb[x, R_PARENT], p, trip, b, -1,
                                                    maxpen, max_labels, repl)
                        if lid == -2:
                            return arch[:na], pool[:n], True
                        arch, na = _insert_archive(arch, na, head_a, s, a, fare, k, lid)
                if pattern_board[s0 + i]:
                    e = bhead[s]
                    while e >= 0:
                        r = pool[e, L_ARR]
                        if pool[e, L_VEH] == 1:
                            r += change_s[s]
                        g = pool[e, L_G]
                        if g != gp and (g != NONE or first_penalty):
                            r += pen
                        if r <= max_arrival:
                            t = earliest_trip(departure, tptr, nt, L, i, r)
                            if t < nt:
                                d = departure[tptr + t * L + i]
                                if (pool[e, L_Q] == q and pool[e, L_ZO] >= 0 and d <= pool[e, L_TEXP]
                                        and pool[e, L_NLEFT] != 0):
                                    nl = pool[e, L_NLEFT]
                                    nl2 = nl - 1 if nl > 0 else -1
                                    ctexp = pool[e, L_TEXP]
                                    if last_round:  # the ticket ends with this ride: its state is moot
                                        ctexp = 0
                                        nl2 = 0
                                    base = pool[e, L_CLOSED] + fee
                                    eb = base + max(0, crp - disc) if const else base
                                    if not _route_dominated(rb, nrb, t, i, pool[e, L_ZO], ctexp, nl2, eb, 0, const):
                                        rb, nrb = _insert_route(rb, nrb, t, i, pool[e, L_ZO], ctexp,
                                                                nl2, base, eb, 0, e, const)
                                base = pool[e, L_FARE]
                                eb = base + crp if const else base
                                if last_round or window < 0 or maxtr == 0 or window >= UNLIMITED or not flexible_start:
                                    # in the last round the first vehicle is best: no window can count
                                    if last_round:
                                        texp = 0
                                        nl = 0
                                    elif window < 0 or maxtr == 0:
                                        texp = -1
                                        nl = 0
                                    else:
                                        texp = min(d + window, max_arrival if window >= UNLIMITED else tcap)
                                        nl = maxtr
                                    if not _route_dominated(rb, nrb, t, i, stop_zone[s], texp, nl, eb, 1, const):
                                        rb, nrb = _insert_route(rb, nrb, t, i, stop_zone[s], texp, nl, base, eb, 1,
                                                                e, const)
                                else:
                                    # a later first vehicle starts the ticket later: keep each one
                                    # whose window reaches a further departure of the system
                                    # (windows are cut at max_arrival, no departure after it is
                                    # useful, or at the fare horizon tcap)
                                    last = -1
                                    for t2 in range(t, nt):
                                        d2 = departure[tptr + t2 * L + i]
                                        if d2 > max_arrival or last >= tcap:
                                            break
                                        end = min(d2 + window, tcap)
                                        if last >= 0 and not _departs_in(sys_dep_ptr, sys_deps, q, last, end):
                                            continue
                                        last = end
                                        if not _route_dominated(rb, nrb, t2, i, stop_zone[s], last, maxtr, eb, 1,
                                                                const):
                                            rb, nrb = _insert_route(rb, nrb, t2, i, stop_zone[s], last, maxtr, base,
                                                                    eb, 1, e, const)
                        e = pool[e, L_BNEXT]
        # clear the boarding lists
        for lid in range(lo, hi):
            bhead[pool[lid, L_STOP]] = -1
        # one footpath after each vehicle label of this round still alive
        hi_v = n
        # earliest first: fewer walking labels made only to be dominated by a later one
        keys = np.empty(hi_v - lo_k, dtype=np.int64)
        for i in range(hi_v - lo_k):
            keys[i] = pool[lo_k + i, L_ARR]
        order = argsort_stable(keys)
        for oi in range(order.shape[0]):
            lid = lo_k + order[oi]
            if pool[lid, L_ALIVE] == 0 or pool[lid, L_VEH] == 0:
                continue
            s = pool[lid, L_STOP]
            a = pool[lid, L_ARR]
            for f in range(fp_ptr[s], fp_ptr[s + 1]):
                s2 = fp_to[f]
                w = a + fp_s[f]
                if w > max_arrival:
                    continue
                fare = pool[lid, L_FARE]
                closed = pool[lid, L_CLOSED]
                zo = pool[lid, L_ZO]
                texp = pool[lid, L_TEXP]
                nleft = pool[lid, L_NLEFT]
                lq = pool[lid, L_Q]
                if zo >= 0 and prune and texp >= w:
                    # a walking label boards only here: its ticket matters only through the
                    # departures of its system here from w to the expiry
                    j = _last_at_most(stop_deps, stop_dep_ptr[s2 * C + lq], stop_dep_ptr[s2 * C + lq + 1], texp)
                    if j < 0 or stop_deps[j] < w:
                        texp = -1   # spent: nothing of its system leaves here in time
                    elif k == max_rounds - 1:
                        # it boards in the last round, where the expiry counts only there
                        texp = stop_deps[j]
                if zo >= 0 and texp < w:
                    closed = fare
                    zo = -1
                    texp = -1
                    nleft = 0
                rq = repl[lq] if zo >= 0 else NO_REPL
                if _dominated(pool, head_w[s2], w, fare, closed, lq, pool[lid, L_G], zo, texp, nleft,
                              maxpen, rq):
                    continue
                # a vehicle label there that can board from (arrival + change) no later is as good
                if _dominated(pool, head_v[s2], w - change_s[s2], fare, closed, lq, pool[lid, L_G], zo,
                              texp, nleft, maxpen, rq):
                    continue
                pool, n, wid = _insert_stop(pool, n, head_w, s2, w, fare, closed, lq,
                                            pool[lid, L_G], zo, texp, nleft, k, 0, lid, -1, -1, -1, f,
                                            maxpen, max_labels, repl)
                if wid == -2:
                    return arch[:na], pool[:n], True
                arch, na = _insert_archive(arch, na, head_a, s2, w, fare, k, wid)
        lo = lo_k
        hi = n
    return arch[:na], pool[:n], overflow


@jit
def _budget_rows(arch, S, budgets):
    """Earliest arrival per budget and stop from an archive: int32 (len(budgets), S)."""
    out = np.full((budgets.shape[0], S), INF, dtype=np.int32)
    for e in range(arch.shape[0]):
        if arch[e, A_ALIVE] == 0:
            continue
        s = arch[e, A_STOP]
        a = arch[e, A_ARR]
        f = arch[e, A_FARE]
        for b in range(budgets.shape[0]):
            if f <= budgets[b] and a < out[b, s]:
                out[b, s] = a
    return out


@jit_parallel
def mc_budget_arrival_many(
    pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
    fp_ptr, fp_to, fp_s, change_s,
    pattern_gate, pattern_penalty_s, n_gates, first_penalty,
    pattern_system, stop_zone, ticket_od, pattern_ride_table, ride_od,
    pattern_rate, pattern_min, pattern_round, pattern_cum_m, pattern_const_rp,
    sys_window, sys_max_transfers, sys_fee, sys_discount, sys_dep_ptr, sys_deps,
    stop_dep_ptr, stop_deps, flexible_start,
    access_ptr, access_stops, access_s, deps, max_rounds, max_duration, max_labels, budgets,
    fare_horizon, prune,
):
    """:func:`mc_raptor` for many origins in parallel threads, reduced to budgets.

    Returns int32 (n_origins, len(budgets), S): the earliest arrival at each stop among
    journeys whose fare is at most each budget (minor units), and bool (n_origins,): the
    origins whose search overflowed ``max_labels``.
    """
    n_o = access_ptr.shape[0] - 1
    S = stop_patterns_ptr.shape[0] - 1
    out = np.empty((n_o, budgets.shape[0], S), dtype=np.int32)
    over = np.zeros(n_o, dtype=np.bool_)
    for o in numba.prange(n_o):
        a = access_ptr[o]
        b = access_ptr[o + 1]
        arch, _pool, ov = mc_raptor(
            pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
            pattern_trips_ptr, pattern_times_ptr, arrival, departure,
            stop_patterns_ptr, stop_patterns, stop_pattern_pos,
            fp_ptr, fp_to, fp_s, change_s,
            pattern_gate, pattern_penalty_s, n_gates, first_penalty,
            pattern_system, stop_zone, ticket_od, pattern_ride_table, ride_od,
            pattern_rate, pattern_min, pattern_round, pattern_cum_m, pattern_const_rp,
            sys_window, sys_max_transfers, sys_fee, sys_discount, sys_dep_ptr, sys_deps,
            stop_dep_ptr, stop_deps, flexible_start,
            access_stops[a:b], access_s[a:b], deps[o], max_rounds, max_duration, max_labels, fare_horizon, prune)
        out[o] = _budget_rows(arch, S, budgets)
        over[o] = ov
    return out, over
