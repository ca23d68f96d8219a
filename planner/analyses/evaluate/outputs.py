"""The outputs of ``plan evaluate``: tables, a GeoPackage, maps and the report."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

from planner.analyses.evaluate.compare import Evaluation, matrix_long
from planner.common.atomic import OutputStage, write_bytes, write_text
from planner.common.timeofday import hhmm
from planner.outputs.maps import network_map, place_change_map
from planner.outputs.report import Report

if TYPE_CHECKING:
    from planner.network.timetable import Timetable

__all__ = ["write_outputs"]


def write_outputs(ev: Evaluation, tt: Timetable, out_dir: str | Path, *, overwrite: bool = False,
                  inputs: dict | None = None) -> list[Path]:
    """Write tables, a GeoPackage, maps and the HTML report; returns the written paths.

    Files (all in ``out_dir``): ``ranking.csv``; ``places.csv`` (per place and scenario:
    ``pop_within_{1,2,3}h`` (people), ``mean_travel_min`` and their ``delta_`` changes);
    ``matrix.csv`` and ``matrix.parquet`` (every ordered place pair: travel time in minutes
    per scenario and its change); ``evaluate.gpkg`` (layers ``places`` and
    ``candidate_lines``, EPSG:4326); ``map_baseline.png``, ``map_<scenario>.png``;
    ``report.html``; ``report.md`` (the report's text and tables as Markdown, for diffs);
    and what the scenario's added measures write (for a ``fare_policy`` with the fare card's
    measure: ``fares_<scenario>_od.csv``, the card's dividend per place pair, columns of
    :mod:`planner.analyses.fare_card.dividend`, and a report section).
    Written through a staging folder: a failure leaves no partial output.
    """
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
            for m in res.extra:
                m.write(stage, res.name)
                m.report_section(report, tt, res.name)
        notes = report.section("Method and assumptions")
        for n in ev.notes:
            notes.text(n, note=True)
        write_text(stage.path("report.html"), report.html())
        write_text(stage.path("report.md"), report.markdown())
        written = stage.written
    return written


def _window_text(ev: Evaluation) -> str:
    start = hhmm(ev.departure_s)
    if ev.window_min == 0:
        return start
    return f"{start} + {ev.window_min} min every {ev.step_min} min (median)"
