"""Evaluate candidate scenarios against the baseline (``plan evaluate``).

For the baseline and every scenario, on the same places (city points with populations),
date and departure window:

* the place-to-place door-to-door travel-time matrix (median over the window, minutes),
  with access and egress by walking on the street network where there is one and by the
  local taxi/bus approximation elsewhere (:meth:`planner.network.model.Network.access`);
* population-weighted mean travel time over the pairs reachable in both the baseline and
  the scenario: ``sum(P_i P_j T_ij) / sum(P_i P_j)`` over ordered pairs ``i != j``;
* accessibility per place: the population of the other places reachable within 1, 2 and
  3 hours;
* the share of place pairs within 1, 2 and 3 hours;
* winners and losers: per place, the change of its population-weighted mean travel time
  to the others and of its 2-hour accessibility;
* what each scenario costs and brings (:mod:`~planner.analyses.evaluate.appraisal`): track km by
  kind, capital and yearly operating cost, trips, hours saved, benefit, present values, NPV,
  benefit-cost ratio, cost per hour saved, and a sensitivity table;
* the coverage of every place and the recommendation in sentences
  (:mod:`~planner.analyses.evaluate.findings`).

Scenarios are ranked by benefit-cost ratio (highest first; scenarios without a cost last),
then by the change of the population-weighted mean travel time (the more negative, the
better); newly connected pairs are reported apart.

Other rooms add measures to the scenarios they concern through :class:`ScenarioMeasure`
(``measures=``): ``plan evaluate`` hands it the fare card's
(:class:`planner.analyses.fare_card.measure.CardMeasure`), so a scenario holding a
``fare_policy`` also gets the card's dividend on the scenario's network: ranking columns
``card_time_saved_min`` (population-weighted), ``card_time_saved_ticketing_min`` and
``card_time_saved_connection_min`` (the two effects), ``card_fare_change``,
``card_generalized_change_min`` and ``card_mix_changed_share``, a table per place pair and a
report section. The travel-time matrix itself has no fares or ticketing penalties, so a fare
policy alone does not move it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from planner.analyses.evaluate.appraisal import (
    ScenarioCosts,
    appraise,
    baseline_demand,
    scenario_costs,
    sensitivity,
    train_km_per_day,
)
from planner.analyses.evaluate.findings import coverage, recommendation
from planner.analyses.evaluate.parameters import SOURCES, AppraisalParams
from planner.analyses.metrics import THRESHOLDS_MIN, measures, place_measures
from planner.common.timeofday import departures
from planner.config import Config
from planner.errors import InputError, NoServiceError
from planner.network.build import build_network
from planner.routing.batch import door_to_door
from planner.routing.raptor import INF
from planner.routing.traveltime import travel_time_stats
from planner.scenarios.apply import apply_to_feeds, line_geometry
from planner.scenarios.network import scenario_network
from planner.scenarios.spec import AddLine

if TYPE_CHECKING:
    from planner.common.atomic import OutputStage
    from planner.ingest.gtfs.feed import FeedSet
    from planner.network.model import Network
    from planner.network.streets import StreetNetwork
    from planner.network.timetable import Timetable
    from planner.outputs.report import Report
    from planner.scenarios.spec import Scenario

__all__ = ["Evaluation", "ScenarioMeasure", "ScenarioMeasurement", "ScenarioResult", "evaluate", "matrix_long"]

log = logging.getLogger(__name__)


class ScenarioMeasurement(Protocol):
    """What a :class:`ScenarioMeasure` found for one scenario."""

    #: ranking columns (name -> value); scenarios without the measure get NaN
    columns: dict[str, float]

    def write(self, stage: OutputStage, scenario: str) -> None:
        """Write its tables into the output folder being staged."""

    def report_section(self, report: Report, tt: Timetable, scenario: str) -> None:
        """Add its section(s) to the report."""


class ScenarioMeasure(Protocol):
    """A measure another analysis adds to the scenarios it concerns (the fare card's dividend
    of a ``fare_policy``). The evaluate room does not import other analyses: the caller (the
    command line) hands it the measures to add."""

    def applies(self, scn: Scenario) -> bool:
        """Whether the scenario holds what this measure measures."""

    def measure(self, net: Network, scn: Scenario, places: pd.DataFrame, *, departure_s: int, executor=None,
                progress: bool = False) -> ScenarioMeasurement:
        """The measure on the scenario's network (``departure_s``: the evaluation's first departure)."""



@dataclass
class ScenarioResult:
    """Travel times and measures of one network (baseline or scenario)."""

    name: str
    matrix_min: np.ndarray          # (n, n) median travel time, NaN unreachable
    report: list[dict] = field(default_factory=list)
    network_summary: dict = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)   # new lines: id, coords, length...
    extra: list[ScenarioMeasurement] = field(default_factory=list)   # what the ScenarioMeasures added
    description: str = ""
    costs: ScenarioCosts = field(default_factory=ScenarioCosts)
    appraisal: dict = field(default_factory=dict)    # the appraisal columns of the ranking
    pairs: pd.DataFrame | None = None                # per place pair: minutes saved, trips, benefit
    new_line: bool = False                           # adds a line (a candidate for "best new line")


@dataclass
class Evaluation:
    places: pd.DataFrame
    baseline: ScenarioResult
    scenarios: list[ScenarioResult]
    date: str
    departure_s: int
    window_min: int
    step_min: int
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    per_place: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    params: AppraisalParams = field(default_factory=AppraisalParams)
    demand_basis: str = ""
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    recommendation: list[str] = field(default_factory=list)
    date_reason: str = ""
    zones: pd.DataFrame = field(default_factory=pd.DataFrame)


def zone_points(places: pd.DataFrame, zones: pd.DataFrame | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The points the matrix is routed between: each place's ``zones`` rows (``place_id``,
    ``lon``, ``lat``, ``weight``: e.g. its districts where its people live) or, without any,
    the place's own point with weight 1. Returns the points (``id``, ``lon``, ``lat``), the
    index of each point's place and the weights."""
    ids = places["id"].astype(str).to_numpy()
    if zones is None or not len(zones):
        return places, np.arange(len(places)), np.ones(len(places))
    unknown = sorted(set(zones["place_id"].astype(str)) - set(ids))
    if unknown:
        msg = f"zone points name places that are not among the places: {', '.join(unknown[:5])}"
        raise InputError(msg, code="unknown_place", hint="each zone point's place_id must be a place id")
    rows, owner, weight = [], [], []
    for i, pid in enumerate(ids):
        z = zones[zones["place_id"].astype(str) == pid]
        if len(z) and float(z["weight"].sum()) > 0:
            for k, (lon, lat, w) in enumerate(z[["lon", "lat", "weight"]].to_numpy(float)):
                rows.append({"id": f"{pid}#{k + 1}", "lon": lon, "lat": lat})
                owner.append(i)
                weight.append(w)
        else:
            row = {"id": pid, "lon": float(places["lon"].iloc[i]), "lat": float(places["lat"].iloc[i])}
            if "stop_id" in places:
                row["stop_id"] = places["stop_id"].iloc[i]
            rows.append(row)
            owner.append(i)
            weight.append(1.0)
    pts = pd.DataFrame(rows)
    if "stop_id" in pts:
        pts["stop_id"] = pts["stop_id"].fillna("")
    return pts, np.asarray(owner, np.int64), np.asarray(weight, float)


def aggregate_zones(minutes: np.ndarray, owner: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
    """Place-to-place minutes from point-to-point minutes: the weighted mean over the pairs
    of points (weight of origin point x weight of destination point) that are reachable;
    NaN where none is. A place's own entry is the weighted mean of its points' own entries
    (each point to itself), as with one point."""
    if len(owner) == n and np.array_equal(owner, np.arange(n)):
        return minutes
    out = np.full((n, n), np.nan)
    groups = [np.flatnonzero(owner == a) for a in range(n)]
    own = np.diag(minutes)
    for a, ia in enumerate(groups):
        for b, ib in enumerate(groups):
            m = own[ia] if a == b else minutes[np.ix_(ia, ib)]
            w = weight[ia] if a == b else np.outer(weight[ia], weight[ib])
            ok = np.isfinite(m)
            if ok.any():
                out[a, b] = float((m[ok] * w[ok]).sum() / w[ok].sum())
    return out


def _matrix(net: Network, places: pd.DataFrame, depart_s: int, window_min: int, step_min: int,
            progress: bool, executor=None, zones: pd.DataFrame | None = None) -> np.ndarray:
    """Median (over the window) door-to-door minutes between every pair of places, NaN
    unreachable; a place with ``zones`` (:func:`zone_points`) gets the weighted mean of its
    points' medians."""
    deps = departures(depart_s, window_min, step_min)
    pts, owner, weight = zone_points(places, zones)
    arrivals = door_to_door(net, pts, pts, deps, local_access=True, progress=progress, executor=executor)
    stats = travel_time_stats(arrivals.transpose(1, 0, 2), deps, percentiles=(50,), unreachable=INF)
    return aggregate_zones(stats["p50_min"], owner, weight, len(places))



def evaluate(feeds: FeedSet, scenarios: list[Scenario], places: pd.DataFrame, *, date: str, depart_s: int,
             window_min: int = 180, step_min: int = 5, walk: StreetNetwork | None = None,
             config: Config | None = None, cache_dir: str | Path | None = None, use_cache: bool = True,
             progress: bool = False, executor=None, measures: Sequence[ScenarioMeasure] = (),
             params: AppraisalParams | None = None, od: pd.DataFrame | None = None,
             date_reason: str = "", zones: pd.DataFrame | None = None) -> Evaluation:
    """Evaluate ``scenarios`` against the baseline ``feeds`` (see the module docstring).

    ``executor`` (:func:`planner.routing.execution.executor`) runs the travel-time matrices (default:
    here, on numba threads); the results do not depend on it. Scenario networks are built on
    the baseline's streets by :func:`~planner.scenarios.network.scenario_network`, through the
    cache in ``cache_dir`` unless ``use_cache`` is False. Each of ``measures`` adds its
    measure to the scenarios it applies to (``ScenarioResult.extra``). The appraisal
    (:mod:`~planner.analyses.evaluate.appraisal`) uses ``params`` (default: the sourced
    defaults) and the observed ``od`` table when given (:func:`~planner.analyses.evaluate.parameters.load_od`).
    ``zones`` (``place_id``, ``lon``, ``lat``, ``weight``) spreads a place over several weighted
    points, e.g. a city over its districts where its people live (:func:`zone_points`): its
    travel times are then the weighted mean over its points (:func:`aggregate_zones`)."""
    config = config or Config()
    params = params or AppraisalParams()
    window = (0, max(36 * 3600, depart_s + 60 * window_min + 16 * 3600))
    pop = places["population"].to_numpy(dtype=float)
    base_net = build_network(feeds, date, window=window, walk=walk, config=config, cache_dir=cache_dir,
                             use_cache=use_cache, progress=progress)
    base_train_km = train_km_per_day(base_net.timetable, params.rail_route_factor)
    base = ScenarioResult("baseline", _matrix(base_net, places, depart_s, window_min, step_min, progress, executor, zones),
                          network_summary=base_net.summary())
    results = []
    for scn in scenarios:
        try:
            applied = scenario_network(base_net, scn, cache_dir=cache_dir, use_cache=use_cache, progress=progress)
        except NoServiceError:
            # the scenario removed every trip of the date: nothing is reachable by transit
            n = len(places)
            res = ScenarioResult(scn.name, np.full((n, n), np.nan), apply_to_feeds(feeds, scn)[1], {"trips": 0},
                                 description=scn.description)
            res.costs = scenario_costs(scn, [], base_train_km, None, params)
            results.append(res)
            continue
        net2, fs2 = applied.network, applied.feeds
        res = ScenarioResult(scn.name, _matrix(net2, places, depart_s, window_min, step_min, progress, executor, zones),
                             applied.report, net2.summary(), description=scn.description)
        res.extra = [m.measure(net2, scn, places, departure_s=depart_s, executor=executor, progress=progress)
                     for m in measures if m.applies(scn)]
        for ch in scn.of_kind(AddLine):
            pts, seg = line_geometry(fs2, ch, scn)
            res.lines.append({"scenario": scn.name, "line": ch.id, "name": ch.name, "mode": ch.route_type,
                              "coords": [(p[0], p[1]) for p in pts], "stop_names": [p[2] for p in pts],
                              "length_km": float(seg.sum()) / 1000.0, "segment_km": (seg / 1000.0).tolist(),
                              "change": ch})
        res.new_line = bool(res.lines)
        res.costs = scenario_costs(scn, res.lines, base_train_km, net2.timetable, params)
        for line in res.lines:
            line["cost_million"] = res.costs.line_capital.get(line["line"], 0.0)
        results.append(res)
    ev = Evaluation(places, base, results, date, depart_s, window_min, step_min, params=params, date_reason=date_reason)
    if zones is not None:
        ev.zones = zones
    demand = baseline_demand(base.matrix_min, pop, places["id"].to_numpy(), params, od)
    ev.demand_basis = demand.basis
    for res in results:
        res.appraisal, res.pairs = appraise(base.matrix_min, res.matrix_min, demand, res.costs, params)
    ev.sensitivity = sensitivity([(r.name, r.appraisal, r.costs) for r in results], params)
    ev.coverage = coverage(base_net, places, base.matrix_min)
    _summarise(ev, pop)
    assumed = sum(v.startswith(("ASSUMED", "Derived")) for v in SOURCES.values())
    ev.recommendation = recommendation(ev.ranking, {r.name: r.pairs for r in results},
                                       {r.name for r in results if r.new_line}, places, ev.coverage, ev.sensitivity,
                                       params, assumed, len(SOURCES), {r.name: r.description for r in results},
                                       demand.basis)
    return ev


def _summarise(ev: Evaluation, pop: np.ndarray) -> None:
    rows = []
    per_place = {"id": ev.places["id"].to_numpy(), "name": ev.places["name"].to_numpy(), "population": pop}
    base_T = ev.baseline.matrix_min
    bm = measures(base_T, pop)
    bp = place_measures(base_T, pop)
    for k, v in bp.items():
        per_place[f"baseline_{k}"] = v
    for res in ev.scenarios:
        T = res.matrix_min
        both = np.isfinite(T) & np.isfinite(base_T)
        m_base = measures(base_T, pop, both)
        m_scn = measures(T, pop, both)
        full = measures(T, pop)
        n = len(pop)
        off = ~np.eye(n, dtype=bool)
        newly = int((np.isfinite(T) & ~np.isfinite(base_T) & off).sum())
        lost = int((~np.isfinite(T) & np.isfinite(base_T) & off).sum())
        delta = m_scn["pop_weighted_mean_min"] - m_base["pop_weighted_mean_min"]
        with np.errstate(invalid="ignore"):
            diff = np.where(both & off, T - base_T, np.nan)
        length = sum(line["length_km"] for line in res.lines)
        rows.append({
            "scenario": res.name,
            "delta_pop_weighted_mean_min": delta,
            "pop_weighted_mean_min": m_scn["pop_weighted_mean_min"],
            "baseline_pop_weighted_mean_min": m_base["pop_weighted_mean_min"],
            "pairs_faster": int(np.nansum(diff < -0.5)), "pairs_slower": int(np.nansum(diff > 0.5)),
            "pairs_newly_connected": newly, "pairs_disconnected": lost,
            **{f"share_within_{t // 60}h": full[f"share_within_{t // 60}h"] for t in THRESHOLDS_MIN},
            **{f"baseline_share_within_{t // 60}h": bm[f"share_within_{t // 60}h"] for t in THRESHOLDS_MIN},
            "line_km": round(length, 1),
            "new_line_km": round(res.costs.new_track_km, 1),
            "upgraded_track_km": round(res.costs.upgraded_track_km, 1),
            "train_km_per_day_change": round(res.costs.train_km_per_day_change, 1),
            "construction_years": res.costs.construction_years,
            **res.appraisal,
        })
        pm = place_measures(T, pop)
        for k, v in pm.items():
            per_place[f"{res.name}_{k}"] = v
            per_place[f"{res.name}_delta_{k}"] = v - bp[k]
    # the added measures' columns, NaN for the scenarios they do not concern
    extra_cols = list(dict.fromkeys(c for res in ev.scenarios for m in res.extra for c in m.columns))
    for row, res in zip(rows, ev.scenarios, strict=True):
        given = {c: v for m in res.extra for c, v in m.columns.items()}
        for col in extra_cols:
            row[col] = given.get(col, float("nan"))
    ranking = pd.DataFrame(rows)
    if len(ranking):
        ranking = (ranking.assign(_key=-ranking["bcr"].astype(float).fillna(-np.inf))
                   .sort_values(["_key", "delta_pop_weighted_mean_min", "scenario"], kind="stable")
                   .drop(columns="_key").reset_index(drop=True))
        ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    ev.ranking = ranking
    ev.per_place = pd.DataFrame(per_place)


def matrix_long(ev: Evaluation) -> pd.DataFrame:
    """Every (from, to) pair: baseline and per-scenario median travel times and changes (min)."""
    ids = ev.places["id"].to_numpy()
    n = len(ids)
    data = {"from_id": np.repeat(ids, n), "to_id": np.tile(ids, n),
            "baseline_travel_time_min": ev.baseline.matrix_min.ravel()}
    for res in ev.scenarios:
        data[f"{res.name}_travel_time_min"] = res.matrix_min.ravel()
        data[f"{res.name}_change_min"] = (res.matrix_min - ev.baseline.matrix_min).ravel()
    df = pd.DataFrame(data)
    return df.loc[df["from_id"] != df["to_id"]].reset_index(drop=True)
