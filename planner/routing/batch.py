"""Many origins at once: the routing core, chunks of origins and door-to-door arrival times.

Many-origin work (a travel-time matrix, accessibility on a grid, the fare card's dividend)
is split into chunks of origins that run here or on Dask workers
(:mod:`planner.routing.execution`). Every such analysis shares the pieces here:

* :class:`RoutingCore`: what a worker needs to run range-RAPTOR (the kernel arrays of the
  timetable and footpaths, the departures at each stop, the limits), plain arrays sent once;
* :class:`OriginChunk`: a chunk of origins, the access legs of each (CSR) and its direct
  legs (walking, or the local approximation) to destinations (CSR); :func:`origin_chunk`
  makes one from :class:`~planner.network.links.Access` legs;
* :func:`range_raptor_chunk`: range-RAPTOR for every origin of a chunk, arrival times at
  every stop;
* :func:`door_to_door`: arrival times from every origin to every destination over the
  departures of a window (access, range-RAPTOR, egress, the direct walk when faster), the
  core of ``plan matrix`` and of ``plan evaluate``'s city-to-city times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planner.kernels import raptor as _kraptor
from planner.kernels.options import numba_threads
from planner.kernels.propagation import egress as _egress
from planner.network.links import access_csr
from planner.network.places import direct_walk_seconds, resolve_points
from planner.routing.execution import run_in_chunks
from planner.routing.raptor import (
    INF,
    footpath_arrays,
    stop_departures,
    timetable_arrays,
    warn_ride_cap,
)

if TYPE_CHECKING:
    import pandas as pd

    from planner.network.links import Access
    from planner.network.model import Network

__all__ = ["MatrixShared", "OriginChunk", "RoutingCore", "door_to_door", "matrix_chunk", "origin_chunk",
           "range_raptor_chunk"]


@dataclass(frozen=True)
class RoutingCore:
    """What a worker needs to run range-RAPTOR: the kernel arrays and the parameters.

    Plain arrays and numbers only (cheap to send to a Dask worker once)."""

    tt: tuple
    fp: tuple
    stop_deps: tuple
    max_rounds: int
    max_duration_s: int
    threads: int | None

    @classmethod
    def from_network(cls, net: Network) -> RoutingCore:
        cfg = net.config
        return cls(timetable_arrays(net.timetable), footpath_arrays(net.footpaths, net.change_s, net.n_stops),
                   stop_departures(net.timetable), int(cfg.max_rides), int(cfg.max_trip_duration_s), cfg.threads)


@dataclass(frozen=True)
class OriginChunk:
    """A chunk of origins: access legs to stops (CSR ``acc_ptr``, ``acc_stops``, ``acc_s``:
    seconds) and direct legs to destinations (CSR ``dir_ptr``, ``dir_dest``, ``dir_s``:
    seconds), int64 pointers and int32 values."""

    acc_ptr: np.ndarray
    acc_stops: np.ndarray
    acc_s: np.ndarray
    dir_ptr: np.ndarray
    dir_dest: np.ndarray
    dir_s: np.ndarray

    def __len__(self) -> int:
        return len(self.acc_ptr) - 1

    def access(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(stops, seconds) of origin ``i``'s access legs."""
        a, b = self.acc_ptr[i], self.acc_ptr[i + 1]
        return self.acc_stops[a:b], self.acc_s[a:b]

    def direct(self, i: int, n_dest: int) -> np.ndarray:
        """Origin ``i``'s direct-leg seconds to every destination, int64, ``-1`` where none."""
        row = np.full(n_dest, -1, np.int64)
        a, b = self.dir_ptr[i], self.dir_ptr[i + 1]
        row[self.dir_dest[a:b]] = self.dir_s[a:b]
        return row


def origin_chunk(accs: list[Access], direct: np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]) -> OriginChunk:
    """An :class:`OriginChunk` of the origins with access legs ``accs`` and direct legs
    ``direct``: dense seconds (origins, destinations; ``-1``: none) or already CSR."""
    if isinstance(direct, tuple):
        dptr, ddest, ds = direct
    else:
        d = np.asarray(direct).reshape(len(accs), -1)
        ok = d >= 0
        dptr = np.zeros(len(d) + 1, np.int64)
        dptr[1:] = np.cumsum(ok.sum(axis=1))
        rows, cols = np.nonzero(ok)
        ddest, ds = cols, d[rows, cols]
    return OriginChunk(*access_csr(accs), np.asarray(dptr, np.int64), np.ascontiguousarray(ddest, np.int32),
                       np.ascontiguousarray(ds, np.int32))


def range_raptor_chunk(core: RoutingCore, chunk: OriginChunk, deps: np.ndarray) -> np.ndarray:
    """Range-RAPTOR for every origin of ``chunk``: int32 (origins, departures, stops), ``INF``
    where a stop is not reached (numba threads: ``core.threads``). Logs a
    warning (:func:`~planner.routing.raptor.warn_ride_cap`, where the chunk runs) when one more
    vehicle than ``core.max_rounds`` would reach stops earlier."""
    with numba_threads(core.threads):
        out, capped = _kraptor.range_raptor_many(*core.tt, *core.fp, *core.stop_deps, chunk.acc_ptr, chunk.acc_stops,
                                                 chunk.acc_s, np.ascontiguousarray(deps, np.int32),
                                                 np.int32(core.max_rounds), np.int32(core.max_duration_s), True)
    warn_ride_cap(int(np.count_nonzero(capped)), core.max_rounds, len(chunk))
    return out


@dataclass(frozen=True)
class MatrixShared:
    """Per-run constants of door-to-door arrival times: the routing core, departures (int32)
    and the destinations' egress legs (CSR)."""

    core: RoutingCore
    deps: np.ndarray
    eg_ptr: np.ndarray
    eg_stop: np.ndarray
    eg_s: np.ndarray


def matrix_chunk(shared: MatrixShared, chunk: OriginChunk) -> np.ndarray:
    """The work unit of :func:`door_to_door`: arrival times (int32, origins x departures x
    destinations) for one chunk of origins, the direct leg counted when faster."""
    at = range_raptor_chunk(shared.core, chunk, shared.deps)
    n_dest = len(shared.eg_ptr) - 1
    out = np.empty((len(chunk), len(shared.deps), n_dest), np.int32)
    for k in range(len(chunk)):
        out[k] = _egress(at[k], shared.deps, shared.eg_ptr, shared.eg_stop, shared.eg_s,
                         chunk.direct(k, n_dest).astype(np.int32))
    return out


def door_to_door(net: Network, origins: pd.DataFrame, destinations: pd.DataFrame, deps: np.ndarray, *,
                 park_and_ride: bool = False, local_access: bool = False, progress: bool = False,
                 chunk: int | None = None, executor=None) -> np.ndarray:
    """Arrival times (int32 (origins, departures, destinations), ``INF``: not reached within
    ``Config.max_trip_duration_s``) from every origin to every destination.

    ``origins``/``destinations`` have ``id``, ``lon``, ``lat`` and optionally ``stop_id``
    (:func:`planner.network.places.resolve_points`); ``deps`` are the departures (s after
    midnight). Origins walk (or drive, ``park_and_ride``) to stops; with ``local_access``
    both ends also use the urban taxi/bus approximation. The direct walk counts when faster.
    Chunks of origins run on ``executor`` (default: here, on numba threads); the result does
    not depend on where or in which order they ran.
    """
    deps = np.asarray(deps, np.int64)
    o_acc = resolve_points(net, origins, park_and_ride=park_and_ride, local=local_access)
    d_acc = resolve_points(net, destinations, local=local_access)
    direct = direct_walk_seconds(net, origins, destinations)
    shared = MatrixShared(RoutingCore.from_network(net), deps.astype(np.int32), *access_csr(d_acc))
    arrivals = np.full((len(o_acc), len(deps), len(d_acc)), INF, np.int32)
    run_in_chunks(executor, matrix_chunk, shared, len(o_acc),
                  lambda a, b: origin_chunk(o_acc[a:b], direct[a:b]), arrivals, chunk=chunk, progress=progress)
    # beyond the maximum duration = unreachable
    too_long = arrivals.astype(np.int64) - deps[None, :, None] > net.config.max_trip_duration_s
    arrivals[too_long] = INF
    return arrivals
