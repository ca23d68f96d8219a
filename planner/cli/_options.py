"""Options, callbacks and loading shared by the commands, each defined once.

* option groups: :func:`network_options` (feeds, OSM, date, cache, datum, ``-q``, and
  :func:`routing_options`: ``--config FILE``, ``--walk-speed`` and the other common routing
  parameters),
  :func:`executor_options` (``--workers``/``--scheduler``), :func:`output_options`
  (``-o``/``--overwrite``), :func:`window_options` (``--window``/``--step``),
  :data:`time_option` (HH:MM);
* callbacks that check a value on the command line: :func:`check_numbers`, :func:`check_percentiles`,
  :func:`check_bbox`, :func:`check_key_numbers`, :func:`check_ids`;
* :func:`load_network`: the network of a command (the bundled sample unless ``--gtfs``), and
  :func:`make_config` (defaults < ``--config`` file < options; :func:`config_layers` says
  where each value comes from) / :func:`show_progress`.

Every library module is reached through its stage's lazy namespace (``from planner import
network``): loading a command for ``--help`` imports no library code.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import click

import planner as pl
from planner import __version__
from planner.common.atomic import write_text
from planner.common.bundled import data_root, default_gtfs_paths
from planner.common.timeofday import parse_hhmm
from planner.config import Config, field_unit, read_config_file
from planner.errors import FeedError, InputError


def show_progress(ctx: click.Context) -> bool:
    """Progress bars unless ``-q`` was given."""
    state = ctx.find_root().obj
    return not getattr(state, "quiet", False)


def config_layers(ctx: click.Context, **overrides: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields this run sets, and where each comes from (``option`` > ``file`` > default):
    ``--config FILE``, then the routing options (``--walk-speed`` ...), then what the command
    sets (``overrides``: its own flags, or a setting it always uses; ``None`` means not given),
    whose source is the command (``plan evaluate``)."""
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    path = ctx.meta.get("plan.config_file")
    if path is not None:
        if "plan.config_values" not in ctx.meta:  # read once per run; commands ask more than once
            ctx.meta["plan.config_values"] = read_config_file(path)
        for k, v in ctx.meta["plan.config_values"].items():
            values[k], source[k] = v, f"file {path}"
    options = dict(ctx.meta.get("plan.config_options", {}))
    if ctx.meta.get("plan.encodings"):
        options["encodings"] = ctx.meta["plan.encodings"]
    for k, v in options.items():
        values[k], source[k] = v, "option"
    # what the command sets itself (its own flags, or a setting it always uses)
    for k, v in overrides.items():
        if v is not None:
            values[k], source[k] = v, " ".join(["plan", *ctx.command_path.split()[1:]])
    if "progress" not in values:
        values["progress"] = show_progress(ctx)
    return values, source


def make_config(ctx: click.Context, **overrides: Any) -> Config:
    """The :class:`Config` for this run: defaults, then ``--config FILE``, then the options
    (:func:`config_layers`). The sources are kept for :func:`write_config_record`."""
    values, source = config_layers(ctx, **overrides)
    ctx.meta.setdefault("plan.config_sources", {}).update(source)
    return Config(**values)


def config_record(config: Config, source: dict[str, str] | None = None) -> dict[str, Any]:
    """Every field of ``config`` with its value, unit and source (default / file / option),
    and the planner version: what reproduces a run."""
    source = source or {}
    return {"planner_version": __version__,
            "fields": {f.name: {"value": getattr(config, f.name), "unit": field_unit(f.name),
                                "source": source.get(f.name, "default")}
                       for f in dataclasses.fields(Config) if f.name != "progress"}}


def run_record(ctx: click.Context, config: Config) -> dict[str, Any]:
    """:func:`config_record` of this run, with the sources :func:`make_config` kept."""
    return config_record(config, ctx.meta.get("plan.config_sources"))


def config_record_text(ctx: click.Context, config: Config) -> str:
    """:func:`run_record` as JSON text (what ``config.json`` holds)."""
    return json.dumps(run_record(ctx, config), indent=2, ensure_ascii=False, default=list) + "\n"


def config_tags(ctx: click.Context, config: Config) -> dict[str, str]:
    """:func:`run_record` as a GeoTIFF dataset tag (``plan_config``, compact JSON)."""
    return pl.outputs.raster.settings_tags(run_record(ctx, config))


def write_config_record(ctx: click.Context, config: Config, output: Path) -> Path:
    """Write the effective configuration next to a command's outputs: ``config.json`` in an
    output folder, ``NAME.config.json`` beside an output file (atomically). Returns the path."""
    output = Path(output)
    path = output / "config.json" if output.is_dir() else output.with_name(output.name + ".config.json")
    write_text(path, config_record_text(ctx, config))
    return path


# ---------------------------------------------------------------------- callbacks

def check_numbers(what: str = "numbers", *, integral: bool = False):
    """A callback for ``X,Y,...`` of positive finite numbers (``what`` names them in the
    error); ``integral`` gives whole numbers as ``int``."""
    def callback(ctx, param, value):
        if value is None:
            return None
        try:
            out = tuple(float(v) for v in value.split(",") if v.strip())
        except ValueError:
            out = ()
        if not out or any(not (0 < v < float("inf")) for v in out):
            msg = f"expected comma-separated positive {what}, got {value!r}"
            raise click.BadParameter(msg, ctx=ctx, param=param)
        return tuple(int(v) if v.is_integer() else v for v in out) if integral else out
    return callback


def check_percentiles(ctx, param, value):
    """``25,50,75``: whole percentiles between 0 and 100."""
    try:
        out = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        out = ()
    if not out or any(not 0 <= p <= 100 for p in out):
        msg = f"expected comma-separated percentiles between 0 and 100, got {value!r}"
        raise click.BadParameter(msg, ctx=ctx, param=param)
    return out


def check_bbox(ctx, param, value):
    """``WEST,SOUTH,EAST,NORTH`` in degrees, west of east and south of north."""
    if value is None:
        return None
    parts = [p for p in value.replace(" ", "").split(",") if p]
    try:
        nums = tuple(float(p) for p in parts)
    except ValueError:
        nums = ()
    if len(nums) != 4 or not (nums[0] < nums[2] and nums[1] < nums[3]):
        msg = f"expected WEST,SOUTH,EAST,NORTH in degrees, got {value!r}"
        raise click.BadParameter(msg, ctx=ctx, param=param)
    return nums


def check_key_numbers(ctx, param, values):
    """Repeated ``KEY=NUMBER`` (0 <= number < 1e7) as a dict."""
    out = {}
    for v in values or ():
        key, sep, num = str(v).partition("=")
        try:
            x = float(num)
        except ValueError:
            x = float("nan")
        if not sep or not key.strip() or not (0 <= x < 1e7):
            msg = f"expected KEY=NUMBER, got {v!r}"
            raise click.BadParameter(msg, ctx=ctx, param=param)
        out[key.strip()] = x
    return out


def check_ids(ctx, param, value):
    """``A,B,...``: ids."""
    if value is None:
        return None
    out = tuple(v.strip() for v in value.split(",") if v.strip())
    if not out:
        msg = "expected comma-separated city ids"
        raise click.BadParameter(msg, ctx=ctx, param=param)
    return out


def _time_callback(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_hhmm(value)
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


def _quiet_callback(ctx: click.Context, param, value):
    if value:
        state = ctx.find_root().obj
        if state is not None:
            state.quiet = True
    return value


def _encoding_callback(ctx: click.Context, param, values):
    """``--encoding [FEED=]NAME`` (repeatable): kept in ``ctx.meta`` for :func:`make_config`."""
    pairs = {}
    for v in values or ():
        feed, sep, name = str(v).rpartition("=")
        feed, name = (feed.strip() if sep else "*"), name.strip()
        try:
            b"a".decode(codecs.lookup(name).name)  # refuses bytes-to-bytes codecs (base64, zlib)
        except (LookupError, TypeError):
            msg = (f"{v!r}: {name!r} is not a text encoding Python knows "
                   "(e.g. utf-8, cp1252, latin-1, gb18030, utf-16)")
            raise click.BadParameter(msg, ctx=ctx, param=param) from None
        if not feed or feed in pairs:
            msg = f"expected FEED=NAME with each feed once (or NAME alone for every feed), got {v!r}"
            raise click.BadParameter(msg, ctx=ctx, param=param)
        pairs[feed] = name
    if pairs:
        ctx.meta["plan.encodings"] = tuple(sorted(pairs.items()))
    return values


def _config_file_callback(ctx: click.Context, param, value):
    if value is not None:
        ctx.meta["plan.config_file"] = value
    return value


#: the defaults the routing options' help shows
_D = Config()

#: routing options: option name -> (Config field, factor from the option's unit to the field's)
ROUTING_OPTIONS = {
    "walk_speed": ("walk_speed_mps", 1 / 3.6),
    "max_walk_min": ("access_max_s", 60),
    "change_min": ("change_time_s", 60),
    "max_rides": ("max_rides", 1),
    "max_time_min": ("max_trip_duration_s", 60),
}


def _routing_callback(ctx: click.Context, param, value):
    if value is None:
        return value
    field, factor = ROUTING_OPTIONS[param.name]
    if param.name == "walk_speed" and value < 2:
        click.echo(f"Warning: --walk-speed {value:g} is in km/h: {value:g} km/h is slower than people walk "
                   "(plan network build took metres per second until December 2026; "
                   f"{value:g} m/s is {value * 3.6:.1f} km/h).", err=True)
    x = value * factor
    # whole seconds for the time fields; the speed stays a float
    ctx.meta.setdefault("plan.config_options", {})[field] = round(x) if field.endswith("_s") else x
    return value


def _scheduler_callback(ctx: click.Context, param, value):
    if value is not None and not value.strip():
        msg = "expected tcp://HOST:PORT or a scheduler JSON file"
        raise click.BadParameter(msg, ctx=ctx, param=param)
    return value


# ---------------------------------------------------------------------- options

#: ``--depart HH:MM`` and the like: seconds after midnight (hours may pass 24)
time_option = functools.partial(click.option, callback=_time_callback, metavar="HH:MM")

#: ``-q`` after the command name too (``plan matrix ... -q``), same as ``plan -q matrix``
quiet_option = click.option("-q", "--quiet", "quiet_", is_flag=True, expose_value=False, callback=_quiet_callback,
                            help="No progress bars.")

strict_option = click.option(
    "--strict", is_flag=True, default=False,
    help="Treat every ERROR notice as fatal (exit code 2), as a CI gate would.",
)
allow_subfolder_option = click.option(
    "--allow-subfolder", is_flag=True, default=False,
    help="Accept a zip or folder whose GTFS files sit in one subfolder (with a warning).",
)
#: ``--encoding FEED=NAME``: read a feed's files in this text encoding (every GTFS-reading command)
encoding_option = click.option(
    "--encoding", "encodings_", multiple=True, metavar="[FEED=]NAME", expose_value=False,
    callback=_encoding_callback,
    help="Read feed FEED's files as encoding NAME (latin-1, cp1252, gb18030, utf-16...; NAME alone: every "
         "feed); repeatable. Default: UTF-8, UTF-16 by its BOM, else a guess reported per file.",
)
max_dropped_option = click.option(
    "--max-dropped-trip-share", type=click.FloatRange(0, 1), default=None, metavar="SHARE",
    help="Fail when more than this share of a feed's trips is dropped for errors [default: 0.05].",
)


def _apply(fn, options):
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def routing_options(fn):
    """--config FILE and the common routing parameters, each a :class:`Config` field
    (precedence: option > file > default; ``plan config show`` prints the result)."""
    return _apply(fn, [
        click.option("--config", "config_file_", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     metavar="FILE", expose_value=False, callback=_config_file_callback, is_eager=True,
                     help="TOML file of configuration fields ('plan config init FILE' writes a template); "
                          "options given here win over it."),
        click.option("--walk-speed", "walk_speed", type=click.FloatRange(min=0.1, max=30), default=None,
                     metavar="KMH", expose_value=False, callback=_routing_callback,
                     help=f"Walking speed in km/h [default: {_D.walk_speed_mps * 3.6:.1f}; R5 and r5py use 3.6]."),
        click.option("--max-walk-min", "max_walk_min", type=click.FloatRange(min=0, max=600), default=None,
                     metavar="MIN", expose_value=False, callback=_routing_callback,
                     help="Longest walk from an origin to a stop or from a stop to a destination, minutes "
                          f"[default: {_D.access_max_s / 60:g}]."),
        click.option("--change-min", "change_min", type=click.FloatRange(min=0, max=600), default=None,
                     metavar="MIN", expose_value=False, callback=_routing_callback,
                     help=f"Minimum change time at a stop where transfers.txt says nothing, minutes [default: {_D.change_time_s / 60:g}]."),
        click.option("--max-rides", "max_rides", type=click.IntRange(min=1, max=30), default=None,
                     metavar="N", expose_value=False, callback=_routing_callback,
                     help=f"Most vehicles in one journey [default: {_D.max_rides}]."),
        click.option("--max-time-min", "max_time_min", type=click.FloatRange(min=1, max=7 * 24 * 60), default=None,
                     metavar="MIN", expose_value=False, callback=_routing_callback,
                     help=f"Journeys longer than this count as unreachable, minutes [default: {_D.max_trip_duration_s // 60}]."),
    ])


def network_options(fn):
    """--gtfs, --osm, --date, --cache-dir, --no-cache, --datum (and -q, --encoding and the
    :func:`routing_options`) for routing commands."""
    return _apply(fn, [
        click.option("--gtfs", "gtfs", multiple=True, metavar="[ID=]FEED",
                     help="GTFS feed (zip or folder); repeat for several. Default: the bundled feeds in gtfs/."),
        click.option("--osm", "osm", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="OSM extract (.osm.pbf/.osm) for walking. Default: the bundled extract in osm_cache/ "
                          "when the bundled feeds are used; none otherwise (straight-line walking)."),
        click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
                     help="Service date. Default: a representative weekday of the feeds (Tuesday to Thursday, no public holiday)."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("osm_cache"),
                     show_default=True, help="Where built networks are cached."),
        click.option("--no-cache", is_flag=True, help="Build the network again, ignoring and not writing the cache."),
        click.option("--datum", type=click.Choice(["wgs84", "gcj02", "bd09"], case_sensitive=False),
                     default="wgs84", show_default=True,
                     help="Datum of the coordinates you give (Chinese map services publish GCJ-02/BD-09)."),
        quiet_option,
        encoding_option,
        routing_options,
    ])


def output_options(default: Path):
    """``-o/--output`` (default ``default``, replaced on each run) and ``--overwrite``."""
    return functools.partial(_apply, options=[
        click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help=f"Output folder [default: {default}, replaced on each run]."),
        click.option("--overwrite", is_flag=True, help="Replace existing files in an explicit -o folder."),
    ])


def window_options(window: int, window_help: str, step: int, step_help: str):
    """``--window MIN`` (departure window) and ``--step MIN`` (minutes between departures)."""
    return functools.partial(_apply, options=[
        click.option("--window", "window_min", type=click.IntRange(min=0), default=window, show_default=True,
                     help=window_help),
        click.option("--step", "step_min", type=click.IntRange(min=1), default=step, show_default=True, help=step_help),
    ])


def executor_options(f):
    """``--workers N`` and ``--scheduler ADDR``: where the many-origin work runs.

    Neither: here, on the numba threads of this machine. Pass both values to
    :func:`open_executor` (a context manager) to get the executor for the run.
    """
    return _apply(f, [
        click.option(
            "--workers", type=click.IntRange(min=1), default=None, metavar="N",
            help="Run on a Dask LocalCluster of N worker processes on this machine (the cores shared among them). "
                 "Default: in this process, on numba threads."),
        click.option(
            "--scheduler", default=None, metavar="ADDR", callback=_scheduler_callback,
            help="Run on an existing Dask cluster: its scheduler address (tcp://HOST:PORT) or a scheduler JSON "
                 "file (dask scheduler --scheduler-file). The network is sent to each worker once; outputs are "
                 "identical to the local run."),
    ])


def open_executor(workers: int | None, scheduler: str | None):
    """The executor for ``--workers``/``--scheduler`` (a context manager; local when both are None).

    An unreachable scheduler, or both options at once, is an
    :class:`~planner.errors.InputError` (exit code 2).
    """
    if workers is not None and scheduler is not None:
        msg = "give either --workers (a cluster on this machine) or --scheduler (an existing one), not both"
        raise InputError(msg, code="invalid_parameter")
    if workers is not None or scheduler is not None:
        # optional and slow (1.2 s): it sets its loggers' levels on import; ours below win
        import distributed  # noqa: F401

        # Dask's INFO chatter (every worker and client registering) only with -vv;
        # warnings (a worker restarted, lost) always
        ctx = click.get_current_context(silent=True)
        verbose = getattr(ctx.find_root().obj, "verbose", 0) if ctx is not None else 0
        logging.getLogger("distributed").setLevel(logging.INFO if verbose >= 2 else logging.WARNING)
    return pl.routing.execution.executor(workers=workers, scheduler=scheduler)


# ---------------------------------------------------------------------- the network

def bundled_osm() -> Path | None:
    """The bundled OSM extract (``osm_cache/*.osm.pbf``), or None."""
    root = data_root()
    pbfs = sorted((root / "osm_cache").glob("*.osm.pbf")) if root else []
    return pbfs[0] if pbfs else None


def load_network(ctx: click.Context, gtfs, osm, date, cache_dir: Path, no_cache: bool, *,
                 window_end_s: int | None = None, drive: bool = False, **config_overrides):
    """Build or reload the network for a command; returns (network, date string)."""
    config = make_config(ctx, **config_overrides)
    specs = list(gtfs)
    if not specs:
        specs = [str(p) for p in default_gtfs_paths()]
        if osm is None:
            osm = bundled_osm()
    if not specs:
        msg = "no --gtfs given and no bundled feeds found in gtfs/"
        raise FeedError(msg, code="input_unreadable", hint="pass --gtfs FEED (a GTFS zip or folder)")
    feeds = None
    if date is None:
        choice, feeds = _default_date_cached(specs, config, cache_dir if not no_cache else None)
        day = choice.date
        ctx.meta["plan.date_reason"] = choice.reason
    else:
        try:
            day = pl.ingest.gtfs.service.to_date(date)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--date") from None
        ctx.meta["plan.date_reason"] = f"{day}: given with --date"
    # the service day plus the morning after (overnight journeys end on next-day trips)
    window = (0, max(36 * 3600, (window_end_s or 0) + 16 * 3600))
    net = pl.network.build.build_network(specs, str(day), window=window, osm=osm, drive=drive, config=config,
                                      cache_dir=cache_dir, use_cache=not no_cache, preloaded=feeds)
    return net, str(day)


def date_reason(ctx: click.Context) -> str:
    """Which service date :func:`load_network` used and why (for reports)."""
    return ctx.meta.get("plan.date_reason", "")


def _default_date_cached(specs, config, cache_dir):
    """The feeds' representative date (:func:`planner.ingest.gtfs.service.representative_date`),
    remembered per input digest so a warm run need not parse the feeds; returns (choice,
    feeds or None)."""
    service = pl.ingest.gtfs.service
    key = hashlib.sha256(json.dumps(sorted(pl.network.build.feed_digests(specs).items())).encode()).hexdigest()[:40]
    path = None if cache_dir is None else Path(cache_dir) / "networks" / f"default-date-{key}.json"
    if path is not None and path.exists():
        try:
            got = json.loads(path.read_text())
            return service.DateChoice(service.to_date(got["date"]), str(got["reason"])), None
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
    feeds = pl.ingest.gtfs.feed.read_feeds(specs, config=config)
    choice = service.representative_date(feeds)
    if path is not None:
        try:
            write_text(path, json.dumps({"date": str(choice.date), "reason": choice.reason}))
        except OSError:
            pass
    return choice, feeds
