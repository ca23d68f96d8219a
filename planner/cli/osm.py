"""``plan osm``: look into OpenStreetMap files."""

from __future__ import annotations

import json
from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render


@click.group()
def osm() -> None:
    """Work with OpenStreetMap extracts (.osm.pbf, .osm)."""


def _bbox(b) -> str:
    return "none" if not b else f"lon {b[0]:.5f} .. {b[2]:.5f}, lat {b[1]:.5f} .. {b[3]:.5f}"


@osm.command("info")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def info(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Print what an OSM file holds: extent, nodes, ways, highways by class, railways, stations,
    walkable areas (squares, platforms, station halls) and how many are linked to the walk network.

    FILE is an .osm.pbf or .osm (.osm.gz, .osm.bz2) file. A truncated or corrupt file, or one
    that is not OSM, stops with exit code 2 and says why.

    \b
    Examples:
      plan osm info harbin.osm.pbf
      plan osm info --json city.osm > city-info.json
    """
    config = opts.make_config(ctx)
    result = pl.ingest.osm.info.osm_info(file, config=config)
    if as_json:
        click.echo(json.dumps(result, indent=1, ensure_ascii=False))
        return
    click.echo(f"File        {result['file']}  ({result['format']}, {result['bytes']:,} bytes)")
    click.echo(f"sha256      {result['sha256']}")
    if result["generator"]:
        click.echo(f"generator   {result['generator']}")
    click.echo(f"bbox        {_bbox(result['header_bbox'])} (header)")
    click.echo(f"            {_bbox(result['data_bbox'])} (data)")
    click.echo(f"objects     {result['nodes']:,} nodes, {result['ways']:,} ways, {result['relations']:,} relations")
    n_hw = sum(result["highways"].values())
    click.echo(f"highways    {n_hw:,} ways ({result['clipped_highways']:,} reference nodes missing from the file)")
    if result["highways"]:
        rows = [{"highway": k, "ways": v} for k, v in result["highways"].items()]
        click.echo(render(rows))
    rails = ", ".join(f"{k} {v:,}" for k, v in result["railways"].items()) or "none"
    click.echo(f"railways    {rails}")
    st = ", ".join(f"{k} {v:,}" for k, v in result["stations"].items()) or "none"
    click.echo(f"stations    {st}  ({result['named_stations']:,} named)")
    areas = ", ".join(f"{k.replace('_', ' ')} {v['found']:,} ({v['linked']:,} linked)"
                      for k, v in sorted(result["walkable_areas"].items())) or "none"
    click.echo(f"walkable    {areas}")
    sc = result["station_complexes"]
    click.echo(f"stations    {sc['found']:,} station complexes (halls with {sc['platforms_in_complexes']:,} platforms "
               f"near them), {sc['linked']:,} linked to the walk network")
    for hall in result["unlinked_station_halls"][:10]:
        click.echo(f"unlinked    station hall {hall['ref']} {hall['name']} at {hall['lat']:.5f}, {hall['lon']:.5f} "
                   f"({hall['entrances']} rim node(s) shared with ways): check the map data")
    for row in result["notices"]:
        click.echo(f"notice      [{row['severity']}] {row['code']} x{row['count']:,}: {row['message']}")
