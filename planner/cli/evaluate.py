"""``plan evaluate``: rank candidate lines against the baseline (the main job)."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.cli.fares import CARD_STEP_MIN, CARD_WINDOW_MIN, SAMPLE_BUDGETS, SAMPLE_VALUE_OF_TIME
from planner.common.bundled import data_root
from planner.common.timeofday import window_text
from planner.errors import InputError

DEFAULT_OUT = Path("plan-output") / "evaluate"


@click.command("evaluate")
@click.argument("scenarios", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--places", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Places to connect (CSV: id, name, lon, lat, population). Default: the bundled cities.")
@click.option("--zones", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="CSV",
              help="Weighted points of places (CSV: place_id, lon, lat, weight): a place is routed from and to its "
                   "points and its times are their weighted mean. Default on the bundled sample: Harbin over its "
                   "central districts where people live (plan opportunities' layer) and the rest at its point.")
@click.option("--no-zones", is_flag=True, help="Route every place from its one point (no --zones, no districts).")
@click.option("--appraisal", "appraisal", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="YAML overriding appraisal parameters (value_of_time_cny_per_h, discount_rate, "
                                   "operating_years, gravity_gamma, calibration, ...). Default: the sourced defaults "
                                   "listed in the report.")
@click.option("--od", "od", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="CSV",
              help="Observed trips instead of the gravity model (CSV: from_id, to_id, trips_per_day, on the place ids).")
@opts.time_option("--depart", "depart", default="07:00", show_default=True, help="Start of the departure window.")
@opts.window_options(180, "Departure window in minutes (travel times are medians over it).",
                5, "Minutes between departures in the window.")
@opts.output_options(DEFAULT_OUT)
@opts.executor_options
@opts.network_options
@click.pass_context
def evaluate(ctx: click.Context, scenarios: tuple[Path, ...], places: Path | None, zones: Path | None, no_zones: bool,
             appraisal: Path | None,
             od: Path | None, depart: int, window_min: int,
             step_min: int, output: Path | None, overwrite: bool, workers, scheduler, gtfs, osm, date, cache_dir, no_cache,
             datum) -> None:
    """Compare candidate scenarios with the baseline and rank them.

    Prints a recommendation (the best scenario and the best new line, with the numbers, the
    reasons and the caveats), then the ranking by benefit-cost ratio. For the baseline and
    each SCENARIO (YAML; see below): door-to-door travel times between all places over the
    departure window (median), the population-weighted mean travel time, the population each
    place reaches within 1, 2 and 3 hours, winners and losers; the scenario's costs (track
    by kind: new, upgraded, existing; added train-km; its fixed costs), trips from a
    calibrated gravity model (or --od), the travel-time benefit (rule of a half), present
    values, NPV, benefit-cost ratio and a sensitivity table; the coverage of every place;
    for a fare_policy (a unified fare card) the card's dividend as plan fares computes it.
    Writes ranking.csv, costs.csv, sensitivity.csv, coverage.csv, appraisal_inputs.csv,
    places.csv, zones.csv (places spread over weighted points), matrix.csv/.parquet,
    evaluate.gpkg, maps (PNG), report.html and report.md.

    Without arguments it runs on the bundled Northeast China sample (intercity rail, the
    Harbin metro and streets of central Harbin, census populations, Harbin spread over its
    districts where people live: --zones) and its example scenarios in scenarios/.

    \b
    Scenario file (YAML):
      name: spine_express
      changes:
        - add_line: {id: X1, mode: high_speed_rail, stops: [哈尔滨西, 长春西, 沈阳北],
                     speed_class_kmh: 350, dwell_min: 2, headway_min: 60,
                     service: {start: "06:30", end: "21:30"}, track: new}
        - adjust_headway: {route: FEED:ROUTE, factor: 0.5}
        - remove_route: {route: FEED:ROUTE}
        - add_transfer: {from_stop: FEED:A, to_stop: FEED:B, walk_s: 240}
      costs: {capital_million: 80, operating_million_per_year: 3}

    \b
    Examples:
      plan evaluate
      plan evaluate scenarios/spine_express.yaml --window 240 -o out/
      plan evaluate scenarios/spine_express.yaml scenarios/hada_double_frequency.yaml \\
          --scheduler tcp://head-node:8786
      plan evaluate my_line.yaml --gtfs rail.zip --gtfs metro.zip --places cities.csv --date 2025-06-17
      plan evaluate scenarios/spine_express.yaml --appraisal appraisal.yaml --od observed_trips.csv
    """
    t0 = time.perf_counter()
    paths = list(scenarios)
    if not paths and not gtfs:
        root = data_root()
        paths = sorted((root / "scenarios").glob("*.yaml")) if root else []
    loaded = [pl.scenarios.spec.load_scenario(p) for p in paths]
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        msg = f"two scenarios have the same name: {', '.join(sorted({n for n in names if names.count(n) > 1}))}"
        raise InputError(msg, code="duplicate_scenario_name", hint="give each scenario its own 'name'")
    places_df = pl.ingest.points.load_places(places)
    zones_df, zone_notes = _zones(zones, no_zones, places, gtfs, places_df)
    params = pl.analyses.evaluate.parameters.load_params(appraisal)
    od_table = pl.analyses.evaluate.parameters.load_od(od, places_df["id"]) if od is not None else None
    # the cluster first: an unreachable scheduler fails before the networks are built
    ex = ctx.with_resource(opts.open_executor(workers, scheduler))
    net, day = opts.load_network(ctx, gtfs, osm, date, cache_dir, no_cache,
                                 window_end_s=depart + 60 * window_min, local_rail_transfers=True)
    config = opts.make_config(ctx, local_rail_transfers=True)
    feeds = net.load_feeds()
    card = pl.analyses.fare_card.measure.CardMeasure(_fare_params(bool(gtfs)))
    ev = pl.analyses.evaluate.compare.evaluate(
        feeds, loaded, places_df, date=day, depart_s=depart, window_min=window_min, step_min=step_min,
        walk=net.walk, config=config, cache_dir=cache_dir, use_cache=not no_cache,
        progress=opts.show_progress(ctx), executor=ex, measures=[card], params=params, od=od_table,
        date_reason=opts.date_reason(ctx), zones=zones_df)
    ev.notes += zone_notes + _notes(net, config)
    out = output or DEFAULT_OUT
    written = pl.analyses.evaluate.outputs.write_outputs(
        ev, net.timetable, out, overwrite=overwrite or output is None,
        inputs={"feeds": ", ".join(feeds.ids), "places": len(places_df)},
        osm=net.walk.meta.get("source_path") if net.walk is not None else None, settings=opts.run_record(ctx, config))
    opts.write_config_record(ctx, config, out)
    spread = (f" ({zones_df['place_id'].nunique()} of them over {len(zones_df)} weighted points: zones.csv)"
              if zones_df is not None and len(zones_df) else "")
    click.echo(f"Evaluated {len(loaded)} scenario(s) on {day}, {len(places_df)} places{spread}, departures "
               f"{window_text(depart, window_min)}.")
    click.echo(f"Service date {ev.date_reason or day}.")
    click.echo("")
    for sentence in ev.recommendation:
        click.echo(textwrap.fill(sentence, width=110, subsequent_indent="  "))
    click.echo("")
    cols = ["rank", "scenario", "bcr", "npv_million_cny", "capital_million_cny", "operating_million_cny_per_year",
            "benefit_million_cny_per_year", "delta_pop_weighted_mean_min", "new_line_km", "pairs_newly_connected"]
    cols += [c for c in ("card_time_saved_min",) if c in ev.ranking]
    if len(ev.ranking):
        table = ev.ranking[cols].rename(columns={
            "npv_million_cny": "npv_M", "capital_million_cny": "capital_M", "operating_million_cny_per_year": "opex_M/yr",
            "benefit_million_cny_per_year": "benefit_M/yr", "delta_pop_weighted_mean_min": "delta_min",
            "pairs_newly_connected": "new_pairs", "card_time_saved_min": "card_saved_min"})
        click.echo("Ranking (money in million CNY; delta_min: change of the population-weighted mean travel time):")
        rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                for r in table.to_dict("records")]   # NaN (not measured) shows blank
        click.echo(render(rows))
    else:
        click.echo("No scenarios given: baseline measures only (see places.csv).")
    click.echo(f"Outputs in {out}/ ({len(written)} files, report.html) in {time.perf_counter() - t0:.0f} s.")


def _zones(zones: Path | None, no_zones: bool, places: Path | None, gtfs, places_df):
    """The weighted points of places and what the report says of them: ``--zones``; else, on
    the bundled sample with its cities, the city inside the OSM extract over its districts
    (the population layer of plan opportunities); else none."""
    if no_zones:
        return None, []
    if zones is not None:
        z = pl.ingest.points.load_zones(zones)
        return z, [f"Places with weighted points ({zones.name}): "
                   f"{', '.join(sorted(set(z['place_id'])))}; their travel times are the weighted mean over "
                   f"{len(z)} points."]
    osm = opts.bundled_osm()
    if places is not None or gtfs or osm is None:
        return None, []
    try:
        return pl.analyses.access.population.city_zones(osm, places_df)
    except InputError:  # no totals for the extract: every place stays one point
        return None, []


def _fare_params(own_feeds: bool):
    """The fare part of a fare_policy scenario: plan fares' default window (so that the card's
    figures are the same in both commands); on the bundled sample with plan fares' value of
    time and budgets (CNY)."""
    params = pl.routing.card_variants.DividendParams
    if own_feeds:
        return params(window_min=CARD_WINDOW_MIN, step_min=CARD_STEP_MIN)
    return params(window_min=CARD_WINDOW_MIN, step_min=CARD_STEP_MIN, budgets=SAMPLE_BUDGETS,
                  value_of_time_per_h=SAMPLE_VALUE_OF_TIME)


def _notes(net, config) -> list[str]:
    notes = [
        f"Travel times are door to door: walking on the street network where one is loaded "
        f"({'yes' if net.walk is not None else 'no'}; speed {config.walk_speed_mps} m/s), elsewhere the "
        f"straight-line distance x {config.straight_line_detour} at walking speed, and urban access to stations "
        f"by taxi/bus approximated as straight-line distance x {config.straight_line_detour} at "
        f"{config.local_access_speed_kmh} km/h (up to {config.local_access_max_s // 60} min).",
        f"A change of vehicle takes at least {config.change_time_s} s; at most {config.max_rides} vehicles per journey.",
        "Rail stations of one city are also linked by the same taxi/bus approximation, so journeys may change "
        "stations across town (e.g. Harbin station to Harbin West).",
        "Population-weighted means use the pairs reachable in both the baseline and the scenario.",
    ]
    return notes
