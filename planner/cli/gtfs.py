"""``plan gtfs``: check GTFS feeds."""

from __future__ import annotations

import time
from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.cli.gtfs_convert import from_timetable
from planner.common.atomic import write_text
from planner.common.bundled import default_gtfs_paths
from planner.common.notices import Notices, Severity
from planner.errors import FeedError, OutputError


@click.group("gtfs")
def gtfs() -> None:
    """Work with GTFS feeds."""


def _default_feeds() -> list[str]:
    return [str(p) for p in default_gtfs_paths()]


@gtfs.command("check")
@click.argument("feeds", nargs=-1, metavar="[ID=]FEED...")
@click.option("--notices", "notices_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write every notice to this file (.csv or .json).")
@click.option("--all", "show_all", is_flag=True, help="List every kept notice, not one line per code.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --notices file.")
@opts.strict_option
@opts.allow_subfolder_option
@opts.encoding_option
@opts.max_dropped_option
@click.pass_context
def check(ctx: click.Context, feeds: tuple[str, ...], notices_out: Path | None, show_all: bool, overwrite: bool,
          strict: bool, allow_subfolder: bool, max_dropped_trip_share: float | None) -> None:
    """Load and validate GTFS feeds; print what they hold and every problem found.

    FEED is a .zip file or a folder of .txt files; give several to check them together
    (their IDs are namespaced per feed, and stations that appear in two feeds are reported
    as consolidation candidates). Name a feed with ID=FEED. Without FEED, the bundled
    default feeds are checked.

    Problems are reported as notices modelled on the canonical GTFS validator (code,
    severity, file, line, field, value). A feed that cannot be used stops with exit code 2
    and names every fatal problem; bad rows are dropped, counted and reported (exit code 0);
    --strict makes any ERROR fatal. Files need not be UTF-8: each is read in the encoding its
    bytes fit (UTF-16 by its BOM, GB18030, Windows-1252/Latin-1) and reported as
    planner_file_encoding; --encoding FEED=NAME forces one.

    \b
    Examples:
      plan gtfs check my_feed.zip
      plan gtfs check rail=gtfs/northeast_rail.zip metro=gtfs/harbin_metro.zip --notices notices.csv
      plan gtfs check --strict feed/ && echo "clean"
      plan gtfs check atb=old_feed/ --encoding atb=latin-1
    """
    config = opts.make_config(ctx, strict=strict, allow_subfolder=allow_subfolder,
                         max_dropped_trip_share=max_dropped_trip_share)
    specs = list(feeds) or _default_feeds()
    if not specs:
        msg = "no FEED given and no bundled feeds found in gtfs/"
        raise FeedError(msg, code="input_unreadable", hint="pass a feed: plan gtfs check my_feed.zip")
    if notices_out is not None and notices_out.exists() and not overwrite:
        msg = f"{notices_out} already exists"
        raise OutputError(msg, code="output_exists", hint="pass --overwrite")
    t = time.perf_counter()
    try:
        fs = pl.ingest.gtfs.feed.read_feeds(specs, config=config)
    except FeedError as err:
        if notices_out is not None and err.notices:
            ns = Notices()
            for n in err.notices:
                ns.add(n.code, n.severity, n.message, feed=n.feed, file=n.file, line=n.line, field=n.field,
                       value=n.value, action=n.action)
            _write_notices(ns, notices_out)
        raise
    elapsed = time.perf_counter() - t
    rows = []
    for f in fs:
        s = pl.ingest.gtfs.summary.feed_summary(f)
        modes = ", ".join(f"{m} {n}" for m, n in s["routes_by_mode"].items())
        n_days = s["service_days"]
        span = (f"{s['first_service_date']} .. {s['last_service_date']} ({n_days} day{'s' if n_days != 1 else ''})"
                if n_days else "none")
        click.echo(f"Feed {s['feed_id']}  ({s['path']})")
        click.echo(f"  agencies     {len(s['agencies'])}  ({', '.join(s['agencies'][:5])}{' ...' if len(s['agencies']) > 5 else ''})  time zone {s['timezone']}")
        click.echo(f"  routes       {s['routes']:,}  ({modes})")
        click.echo(f"  stops        {s['stops']:,}  (stations {s['stations']:,}, entrances {s['entrances']:,})")
        freq = (f"; {s['frequency_templates']:,} frequency templates -> {s['frequency_trips']:,} trips after expansion"
                if s["frequency_templates"] else "")
        click.echo(f"  trips        {s['trips']:,}  (dropped for errors: {s['trips_dropped']:,}{freq})")
        click.echo(f"  stop_times   {s['stop_times']:,}")
        click.echo(f"  service      {span}")
        fares = f"v1: {s['fares_v1']} fares, {s['fare_rules']} rules" if s["fares_v1"] else "none"
        if s["fares_v2"]:
            fares += f"; v2: {s['fares_v2']} products"
        click.echo(f"  transfers    {s['transfers']:,};  fares {fares};  shapes {s['shapes']:,}")
        rows.append(s)
    click.echo(f"Loaded {len(fs)} feed(s) in {elapsed:.1f} s.")
    if len(fs) > 1:
        cands = fs.consolidation_candidates(config)
        click.echo(f"\nStations in two feeds (consolidation candidates, not merged): {len(cands)}")
        if len(cands):
            click.echo(render(cands.head(20).to_dict("records")))
            if len(cands) > 20:
                click.echo(f"  ... {len(cands) - 20} more (see --notices)")
    notices = fs.notices
    errors = notices.count(severity=Severity.ERROR)
    warnings = notices.count(severity=Severity.WARNING)
    infos = notices.count(severity=Severity.INFO)
    click.echo(f"\nNotices: {errors:,} errors, {warnings:,} warnings, {infos:,} info")
    if show_all:
        table = [{"severity": str(n.severity), "code": n.code, "where": n.location(), "message": n.message}
                 for n in notices.sorted()]
        click.echo(render(table, max_width=70))
    elif len(notices):
        table = [{k: r[k] for k in ("severity", "code", "feed", "count", "example")} for r in notices.summary()]
        click.echo(render(table, max_width=70))
    if notices_out is not None:
        _write_notices(notices, notices_out)
        click.echo(f"Notices written to {notices_out}")


def _write_notices(notices, path: Path) -> None:
    if path.suffix.lower() == ".json":
        write_text(path, notices.to_json())
    elif path.suffix.lower() == ".csv":
        write_text(path, notices.to_csv())
    else:
        msg = f"--notices {path}: use a .csv or .json file name"
        raise OutputError(msg, code="output_format", hint="e.g. --notices notices.csv")


gtfs.add_command(from_timetable)
