"""The ``plan`` command group: logging, quiet/verbose, and the one place errors are shown.

Every :class:`planner.errors.PlannerError` becomes a short message on stderr and its exit
code (2 for bad input, 1 otherwise); an unexpected exception (a bug) prints one line and
writes the traceback to a log file, exit code 1. ``-vv`` shows tracebacks on the terminal.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import click

from planner import __version__
from planner.errors import PlannerError


@dataclass
class CliState:
    """What the group's options say; commands read it from ``ctx.obj``."""

    verbose: int = 0
    quiet: bool = False


def _write_crash_log(text: str) -> Path | None:
    try:
        fd, name = tempfile.mkstemp(prefix="plan-crash-", suffix=".log")
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return Path(name)
    except OSError:
        return None


class PlanGroup(click.Group):
    """A click group that turns planner errors into clean messages and exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PlannerError as err:
            verbose = getattr(ctx.obj, "verbose", 0) if ctx.obj else 0
            if verbose >= 2:
                traceback.print_exc()
            click.echo(f"Error [{err.code}]: {err}", err=True)
            ctx.exit(err.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing was written to final output paths.", err=True)
            ctx.exit(130)
        except Exception as err:
            verbose = getattr(ctx.obj, "verbose", 0) if ctx.obj else 0
            text = traceback.format_exc()
            if verbose >= 2:
                click.echo(text, err=True)
            log = _write_crash_log(text)
            where = f"; the traceback is in {log}" if log else ""
            click.echo(
                f"Internal error ({type(err).__name__}: {err}). This is a bug in plan, not in your data{where}. "
                "Please report it with that file.",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=PlanGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="plan")
@click.option("-v", "--verbose", count=True, help="More log output (-vv: tracebacks too).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no log output below warnings.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """plan: a transport-network integration planner.

    Ingests OSM roads and rail and GTFS timetables into one multimodal network, computes
    door-to-door travel times, and answers planning questions: which intercity line to
    build (evaluate), where transfers are too long (transfers), what a unified fare card
    saves (fares), how well the rail net ties cities together (net).

    \b
    Examples:
      plan gtfs check gtfs/*.zip
      plan gtfs check --notices notices.csv my_feed.zip
    """
    ctx.obj = CliState(verbose=verbose, quiet=quiet)
    level = logging.WARNING if quiet else (logging.INFO if verbose == 1 else logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)


def _register() -> None:
    from planner.cli import gtfs as gtfs_cmd
    from planner.cli import gtfs_convert  # noqa: F401  (registers 'plan gtfs from-timetable')

    main.add_command(gtfs_cmd.gtfs)

    from planner.cli import network as network_cmd
    from planner.cli import osm as osm_cmd

    main.add_command(osm_cmd.osm)
    main.add_command(network_cmd.network)
    from planner.cli import matrix as matrix_cmd
    from planner.cli import network_export  # noqa: F401  (adds 'plan network export')
    from planner.cli import route as route_cmd

    main.add_command(route_cmd.route)
    main.add_command(matrix_cmd.matrix)

    from planner.cli import evaluate as evaluate_cmd

    main.add_command(evaluate_cmd.evaluate)

    from planner.cli import scenario as scenario_cmd

    main.add_command(scenario_cmd.scenario)

    from planner.cli import access as access_cmd

    main.add_command(access_cmd.access)

    from planner.cli import transfers as transfers_cmd

    main.add_command(transfers_cmd.transfers)

    from planner.cli import net as net_cmd

    main.add_command(net_cmd.net)

    from planner.cli import fares as fares_cmd

    main.add_command(fares_cmd.fares)


_register()
