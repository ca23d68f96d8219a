"""Accessibility at (time, fare) cutoffs per raster cell, separate systems vs the unified card
(the raster of ``plan fares``; the card's dividend between places is :mod:`planner.analyses.fare_card`).

Same grid, origins, destinations, egress and direct legs as ``plan access``
(:func:`planner.analyses.access.accessibility.prepare`): for every origin cell and departure of the window,
the earliest arrival at every stop within each fare budget
(:func:`planner.routing.fares.budget_arrivals_many`, McRAPTOR with the ticketing penalties),
then egress to the destinations, the travel-time percentile over the departures and the
opportunities reached within each time cutoff (``t < T``, as ``plan access``), for the
separate systems and for the card. A destination reached by a direct walk costs nothing.
The search horizon is the longest time cutoff.

Bands (one per layer, time cutoff ``T``, fare cutoff ``F`` and variant):
``{layer}_{T}min_{F}{currency}_separate``, ``..._card`` and ``..._change`` (card minus
separate), in the layer's unit (people for the census layer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planner.analyses.access.problem import AccessShared, Decay, make_chunk, prepare
from planner.analyses.access.results import AccessResult, provenance
from planner.outputs.raster import Band
from planner.routing.batch import OriginChunk
from planner.routing.card_variants import fare_models
from planner.routing.execution import run_in_chunks
from planner.routing.fares import budget_arrivals_many, card_change_s
from planner.routing.opportunities import opportunities_reached
from planner.routing.traveltime import number_label

if TYPE_CHECKING:
    from planner.analyses.access.grid import Grid, Opportunities
    from planner.network.fares.policy import UnifiedCardPolicy
    from planner.network.fares.sample import FareSetup
    from planner.network.links import Footpaths
    from planner.network.model import Network
    from planner.network.timetable import Timetable
    from planner.routing.card_variants import DividendParams
    from planner.routing.fares import FareModel

__all__ = ["FareAccessShared", "fare_access", "fare_access_chunk"]


@dataclass(frozen=True)
class FareAccessShared:
    """Per-run constants: the access problem's (egress, opportunities, percentiles, time
    cutoffs, departures), the timetable, footpaths, change times and fare models of the two
    variants (separate, card), the fare cutoffs (currency units) and the search limits."""

    access: AccessShared
    tt: Timetable
    footpaths: Footpaths
    change: tuple[np.ndarray, ...]
    models: tuple[FareModel, ...]
    budgets: np.ndarray
    max_rounds: int
    max_duration_s: int


def fare_access_chunk(shared: FareAccessShared, chunk: OriginChunk) -> np.ndarray:
    """The work unit: float64 (origins, variants, fare cutoffs, layers, percentiles, time
    cutoffs) of opportunities reached, for one chunk of origin cells."""
    a = shared.access
    n, deps = len(chunk), np.asarray(a.deps, np.int32)
    D = len(deps)
    counts = np.diff(chunk.acc_ptr)
    rep = np.repeat(np.arange(n), D)
    ptr = np.zeros(n * D + 1, np.int64)
    ptr[1:] = np.cumsum(counts[rep])
    idx = np.concatenate([np.arange(chunk.acc_ptr[o], chunk.acc_ptr[o + 1]) for o in rep]) if n * D else \
        np.zeros(0, np.int64)
    stops = chunk.acc_stops[idx.astype(np.int64)]
    secs = chunk.acc_s[idx.astype(np.int64)]
    out = np.zeros((n, len(shared.models), len(shared.budgets), a.opportunities.shape[0], len(a.ranks),
                    len(a.cutoffs_s)))
    for v, model in enumerate(shared.models):
        at = budget_arrivals_many(shared.tt, shared.footpaths, shared.change[v], ptr, stops, secs,
                                  np.tile(deps, n), model, shared.budgets, max_rounds=shared.max_rounds,
                                  max_duration_s=shared.max_duration_s)
        for b in range(len(shared.budgets)):
            arr = np.ascontiguousarray(at[:, b, :].reshape(n, D, -1))
            acc, _ = opportunities_reached(arr, deps, (a.eg_ptr, a.eg_stop, a.eg_s), chunk, a.opportunities, a.ranks,
                                           a.cutoffs_s, decay_code=a.decay_code, decay_param=a.decay_param,
                                           max_duration_s=shared.max_duration_s)
            out[:, v, b] = acc
    return out


def fare_access(net: Network, setup: FareSetup, policy: UnifiedCardPolicy, grid: Grid, layers: list[Opportunities],
                *, params: DividendParams, time_cutoffs_min=(120, 180), fare_cutoffs=(100.0,),
                percentile: float = 50, max_snap_m: float = 300.0, local_egress: bool = True, feeds=None,
                executor=None, chunk: int | None = None, progress: bool = False) -> AccessResult:
    """Accessibility of every origin cell at (time, fare) cutoffs, separate vs card (module
    docstring). ``params`` gives the departures, penalties and search limits
    (:class:`~planner.analyses.fare_card.dividend.DividendParams`); the horizon is the longest time
    cutoff (at most ``params.max_duration_s``)."""
    tt = net.timetable
    if feeds is None and setup.distance_column is not None:
        feeds = net.load_feeds()
    problem, report = prepare(net, grid, layers, departure_s=params.departure_s, window_min=params.window_min,
                              step_min=params.step_min, percentiles=(percentile,), cutoffs_min=time_cutoffs_min,
                              decay=Decay(), max_snap_m=max_snap_m, local_access=False, local_egress=local_egress)
    sep, _tick, card = fare_models(tt, setup, policy, params, feeds)
    horizon = int(min(params.max_duration_s, round(max(time_cutoffs_min) * 60)))
    shared = FareAccessShared(problem.shared, tt, net.footpaths,
                              (np.asarray(net.change_s, np.int32), card_change_s(tt, card, net.change_s)),
                              (sep, card), np.asarray(fare_cutoffs, np.float64), int(params.max_rounds), horizon)
    n = len(problem.origin_lon)
    out = np.zeros((n, 2, len(fare_cutoffs), len(layers), 1, len(time_cutoffs_min)))
    run_in_chunks(executor, fare_access_chunk, shared, n,
                  lambda a, b: make_chunk(net, problem, problem.origin_lon[a:b], problem.origin_lat[a:b]), out,
                  chunk=chunk, pilot=4, progress=progress, desc="cells")
    cur = sep.currency or "fare"
    bands = []
    for m, lay in enumerate(layers):
        for fi, f in enumerate(fare_cutoffs):
            for ci, c in enumerate(time_cutoffs_min):
                vals = []
                for v in range(2):
                    flat = np.full(grid.n_cells, np.nan)
                    flat[problem.origin_cell] = out[:, v, fi, m, 0, ci]
                    vals.append(flat.reshape(grid.shape))
                flab = number_label(f) if np.isfinite(f) else "any"
                stem = f"{lay.name}_{number_label(c)}min_{flab}{cur}"
                tags = {"layer": lay.name, "cutoff_min": number_label(c), "fare_cutoff": flab, "currency": cur,
                        "percentile": number_label(percentile)}
                what = f"{lay.name} reachable within {number_label(c)} min for at most {flab} {cur}"
                bands.append(Band(f"{stem}_separate", vals[0], lay.unit, f"{what}, separate fare systems",
                                  {**tags, "variant": "separate"}))
                bands.append(Band(f"{stem}_card", vals[1], lay.unit, f"{what}, with the unified card",
                                  {**tags, "variant": "card"}))
                bands.append(Band(f"{stem}_change", vals[1] - vals[0], f"change in {lay.unit}",
                                  f"card minus separate: {lay.name} within {number_label(c)} min, fare <= {flab} {cur}",
                                  {**tags, "variant": "change"}))
    valid = np.zeros(grid.n_cells, bool)
    valid[problem.origin_cell] = True
    prm = {"resolution_m": grid.resolution, "crs": grid.crs, "departure_s": params.departure_s,
           "window_min": params.window_min, "step_min": params.step_min, "percentile": percentile,
           "time_cutoffs_min": list(time_cutoffs_min),
           "fare_cutoffs": [float(f) if np.isfinite(f) else "any" for f in fare_cutoffs], "currency": cur,
           "policy": policy.name, "max_rounds": params.max_rounds, "horizon_s": horizon,
           "penalty_default_s": params.penalty.default_s, "penalty_by_mode_s": dict(params.penalty.by_mode)}
    return AccessResult(grid, bands, valid.reshape(grid.shape), provenance(net, prm, layers=layers,
                                                                          scenario=policy.name), report)
