"""``plan config``: the effective configuration, and a commented template to start from."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

import click

from planner.cli import _options as opts
from planner.cli._table import render
from planner.common.atomic import write_text
from planner.config import Config, field_help, field_unit
from planner.errors import OutputError


@click.group()
def config() -> None:
    """Show the effective configuration, or write a commented template."""


def _toml(value) -> str:
    """A value as TOML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return '"auto"'
    if isinstance(value, tuple):  # encodings: (feed, codec) pairs
        return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in value) + " }"
    return json.dumps(value)


@config.command("show")
@opts.routing_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (field: value) instead of a table.")
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Print every configuration field: its value, unit and where the value comes from.

    Precedence: an option (--walk-speed ...) over the --config file over the default.
    Commands that route record the same table next to their outputs.

    \b
    Examples:
      plan config show
      plan config show --config study.toml --walk-speed 3.6
    """
    values, source = opts.config_layers(ctx)
    values.pop("progress", None)
    cfg = Config(**values)
    if as_json:
        click.echo(json.dumps({k: v for k, v in asdict(cfg).items() if k != "progress"}, indent=2, default=list))
        return
    rows = [{"field": name, "value": _toml(rec["value"]), "unit": rec["unit"], "source": rec["source"]}
            for name, rec in opts.config_record(cfg, source)["fields"].items()]
    click.echo(render(rows))


@config.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
def init(path: Path, overwrite: bool) -> None:
    """Write a TOML template with every field commented out at its default, with its unit
    and meaning; uncomment the lines to change.

    \b
    Example:
      plan config init study.toml
      plan matrix --config study.toml --origins cities.csv --depart 08:00 -o tt.csv
    """
    if path.exists() and not overwrite:
        msg = f"{path} exists"
        raise OutputError(msg, code="output_exists", hint="pass --overwrite to replace it")
    default = Config()
    lines = ["# plan configuration (TOML). Every field of planner.config.Config, at its default;",
             "# uncomment a line to change it. Options on the command line win over this file.", ""]
    for f in fields(Config):
        if f.name == "progress":
            continue
        unit = field_unit(f.name)
        lines.append(f"# {field_help(f.name)}" + (f" [{unit}]" if unit else ""))
        lines.append(f"# {f.name} = {_toml(getattr(default, f.name))}")
        lines.append("")
    write_text(path, "\n".join(lines))
    click.echo(f"Wrote {path} ({len(fields(Config)) - 1} fields).")
