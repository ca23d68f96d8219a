"""What the timetable forces at a transfer: waits, and the risk of missing the connection.

For a transfer from station A to station B over the departure window ``[t0, t1]``:

* **arrivals**: every arrival at a stop of A (where alighting is allowed) in the window,
  with the route and mode of its vehicle;
* **connecting services**: the departures from B grouped by route and next stop (one line
  in one direction) that run in the window (at least one departure in it); their
  departures over the whole timetable count (so that a connection just after the window
  is found);
* the traveller is ready at B at ``arrival + connect_s`` with
  ``connect_s = max(walk + minimum change time, transfers.txt min_transfer_time)``;
* **wait** of one arrival on one service: the time from ready to the service's next
  departure (services of the arriving route are skipped: no one changes to the vehicle
  they came on); the **typical wait** is the median over services of each service's median
  wait over the arrivals (``wait_basis = arrivals``). Without arrivals at A in the window
  (a terminus where nobody alights, say) the ready times are every minute of the window
  instead (``wait_basis = uniform``);
* that wait is the scheduled **slack**: the arriving vehicle may be late by up to the
  slack without the traveller missing the departure. With the delay model of the arriving
  mode (:class:`~planner.analyses.transfers.standard.DelayModel`) the miss probability is
  ``exp(-slack / mean)``; ``miss_risk`` is its mean over all (arrival, service) pairs and
  ``miss_delay_min`` the mean of ``P(miss) x`` the gap to the service's following
  departure (the expected extra wait caused by missed connections).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.ingest.gtfs.modes import MODES

__all__ = ["Connection", "UnitTimes", "connection", "unit_times"]


@dataclass
class UnitTimes:
    """Arrivals in the window and departures by connecting service of one unit."""

    arr: np.ndarray            # int64 arrival times in the window
    arr_route: np.ndarray      # int64 route index
    arr_mode: np.ndarray       # object mode name
    services: list[tuple[int, np.ndarray]]   # (route, sorted unique departures)


@dataclass
class Connection:
    """The timetable at one directed transfer (times in seconds)."""

    arrivals: int
    services: int
    wait_s: float
    basis: str                 # arrivals | uniform | none
    miss_risk: float
    miss_delay_s: float


def unit_times(tt, stops: np.ndarray, t0: int, t1: int) -> UnitTimes:
    """Arrivals at ``stops`` within ``[t0, t1]`` and departures from them by service."""
    stops_set = set(int(s) for s in stops)
    arr, arr_r, arr_m = [], [], []
    deps: dict[tuple[int, int], list[np.ndarray]] = {}
    pats = set()
    for s in stops_set:
        a, b = tt.stop_patterns_ptr[s], tt.stop_patterns_ptr[s + 1]
        pats.update(int(p) for p in tt.stop_patterns[a:b])
    for p in sorted(pats):
        lo, hi = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        seq = tt.pattern_stops[lo:hi]
        A, D = tt.pattern_trip_times(p)
        route = int(tt.pattern_route[p])
        for i, s in enumerate(seq):
            if int(s) not in stops_set:
                continue
            if i > 0 and tt.pattern_alight[lo + i]:
                t = A[:, i].astype(np.int64)
                t = t[(t >= t0) & (t <= t1)]
                arr.append(t)
                arr_r.append(np.full(len(t), route, np.int64))
                arr_m.append(np.full(len(t), MODES[int(tt.pattern_mode[p])], dtype=object))
            if i < len(seq) - 1 and tt.pattern_board[lo + i]:
                deps.setdefault((route, int(seq[i + 1])), []).append(D[:, i].astype(np.int64))
    services = [(r, np.unique(np.concatenate(v))) for (r, _nxt), v in sorted(deps.items())]
    cat = (lambda xs, dt: np.concatenate(xs) if xs else np.zeros(0, dt))  # noqa: E731
    return UnitTimes(cat(arr, np.int64), cat(arr_r, np.int64), cat(arr_m, object), services)


def connection(a: UnitTimes, b: UnitTimes, connect_s: float, t0: int, t1: int, delay) -> Connection:
    """Waits and miss risk of changing from ``a``'s arrivals to ``b``'s services."""
    if not np.isfinite(connect_s) or not b.services:
        return Connection(len(a.arr), 0, np.nan, "none", np.nan, np.nan)
    if len(a.arr):
        ready = a.arr.astype(np.float64) + connect_s
        routes = a.arr_route
        basis = "arrivals"
    else:
        ready = np.arange(t0, max(t1, t0) + 1, 60, dtype=np.float64) + connect_s
        routes = np.full(len(ready), -1, np.int64)
        basis = "uniform"
    medians, p_all, cost_all = [], [], []
    running = 0
    mean_s = {m: delay.mean_s(m) for m in set(a.arr_mode.tolist())} if len(a.arr) else {}
    for route, dep in b.services:
        if not ((dep >= t0) & (dep <= t1)).any():
            continue  # not running in the window: no one connects to it then
        running += 1
        use = routes != route
        if not use.any():
            continue
        r = ready[use]
        j = np.searchsorted(dep, r, side="left")
        ok = j < len(dep)
        if not ok.any():
            continue
        wait = dep[j[ok]] - r[ok]
        medians.append(float(np.median(wait)))
        if basis == "arrivals":
            modes = a.arr_mode[use][ok]
            mu = np.array([mean_s[m] for m in modes])
            p = np.exp(-wait / mu)
            nxt = j[ok] + 1
            gap = np.where(nxt < len(dep), dep[np.minimum(nxt, len(dep) - 1)] - dep[j[ok]], np.nan)
            p_all.append(p)
            cost_all.append(p * gap)
    if not medians:
        return Connection(len(a.arr), running, np.nan, "none", np.nan, np.nan)
    risk = float(np.mean(np.concatenate(p_all))) if p_all else np.nan
    cost = np.concatenate(cost_all) if cost_all else np.zeros(0)
    miss = float(np.nanmean(cost)) if np.isfinite(cost).any() else np.nan
    return Connection(len(a.arr), running, float(np.median(medians)), basis, risk, miss)
