"""Fare-aware RAPTOR kernels, arrays only: a penalised time-optimal RAPTOR and a McRAPTOR
over (arrival time, fare, trips).

Both share the semantics of :mod:`planner.kernels.raptor` (access legs plus one footpath in
round 0; after alighting, board again at the same stop from ``arrival + change_s[stop]`` or
walk one footpath and board there; footpaths are not chained; arrivals later than
``dep + max_duration`` are pruned; ``pattern_board``/``pattern_alight`` gate boarding and
alighting). With every penalty zero they return exactly what :func:`raptor.raptor` returns.

Where the code lives: the penalised RAPTOR (:func:`penalised_raptor`,
:func:`penalised_best_many`) is here; the McRAPTOR (:func:`mc_raptor`,
:func:`mc_budget_arrival_many`, the label pool columns ``L_*``, route-bag ``R_*`` and archive
``A_*`` columns, ``FARE_NA``, ``UNLIMITED``, :func:`ride_part`) is in
:mod:`planner.kernels.mcraptor` and re-exported here, so either module serves. The pattern
scan and round 0 are the steps shared with :mod:`planner.kernels.raptor`
(:mod:`planner.kernels._raptor_steps`).

Ticketing groups and penalties
------------------------------
Every pattern belongs to a *ticketing group* ``pattern_gate[p]`` (by default its fare
system: one per operator or feed; a unified card puts several operators in one group). A
traveller *holds a valid ticket* for the group of the last vehicle ridden, and for no group
before the first boarding. Boarding a pattern whose group differs from the one held costs
``pattern_penalty_s[p]`` seconds before the departure (ticket purchase, security/ID check,
gate); boarding another vehicle of the same group costs nothing, however long ago the ticket
was bought (validity windows matter for the fare, not for the penalty). The first boarding
pays the penalty when ``first_penalty`` is true. So the exact state of a traveller is
``(stop, group held, time)``: :func:`penalised_raptor` keeps one label per round, stop and
group (``n_gates + 1`` groups, the last one meaning "none yet": the round-0 labels). A
traveller who rides A, then B, then A again pays A's penalty twice.

Kernel tariff (McRAPTOR)
------------------------
Fares are integers in minor currency units (cents). Every pattern belongs to a fare system
``q = pattern_system[p]`` (``C`` systems) and every stop has a fare zone ``stop_zone[s]``
(``Z`` zones, shared by all systems; systems without zones put every stop in zone 0).

* A **ticket** of system ``q`` covers a run of consecutive rides in ``q``; riding another
  system ends it. It starts at a boarding in zone ``zo``; while it is open its price is
  ``ticket_od[q, zo, z]`` where ``z`` is the zone of the last alighting (origin/destination
  zone fares; flat fares are constant tables).
* The **first ride** of a ticket, from position ``i`` to ``j`` of pattern ``p``, also costs
  its *ride part*: ``ride_od[pattern_ride_table[p], zone(i), zone(j)]`` (per-route or
  per-network leg prices) plus, when the pattern has a per-km rate or a minimum fare,
  ``max(pattern_min[p], round(pattern_rate[p] * km))`` rounded half up to a multiple of
  ``pattern_round[p]``, with ``km`` from ``pattern_cum_m`` (metres along the pattern).
* A **transfer** (boarding system ``q`` again while holding an open ticket of ``q``) may
  continue the ticket when the new departure is at most ``sys_window[q]`` seconds after the
  ticket's first departure (``UNLIMITED``: no limit) and fewer than
  ``sys_max_transfers[q]`` transfers were made (``-1``: unlimited; a window of ``-1`` or a
  maximum of 0 means no transfers). A continued ride costs
  ``sys_fee[q] + max(0, ride part - sys_discount[q])``. Starting a new ticket is always
  allowed too; the search keeps both choices, so the fare of a journey is that of its
  cheapest valid ticket combination.
* **Waiting for a later vehicle.** A traveller may always wait. For time alone the first
  catchable vehicle of a pattern is best (FIFO), but a window measured from a ticket's
  first departure makes a later first vehicle start the ticket later and reach further.
  With ``flexible_start`` (exact), when a new ticket with a finite window is started the
  search also boards every later vehicle of the pattern whose window (cut at
  ``dep + max_duration``) ends after one more departure of the system; this is exact and
  can cost an order of magnitude on dense networks. Without it, a ticket starts on the
  first vehicle the traveller can catch: every option found is a real journey priced
  exactly, but journeys that wait for a later vehicle to stretch a ticket's window (and
  options built on them) may be missing. Continued tickets and tickets without a window
  (none, or unlimited) need only the first vehicle: both settings then agree.

A label's fare is what the journey costs if it ends there. A label also carries its ticket
state (system, open ticket's origin zone, expiry of its transfer privilege, transfers left)
and the group held; labels are compared only when the dominating one is at least as good in
every part of that state, which keeps the Pareto sets exact for this tariff.

McRAPTOR bags
-------------
Labels live in one append-only pool (an ``int64`` array of ``NL`` columns, grown by
doubling up to ``max_labels`` rows; past that the search stops and reports an overflow).
Each stop has two bags (vehicle and walking labels, as RAPTOR's two labels) kept as linked
lists through the pool; a dominated label is unlinked but stays in the pool (its parents are
needed to rebuild journeys). A new label is compared with every label of its bag from any
earlier round (local pruning: fewer trips is never worse); a walking label is also dropped
when a vehicle label at its stop, changing there, can board no later in a state as good. A
ticket's window end is cut at ``dep + max_duration`` (no later departure is useful), so
windows longer than the search horizon never split labels; shorter ones make the window's
end a criterion, and the bags grow with the horizon. The value-level result per stop is the
Pareto set over (arrival, fare, trips) of every label accepted, kept in an archive.

Pruning
-------
Three rules (``prune``, on in the wrappers) drop labels without changing any Pareto set;
each is argued here and tested against the search without them (``tests/test_fares_pruning.py``)
and the brute-force enumerations:

* **Ticket replacement.** Where a label ``b`` would continue its open ticket of system ``q``,
  another label ``a`` at the same stop can start a new ticket on the same vehicle. That
  costs ``a`` at most ``repl[q]`` more than continuing costs ``b``
  (:func:`~planner.kernels.fare_bounds.replace_bounds`: the first ride's full ride part
  against the fee and discounted part, plus the spread of ``ticket_od[q]``), and leaves ``a``
  a ticket at least as good (started later, so it expires later; all transfers left); every
  later continued ride then costs both the same. So ``a`` dominates ``b`` whatever their
  expiries when ``a`` is no later (the group rule as above), ``fare_a <= fare_b`` and
  ``fare_a + repl[q] <= closed_b``: ``a`` already saved more than ``b``'s ticket can save.
* **The last round.** A label of round ``max_rounds`` boards nothing again (it may walk one
  footpath and end): its ticket state and group are dropped (``closed = fare``, no open
  ticket, group -1, which the group rule ignores), so it is compared on (arrival, fare)
  only.
* **A walking label boards only at its stop.** Its open ticket matters only through the
  departures of the ticket's system there (``stop_dep_ptr``/``stop_deps``) between its
  arrival and the ticket's expiry: with none, the ticket is spent and closed; in round
  ``max_rounds - 1`` (the next boarding is the last) the expiry is rounded down to the last
  such departure, which allows the same continuations. In earlier rounds the expiry is kept
  whole: a continued ticket carries it to later stops.

The **fare horizon** (``fare_horizon``, seconds after ``dep``) is not exact: windowed
tickets end at ``dep + fare_horizon`` at the latest, so a transfer on a later vehicle starts a
new ticket. Every option found is then a real journey and its fare one that can be paid for
it (never too low), but an option that continues a ticket past the horizon costs more than
it should, or is missing. It bounds the expiries the bags keep apart to those before the
horizon; with ``fare_horizon`` equal to the windows, every ticket expires at the same time
and the search costs what it costs at a horizon no longer than the windows.
"""

from __future__ import annotations

import numba
import numpy as np

from planner.kernels._raptor_steps import (
    access_walk,
    access_walks,
    board_earlier,
    queue_patterns,
    take_pattern,
)
from planner.kernels.mcraptor import (
    A_ALIVE,
    A_ARR,
    A_FARE,
    A_LABEL,
    A_NEXT,
    A_STOP,
    A_TRIPS,
    FARE_NA,
    L_ALIVE,
    L_ARR,
    L_BNEXT,
    L_BPOS,
    L_CLOSED,
    L_FARE,
    L_FP,
    L_G,
    L_NEXT,
    L_NLEFT,
    L_P,
    L_PARENT,
    L_Q,
    L_ROUND,
    L_STOP,
    L_TEXP,
    L_TRIP,
    L_VEH,
    L_ZO,
    NA,
    NL,
    NR,
    R_ALIVE,
    R_BASE,
    R_BPOS,
    R_EB,
    R_NEW,
    R_NLEFT,
    R_PARENT,
    R_TEXP,
    R_TRIP,
    R_ZO,
    UNLIMITED,
    mc_budget_arrival_many,
    mc_raptor,
    ride_part,
)
from planner.kernels.options import jit, jit_parallel
from planner.kernels.raptor import INF, PARENT_ACCESS, PARENT_WALK

__all__ = [
    "A_ALIVE",
    "A_ARR",
    "A_FARE",
    "A_LABEL",
    "A_NEXT",
    "A_STOP",
    "A_TRIPS",
    "FARE_NA",
    "INF",
    "L_ALIVE",
    "L_ARR",
    "L_BNEXT",
    "L_BPOS",
    "L_CLOSED",
    "L_FARE",
    "L_FP",
    "L_G",
    "L_NEXT",
    "L_NLEFT",
    "L_P",
    "L_PARENT",
    "L_Q",
    "L_ROUND",
    "L_STOP",
    "L_TEXP",
    "L_TRIP",
    "L_VEH",
    "L_ZO",
    "NA",
    "NL",
    "NR",
    "R_ALIVE",
    "R_BASE",
    "R_BPOS",
    "R_EB",
    "R_NEW",
    "R_NLEFT",
    "R_PARENT",
    "R_TEXP",
    "R_TRIP",
    "R_ZO",
    "UNLIMITED",
    "mc_budget_arrival_many",
    "mc_raptor",
    "penalised_best_many",
    "penalised_raptor",
    "ride_part",
]

# --------------------------------------------------------------------------------------
# penalised time-optimal RAPTOR
# --------------------------------------------------------------------------------------


@jit
def penalised_raptor(
    pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
    fp_ptr, fp_to, fp_s, change_s,
    pattern_gate, pattern_penalty_s, n_gates, first_penalty,
    access_stops, access_s, dep, max_rounds, max_duration, record,
):
    """Earliest arrival per round, stop and ticketing group held, with boarding penalties.

    Parameters are those of :func:`planner.kernels.raptor.raptor` plus ``pattern_gate``
    (int32 (P), ``0..n_gates-1``), ``pattern_penalty_s`` (int32 (P), seconds paid when
    boarding the pattern from another group) and ``first_penalty`` (the first boarding pays).

    Returns
    -------
    tau_v, tau_w : int32 (max_rounds + 1, S, n_gates + 1)
        Vehicle and walking labels per round, stop and group held (the last group: none,
        round-0 access labels only). The earliest time at a stop with at most ``k`` trips is
        the minimum over groups of ``tau_v[k]``, ``tau_w[k]`` and ``tau_w[0]``.
    pv : int32 (4, K, S, G + 1)
        Vehicle parents when ``record``: pattern, trip, boarding position, group boarded from.
    pw : int32 (3, K, S, G + 1)
        Walking parents when ``record``: kind, from stop (walk) or access index, footpath.
    """
    S = stop_patterns_ptr.shape[0] - 1
    P = pattern_trips_ptr.shape[0] - 1
    K = max_rounds + 1
    G1 = n_gates + 1
    NONE = n_gates
    max_arrival = dep + max_duration
    tau_v = np.full((K, S, G1), INF, dtype=np.int32)
    tau_w = np.full((K, S, G1), INF, dtype=np.int32)
    ready = np.full((K, S, G1), INF, dtype=np.int32)
    best_v = np.full((S, G1), INF, dtype=np.int32)
    best_w = np.full((S, G1), INF, dtype=np.int32)
    best_ready = np.full((S, G1), INF, dtype=np.int32)
    marked = np.zeros(S, dtype=np.bool_)
    rm = np.zeros((S, G1), dtype=np.bool_)
    in_round = np.zeros(S, dtype=np.bool_)
    round_stops = np.empty(S, dtype=np.int32)
    pat_first = np.full(P, -1, dtype=np.int32)
    pat_queue = np.empty(P, dtype=np.int32)
    if record:
        pv = np.full((4, K, S, G1), -1, dtype=np.int32)
        pw = np.full((3, K, S, G1), -1, dtype=np.int32)
    else:
        pv = np.full((4, 1, 1, 1), -1, dtype=np.int32)
        pw = np.full((3, 1, 1, 1), -1, dtype=np.int32)
    # round 0: access legs, then one footpath
    for j in range(access_stops.shape[0]):
        lo, hi = access_walks(j, access_stops, fp_ptr)
        for f in range(lo, hi):
            s2, w, ff = access_walk(j, f, access_stops, access_s, dep, fp_ptr, fp_to, fp_s)
            if w <= max_arrival and w < tau_w[0, s2, NONE]:
                tau_w[0, s2, NONE] = w
                ready[0, s2, NONE] = w
                best_w[s2, NONE] = w
                best_ready[s2, NONE] = w
                marked[s2] = True
                if record:
                    pw[0, 0, s2, NONE] = PARENT_ACCESS
                    pw[1, 0, s2, NONE] = j
                    pw[2, 0, s2, NONE] = ff
    for k in range(1, K):
        tau_v[k] = tau_v[k - 1]
        ready[k] = ready[k - 1]
        if k > 1:
            tau_w[k] = tau_w[k - 1]
        if record:
            pv[:, k] = pv[:, k - 1]
            if k > 1:
                pw[:, k] = pw[:, k - 1]
        nq = 0
        for s in range(S):
            if not marked[s]:
                continue
            marked[s] = False
            nq = queue_patterns(s, stop_patterns_ptr, stop_patterns, stop_pattern_pos, pat_first, pat_queue, nq)
        n_rs = 0
        for qi in range(nq):
            p, start, s0, L, nt, tptr = take_pattern(qi, pat_queue, pat_first, pattern_stops_ptr,
                                                     pattern_trips_ptr, pattern_times_ptr)
            gp = pattern_gate[p]
            pen = pattern_penalty_s[p]
            trip = -1
            board_pos = -1
            board_from = -1
            for i in range(start, L):
                s = pattern_stops[s0 + i]
                if trip >= 0 and pattern_alight[s0 + i]:
                    a = arrival[tptr + trip * L + i]
                    if a <= max_arrival and a < tau_v[k, s, gp] and a < best_v[s, gp]:
                        tau_v[k, s, gp] = a
                        best_v[s, gp] = a
                        rm[s, gp] = True
                        if not in_round[s]:
                            in_round[s] = True
                            round_stops[n_rs] = s
                            n_rs += 1
                        if record:
                            pv[0, k, s, gp] = p
                            pv[1, k, s, gp] = trip
                            pv[2, k, s, gp] = board_pos
                            pv[3, k, s, gp] = board_from
                if pattern_board[s0 + i]:
                    r = INF
                    r_from = -1
                    for g in range(G1):
                        x = ready[k - 1, s, g]
                        if x >= INF:
                            continue
                        if g != gp and (g != NONE or first_penalty):
                            x += pen
                        if x < r:
                            r = x
                            r_from = g
                    if r < INF and (trip < 0 or r <= departure[tptr + trip * L + i]):
                        trip, board_pos = board_earlier(departure, tptr, nt, L, i, r, trip, board_pos)
                        if board_pos == i:
                            board_from = r_from
        for qs in range(n_rs):
            s = round_stops[qs]
            in_round[s] = False
            for g in range(G1):
                if not rm[s, g]:
                    continue
                rm[s, g] = False
                a = tau_v[k, s, g]
                r = a + change_s[s]
                if r <= max_arrival and r < ready[k, s, g] and r < best_ready[s, g]:
                    ready[k, s, g] = r
                    best_ready[s, g] = r
                    marked[s] = True
                for f in range(fp_ptr[s], fp_ptr[s + 1]):
                    s2 = fp_to[f]
                    w = a + fp_s[f]
                    if w > max_arrival:
                        continue
                    if w < tau_w[k, s2, g] and w < best_w[s2, g]:
                        tau_w[k, s2, g] = w
                        best_w[s2, g] = w
                        if record:
                            pw[0, k, s2, g] = PARENT_WALK
                            pw[1, k, s2, g] = s
                            pw[2, k, s2, g] = f
                    if w < ready[k, s2, g] and w < best_ready[s2, g]:
                        ready[k, s2, g] = w
                        best_ready[s2, g] = w
                        marked[s2] = True
    return tau_v, tau_w, pv, pw


@jit
def _best_of(tau_v, tau_w):
    """Earliest time at each stop with up to the last round's trips, any group held."""
    K, S, G1 = tau_v.shape
    out = np.full(S, INF, dtype=np.int32)
    for s in range(S):
        b = INF
        for g in range(G1):
            b = min(b, tau_v[K - 1, s, g], tau_w[K - 1, s, g], tau_w[0, s, g])
        out[s] = b
    return out


@jit_parallel
def penalised_best_many(
    pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
    pattern_trips_ptr, pattern_times_ptr, arrival, departure,
    stop_patterns_ptr, stop_patterns, stop_pattern_pos,
    fp_ptr, fp_to, fp_s, change_s,
    pattern_gate, pattern_penalty_s, n_gates, first_penalty,
    access_ptr, access_stops, access_s, deps, max_rounds, max_duration,
):
    """:func:`penalised_raptor` for many origins (and one departure each) in parallel threads.

    Origin ``o`` has the access legs ``access_stops[access_ptr[o]:access_ptr[o + 1]]`` and
    departs at ``deps[o]``. Returns int32 (n_origins, S): the earliest time at each stop.
    """
    n = access_ptr.shape[0] - 1
    S = stop_patterns_ptr.shape[0] - 1
    out = np.empty((n, S), dtype=np.int32)
    for o in numba.prange(n):
        a = access_ptr[o]
        b = access_ptr[o + 1]
        tv, tw, _pv, _pw = penalised_raptor(
            pattern_stops_ptr, pattern_stops, pattern_board, pattern_alight,
            pattern_trips_ptr, pattern_times_ptr, arrival, departure,
            stop_patterns_ptr, stop_patterns, stop_pattern_pos,
            fp_ptr, fp_to, fp_s, change_s,
            pattern_gate, pattern_penalty_s, n_gates, first_penalty,
            access_stops[a:b], access_s[a:b], deps[o], max_rounds, max_duration, False)
        out[o] = _best_of(tv, tw)
    return out
