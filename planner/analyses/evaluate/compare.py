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
* the new line length and, with ``cost_per_km_million``, its cost and the cost per
  minute of population-weighted time saved.

Scenarios are ranked by the change of the population-weighted mean travel time (the more
negative, the better); newly connected pairs are reported apart.

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

from planner.analyses.metrics import THRESHOLDS_MIN, measures, place_measures
from planner.common.timeofday import departures
from planner.config import Config
from planner.errors import NoServiceError
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


def _matrix(net: Network, places: pd.DataFrame, depart_s: int, window_min: int, step_min: int,
            progress: bool, executor=None) -> np.ndarray:
    """Median (over the window) door-to-door minutes between every pair of places, NaN unreachable."""
    deps = departures(depart_s, window_min, step_min)
    arrivals = door_to_door(net, places, places, deps, local_access=True, progress=progress, executor=executor)
    stats = travel_time_stats(arrivals.transpose(1, 0, 2), deps, percentiles=(50,), unreachable=INF)
    return stats["p50_min"]



def evaluate(feeds: FeedSet, scenarios: list[Scenario], places: pd.DataFrame, *, date: str, depart_s: int,
             window_min: int = 180, step_min: int = 5, walk: StreetNetwork | None = None,
             config: Config | None = None, cache_dir: str | Path | None = None, use_cache: bool = True,
             progress: bool = False, executor=None, measures: Sequence[ScenarioMeasure] = ()) -> Evaluation:
    """Evaluate ``scenarios`` against the baseline ``feeds`` (see the module docstring).

    ``executor`` (:func:`planner.routing.execution.executor`) runs the travel-time matrices (default:
    here, on numba threads); the results do not depend on it. Scenario networks are built on
    the baseline's streets by :func:`~planner.scenarios.network.scenario_network`, through the
    cache in ``cache_dir`` unless ``use_cache`` is False. Each of ``measures`` adds its
    measure to the scenarios it applies to (``ScenarioResult.extra``)."""
    config = config or Config()
    window = (0, max(36 * 3600, depart_s + 60 * window_min + 16 * 3600))
    pop = places["population"].to_numpy(dtype=float)
    base_net = build_network(feeds, date, window=window, walk=walk, config=config, cache_dir=cache_dir,
                             use_cache=use_cache, progress=progress)
    base = ScenarioResult("baseline", _matrix(base_net, places, depart_s, window_min, step_min, progress, executor),
                          network_summary=base_net.summary())
    results = []
    for scn in scenarios:
        try:
            applied = scenario_network(base_net, scn, cache_dir=cache_dir, use_cache=use_cache, progress=progress)
        except NoServiceError:
            # the scenario removed every trip of the date: nothing is reachable by transit
            n = len(places)
            res = ScenarioResult(scn.name, np.full((n, n), np.nan), apply_to_feeds(feeds, scn)[1], {"trips": 0})
            results.append(res)
            continue
        net2, fs2 = applied.network, applied.feeds
        res = ScenarioResult(scn.name, _matrix(net2, places, depart_s, window_min, step_min, progress, executor),
                             applied.report, net2.summary())
        res.extra = [m.measure(net2, scn, places, departure_s=depart_s, executor=executor, progress=progress)
                     for m in measures if m.applies(scn)]
        for ch in scn.of_kind(AddLine):
            pts, seg = line_geometry(fs2, ch, scn)
            res.lines.append({"scenario": scn.name, "line": ch.id, "name": ch.name, "mode": ch.route_type,
                              "coords": [(p[0], p[1]) for p in pts], "stop_names": [p[2] for p in pts],
                              "length_km": float(seg.sum()) / 1000.0,
                              "cost_million": None if ch.cost_per_km_million is None
                              else ch.cost_per_km_million * float(seg.sum()) / 1000.0})
        results.append(res)
    ev = Evaluation(places, base, results, date, depart_s, window_min, step_min)
    _summarise(ev, pop)
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
        costs = [line["cost_million"] for line in res.lines if line["cost_million"] is not None]
        cost = sum(costs) if costs else None
        rows.append({
            "scenario": res.name,
            "delta_pop_weighted_mean_min": delta,
            "pop_weighted_mean_min": m_scn["pop_weighted_mean_min"],
            "baseline_pop_weighted_mean_min": m_base["pop_weighted_mean_min"],
            "pairs_faster": int(np.nansum(diff < -0.5)), "pairs_slower": int(np.nansum(diff > 0.5)),
            "pairs_newly_connected": newly, "pairs_disconnected": lost,
            **{f"share_within_{t // 60}h": full[f"share_within_{t // 60}h"] for t in THRESHOLDS_MIN},
            **{f"baseline_share_within_{t // 60}h": bm[f"share_within_{t // 60}h"] for t in THRESHOLDS_MIN},
            "new_line_km": round(length, 1),
            "cost_million": None if cost is None else round(cost, 1),
            "cost_million_per_min_saved": (None if cost is None or not delta < 0 else round(cost / -delta, 1)),
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
        ranking = ranking.sort_values(["delta_pop_weighted_mean_min", "scenario"], kind="stable").reset_index(drop=True)
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
