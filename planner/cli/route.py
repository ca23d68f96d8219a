"""``plan route``: one door-to-door journey, printed as legs and written as GeoJSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.common.atomic import write_text
from planner.common.timeofday import hhmm
from planner.errors import OutputError


@click.command("route")
@click.option("--from", "origin", required=True, metavar="LON,LAT|stop:ID", help="Where the journey starts.")
@click.option("--to", "destination", required=True, metavar="LON,LAT|stop:ID", help="Where it ends.")
@opts.time_option("--depart", "depart", required=True, help="Departure time (HH:MM; 25:30 is 01:30 the next day).")
@click.option("--park-and-ride", is_flag=True, help="Allow driving from the origin to a rail station.")
@click.option("--geojson", "geojson_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the legs as GeoJSON (one LineString per leg).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --geojson file.")
@opts.network_options
@click.pass_context
def route(ctx: click.Context, origin: str, destination: str, depart: int, park_and_ride: bool,
          geojson_out: Path | None, overwrite: bool, gtfs, osm, date, cache_dir, no_cache, datum) -> None:
    """The earliest journey between two places, leg by leg.

    A place is LON,LAT (WGS84 unless --datum) or stop:ID (a GTFS stop id, FEED:ID when the
    id exists in several feeds). Walking legs follow the street network where there is
    one (the straight-line approximation elsewhere, said so in the output).

    \b
    Examples:
      plan route --from 126.6254,45.7600 --to 126.5723,45.7051 --depart 08:00
      plan route --from stop:northeast_rail:VAB --to stop:northeast_rail:CRT --depart 07:30
      plan route --gtfs hsl.zip --osm helsinki.osm.pbf --from 24.94,60.17 --to 24.98,60.20 \\
          --depart 08:00 --geojson trip.geojson
    """
    if geojson_out is not None and geojson_out.exists() and not overwrite:
        msg = f"{geojson_out} already exists"
        raise OutputError(msg, code="output_exists", hint="pass --overwrite")
    o = pl.ingest.points.parse_place(origin, datum=datum)
    d = pl.ingest.points.parse_place(destination, datum=datum)
    net, day = opts.load_network(ctx, gtfs, osm, date, cache_dir, no_cache, window_end_s=depart, drive=park_and_ride)
    journey = pl.analyses.route.plan_route(net, o, d, depart, park_and_ride=park_and_ride)
    click.echo(f"Journey on {day}, departing {hhmm(depart)}")
    click.echo(journey.text(net))
    if net.walk is None:
        click.echo("note: no street network loaded; walking legs use the straight-line approximation "
                   f"(distance x {net.config.straight_line_detour} at {net.config.walk_speed_mps} m/s)")
    if geojson_out is not None:
        write_text(geojson_out, json.dumps(journey.geojson(net), ensure_ascii=False))
        click.echo(f"GeoJSON written to {geojson_out}")
