"""The outputs of ``plan evaluate``: tables, a GeoPackage, maps and the report."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

from planner.analyses.evaluate.compare import Evaluation, matrix_long
from planner.analyses.evaluate.interactive import map_page
from planner.analyses.evaluate.parameters import SOURCES
from planner.common.atomic import OutputStage, write_bytes, write_text
from planner.common.geodesy import haversine_m
from planner.common.timeofday import hhmm
from planner.outputs.context import context_note
from planner.outputs.maps import MapFrame, map_frame, network_map, place_change_map
from planner.outputs.report import PEOPLE, PERCENT, SIGNED, Report, settings_section
from planner.scenarios.costs import UNIT_COSTS

if TYPE_CHECKING:
    from planner.network.timetable import Timetable

__all__ = ["write_outputs"]


def write_outputs(ev: Evaluation, tt: Timetable, out_dir: str | Path, *, overwrite: bool = False,
                  inputs: dict | None = None, osm: str | Path | None = None,
                  settings: dict | None = None) -> list[Path]:
    """Write tables, a GeoPackage, maps and the HTML report; returns the written paths.

    ``settings``: the run's configuration record (what ``config.json`` holds), shown as the
    report's last section (:func:`planner.outputs.report.settings_section`).

    Files (all in ``out_dir``): ``ranking.csv`` (columns in :data:`GLOSSARY`); ``costs.csv``
    (every cost line of every scenario: quantity, unit cost, capital, yearly operating cost,
    table entry and source); ``sensitivity.csv`` (``case``, ``scenario``, ``bcr``,
    ``npv_million_cny``, ``rank``); ``coverage.csv`` (how each place is reached:
    :mod:`planner.analyses.evaluate.findings`); ``appraisal_inputs.csv`` (every parameter and
    unit cost with its value, unit and source or ASSUMED); ``places.csv`` (per place and scenario:
    ``pop_within_{1,2,3}h`` (people), ``mean_travel_min`` and their ``delta_`` changes);
    ``zones.csv`` when places are spread over weighted points (``place_id``, ``name``, ``lon``,
    ``lat``, ``weight``: people; the place's times are the weighted mean over its points);
    ``matrix.csv`` and ``matrix.parquet`` (every ordered place pair: travel time in minutes
    per scenario and its change); ``evaluate.gpkg`` (layers ``places`` and
    ``candidate_lines``, EPSG:4326); ``map_baseline.png``, ``map_<scenario>.png`` (one extent for all); ``map.html`` (an offline interactive
    map: :mod:`planner.analyses.evaluate.interactive`);
    ``report.html``; ``report.md`` (the report's text and tables as Markdown, for diffs);
    and what the scenario's added measures write (for a ``fare_policy`` with the fare card's
    measure: ``fares_<scenario>_od.csv``, the card's dividend per place pair, columns of
    :mod:`planner.analyses.fare_card.dividend`, and a report section).
    Written through a staging folder: a failure leaves no partial output. ``osm``: the OSM
    extract (``.osm.pbf``) the network was built from, for the maps' background where the
    bundled Natural Earth context does not reach.
    """
    long = matrix_long(ev)
    with OutputStage(out_dir, overwrite=overwrite) as stage:
        write_text(stage.path("ranking.csv"), ev.ranking.to_csv(index=False, lineterminator="\n"))
        costs = cost_table(ev)
        inputs_df = appraisal_inputs(ev)
        write_text(stage.path("costs.csv"), costs.to_csv(index=False, lineterminator="\n"))
        write_text(stage.path("sensitivity.csv"), ev.sensitivity.to_csv(index=False, lineterminator="\n"))
        write_text(stage.path("coverage.csv"), ev.coverage.to_csv(index=False, lineterminator="\n"))
        write_text(stage.path("appraisal_inputs.csv"), inputs_df.to_csv(index=False, lineterminator="\n"))
        write_text(stage.path("places.csv"), ev.per_place.to_csv(index=False, lineterminator="\n"))
        if len(ev.zones):
            write_text(stage.path("zones.csv"), ev.zones.to_csv(index=False, float_format="%.6f", lineterminator="\n"))
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
            "service date": ev.date_reason or ev.date, "departures": _window_text(ev), **(inputs or {})})
        rec = report.section("Recommendation")
        for sentence in ev.recommendation:
            rec.text(sentence)
        sec = report.section("Ranking")
        sec.text("Scenarios ranked by benefit-cost ratio (present value of the travel-time benefits over the "
                 "present value of the costs; scenarios without a cost last), then by the change of the "
                 "population-weighted mean door-to-door travel time between places (minutes; negative is better), "
                 "over pairs reachable in both the baseline and the scenario. Money in million CNY; the glossary at "
                 "the end gives each heading's column in ranking.csv and its meaning.")
        for caption, cols in RANKING_TABLES:
            sec.table(ev.ranking[[c for c in cols if c in ev.ranking]], caption=caption, labels=LABELS,
                      formats=FORMATS, float_format="{:,.2f}")
        csec = report.section("Costs")
        csec.text("Every cost line of every scenario: track by kind (new, upgraded; existing track costs nothing), "
                  "maintenance of new track, the change of train-km on the service date (times "
                  f"{ev.params.days_per_year:g} days) and the scenario's own fixed costs.")
        csec.table(costs.drop(columns="source"), float_format="{:,.2f}", labels=COST_LABELS)
        ssec = report.section("Sensitivity")
        ssec.text(f"Benefit-cost ratio of each scenario with capital, operating costs, demand and the value of "
                  f"time each swung by {ev.params.sensitivity:.0%} up (+) and down (-).")
        if len(ev.sensitivity):
            ssec.table(ev.sensitivity.pivot(index="scenario", columns="case", values="bcr").reset_index(),
                       float_format="{:,.2f}")
        cov = report.section("Coverage: where the data is thin")
        flagged = ev.coverage[ev.coverage["reached_by"] != "street network"]
        cov.text(f"{len(flagged)} of {len(ev.coverage)} places are unreachable or reached only by an approximation; "
                 "their travel times rest on the approximation named, and unreachable places' trips are not "
                 "valued. Each row says why and what would fix it.")
        for by, group in flagged.groupby("reached_by", sort=False):
            if by == "unreachable":
                for r in group.itertuples():
                    cov.text(f"{r.name} ({r.population:,} people) is unreachable: {r.reason}. Fix: {r.fix}.")
            else:
                first = group.iloc[0]
                cov.text(f"Reached by the {by} ({len(group)}: {', '.join(group['name'])}): "
                         f"{first['reason'].split('; ')[0]}. "
                         f"Fix: {first['fix']}.")
        cov.table(flagged.drop(columns=["reason", "fix"]), max_rows=500,
                  caption="Places not on the street network (coverage.csv has every place, with the reasons)")
        dem = report.section("Demand")
        dem.text(f"Trips a day between places: {ev.demand_basis}. With a scenario's times the trips change as "
                 f"(new time / old time)^-{ev.params.gravity_gamma:g}; benefits use the rule of a half.")
        frame = run_frame(ev, tt, osm=osm)
        base_png = network_map(tt, ev.places, title=f"Baseline network, {ev.date}", frame=frame)
        changes = {res.name: changed_elements(res, tt, ev.places) for res in ev.scenarios}
        write_text(stage.path("map.html"), map_page(ev, tt, frame, changes))
        write_bytes(stage.path("map_baseline.png"), base_png)
        report.section("Baseline").text(
            "An interactive map of the baseline and every scenario, with each place's figures in a popup, is in "
            "map.html beside this report (it works offline).", link=("map.html", "Open the interactive map")
        ).image(base_png, "Routes by mode and places sized by population").text(
            context_note(frame.context), note=True).table(
            pd.DataFrame([ev.baseline.network_summary]), caption="Baseline network")
        order = {name: i for i, name in enumerate(ev.ranking["scenario"])} if "scenario" in ev.ranking else {}
        for res in sorted(ev.scenarios, key=lambda r: order.get(r.name, len(order))):
            extra = [(line["coords"], f"{line['name']} ({line['length_km']:.0f} km{_track_words(line)})")
                     for line in res.lines]
            delta = ev.per_place.get(f"{res.name}_delta_mean_travel_min")
            png = place_change_map(tt, ev.places, delta, title=f"{res.name}: change of each place's mean "
                                   "door-to-door time to the others", label="change of mean time (minutes; "
                                   "negative: faster)", extra_lines=extra, frame=frame, cmap="RdYlGn_r",
                                   **changes[res.name])
            write_bytes(stage.path(f"map_{res.name}.png"), png)
            rank = order.get(res.name)
            s = report.section(f"Scenario {res.name}" + (f" (rank {rank + 1})" if rank is not None else ""))
            if res.description:
                s.text(res.description)
            if res.report:
                s.table(pd.DataFrame([{k: v for k, v in r.items() if k != "matched"} for r in res.report]),
                        caption="What the scenario changed")
            s.image(png, "Places coloured by the change of their mean door-to-door time to all other places (minutes); "
                    "what the scenario changes drawn on top")
            cols = ["name", "population", f"{res.name}_delta_mean_travel_min",
                    f"{res.name}_delta_pop_within_1h", f"{res.name}_delta_pop_within_2h"]
            winners = ev.per_place[cols].sort_values(f"{res.name}_delta_mean_travel_min", kind="stable")
            s.table(winners, caption="Winners and losers (places.csv has every column)", labels={
                f"{res.name}_delta_mean_travel_min": "change of mean time to the other places (min)",
                f"{res.name}_delta_pop_within_1h": "change of people reachable within 1 h",
                f"{res.name}_delta_pop_within_2h": "change of people reachable within 2 h"},
                formats={"population": PEOPLE, f"{res.name}_delta_mean_travel_min": "{:+,.1f}",
                         f"{res.name}_delta_pop_within_1h": SIGNED, f"{res.name}_delta_pop_within_2h": SIGNED})
            for m in res.extra:
                m.write(stage, res.name)
                m.report_section(report, tt, res.name)
        ins = report.section("Appraisal inputs")
        ins.text("Every figure the appraisal rests on, with its source, or ASSUMED and why (also in "
                 "appraisal_inputs.csv).")
        ins.table(inputs_df, max_rows=500)
        notes = report.section("Method and assumptions")
        for n in ev.notes + [n for res in ev.scenarios for n in res.costs.notes]:
            notes.text(n, note=True)
        gl = report.section("Glossary: the ranking's headings and the columns of ranking.csv")
        gl.table(pd.DataFrame([{"heading in this report": LABELS.get(k, k.replace("_", " ")), "column in ranking.csv": k,
                                "meaning": v} for k, v in GLOSSARY.items()]), max_rows=500)
        if settings is not None:
            settings_section(report, settings)
        write_text(stage.path("report.html"), report.html())
        write_text(stage.path("report.md"), report.markdown())
        written = stage.written
    return written


def run_frame(ev: Evaluation, tt: Timetable, *, osm: str | Path | None = None) -> MapFrame:
    """One extent for every map of the run: every stop, place and new line (with context:
    Natural Earth, else the OSM extract ``osm``)."""
    lon = [*tt.stop_lon, *ev.places["lon"]]
    lat = [*tt.stop_lat, *ev.places["lat"]]
    for res in ev.scenarios:
        for line in res.lines:
            lon += [c[0] for c in line["coords"]]
            lat += [c[1] for c in line["coords"]]
    return map_frame(lon, lat, osm=osm)


def changed_elements(res, tt: Timetable, places: pd.DataFrame) -> dict:
    """What a scenario changes, for its map: routes whose frequency changed, removed routes,
    new transfers (named after the nearest place) and the fare card's operators."""
    index = {str(s): i for i, s in enumerate(tt.stop_ids)}
    out: dict = {"changed_routes": [], "removed_routes": [], "connectors": [], "card_operators": []}
    for r in res.report:
        if r.get("change") == "adjust_headway":
            out["changed_routes"].append(str(r["route"]))
        elif r.get("change") == "remove_route":
            out["removed_routes"].append(str(r["route"]))
        elif r.get("change") == "add_transfer" and r.get("from") in index and r.get("to") in index:
            a, b = index[r["from"]], index[r["to"]]
            d = haversine_m(places["lat"].to_numpy(float), places["lon"].to_numpy(float),
                            float(tt.stop_lat[a]), float(tt.stop_lon[a]))
            near = str(places["name"].iloc[int(d.argmin())]) if len(places) else ""
            out["connectors"].append((float(tt.stop_lon[a]), float(tt.stop_lat[a]), float(tt.stop_lon[b]),
                                      float(tt.stop_lat[b]), f"new transfer connector ({near})"))
    for m in res.extra:  # a measure that names operators (the fare card's) has them drawn
        out["card_operators"] += list(getattr(m, "operators", None) or [])
    return out


def _track_words(line: dict) -> str:
    """How a new line's km are built, for its map label (new track says nothing more)."""
    kinds = set(line["change"].track)
    if kinds == {"existing"}:
        return " on existing track"
    if kinds == {"upgraded"}:
        return " of upgraded track"
    return "" if kinds == {"new"} else f", {line['change'].track.count('new')} new segment(s)"


def _window_text(ev: Evaluation) -> str:
    start = hhmm(ev.departure_s)
    if ev.window_min == 0:
        return start
    return f"{start} + {ev.window_min} min every {ev.step_min} min (median)"


#: the ranking columns shown in the report, in two tables that fit a page (ranking.csv has them all)
RANKING_TABLES = [
    ("Money (million CNY)", ["rank", "scenario", "bcr", "npv_million_cny", "capital_million_cny",
                             "operating_million_cny_per_year", "benefit_million_cny_per_year",
                             "cost_per_hour_saved_cny"]),
    ("Travel times and track", ["rank", "scenario", "delta_pop_weighted_mean_min", "hours_saved_per_year",
                                "baseline_share_within_2h", "share_within_2h", "pairs_newly_connected", "new_line_km",
                                "upgraded_track_km", "card_time_saved_min"]),
]

#: the report's heading (with its unit) of a ranking.csv column
LABELS = {
    "rank": "rank", "scenario": "scenario", "bcr": "benefit-cost ratio", "npv_million_cny": "net present value (M CNY)",
    "capital_million_cny": "capital (M CNY)", "operating_million_cny_per_year": "operating (M CNY a year)",
    "benefit_million_cny_per_year": "benefit (M CNY a year)", "cost_per_hour_saved_cny": "cost per hour saved (CNY)",
    "delta_pop_weighted_mean_min": "change of weighted mean time (min)",
    "pop_weighted_mean_min": "weighted mean time (min)", "baseline_pop_weighted_mean_min": "baseline weighted mean "
    "time (min)", "pairs_faster": "pairs faster", "pairs_slower": "pairs slower",
    "pairs_newly_connected": "pairs newly connected", "pairs_disconnected": "pairs disconnected",
    "share_within_2h": "pairs within 2 h", "baseline_share_within_2h": "baseline: pairs within 2 h",
    "line_km": "new services (km)", "new_line_km": "new track (km)", "upgraded_track_km": "upgraded track (km)",
    "train_km_per_day_change": "train-km a day added", "construction_years": "construction (years)",
    "hours_saved_per_year": "hours saved a year", "pv_benefit_million_cny": "present value of benefits (M CNY)",
    "pv_cost_million_cny": "present value of costs (M CNY)", "trips_per_day": "trips a day",
    "new_trips_per_day": "new trips a day", "card_time_saved_min": "fare card: time saved per journey (min)",
}

#: how the report shows ranking columns (others: two decimals)
FORMATS = {"hours_saved_per_year": PEOPLE, "share_within_2h": PERCENT, "baseline_share_within_2h": PERCENT,
           "pairs_newly_connected": "{:,.0f}", "new_line_km": "{:,.1f}", "upgraded_track_km": "{:,.1f}",
           "cost_per_hour_saved_cny": "{:,.1f}", "delta_pop_weighted_mean_min": "{:+,.2f}"}

#: costs.csv's columns as the report heads them
COST_LABELS = {"quantity_unit": "unit of quantity", "unit_cost": "unit cost", "unit": "unit of cost",
               "capital_million": "capital (M CNY)", "operating_million_per_year": "operating (M CNY a year)",
               "table_entry": "unit-cost table entry"}

#: ranking.csv's columns: meaning and unit
GLOSSARY = {
    "rank": "order by benefit-cost ratio, then by delta_pop_weighted_mean_min",
    "scenario": "the scenario's name",
    "delta_pop_weighted_mean_min": "change of the population-weighted mean door-to-door time over pairs reachable in "
                                   "both (minutes; negative is better)",
    "pop_weighted_mean_min": "population-weighted mean door-to-door time with the scenario (minutes)",
    "baseline_pop_weighted_mean_min": "the same on the baseline (minutes)",
    "pairs_faster": "ordered place pairs at least 0.5 min faster", "pairs_slower": "pairs at least 0.5 min slower",
    "pairs_newly_connected": "pairs with a journey only with the scenario (not valued in the benefit)",
    "pairs_disconnected": "pairs with a journey only on the baseline",
    "share_within_Nh": "share of ordered place pairs within N hours (scenario; baseline_ the baseline)",
    "line_km": "route length of the scenario's new line services (km)",
    "new_line_km": "new track built (route-km; track: new)",
    "upgraded_track_km": "existing track upgraded (route-km; track: upgraded)",
    "train_km_per_day_change": "train-km a day added (negative: removed) on the service date",
    "construction_years": "years of construction before the benefits start",
    "capital_million_cny": "capital cost (million CNY, undiscounted)",
    "operating_million_cny_per_year": "yearly operating cost: added train-km, new-track maintenance, fixed "
                                      "(million CNY a year)",
    "hours_saved_per_year": "passenger-hours saved a year (rule of a half)",
    "benefit_million_cny_per_year": "hours saved x value of time (million CNY a year)",
    "pv_benefit_million_cny": "present value of the benefits over the operating years (million CNY)",
    "pv_cost_million_cny": "present value of capital and operating costs (million CNY)",
    "npv_million_cny": "net present value: pv_benefit - pv_cost (million CNY)",
    "bcr": "benefit-cost ratio: pv_benefit / pv_cost (empty when the scenario costs nothing)",
    "cost_per_hour_saved_cny": "pv_cost / discounted hours saved (CNY per passenger-hour)",
    "trips_per_day": "trips a day between places reachable in both, with the scenario",
    "new_trips_per_day": "trips a day the scenario adds (induced by shorter times)",
    "card_time_saved_min": "the fare card's population-weighted time saving per journey (minutes), measured as "
                           "plan fares does (same window and step)",
}


def cost_table(ev: Evaluation) -> pd.DataFrame:
    """Every cost line of every scenario (``costs.csv``)."""
    rows = [{"scenario": res.name, **item} for res in ev.scenarios for item in res.costs.items]
    cols = ["scenario", "item", "quantity", "quantity_unit", "unit_cost", "unit", "capital_million",
            "operating_million_per_year", "table_entry", "source"]
    return pd.DataFrame(rows, columns=cols)


def appraisal_inputs(ev: Evaluation) -> pd.DataFrame:
    """Every input of the appraisal: value, unit, source (``appraisal_inputs.csv``)."""
    p = ev.params
    units = {"value_of_time_cny_per_h": "CNY per passenger-hour", "discount_rate": "per year",
             "operating_years": "years", "days_per_year": "days", "gravity_gamma": "", "population_exponent": "",
             "calibration_places": "place ids", "calibration_trips_per_year": "trips a year",
             "rail_route_factor": "track km per straight-line km", "sensitivity": "share"}
    rows = []
    for name, source in SOURCES.items():
        value = getattr(p, name)
        rows.append({"input": name, "value": ", ".join(value) if isinstance(value, tuple) else f"{value:g}",
                     "unit": units.get(name, ""), "source": source})
    for name, u in UNIT_COSTS.items():
        rows.append({"input": name, "value": f"{u.value:g}", "unit": u.unit, "source": u.source})
    rows.append({"input": "demand", "value": ev.demand_basis, "unit": "", "source": "computed"})
    return pd.DataFrame(rows)
