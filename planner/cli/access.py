"""``plan access``: accessibility rasters (GeoTIFF + PNG previews) on a grid."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

import planner as pl
from planner.cli import _options as opts
from planner.cli._table import render
from planner.common.atomic import OutputStage, write_text
from planner.common.timeofday import window_text
from planner.errors import InputError


def _stats(values):
    v = values[np.isfinite(values)]
    if v.size == 0:
        return {"cells": 0, "min": None, "median": None, "max": None}
    return {"cells": int(v.size), "min": float(v.min()), "median": float(np.median(v)), "max": float(v.max())}


@click.command("access")
@click.option("--resolution", type=click.FloatRange(min=1.0), default=250.0, show_default=True, metavar="M",
              help="Cell size in metres.")
@click.option("--bbox", callback=opts.check_bbox, metavar="W,S,E,N", default=None,
              help="Study area as a WGS84 bounding box. Default: the walk network's extent.")
@click.option("--area", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Study area as a polygon file (GeoPackage, GeoJSON, Shapefile).")
@click.option("--opportunities", "opportunity_specs", multiple=True, metavar="FILE[:COLUMN]",
              help="Opportunity layer: GeoTIFF of counts (FILE[:BAND]), points or polygons with a count "
                   "column (GeoPackage/GeoJSON/Shapefile), or CSV with lon, lat and a count column. Repeatable.")
@click.option("--population-grid", "population_grids", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path), help="A population GeoTIFF (counts per pixel). Repeatable.")
@click.option("--census", is_flag=True,
              help="The bundled census populations (gtfs/cities.csv), one point per city. Without a layer or "
                   "--from the default is the layers of plan opportunities built from the OSM extract (people "
                   "by residential floor area, activities), with the other cities' census points as destinations.")
@click.option("--cutoffs", default="30,60", callback=opts.check_numbers("minutes", integral=True), show_default=True,
              metavar="MIN,...", help="Travel-time cutoffs in minutes, any number and any length (hours count).")
@click.option("--decay", type=click.Choice(["step", "linear", "exponential", "logistic"]), default="step",
              show_default=True, help="Decay function (as in Conveyal): step = cumulative opportunities.")
@click.option("--decay-width", type=click.FloatRange(min=0), default=10.0, show_default=True, metavar="MIN",
              help="Width of the linear decay, minutes.")
@click.option("--decay-sd", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              metavar="MIN", help="Standard deviation of the logistic decay, minutes.")
@click.option("--from", "from_", default=None, metavar="LON,LAT",
              help="Also (or only) write the travel-time surface from this point (or stop:ID).")
@opts.time_option("--depart", "depart", default="07:00", show_default=True, help="First departure, HH:MM.")
@opts.window_options(60, "Departure window in minutes (0: one departure).",
                1, "Minutes between departures in the window.")
@click.option("--percentile", "percentiles", default="50", callback=opts.check_percentiles, show_default=True,
              help="Travel-time percentiles over the window, e.g. 25,50,75.")
@click.option("--crs", default=None, help="Projected CRS of the rasters, e.g. EPSG:32652. Default: local UTM zone.")
@click.option("--max-snap", "max_snap_m", type=click.FloatRange(min=0), default=300.0, show_default=True,
              metavar="M", help="Cells farther than this from every street node are nodata.")
@click.option("--park-and-ride", is_flag=True, help="Allow driving from origins to rail stations.")
@click.option("--local-access", is_flag=True,
              help="Reach stops by the urban taxi/bus approximation too (agglomeration-scale grids).")
@click.option("--local-egress/--no-local-egress", default=None,
              help="Reach destinations off the street network (e.g. other cities' points) from stops by the "
                   "taxi/bus approximation too, while origins and on-street destinations walk. Default: on for "
                   "the bundled sample, off with --gtfs.")
@click.option("--region", is_flag=True,
              help="The agglomeration-scale run: the intercity rail net of the three provinces with the urban "
                   "taxi/bus approximation at both ends (--local-access), on a 10 km grid over the stations, the "
                   "census population of every city (--census) reachable within 2, 3 and 4 hours. --resolution and "
                   "--cutoffs still win when given; with --scenario it writes the change too.")
@click.option("--no-region", is_flag=True,
              help="On the bundled sample without other choices, skip the agglomeration-scale run that the "
                   "default adds (files region_*).")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Also compute every raster on the network changed by this scenario (YAML, as in "
                                   "plan evaluate) and write {name}_scenario.tif and {name}_diff.tif (scenario minus "
                                   "baseline).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads (default: all cores).")
@click.option("--no-png", is_flag=True, help="Skip the PNG previews.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("plan-output/access"),
              show_default=True, help="Output folder.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@opts.executor_options
@opts.network_options
@click.pass_context
def access(ctx: click.Context, resolution, bbox, area, opportunity_specs, population_grids, census, cutoffs, decay,
           decay_width, decay_sd, from_, depart, window_min, step_min, percentiles, crs, max_snap_m, park_and_ride,
           local_access, local_egress, region, no_region, scenario_path, threads, no_png, output, overwrite, workers, scheduler, gtfs, osm,
           date, cache_dir, no_cache, datum) -> None:
    """Accessibility rasters: how many opportunities each cell of a grid reaches.

    Every cell centroid of a grid of --resolution metres over the study area is an origin
    (cells farther than --max-snap from any street are nodata). For every departure of the
    window: walking (or park-and-ride, or local) access to stops, range-RAPTOR, egress to
    every cell holding opportunities; then travel-time percentiles over the window and,
    per opportunity layer, percentile and cutoff, the opportunities reached (--decay step)
    or decay-weighted. Without a layer the opportunities are those of plan opportunities
    (people by residential floor area, activities) built from the OSM extract on the grid;
    --region is the agglomeration-scale run (rail plus the urban approximation, 10 km cells,
    the cities' census populations within 2, 3, 4 h); on the bundled sample with no other
    choice of area, layer or origin the default writes it too, as region_* files (cells
    with no station within reach of the approximation are no data, not "none reached";
    --no-region skips it). Outputs in -o: access.tif (one band per layer x cutoff x percentile,
    named LAYER_{T}min_p{P}), opportunities.tif (the layers on the grid), with --from
    travel_time.tif (travel_time_p{P}_min bands, minutes), a PNG preview per band,
    report.html and report.md (what each band means, the spread of its values, the previews,
    what the figures rest on and where the data is thin) and access_summary.json. With --scenario, the same again on the scenario's network
    ({name}_scenario.tif) and the change, scenario minus baseline ({name}_diff.tif).
    GeoTIFFs are in a projected CRS (default the local UTM zone), NaN = nodata, DEFLATE,
    256x256 tiles, with provenance tags.

    \b
    Examples:
      plan access --cutoffs 60,120,240 --window 120 -o out/harbin
      plan access --gtfs hsl.zip --osm helsinki.osm.pbf --opportunities pop.gpkg:population \\
                  --resolution 100 --cutoffs 15,30,45 --depart 08:00 -o out/hel
      plan access --from 126.6254,45.7600 --depart 08:00 --window 30 -o out/surface
      plan access --scenario scenarios/spine_express.yaml --cutoffs 120,240 --workers 2 --no-region \\
                  -o out/spine
      plan access --region --scenario scenarios/spine_express.yaml -o out/region
    """
    room = pl.analyses.access  # the access room, loaded now that the command runs
    if region:  # the agglomeration preset: values the user did not give
        given = {n for n in ("resolution", "cutoffs")
                 if ctx.get_parameter_source(n) is not click.core.ParameterSource.DEFAULT}
        resolution = resolution if "resolution" in given else 10_000.0
        cutoffs = cutoffs if "cutoffs" in given else (120, 180, 240)
        local_access = True
        census = census or not (opportunity_specs or population_grids)
    progress = opts.show_progress(ctx)
    dec = room.problem.Decay(decay, width_min=decay_width, sd_min=decay_sd)
    # fail fast, before the network is built
    crs = room.grid.check_crs(crs) if crs is not None else None
    for spec in [*opportunity_specs, *map(str, population_grids)]:
        path, _col = room.grid.split_spec(spec)
        if not path.is_file():
            msg = f"{path} does not exist" if not path.exists() else f"{path} is not a file"
            raise InputError(msg, code="input_unreadable", hint="give a GeoTIFF, GeoPackage, GeoJSON or CSV of counts")
    study_area = room.grid.read_area(area) if area is not None else None
    if bbox is not None:
        (w, s), (e, n) = (pl.ingest.points.parse_place(f"{bbox[0]},{bbox[1]}", datum=datum),
                          pl.ingest.points.parse_place(f"{bbox[2]},{bbox[3]}", datum=datum))
        bbox = (w, s, e, n)
    if bbox is not None and area is not None:
        msg = "give either --bbox or --area, not both"
        raise InputError(msg, code="invalid_parameter")
    origin = pl.ingest.points.parse_place(from_, datum=datum) if from_ else None
    scn = None
    if scenario_path is not None:
        scn = pl.scenarios.spec.load_scenario(scenario_path)
    # the cluster first: an unreachable scheduler fails before the network is built
    ex = ctx.with_resource(opts.open_executor(workers, scheduler))
    net, day = opts.load_network(ctx, gtfs, osm, date, cache_dir, no_cache, window_end_s=depart + 60 * window_min,
                                 drive=park_and_ride, threads=threads)
    if isinstance(origin, str):
        s_idx = net.stop_index(origin)
        origin = (float(net.timetable.stop_lon[s_idx]), float(net.timetable.stop_lat[s_idx]))
    grid = room.grid.make_grid(resolution, crs=crs, bbox=bbox, area=study_area, net=net, local_access=local_access)
    layers = [room.grid.read_opportunities(spec, grid) for spec in opportunity_specs]
    layers += [room.grid.read_opportunities(str(p), grid) for p in population_grids]
    osm_layers_report = None
    layer_osm = osm if osm is not None else (opts.bundled_osm() if not gtfs else None)
    if census or (not layers and origin is None and layer_osm is None):
        layers.append(room.grid.census_opportunities(grid))
    elif not layers and origin is None:
        # people where they live and activities where they are (plan opportunities), on this grid
        try:
            _g, pop, act, osm_layers_report = room.population.osm_layers(layer_osm, grid)
        except InputError as err:
            if err.code != "no_population_totals":
                raise
            click.echo(f"Note: {err.message}; using the census points (--census) instead.")
            layers.append(room.grid.census_opportunities(grid))
        else:
            if not gtfs:  # the bundled sample: the other cities' census points stay destinations
                cities = room.grid.census_opportunities(grid)
                pop.external, pop.total = cities.external, pop.total + cities.external_total
                pop.source = f"{pop.source}, cities.csv"
            layers += [pop, act]
    seen: dict[str, int] = {}
    for lay in layers:  # unique band names
        k = seen.get(lay.name, 0)
        seen[lay.name] = k + 1
        if k:
            lay.name = f"{lay.name}_{k + 1}"
    if local_egress is None:
        local_egress = not gtfs  # the bundled sample: other cities are points without streets
    common = {"departure_s": depart, "window_min": window_min, "step_min": step_min, "percentiles": percentiles,
              "max_snap_m": max_snap_m, "park_and_ride": park_and_ride, "local_access": local_access,
              "local_egress": local_egress or local_access}
    nets = {"": (net, "baseline")}
    if scn is not None:
        applied = pl.scenarios.network.scenario_network(net, scn, cache_dir=cache_dir, use_cache=not no_cache,
                                                        progress=progress)
        nets["_scenario"] = (applied.network, scn.name)
    run = {"cutoffs_min": cutoffs, "decay": dec, "progress": progress, "executor": ex}
    results = room.accessibility.runs(nets, grid, layers, origin, run, common)
    # the default on the bundled sample adds the agglomeration-scale run (issue 20)
    add_region = not (region or no_region or gtfs or opportunity_specs or population_grids or census or bbox
                      or area is not None or origin is not None)
    region_run = None
    if add_region:
        rgrid = room.grid.make_grid(REGION_RESOLUTION_M, crs=crs, net=net, local_access=True)
        rlayers = [room.grid.census_opportunities(rgrid)]
        rcommon = {**common, "park_and_ride": False, "local_access": True, "local_egress": True}
        rresults = room.accessibility.runs(nets, rgrid, rlayers, None, {**run, "cutoffs_min": REGION_CUTOFFS_MIN}, rcommon)
        region_run = (rgrid, rlayers, rresults)
    files: list[str] = []
    with OutputStage(output, overwrite=overwrite) as stage:
        write_text(stage.path("config.json"), opts.config_record_text(ctx, net.config))
        tags = opts.config_tags(ctx, net.config)  # the same record in every GeoTIFF's tags
        files.append("config.json")
        out = {"stage": stage, "png": not no_png, "tags": tags, "net": net}
        city_files = _write(room, out, "", grid, layers, results, origin, local_access)
        files += city_files
        notes = [n[0].upper() + n[1:] for n in (osm_layers_report or {}).get("notes", [])]
        runs = [room.report.Run(f"{'The agglomeration' if local_access else 'The study area'} "
                                f"({grid.cell_size_text()} cells)", grid, results, layers,
                                previews=_previews(stage, city_files), notes=notes)]
        if region_run is not None:
            region_files = _write(room, out, "region_", *region_run, None, True)
            files += region_files
            runs.append(room.report.Run(f"The agglomeration ({region_run[0].cell_size_text()} cells, region_* files)",
                                        region_run[0], region_run[2], region_run[1], prefix="region_",
                                        previews=_previews(stage, region_files)))
        rests_on = room.report.rests_on(net, day, layers, osm_layers_report, local_access or region_run is not None)
        rep = room.report.access_report(runs, meta={"service date": day, "departures": window_text(depart, window_min),
                                                    "feeds": ", ".join(net.timetable.feed_ids)},
                                        rests_on=rests_on, settings=opts.run_record(ctx, net.config))
        write_text(stage.path("report.html"), rep.html())
        write_text(stage.path("report.md"), rep.markdown())
        files += ["report.html", "report.md"]
        summary = {
            "service_date": day, "grid": grid.record(),
            "results": {k: _result_record(r) for k, r in results.items()},
            "files": sorted([*files, "access_summary.json"]),
        }
        if region_run is not None:
            summary["region_grid"] = region_run[0].record()
            summary["results"].update({f"region_{k}": _result_record(r) for k, r in region_run[2].items()})
        write_text(stage.path("access_summary.json"), json.dumps(summary, indent=1, default=float) + "\n")
        files.append("access_summary.json")
    _echo_run(grid, day, results, layers, max_snap_m)
    if osm_layers_report is not None:
        click.echo(f"Layers from {Path(layer_osm).name} (as plan opportunities): population by residential floor "
                   f"area, totals from {osm_layers_report['totals_source']}; activities from "
                   f"{osm_layers_report['activities']['places']:,} places.")
        for note in osm_layers_report.get("notes", []):
            click.echo(f"Note: {note}")
    off = results["access"].report.get("destinations_off_streets", 0) if "access" in results else 0
    if off and not (local_egress or local_access):
        click.echo(f"Note: {off} destination(s) are off the street network and reached from stops only by "
                   "straight-line walks; --local-egress reaches them by the taxi/bus approximation.")
    click.echo(render(_rows("", results)))
    if region_run is not None:
        rgrid, rlayers, rresults = region_run
        click.echo("\nThe agglomeration-scale run (region_* files; --no-region skips it): the intercity rail net "
                   "with the urban taxi/bus approximation at both ends, the cities' census populations.")
        _echo_run(rgrid, day, rresults, rlayers, max_snap_m)
        click.echo(render(_rows("region_", rresults)))
    pngs = sum(f.endswith(".png") for f in files)
    click.echo(f"Written to {output}/: {len(files)} files ({', '.join(f for f in files if f.endswith('.tif'))}, "
               f"{pngs} PNG previews, report.html, access_summary.json)")


def _previews(stage, files: list[str]) -> dict[str, bytes]:
    return {f: stage.path(f).read_bytes() for f in files if f.endswith(".png")}


REGION_RESOLUTION_M = 10_000.0
REGION_CUTOFFS_MIN = (120, 180, 240)


def _rail_lines(net, crs: str) -> list:
    """The rail net stop to stop, in ``crs``, to draw over regional previews."""
    tt = net.timetable
    seg = pl.network.timetable.rail_segments(tt)
    if not len(seg):
        return []
    x, y = pl.analyses.access.grid.transform_xy("EPSG:4326", crs, tt.stop_lon[seg.ravel()], tt.stop_lat[seg.ravel()])
    xy = np.column_stack([x, y]).reshape(-1, 2, 2)
    return list(xy)


def _write(room, out: dict, prefix: str, grid, layers: list, results: dict, origin, local_access: bool) -> list[str]:
    """The GeoTIFFs and previews of one run, file names starting with ``prefix``."""
    stage, png, tags, net = out["stage"], out["png"], out["tags"], out["net"]
    files: list[str] = []
    # roads and water of the extract the network was built from (or the region's), over the previews
    context = (pl.outputs.raster.raster_context(grid, net.walk.meta.get("source_path") if net.walk is not None else None)
               if png else None)
    preview = {}
    if local_access:
        reach = next(iter(results.values())).report.get("local_access_reach_m", 0.0)
        preview = {"lines": _rail_lines(net, grid.crs) if png else None,
                   "nodata_label": f"no data: no station within {reach / 1000:.0f} km (the taxi/bus approximation's "
                                   f"{net.config.local_access_max_s / 60:.0f} min)"}
    if layers:
        bands = [pl.outputs.raster.Band(lay.name, lay.values.reshape(grid.shape), lay.unit,
                                        f"{lay.name} per cell ({Path(lay.source).name or lay.source})",
                                        {"layer": lay.name}) for lay in layers]
        opp = room.results.AccessResult(grid, bands, np.ones(grid.shape, bool), {**results["access"].tags}, {})
        pts = np.vstack([lay.points for lay in layers])
        for key in [k for k in results if k.startswith("access")]:
            files += pl.outputs.raster.write_result(stage, f"{prefix}{key}", results[key], png=png, dtype="float64",
                                                    points=pts, diverging=key.endswith("_diff"), context=context,
                                                    tags=tags, **preview)
        files += pl.outputs.raster.write_result(stage, f"{prefix}opportunities", opp, png=png, dtype="float64",
                                                points=pts, zero_label="0", context=context, tags=tags)
    if origin is not None:
        mx, my = room.grid.transform_xy("EPSG:4326", grid.crs, [origin[0]], [origin[1]])
        for key in [k for k in results if k.startswith("travel_time")]:
            files += pl.outputs.raster.write_result(stage, f"{prefix}{key}", results[key], png=png,
                                                    marker=(float(mx[0]), float(my[0])),
                                                    diverging=key.endswith("_diff"), context=context, tags=tags,
                                                    **preview)
    return files


def _result_record(r) -> dict:
    return {"report": r.report, "tags": r.tags,
            "bands": {b.name: {"unit": b.unit, "description": b.description, **_stats(b.values)} for b in r.bands}}


def _echo_run(grid, day, results: dict, layers: list, max_snap_m: float) -> None:
    rep = next(iter(results.values())).report
    beyond = rep.get("cells_beyond_local_access", 0)
    far = (f"{beyond:,} with no station within {rep.get('local_access_reach_m', 0) / 1000:.0f} km (beyond the taxi/bus "
           f"approximation)" if beyond else f"{rep['cells_far_from_streets']:,} farther than {max_snap_m:g} m from streets")
    click.echo(f"Grid {grid.width} x {grid.height} cells of {grid.resolution:g} m in {grid.crs}; service date {day}; "
               f"{rep['origins']:,} origin cells, nodata: {rep['cells_outside_area']:,} outside the study area, {far}.")
    for lay in layers:
        ext = (f", {lay.external_total:,.0f} at {len(lay.external)} points outside the grid kept as destinations"
               if len(lay.external) else "")
        click.echo(f"Opportunities {lay.name}: {lay.total:,.0f} in the input{ext}, {lay.outside:,.0f} outside the grid "
                   f"dropped ({Path(lay.source).name or lay.source}).")


def _rows(prefix: str, results: dict) -> list[dict]:
    rows = []
    for key, r in results.items():
        for b in r.bands:
            st = _stats(b.values)
            rows.append({"file": f"{prefix}{key}.tif", "band": b.name, "unit": b.unit, "cells": st["cells"],
                         "min": st["min"], "median": st["median"], "max": st["max"]})
    return rows
