"""``plan network``: build the street networks (walk, drive) into the cache."""

from __future__ import annotations

import time
from pathlib import Path

import click

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.cli.network_export import export
from planner.errors import OSMError


@click.group()
def network() -> None:
    """Build and inspect networks."""





def _default_osm(cache_dir: Path) -> Path:
    found = sorted(cache_dir.glob("*.osm.pbf")) if cache_dir.is_dir() else []
    if len(found) == 1:
        return found[0]
    where = f"{cache_dir}/ holds {len(found)} .osm.pbf files" if found else f"no .osm.pbf in {cache_dir}/"
    msg = f"no OSM input given and {where}"
    raise OSMError(msg, code="input_not_found",
                   hint="pass --osm FILE, --place NAME or --bbox WEST,SOUTH,EAST,NORTH")


@network.command("build")
@click.option("--osm", "osm_file", type=click.Path(path_type=Path), default=None,
              help="Local OSM extract (.osm.pbf or .osm).")
@click.option("--place", default=None, help="Place name to download through osmnx (Nominatim + Overpass).")
@click.option("--bbox", default=None, callback=opts.check_bbox, metavar="W,S,E,N",
              help="Bounding box to download (WGS84 degrees).")
@click.option("--mode", "modes", type=click.Choice(["walk", "drive"]), multiple=True, default=("walk",),
              show_default=True, help="Network to build; repeat for both.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("osm_cache"),
              show_default=True, help="Cache folder (networks/ and requests/ inside).")
@click.option("--offline", is_flag=True, help="Never download; an uncached --place/--bbox is an error.")
@click.option("--rebuild", is_flag=True, help="Ignore a cached network and build it again.")
@click.option("--gtfs", "gtfs", multiple=True, metavar="[ID=]FEED",
              help="Also build the multimodal network with these GTFS feeds (repeatable): stops snapped to the "
                   "walk network, footpaths, transfers, the timetable of --date.")
@click.option("--date", default=None, metavar="YYYY-MM-DD",
              help="Service date of the multimodal network (default: a representative weekday of the feeds).")
@opts.quiet_option
@opts.encoding_option
@opts.routing_options
@click.pass_context
def build(ctx: click.Context, osm_file: Path | None, place: str | None, bbox, modes: tuple[str, ...],
          cache_dir: Path, offline: bool, rebuild: bool, gtfs, date) -> None:
    """Build street networks from OSM and write them to the cache.

    Give one input: --osm FILE (a local extract), --place NAME or --bbox W,S,E,N (downloaded
    through osmnx once, then read from the cache, also --offline). Without any, the single
    .osm.pbf in the cache folder is used.

    Ways cut by the extract's edge are split at the missing nodes and counted; only the
    largest strongly connected component is kept (what was dropped is reported). The
    network is saved under CACHE_DIR/networks/ as .npz + .json, named by a digest of the
    input and the build settings, so a second build of the same input is a cache hit.

    With --gtfs, the multimodal network (timetable, stops snapped to the walk network,
    footpaths merged with transfers.txt) is built for --date and cached as well; later
    commands on the same inputs and parameters reload it in well under a second.

    \b
    Examples:
      plan network build --osm harbin.osm.pbf --mode walk --mode drive
      plan network build --osm harbin.osm.pbf --gtfs gtfs/harbin_metro.zip --gtfs gtfs/northeast_rail.zip
      plan network build --bbox 126.60,45.74,126.66,45.78 --mode walk
      plan network build --place "Daoli District, Harbin" --offline
    """
    given = [x for x in (osm_file, place, bbox) if x is not None]
    if len(given) > 1:
        msg = "give only one of --osm, --place, --bbox"
        raise click.UsageError(msg, ctx=ctx)
    config = opts.make_config(ctx)
    if place is not None or bbox is not None:
        source = pl.ingest.osm.OSMRequest(place=place, bbox=bbox)
        label = source.describe()
    else:
        source = osm_file if osm_file is not None else _default_osm(cache_dir)
        label = str(source)
    for mode in dict.fromkeys(modes):
        t = time.perf_counter()
        net = pl.network.streets.build_street_network(source, mode, config=config, cache_dir=cache_dir, offline=offline,
                                   refresh=rebuild)
        elapsed = time.perf_counter() - t
        m = net.meta
        how = "Loaded cached" if m.get("from_cache") else "Built"
        click.echo(f"{how} {mode} network from {label} in {elapsed:.1f} s")
        click.echo(f"  nodes {net.n_nodes:,}   edges {net.n_edges:,}   "
                   f"street length {m.get('total_length_km', 0.0) / (2 if mode == 'walk' else 1):,.1f} km"
                   f"{' (each direction counted once)' if mode == 'walk' else ' (directed)'}   CRS {net.crs}")
        if "ways_used" in m:
            click.echo(f"  ways used {m['ways_used']:,}; clipped at the extract edge {m['ways_cut']:,} "
                       f"({m['missing_refs']:,} missing nodes); parallel edges merged {m['parallel_edges_merged']:,}")
            click.echo(f"  largest strongly connected component kept; dropped {m['components_dropped']:,} "
                       f"component(s), {m['nodes_dropped']:,} nodes, {m['edges_dropped']:,} edges")
        if len(net.notices):
            rows = [{k: r[k] for k in ("severity", "code", "count", "message")} for r in net.notices.summary()]
            click.echo(render(rows, max_width=90))
        if m.get("cache_path"):
            click.echo(f"  {'cache entry' if m.get('from_cache') else 'saved to'} {m['cache_path']}")
    if gtfs:
        t = time.perf_counter()
        local = None if isinstance(source, pl.ingest.osm.OSMRequest) else source
        mm, day = opts.load_network(ctx, gtfs, local, date, cache_dir, rebuild)
        s = mm.summary()
        how = "Loaded cached" if "from_cache" in mm.inputs else "Built"
        click.echo(f"{how} multimodal network for {day} in {time.perf_counter() - t:.1f} s")
        click.echo(f"  stops {s['stops']:,} ({s['stops_not_snapped']:,} not on the walk network, linked by straight "
                   f"lines)   patterns {s['patterns']:,}   trips {s['trips']:,}   stop events {s['stop_events']:,}")
        click.echo(f"  footpaths {s['footpaths']:,}: street {s['footpaths_street']:,}, straight line "
                   f"{s['footpaths_straight_line']:,}, transfers.txt {s['footpaths_transfers_txt']:,}")
        if len(mm.notices):
            rows = [{k: r[k] for k in ("severity", "code", "count", "message")} for r in mm.notices.summary()]
            click.echo(render(rows, max_width=90))


network.add_command(export)
