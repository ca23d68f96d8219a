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
   :mod:`planner.routing.traveltime` and ``plan matrix``) and the measures.
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

The work is split as :mod:`planner.routing.execution` expects (:mod:`planner.analyses.access.problem`:
:func:`~planner.analyses.access.problem.prepare`, the work unit
:func:`~planner.analyses.access.problem.access_chunk`, :func:`~planner.analyses.access.problem.run_problem`);
:func:`assemble` puts the rows back on the grid as :class:`~planner.outputs.raster.Band` s of an
:class:`~planner.analyses.access.results.AccessResult`. Results do not depend on the number
of threads, the chunk size or the executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from planner.analyses.access.problem import (
    DEFAULT_MAX_SNAP_M,
    AccessProblem,
    Decay,
    compute_chunk,
    prepare,
    run_problem,
)
from planner.analyses.access.results import AccessResult, difference, provenance
from planner.outputs.raster import Band
from planner.routing.traveltime import number_label

if TYPE_CHECKING:
    from planner.analyses.access.grid import Grid, Opportunities
    from planner.network.model import Network

__all__ = ["accessibility", "assemble", "runs", "travel_time_surface"]


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
                    unit, how = lay.unit, f"reachable within {number_label(c)} min"
                else:
                    unit, how = f"weighted {lay.unit}", f"weighted by {decay.kind} decay at {number_label(c)} min"
                desc = f"{lay.name} {how} (p{number_label(p)} travel time over the window)"
                bands.append(Band(f"{lay.name}_{number_label(c)}min_p{number_label(p)}", flat.reshape(grid.shape), unit, desc,
                                  {"layer": lay.name, "cutoff_min": number_label(c), "percentile": number_label(p),
                                   "measure": "cumulative" if decay.kind == "step" else decay.kind}))
    return bands


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
        bands.append(Band(f"travel_time_p{number_label(p)}_min", flat.reshape(grid.shape), "minutes",
                          f"travel time from ({lon:.5f}, {lat:.5f}), p{number_label(p)} over the window",
                          {"percentile": number_label(p), "measure": "travel_time"}))
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


def runs(nets: dict, grid: Grid, layers: list[Opportunities], origin, run: dict, common: dict) -> dict:
    """The accessibility (and travel-time surface from ``origin``, (lon, lat)) results of
    ``grid`` on every network of ``nets`` (file-stem suffix -> (network, label): ``""`` the
    baseline, ``"_scenario"``), plus the differences scenario minus baseline (``*_diff``).
    ``run`` holds :func:`accessibility`'s cutoffs, decay, progress and executor, ``common``
    the departure and access settings both functions take."""
    results = {}
    for suffix, (n, label) in nets.items():
        if layers:
            results[f"access{suffix}"] = accessibility(n, grid, layers, scenario=label, **run, **common)
        if origin is not None:
            results[f"travel_time{suffix}"] = travel_time_surface(
                n, grid, origin[0], origin[1], scenario=label, **common)
    for key in [k for k in results if not k.endswith("_scenario")]:
        if f"{key}_scenario" in results:
            results[f"{key}_diff"] = difference(results[f"{key}_scenario"], results[key])
    return results
