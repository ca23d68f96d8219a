"""Door-to-door public transport travel-time matrices (``plan matrix``).

For every origin: walking (or park-and-ride) access to stops, range-RAPTOR over the
departure window at ``step_min`` steps, egress to every destination, and the direct walk
when it is faster; then travel-time statistics over the window
(:mod:`planner.analyses.metrics`). Origins run in parallel numba threads, in chunks, and the
result does not depend on the number of threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.analyses.metrics import travel_time_stats
from planner.errors import InputError
from planner.kernels import raptor as _kraptor
from planner.kernels.propagation import egress as _egress
from planner.network.build import Access
from planner.routing.raptor import INF, _fp_args, _tt_args, stop_departures

if TYPE_CHECKING:
    from planner.network.build import Network

__all__ = ["MatrixChunk", "MatrixResult", "MatrixShared", "RoutingCore", "matrix_chunk", "resolve_points",
           "travel_time_matrix"]


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
        return cls(_tt_args(net.timetable), _fp_args(net.footpaths, net.change_s, net.n_stops),
                   stop_departures(net.timetable), int(cfg.max_rides), int(cfg.max_trip_duration_s), cfg.threads)


@dataclass(frozen=True)
class MatrixShared:
    """Per-run constants of a matrix: the routing core, departures, egress legs (CSR)."""

    core: RoutingCore
    deps: np.ndarray
    eg_ptr: np.ndarray
    eg_stop: np.ndarray
    eg_s: np.ndarray


@dataclass(frozen=True)
class MatrixChunk:
    """A chunk of origins: access legs (CSR) and direct-walk seconds to each destination."""

    acc_ptr: np.ndarray
    acc_stops: np.ndarray
    acc_s: np.ndarray
    direct: np.ndarray

    def __len__(self) -> int:
        return len(self.acc_ptr) - 1


def matrix_chunk(shared: MatrixShared, chunk: MatrixChunk) -> np.ndarray:
    """Arrival times (int32, origins x departures x destinations) for one chunk of origins."""
    from planner.kernels._options import numba_threads

    c = shared.core
    with numba_threads(c.threads):
        at = _kraptor.range_raptor_many(*c.tt, *c.fp, *c.stop_deps, chunk.acc_ptr, chunk.acc_stops, chunk.acc_s,
                                        shared.deps, np.int32(c.max_rounds), np.int32(c.max_duration_s))
    out = np.empty((len(chunk), len(shared.deps), len(shared.eg_ptr) - 1), np.int32)
    for k in range(len(chunk)):
        out[k] = _egress(at[k], shared.deps, shared.eg_ptr, shared.eg_stop, shared.eg_s,
                         chunk.direct[k].astype(np.int32))
    return out


def _csr(accs: list[Access]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ptr = np.zeros(len(accs) + 1, np.int64)
    ptr[1:] = np.cumsum([len(a.stops) for a in accs])
    stops = np.concatenate([a.stops for a in accs]).astype(np.int32) if accs else np.zeros(0, np.int32)
    secs = np.concatenate([a.seconds for a in accs]).astype(np.int32) if accs else np.zeros(0, np.int32)
    return ptr, stops, secs


def _chunk(accs: list[Access], direct: np.ndarray) -> MatrixChunk:
    ptr, stops, secs = _csr(accs)
    return MatrixChunk(ptr, stops, secs, np.ascontiguousarray(direct, dtype=np.int32))


@dataclass
class MatrixResult:
    """Arrival times behind a matrix: int32 (origins, departures, destinations)."""

    arrivals: np.ndarray
    departures: np.ndarray
    origin_ids: np.ndarray
    destination_ids: np.ndarray


def resolve_points(net: Network, points: pd.DataFrame, *, park_and_ride: bool = False,
                   local: bool = False) -> list[Access]:
    """Access (or egress) legs of each point row (``id``, ``lon``, ``lat``, ``stop_id``)."""
    out = []
    lon = points["lon"].to_numpy(dtype=float)
    lat = points["lat"].to_numpy(dtype=float)
    stop_ids = points["stop_id"].to_numpy(dtype=object) if "stop_id" in points else np.array([""] * len(points))
    need = [i for i in range(len(points)) if not stop_ids[i]]
    acc_by_row = {}
    if need:
        _ptr, accs = net.access_many(lon[need], lat[need], park_and_ride=park_and_ride, local=local)
        acc_by_row = dict(zip(need, accs, strict=True))
    for i in range(len(points)):
        if stop_ids[i]:
            s = net.stop_index(str(stop_ids[i]))
            out.append(Access(np.array([s], np.int32), np.array([0], np.int32), np.array([0.0]),
                              np.array([1], np.int8), True, 0.0))
        else:
            out.append(acc_by_row[i])
    return out


def _coords(net: Network, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    lon = points["lon"].to_numpy(dtype=float).copy()
    lat = points["lat"].to_numpy(dtype=float).copy()
    if "stop_id" in points:
        for i, sid in enumerate(points["stop_id"]):
            if sid:
                s = net.stop_index(str(sid))
                lon[i], lat[i] = net.timetable.stop_lon[s], net.timetable.stop_lat[s]
    return lon, lat


def direct_walk_seconds(net: Network, origins: pd.DataFrame, destinations: pd.DataFrame) -> np.ndarray:
    """Walk-only times (s) between every origin and destination, ``-1`` when farther than
    ``Config.access_max_s``: on the street network when both snap, else straight line."""
    cfg = net.config
    olon, olat = _coords(net, origins)
    dlon, dlat = _coords(net, destinations)
    out = np.full((len(olon), len(dlon)), -1, np.int64)
    from planner.common.geodesy import arc_m, sphere_xyz

    straight = arc_m(sphere_xyz(olat, olon)[:, None, :], sphere_xyz(dlat, dlon)[None, :, :])
    st_s = straight * cfg.straight_line_detour / cfg.walk_speed_mps
    ok = st_s <= cfg.access_max_s
    out[ok] = np.ceil(st_s[ok]).astype(np.int64)
    if net.walk is not None:
        on, od = net.walk.snap_index(olon, olat, max_distance_m=cfg.snap_max_m, config=cfg)
        dn, dd = net.walk.snap_index(dlon, dlat, max_distance_m=cfg.snap_max_m, config=cfg)
        d_ok = dn >= 0
        speed = cfg.walk_speed_mps
        for i in np.flatnonzero(on >= 0):
            nodes, cost, _m, _ = net.walk.reach_index([int(on[i])], source_cost=[od[i] / speed], cutoff=cfg.access_max_s)
            where = np.full(net.walk.n_nodes, np.inf)
            where[nodes] = cost
            t = where[np.maximum(dn, 0)] + np.nan_to_num(dd) / speed
            t[~d_ok] = np.inf
            street = np.isfinite(t) & (t <= cfg.access_max_s)
            row = np.full(len(dlon), -1, np.int64)
            row[street] = np.ceil(t[street]).astype(np.int64)
            # both on the network: the network decides; otherwise keep the straight line
            out[i, d_ok] = row[d_ok]
    return out


def travel_time_matrix(net: Network, origins: pd.DataFrame, destinations: pd.DataFrame, *, departure_s: int,
                       window_min: int = 0, step_min: int = 1, percentiles=(50,), cutoffs_min=(),
                       park_and_ride: bool = False, local_access: bool = False, progress: bool = False,
                       chunk: int | None = None, executor=None,
                       return_arrivals: bool = False) -> pd.DataFrame | tuple[pd.DataFrame, MatrixResult]:
    """Travel times between every origin and destination.

    Parameters
    ----------
    net
        The network (its timetable fixes the service date).
    origins, destinations
        DataFrames with ``id``, ``lon``, ``lat`` (WGS84) and optionally ``stop_id``
        (see :func:`planner.ingest.points.read_points`).
    departure_s
        First departure, seconds after midnight of the service date.
    window_min
        Length of the departure window in minutes; 0 means a single departure.
    step_min
        Minutes between departures in the window.
    percentiles, cutoffs_min
        Statistics over the window (ignored for a single departure).
    park_and_ride
        Origins may also drive to rail stations (needs the drive network).
    local_access
        Origins and destinations also reach stops by the urban taxi/bus approximation
        (``Config.local_access_speed_kmh``), as city-to-city evaluation does.
    chunk
        Origins per task; default: sized from a pilot origin so a task runs about 0.75 s.
    executor
        Where chunks run (:func:`planner.routing.execution.executor`); default: here, on numba
        threads. The result is the same either way.

    Returns
    -------
    DataFrame
        One row per (origin, destination), origins outer, in input order: ``from_id``,
        ``to_id`` and, for a single departure, ``travel_time_min`` (minutes, NaN when
        unreachable); for a window, ``min_min`` and ``p{p}_min`` per percentile (minutes,
        nearest-rank over the departures, NaN when unreachable at that percentile) and
        ``share_within_{T}`` per cutoff (0-1).
    """
    if window_min < 0 or step_min < 1:
        msg = f"window must be >= 0 and step >= 1 minute (got {window_min}, {step_min})"
        raise InputError(msg, code="invalid_parameter")
    cfg = net.config
    deps = (np.array([departure_s], np.int64) if window_min == 0
            else departure_s + 60 * np.arange(0, window_min, step_min, dtype=np.int64))
    o_acc = resolve_points(net, origins, park_and_ride=park_and_ride, local=local_access)
    d_acc = resolve_points(net, destinations, local=local_access)
    direct = direct_walk_seconds(net, origins, destinations)
    shared = MatrixShared(RoutingCore.from_network(net), deps.astype(np.int32), *_csr(d_acc))
    n_o, n_d = len(o_acc), len(d_acc)
    arrivals = np.full((n_o, len(deps), n_d), INF, np.int32)
    from planner.routing.execution import LocalExecutor, chunk_size, run_chunks

    ex = executor if executor is not None else LocalExecutor()
    done = 0
    if chunk is None and n_o:
        # a pilot chunk, run here, measures the time per origin to size the tasks
        pilot = _chunk(o_acc[:1], direct[:1])
        t = time.perf_counter()
        arrivals[:1] = matrix_chunk(shared, pilot)
        chunk = chunk_size(time.perf_counter() - t, n_o - 1, workers=ex.workers,
                           slowdown=getattr(ex, "slowdown", 1.0))
        done = 1
    chunk = max(int(chunk or 1), 1)
    starts = list(range(done, n_o, chunk))
    chunks = [_chunk(o_acc[a:a + chunk], direct[a:a + chunk]) for a in starts]
    run_chunks(ex, matrix_chunk, shared, chunks, arrivals, starts, progress=progress)
    # beyond the maximum duration = unreachable
    too_long = arrivals.astype(np.int64) - deps[None, :, None] > cfg.max_trip_duration_s
    arrivals[too_long] = INF
    from_id = np.repeat(origins["id"].to_numpy(dtype=object), n_d)
    to_id = np.tile(destinations["id"].to_numpy(dtype=object), n_o)
    data = {"from_id": from_id, "to_id": to_id}
    if window_min == 0:
        a = arrivals[:, 0, :].astype(np.float64)
        t = np.where(a >= INF, np.nan, (a - deps[0]) / 60.0)
        data["travel_time_min"] = t.ravel()
    else:
        stats = travel_time_stats(arrivals.transpose(1, 0, 2), deps, percentiles=percentiles,
                                  cutoffs_min=cutoffs_min, unreachable=INF)
        for name, values in stats.items():
            data[name] = values.ravel()
    df = pd.DataFrame(data)
    if return_arrivals:
        return df, MatrixResult(arrivals, deps, origins["id"].to_numpy(dtype=object),
                                destinations["id"].to_numpy(dtype=object))
    return df
