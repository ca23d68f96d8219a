"""Bounds the McRAPTOR's exact pruning uses, arrays only (:mod:`planner.kernels.mcraptor`).

:func:`replace_bounds` bounds, per fare system, what an open ticket can still save its
holder: a label whose fare, plus that bound, is at most another label's fare without its open
ticket dominates it whatever the tickets' expiries (the ticket-replacement rule of
:mod:`planner.kernels.fare_raptor`, "Pruning").
"""

from __future__ import annotations

import numpy as np

from planner.kernels.options import jit

__all__ = ["NO_REPL", "replace_bounds"]

#: "no bound" (the ticket-replacement rule never applies)
NO_REPL = 1 << 60


@jit
def replace_bounds(pattern_stops_ptr, pattern_system, ticket_od, pattern_ride_table, ride_od,
                   pattern_rate, pattern_min, pattern_round, pattern_cum_m, sys_fee, sys_discount):
    """Per system ``q``: an upper bound on how much more a journey pays when, where it would
    continue an open ticket of ``q``, it starts a new one instead (int64 (n_systems,)).

    A continued ride costs ``fee + max(0, rp - discount)``, a new ticket's first ride ``rp``,
    and the ticket's zone price ``ticket_od[q, zo, z]`` then depends on the new origin zone:
    the difference is at most ``max(0, min(rp_max, discount) - fee)`` plus the spread of
    ``ticket_od[q]``. After that ride the new ticket is at least as good (it starts later,
    so it expires later, and has all its transfers), and every later continued ride costs
    both the same. ``NO_REPL`` where no bound is known (a negative rounding step or rate).
    """
    C = sys_fee.shape[0]
    P = pattern_system.shape[0]
    T = ride_od.shape[0]
    big = NO_REPL
    table_max = np.full(T, -big, dtype=np.int64)
    for t in range(T):
        for i in range(ride_od.shape[1]):
            for j in range(ride_od.shape[2]):
                table_max[t] = max(table_max[t], ride_od[t, i, j])
    rp_max = np.full(C, -big, dtype=np.int64)
    bad = np.zeros(C, dtype=np.bool_)
    for p in range(P):
        q = pattern_system[p]
        if q < 0:
            continue
        ub = table_max[pattern_ride_table[p]]
        rate = pattern_rate[p]
        mn = pattern_min[p]
        if rate > 0.0 or mn > 0:
            step = pattern_round[p]
            if rate < 0.0 or step <= 0:
                bad[q] = True
                continue
            lo = pattern_cum_m[pattern_stops_ptr[p]]
            hi = lo
            for i in range(pattern_stops_ptr[p], pattern_stops_ptr[p + 1]):
                lo = min(lo, pattern_cum_m[i])
                hi = max(hi, pattern_cum_m[i])
            x = rate * (hi - lo) / 1000.0
            ub += max(mn, np.int64(np.ceil(x / step + 0.5)) * step)
        rp_max[q] = max(rp_max[q], ub)
    out = np.empty(C, dtype=np.int64)
    for q in range(C):
        od_max = ticket_od[q, 0, 0]
        od_min = ticket_od[q, 0, 0]
        for i in range(ticket_od.shape[1]):
            for j in range(ticket_od.shape[2]):
                od_max = max(od_max, ticket_od[q, i, j])
                od_min = min(od_min, ticket_od[q, i, j])
        first = min(rp_max[q], sys_discount[q]) - sys_fee[q]
        r = max(0, first) + (od_max - od_min)
        out[q] = big if bad[q] or r >= big else r
    return out
