"""``plan matrix``: door-to-door travel times between many origins and destinations."""

from __future__ import annotations

import io
from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.common.atomic import write_bytes, write_text
from planner.errors import OutputError


@click.command("matrix")
@click.option("--origins", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV (id, lon, lat or stop_id), GeoPackage or GeoJSON of points.")
@click.option("--destinations", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Same formats; default: the origins.")
@opts.time_option("--depart", "depart", required=True, help="(First) departure time, HH:MM.")
@opts.window_options(0, "Departure window in minutes (0: one departure).",
                1, "Minutes between departures in the window.")
@click.option("--percentiles", default="50", callback=opts.check_percentiles, show_default=True,
              help="Travel-time percentiles over the window, e.g. 5,25,50,75,95.")
@click.option("--cutoff", "cutoffs", type=click.IntRange(min=1), multiple=True, metavar="MIN",
              help="Also report the share of departures arriving within MIN minutes (repeatable).")
@click.option("--park-and-ride", is_flag=True, help="Allow driving from origins to rail stations.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file (.csv or .parquet).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@opts.executor_options
@opts.network_options
@click.pass_context
def matrix(ctx: click.Context, origins: Path, destinations: Path | None, depart: int, window_min: int,
           step_min: int, percentiles, cutoffs, park_and_ride: bool, output: Path, overwrite: bool,
           workers, scheduler, gtfs, osm, date, cache_dir, no_cache, datum) -> None:
    """Travel times from every origin to every destination by public transport and walking.

    For a single departure (--window 0) the output has columns from_id, to_id,
    travel_time_min. With a window, travel times are computed for every --step minutes
    of it and reported as min_min and p{P}_min columns (nearest-rank percentiles over the
    departures; a percentile is empty when that share of departures cannot reach the
    destination) and share_within_{MIN} for each --cutoff. Unreachable is empty. There is
    no ceiling on travel time: intercity journeys of hours count.

    \b
    Examples:
      plan matrix --origins cities.csv --depart 07:00 --window 120 --percentiles 5,50,95 -o tt.csv
      plan matrix --gtfs hsl.zip --osm helsinki.osm.pbf --origins hel_grid.gpkg --depart 08:00 -o tt.parquet
      plan matrix --origins grid.gpkg --depart 08:00 --window 60 --workers 2 -o tt_grid.csv
    """
    suffix = output.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        msg = f"-o {output}: use a .csv or .parquet file name"
        raise OutputError(msg, code="output_format")
    if output.exists() and not overwrite:
        msg = f"{output} already exists"
        raise OutputError(msg, code="output_exists", hint="pass --overwrite")
    o = pl.ingest.points.read_points(origins, datum=datum)
    d = pl.ingest.points.read_points(destinations, datum=datum) if destinations is not None else o
    with opts.open_executor(workers, scheduler) as ex:
        net, day = opts.load_network(ctx, gtfs, osm, date, cache_dir, no_cache, window_end_s=depart + 60 * window_min,
                                drive=park_and_ride)
        df = pl.analyses.matrix.travel_time_matrix(net, o, d, departure_s=depart, window_min=window_min, step_min=step_min,
                                percentiles=percentiles, cutoffs_min=cutoffs, park_and_ride=park_and_ride,
                                progress=opts.show_progress(ctx), executor=ex)
    if suffix == ".csv":
        write_text(output, df.to_csv(index=False, float_format="%.2f", lineterminator="\n"))
    else:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        write_bytes(output, buf.getvalue())
    record = opts.write_config_record(ctx, net.config, output)
    value_cols = [c for c in df.columns if c not in {"from_id", "to_id"}]
    main_col = "travel_time_min" if "travel_time_min" in df else f"p{percentiles[0]}_min"
    reach = df[main_col].notna().mean() if len(df) else 0.0
    click.echo(f"{len(o)} origins x {len(d)} destinations on {day}: {reach:.0%} of pairs reachable "
               f"({main_col} median {df[main_col].median():.1f} min). Columns: {', '.join(value_cols)}.")
    click.echo(f"Written to {output} (configuration: {record.name})")
