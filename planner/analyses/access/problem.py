"""A prepared accessibility run and its work unit (``plan access``, the fare card's raster).

:func:`prepare` makes an :class:`AccessProblem` from a network, a grid and opportunity layers:
the origin cells (every cell centroid inside the study area, except those farther than
``max_snap_m`` from the street network, :func:`origin_mask`), the destinations (the cells
holding opportunities, or every origin cell for a travel-time surface, plus points outside
the grid), their egress legs, the departures of the window, the percentiles' nearest ranks,
the cutoffs and the decay. Its :class:`AccessShared` holds the per-run constants as plain
arrays (sent once to each Dask worker). The driver makes one
:class:`~planner.routing.batch.OriginChunk` per slice of origins with :func:`make_chunk`
(access legs and direct legs need the street network); the work unit :func:`access_chunk`
(shared, chunk) -> array runs range-RAPTOR and the measures
(:mod:`planner.routing.opportunities`) on numba threads, here or on Dask workers;
:func:`run_problem` runs every origin. Results depend neither on the number of threads, the
chunk size nor the executor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.spatial import cKDTree

from planner.analyses.access.grid import transform_xy
from planner.common.geodesy import arc_m, sphere_xyz
from planner.common.timeofday import departures
from planner.errors import InputError
from planner.network.links import access_csr
from planner.network.places import access_legs
from planner.routing.batch import OriginChunk, RoutingCore, origin_chunk, range_raptor_chunk
from planner.routing.execution import run_in_chunks
from planner.routing.opportunities import decay_weights, opportunities_reached
from planner.routing.traveltime import nearest_ranks

if TYPE_CHECKING:
    from planner.analyses.access.grid import Grid, Opportunities
    from planner.network.model import Network

__all__ = ["DECAYS", "DEFAULT_MAX_SNAP_M", "AccessProblem", "AccessShared", "ChunkResult", "Decay", "access_chunk",
           "compute_chunk", "decay_weight", "make_chunk", "origin_mask", "prepare", "run_problem"]

#: R5's StreetLayer.LINK_RADIUS_METERS: cell centroids farther from every street node are nodata
DEFAULT_MAX_SNAP_M = 300.0
DECAYS = ("step", "linear", "exponential", "logistic")


@dataclass(frozen=True)
class Decay:
    """A decay function: ``kind`` in :data:`DECAYS`; ``width_min`` (linear) or ``sd_min``
    (logistic) in minutes."""

    kind: str = "step"
    width_min: float = 10.0
    sd_min: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in DECAYS:
            msg = f"unknown decay function {self.kind!r}"
            raise InputError(msg, code="invalid_parameter", hint=f"one of {', '.join(DECAYS)}")
        if self.kind == "linear" and not (math.isfinite(self.width_min) and self.width_min >= 0):
            msg = f"linear decay width must be >= 0 minutes, got {self.width_min}"
            raise InputError(msg, code="invalid_parameter")
        if self.kind == "logistic" and not (math.isfinite(self.sd_min) and self.sd_min > 0):
            msg = f"logistic decay standard deviation must be > 0 minutes, got {self.sd_min}"
            raise InputError(msg, code="invalid_parameter")

    @property
    def code(self) -> int:
        return DECAYS.index(self.kind)

    @property
    def param_s(self) -> float:
        """The kernel parameter: width (even whole seconds) or standard deviation (s)."""
        if self.kind == "linear":
            return float(2 * round(self.width_min * 30))
        if self.kind == "logistic":
            return float(self.sd_min * 60.0)
        return 0.0

    def describe(self) -> dict:
        out: dict[str, Any] = {"decay": self.kind}
        if self.kind == "linear":
            out["width_min"] = self.width_min
        if self.kind == "logistic":
            out["sd_min"] = self.sd_min
        return out


def decay_weight(decay: Decay, cutoff_min: float, seconds) -> np.ndarray:
    """Weights of travel times ``seconds`` (whole seconds) for one cutoff (minutes)."""
    return decay_weights(decay.code, decay.param_s, round(cutoff_min * 60), seconds)


@dataclass(frozen=True)
class AccessShared:
    """Per-run constants every chunk of origins needs: plain arrays and numbers only, sent
    once to each worker by :mod:`planner.routing.execution`.

    ``core`` is the routing core (:class:`planner.routing.batch.RoutingCore`); ``deps`` int32
    departures; the egress legs of the destinations as CSR (``eg_ptr``, ``eg_stop``,
    ``eg_s``); ``opportunities`` float64 (layers, destinations); ``ranks`` the nearest
    ranks of the percentiles; ``cutoffs_s``; the decay (``decay_code``, ``decay_param``);
    ``want_times``: :func:`access_chunk` returns travel times instead of access.
    """

    core: RoutingCore
    deps: np.ndarray
    eg_ptr: np.ndarray
    eg_stop: np.ndarray
    eg_s: np.ndarray
    opportunities: np.ndarray
    ranks: np.ndarray
    cutoffs_s: np.ndarray
    decay_code: int
    decay_param: float
    want_times: bool = False


@dataclass
class AccessProblem:
    """A prepared run (:func:`prepare`): the :class:`AccessShared` constants plus what the
    driver needs to make chunks and put results back on the grid.

    ``dest_cell`` is the grid cell of each destination (-1 for points outside the grid);
    ``dest_node``/``dest_snap_m`` their walk-network node and snap distance, ``dest_xyz``
    their points on the sphere (:func:`planner.common.geodesy.sphere_xyz`) for straight lines.
    """

    shared: AccessShared
    percentiles: np.ndarray
    dest_cell: np.ndarray
    dest_node: np.ndarray
    dest_snap_m: np.ndarray
    dest_xyz: np.ndarray
    origin_cell: np.ndarray
    origin_lon: np.ndarray
    origin_lat: np.ndarray
    park_and_ride: bool = False
    local_access: bool = False
    local_egress: bool = False

    @property
    def n_dest(self) -> int:
        return len(self.dest_cell)

    @property
    def departures(self) -> np.ndarray:
        return self.shared.deps


@dataclass
class ChunkResult:
    """Results of a chunk of origins: ``access`` float64 (origins, layers, percentiles,
    cutoffs); ``times`` int32 (origins, percentiles, destinations) travel seconds, -1 when
    unreachable (only when asked for); ``n_stops`` int32 access stops per origin."""

    access: np.ndarray
    times: np.ndarray | None
    n_stops: np.ndarray


def _run(shared: AccessShared, chunk: OriginChunk, want_times: bool) -> tuple[np.ndarray, np.ndarray]:
    at = range_raptor_chunk(shared.core, chunk, shared.deps)
    return opportunities_reached(at, shared.deps, (shared.eg_ptr, shared.eg_stop, shared.eg_s), chunk,
                                 shared.opportunities, shared.ranks, shared.cutoffs_s, decay_code=shared.decay_code,
                                 decay_param=shared.decay_param, max_duration_s=shared.core.max_duration_s,
                                 want_times=want_times, threads=shared.core.threads)


def access_chunk(shared: AccessShared, chunk: OriginChunk) -> np.ndarray:
    """The work unit: range-RAPTOR, egress and measures for one chunk of origins.

    A chunk function for :func:`planner.routing.execution.run_chunks` (local threads or Dask):
    arrays in, an array out whose first axis is the chunk's origins: access float64
    (origins, layers, percentiles, cutoffs), or with ``shared.want_times`` int32 travel
    seconds (origins, percentiles, destinations; -1 = not reached).
    """
    acc, times = _run(shared, chunk, shared.want_times)
    return times if shared.want_times else acc


def _direct_legs(net: Network, problem: AccessProblem, accs: list, lon: np.ndarray,
                 lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds of the direct leg from each origin to the destinations in reach, as CSR
    (``ptr``, ``dest``, ``seconds``).

    Walking as ``plan matrix`` defines it: on the street network when both ends are on it,
    else the straight line times the detour factor, up to ``Config.access_max_s``. With
    ``local_access`` also the urban taxi/bus approximation (straight line times the detour
    at ``Config.local_access_speed_kmh``, up to ``local_access_max_s``): at agglomeration
    scale a cell reaches its own city without a train.
    """
    cfg = net.config
    speed, limit = cfg.walk_speed_mps, float(cfg.access_max_s)
    local_speed = cfg.local_access_speed_kmh / 3.6
    ptr = np.zeros(len(lon) + 1, np.int64)
    dests: list[np.ndarray] = []
    secs: list[np.ndarray] = []
    if problem.n_dest == 0 or len(lon) == 0:
        return ptr, np.zeros(0, np.int64), np.zeros(0, np.int64)
    oxy = sphere_xyz(lat, lon)
    tree = cKDTree(problem.dest_xyz)
    # a street walk within the limit is never longer than limit * speed in a straight line
    radius = limit * speed * 1.01 + 1.0
    if problem.local_access:
        radius = max(radius, cfg.local_access_max_s * local_speed / cfg.straight_line_detour + 1.0)
    near = tree.query_ball_point(oxy, r=radius)
    where = np.full(net.walk.n_nodes, np.inf) if net.walk is not None else None
    for i, cand in enumerate(near):
        cand = np.sort(np.asarray(cand, dtype=np.int64))
        out = np.full(len(cand), -1, np.int64)
        if len(cand):
            d = arc_m(problem.dest_xyz[cand], oxy[i]) * cfg.straight_line_detour
            st = d / speed
            ok = st <= limit
            out[ok] = np.ceil(st[ok]).astype(np.int64)
            acc = accs[i]
            on_net = problem.dest_node[cand] >= 0
            if where is not None and acc.snapped and on_net.any():
                nodes, cost, _m, _p = net.walk.reach_index([int(acc.node)], source_cost=[acc.snap_m / speed],
                                                           cutoff=limit)
                where[nodes] = cost
                t = where[problem.dest_node[cand[on_net]]] + problem.dest_snap_m[cand[on_net]] / speed
                within = np.isfinite(t) & (t <= limit)
                out[on_net] = np.where(within, np.ceil(np.where(within, t, 0)), -1).astype(np.int64)
                where[nodes] = np.inf
            if problem.local_access:
                lt = np.ceil(d / local_speed).astype(np.int64)
                ok = lt <= cfg.local_access_max_s
                out[ok] = np.where((out[ok] < 0) | (lt[ok] < out[ok]), lt[ok], out[ok])
        keep = out >= 0
        dests.append(cand[keep])
        secs.append(out[keep])
        ptr[i + 1] = ptr[i] + int(keep.sum())
    return ptr, np.concatenate(dests), np.concatenate(secs)


def make_chunk(net: Network, problem: AccessProblem, lon, lat) -> OriginChunk:
    """The driver's part of a chunk of origins (it needs the street network): access legs
    to stops (exactly :meth:`Network.access`) and direct legs to destinations."""
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    accs = access_legs(net, lon, lat, park_and_ride=problem.park_and_ride, local=problem.local_access)
    return origin_chunk(accs, _direct_legs(net, problem, accs, lon, lat))


def compute_chunk(net: Network, problem: AccessProblem, lon, lat, *, times: bool = False) -> ChunkResult:
    """:func:`make_chunk` then the work unit for one chunk of origins, in this process.

    Parameters
    ----------
    net
        The network (the same one :func:`prepare` saw).
    problem
        From :func:`prepare`.
    lon, lat
        WGS84 coordinates of the chunk's origins (usually a slice of
        ``problem.origin_lon`` / ``origin_lat``).
    times
        Also return the travel-time percentiles to every destination.
    """
    chunk = make_chunk(net, problem, lon, lat)
    acc, tt = _run(problem.shared, chunk, times)
    return ChunkResult(acc, tt if times else None, np.diff(chunk.acc_ptr).astype(np.int32))


def origin_mask(net: Network, grid: Grid, *, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                local_access: bool = False) -> tuple[np.ndarray, dict]:
    """Bool per cell: the cell is an origin. Also the counts behind it, for the report."""
    inside = grid.inside()
    report = {"cells": grid.n_cells, "cells_outside_area": int((~inside).sum())}
    valid = inside.copy()
    if net.walk is not None and not local_access:
        lon, lat = grid.lonlat()
        node, _d = net.walk.snap_index(lon[inside], lat[inside], max_distance_m=max_snap_m)
        far = np.zeros(grid.n_cells, bool)
        far[np.flatnonzero(inside)[node < 0]] = True
        valid &= ~far
        report["cells_far_from_streets"] = int(far.sum())
    else:
        report["cells_far_from_streets"] = 0
    report["cells_beyond_local_access"] = 0
    if local_access and net.timetable.n_stops:
        # no stop within the taxi/bus approximation's longest leg: the model says nothing of
        # such a cell (it is not "none reached": a road trip to a station is not modelled)
        cfg = net.config
        reach = cfg.local_access_max_s * (cfg.local_access_speed_kmh / 3.6) / cfg.straight_line_detour
        lon, lat = grid.lonlat()
        cells = np.flatnonzero(valid)
        dist, _i = net.stop_tree().query(sphere_xyz(lat[cells], lon[cells]), distance_upper_bound=reach + 1.0)
        beyond = cells[~np.isfinite(dist)]
        valid[beyond] = False
        report["cells_beyond_local_access"] = len(beyond)
        report["local_access_reach_m"] = float(reach)
    report["origins"] = int(valid.sum())
    return valid, report


def prepare(net: Network, grid: Grid, layers: list[Opportunities], *, departure_s: int, window_min: int = 60,
            step_min: int = 1, percentiles=(50,), cutoffs_min=(30, 60), decay: Decay | None = None,
            max_snap_m: float = DEFAULT_MAX_SNAP_M, park_and_ride: bool = False, local_access: bool = False,
            local_egress: bool | None = None, destinations: str = "opportunities",
            threads: int | None = None) -> tuple[AccessProblem, dict]:
    """The :class:`AccessProblem` of a grid, and a report of the grid's cells.

    ``destinations`` is ``"opportunities"`` (cells holding any opportunity) or ``"cells"``
    (every origin cell, for travel-time surfaces). ``local_egress`` (default: as
    ``local_access``) lets the destinations that are off the walk network be reached from
    stops by the urban taxi/bus approximation too: a city grid whose destinations include
    other cities' points, where no street network is modelled, needs it while its origins
    (and its own on-street destinations) still walk. ``threads``: numba threads of the work
    unit (default ``Config.threads``).
    """
    decay = decay or Decay()
    deps = departures(departure_s, window_min, step_min)
    cut = np.asarray([float(c) for c in cutoffs_min], np.float64)
    if len(cut) and (not np.all(np.isfinite(cut)) or cut.min() <= 0):
        msg = f"cutoffs must be positive minutes, got {list(cutoffs_min)}"
        raise InputError(msg, code="invalid_parameter")
    valid, report = origin_mask(net, grid, max_snap_m=max_snap_m, local_access=local_access)
    for lay in layers:
        if lay.values.shape != (grid.n_cells,):
            msg = f"opportunity layer {lay.name!r} is not on this grid"
            raise InputError(msg, code="invalid_opportunities")
    opp_all = np.vstack([lay.values for lay in layers]) if layers else np.zeros((0, grid.n_cells))
    ext_xy, ext_opp = np.zeros((0, 2)), np.zeros((len(layers), 0))
    if destinations == "cells":
        dest = np.flatnonzero(valid)
    else:
        dest = np.flatnonzero((opp_all > 0).any(axis=0)) if layers else np.zeros(0, np.int64)
        # points outside the grid: destinations at their own location, in their own layer
        parts = [lay.external for lay in layers]
        if any(len(e) for e in parts):
            ext_xy = np.vstack([e[:, :2] for e in parts])
            ext_opp = np.zeros((len(layers), len(ext_xy)))
            at = 0
            for m, e in enumerate(parts):
                ext_opp[m, at:at + len(e)] = e[:, 2]
                at += len(e)
    lon, lat = grid.lonlat()
    elon, elat = transform_xy(grid.crs, "EPSG:4326", ext_xy[:, 0], ext_xy[:, 1])
    dlon, dlat = np.r_[lon[dest], elon], np.r_[lat[dest], elat]
    dest_cell = np.r_[dest.astype(np.int64), np.full(len(ext_xy), -1, np.int64)]
    local_egress = local_access if local_egress is None else bool(local_egress)
    daccs = access_legs(net, dlon, dlat, local=local_access)
    off = np.asarray([i for i, a in enumerate(daccs) if not a.snapped], np.int64)
    if local_egress and not local_access and len(off):
        for i, a in zip(off, access_legs(net, dlon[off], dlat[off], local=True), strict=True):
            daccs[i] = a
    eg_ptr, eg_stop, eg_s = access_csr(daccs)
    origins = np.flatnonzero(valid)
    core = RoutingCore.from_network(net)
    if threads is not None:
        core = replace(core, threads=int(threads))
    shared = AccessShared(
        core=core, deps=deps.astype(np.int32), eg_ptr=eg_ptr, eg_stop=eg_stop, eg_s=eg_s,
        opportunities=np.ascontiguousarray(np.hstack([opp_all[:, dest], ext_opp])),
        ranks=nearest_ranks(percentiles, len(deps)), cutoffs_s=np.round(cut * 60).astype(np.int64),
        decay_code=decay.code, decay_param=decay.param_s,
    )
    problem = AccessProblem(
        shared=shared, percentiles=np.asarray(percentiles, np.float64), dest_cell=dest_cell,
        dest_node=np.array([a.node if a.snapped else -1 for a in daccs], np.int64),
        dest_snap_m=np.array([a.snap_m if a.snapped else np.nan for a in daccs], np.float64),
        dest_xyz=sphere_xyz(dlat, dlon),
        origin_cell=origins.astype(np.int64), origin_lon=lon[origins], origin_lat=lat[origins],
        park_and_ride=park_and_ride, local_access=local_access, local_egress=local_egress,
    )
    report["destinations"] = len(dest_cell)
    report["destinations_outside_grid"] = len(ext_xy)
    report["destinations_off_streets"] = int((problem.dest_node < 0).sum())
    return problem, report


def run_problem(net: Network, problem: AccessProblem, *, chunk: int | None = None, executor=None,
                progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Every origin of a prepared problem through :func:`access_chunk`.

    The driver makes the chunks (access legs and direct legs need the street network);
    ``executor`` (:func:`planner.routing.execution.executor`; default: here, on numba threads) runs
    them. Without ``chunk``, a pilot chunk sizes the tasks (about 0.75 s each); chunks are
    also kept small enough that their arrival arrays (origins x departures x stops, int32)
    stay under about 256 MB. Returns the access array (origins, layers, percentiles,
    cutoffs) and the number of access stops per origin.
    """
    sh = problem.shared
    n = len(problem.origin_lon)
    out = np.zeros((n, sh.opportunities.shape[0], len(sh.ranks), len(sh.cutoffs_s)))
    n_stops = np.zeros(n, np.int32)
    cap = max(1, (256 << 20) // (4 * max(1, len(sh.deps)) * max(1, net.n_stops)))

    def made(a: int, c: OriginChunk) -> None:
        n_stops[a:a + len(c)] = np.diff(c.acc_ptr)

    run_in_chunks(executor, access_chunk, sh, n,
                  lambda a, b: make_chunk(net, problem, problem.origin_lon[a:b], problem.origin_lat[a:b]), out,
                  chunk=chunk, pilot=8, cap=cap, progress=progress, making="access legs", made=made)
    return out, n_stops
