"""``plan scenario``: check scenarios and export them as GTFS."""

from __future__ import annotations

from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.common.atomic import OutputStage, write_text
from planner.common.bundled import default_gtfs_paths
from planner.errors import FeedError


@click.group()
def scenario() -> None:
    """Work with scenario files (candidate lines and other changes)."""


def _feeds(ctx, gtfs):
    specs = list(gtfs) or [str(p) for p in default_gtfs_paths()]
    if not specs:
        msg = "no --gtfs given and no bundled feeds found in gtfs/"
        raise FeedError(msg, code="input_unreadable", hint="pass --gtfs FEED")
    return pl.ingest.gtfs.feed.read_feeds(specs, config=opts.make_config(ctx))


@scenario.command("check")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--gtfs", multiple=True, metavar="[ID=]FEED", help="Feeds to apply to (default: the bundled feeds).")
@opts.quiet_option
@opts.encoding_option
@click.pass_context
def check(ctx: click.Context, scenarios: tuple[Path, ...], gtfs) -> None:
    """Validate scenario files and apply them to the feeds, reporting what each changes.

    \b
    Example:
      plan scenario check scenarios/*.yaml
    """
    fs = _feeds(ctx, gtfs)
    for p in scenarios:
        scn = pl.scenarios.spec.load_scenario(p)
        _fs2, report = pl.scenarios.apply.apply_to_feeds(fs, scn)
        click.echo(f"{p}: scenario '{scn.name}' is valid; {len(scn.changes)} change(s)")
        rows = [{k: v for k, v in r.items() if k != "matched"} for r in report]
        if rows:
            click.echo(render(rows))
        cards = scn.of_kind(pl.scenarios.spec.FarePolicy)
        if cards:  # resolve the card's operators against the feeds now
            fares = pl.network.fares.sample.fare_setup(_fs2, sample=not gtfs).fares
            spec = pl.scenarios.fare_policy.card_policy(cards[0], fares, _fs2,
                                                        default_name=scn.name)
            on = ", ".join(spec.policy.systems) if spec.policy.systems else "every priced system"
            click.echo(f"fare_policy: unified card '{spec.policy.name}' on {on} ({spec.policy.tariff} tariff)"
                       + "".join(f"\n  {n}" for n in spec.notes))


@scenario.command("export")
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--gtfs", multiple=True, metavar="[ID=]FEED", help="Feeds to apply to (default: the bundled feeds).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the GTFS zips of the scenario.")
@click.option("--all-feeds", is_flag=True, help="Also write the feeds the scenario does not change.")
@click.option("--overwrite", is_flag=True, help="Replace existing files.")
@opts.quiet_option
@opts.encoding_option
@click.pass_context
def export(ctx: click.Context, scenario_file: Path, gtfs, output: Path, all_feeds: bool, overwrite: bool) -> None:
    """Write the network of a scenario as valid GTFS feeds, so other tools can use it.

    Each changed feed is written as <feed_id>.zip and each new line as its own feed
    scenario_<name>_<line>.zip (stops, routes, trips, stop_times, calendar_dates). The
    feeds pass 'plan gtfs check'. Transfers added by the scenario between feeds cannot be
    expressed in one GTFS feed; they are listed in transfers_between_feeds.csv.

    \b
    Example:
      plan scenario export scenarios/spine_express.yaml -o out/spine_express_gtfs/
    """
    scn = pl.scenarios.spec.load_scenario(scenario_file)
    fs = _feeds(ctx, gtfs)
    fs2, _report = pl.scenarios.apply.apply_to_feeds(fs, scn)
    base_digest = {f.feed_id: f.digest for f in fs}
    with OutputStage(output, overwrite=overwrite) as stage:
        written = []
        for f in fs2:
            if not all_feeds and base_digest.get(f.feed_id) == f.digest:
                continue
            pl.ingest.gtfs.writer.write_feed_zip(f.tables, stage.path(f"{f.feed_id}.zip"))
            written.append(f.feed_id)
        adds = scn.of_kind(pl.scenarios.spec.AddTransfer)
        if adds:
            df = pl.scenarios.apply.added_transfers(scn)
            write_text(stage.path("transfers_between_feeds.csv"), df.to_csv(index=False, lineterminator="\n"))
    click.echo(f"Scenario '{scn.name}': wrote {len(written)} feed(s) to {output}/: {', '.join(written) or 'none'}")
