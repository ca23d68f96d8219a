"""Options and loading shared by the commands that route (route, matrix, evaluate...)."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from planner.cli._options import make_config, quiet_option
from planner.common.timeofday import parse_hhmm


def _time_callback(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_hhmm(value)
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


def network_options(fn):
    """--gtfs, --osm, --date, --cache-dir, --no-cache, --datum for routing commands."""
    options = [
        click.option("--gtfs", "gtfs", multiple=True, metavar="[ID=]FEED",
                     help="GTFS feed (zip or folder); repeat for several. Default: the bundled feeds in gtfs/."),
        click.option("--osm", "osm", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="OSM extract (.osm.pbf/.osm) for walking. Default: the bundled extract in osm_cache/ "
                          "when the bundled feeds are used; none otherwise (straight-line walking)."),
        click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
                     help="Service date. Default: the busiest date of the feeds."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("osm_cache"),
                     show_default=True, help="Where built networks are cached."),
        click.option("--no-cache", is_flag=True, help="Build the network again, ignoring and not writing the cache."),
        click.option("--datum", type=click.Choice(["wgs84", "gcj02", "bd09"], case_sensitive=False),
                     default="wgs84", show_default=True,
                     help="Datum of the coordinates you give (Chinese map services publish GCJ-02/BD-09)."),
    ]
    options.append(quiet_option)
    for opt in reversed(options):
        fn = opt(fn)
    return fn


time_option = functools.partial(click.option, callback=_time_callback, metavar="HH:MM")


def load_network(ctx: click.Context, gtfs, osm, date, cache_dir: Path, no_cache: bool, *,
                 window_end_s: int | None = None, drive: bool = False, **config_overrides):
    """Build or reload the network for a command; returns (network, date string)."""
    from planner.common.bundled import data_root, default_gtfs_paths
    from planner.ingest.gtfs.service import to_date
    from planner.network.build import build_network

    config = make_config(ctx, **config_overrides)
    specs = list(gtfs)
    if not specs:
        specs = [str(p) for p in default_gtfs_paths()]
        if osm is None:
            root = data_root()
            pbfs = sorted((root / "osm_cache").glob("*.osm.pbf")) if root else []
            osm = pbfs[0] if pbfs else None
    if not specs:
        from planner.errors import FeedError

        msg = "no --gtfs given and no bundled feeds found in gtfs/"
        raise FeedError(msg, code="input_unreadable", hint="pass --gtfs FEED (a GTFS zip or folder)")
    feeds = None
    if date is None:
        day, feeds = _busiest_date_cached(specs, config, cache_dir if not no_cache else None)
    else:
        try:
            day = to_date(date)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--date") from None
    # the service day plus the morning after (overnight journeys end on next-day trips)
    window = (0, max(36 * 3600, (window_end_s or 0) + 16 * 3600))
    net = build_network(specs, str(day), window=window, osm=osm, drive=drive, config=config, cache_dir=cache_dir,
                        use_cache=not no_cache, preloaded=feeds)
    return net, str(day)


def _busiest_date_cached(specs, config, cache_dir):
    """The feeds' busiest date, remembered per input digest so a warm run need not parse
    the feeds; returns (date, feeds or None)."""
    import hashlib
    import json

    from planner.common.atomic import write_text
    from planner.ingest.gtfs.feed import read_feeds
    from planner.ingest.gtfs.service import busiest_date, to_date
    from planner.network.build import feed_digests

    key = hashlib.sha256(json.dumps(sorted(feed_digests(specs).items())).encode()).hexdigest()[:40]
    path = None if cache_dir is None else Path(cache_dir) / "networks" / f"busiest-date-{key}.json"
    if path is not None and path.exists():
        try:
            return to_date(json.loads(path.read_text())["date"]), None
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
    feeds = read_feeds(specs, config=config)
    day = busiest_date(feeds)
    if path is not None:
        try:
            write_text(path, json.dumps({"date": str(day)}))
        except OSError:
            pass
    return day, feeds
