"""Public transport routing on a :class:`~planner.network.timetable.Timetable`: the wrappers that own
the boundary around the RAPTOR kernels (:mod:`planner.kernels.raptor`).

They validate parameters, build the footpath CSR once, call the kernels with contiguous
typed arrays and hand back NumPy arrays or DataFrames with documented columns. Street
access/egress (walking to and from stops) is computed by :mod:`planner.network.build` and passed in
as (stop index, seconds) pairs.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planner.errors import ConfigError
from planner.kernels import raptor as _k

if TYPE_CHECKING:
    from planner.network.links import Footpaths
    from planner.network.timetable import Timetable

__all__ = ["INF", "RaptorResult", "access_arrays", "check_limits", "earliest_arrival",
           "footpath_arrays", "range_earliest_arrival", "range_earliest_arrival_many",
           "ride_cap_tally", "stop_departures", "timetable_arrays", "warn_ride_cap"]

INF = int(_k.INF)

log = logging.getLogger(__name__)


class _RideCapTally:
    """Stops the ride cap cut, summed while a run of many chunks is open (:func:`ride_cap_tally`),
    so that the run warns once, not once per chunk."""

    def __init__(self):
        self.lock = threading.Lock()
        self.depth = 0
        self.stops = 0
        self.origins = 0
        self.max_rounds = 0


_TALLY = _RideCapTally()


def _ride_cap_message(n_stops: int, max_rounds: int, n_origins: int) -> str:
    where = "stop" if n_stops == 1 else "stops"
    origins = f" (summed over {n_origins} origins)" if n_origins > 1 else ""
    return (f"the ride cap cut journeys: with {max_rounds + 1} vehicles instead of {max_rounds}, "
            f"{n_stops} {where}{origins} would be reached earlier for at least one departure; "
            f"raise --max-rides (max_rides) to {max_rounds + 1} or more to include them")


def warn_ride_cap(n_stops: int, max_rounds: int, n_origins: int = 1) -> str | None:
    """Log a warning that ``n_stops`` stops (summed over ``n_origins`` origins) are reached
    earlier with one more vehicle than ``max_rounds`` allows; nothing when ``n_stops`` is 0.
    Inside :func:`ride_cap_tally` (a run of many chunks in this process) the count is added
    to the run's and the run warns once at its end. Returns the message (None when tallied).

    A log record, as the routing stage's other run-time warnings (the command line prints
    them on stderr), not a Python warning: the test suite turns those into errors, and many
    tests route with a small round limit on purpose."""
    if n_stops <= 0:
        return None
    with _TALLY.lock:
        if _TALLY.depth:
            _TALLY.stops += n_stops
            _TALLY.origins += n_origins
            _TALLY.max_rounds = max_rounds
            return None
    msg = _ride_cap_message(n_stops, max_rounds, n_origins)
    log.warning(msg)
    return msg


@contextlib.contextmanager
def ride_cap_tally():
    """Sum the ride-cap warnings of the chunks that run in this process while open, and log
    one warning with the totals when the outermost one closes (chunks run on Dask workers
    warn there, once per chunk)."""
    with _TALLY.lock:
        _TALLY.depth += 1
    try:
        yield
    finally:
        with _TALLY.lock:
            _TALLY.depth -= 1
            done = _TALLY.depth == 0 and _TALLY.stops > 0
            counts = (_TALLY.stops, _TALLY.max_rounds, _TALLY.origins)
            if _TALLY.depth == 0:
                _TALLY.stops = _TALLY.origins = 0
        if done:
            log.warning(_ride_cap_message(*counts))


@dataclass
class RaptorResult:
    """Labels of one RAPTOR run.

    ``at_stop[k, s]`` is the earliest time (s after midnight of the service date) at stop
    ``s`` using at most ``k`` trips, ``INF`` when unreachable. ``tau_v``/``tau_w`` split it
    by how the stop was reached (vehicle / on foot; the access walk stays in ``tau_w[0]``);
    ``pv``/``pw`` are parents when recorded.
    """

    departure: int
    tau_v: np.ndarray
    tau_w: np.ndarray
    pv: np.ndarray
    pw: np.ndarray

    @property
    def at_stop(self) -> np.ndarray:
        return np.minimum(np.minimum(self.tau_v, self.tau_w), self.tau_w[0])

    @property
    def best(self) -> np.ndarray:
        """Earliest time at each stop with any number of trips (up to the round limit)."""
        return self.at_stop[-1]


def timetable_arrays(tt: Timetable) -> tuple:
    """The timetable as the kernels take it: contiguous typed arrays, in the kernels' argument order."""
    return (
        np.ascontiguousarray(tt.pattern_stops_ptr, np.int32),
        np.ascontiguousarray(tt.pattern_stops, np.int32),
        np.ascontiguousarray(tt.pattern_board, np.bool_),
        np.ascontiguousarray(tt.pattern_alight, np.bool_),
        np.ascontiguousarray(tt.pattern_trips_ptr, np.int32),
        np.ascontiguousarray(tt.pattern_times_ptr, np.int64),
        np.ascontiguousarray(tt.arrival, np.int32),
        np.ascontiguousarray(tt.departure, np.int32),
        np.ascontiguousarray(tt.stop_patterns_ptr, np.int32),
        np.ascontiguousarray(tt.stop_patterns, np.int32),
        np.ascontiguousarray(tt.stop_pattern_pos, np.int32),
    )


def stop_departures(tt: Timetable) -> tuple[np.ndarray, np.ndarray]:
    """Every boardable departure at each stop, sorted: CSR (ptr int64 (S+1), times int32).

    Cached on the timetable object (it depends only on it)."""
    cached = getattr(tt, "_stop_departures", None)
    if cached is not None:
        return cached
    counts = np.diff(tt.pattern_stops_ptr)
    ntrips = np.diff(tt.pattern_trips_ptr)
    stops_rep, times = [], []
    for p in range(tt.n_patterns):
        a, b = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        _, D = tt.pattern_trip_times(p)
        board = tt.pattern_board[a:b]
        cols = np.flatnonzero(board)
        stops_rep.append(np.repeat(tt.pattern_stops[a:b][cols][None, :], ntrips[p], axis=0).ravel())
        times.append(D[:, cols].ravel())
    del counts
    s = np.concatenate(stops_rep) if stops_rep else np.zeros(0, np.int32)
    t = np.concatenate(times) if times else np.zeros(0, np.int32)
    order = np.lexsort((t, s))
    ptr = np.zeros(tt.n_stops + 1, np.int64)
    np.add.at(ptr, s.astype(np.int64) + 1, 1)
    out = (np.cumsum(ptr), np.ascontiguousarray(t[order], dtype=np.int32))
    tt._stop_departures = out
    return out


def footpath_arrays(fp: Footpaths, change_s, n_stops: int) -> tuple:
    """Footpaths and per-stop change times as the kernels take them (``change_s``: one value or one per stop)."""
    change = np.broadcast_to(np.asarray(change_s, dtype=np.int32), (n_stops,))
    if len(fp.ptr) != n_stops + 1:
        msg = f"footpaths are for {len(fp.ptr) - 1} stops, the timetable has {n_stops}"
        raise ValueError(msg)
    return (np.ascontiguousarray(fp.ptr, np.int32), np.ascontiguousarray(fp.to, np.int32),
            np.ascontiguousarray(fp.seconds, np.int32), np.ascontiguousarray(change, np.int32))


def check_limits(max_rounds: int, max_duration_s: int) -> None:
    """A clear error for a round limit below one trip or a non-positive longest duration."""
    if max_rounds < 1:
        msg = f"max_rounds must be at least 1 (one vehicle trip), got {max_rounds}"
        raise ConfigError(msg, code="invalid_parameter")
    if max_duration_s <= 0:
        msg = f"the maximum trip duration must be positive, got {max_duration_s} s"
        raise ConfigError(msg, code="invalid_parameter")


def access_arrays(access_stops, access_s, n_stops: int) -> tuple[np.ndarray, np.ndarray]:
    """Access legs as int32 arrays, checked (same length, stops in range, no negative time)."""
    a = np.ascontiguousarray(access_stops, dtype=np.int32)
    t = np.ascontiguousarray(access_s, dtype=np.int32)
    if a.shape != t.shape:
        msg = "access_stops and access_s must have the same length"
        raise ValueError(msg)
    if len(a) and (a.min() < 0 or a.max() >= n_stops):
        msg = "access stop index out of range"
        raise ValueError(msg)
    if len(t) and t.min() < 0:
        msg = "access times must not be negative"
        raise ValueError(msg)
    return a, t


def earliest_arrival(tt: Timetable, footpaths: Footpaths, change_s, access_stops, access_s, departure: int,
                     *, max_rounds: int = 8, max_duration_s: int = 48 * 3600, record: bool = False,
                     check_ride_cap: bool = True) -> RaptorResult:
    """One RAPTOR query (see :mod:`planner.kernels.raptor` for the exact semantics).

    Parameters
    ----------
    tt
        The timetable.
    footpaths
        Stop-to-stop walking links.
    change_s
        Minimum time to change vehicles at the same stop: one value or one per stop (s).
    access_stops, access_s
        Stops the origin reaches and the seconds it takes (0 for a stop origin).
    departure
        Departure time, seconds after midnight of the service date.
    max_rounds
        Most vehicle trips (transfers + 1).
    max_duration_s
        Longest trip considered; later arrivals count as unreachable.
    record
        Keep parents for journey reconstruction.
    check_ride_cap
        Search one round more than ``max_rounds`` (not returned) and warn
        (:func:`warn_ride_cap`) with the number of stops that round reaches earlier.
    """
    check_limits(max_rounds, max_duration_s)
    a, t = access_arrays(access_stops, access_s, tt.n_stops)
    rounds = max_rounds + 1 if check_ride_cap else max_rounds
    tau_v, tau_w, pv, pw = _k.raptor(*timetable_arrays(tt), *footpath_arrays(footpaths, change_s, tt.n_stops), a, t,
                                     np.int32(departure), np.int32(rounds), np.int32(max_duration_s), bool(record))
    if check_ride_cap:
        # the labels of rounds 0..max_rounds do not depend on the rounds after them
        more = np.minimum(np.minimum(tau_v[-1], tau_w[-1]), tau_w[0])
        tau_v, tau_w = tau_v[:-1], tau_w[:-1]
        at = np.minimum(np.minimum(tau_v[-1], tau_w[-1]), tau_w[0])
        if record:
            pv, pw = np.ascontiguousarray(pv[:, :-1]), np.ascontiguousarray(pw[:, :-1])
        warn_ride_cap(int(np.count_nonzero(more < at)), max_rounds)
    return RaptorResult(int(departure), tau_v, tau_w, pv, pw)


def range_earliest_arrival(tt: Timetable, footpaths: Footpaths, change_s, access_stops, access_s, departures,
                           *, max_rounds: int = 8, max_duration_s: int = 48 * 3600,
                           check_ride_cap: bool = True) -> np.ndarray:
    """Range-RAPTOR: the earliest time at every stop for each departure.

    Returns int32 (len(departures), S), ``INF`` when unreachable. Equal to one
    :func:`earliest_arrival` per departure, computed with shared work. With
    ``check_ride_cap`` it searches one round more (not returned) and warns
    (:func:`warn_ride_cap`) with the number of stops that round reaches earlier for at
    least one departure.
    """
    check_limits(max_rounds, max_duration_s)
    a, t = access_arrays(access_stops, access_s, tt.n_stops)
    deps = np.ascontiguousarray(departures, dtype=np.int32)
    out, capped = _k.range_raptor(*timetable_arrays(tt), *footpath_arrays(footpaths, change_s, tt.n_stops),
                                  *stop_departures(tt), a, t, deps, np.int32(max_rounds), np.int32(max_duration_s),
                                  bool(check_ride_cap))
    warn_ride_cap(int(np.count_nonzero(capped)), max_rounds)
    return out


def range_earliest_arrival_many(tt: Timetable, footpaths: Footpaths, change_s, access_ptr, access_stops, access_s,
                                departures, *, max_rounds: int = 8, max_duration_s: int = 48 * 3600,
                                check_ride_cap: bool = True) -> np.ndarray:
    """Range-RAPTOR for many origins in parallel threads: int32 (origins, departures, S).

    ``check_ride_cap`` as in :func:`range_earliest_arrival` (the count summed over origins)."""
    check_limits(max_rounds, max_duration_s)
    a, t = access_arrays(access_stops, access_s, tt.n_stops)
    ptr = np.ascontiguousarray(access_ptr, dtype=np.int64)
    deps = np.ascontiguousarray(departures, dtype=np.int32)
    out, capped = _k.range_raptor_many(*timetable_arrays(tt), *footpath_arrays(footpaths, change_s, tt.n_stops),
                                       *stop_departures(tt), ptr, a, t, deps, np.int32(max_rounds),
                                       np.int32(max_duration_s), bool(check_ride_cap))
    warn_ride_cap(int(np.count_nonzero(capped)), max_rounds, len(ptr) - 1)
    return out
