"""Accessibility on a grid (``plan access``): cumulative and decay-weighted opportunities,
travel-time surfaces, and scenario-minus-baseline differences.

The pipeline
------------
1. **Grid** (:func:`planner.grid.make_grid`): square cells of ``resolution`` metres in a
   projected CRS (default: the UTM zone of the study area) over a study area.
2. **Origins**: every cell centroid inside the study area. Where origins walk to stops on a
   street network, a centroid farther than ``max_snap_m`` (default 300 m, R5's
   ``StreetLayer.LINK_RADIUS_METERS``) from every street node is *nodata* and reported:
   a lake or a field has no meaningful access. Without a walk network, or with
   ``local_access`` (the urban taxi/bus approximation used at agglomeration scale), every
   cell in the study area is an origin.
3. **Opportunities** (:mod:`planner.grid`): counts aggregated to the grid, sums exact.
   Destinations are the cells with opportunities (every origin cell for a travel-time
   surface); they are reached by egress walks from stops (the same legs as
   :meth:`planner.network.Network.access`) or by a direct walk from the origin.
4. **Per origin** (:func:`compute_chunk`): access legs to stops (walking; optionally
   park-and-ride or the local approximation), range-RAPTOR over the departures of the
   window, egress to every destination, the direct walk when faster, then per destination
   the nearest-rank travel-time percentiles over the departures (exactly as
   :mod:`planner.traveltime` and ``plan matrix``) and the measures.
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

The unit of work is :func:`compute_chunk` over a chunk of origins: it takes the network and
an :class:`AccessProblem` (plain arrays and numbers, prepared once by :func:`prepare`) and
returns a :class:`ChunkResult`; :func:`assemble` puts chunk results back on the grid. The
local driver :func:`accessibility` runs chunks in order with numba threads inside each; the
distributed engine can ship the same problem and chunks to workers unchanged. Results do
not depend on the number of threads or on the chunk size.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from planner.errors import InputError
from planner.grid import (
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
from planner.kernels._options import jit, jit_parallel

if TYPE_CHECKING:
    from planner.network import Network

__all__ = [
    "DECAYS", "AccessProblem", "AccessResult", "Band", "ChunkResult", "Decay", "Grid", "Opportunities",
    "accessibility", "assemble", "census_opportunities", "compute_chunk", "decay_weight", "difference",
    "make_grid", "opportunities_from_points", "opportunities_from_polygons", "opportunities_from_raster",
    "prepare", "read_area", "read_opportunities", "travel_time_surface",
]

#: R5's StreetLayer.LINK_RADIUS_METERS: cell centroids farther from every street node are nodata
DEFAULT_MAX_SNAP_M = 300.0
DECAYS = ("step", "linear", "exponential", "logistic")
_UNREACHED = np.int64(1) << np.int64(62)
INF32 = np.int64(2_000_000_000)  # planner.routing.INF: a stop not reached


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

@dataclass
class AccessProblem:
    """Everything a chunk of origins needs besides the network: arrays and numbers only.

    ``dest_*`` describe the destinations (cells, then points outside the grid with
    ``dest_cell`` -1): egress legs as CSR (``eg_ptr``,
    ``eg_stop``, ``eg_s``), their walk-network node and snap distance (for direct walks),
    and local metres ``dest_xy`` (equirectangular around ``lat0``) for straight-line walks.
    ``opportunities`` is float64 (layers, destinations).
    """

    departures: np.ndarray
    percentiles: np.ndarray
    ranks: np.ndarray
    cutoffs_s: np.ndarray
    decay_code: int
    decay_param: float
    opportunities: np.ndarray
    dest_cell: np.ndarray
    eg_ptr: np.ndarray
    eg_stop: np.ndarray
    eg_s: np.ndarray
    dest_node: np.ndarray
    dest_snap_m: np.ndarray
    dest_xy: np.ndarray
    lat0: float
    origin_cell: np.ndarray
    origin_lon: np.ndarray
    origin_lat: np.ndarray
    park_and_ride: bool = False
    local_access: bool = False
    local_egress: bool = False

    @property
    def n_dest(self) -> int:
        return len(self.dest_cell)


@dataclass
class ChunkResult:
    """Results of a chunk of origins: ``access`` float64 (origins, layers, percentiles,
    cutoffs); ``times`` int32 (origins, percentiles, destinations) travel seconds, -1 when
    unreachable (only when asked for); ``n_stops`` int32 access stops per origin."""

    access: np.ndarray
    times: np.ndarray | None
    n_stops: np.ndarray


@jit_parallel
def _measures(at, deps, eg_ptr, eg_stop, eg_s, direct, opp, ranks, cutoffs_s, kind, param, max_dur, want_times):
    n, n_dep, _n_stops = at.shape
    n_dest = eg_ptr.shape[0] - 1
    n_lay = opp.shape[0]
    n_p = ranks.shape[0]
    n_c = cutoffs_s.shape[0]
    acc = np.zeros((n, n_lay, n_p, n_c))
    times = np.full((n if want_times else 0, n_p, n_dest), -1, np.int32)
    for i in numba.prange(n):
        at_t = np.ascontiguousarray(at[i].T)  # (stops, departures): one egress stop's times together
        best = np.empty(n_dep, np.int64)
        for j in range(n_dest):
            for d in range(n_dep):
                best[d] = _UNREACHED if direct[i, j] < 0 else deps[d] + direct[i, j]
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


def _access_legs(net: Network, lon: np.ndarray, lat: np.ndarray, lat0: float, *, park_and_ride: bool = False,
                 local: bool = False) -> list:
    """:meth:`Network.access` of many points, skipping the points with no stop in reach.

    A stop within a walk of ``access_max_s`` (or the local approximation's reach) lies
    within that many metres in a straight line, so points without any stop in that radius
    get no legs without a search; only their snap to the walk network is kept (the direct
    walk needs it). The legs are exactly those of :meth:`Network.access`.
    """
    from scipy.spatial import cKDTree

    from planner.gtfs.consolidation import local_xy
    from planner.network import Access

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
        tree = cKDTree(local_xy(net.timetable.stop_lat, net.timetable.stop_lon, lat0))
        need = np.asarray(tree.query_ball_point(local_xy(lat, lon, lat0), radius, return_length=True)) > 0
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


def _direct_walk(net: Network, problem: AccessProblem, accs: list, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Seconds of the direct leg from each origin to each destination (-1: none).

    Walking as ``plan matrix`` defines it: on the street network when both ends are on it,
    else the straight line times the detour factor, up to ``Config.access_max_s``. With
    ``local_access`` also the urban taxi/bus approximation (straight line times the detour
    at ``Config.local_access_speed_kmh``, up to ``local_access_max_s``): at agglomeration
    scale a cell reaches its own city without a train.
    """
    from scipy.spatial import cKDTree

    from planner.gtfs.consolidation import local_xy

    cfg = net.config
    speed, limit = cfg.walk_speed_mps, float(cfg.access_max_s)
    local_speed = cfg.local_access_speed_kmh / 3.6
    out = np.full((len(lon), problem.n_dest), -1, np.int32)
    if problem.n_dest == 0 or len(lon) == 0:
        return out
    oxy = local_xy(lat, lon, problem.lat0)
    tree = cKDTree(problem.dest_xy)
    # a street walk within the limit is never longer than limit * speed in a straight line
    radius = limit * speed * 1.01 + 1.0
    if problem.local_access:
        radius = max(radius, cfg.local_access_max_s * local_speed / cfg.straight_line_detour + 1.0)
    near = tree.query_ball_point(oxy, r=radius)
    where = np.full(net.walk.n_nodes, np.inf) if net.walk is not None else None
    for i, cand in enumerate(near):
        if not cand:
            continue
        cand = np.asarray(cand, dtype=np.int64)
        d = np.hypot(*(problem.dest_xy[cand] - oxy[i]).T) * cfg.straight_line_detour
        st = d / speed
        ok = st <= limit
        out[i, cand[ok]] = np.ceil(st[ok]).astype(np.int32)
        acc = accs[i]
        on_net = problem.dest_node[cand] >= 0
        if where is not None and acc.snapped and on_net.any():
            nodes, cost, _m, _p = net.walk.reach_index([int(acc.node)], source_cost=[acc.snap_m / speed],
                                                       cutoff=limit)
            where[nodes] = cost
            c2 = cand[on_net]
            t = where[problem.dest_node[c2]] + problem.dest_snap_m[c2] / speed
            within = np.isfinite(t) & (t <= limit)
            out[i, c2] = np.where(within, np.ceil(np.where(within, t, 0)), -1).astype(np.int32)
            where[nodes] = np.inf
        if problem.local_access:
            lt = d / local_speed
            ok = lt <= cfg.local_access_max_s
            cur = out[i, cand[ok]]
            lt_s = np.ceil(lt[ok]).astype(np.int32)
            out[i, cand[ok]] = np.where((cur < 0) | (lt_s < cur), lt_s, cur)
    return out


def compute_chunk(net: Network, problem: AccessProblem, lon, lat, *, times: bool = False) -> ChunkResult:
    """Access legs, range-RAPTOR, egress and measures for one chunk of origins.

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
    from planner.routing import range_earliest_arrival_many

    cfg = net.config
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    deps = np.ascontiguousarray(problem.departures, dtype=np.int32)
    accs = _access_legs(net, lon, lat, problem.lat0, park_and_ride=problem.park_and_ride, local=problem.local_access)
    ptr = np.zeros(len(accs) + 1, np.int64)
    ptr[1:] = np.cumsum([len(a.stops) for a in accs])
    stops = np.concatenate([a.stops for a in accs]).astype(np.int32) if accs else np.zeros(0, np.int32)
    secs = np.concatenate([a.seconds for a in accs]).astype(np.int32) if accs else np.zeros(0, np.int32)
    direct = _direct_walk(net, problem, accs, lon, lat)
    at = range_earliest_arrival_many(net.timetable, net.footpaths, net.change_s, ptr, stops, secs, deps,
                                     max_rounds=cfg.max_rides, max_duration_s=cfg.max_trip_duration_s)
    acc, tt = _measures(at, deps.astype(np.int64), problem.eg_ptr, problem.eg_stop, problem.eg_s, direct,
                        problem.opportunities, problem.ranks, problem.cutoffs_s, np.int64(problem.decay_code),
                        float(problem.decay_param), np.int64(cfg.max_trip_duration_s), bool(times))
    return ChunkResult(acc, tt if times else None, np.diff(ptr).astype(np.int32))


# ---------------------------------------------------------------------- preparing and assembling

def _ranks(percentiles, n: int) -> np.ndarray:
    out = []
    for p in percentiles:
        if not 0 <= p <= 100:
            msg = f"percentile {p} outside 0-100"
            raise InputError(msg, code="invalid_parameter")
        out.append(max(int(np.ceil(p / 100.0 * n)), 1))  # as planner.traveltime.nearest_rank
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
            local_egress: bool | None = None, destinations: str = "opportunities") -> tuple[AccessProblem, dict]:
    """The :class:`AccessProblem` of a grid, and a report of the grid's cells.

    ``destinations`` is ``"opportunities"`` (cells holding any opportunity) or ``"cells"``
    (every origin cell, for travel-time surfaces). ``local_egress`` (default: as
    ``local_access``) lets the destinations that are off the walk network be reached from
    stops by the urban taxi/bus approximation too: a city grid whose destinations include
    other cities' points, where no street network is modelled, needs it while its origins
    (and its own on-street destinations) still walk.
    """
    from planner.gtfs.consolidation import local_xy

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
    lat0 = float(np.nanmean(net.timetable.stop_lat)) if net.n_stops else float(np.mean(lat))
    daccs = _access_legs(net, dlon, dlat, lat0, local=local_access)
    off = np.asarray([i for i, a in enumerate(daccs) if not a.snapped], np.int64)
    if local_egress and not local_access and len(off):
        for i, a in zip(off, _access_legs(net, dlon[off], dlat[off], lat0, local=True), strict=True):
            daccs[i] = a
    eg_ptr = np.zeros(len(dest_cell) + 1, np.int64)
    eg_ptr[1:] = np.cumsum([len(a.stops) for a in daccs])
    eg_stop = np.concatenate([a.stops for a in daccs]).astype(np.int32) if daccs else np.zeros(0, np.int32)
    eg_s = np.concatenate([a.seconds for a in daccs]).astype(np.int32) if daccs else np.zeros(0, np.int32)
    origins = np.flatnonzero(valid)
    problem = AccessProblem(
        departures=deps, percentiles=np.asarray(percentiles, np.float64), ranks=_ranks(percentiles, len(deps)),
        cutoffs_s=np.round(cut * 60).astype(np.int64), decay_code=decay.code, decay_param=decay.param_s,
        opportunities=np.ascontiguousarray(np.hstack([opp_all[:, dest], ext_opp])), dest_cell=dest_cell,
        eg_ptr=eg_ptr, eg_stop=eg_stop, eg_s=eg_s,
        dest_node=np.array([a.node if a.snapped else -1 for a in daccs], np.int64),
        dest_snap_m=np.array([a.snap_m if a.snapped else np.nan for a in daccs], np.float64),
        dest_xy=local_xy(dlat, dlon, lat0).reshape(-1, 2), lat0=lat0,
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


def assemble(problem: AccessProblem, grid: Grid, layers: list[Opportunities], chunks: list[ChunkResult], *,
             cutoffs_min, decay: Decay) -> list[Band]:
    """Access bands from the chunk results (in origin order): one per layer, percentile
    and cutoff, named ``{layer}_{T}min_p{P}``; NaN where a cell is not an origin."""
    acc = np.concatenate([c.access for c in chunks]) if chunks else np.zeros((0, len(layers), len(problem.ranks),
                                                                              len(problem.cutoffs_s)))
    bands = []
    for m, lay in enumerate(layers):
        for pi, p in enumerate(problem.percentiles):
            for ci, c in enumerate(cutoffs_min):
                flat = np.full(grid.n_cells, np.nan)
                flat[problem.origin_cell] = acc[:, m, pi, ci]
                if decay.kind == "step":
                    unit, how = lay.unit, f"reachable within {_label(c)} min"
                else:
                    unit, how = f"weighted {lay.unit}", f"weighted by {decay.kind} decay at {_label(c)} min"
                desc = f"{lay.name} {how} (p{_label(p)} travel time over the window)"
                bands.append(Band(f"{lay.name}_{_label(c)}min_p{_label(p)}", flat.reshape(grid.shape), unit, desc,
                                  {"layer": lay.name, "cutoff_min": _label(c), "percentile": _label(p),
                                   "measure": "cumulative" if decay.kind == "step" else decay.kind}))
    return bands


def _run_chunks(net: Network, problem: AccessProblem, *, chunk: int, progress: bool, threads: int | None = None):
    from planner._progress import progress as bar
    from planner.kernels._options import numba_threads

    out = []
    n = len(problem.origin_lon)
    # keep the chunk's arrival array (origins x departures x stops, int32) under ~256 MB
    per_origin = 4 * max(1, len(problem.departures)) * max(1, net.n_stops)
    chunk = max(1, min(int(chunk), (256 << 20) // per_origin))
    with numba_threads(threads or net.config.threads), bar(total=n, enabled=progress, desc="origins", unit="origin") as pb:
        for a in range(0, n, max(1, chunk)):
            b = min(n, a + max(1, chunk))
            out.append(compute_chunk(net, problem, problem.origin_lon[a:b], problem.origin_lat[a:b]))
            pb.update(b - a)
    return out


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
                  local_egress: bool | None = None, chunk: int = 64, threads: int | None = None, progress: bool = False,
                  scenario: str = "baseline") -> AccessResult:
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
        Access modes besides walking (see :meth:`planner.network.Network.access`).
    local_egress
        Egress from stops to destinations by the local approximation too (default: as
        ``local_access``; see :func:`prepare`).
    chunk, threads
        Origins per work unit (:func:`compute_chunk`) and numba threads (default
        ``net.config.threads``); the result depends on neither.
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
                              local_egress=local_egress)
    chunks = _run_chunks(net, problem, chunk=chunk, progress=progress, threads=threads)
    bands = assemble(problem, grid, layers, chunks, cutoffs_min=cutoffs_min, decay=decay)
    n_stops = np.concatenate([c.n_stops for c in chunks]) if chunks else np.zeros(0, np.int32)
    report["origins_without_stops"] = int((n_stops == 0).sum())
    for lay in layers:
        report[f"{lay.name}_total"] = float(lay.total)
        report[f"{lay.name}_outside_grid_dropped"] = float(lay.outside)
        report[f"{lay.name}_outside_grid_points_kept"] = lay.external_total
    params = {"resolution_m": grid.resolution, "crs": grid.crs, "departure_s": departure_s, "window_min": window_min,
              "step_min": step_min, "percentiles": list(percentiles), "cutoffs_min": list(cutoffs_min),
              **decay.describe(), "max_snap_m": max_snap_m, "park_and_ride": park_and_ride,
              "local_access": local_access, "local_egress": problem.local_egress,
              "walk_speed_mps": net.config.walk_speed_mps, "access_max_s": net.config.access_max_s, "max_rides": net.config.max_rides}
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
