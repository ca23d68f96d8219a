"""``plan network export``: the multimodal network as tables and a GeoPackage (a subcommand
of :mod:`planner.cli.network`)."""

from __future__ import annotations

from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.common.atomic import OutputStage, write_text


@click.command("export")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder.")
@click.option("--format", "fmt", type=click.Choice(["csv", "gpkg", "both"]), default="both", show_default=True,
              help="CSV tables, a GeoPackage, or both.")
@click.option("--overwrite", is_flag=True, help="Replace existing files.")
@opts.network_options
@click.pass_context
def export(ctx: click.Context, output: Path, fmt: str, overwrite: bool, gtfs, osm, date, cache_dir, no_cache,
           datum) -> None:
    """Write the multimodal network (built or loaded from the cache) for inspection.

    stops.csv: stop_id (FEED:ID), stop_name, feed_id, lon, lat, parent_station, snapped,
    snap_m (metres to the walk network), patterns, modes, change_s (seconds).
    footpaths.csv: from_stop_id, to_stop_id, walk_m (metres), walk_s (seconds, at least
    the change time), method (street | straight_line | transfers_txt).
    patterns.csv: pattern_id, route_id, route_name, mode, operator, feed_id, trips, stops,
    first_departure, last_departure (HH:MM:SS), stop_ids.
    network.gpkg: layers stops, footpaths, patterns (EPSG:4326).

    \b
    Examples:
      plan network export -o net/
      plan network export --gtfs hsl.zip --osm helsinki.osm.pbf --date 2022-02-22 -o net_hel/ --format csv
    """
    net, day = opts.load_network(ctx, gtfs, osm, date, cache_dir, no_cache)
    with OutputStage(output, overwrite=overwrite) as stage:
        if fmt in {"csv", "both"}:
            write_text(stage.path("stops.csv"), pl.network.export.stops_table(net).to_csv(index=False, lineterminator="\n"))
            write_text(stage.path("footpaths.csv"), pl.network.export.footpaths_table(net).to_csv(index=False, lineterminator="\n"))
            write_text(stage.path("patterns.csv"), pl.network.export.patterns_table(net).to_csv(index=False, lineterminator="\n"))
        if fmt in {"gpkg", "both"}:
            pl.network.export.write_geopackage(net, stage.path("network.gpkg"))
    s = net.summary()
    click.echo(f"Network of {day}: {s['stops']:,} stops ({s['stops_not_snapped']:,} not on the walk network), "
               f"{s['patterns']:,} patterns, {s['trips']:,} trips, {s['footpaths']:,} footpaths "
               f"({s['footpaths_street']:,} street, {s['footpaths_straight_line']:,} straight line, "
               f"{s['footpaths_transfers_txt']:,} transfers.txt). Written to {output}/")
