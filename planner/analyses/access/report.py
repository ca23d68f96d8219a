"""The report of ``plan access``: what each raster means, what it rests on, and where the
data is too thin to trust it, with the previews; ``report.html`` (self-contained) and
``report.md`` beside the GeoTIFFs.

One :class:`Run` per grid the command wrote (the city run and, on the bundled sample, the
agglomeration-scale run): its results (:class:`~planner.analyses.access.results.AccessResult`
per file stem: ``access``, ``access_scenario``, ``access_diff``, ``travel_time``...), its
opportunity layers and the PNG previews written for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.outputs.report import Report, settings_section

if TYPE_CHECKING:
    from planner.analyses.access.grid import Grid, Opportunities

__all__ = ["Run", "access_report", "rests_on"]


@dataclass
class Run:
    """One grid's results as the command wrote them."""

    title: str
    grid: Grid
    results: dict
    layers: list[Opportunities]
    #: file name prefix of this run's files ("" or "region_")
    prefix: str = ""
    #: PNG file name -> bytes, in the order written
    previews: dict[str, bytes] = field(default_factory=dict)
    #: sentences on the data of this run ("check the map data" and the like)
    notes: list[str] = field(default_factory=list)


_STEMS = {"access": "baseline", "access_scenario": "scenario", "access_diff": "change, scenario minus baseline",
          "travel_time": "travel time from the origin", "travel_time_scenario": "travel time, scenario",
          "travel_time_diff": "change of the travel time"}


def _band_rows(run: Run) -> pd.DataFrame:
    rows = []
    for key, res in run.results.items():
        for b in res.bands:
            v = np.asarray(b.values, float)
            v = v[np.isfinite(v)]
            q = np.percentile(v, [25, 50, 75]) if v.size else [np.nan] * 3
            rows.append({"file": f"{run.prefix}{key}.tif", "run": _STEMS.get(key, key), "band": b.name,
                         "unit": b.unit, "cells with a value": int(v.size),
                         "distinct values": len(np.unique(v)), "p25": q[0], "median": q[1], "p75": q[2],
                         "max": float(v.max()) if v.size else np.nan})
    return pd.DataFrame(rows)


def _counts_text(run: Run) -> str:
    rep = next(iter(run.results.values())).report
    g = run.grid
    parts = [f"{g.width} x {g.height} cells of {g.cell_size_text()}", f"in {g.crs}",
             f"{rep['origins']:,} origin cells", f"{rep['cells_outside_area']:,} outside the study area"]
    if rep.get("cells_beyond_local_access"):
        parts.append(f"{rep['cells_beyond_local_access']:,} with no station within "
                     f"{rep.get('local_access_reach_m', 0) / 1000:.0f} km (no data: the model says nothing of them)")
    if rep.get("cells_far_from_streets"):
        parts.append(f"{rep['cells_far_from_streets']:,} far from every street (no data)")
    return "Grid: " + ", ".join(parts) + "."


def _layers_table(run: Run) -> pd.DataFrame:
    return pd.DataFrame([{"layer": lay.name, "unit": lay.unit, "total in the input": lay.total,
                          "in the grid's cells": float(np.nansum(lay.values)),
                          "at points outside the grid (kept as destinations)": lay.external_total,
                          "dropped (outside the grid)": lay.outside,
                          "source": Path(lay.source).name or lay.source} for lay in run.layers])


def access_report(runs: list[Run], *, meta: dict, rests_on: list[str], settings: dict | None = None) -> Report:
    """The report: a section per run (what the grid holds, a table of every band, the notes
    on the data, the previews), what the figures rest on, a glossary and the settings."""
    report = Report("Accessibility", meta=meta)
    intro = report.section("What these maps show")
    intro.text("Each cell of a grid is an origin. For every departure of the window the door-to-door journey to "
               "every destination is routed (walking or the stated access, transit, egress); a band "
               "LAYER_{T}min_p{P} holds, per cell, the opportunities of the layer (people, weighted activity "
               "places) whose P-th percentile travel time over the departures is under T minutes. Higher is "
               "better; a difference band is the scenario minus the baseline.")
    intro.text("No data (grey) means the model says nothing of a cell: outside the study area, far from every "
               "street, or beyond the reach of the access approximation. '0 (none reached)' means the cell "
               "was routed and reaches nothing within the cutoff.", note=True)
    for run in runs:
        s = report.section(run.title)
        s.text(_counts_text(run))
        for note in run.notes:
            s.text(note, note=True)
        if run.layers:
            s.table(_layers_table(run), caption="Opportunity layers", formats={
                "total in the input": "{:,.0f}", "in the grid's cells": "{:,.0f}",
                "at points outside the grid (kept as destinations)": "{:,.0f}", "dropped (outside the grid)": "{:,.0f}"})
        s.table(_band_rows(run), caption="Every band: the spread of its values over the cells with a value",
                float_format="{:,.0f}")
        for name, png in run.previews.items():
            s.image(png, name)
    r = report.section("What the figures rest on")
    for line in rests_on:
        r.text(line)
    gl = report.section("Glossary")
    gl.table(pd.DataFrame([
        {"term": "LAYER_{T}min_p{P}", "meaning": "opportunities of LAYER reached within T minutes at the P-th "
                                                 "percentile of travel time over the departure window"},
        {"term": "p25, median, p75, max", "meaning": "quartiles and maximum of the band over the cells with a "
                                                      "value (no-data cells left out)"},
        {"term": "distinct values", "meaning": "how many different values the band holds: a handful means few "
                                               "opportunity points decide it"},
        {"term": "people", "meaning": "residents (census totals spread over homes, or city points)"},
        {"term": "weighted places", "meaning": "activity places from OSM, weighted (office 5, school 5, hospital "
                                               "20, shop 1, ...)"},
        {"term": "region_*", "meaning": "files of the agglomeration-scale run"},
    ]))
    if settings is not None:
        settings_section(report, settings)
    return report


def rests_on(net, day, layers: list, osm_report: dict | None, local: bool) -> list[str]:
    """What the figures rest on, in sentences for the report."""
    cfg = net.config
    out = [f"Transit: the timetables of {', '.join(net.timetable.feed_ids)} on {day}; walking at "
           f"{cfg.walk_speed_mps * 3.6:.1f} km/h on the OSM street network"
           + (f" ({Path(net.walk.meta['source_path']).name})" if net.walk is not None and
              net.walk.meta.get("source_path") else "") + f", at most {cfg.access_max_s / 60:.0f} min to or from a stop."]
    if osm_report is not None:
        out.append(f"People: census totals ({osm_report['totals_source']}) spread over the residential floor area "
                   "of the OSM buildings (footprint x building:levels; where the tag is missing, levels ASSUMED by "
                   f"building type: {osm_report.get('levels_assumed_residential', 0):,} of "
                   f"{osm_report.get('buildings', 0):,} buildings). Activities: "
                   f"{osm_report['activities']['places']:,} OSM places with ASSUMED weights. OSM's coverage of "
                   "shops and offices is thin in many cities: the activity layer is a weak proxy.")
    if any("census" in lay.source or "cities.csv" in lay.source for lay in layers) or local:
        out.append("Cities: the census populations of gtfs/cities.csv (2020), each city one point.")
    if local:
        out.append(f"Access to and from stations in the agglomeration run: the taxi/bus approximation, the "
                   f"straight line times {cfg.straight_line_detour:g} at {cfg.local_access_speed_kmh:g} km/h door "
                   f"to door, at most {cfg.local_access_max_s / 60:.0f} min (ASSUMED: urban traffic with waiting). "
                   "Cells beyond it are no data, not zero.")
    return out
