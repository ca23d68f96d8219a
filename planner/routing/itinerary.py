"""Itineraries: turn RAPTOR labels and parents into legs a traveller can follow.

A journey is a list of :class:`Leg` (``access``, ``walk``, ``ride``, ``egress``), with stop
indices, times in seconds after midnight of the service date, and for rides the route, trip,
mode and operator. :func:`reconstruct` walks the parent pointers of an
:func:`planner.routing.raptor.earliest_arrival` run recorded with ``record=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from planner.kernels.raptor import PARENT_ACCESS, PARENT_WALK
from planner.routing.raptor import INF

if TYPE_CHECKING:
    from planner.network.links import Footpaths
    from planner.network.timetable import Timetable
    from planner.routing.raptor import RaptorResult

__all__ = ["Leg", "reconstruct"]


@dataclass
class Leg:
    """One leg of a journey. Times are seconds after midnight of the service date."""

    kind: str                 # access | walk | ride | egress
    dep_s: int
    arr_s: int
    from_stop: int = -1       # timetable stop index (-1: the origin/destination point)
    to_stop: int = -1
    route: int = -1           # timetable route index (rides)
    pattern: int = -1
    trip: int = -1            # global trip index in the timetable (rides)
    board_pos: int = -1
    alight_pos: int = -1
    walk_m: float = float("nan")
    geometry: list[tuple[float, float]] = field(default_factory=list)  # (lon, lat)

    @property
    def duration_s(self) -> int:
        return self.arr_s - self.dep_s


def _best_round(res: RaptorResult, stop: int) -> int:
    at = res.at_stop[:, stop]
    best = at.min()
    if best >= INF:
        return -1
    return int(np.flatnonzero(at == best)[0])


def reconstruct(tt: Timetable, fp: Footpaths, change_s, res: RaptorResult, stop: int, access_stops, access_s,
                round_: int | None = None) -> list[Leg]:
    """Legs of the earliest journey to ``stop`` (with the fewest trips among equally early).

    ``access_stops``/``access_s`` must be those given to the run. Raises ValueError when
    ``stop`` was not reached.
    """
    change = np.broadcast_to(np.asarray(change_s, dtype=np.int64), (tt.n_stops,))
    k = _best_round(res, stop) if round_ is None else round_
    if k < 0:
        msg = "the stop is not reachable"
        raise ValueError(msg)
    legs: list[Leg] = []
    s = stop
    on_foot = min(res.tau_w[k, s], res.tau_w[0, s]) <= res.tau_v[k, s]
    guard = 0
    while True:
        guard += 1
        if guard > 4 * (res.tau_v.shape[0] + 2):
            msg = "parent chain does not end (internal error)"
            raise RuntimeError(msg)
        if on_foot:
            if k > 0 and res.tau_w[0, s] <= res.tau_w[k, s]:
                k = 0  # the access walk itself (round-0 labels stay in round 0)
            kind, a, f = (int(x) for x in res.pw[:, k, s])
            t = int(res.tau_w[k, s])
            if kind == PARENT_ACCESS:
                acc_stop = int(access_stops[a])
                acc_t = t - (int(fp.seconds[f]) if f >= 0 else 0)
                if f >= 0:
                    legs.append(Leg("walk", acc_t, t, acc_stop, s, walk_m=float(fp.metres[f])))
                legs.append(Leg("access", acc_t - int(access_s[a]), acc_t, -1, acc_stop))
                break
            if kind == PARENT_WALK:
                legs.append(Leg("walk", t - int(fp.seconds[f]), t, a, s, walk_m=float(fp.metres[f])))
                s = a
                on_foot = False
                continue
            msg = f"no parent for stop {s} in round {k}"
            raise RuntimeError(msg)
        p, trip_k, board_pos = (int(x) for x in res.pv[:, k, s])
        a0 = tt.pattern_stops_ptr[p]
        L = tt.pattern_stops_ptr[p + 1] - a0
        A, D = tt.pattern_trip_times(p)
        arr_t = int(res.tau_v[k, s])
        stops = tt.pattern_stops[a0:a0 + L]
        alight = next(i for i in range(board_pos + 1, L) if stops[i] == s and A[trip_k, i] == arr_t)
        b = int(stops[board_pos])
        dep_t = int(D[trip_k, board_pos])
        legs.append(Leg("ride", dep_t, arr_t, b, s, route=int(tt.pattern_route[p]), pattern=p,
                        trip=int(tt.pattern_trips_ptr[p] + trip_k), board_pos=board_pos, alight_pos=alight))
        k -= 1
        s = b
        # which label let us board: on foot (no change time) or off a vehicle (+ change)
        if min(res.tau_w[k, s], res.tau_w[0, s]) <= dep_t:
            on_foot = True
        elif res.tau_v[k, s] + change[s] <= dep_t:
            on_foot = False
        else:  # pragma: no cover - the labels guarantee one of the two
            msg = "inconsistent labels while rebuilding the journey"
            raise RuntimeError(msg)
    legs.reverse()
    return legs
