"""Evaluate candidate scenarios against the baseline (``plan evaluate``).

For the baseline and every scenario, on the same places (city points with populations),
date and departure window:

* the place-to-place door-to-door travel-time matrix (median over the window, minutes),
  with access and egress by walking on the street network where there is one and by the
  local taxi/bus approximation elsewhere (:meth:`planner.network.build.Network.access`);
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

A scenario holding a ``fare_policy`` (a unified fare card, with or without candidate lines)
also gets the card's dividend on the scenario's network (:mod:`planner.analyses.fare_card.dividend`:
separate fare systems vs the card, ticketing penalties included): ranking columns
``card_time_saved_min`` (population-weighted), ``card_time_saved_ticketing_min`` and
``card_time_saved_connection_min`` (the two effects), ``card_fare_change``,
``card_generalized_change_min`` and ``card_mix_changed_share``, a table per place pair and a
report section. The travel-time matrix itself has no fares or ticketing penalties, so a fare
policy alone does not move it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.config import Config
from planner.errors import InputError, NoServiceError

if TYPE_CHECKING:
    from planner.ingest.gtfs.feed import FeedSet
    from planner.network.build import Network
    from planner.network.streets import StreetNetwork
    from planner.scenarios.spec import Scenario

__all__ = ["Evaluation", "ScenarioResult", "evaluate", "load_places", "measures"]

log = logging.getLogger(__name__)

THRESHOLDS_MIN = (60, 120, 180)
#: ranking columns of a fare_policy scenario <- planner.analyses.fare_card.dividend summary keys
FARE_COLUMNS = {"card_time_saved_min": "pop_weighted_time_saved_min",
                "card_time_saved_ticketing_min": "pop_weighted_time_saved_ticketing_min",
                "card_time_saved_connection_min": "pop_weighted_time_saved_connection_min",
                "card_fare_change": "mean_fare_change", "card_generalized_change_min": "mean_generalized_change_min",
                "card_mix_changed_share": "share_journeys_mix_changed"}


def load_places(path: str | Path | None = None) -> pd.DataFrame:
    """Places with ``id``, ``name``, ``lon``, ``lat``, ``population`` (default: the bundled
    ``gtfs/cities.csv``). Also accepts ``city_id``/``name_en``/``name_zh`` column names."""
    from planner.common.bundled import data_root

    if path is None:
        root = data_root()
        path = root / "gtfs" / "cities.csv" if root else None
        if path is None or not Path(path).exists():
            msg = "no --places file given and no bundled gtfs/cities.csv"
            raise InputError(msg, code="input_unreadable", hint="pass --places FILE with id, lon, lat, population")
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        msg = f"cannot read places file {p}: {err}"
        raise InputError(msg, code="invalid_points_file") from err
    ren = {"city_id": "id", "name_en": "name"}
    df = df.rename(columns={k: v for k, v in ren.items() if k in df.columns and v not in df.columns})
    if "name" not in df.columns:
        df["name"] = df.get("name_zh", df.get("id", ""))
    missing = [c for c in ("id", "lon", "lat", "population") if c not in df.columns]
    if missing:
        msg = f"{p}: missing column(s) {', '.join(missing)} (found {', '.join(df.columns)})"
        raise InputError(msg, code="missing_required_column", hint="columns: id, name, lon, lat, population")
    out = pd.DataFrame({"id": df["id"].str.strip(), "name": df["name"]})
    for c in ("lon", "lat", "population"):
        vals = pd.to_numeric(df[c], errors="coerce")
        bad = vals.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            msg = f"{p}: row {row}: field '{c}' is not a number: {df[c].iloc[row - 2]!r}"
            raise InputError(msg, code="invalid_float")
        out[c] = vals.to_numpy(dtype=float)
    if "name_zh" in df.columns:
        out["name_zh"] = df["name_zh"]
    out["stop_id"] = ""
    return out


@dataclass
class ScenarioResult:
    """Travel times and measures of one network (baseline or scenario)."""

    name: str
    matrix_min: np.ndarray          # (n, n) median travel time, NaN unreachable
    report: list[dict] = field(default_factory=list)
    network_summary: dict = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)   # new lines: id, coords, length...
    fares: Any = None               # planner.analyses.fare_card.dividend.FareDividend of a fare_policy scenario
    fare_operators: dict = field(default_factory=dict)


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


def measures(T: np.ndarray, pop: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """Net measures of a travel-time matrix (minutes, NaN unreachable, diagonal ignored).

    ``mask`` limits the population-weighted mean to some pairs (e.g. reachable in both).
    """
    n = len(pop)
    off = ~np.eye(n, dtype=bool)
    reach = np.isfinite(T) & off
    m = reach if mask is None else (reach & mask)
    w = np.outer(pop, pop)
    mean = float((w[m] * T[m]).sum() / w[m].sum()) if m.any() else float("nan")
    out = {"pop_weighted_mean_min": mean, "reachable_pairs": int(reach.sum()), "pairs": int(off.sum())}
    for t in THRESHOLDS_MIN:
        out[f"share_within_{t // 60}h"] = float((reach & (T <= t)).sum() / max(off.sum(), 1))
    return out


def place_measures(T: np.ndarray, pop: np.ndarray) -> dict[str, np.ndarray]:
    """Per place: population reachable within 1/2/3 h, and population-weighted mean travel
    time to the other places it reaches."""
    n = len(pop)
    off = ~np.eye(n, dtype=bool)
    reach = np.isfinite(T) & off
    out = {}
    for t in THRESHOLDS_MIN:
        out[f"pop_within_{t // 60}h"] = ((reach & (T <= t)) * pop[None, :]).sum(axis=1)
    w = reach * pop[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_travel_min"] = np.where(w.sum(axis=1) > 0, (np.nan_to_num(T) * w).sum(axis=1) / w.sum(axis=1),
                                          np.nan)
    return out


def _matrix(net: Network, places: pd.DataFrame, depart_s: int, window_min: int, step_min: int,
            progress: bool, executor=None) -> np.ndarray:
    from planner.analyses.matrix import travel_time_matrix

    df = travel_time_matrix(net, places, places, departure_s=depart_s, window_min=window_min, step_min=step_min,
                            percentiles=(50,), local_access=True, progress=progress, executor=executor)
    col = "travel_time_min" if window_min == 0 else "p50_min"
    n = len(places)
    return df[col].to_numpy(dtype=float).reshape(n, n)


def evaluate(feeds: FeedSet, scenarios: list[Scenario], places: pd.DataFrame, *, date: str, depart_s: int,
             window_min: int = 180, step_min: int = 5, walk: StreetNetwork | None = None,
             config: Config | None = None, cache_dir: str | Path | None = None, progress: bool = False,
             executor=None, fare_params=None) -> Evaluation:
    """Evaluate ``scenarios`` against the baseline ``feeds`` (see the module docstring).

    ``executor`` (:func:`planner.routing.execution.executor`) runs the travel-time matrices (default:
    here, on numba threads); the results do not depend on it. A scenario with a
    ``fare_policy`` also gets the card's dividend on its own network
    (:func:`planner.analyses.fare_card.dividend.scenario_fare_dividend` with ``fare_params``; default: a
    60-minute window every 15 minutes from ``depart_s``): ``ScenarioResult.fares``."""
    from planner.network.build import build_network
    from planner.scenarios.apply import apply_to_feeds, apply_to_network, line_geometry

    config = config or Config()
    window = (0, max(36 * 3600, depart_s + 60 * window_min + 16 * 3600))
    pop = places["population"].to_numpy(dtype=float)
    base_net = build_network(feeds, date, window=window, walk=walk, config=config, cache_dir=cache_dir,
                             progress=progress)
    base = ScenarioResult("baseline", _matrix(base_net, places, depart_s, window_min, step_min, progress, executor),
                          network_summary=base_net.summary())
    results = []
    for scn in scenarios:
        fs2, report = apply_to_feeds(feeds, scn)
        try:
            net2 = build_network(fs2, date, window=window, walk=walk, config=config, cache_dir=cache_dir,
                                 progress=progress)
        except NoServiceError:
            # the scenario removed every trip of the date: nothing is reachable by transit
            n = len(places)
            res = ScenarioResult(scn.name, np.full((n, n), np.nan), report, {"trips": 0})
            results.append(res)
            continue
        net2 = apply_to_network(net2, scn)
        res = ScenarioResult(scn.name, _matrix(net2, places, depart_s, window_min, step_min, progress, executor), report,
                             net2.summary())
        _fares(res, net2, scn, places, depart_s, fare_params, executor, progress)
        from planner.scenarios.spec import AddLine

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


def _fares(res: ScenarioResult, net, scn, places, depart_s, fare_params, executor, progress) -> None:
    """The card's dividend of a scenario's fare_policy on the scenario's own network."""
    from planner.scenarios.spec import FarePolicy

    if not scn.of_kind(FarePolicy):
        return
    from dataclasses import replace

    from planner.analyses.fare_card.dividend import DividendParams, scenario_fare_dividend

    params = fare_params or DividendParams(window_min=60, step_min=15)
    params = replace(params, departure_s=depart_s)
    res.fares, res.fare_operators = scenario_fare_dividend(net, scn, places, params=params, executor=executor,
                                                           progress=progress)


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
    if any(r.fares is not None for r in ev.scenarios):  # fare columns only when a scenario has a card
        for row, res in zip(rows, ev.scenarios, strict=True):
            fs = res.fares.summary if res.fares is not None else {}
            for col, key in FARE_COLUMNS.items():
                row[col] = fs.get(key, float("nan"))
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


def write_outputs(ev: Evaluation, tt, out_dir: str | Path, *, overwrite: bool = False,
                  inputs: dict | None = None) -> list[Path]:
    """Write tables, a GeoPackage, maps and the HTML report; returns the written paths.

    Files (all in ``out_dir``): ``ranking.csv``; ``places.csv`` (per place and scenario:
    ``pop_within_{1,2,3}h`` (people), ``mean_travel_min`` and their ``delta_`` changes);
    ``matrix.csv`` and ``matrix.parquet`` (every ordered place pair: travel time in minutes
    per scenario and its change); ``evaluate.gpkg`` (layers ``places`` and
    ``candidate_lines``, EPSG:4326); ``map_baseline.png``, ``map_<scenario>.png``;
    ``report.html``; ``report.md`` (the report's text and tables as Markdown, for diffs);
    for a scenario with a ``fare_policy``, ``fares_<scenario>_od.csv`` (the card's dividend
    per place pair, columns of :mod:`planner.analyses.fare_card.dividend`) and a report section.
    Written through a staging folder: a failure leaves no partial output.
    """
    import io

    import geopandas as gpd
    from shapely.geometry import LineString, Point

    from planner.common.atomic import OutputStage, write_bytes, write_text
    from planner.outputs.maps import network_map, place_change_map
    from planner.outputs.report import Report

    long = matrix_long(ev)
    with OutputStage(out_dir, overwrite=overwrite) as stage:
        write_text(stage.path("ranking.csv"), ev.ranking.to_csv(index=False, lineterminator="\n"))
        write_text(stage.path("places.csv"), ev.per_place.to_csv(index=False, lineterminator="\n"))
        write_text(stage.path("matrix.csv"), long.to_csv(index=False, float_format="%.2f", lineterminator="\n"))
        buf = io.BytesIO()
        long.to_parquet(buf, index=False)
        write_bytes(stage.path("matrix.parquet"), buf.getvalue())
        pts = gpd.GeoDataFrame(ev.per_place.copy(), geometry=[Point(x, y) for x, y in
                                                           zip(ev.places["lon"], ev.places["lat"], strict=True)],
                               crs="EPSG:4326")
        lines = [dict(scenario=line["scenario"], line=line["line"], name=line["name"], route_type=line["mode"],
                      length_km=line["length_km"], cost_million=line["cost_million"],
                      stops=" | ".join(line["stop_names"]), geometry=LineString(line["coords"]))
                 for res in ev.scenarios for line in res.lines]
        gpkg = stage.path("evaluate.gpkg")
        pts.to_file(gpkg, layer="places", driver="GPKG")
        if lines:
            gpd.GeoDataFrame(lines, geometry="geometry", crs="EPSG:4326").to_file(gpkg, layer="candidate_lines",
                                                                                  driver="GPKG")
        report = Report("Candidate lines against the baseline", meta={
            "service date": ev.date, "departures": _window_text(ev), **(inputs or {})})
        sec = report.section("Ranking")
        sec.text("Scenarios ranked by the change of the population-weighted mean door-to-door travel time "
                 "between places (minutes; negative is better), over pairs reachable in both the baseline "
                 "and the scenario. Newly connected pairs are counted apart.")
        sec.table(ev.ranking)
        base_png = network_map(tt, ev.places, title=f"Baseline network, {ev.date}")
        write_bytes(stage.path("map_baseline.png"), base_png)
        report.section("Baseline").image(base_png, "Routes by mode and places sized by population").table(
            pd.DataFrame([ev.baseline.network_summary]), caption="Baseline network")
        for res in ev.scenarios:
            extra = [(line["coords"], f"{line['name']} ({line['length_km']:.0f} km)") for line in res.lines]
            delta = ev.per_place.get(f"{res.name}_delta_pop_within_2h")
            png = place_change_map(tt, ev.places, delta, title=f"{res.name}: change in population within 2 h",
                                   label="change in people reachable within 2 h", extra_lines=extra)
            write_bytes(stage.path(f"map_{res.name}.png"), png)
            s = report.section(f"Scenario {res.name}")
            if res.report:
                s.table(pd.DataFrame([{k: v for k, v in r.items() if k != "matched"} for r in res.report]),
                        caption="What the scenario changed")
            s.image(png, "Places coloured by the change of the population they reach within 2 hours")
            cols = ["id", "name", "population", f"{res.name}_delta_mean_travel_min",
                    f"{res.name}_delta_pop_within_1h", f"{res.name}_delta_pop_within_2h"]
            winners = ev.per_place[cols].sort_values(f"{res.name}_delta_mean_travel_min", kind="stable")
            s.table(winners, caption="Winners and losers (minutes and people)")
            if res.fares is not None:
                from planner.analyses.fare_card.outputs import report_section

                write_text(stage.path(f"fares_{res.name}_od.csv"),
                           res.fares.od.to_csv(index=False, float_format="%.3f", lineterminator="\n"))
                report_section(report, res.fares, tt, title=f"Scenario {res.name}: the unified fare card",
                               operators=res.fare_operators, pairs=10)
        notes = report.section("Method and assumptions")
        for n in ev.notes:
            notes.text(n, note=True)
        write_text(stage.path("report.html"), report.html())
        write_text(stage.path("report.md"), report.markdown())
        written = stage.written
    return written


def _window_text(ev: Evaluation) -> str:
    t = ev.departure_s
    start = f"{t // 3600:02d}:{t % 3600 // 60:02d}"
    if ev.window_min == 0:
        return start
    return f"{start} + {ev.window_min} min every {ev.step_min} min (median)"
