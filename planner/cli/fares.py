"""``plan fares``: what a unified fare card saves, for whom and where."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.common.bundled import data_root
from planner.common.timeofday import hhmm
from planner.errors import InputError, OutputError

DEFAULT_OUT = Path("plan-output") / "fares"
#: value of time for the bundled sample, CNY per hour: the appraisal's value of time
#: (planner.analyses.evaluate.parameters.AppraisalParams, sourced there), so that plan fares
#: and plan evaluate weigh time with one number (a test checks they agree)
SAMPLE_VALUE_OF_TIME = 20.0
SAMPLE_BUDGETS = (50.0, 100.0)
#: the fare card's departure window (minutes) and step: plan fares' defaults, which plan
#: evaluate uses too, so that the card's figures are the same in both
CARD_WINDOW_MIN = 60
#: most vehicles per journey in the fare search unless --max-rides says otherwise
FARE_MAX_RIDES = 5
CARD_STEP_MIN = 5








def _default_policy() -> Path:
    root = data_root()
    for p in sorted((root / "scenarios").glob("*.yaml")) if root else []:
        try:
            if pl.scenarios.spec.load_scenario(p).of_kind(pl.scenarios.spec.FarePolicy):
                return p
        except InputError:
            continue
    msg = "no --policy given and no bundled scenario with a fare_policy in scenarios/"
    raise InputError(msg, code="input_unreadable", hint="pass --policy FILE (a scenario YAML with a fare_policy)")


@click.command("fares")
@click.option("--policy", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Scenario YAML holding a fare_policy (the unified card); its other changes (lines, transfers) "
                   "are applied to the network for both sides. Default: the bundled harbin_west_integration.")
@click.option("--places", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Places (CSV: id, name, lon, lat, population). Default: the bundled cities.")
@click.option("--stop", "stops", multiple=True, metavar="FEED:ID", help="Also a place at this stop (repeatable).")
@opts.time_option("--depart", "depart", default="07:00", show_default=True, help="First departure of the window.")
@opts.window_options(CARD_WINDOW_MIN, "Departure window in minutes (results are means over its departures).",
                CARD_STEP_MIN, "Minutes between departures (place pairs).")
@click.option("--value-of-time", "value_of_time", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="PER_H", help="Currency units per hour, for generalized cost. Default: 20 (CNY/h, the appraisal's value of time) "
                                    "for the bundled sample, none otherwise.")
@click.option("--transfer-penalty", "transfer_penalty", type=click.FloatRange(min=0), default=0.0, show_default=True,
              metavar="MIN", help="Perceived minutes per transfer in generalized cost (the card's own if it sets one).")
@click.option("--budgets", callback=opts.check_numbers(), default=None, metavar="X,...",
              help="Fare budgets (currency units) for the travel time at a fixed budget and the raster's fare "
                   "cutoffs. Default: 50,100 for the bundled sample, none otherwise.")
@click.option("--penalty", "penalties", multiple=True, callback=opts.check_key_numbers, metavar="MODE=S",
              help="Ticketing penalty in seconds for a mode (repeatable), e.g. high_speed_rail=900, or "
                   "default=60. Defaults: bus 30, metro/tram/rail 120, high-speed/intercity rail 600, else 60.")
@click.option("--first-boarding-penalty", "first_penalty", is_flag=True,
              help="Charge the ticketing penalty at the first boarding too (a traveller starting without a ticket; "
                   "the card then also saves it). Default: only at changes of operator.")
@click.option("--flat-fare", "flat", multiple=True, callback=opts.check_key_numbers, metavar="FEED=PRICE",
              help="Price a feed without fare files at a flat fare per ride (repeatable).")
@click.option("--distance-fare", "distance", multiple=True, callback=opts.check_key_numbers, metavar="FEED=PER_KM",
              help="Price a feed without fare files per km (repeatable).")
@click.option("--currency", default="CNY", show_default=True, metavar="ISO",
              help="Currency of --flat-fare and --distance-fare.")
@click.option("--horizon", "horizon_h", type=click.FloatRange(min=0.5, max=48), default=8.0, show_default=True,
              metavar="H", help="Longest journey searched, hours.")
@click.option("--fare-horizon", "fare_horizon", type=click.FloatRange(min=1), default=None, metavar="MIN",
              help="Track ticket windows only this long after each departure; a transfer on a later vehicle "
                   "buys a new ticket (fares never too low, may be too high past it). Default: the whole --horizon "
                   "(exact). Bounds the fare search where windows shorter than the horizon make it grow.")
@click.option("--max-labels", "max_labels", type=click.IntRange(min=1), default=4_000_000, show_default=True,
              metavar="N", help="Labels one fare search may create before it stops with an error.")
@click.option("--grid/--no-grid", default=True, show_default=True,
              help="Also the raster of accessibility at (time, fare) cutoffs (fare_access.tif).")
@click.option("--resolution", type=click.FloatRange(min=50.0), default=3000.0, show_default=True, metavar="M",
              help="Raster cell size in metres (the grid covers the walk network).")
@click.option("--grid-step", "grid_step", type=click.IntRange(min=1), default=15, show_default=True, metavar="MIN",
              help="Minutes between the raster's departures (every cell runs McRAPTOR per departure).")
@click.option("--time-cutoffs", "time_cutoffs", callback=opts.check_numbers(), default="120,180", show_default=True,
              metavar="MIN,...", help="Raster time cutoffs in minutes.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Pairs shown on the terminal.")
@opts.output_options(DEFAULT_OUT)
@opts.executor_options
@opts.network_options
@click.pass_context
def fares(ctx: click.Context, policy, places, stops, depart, window_min, step_min, value_of_time, transfer_penalty,
          budgets, penalties, first_penalty, flat, distance, currency, horizon_h, fare_horizon, max_labels, grid, resolution, grid_step, time_cutoffs, top, output,
          overwrite, workers, scheduler, gtfs, osm, date, cache_dir, no_cache, datum) -> None:
    """The unified fare card: travel time and money saved, for whom and where.

    Routes every pair of places (and, with --grid, every raster cell to the places) with
    fare-aware McRAPTOR, twice: with separate fare systems (a ticketing penalty - ticket,
    ID/security check, gate - at each boarding that enters a system the traveller holds no
    ticket for, and each operator's fares) and with the unified card of the --policy
    scenario. Reports per pair the travel time and fare of the fastest journey on both
    sides, the time saved split into money-and-ticketing and connection-time effects, the
    distribution of time saved, the pairs and places that gain most, the generalized cost
    change (--value-of-time), the share of journeys whose best route changes operator mix,
    and the travel time within fare budgets. Writes fares_od.csv, fares_places.csv,
    fares_distribution.csv, fares_summary.json, map_fares.png, fare_access.tif (+ PNG of the
    changes), report.html and report.md to the output folder.

    On the bundled sample the fares are sourced (China Railway's per-km second-class rate;
    Harbin Metro 3/4/5 CNY by stations travelled, see planner.network.fares.sample) and the policy
    is scenarios/harbin_west_integration.yaml.

    \b
    Policy (a scenario file; keys in planner.scenarios.fare_policy):
      name: harbin_west_integration
      changes:
        - fare_policy:
            unified_card: true
            operators: [中国铁路哈尔滨局集团有限公司, 哈尔滨地铁]
            tariff: integrated          # or keep (own fares, penalties removed)
            transfer_window_min: unlimited
            max_transfers: 1
            transfer_discount: 3        # CNY off the connecting ride
            min_connection_min: 2       # optional: connection time at card stops

    \b
    Examples:
      plan fares
      plan fares --policy scenarios/harbin_west_integration.yaml --value-of-time 60 --no-grid -o out/fares
      plan fares --stop harbin_metro:L2_8416702419 --no-grid --window 120 --step 10
      plan fares --gtfs rail.zip --gtfs metro.zip --policy card.yaml --places towns.csv --budgets 20,50 --no-grid
    """
    t0 = time.perf_counter()
    progress = opts.show_progress(ctx)
    bundled = not gtfs
    if output is not None and not overwrite:  # fail before the work, not after it

        clash = [n for n in ("fares_od.csv", "fares_summary.json", "report.html") if (output / n).exists()]
        if clash:
            msg = f"{output / clash[0]} already exists"
            raise OutputError(msg, code="output_exists", hint="pass --overwrite or choose another -o folder")
    path = policy or _default_policy()
    scn = pl.scenarios.spec.load_scenario(path)
    if not scn.of_kind(pl.scenarios.spec.FarePolicy):
        msg = f"{path}: the scenario has no fare_policy change"
        raise InputError(msg, code="no_fare_policy",
                         hint="add '- fare_policy: {unified_card: true, operators: [...]}' to its changes")
    places_df = pl.ingest.points.load_places(places)
    if stops:
        places_df = pl.ingest.points.add_stop_places(places_df, stops)
    if places_df["id"].duplicated().any():
        msg = f"place ids must be unique; repeated: {sorted(set(places_df['id'][places_df['id'].duplicated()]))}"
        raise InputError(msg, code="duplicate_place_id")
    card, grids = pl.analyses.fare_card, pl.analyses.access.grid  # loaded now that the command runs
    defaults = pl.network.fares.model.TicketingPenalty()
    by_mode = dict(defaults.by_mode)
    default_s = defaults.default_s
    for mode, s in penalties.items():
        if mode == "default":
            default_s = round(s)
        elif mode in pl.ingest.gtfs.modes.MODES:
            by_mode[mode] = round(s)
        else:
            msg = f"--penalty: unknown mode {mode!r} (known: default, {', '.join(pl.ingest.gtfs.modes.MODES)})"
            raise click.BadParameter(msg, param_hint="--penalty")
    # --max-rides (a routing option) caps the fare search's vehicles; its own default is 5
    max_rides = opts.config_layers(ctx)[0].get("max_rides", FARE_MAX_RIDES)
    if max_rides > 8:
        msg = f"--max-rides {max_rides}: the fare search takes at most 8 vehicles per journey"
        raise InputError(msg, code="invalid_parameter", hint="give --max-rides 8 or fewer")
    params = pl.routing.card_variants.DividendParams(
        departure_s=depart, window_min=window_min, step_min=step_min,
        budgets=budgets if budgets is not None else (SAMPLE_BUDGETS if bundled else ()),
        value_of_time_per_h=value_of_time if value_of_time is not None else (SAMPLE_VALUE_OF_TIME if bundled else None),
        transfer_penalty_min=transfer_penalty,
        penalty=pl.network.fares.model.TicketingPenalty(default_s=default_s, by_mode=by_mode, first_boarding=first_penalty),
        max_rounds=max_rides, max_duration_s=round(horizon_h * 3600), max_labels=max_labels,
        fare_horizon_min=fare_horizon)
    ex = ctx.with_resource(opts.open_executor(workers, scheduler))
    net, day = opts.load_network(ctx, gtfs, osm, date, cache_dir, no_cache,
                                 window_end_s=depart + 60 * window_min + params.max_duration_s, local_rail_transfers=True)
    if stops:
        for i in range(len(places_df)):
            sid = places_df["stop_id"].iloc[i]
            if sid:
                s = net.stop_index(str(sid))
                places_df.loc[i, "lon"] = float(net.timetable.stop_lon[s])
                places_df.loc[i, "lat"] = float(net.timetable.stop_lat[s])
                places_df.loc[i, "stop_id"] = str(net.timetable.stop_ids[s])
    applied = pl.scenarios.network.scenario_network(net, scn, cache_dir=cache_dir, use_cache=not no_cache,
                                                    progress=progress)
    net2 = applied.network
    changed = sorted({r["change"] for r in applied.report})
    feeds = net2.load_feeds()
    unknown = sorted((set(flat) | set(distance)) - set(feeds.ids))
    if unknown:
        msg = f"--flat-fare/--distance-fare name unknown feed(s) {unknown}; feeds: {', '.join(feeds.ids)}"
        raise InputError(msg, code="unknown_feed")
    flat_tariffs = {k: pl.network.fares.build.FlatTariff(v, currency) for k, v in flat.items()}
    distance_rates = {k: pl.network.fares.systems.DistanceRate(v, currency=currency) for k, v in distance.items()}
    setup, spec = card.dividend.scenario_fares(net2, scn, sample=bundled, flat=flat_tariffs or None,
                                               distance=distance_rates or None)
    res = card.dividend.fare_dividend(net2, setup, spec.policy, places_df, params=params, feeds=feeds, executor=ex,
                                      progress=progress)
    res.notes.extend(spec.notes)
    operators = spec.operators
    if changed:
        res.notes.insert(0, f"The network includes the scenario's other changes ({', '.join(changed)}) on both sides: "
                            "the dividend is the fare policy's alone; plan evaluate measures the changes themselves.")
    raster = None
    if grid:
        g = grids.make_grid(resolution, net=net2)
        x, y = grids.transform_xy("EPSG:4326", g.crs, places_df["lon"].to_numpy(float), places_df["lat"].to_numpy(float))
        layers = [grids.opportunities_from_points("population", x, y, places_df["population"].to_numpy(float), g,
                                                  unit="people",
                                                  source=f"places ({places.name if places else 'cities.csv'})")]
        raster = pl.analyses.access.fare_access.fare_access(
            net2, setup, spec.policy, g, layers, params=replace(params, step_min=grid_step),
            time_cutoffs_min=time_cutoffs, fare_cutoffs=params.budgets or (float("inf"),), feeds=feeds, executor=ex,
            progress=progress)
    out = output or DEFAULT_OUT
    inputs = {"service date": day, "policy": str(path), "feeds": ", ".join(feeds.ids), "places": len(places_df)}
    written = card.outputs.write_fare_outputs(res, raster, net2.timetable, out, overwrite=overwrite or output is None,
                                              inputs=inputs, operators=operators,
                                              osm=net.walk.meta.get("source_path") if net.walk is not None else None,
                                              settings=opts.run_record(ctx, net.config))
    opts.write_config_record(ctx, net.config, out)
    _print(res, operators, top, day, path, raster)
    click.echo(f"Outputs in {out}/ ({len(written)} files: fares_od.csv, fares_places.csv, map_fares.png, "
               f"{'fare_access.tif, ' if raster is not None else ''}report.html, report.md) in "
               f"{time.perf_counter() - t0:.0f} s.")





def _print(res, operators, top, day, path, raster) -> None:
    s, cur = res.summary, res.currency
    p = res.params
    click.echo(f"Unified fare card '{res.policy.name}' ({path}) on {day}: {len(res.places)} places, "
               f"{len(p.departures())} departures from {hhmm(p.departure_s)} "
               f"every {p.step_min} min; fares in {cur}.")
    rows = pl.analyses.fare_card.outputs.policy_rows(res, operators)[1:6]
    click.echo("Card: " + "; ".join(f"{r['setting']} {r['value']}" for r in rows) + ".")
    click.echo("")
    tp = pl.analyses.fare_card.outputs.top_pairs(res, top)
    click.echo(f"Place pairs that gain most (fastest journey; times in minutes, fares in {cur}):")
    click.echo(render(tp.rename(columns={"separate_time_min": "sep_min", "card_time_min": "card_min",
                                         "time_saved_min": "saved_min", "separate_fare": "sep_fare",
                                         "penalty_removed_min": "penalty_off_min",
                                         "generalized_change_min": "gen_change_min"}).to_dict("records")))
    click.echo("")
    click.echo("Journeys (pair x departure) by minutes saved:")
    click.echo(render([{"minutes saved": r.minutes_saved, "journeys": int(r.journeys), "share": f"{100 * r.share:.1f}%"}
                       for r in res.distribution.itertuples()]))
    click.echo("")
    gainers = res.per_place.head(5)
    click.echo("Places that gain most (mean minutes saved on their journeys, population-weighted):")
    click.echo(render(gainers[["id", "name", "mean_time_saved_min", "pairs_faster", "mean_fare_change",
                               "mean_generalized_change_min"]].to_dict("records")))
    click.echo("")
    gen = s["mean_generalized_change_min"]
    click.echo(f"Mean time saved per pair {s['mean_time_saved_min']:.2f} min (population-weighted "
               f"{s['pop_weighted_time_saved_min']:.2f}): money and ticketing {s['time_saved_ticketing_min']:.2f} min, "
               f"connection time {s['time_saved_connection_min']:.2f} min. Fare change {s['mean_fare_change']:+.2f} {cur}; "
               + (f"generalized cost {gen:+.2f} min" if np.isfinite(gen) else "no generalized cost (no value of time)")
               + f"; best route changes operator mix on {100 * s['share_journeys_mix_changed']:.1f}% of journeys.")
    for b in p.budgets:
        k = f"mean_time_saved_at_{str(int(b)) if float(b).is_integer() else str(b).replace('.', '_')}_min"
        v = s.get(k, float("nan"))
        click.echo(f"Within a {b:g} {cur} budget: {v:.2f} min saved on average." if np.isfinite(v)
                   else f"Within a {b:g} {cur} budget: no pair reached on both sides.")
    top1 = pl.analyses.fare_card.outputs.top_pairs(res, 1)
    if len(top1) and top1["time_saved_min"].iloc[0] > 0:
        why = pl.analyses.fare_card.outputs.explain_pair(res, top1["from_id"].iloc[0], top1["to_id"].iloc[0])
        click.echo("Largest saving: " + why)
    if raster is not None:
        ch = [b for b in raster.bands if b.name.endswith("_change")]
        for b in ch:
            v = b.values[np.isfinite(b.values)]
            if v.size:
                click.echo(f"Raster {b.name}: {int((v > 0).sum())} of {v.size} cells gain, mean {v.mean():+,.0f} "
                           f"{b.unit.removeprefix('change in ')}.")
