"""``plan transfers``: which transfers between stations are too long, what they cost, where a
new entrance or connector should go."""

from __future__ import annotations

import time
from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.common.bundled import data_root
from planner.common.timeofday import window_text
from planner.errors import OutputError

DEFAULT_OUT = Path("plan-output") / "transfers"


def _default_osm(gtfs, osm):
    """The OSM file behind the walk network (for OSM entrances): ``--osm`` or, with the
    bundled feeds, the bundled extract (as :func:`planner.cli._options.load_network` picks it)."""
    if osm is not None or gtfs:
        return osm

    root = data_root()
    pbfs = sorted((root / "osm_cache").glob("*.osm.pbf")) if root else []
    return pbfs[0] if pbfs else None





@click.command("transfers")
@click.option("--radius", "radius_m", type=click.FloatRange(min=1.0), default=1500.0, show_default=True,
              help="Stations of different modes, operators or feeds within this many metres are candidate pairs.")
@click.option("--nearest", "nearest_per_mode", type=click.IntRange(min=0), default=1, show_default=True,
              help="Keep a radius pair when one station is among the N nearest of its mode and feed seen from "
                   "the other (0: every pair in the radius).")
@click.option("--standard", "standard_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML file with the walking thresholds and delay means (see below).")
@click.option("--od", "od_file", default=None, metavar="FILE|places",
              help="Journeys to weight by: points (id, lon, lat or stop_id; every ordered pair), an OD list "
                   "(from_lon, from_lat, to_lon, to_lat or from_stop, to_stop; optional trips), or 'places' for "
                   "the evaluation's places (--places, default the bundled cities). "
                   "Default: every ordered pair of the stations analysed.")
@click.option("--places", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Places for --od places (CSV: id, name, lon, lat, population).")
@opts.time_option("--depart", "depart", default="08:00", show_default=True, help="Start of the departure window.")
@opts.window_options(60, "Departure window in minutes (waits, miss risk and routed journeys).",
                15, "Minutes between the routed journeys' departures in the window.")
@click.option("--bbox", callback=opts.check_bbox, default=None, metavar="W,S,E,N",
              help="Analyse the stations in this box only [default: the street network's extent].")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Rows of the ranked table shown on the terminal.")
@click.option("--maps", type=click.IntRange(min=0), default=6, show_default=True,
              help="PNG maps of the most important station areas.")
@opts.output_options(DEFAULT_OUT)
@click.option("--observed", "observed", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV of walks measured on the ground (from_stop_id, to_stop_id, walk_s, source) that replace "
                   "the computed ones.")
@click.option("--trust-walks", is_flag=True,
              help="Also suggest connectors for the pairs listed under 'check the map data' (you confirm "
                   "that their long walks are real).")
@click.option("--write-scenario", "scenario_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the best suggested connector as an add_transfer scenario for 'plan evaluate'.")
@opts.network_options
@click.pass_context
def transfers(ctx: click.Context, radius_m: float, nearest_per_mode: int, standard_file: Path | None,
              od_file: str | None, places: Path | None, depart: int, window_min: int, step_min: int, bbox, top: int, maps: int,
              output: Path | None, overwrite: bool, observed: Path | None, trust_walks: bool, scenario_out: Path | None,
              gtfs, osm, date, cache_dir, no_cache, datum) -> None:
    """Measure the transfers between stations of different modes on the walking network.

    Finds candidate pairs (different mode, operator or feed within --radius; same parent
    station; same name; transfers.txt), measures each walk platform to platform on the
    street network between the nearest entrances (GTFS entrances and pathways, OSM subway
    entrances and stop positions, else the stops), the straight line and the detour ratio,
    the connection time the timetable forces over the window (walk + change time + typical
    wait), the risk of missing the connection, and classifies each pair against the
    standard. Routed journeys weight the pairs (journeys, traveller-minutes lost), and for
    each failing pair the street node where a new entrance would save the most
    use-weighted walking is suggested.

    Walks cross squares, platforms and station halls where OSM maps them as areas. A pair
    whose walk is likely an artefact of the map (at least data_detour_ratio x the straight
    line, or a detour with a station hall or platforms linked to no way, or an entrance no
    way reaches) is listed apart under "check the map data" with what is missing, and gets
    no connector unless --trust-walks. --observed replaces computed walks by measured ones.

    Writes transfers.csv, transfer_suggestions.csv, transfers.gpkg (stations,
    access_points, walk_paths, suggestions, connectors), PNG maps per station area,
    transfers.html and transfer_standard.yaml.

    \b
    Default standard (walk, platform to platform):
      good <= 200 m, acceptable <= 400 m, poor <= 1000 m, very poor beyond
      detour flag: walk >= 2 x straight line and >= 100 m (OpenTripPlanner)
      check the map data: walk >= 3 x straight line, or >= 2 x with a missing link
      delays (assumed): exponential, mean min per mode, e.g. metro 0.5, bus 3, rail 2
    A --standard file overrides any of:
      good_max_m: 150
      acceptable_max_m: 300
      poor_max_m: 800
      detour_ratio_flag: 2.0
      detour_min_m: 100
      connector_max_m: 400
      connector_min_saving_min: 1.0
      data_detour_ratio: 3.0
      delay_mean_min: {bus: 4.0, metro: 0.5}

    \b
    Examples:
      plan transfers
      plan transfers --radius 1000 --depart 07:30 --window 120 -o out/transfers
      plan transfers --gtfs hsl.zip --osm helsinki.osm.pbf --date 2022-02-22 --od od.csv
      plan transfers --od places --window 120
      plan transfers --observed walks_measured.csv
      plan transfers --write-scenario connector.yaml && plan evaluate connector.yaml

    \b
    walks_measured.csv (--observed: walks measured on the ground, platform to platform):
      from_stop_id,to_stop_id,walk_s,source
      harbin_metro:L3_4632683316,northeast_rail:VAB,420,survey of 2026-11 (example figure)
    """
    t_start = time.perf_counter()
    out = output or DEFAULT_OUT
    if scenario_out is not None and scenario_out.exists() and not (overwrite or output is None):
        msg = f"{scenario_out} already exists"
        raise OutputError(msg, code="output_exists", hint="pass --overwrite")
    room = pl.analyses.transfers
    standard, delay = (room.standard.load_standard(standard_file) if standard_file is not None
                       else (None, None))
    net, day = opts.load_network(ctx, gtfs, osm, date, cache_dir, no_cache, window_end_s=depart + 60 * window_min)
    if od_file == "places":
        od = room.use.places_od(net, pl.ingest.points.load_places(places))
    else:
        od = room.use.read_od(net, Path(od_file), datum=datum) if od_file is not None else None
    res = room.analysis.analyse_transfers(
        net, radius_m=radius_m, standard=standard, delay=delay, od=od, departure_s=depart,
        window_min=window_min, use_step_min=step_min, nearest_per_mode=nearest_per_mode,
        bbox=bbox, osm=_default_osm(gtfs, osm), observed=observed, trust_walks=trust_walks,
        progress=opts.show_progress(ctx))
    written = res.write(out, overwrite=overwrite or output is None, maps=maps, settings=opts.run_record(ctx, net.config))
    written.append(opts.write_config_record(ctx, net.config, out))
    s = res.summary()
    click.echo(f"Transfers on {day}, departures {window_text(depart, window_min)}: "
               f"{s['pairs']} pairs between {s['stations']} stations; "
               + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in s["by_class"].items() if v)
               + f"; {s['failing']} fail the standard"
               + (f"; {s['data_checks']} listed apart: check the map data" if s["data_checks"] else "")
               + (f"; {s['observed']} observed on the ground" if s["observed"] else "") + ".")
    if net.walk is None:
        click.echo("note: no street network loaded; walks are the straight line x "
                   f"{net.config.straight_line_detour} at {net.config.walk_speed_mps} m/s")
    click.echo(render(pl.analyses.transfers.outputs.terminal_rows(res, top), pl.analyses.transfers.outputs.TERMINAL_COLUMNS))
    checks = pl.analyses.transfers.outputs.check_rows(res)
    if checks:
        click.echo(f"Check the map data ({len(checks)} pair(s): the walk is likely an artefact of the map, not a "
                   "finding; no connector suggested" + (" unless trusted" if not trust_walks else "") + "):")
        click.echo(render(checks, pl.analyses.transfers.outputs.CHECK_COLUMNS))
    click.echo(f"{s['journeys_routed']:.0f} routed journeys ({res.params['od']}); "
               f"{s['traveller_min_lost']:.0f} traveller-minutes lost against the standard; "
               f"{s['suggestions']} suggested entrances.")
    if scenario_out is not None:
        pl.analyses.transfers.analysis.write_connector_scenario(res, scenario_out)
        click.echo(f"Scenario written to {scenario_out} (plan evaluate {scenario_out})")
    click.echo(f"Outputs in {out}/ ({len(written)} files, transfers.html) in {time.perf_counter() - t_start:.0f} s.")
