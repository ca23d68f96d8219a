"""``plan fares``: what a unified fare card saves, for whom and where."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli._network import load_network, network_options, time_option
from planner.cli._options import executor_options, make_config, open_executor, show_progress
from planner.cli._table import render
from planner.common.timeofday import hhmm

DEFAULT_OUT = Path("plan-output") / "fares"
#: value of time for the bundled sample, CNY per hour (ASSUMED: about the 2022 urban average
#: wage per working hour in China, rounded)
SAMPLE_VALUE_OF_TIME = 40.0
SAMPLE_BUDGETS = (50.0, 100.0)


def _floats(ctx, param, value):
    if value is None:
        return None
    try:
        out = tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        out = ()
    if not out or any(not (0 < v < float("inf")) for v in out):
        msg = f"expected comma-separated positive numbers, got {value!r}"
        raise click.BadParameter(msg, ctx=ctx, param=param)
    return out


def _pairs(ctx, param, values):
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


def _default_policy() -> Path:
    from planner.common.bundled import data_root
    from planner.errors import InputError
    from planner.scenarios.spec import FarePolicy, load_scenario

    root = data_root()
    for p in sorted((root / "scenarios").glob("*.yaml")) if root else []:
        try:
            if load_scenario(p).of_kind(FarePolicy):
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
@time_option("--depart", "depart", default="07:00", show_default=True, help="First departure of the window.")
@click.option("--window", "window_min", type=click.IntRange(min=0), default=60, show_default=True,
              help="Departure window in minutes (results are means over its departures).")
@click.option("--step", "step_min", type=click.IntRange(min=1), default=5, show_default=True,
              help="Minutes between departures (place pairs).")
@click.option("--value-of-time", "value_of_time", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="PER_H", help="Currency units per hour, for generalized cost. Default: 40 (CNY/h, ASSUMED) "
                                    "for the bundled sample, none otherwise.")
@click.option("--transfer-penalty", "transfer_penalty", type=click.FloatRange(min=0), default=0.0, show_default=True,
              metavar="MIN", help="Perceived minutes per transfer in generalized cost (the card's own if it sets one).")
@click.option("--budgets", callback=_floats, default=None, metavar="X,...",
              help="Fare budgets (currency units) for the travel time at a fixed budget and the raster's fare "
                   "cutoffs. Default: 50,100 for the bundled sample, none otherwise.")
@click.option("--penalty", "penalties", multiple=True, callback=_pairs, metavar="MODE=S",
              help="Ticketing penalty in seconds for a mode (repeatable), e.g. high_speed_rail=900, or "
                   "default=60. Defaults: bus 30, metro/tram/rail 120, high-speed/intercity rail 600, else 60.")
@click.option("--first-boarding-penalty", "first_penalty", is_flag=True,
              help="Charge the ticketing penalty at the first boarding too (a traveller starting without a ticket; "
                   "the card then also saves it). Default: only at changes of operator.")
@click.option("--flat-fare", "flat", multiple=True, callback=_pairs, metavar="FEED=PRICE",
              help="Price a feed without fare files at a flat fare per ride (repeatable).")
@click.option("--distance-fare", "distance", multiple=True, callback=_pairs, metavar="FEED=PER_KM",
              help="Price a feed without fare files per km (repeatable).")
@click.option("--currency", default="CNY", show_default=True, metavar="ISO",
              help="Currency of --flat-fare and --distance-fare.")
@click.option("--max-rides", type=click.IntRange(min=1, max=8), default=5, show_default=True,
              help="Most vehicles per journey.")
@click.option("--horizon", "horizon_h", type=click.FloatRange(min=0.5, max=48), default=8.0, show_default=True,
              metavar="H", help="Longest journey searched, hours.")
@click.option("--grid/--no-grid", default=True, show_default=True,
              help="Also the raster of accessibility at (time, fare) cutoffs (fare_access.tif).")
@click.option("--resolution", type=click.FloatRange(min=50.0), default=3000.0, show_default=True, metavar="M",
              help="Raster cell size in metres (the grid covers the walk network).")
@click.option("--grid-step", "grid_step", type=click.IntRange(min=1), default=15, show_default=True, metavar="MIN",
              help="Minutes between the raster's departures (every cell runs McRAPTOR per departure).")
@click.option("--time-cutoffs", "time_cutoffs", callback=_floats, default="120,180", show_default=True,
              metavar="MIN,...", help="Raster time cutoffs in minutes.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Pairs shown on the terminal.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Output folder [default: {DEFAULT_OUT}, replaced on each run].")
@click.option("--overwrite", is_flag=True, help="Replace existing files in an explicit -o folder.")
@executor_options
@network_options
@click.pass_context
def fares(ctx: click.Context, policy, places, stops, depart, window_min, step_min, value_of_time, transfer_penalty,
          budgets, penalties, first_penalty, flat, distance, currency, max_rides, horizon_h, grid, resolution, grid_step, time_cutoffs, top, output,
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
      plan fares --policy scenarios/harbin_west_integration.yaml --value-of-time 60 -o out/fares
      plan fares --stop harbin_metro:L2_8416702419 --no-grid --window 120 --step 10
      plan fares --gtfs rail.zip --gtfs metro.zip --policy card.yaml --places towns.csv --budgets 20,50
    """
    import time
    from dataclasses import replace

    import numpy as np

    from planner.analyses.fare_card.dividend import DividendParams, fare_dividend, scenario_fares
    from planner.analyses.fare_card.outputs import write_fare_outputs
    from planner.errors import InputError
    from planner.ingest.points import load_places
    from planner.network.fares import TicketingPenalty
    from planner.network.fares.build import FlatTariff
    from planner.network.fares.systems import DistanceRate
    from planner.scenarios.spec import FarePolicy, load_scenario

    t0 = time.perf_counter()
    progress = show_progress(ctx)
    bundled = not gtfs
    if output is not None and not overwrite:  # fail before the work, not after it
        from planner.errors import OutputError

        clash = [n for n in ("fares_od.csv", "fares_summary.json", "report.html") if (output / n).exists()]
        if clash:
            msg = f"{output / clash[0]} already exists"
            raise OutputError(msg, code="output_exists", hint="pass --overwrite or choose another -o folder")
    path = policy or _default_policy()
    scn = load_scenario(path)
    if not scn.of_kind(FarePolicy):
        msg = f"{path}: the scenario has no fare_policy change"
        raise InputError(msg, code="no_fare_policy",
                         hint="add '- fare_policy: {unified_card: true, operators: [...]}' to its changes")
    pl = load_places(places)
    if stops:
        import pandas as pd

        extra = pd.DataFrame({"id": list(stops), "name": list(stops), "lon": np.nan, "lat": np.nan,
                              "population": 0.0, "stop_id": list(stops)})
        pl = pd.concat([pl, extra], ignore_index=True)
    if pl["id"].duplicated().any():
        msg = f"place ids must be unique; repeated: {sorted(set(pl['id'][pl['id'].duplicated()]))}"
        raise InputError(msg, code="duplicate_place_id")
    defaults = TicketingPenalty()
    by_mode = dict(defaults.by_mode)
    default_s = defaults.default_s
    from planner.ingest.gtfs.modes import MODES

    for mode, s in penalties.items():
        if mode == "default":
            default_s = round(s)
        elif mode in MODES:
            by_mode[mode] = round(s)
        else:
            msg = f"--penalty: unknown mode {mode!r} (known: default, {', '.join(MODES)})"
            raise click.BadParameter(msg, param_hint="--penalty")
    params = DividendParams(
        departure_s=depart, window_min=window_min, step_min=step_min,
        budgets=budgets if budgets is not None else (SAMPLE_BUDGETS if bundled else ()),
        value_of_time_per_h=value_of_time if value_of_time is not None else (SAMPLE_VALUE_OF_TIME if bundled else None),
        transfer_penalty_min=transfer_penalty,
        penalty=TicketingPenalty(default_s=default_s, by_mode=by_mode, first_boarding=first_penalty),
        max_rounds=max_rides, max_duration_s=round(horizon_h * 3600))
    ex = ctx.with_resource(open_executor(workers, scheduler))
    net, day = load_network(ctx, gtfs, osm, date, cache_dir, no_cache,
                            window_end_s=depart + 60 * window_min + params.max_duration_s, local_rail_transfers=True)
    if stops:
        for i in range(len(pl)):
            sid = pl["stop_id"].iloc[i]
            if sid:
                s = net.stop_index(str(sid))
                pl.loc[i, "lon"], pl.loc[i, "lat"] = float(net.timetable.stop_lon[s]), float(net.timetable.stop_lat[s])
                pl.loc[i, "stop_id"] = str(net.timetable.stop_ids[s])
    net2, changed = _scenario_network(ctx, net, scn, day, depart + 60 * window_min + params.max_duration_s,
                                      cache_dir, no_cache, progress)
    feeds = net2.load_feeds()
    unknown = sorted((set(flat) | set(distance)) - set(feeds.ids))
    if unknown:
        msg = f"--flat-fare/--distance-fare name unknown feed(s) {unknown}; feeds: {', '.join(feeds.ids)}"
        raise InputError(msg, code="unknown_feed")
    setup, spec = scenario_fares(net2, scn, sample=bundled,
                                 flat={k: FlatTariff(v, currency) for k, v in flat.items()} or None,
                                 distance={k: DistanceRate(v, currency=currency) for k, v in distance.items()} or None)
    res = fare_dividend(net2, setup, spec.policy, pl, params=params, feeds=feeds, executor=ex, progress=progress)
    res.notes.extend(spec.notes)
    operators = spec.operators
    if changed:
        res.notes.insert(0, f"The network includes the scenario's other changes ({', '.join(changed)}) on both sides: "
                            "the dividend is the fare policy's alone; plan evaluate measures the changes themselves.")
    raster = None
    if grid:
        from planner.analyses.access.fare_access import fare_access
        from planner.analyses.access.grid import make_grid, opportunities_from_points, transform_xy

        g = make_grid(resolution, net=net2)
        x, y = transform_xy("EPSG:4326", g.crs, pl["lon"].to_numpy(float), pl["lat"].to_numpy(float))
        layers = [opportunities_from_points("population", x, y, pl["population"].to_numpy(float), g, unit="people",
                                            source=f"places ({places.name if places else 'cities.csv'})")]
        raster = fare_access(net2, setup, spec.policy, g, layers, params=replace(params, step_min=grid_step),
                             time_cutoffs_min=time_cutoffs,
                             fare_cutoffs=params.budgets or (float("inf"),), feeds=feeds, executor=ex,
                             progress=progress)
    out = output or DEFAULT_OUT
    inputs = {"service date": day, "policy": str(path), "feeds": ", ".join(feeds.ids), "places": len(pl)}
    written = write_fare_outputs(res, raster, net2.timetable, out, overwrite=overwrite or output is None,
                                 inputs=inputs, operators=operators)
    _print(res, operators, top, day, path, raster)
    click.echo(f"Outputs in {out}/ ({len(written)} files: fares_od.csv, fares_places.csv, map_fares.png, "
               f"{'fare_access.tif, ' if raster is not None else ''}report.html, report.md) in "
               f"{time.perf_counter() - t0:.0f} s.")


def _scenario_network(ctx, net, scn, day, window_end_s, cache_dir, no_cache, progress):
    """The network as the scenario leaves it (its lines, headways, removals, transfers)."""
    from planner.network.build import build_network
    from planner.scenarios.apply import apply_to_feeds, apply_to_network
    from planner.scenarios.spec import AddLine, AddTransfer, AdjustHeadway, RemoveRoute

    changed = [type(c).__name__ for c in scn.changes if isinstance(c, AddLine | AdjustHeadway | RemoveRoute | AddTransfer)]
    if not changed:
        return net, []
    if any(isinstance(c, AddLine | AdjustHeadway | RemoveRoute) for c in scn.changes):
        fs2, _report = apply_to_feeds(net.load_feeds(), scn)
        config = make_config(ctx, local_rail_transfers=True)
        net = build_network(fs2, day, window=(0, max(36 * 3600, window_end_s + 16 * 3600)), walk=net.walk,
                            config=config, cache_dir=None if no_cache else cache_dir, progress=progress)
    names = {"AddLine": "add_line", "AdjustHeadway": "adjust_headway", "RemoveRoute": "remove_route",
             "AddTransfer": "add_transfer"}
    return apply_to_network(net, scn), sorted({names[c] for c in changed})


def _print(res, operators, top, day, path, raster) -> None:
    import numpy as np

    from planner.analyses.fare_card.outputs import explain_pair, policy_rows, top_pairs

    s, cur = res.summary, res.currency
    p = res.params
    click.echo(f"Unified fare card '{res.policy.name}' ({path}) on {day}: {len(res.places)} places, "
               f"{len(p.departures())} departures from {hhmm(p.departure_s)} "
               f"every {p.step_min} min; fares in {cur}.")
    click.echo("Card: " + "; ".join(f"{r['setting']} {r['value']}" for r in policy_rows(res, operators)[1:6]) + ".")
    click.echo("")
    tp = top_pairs(res, top)
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
    top1 = top_pairs(res, 1)
    if len(top1) and top1["time_saved_min"].iloc[0] > 0:
        click.echo("Largest saving: " + explain_pair(res, top1["from_id"].iloc[0], top1["to_id"].iloc[0]))
    if raster is not None:
        ch = [b for b in raster.bands if b.name.endswith("_change")]
        for b in ch:
            v = b.values[np.isfinite(b.values)]
            if v.size:
                click.echo(f"Raster {b.name}: {int((v > 0).sum())} of {v.size} cells gain, mean {v.mean():+,.0f} "
                           f"{b.unit.removeprefix('change in ')}.")
