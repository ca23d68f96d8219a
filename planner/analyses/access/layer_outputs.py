"""The files of ``plan opportunities``: the population and activity layers of an OSM extract
(:func:`planner.analyses.access.population.osm_layers`) as a GeoTIFF with previews, and the
tables other commands take.

Files (all through one :class:`~planner.common.atomic.OutputStage`):

- ``opportunities.tif``: bands ``population`` (people per cell) and ``activities`` (weighted
  places per cell), with a PNG preview each;
- ``districts.csv``: per district its total, buildings, residential floor area (m2), people
  per 100 m2 of floor, the centre of its homes, and ``check`` where its people look packed;
- ``places.csv``: each district at the centre of its homes with its total (``id``, ``name``,
  ``lon``, ``lat``, ``population``: ``plan evaluate --places``);
- with the census cities (``census``): ``places_cities.csv`` (every city, the one inside the
  extract split into its districts and the rest) and ``zones.csv`` (that city's weighted
  points: ``plan evaluate --zones``);
- ``opportunities_summary.json``: the grid, the report and the histogram of cells.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path

import numpy as np

from planner.analyses.access.grid import Grid, Opportunities
from planner.analyses.access.population import district_zones, places_with_districts
from planner.analyses.access.results import AccessResult
from planner.common.atomic import OutputStage, write_text
from planner.ingest.points import load_places
from planner.outputs.raster import Band, write_result

__all__ = ["csv_text", "histogram", "write_layers"]


def csv_text(header: list[str], rows: list[list]) -> str:
    """CSV text (quoted where a value needs it: a district name may hold a comma)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue()


def histogram(values: np.ndarray) -> list[dict]:
    """Cells by population: how many cells hold 0, 1-99, 100-499, ... people."""
    edges = [0, 1, 100, 500, 1000, 2500, 5000, 10000, 20000, np.inf]
    rows = []
    for lo, hi in itertools.pairwise(edges):
        n = int(((values >= lo) & (values < hi)).sum()) if lo > 0 else int((values < 1).sum())
        label = "< 1" if lo == 0 else (f">= {lo:,}" if not np.isfinite(hi) else f"{lo:,} - {hi - 1:,}")
        rows.append({"people per cell": label, "cells": n})
    return rows


def write_layers(out: str | Path, osm: str | Path, grid: Grid, pop: Opportunities, act: Opportunities, report: dict,
                 *, census: Path | None = None, png: bool = True, overwrite: bool = False) -> list[str]:
    """Write the files of the module docstring into ``out``; returns their names."""
    res = AccessResult(
        grid, [Band("population", pop.values.reshape(grid.shape), "people",
                    f"residents per cell ({report['totals_source']})", {"layer": "population"}),
               Band("activities", act.values.reshape(grid.shape), "weighted places",
                    "activity places per cell, weighted", {"layer": "activities"})],
        np.ones(grid.shape, bool), {"osm": Path(osm).name, "totals": report["totals_source"]}, report)
    files: list[str] = []
    rows = report["districts"]
    with OutputStage(out, overwrite=overwrite) as stage:
        files += write_result(stage, "opportunities", res, png=png, dtype="float64", zero_label="0")
        cols = sorted({k for r in rows for k in r}, key=lambda k: list(rows[0]).index(k) if k in rows[0] else 99)
        write_text(stage.path("districts.csv"), csv_text(cols, [[r.get(c) for c in cols] for r in rows]))
        files.append("districts.csv")
        # the districts as places for plan evaluate --places: at their people's centre, with their total
        places = [[k + 1, r["district"], r["lon"], r["lat"], round(r["total"])] for k, r in enumerate(rows)
                  if r.get("total") and np.isfinite(r.get("lon", np.nan))]
        write_text(stage.path("places.csv"), csv_text(["id", "name", "lon", "lat", "population"], places))
        files.append("places.csv")
        if census is not None:
            # every city, the one inside the extract split into its districts and the rest
            merged = places_with_districts(census, report["extent"], rows)
            write_text(stage.path("places_cities.csv"), merged.to_csv(index=False, lineterminator="\n"))
            zones = district_zones(load_places(census), report["extent"], rows)
            write_text(stage.path("zones.csv"), zones.to_csv(index=False, float_format="%.6f", lineterminator="\n"))
            files += ["places_cities.csv", "zones.csv"]
        summary = {"osm": str(osm), "grid": grid.record(),
                   "population": report, "histogram": histogram(pop.values),
                   "files": sorted([*files, "opportunities_summary.json"])}
        write_text(stage.path("opportunities_summary.json"),
                   json.dumps(summary, indent=1, ensure_ascii=False, default=float) + "\n")
        files.append("opportunities_summary.json")
    return files
