"""``plan net``: how well the intercity rail net ties the cities together, and what each
candidate adds."""

from __future__ import annotations

import time
from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.common.bundled import data_root, default_gtfs_paths
from planner.common.timeofday import window_text
from planner.config import Config
from planner.errors import FeedError, InputError

DEFAULT_OUT = Path("plan-output") / "net"
_CFG = Config()





@click.command("net")
@click.argument("scenarios", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--gtfs", "gtfs", multiple=True, metavar="[ID=]FEED",
              help="GTFS feed (zip or folder); repeat for several. Default: the bundled feeds in gtfs/.")
@click.option("--places", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Cities (CSV: id, name, lon, lat, population). Default: the bundled census cities.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Service date. Default: a representative weekday of the feeds (Tuesday to Thursday, no public holiday).")
@opts.time_option("--depart", "depart", default="00:00", show_default=True,
             help="Start of the departure window (hours may pass 24).")
@click.option("--window", "window_min", type=click.IntRange(min=1), default=1440, show_default=True,
              help="Departure window in minutes (1440: the whole service day, counts are per day).")
@click.option("--cluster-km", type=click.FloatRange(min=0), default=None,
              help=f"Largest distance from a station to its city point [default: {_CFG.net_cluster_km:g}].")
@click.option("--reference-speed-kmh", type=click.FloatRange(min=0, min_open=True), default=None,
              help=f"Reference speed of the detour index and the ideal net [default: {_CFG.net_reference_speed_kmh:g}].")
@click.option("--basis", type=click.Choice(["fastest", "median"]), default="fastest", show_default=True,
              help="City-pair time used by the net measures.")
@click.option("--group-by", type=click.Choice(["auto", "attribute", "distance"]), default="auto",
              show_default=True,
              help="Stations to cities: the stops' 'city' attribute, the nearest city point, or auto.")
@click.option("--central", callback=opts.check_ids, default=None, metavar="ID,ID",
              help=f"Central cities (ids) whose radiation is reported [default: the {_CFG.net_central_count} most populous].")
@opts.output_options(DEFAULT_OUT)
@opts.quiet_option
@opts.encoding_option
@opts.routing_options
@click.pass_context
def net(ctx: click.Context, scenarios: tuple[Path, ...], gtfs: tuple[str, ...], places: Path | None,
        date: str | None, depart: int, window_min: int, cluster_km: float | None,
        reference_speed_kmh: float | None, basis: str, group_by: str, central: tuple[str, ...] | None,
        output: Path | None, overwrite: bool) -> None:
    """Measure the intercity rail net, for the baseline and each SCENARIO (YAML).

    Groups rail stations into cities, routes city to city over the departure window
    (range-RAPTOR with transfers, overnight trains and next-day connections) and
    reports per city pair the fastest and median times, direct trains, transfers and
    the time lost to them; for the net its efficiency, population-weighted mean time,
    detour index, shares of pairs within 1, 2 and 3 h and with a direct train, each
    city's betweenness, closeness and radiation, and the weakest links. Writes
    summary.csv, pairs.csv/.parquet, city matrices, cities.csv, links.csv,
    weak_links.csv, stations.csv, net.gpkg, net_*.png and report.html.

    Without arguments it runs on the bundled Northeast China sample and its example
    scenarios in scenarios/.

    \b
    Examples:
      plan net
      plan net scenarios/spine_express.yaml -o out/net --overwrite
      plan net --gtfs rail.zip --places cities.csv --date 2025-06-17 --depart 06:00 --window 240
    """
    t0 = time.perf_counter()
    config = opts.make_config(ctx)
    paths = list(scenarios)
    specs = list(gtfs)
    if not specs:
        specs = [str(p) for p in default_gtfs_paths()]
        if not paths:
            root = data_root()
            paths = sorted((root / "scenarios").glob("*.yaml")) if root else []
    if not specs:
        msg = "no --gtfs given and no bundled feeds found in gtfs/"
        raise FeedError(msg, code="input_unreadable", hint="pass --gtfs FEED (a GTFS zip or folder)")
    loaded = [pl.scenarios.spec.load_scenario(p) for p in paths]
    names = [s.name for s in loaded]
    dup = sorted({n for n in names if names.count(n) > 1} | ({"baseline"} & set(names)))
    if dup:
        msg = f"scenario names must be unique and not 'baseline': {', '.join(dup)}"
        raise InputError(msg, code="duplicate_scenario_name", hint="give each scenario its own 'name'")
    places_df = pl.ingest.points.load_places(places)
    feeds = pl.ingest.gtfs.feed.read_feeds(specs, config=config)
    try:
        service = pl.ingest.gtfs.service
        day = str(service.to_date(date) if date is not None else service.representative_date(feeds).date)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--date") from None
    cmp = pl.analyses.railnet.compare.compare_nets(
        feeds, loaded, places_df, date=day, depart_s=depart, window_min=window_min, basis=basis,
        cluster_km=cluster_km, reference_speed_kmh=reference_speed_kmh, group_by=group_by,
        central=central, config=config, progress=opts.show_progress(ctx))
    out = output or DEFAULT_OUT
    written = pl.analyses.railnet.outputs.write_net_outputs(
        cmp, out, overwrite=overwrite or output is None,
        inputs={"feeds": ", ".join(feeds.ids), "cities": len(places_df)}, settings=opts.run_record(ctx, config))
    opts.write_config_record(ctx, config, out)
    click.echo(f"Rail net on {day}, departures {window_text(depart, window_min)}, "
               f"{len(places_df)} cities ({cmp.baseline.summary['cities_with_station']} with a station), "
               f"{len(loaded)} scenario(s); times: {basis}.")
    rows, cols = _summary_rows(cmp)
    click.echo(render(rows, cols))
    click.echo("")
    click.echo("Fastest times between the central cities (min):")
    click.echo(render(_central_rows(cmp)))
    weak = cmp.baseline.weak
    if len(weak):
        click.echo(f"\n{len(weak)} weak links in the baseline, e.g. "
                   + "; ".join(f"{r.from_name}-{r.to_name} ({r.reason})" for r in weak.head(3).itertuples()))
    for n in cmp.nets:
        for note in n.notes:
            click.echo(f"Note ({n.name}): {note}")
    click.echo(f"Outputs in {out}/ ({len(written)} files, report.html) in {time.perf_counter() - t0:.0f} s.")


def _summary_rows(cmp) -> tuple[list[dict], list[str]]:
    """Rows and columns of the terminal summary: baseline values, then each scenario's change
    (shares in per cent)."""
    counts = {"count", "ordered city pairs", "people"}
    cols = ["measure", "baseline"] + [f"{n.name[:22]} Δ" for n in cmp.scenarios]
    rows = []
    for r in cmp.summary_table().to_dict("records"):
        share = r["unit"].startswith("share")
        vals = [r["baseline"]] + [r.get(f"{n.name}_change") for n in cmp.scenarios]
        vals = [None if v is None or v != v else round(v) if r["unit"] in counts else float(v) * (100 if share else 1)
                for v in vals]
        rows.append(dict(zip(cols, [r["measure"] + (" (%)" if share else ""), *vals], strict=True)))
    return rows, cols


def _central_rows(cmp) -> list[dict]:
    cities = cmp.baseline.cities
    ids = cities.loc[cities["central"], "id"].tolist()
    names = dict(zip(cities["id"], cities["name"], strict=True))
    t = cmp.baseline.pairs.set_index(["from_id", "to_id"])["fastest_min"]
    return [{"from": names[a], **{names[b]: (None if a == b or t[(a, b)] != t[(a, b)] else float(t[(a, b)]))
                                  for b in ids}} for a in ids]
