"""The ``plan`` command group: logging, quiet/verbose, the one place errors are shown, and
the commands, each loaded only when it runs.

Every :class:`planner.errors.PlannerError` becomes a short message on stderr and its exit
code (2 for bad input, 1 otherwise); an unexpected exception (a bug) prints one line and
writes the traceback to a log file, exit code 1. ``-vv`` shows tracebacks on the terminal.
"""

from __future__ import annotations

import importlib
import logging
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import click

from planner import __version__
from planner.errors import PlannerError

#: every command: name -> (module under planner.cli, the first paragraph of its help). The
#: group loads a command's module only when that command runs (or shows its own --help), so
#: ``plan --help`` imports no command; tests/test_cli_main.py checks each summary against
#: the command's help.
COMMANDS = {
    "access": ("access", "Accessibility rasters: how many opportunities each cell of a grid reaches."),
    "config": ("config", "Show the effective configuration, or write a commented template."),
    "evaluate": ("evaluate", "Compare candidate scenarios with the baseline and rank them."),
    "fares": ("fares", "The unified fare card: travel time and money saved, for whom and where."),
    "gtfs": ("gtfs", "Work with GTFS feeds."),
    "matrix": ("matrix", "Travel times from every origin to every destination by public transport and walking."),
    "net": ("net", "Measure the intercity rail net, for the baseline and each SCENARIO (YAML)."),
    "network": ("network", "Build and inspect networks."),
    "opportunities": ("opportunities", "Population and activity layers from an OSM extract, as GeoTIFFs."),
    "osm": ("osm", "Work with OpenStreetMap extracts (.osm.pbf, .osm)."),
    "route": ("route", "The earliest journey between two places, leg by leg."),
    "scenario": ("scenario", "Work with scenario files (candidate lines and other changes)."),
    "transfers": ("transfers", "Measure the transfers between stations of different modes on the walking network."),
}


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
    """A click group that turns planner errors into clean messages and exit codes, and loads
    each command's module (:data:`COMMANDS`) only when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"planner.cli.{COMMANDS[cmd_name][0]}")
            self.add_command(getattr(module, cmd_name))
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``plan --help`` from :data:`COMMANDS`, without loading them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        # a command not loaded yet gets a stand-in holding its summary, so that click shortens
        # it exactly as it would the command's own help
        stand_in = {n: click.Command(n, help=COMMANDS[n][1]) for n in names
                    if n in COMMANDS and n not in self.commands}
        rows = [(n, (stand_in.get(n) or self.commands[n]).get_short_help_str(limit))
                for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
    Examples (on the bundled Northeast China sample; `plan COMMAND --help` has more):
      plan evaluate
      plan route --from stop:northeast_rail:VAB --to stop:northeast_rail:CRT --depart 07:30
      plan config show --walk-speed 3.6
      plan gtfs check gtfs/*.zip
      plan gtfs check --notices notices.csv my_feed.zip
    """
    ctx.obj = CliState(verbose=verbose, quiet=quiet)
    level = logging.WARNING if quiet else (logging.INFO if verbose == 1 else logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
