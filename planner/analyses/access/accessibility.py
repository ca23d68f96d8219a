"""Accessibility on a grid (``plan access``): cumulative and decay-weighted opportunities,
travel-time surfaces, and scenario-minus-baseline differences.

The pipeline
------------
1. **Grid** (:func:`planner.analyses.access.grid.make_grid`): square cells of ``resolution`` metres in a
   projected CRS (default: the UTM zone of the study area) over a study area.
2. **Origins**: every cell centroid inside the study area. Where origins walk to stops on a
   street network, a centroid farther than ``max_snap_m`` (default 300 m, R5's
   ``StreetLayer.LINK_RADIUS_METERS``) from every street node is *nodata* and reported:
   a lake or a field has no meaningful access. Without a walk network, or with
   ``local_access`` (the urban taxi/bus approximation used at agglomeration scale), every
   cell in the study area is an origin.
3. **Opportunities** (:mod:`planner.analyses.access.grid`): counts aggregated to the grid, sums exact.
   Destinations are the cells with opportunities (every origin cell for a travel-time
   surface); they are reached by egress walks from stops (the same legs as
   :meth:`planner.network.build.Network.access`) or by a direct walk from the origin.
4. **Per origin** (:func:`compute_chunk`): access legs to stops (walking; optionally
   park-and-ride or the local approximation), range-RAPTOR over the departures of the
   window, egress to every destination, the direct walk when faster, then per destination
   the nearest-rank travel-time percentiles over the departures (exactly as
   :mod:`planner.analyses.metrics` and ``plan matrix``) and the measures.
5. **Measures**: for each opportunity layer, percentile and cutoff ``T`` the sum of
   ``weight(t) * opportunities`` over destinations, with the decay functions of Conveyal R5
   (``com.conveyal.r5.analyst.decay``), ``t`` in whole seconds:

   * ``step``: 1 when ``t < T`` (cumulative opportunities; a journey of exactly ``T`` is
     outside, as in R5);
   * ``linear``: 1 up to ``T - w/2``, then falling in a straight line to 0 at ``T + w/2``
     (``w`` the width; R5's half-second table values ``1 - (i + 0.5) / w``);
   * ``exponential``: ``0.5 ** (t / T)``, ``T`` the half-life;
   * ``logistic``: the reversed logistic CDF with inflection ``T`` and standard deviation
     ``sd``, scaled to 1 at ``t = 0``.

   Unlike R5 there is no 120-minute ceiling anywhere: cutoffs of hours count, and the
   exponential weight does not drop to zero after two hours.

The work is split as :mod:`planner.routing.execution` expects: :func:`prepare` makes an
:class:`AccessProblem` whose :class:`AccessShared` holds the per-run constants (routing core,
departures, egress legs, opportunities, percentiles, cutoffs, decay) as plain arrays; the
driver makes one :class:`AccessChunk` per slice of origins with :func:`make_chunk` (access
and direct legs need the street network); the work unit :func:`access_chunk` (shared,
chunk) -> array runs range-RAPTOR, egress and the measures with numba threads, here or on
Dask workers (``executor=``); :func:`assemble` puts the rows back on the grid. Results do not
depend on the number of threads, the chunk size or the executor.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from planner.analyses.access.grid import (
    Grid,
    Opportunities,
    census_opportunities,
    make_grid,
    opportunities_from_points,
    opportunities_from_polygons,
    opportunities_from_raster,
    read_area,
    read_opportunities,
    transform_xy,
)
from planner.common.geodesy import arc_m, sphere_xyz
from planner.errors import InputError
from planner.kernels._options import jit, jit_parallel

if TYPE_CHECKING:
    from planner.analyses.matrix import RoutingCore
    from planner.network.build import Network

__all__ = [
    "DECAYS", "AccessChunk", "AccessProblem", "AccessResult", "AccessShared", "Band", "ChunkResult", "Decay",
    "Grid", "Opportunities", "access_chunk", "accessibility", "assemble", "census_opportunities", "compute_chunk",
    "decay_weight", "difference", "make_chunk", "make_grid", "opportunities_from_points",
    "opportunities_from_polygons", "opportunities_from_raster", "prepare", "read_area", "read_opportunities",
    "run_problem", "travel_time_surface",
]

#: R5's StreetLayer.LINK_RADIUS_METERS: cell centroids farther from every street node are nodata
DEFAULT_MAX_SNAP_M = 300.0
DECAYS = ("step", "linear", "exponential", "logistic")
_UNREACHED = np.int64(1) << np.int64(62)
INF32 = np.int64(2_000_000_000)  # planner.routing.raptor.INF: a stop not reached


# ---------------------------------------------------------------------- decay

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


@jit
def _weight(kind, param, cutoff_s, t):
    """Weight of an opportunity ``t`` seconds away (R5's decay functions, no 2-hour cap)."""
    if kind == 0:
        return 1.0 if t < cutoff_s else 0.0
    if kind == 1:
        half = np.int64(param) // 2
        i = t - (cutoff_s - half)
        if i < 0:
            return 1.0
        if i < np.int64(param):
            return 1.0 - (i + 0.5) / param
        return 0.0
    if kind == 2:
        if t <= 0:
            return 1.0
        return math.exp(math.log(0.5) / cutoff_s * t)
    scale = param * math.sqrt(3.0) / math.pi
    return (1.0 + math.exp(-cutoff_s / scale)) / (1.0 + math.exp((t - cutoff_s) / scale))


def decay_weight(decay: Decay, cutoff_min: float, seconds) -> np.ndarray:
    """Weights of travel times ``seconds`` (whole seconds) for one cutoff (minutes)."""
    t = np.atleast_1d(np.asarray(seconds, dtype=np.int64))
    c = np.int64(round(cutoff_min * 60))
    return np.array([_weight(decay.code, decay.param_s, c, v) for v in t])


# ---------------------------------------------------------------------- the work unit

@dataclass(frozen=True)
class AccessShared:
    """Per-run constants every chunk of origins needs: plain arrays and numbers only, sent
    once to each worker by :mod:`planner.routing.execution`.

    ``core`` is the routing core (:class:`planner.analyses.matrix.RoutingCore`); ``deps`` int32
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


@dataclass(frozen=True)
class AccessChunk:
    """A chunk of origins: access legs (CSR ``acc_*``) and direct legs to destinations
    (CSR ``dir_ptr``, ``dir_dest``, ``dir_s``: seconds), made by :func:`make_chunk`."""

    acc_ptr: np.ndarray
    acc_stops: np.ndarray
    acc_s: np.ndarray
    dir_ptr: np.ndarray
    dir_dest: np.ndarray
    dir_s: np.ndarray

    def __len__(self) -> int:
        return len(self.acc_ptr) - 1


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


@jit_parallel
def _measures(at, deps, eg_ptr, eg_stop, eg_s, dir_ptr, dir_dest, dir_s, opp, ranks, cutoffs_s, kind, param,
              max_dur, want_times):
    n, n_dep, _n_stops = at.shape
    n_dest = eg_ptr.shape[0] - 1
    n_lay = opp.shape[0]
    n_p = ranks.shape[0]
    n_c = cutoffs_s.shape[0]
    acc = np.zeros((n, n_lay, n_p, n_c))
    times = np.full((n if want_times else 0, n_p, n_dest), -1, np.int32)
    for i in numba.prange(n):
        at_t = np.ascontiguousarray(at[i].T)  # (stops, departures): one egress stop's times together
        direct = np.full(n_dest, -1, np.int64)
        for k in range(dir_ptr[i], dir_ptr[i + 1]):
            direct[dir_dest[k]] = dir_s[k]
        best = np.empty(n_dep, np.int64)
        for j in range(n_dest):
            for d in range(n_dep):
                best[d] = _UNREACHED if direct[j] < 0 else deps[d] + direct[j]
            for k in range(eg_ptr[j], eg_ptr[j + 1]):
                row = at_t[eg_stop[k]]
                e = eg_s[k]
                for d in range(n_dep):
                    a = row[d]
                    if a < INF32 and a + e < best[d]:
                        best[d] = a + e
            for d in range(n_dep):
                if best[d] < _UNREACHED:
                    best[d] -= deps[d]
                    if best[d] > max_dur:
                        best[d] = _UNREACHED
            best.sort()
            for p in range(n_p):
                t = best[ranks[p] - 1]
                if t >= _UNREACHED:
                    continue
                if want_times:
                    times[i, p, j] = t
                for c in range(n_c):
                    w = _weight(kind, param, cutoffs_s[c], t)
                    if w > 0.0:
                        for m in range(n_lay):
                            acc[i, m, p, c] += w * opp[m, j]
    return acc, times


def _run(shared: AccessShared, chunk: AccessChunk, want_times: bool) -> tuple[np.ndarray, np.ndarray]:
    from planner.kernels import raptor as _kraptor
    from planner.kernels._options import numba_threads

    c = shared.core
    deps = np.ascontiguousarray(shared.deps, dtype=np.int32)
    with numba_threads(c.threads):
        at = _kraptor.range_raptor_many(*c.tt, *c.fp, *c.stop_deps, chunk.acc_ptr, chunk.acc_stops, chunk.acc_s,
                                        deps, np.int32(c.max_rounds), np.int32(c.max_duration_s))
        return _measures(at, deps.astype(np.int64), shared.eg_ptr, shared.eg_stop, shared.eg_s, chunk.dir_ptr,
                         chunk.dir_dest, chunk.dir_s, shared.opportunities, shared.ranks, shared.cutoffs_s,
                         np.int64(shared.decay_code), float(shared.decay_param), np.int64(c.max_duration_s),
                         bool(want_times))


def access_chunk(shared: AccessShared, chunk: AccessChunk) -> np.ndarray:
    """The work unit: range-RAPTOR, egress and measures for one chunk of origins.

    A chunk function for :func:`planner.routing.execution.run_chunks` (local threads or Dask):
    arrays in, an array out whose first axis is the chunk's origins: access float64
    (origins, layers, percentiles, cutoffs), or with ``shared.want_times`` int32 travel
    seconds (origins, percentiles, destinations; -1 = not reached).
    """
    acc, times = _run(shared, chunk, shared.want_times)
    return times if shared.want_times else acc


def _access_legs(net: Network, lon: np.ndarray, lat: np.ndarray, *, park_and_ride: bool = False,
                 local: bool = False) -> list:
    """:meth:`Network.access` of many points, skipping the points with no stop in reach.

    A stop within a walk of ``access_max_s`` (or the local approximation's reach) lies
    within that many metres in a straight line, so points without any stop in that radius
    get no legs without a search; only their snap to the walk network is kept (the direct
    walk needs it). The legs are exactly those of :meth:`Network.access`.
    """
    from scipy.spatial import cKDTree

    from planner.network.build import Access

    cfg = net.config
    n = len(lon)
    if n == 0:
        return []
    if net.walk is not None:
        node, dist = net.walk.snap_index(lon, lat, max_distance_m=cfg.snap_max_m)
    else:
        node, dist = np.full(n, -1, np.int32), np.full(n, np.nan)
    need = np.ones(n, bool)
    if not park_and_ride and net.n_stops:
        radius = cfg.access_max_s * cfg.walk_speed_mps * 1.01 + 1.0
        if local:
            radius = max(radius, cfg.local_access_max_s * cfg.local_access_speed_kmh / 3.6 / cfg.straight_line_detour
                         * 1.01 + 1.0)
        # on the sphere, as Network.access measures: a chord is never longer than its arc
        tree = cKDTree(sphere_xyz(net.timetable.stop_lat, net.timetable.stop_lon))
        need = np.asarray(tree.query_ball_point(sphere_xyz(lat, lon), radius, return_length=True)) > 0
    elif not net.n_stops:
        need[:] = False
    out: list = [None] * n
    for i in np.flatnonzero(~need):
        snapped = bool(node[i] >= 0)
        out[i] = Access(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int8), snapped,
                        float(dist[i]) if snapped else np.nan, int(node[i]))
    idx = np.flatnonzero(need)
    if len(idx):
        _ptr, got = net.access_many(lon[idx], lat[idx], park_and_ride=park_and_ride, local=local)
        for i, a in zip(idx, got, strict=True):
            out[i] = a
    return out


def _direct_walk(net: Network, problem: AccessProblem, accs: list, lon: np.ndarray,
                 lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds of the direct leg from each origin to the destinations in reach, as CSR
    (``ptr``, ``dest``, ``seconds``).

    Walking as ``plan matrix`` defines it: on the street network when both ends are on it,
    else the straight line times the detour factor, up to ``Config.access_max_s``. With
    ``local_access`` also the urban taxi/bus approximation (straight line times the detour
    at ``Config.local_access_speed_kmh``, up to ``local_access_max_s``): at agglomeration
    scale a cell reaches its own city without a train.
    """
    from scipy.spatial import cKDTree

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


def make_chunk(net: Network, problem: AccessProblem, lon, lat) -> AccessChunk:
    """The driver's part of a chunk of origins (it needs the street network): access legs
    to stops (exactly :meth:`Network.access`) and direct legs to destinations."""
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    accs = _access_legs(net, lon, lat, park_and_ride=problem.park_and_ride, local=problem.local_access)
    ptr = np.zeros(len(accs) + 1, np.int64)
    ptr[1:] = np.cumsum([len(a.stops) for a in accs])
    stops = np.concatenate([a.stops for a in accs]).astype(np.int32) if accs else np.zeros(0, np.int32)
    secs = np.concatenate([a.seconds for a in accs]).astype(np.int32) if accs else np.zeros(0, np.int32)
    return AccessChunk(ptr, stops, secs, *_direct_walk(net, problem, accs, lon, lat))


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


# ---------------------------------------------------------------------- preparing and assembling

def _ranks(percentiles, n: int) -> np.ndarray:
    out = []
    for p in percentiles:
        if not 0 <= p <= 100:
            msg = f"percentile {p} outside 0-100"
            raise InputError(msg, code="invalid_parameter")
        out.append(max(int(np.ceil(p / 100.0 * n)), 1))  # as planner.analyses.metrics.nearest_rank
    return np.asarray(out, np.int64)


def departures(departure_s: int, window_min: int, step_min: int) -> np.ndarray:
    """Departure times (s) of a window, as ``plan matrix`` makes them."""
    if window_min < 0 or step_min < 1:
        msg = f"window must be >= 0 and step >= 1 minute (got {window_min}, {step_min})"
        raise InputError(msg, code="invalid_parameter")
    if window_min == 0:
        return np.array([departure_s], np.int64)
    return departure_s + 60 * np.arange(0, window_min, step_min, dtype=np.int64)


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
    from planner.analyses.matrix import RoutingCore

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
    daccs = _access_legs(net, dlon, dlat, local=local_access)
    off = np.asarray([i for i, a in enumerate(daccs) if not a.snapped], np.int64)
    if local_egress and not local_access and len(off):
        for i, a in zip(off, _access_legs(net, dlon[off], dlat[off], local=True), strict=True):
            daccs[i] = a
    eg_ptr = np.zeros(len(dest_cell) + 1, np.int64)
    eg_ptr[1:] = np.cumsum([len(a.stops) for a in daccs])
    eg_stop = np.concatenate([a.stops for a in daccs]).astype(np.int32) if daccs else np.zeros(0, np.int32)
    eg_s = np.concatenate([a.seconds for a in daccs]).astype(np.int32) if daccs else np.zeros(0, np.int32)
    origins = np.flatnonzero(valid)
    core = RoutingCore.from_network(net)
    if threads is not None:
        core = replace(core, threads=int(threads))
    shared = AccessShared(
        core=core, deps=deps.astype(np.int32), eg_ptr=eg_ptr, eg_stop=eg_stop, eg_s=eg_s,
        opportunities=np.ascontiguousarray(np.hstack([opp_all[:, dest], ext_opp])),
        ranks=_ranks(percentiles, len(deps)), cutoffs_s=np.round(cut * 60).astype(np.int64),
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


@dataclass
class Band:
    """One raster band: ``values`` (height, width) float64, NaN = nodata."""

    name: str
    values: np.ndarray
    unit: str
    description: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class AccessResult:
    """Bands on a grid, the origin cells (``valid``), provenance ``tags`` and a ``report``."""

    grid: Grid
    bands: list[Band]
    valid: np.ndarray
    tags: dict[str, str] = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    def band(self, name: str) -> Band:
        for b in self.bands:
            if b.name == name:
                return b
        msg = f"no band {name!r} (bands: {', '.join(b.name for b in self.bands)})"
        raise KeyError(msg)


def _label(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x).replace(".", "_")


def assemble(problem: AccessProblem, grid: Grid, layers: list[Opportunities], access: np.ndarray, *,
             cutoffs_min, decay: Decay) -> list[Band]:
    """Access bands from the access array (origins in :func:`prepare`'s order, layers,
    percentiles, cutoffs): one band per layer, percentile and cutoff, named
    ``{layer}_{T}min_p{P}``; NaN where a cell is not an origin."""
    bands = []
    for m, lay in enumerate(layers):
        for pi, p in enumerate(problem.percentiles):
            for ci, c in enumerate(cutoffs_min):
                flat = np.full(grid.n_cells, np.nan)
                flat[problem.origin_cell] = access[:, m, pi, ci]
                if decay.kind == "step":
                    unit, how = lay.unit, f"reachable within {_label(c)} min"
                else:
                    unit, how = f"weighted {lay.unit}", f"weighted by {decay.kind} decay at {_label(c)} min"
                desc = f"{lay.name} {how} (p{_label(p)} travel time over the window)"
                bands.append(Band(f"{lay.name}_{_label(c)}min_p{_label(p)}", flat.reshape(grid.shape), unit, desc,
                                  {"layer": lay.name, "cutoff_min": _label(c), "percentile": _label(p),
                                   "measure": "cumulative" if decay.kind == "step" else decay.kind}))
    return bands


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
    import time

    from planner.common.progress import progress as bar
    from planner.routing.execution import LocalExecutor, chunk_size, run_chunks

    sh = problem.shared
    n = len(problem.origin_lon)
    out = np.zeros((n, sh.opportunities.shape[0], len(sh.ranks), len(sh.cutoffs_s)))
    n_stops = np.zeros(n, np.int32)
    ex = executor if executor is not None else LocalExecutor()
    cap = max(1, (256 << 20) // (4 * max(1, len(sh.deps)) * max(1, net.n_stops)))
    done = 0
    if chunk is None and n:
        done = min(n, 8, cap)
        pilot = make_chunk(net, problem, problem.origin_lon[:done], problem.origin_lat[:done])
        t = time.perf_counter()
        out[:done] = access_chunk(sh, pilot)
        chunk = chunk_size((time.perf_counter() - t) / done, n - done, workers=ex.workers,
                           slowdown=getattr(ex, "slowdown", 1.0))
        n_stops[:done] = np.diff(pilot.acc_ptr)
    chunk = max(1, min(int(chunk or 1), cap))
    starts = list(range(done, n, chunk))
    chunks = []
    with bar(total=n - done, enabled=progress, desc="access legs", unit="origin") as pb:
        for a in starts:
            c = make_chunk(net, problem, problem.origin_lon[a:a + chunk], problem.origin_lat[a:a + chunk])
            n_stops[a:a + len(c)] = np.diff(c.acc_ptr)
            chunks.append(c)
            pb.update(len(c))
    run_chunks(ex, access_chunk, sh, chunks, out, starts, progress=progress)
    return out, n_stops


def provenance(net: Network, params: dict, *, layers=(), scenario: str = "baseline") -> dict[str, str]:
    """GeoTIFF metadata tags: inputs' digests, scenario, parameters, service date."""
    from planner import __version__

    feeds = {k: v.get("digest", "") if isinstance(v, dict) else str(v)
             for k, v in (net.inputs.get("feeds") or {}).items()}
    return {
        "planner_version": __version__, "service_date": str(net.timetable.service_date),
        "network_key": net.key, "gtfs_digests": json.dumps(feeds, sort_keys=True),
        "osm": str(net.inputs.get("osm", "")), "scenario": scenario,
        "parameters": json.dumps(params, sort_keys=True, default=str),
        "opportunities": json.dumps({lay.name: lay.provenance() for lay in layers}, sort_keys=True),
    }


def accessibility(net: Network, grid: Grid, layers: list[Opportunities], *, departure_s: int, window_min: int = 60,
                  step_min: int = 1, percentiles=(50,), cutoffs_min=(30, 60), decay: Decay | None = None,
                  max_snap_m: float = DEFAULT_MAX_SNAP_M, park_and_ride: bool = False, local_access: bool = False,
                  local_egress: bool | None = None, chunk: int | None = None, threads: int | None = None,
                  executor=None, progress: bool = False, scenario: str = "baseline") -> AccessResult:
    """Accessibility of every origin cell of ``grid`` to the opportunity ``layers``.

    Parameters
    ----------
    net
        The network (its timetable fixes the service date).
    grid
        From :func:`make_grid`.
    layers
        Opportunity layers on ``grid`` (several are computed in one pass).
    departure_s, window_min, step_min
        First departure (seconds after midnight) and the window of departures, as in
        ``plan matrix``.
    percentiles
        Travel-time percentiles over the departures (nearest rank).
    cutoffs_min
        Cutoffs in minutes; any length (no 120-minute ceiling).
    decay
        The decay function (default: step, i.e. cumulative opportunities).
    max_snap_m
        Cells farther than this from every walk-network node are nodata.
    park_and_ride, local_access
        Access modes besides walking (see :meth:`planner.network.build.Network.access`).
    local_egress
        Egress from stops to destinations by the local approximation too (default: as
        ``local_access``; see :func:`prepare`).
    chunk, threads, executor
        Origins per work unit (default: sized from a pilot chunk), numba threads (default
        ``net.config.threads``) and where the chunks run (:mod:`planner.routing.execution`: here by
        default, or Dask); the result depends on none of them.
    progress
        Show a progress bar over the origins.
    scenario
        Label written to the provenance tags.

    Returns
    -------
    AccessResult
        One band per layer, percentile and cutoff (see :func:`assemble`), in the layer's
        unit (weighted by the decay unless ``step``); NaN on cells that are not origins.
    """
    decay = decay or Decay()
    problem, report = prepare(net, grid, layers, departure_s=departure_s, window_min=window_min,
                              step_min=step_min, percentiles=percentiles, cutoffs_min=cutoffs_min, decay=decay,
                              max_snap_m=max_snap_m, park_and_ride=park_and_ride, local_access=local_access,
                              local_egress=local_egress, threads=threads)
    access, n_stops = run_problem(net, problem, chunk=chunk, executor=executor, progress=progress)
    bands = assemble(problem, grid, layers, access, cutoffs_min=cutoffs_min, decay=decay)
    report["origins_without_stops"] = int((n_stops == 0).sum())
    for lay in layers:
        report[f"{lay.name}_total"] = float(lay.total)
        report[f"{lay.name}_outside_grid_dropped"] = float(lay.outside)
        report[f"{lay.name}_outside_grid_points_kept"] = lay.external_total
    params = {"resolution_m": grid.resolution, "crs": grid.crs, "departure_s": departure_s, "window_min": window_min,
              "step_min": step_min, "percentiles": list(percentiles), "cutoffs_min": list(cutoffs_min),
              **decay.describe(), "max_snap_m": max_snap_m, "park_and_ride": park_and_ride,
              "local_access": local_access, "local_egress": problem.local_egress,
              "walk_speed_mps": net.config.walk_speed_mps, "access_max_s": net.config.access_max_s,
              "max_rides": net.config.max_rides}
    valid = np.zeros(grid.n_cells, bool)
    valid[problem.origin_cell] = True
    return AccessResult(grid, bands, valid.reshape(grid.shape), provenance(net, params, layers=layers,
                                                                          scenario=scenario), report)


def travel_time_surface(net: Network, grid: Grid, lon: float, lat: float, *, departure_s: int, window_min: int = 0,
                        step_min: int = 1, percentiles=(50,), max_snap_m: float = DEFAULT_MAX_SNAP_M,
                        park_and_ride: bool = False, local_access: bool = False, local_egress: bool | None = None,
                        scenario: str = "baseline") -> AccessResult:
    """Travel times (minutes) from one point to every origin cell of the grid.

    One band per percentile, ``travel_time_p{P}_min``; NaN where a cell is not an origin
    cell or cannot be reached. The values equal ``plan matrix`` from the point to the cell
    centroids.
    """
    problem, report = prepare(net, grid, [], departure_s=departure_s, window_min=window_min, step_min=step_min,
                              percentiles=percentiles, cutoffs_min=(), max_snap_m=max_snap_m,
                              park_and_ride=park_and_ride, local_access=local_access, local_egress=local_egress,
                              destinations="cells")
    res = compute_chunk(net, problem, [lon], [lat], times=True)
    bands = []
    for pi, p in enumerate(percentiles):
        flat = np.full(grid.n_cells, np.nan)
        t = res.times[0, pi].astype(np.float64)
        flat[problem.dest_cell] = np.where(t >= 0, t / 60.0, np.nan)
        bands.append(Band(f"travel_time_p{_label(p)}_min", flat.reshape(grid.shape), "minutes",
                          f"travel time from ({lon:.5f}, {lat:.5f}), p{_label(p)} over the window",
                          {"percentile": _label(p), "measure": "travel_time"}))
    report["reached_cells"] = int(np.isfinite(bands[0].values).sum()) if bands else 0
    report["origin_access_stops"] = int(res.n_stops[0])
    params = {"resolution_m": grid.resolution, "crs": grid.crs, "from_lon": lon, "from_lat": lat,
              "departure_s": departure_s, "window_min": window_min, "step_min": step_min,
              "percentiles": list(percentiles), "max_snap_m": max_snap_m, "park_and_ride": park_and_ride,
              "local_access": local_access, "local_egress": problem.local_egress,
              "walk_speed_mps": net.config.walk_speed_mps}
    valid = np.zeros(grid.n_cells, bool)
    valid[problem.dest_cell] = True
    return AccessResult(grid, bands, valid.reshape(grid.shape), provenance(net, params, scenario=scenario), report)


def difference(scenario: AccessResult, baseline: AccessResult) -> AccessResult:
    """Scenario minus baseline, band by band (same grid and bands required).

    A cell is NaN where either side is NaN (not an origin; for travel times, also
    unreachable on either side). Units become "change in ...".
    """
    if not scenario.grid.same_as(baseline.grid):
        msg = "the scenario and baseline results are on different grids"
        raise InputError(msg, code="grid_mismatch", hint="use the same area, resolution and CRS for both runs")
    names_s = [b.name for b in scenario.bands]
    names_b = [b.name for b in baseline.bands]
    if names_s != names_b:
        msg = f"the results have different bands ({names_s} vs {names_b})"
        raise InputError(msg, code="band_mismatch", hint="use the same cutoffs, percentiles and layers for both runs")
    bands = []
    for s, b in zip(scenario.bands, baseline.bands, strict=True):
        bands.append(Band(s.name, s.values - b.values, f"change in {s.unit}", f"change in {s.description}",
                          {**s.tags, "difference": "scenario - baseline"}))
    tags = {f"scenario_{k}": v for k, v in scenario.tags.items()}
    tags.update({f"baseline_{k}": v for k, v in baseline.tags.items()})
    tags["difference"] = "scenario - baseline"
    return AccessResult(scenario.grid, bands, scenario.valid & baseline.valid, tags,
                        {"scenario": scenario.report, "baseline": baseline.report})
