"""``plan opportunities``: where people live and where activities are, from an OSM extract."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path

import click
import numpy as np

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.common.atomic import OutputStage, write_text
from planner.errors import InputError

DEFAULT_OUT = Path("plan-output/opportunities")


def _csv(header: list[str], rows: list[list]) -> str:
    """CSV text (quoted where a value needs it: a district name may hold a comma)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue()


def _histogram(values: np.ndarray) -> list[dict]:
    """Cells by population: how many cells hold 0, 1-99, 100-499, ... people."""
    edges = [0, 1, 100, 500, 1000, 2500, 5000, 10000, 20000, np.inf]
    rows = []
    for lo, hi in itertools.pairwise(edges):
        n = int(((values >= lo) & (values < hi)).sum()) if lo > 0 else int((values < 1).sum())
        label = "< 1" if lo == 0 else (f">= {lo:,}" if not np.isfinite(hi) else f"{lo:,} - {hi - 1:,}")
        rows.append({"people per cell": label, "cells": n})
    return rows


@click.command("opportunities")
@click.option("--osm", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="OSM extract (.osm.pbf or .osm). Default: the bundled central-Harbin extract.")
@click.option("--totals", default=None, metavar="FILE[:COLUMN]",
              help="Population totals: a CSV with a name column and COLUMN (default population) naming districts "
                   "of the extract, or a polygon file (GeoPackage, GeoJSON) of areas and their totals. Default: "
                   "NAME.districts.csv beside NAME.osm.pbf, else the districts' OSM population tags.")
@click.option("--name-column", default="name", show_default=True, metavar="COLUMN",
              help="The column of --totals holding district names (as in OSM: name or name:en).")
@click.option("--admin-level", default="6", show_default=True, metavar="N",
              help="The OSM admin_level of the districts (6: the districts, 区, of a Chinese city).")
@click.option("--resolution", type=click.FloatRange(min=1.0), default=250.0, show_default=True, metavar="M",
              help="Cell size in metres.")
@click.option("--no-png", is_flag=True, help="Skip the PNG previews.")
@opts.output_options(DEFAULT_OUT)
@click.pass_context
def opportunities(ctx: click.Context, osm, totals, name_column, admin_level, resolution, no_png, output,
                  overwrite) -> None:
    """Population and activity layers from an OSM extract, as GeoTIFFs.

    Population: census totals of districts spread over the residential floor area of OSM
    buildings (footprint x building:levels, or an assumed number of levels by building type
    where the tag is missing), summed per cell, so that each district's cells add up to its
    total. Activities: shops, offices, schools, hospitals and other amenities counted per
    cell, weighted (an office 5, a school 5, a hospital 20, a shop 1, ...). Outputs in -o:
    opportunities.tif (bands population and activities, in the local UTM zone), a PNG
    preview per band, districts.csv (each district's total, buildings and floor area),
    places.csv (each district at the floor-area-weighted centre of its homes, with its total:
    plan evaluate --places; on the bundled sample also places_cities.csv, every city with
    Harbin split into its districts and the rest) and opportunities_summary.json. Pass the GeoTIFF to plan access
    --opportunities FILE:1 (population) or FILE:2 (activities).

    \b
    Examples:
      plan opportunities -o out/layers
      plan opportunities --osm osm_cache/harbin_central.osm.pbf --resolution 500 --no-png \\
                         --totals osm_cache/harbin_central.districts.csv:population -o out/census
    """
    room = pl.analyses.access  # the access room, loaded now that the command runs
    if osm is None:
        osm = opts.bundled_osm()
        if osm is None:
            msg = "no OSM extract: pass --osm FILE (the bundled sample is not there)"
            raise InputError(msg, code="input_not_found")
    grid, pop, act, report = room.population.osm_layers(osm, totals=totals, name_column=name_column,
                                                        admin_level=admin_level, resolution=resolution)
    res = room.results.AccessResult(
        grid, [pl.outputs.raster.Band("population", pop.values.reshape(grid.shape), "people",
                                      f"residents per cell ({report['totals_source']})", {"layer": "population"}),
               pl.outputs.raster.Band("activities", act.values.reshape(grid.shape), "weighted places",
                                      "activity places per cell, weighted", {"layer": "activities"})],
        np.ones(grid.shape, bool), {"osm": Path(osm).name, "totals": report["totals_source"]}, report)
    hist = _histogram(pop.values)
    grid_extent = report["extent"]
    files = []
    out = output or DEFAULT_OUT
    with OutputStage(out, overwrite=overwrite or output is None) as stage:
        files += pl.outputs.raster.write_result(stage, "opportunities", res, png=not no_png, dtype="float64",
                                                zero_label="0")
        rows = report["districts"]
        cols = sorted({k for r in rows for k in r}, key=lambda k: list(rows[0]).index(k) if k in rows[0] else 99)
        write_text(stage.path("districts.csv"), _csv(cols, [[r.get(c) for c in cols] for r in rows]))
        files.append("districts.csv")
        # the districts as places for plan evaluate --places: at their people's centre, with their total
        places = [[k + 1, r["district"], r["lon"], r["lat"], round(r["total"])] for k, r in enumerate(rows)
                  if r.get("total") and np.isfinite(r.get("lon", np.nan))]
        write_text(stage.path("places.csv"), _csv(["id", "name", "lon", "lat", "population"], places))
        files.append("places.csv")
        root, bundled = pl.common.bundled.data_root(), opts.bundled_osm()
        census = root / "gtfs" / "cities.csv" if root is not None else None
        if census is not None and census.is_file() and bundled is not None and Path(osm).resolve() == bundled.resolve():
            # the bundled sample: every city, Harbin split into its districts and the rest
            merged = room.population.places_with_districts(census, grid_extent, rows)
            write_text(stage.path("places_cities.csv"), merged.to_csv(index=False, lineterminator="\n"))
            files.append("places_cities.csv")
        summary = {"osm": str(osm), "grid": {"crs": grid.crs, "resolution_m": grid.resolution, "width": grid.width,
                                             "height": grid.height, "transform": list(grid.transform)[:6]},
                   "population": report, "histogram": hist, "files": sorted([*files, "opportunities_summary.json"])}
        write_text(stage.path("opportunities_summary.json"),
                   json.dumps(summary, indent=1, ensure_ascii=False, default=float) + "\n")
        files.append("opportunities_summary.json")
    click.echo(f"Grid {grid.width} x {grid.height} cells of {grid.resolution:g} m in {grid.crs}; "
               f"totals from {report['totals_source']}.")
    click.echo(render([{"district": r["district"], "total": f"{r['total']:,.0f}" if r["total"] is not None else "",
                        "buildings": r["buildings"], "floor m2": r["floor_m2"],
                        "people per 100 m2": r.get("people_per_100m2"), "check": "map data" if "check" in r else ""}
                       for r in rows]))
    click.echo(f"Population {pop.values.sum():,.0f} on {int((pop.values > 0).sum()):,} cells; "
               f"{report['levels_tagged']:,} of {report['buildings']:,} buildings give building:levels, "
               f"{report['levels_assumed_residential']:,} residential ones use the assumed levels.")
    for note in report["notes"]:
        click.echo(f"Note: {note}")
    click.echo(f"Activities {act.total:,.0f} (weighted) from {report['activities']['places']:,} places on "
               f"{int((act.values > 0).sum()):,} cells.")
    click.echo(f"Written to {out}/: {', '.join(files)}")
