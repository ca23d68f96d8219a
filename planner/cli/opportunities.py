"""``plan opportunities``: where people live and where activities are, from an OSM extract."""

from __future__ import annotations

from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.errors import InputError

DEFAULT_OUT = Path("plan-output/opportunities")


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
    Harbin split into its districts and the rest, and zones.csv, Harbin's weighted points for
    plan evaluate --zones) and opportunities_summary.json. Pass the GeoTIFF to plan access
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
    out = output or DEFAULT_OUT
    root, bundled = pl.common.bundled.data_root(), opts.bundled_osm()
    census = root / "gtfs" / "cities.csv" if root is not None else None
    on_sample = (census is not None and census.is_file() and bundled is not None
                 and Path(osm).resolve() == bundled.resolve())
    files = room.layer_outputs.write_layers(out, osm, grid, pop, act, report, census=census if on_sample else None,
                                            png=not no_png, overwrite=overwrite or output is None)
    rows = report["districts"]
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
