"""GeoTIFF rasters and PNG previews of bands on a grid (accessibility, the fare card's raster).

GeoTIFFs are written with rasterio: the grid's projected CRS and transform, float bands
with NaN as nodata, one band per measure whose description is the band name (its unit,
a readable description and the measure's parameters are band tags), provenance tags on the
dataset (inputs' digests, scenario, parameters, service date), DEFLATE compression with the
floating-point predictor, 256 x 256 tiles. Every file goes through a temp file and a rename,
so a reader never sees half a raster.

PNG previews use matplotlib's object API on an Agg canvas created here (the global backend
and pyplot are never touched): the band on the grid with a colour bar in its unit, a scale
bar measured on the ground (correct in any projected CRS), the study-area outline, the
cells that are no data (far from streets) and, for travel times, the cells not reached;
over them, for orientation, the main roads and water of the OSM extract the network was
built from, else the Natural Earth context where it covers the grid (:func:`raster_context`),
with the data's credit line.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import matplotlib as mpl
import numpy as np
import rasterio
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar
from pyproj import Geod, Transformer
from rasterio.errors import RasterioError

from planner.common.atomic import atomic_write, temp_path
from planner.errors import OutputError
from planner.outputs.context import (
    CREDIT,
    LAYERS,
    OSM_CREDIT,
    OSM_LAYERS,
    Context,
    load_context,
    load_osm_context,
)

__all__ = ["Band", "RasterGrid", "RasterResult", "raster_context", "settings_tags", "write_geotiff", "write_png",
           "write_result"]

#: context layers drawn over a raster preview (outlines and lines only: fills would hide the cells)
_RASTER_LAYERS = ("water", "lakes", "rivers", "rivers_lake_centerlines", "roads", "coastline",
                  "admin_0_boundary_lines_land", "boundaries")

NODATA = float("nan")
BLOCK = 256


@dataclass
class Band:
    """One raster band: ``values`` (height, width) float64, NaN = nodata."""

    name: str
    values: np.ndarray
    unit: str
    description: str
    tags: dict[str, str] = field(default_factory=dict)


class RasterGrid(Protocol):
    """What the writers need of a grid (:class:`planner.analyses.access.grid.Grid` is one):
    a projected ``crs``, the affine ``transform``, ``width``/``height`` (``shape`` = (height,
    width)), ``resolution`` (CRS units per cell), ``bounds`` (west, south, east, north), the
    study ``area`` (a shapely geometry or None) and ``inside()`` (bool per cell)."""

    crs: str
    width: int
    height: int
    resolution: float
    area: Any

    @property
    def transform(self) -> Any: ...

    @property
    def shape(self) -> tuple[int, int]: ...

    @property
    def bounds(self) -> tuple[float, float, float, float]: ...

    def inside(self) -> np.ndarray: ...


class RasterResult(Protocol):
    """Bands on a grid (:class:`planner.analyses.access.results.AccessResult` is one): the
    ``grid``, its ``bands``, ``valid`` (bool per cell: has a value) and provenance ``tags``."""

    grid: RasterGrid
    bands: list[Band]
    valid: np.ndarray
    tags: dict[str, str]


def write_geotiff(path: str | os.PathLike, grid: RasterGrid, bands: list[Band], *, tags: dict[str, str] | None = None,
                  dtype: str = "float32") -> Path:
    """Write ``bands`` on ``grid`` as one tiled, compressed GeoTIFF (NaN = nodata).

    Parameters
    ----------
    path
        Output file; replaced atomically.
    grid
        The grid (CRS, transform, shape).
    bands
        The bands, in order; band ``i`` gets the description ``bands[i].name`` and the tags
        ``units``, ``description`` and the band's own tags.
    tags
        Dataset metadata (provenance).
    dtype
        ``float32`` or ``float64``.
    """
    if not bands:
        msg = f"{path}: no bands to write"
        raise OutputError(msg, code="output_empty")
    out = Path(path)
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": len(bands), "dtype": dtype,
        "crs": grid.crs, "transform": grid.transform, "nodata": NODATA, "tiled": True,
        "blockxsize": BLOCK, "blockysize": BLOCK, "compress": "deflate", "predictor": 3, "interleave": "band",
        "BIGTIFF": "IF_SAFER",
    }
    try:
        with temp_path(out) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.update_tags(**{k: str(v) for k, v in (tags or {}).items()})
            for i, b in enumerate(bands, start=1):
                if b.values.shape != grid.shape:
                    msg = f"band {b.name!r} has shape {b.values.shape}, the grid {grid.shape}"
                    raise OutputError(msg, code="output_shape")
                dst.write(b.values.astype(dtype), i)
                dst.set_band_description(i, b.name)
                dst.set_band_unit(i, b.unit)
                dst.update_tags(i, units=b.unit, description=b.description, **{k: str(v) for k, v in b.tags.items()})
    except (RasterioError, OSError) as err:
        if isinstance(err, OutputError):
            raise
        msg = f"cannot write {out}: {err}"
        raise OutputError(msg, code="output_unwritable", hint="choose a writable folder") from err
    return out


def _nice(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``x``."""
    e = 10 ** math.floor(math.log10(x))
    return max(m * e for m in (1, 2, 5) if m * e <= x)


def _ground_per_unit(grid: RasterGrid) -> float:
    """Metres on the ground per CRS unit along x at the centre of the grid."""
    w, s, e, n = grid.bounds
    cx, cy = (w + e) / 2, (s + n) / 2
    step = max(grid.resolution, (e - w) / 10)
    tr = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform([cx, cx + step], [cy, cy])
    _a, _b, dist = Geod(ellps="WGS84").inv(lon[0], lat[0], lon[1], lat[1])
    return dist / step if dist > 0 else 1.0


def raster_context(grid: RasterGrid, osm=None) -> Context | None:
    """The context for previews of ``grid``: the main roads, water and rivers of the OSM
    extract ``osm`` (an ``.osm.pbf``) inside the grid, else the bundled Natural Earth context
    where it covers the grid, else None."""
    west, south, east, north = grid.bounds
    tr = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform([west, east, west, east], [south, south, north, north])
    box = (min(lon), min(lat), max(lon), max(lat))
    osm_ctx = load_osm_context(osm, box, roads=True)
    if osm_ctx and _covered_share(osm_ctx, box) < 0.25:
        # a city's extract under a regional grid: the region's own context, where there is one
        return load_context(box) or osm_ctx
    return osm_ctx or load_context(box)


def _covered_share(ctx: Context, box: tuple[float, float, float, float]) -> float:
    """Share of ``box`` (degrees) inside the bounds of the context's features."""
    b = np.array([g.total_bounds for g in ctx.layers.values() if len(g)])
    if not len(b):
        return 0.0
    w, s, e, n = max(b[:, 0].min(), box[0]), max(b[:, 1].min(), box[1]), min(b[:, 2].max(), box[2]), min(b[:, 3].max(), box[3])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return max(0.0, e - w) * max(0.0, n - s) / area if area > 0 else 0.0


def _context_lines(ctx: Context, crs: str) -> list[tuple[str, list[np.ndarray]]]:
    """The context's layers as polylines in ``crs`` (outlines of polygons), projected once per
    context and CRS (every preview of a run draws the same context)."""
    hit = ctx.projected.get(crs)
    if hit is None or hit[0] is not ctx.layers:
        out = []
        for name in _RASTER_LAYERS:
            gdf = ctx.layers.get(name)
            if gdf is None:
                continue
            geo = gdf.to_crs(crs).geometry
            geo = geo.boundary if geo.geom_type.isin(["Polygon", "MultiPolygon"]).all() else geo
            parts = shapely.get_parts(shapely.get_parts(geo.to_numpy()))
            lines = [np.asarray(shapely.get_coordinates(g)) for g in parts if not g.is_empty]
            out.append((name, [xy for xy in lines if len(xy) > 1]))
        ctx.projected[crs] = (ctx.layers, out)
    return ctx.projected[crs][1]


def _draw_raster_context(ax, ctx: Context, crs: str, handles: list) -> None:
    """The context's lines and outlines over the cells (projected to ``crs``), a legend entry
    each, and the credit line."""
    styles = OSM_LAYERS if ctx.kind == "osm" else LAYERS
    words = {"water": "water", "lakes": "water", "rivers": "rivers", "rivers_lake_centerlines": "rivers",
             "roads": "main roads", "coastline": "coast", "admin_0_boundary_lines_land": "borders",
             "boundaries": "boundaries"}
    shown = set()
    for name, lines in _context_lines(ctx, crs):
        if name not in styles or not lines:
            continue
        _kind, _face, edge, lw, _z = styles[name]
        colour = "#2b2b2b" if name == "roads" else edge
        ax.add_collection(LineCollection(lines, colors=colour, linewidths=max(lw, 0.7), alpha=0.6, zorder=2))
        if words[name] not in shown:
            shown.add(words[name])
            handles.append(Line2D([], [], color=colour, lw=max(lw, 0.7) + 0.4, alpha=0.8, label=words[name]))
    ax.text(0.0, -0.01, OSM_CREDIT if ctx.kind == "osm" else CREDIT, transform=ax.transAxes, ha="left", va="top",
            fontsize=7, color="#555555")


def write_png(path: str | os.PathLike, grid: RasterGrid, band: Band, *, valid: np.ndarray | None = None,
              diverging: bool = False, title: str | None = None, marker: tuple[float, float] | None = None,
              points=None, points_label: str = "opportunity points", zero_label: str = "0 (none reached)",
              nodata_label: str = "no data (far from streets)", lines=None, lines_label: str = "rail lines",
              dpi: int = 110, context: Context | None = None) -> Path:
    """A preview map of one band: colour bar, scale bar, study-area outline, title with units,
    and ``context`` (:func:`raster_context`) drawn over the cells with its credit line.

    ``valid`` marks the cells that have a value (the rest of the study area is drawn as no
    data; valid cells without a value as not reached); ``marker`` is a point (grid CRS) to
    mark, e.g. the origin of a travel-time surface; ``points`` (n, 2) are drawn as dots
    (e.g. the city points behind a census layer); ``lines`` a list of (n, 2) polylines (grid
    CRS, e.g. the rail net) drawn over the cells; ``nodata_label`` says why the study area's
    cells without a value have none; ``diverging`` centres the colours on 0.
    """
    vals = np.asarray(band.values, dtype=np.float64)
    h, w = grid.shape
    aspect = h / w
    fig = Figure(figsize=(8.0, max(3.5, min(12.0, 6.2 * aspect + 1.2)) + 0.6), dpi=dpi)  # + the legend below
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    west, south, east, north = grid.bounds
    extent = (west, east, south, north)
    inside = grid.inside().reshape(grid.shape)
    valid = np.isfinite(vals) if valid is None else np.asarray(valid, bool)
    handles = []
    nodata = inside & ~valid
    if nodata.any():
        ax.imshow(np.where(nodata, 1.0, np.nan), extent=extent, origin="upper", interpolation="nearest",
                  cmap=ListedColormap(["#dcdcdc"]), vmin=0, vmax=1)
        handles.append(Patch(facecolor="#dcdcdc", label=nodata_label))
    unreached = valid & ~np.isfinite(vals)
    if unreached.any():
        ax.imshow(np.where(unreached, 1.0, np.nan), extent=extent, origin="upper", interpolation="nearest",
                  cmap=ListedColormap(["#f3d9e6"]), vmin=0, vmax=1)
        handles.append(Patch(facecolor="#f3d9e6", label="not reached"))
    finite = vals[np.isfinite(vals)]
    vmax = float(finite.max()) if finite.size else 1.0
    if diverging:
        m = float(np.nanmax(np.abs(finite))) if finite.size else 1.0
        m = m if m > 0 else 1.0
        cmap, vmin, vmax = mpl.colormaps["RdBu_r" if band.unit.endswith("minutes") else "RdBu"], -m, m
    elif band.unit == "minutes":
        cmap, vmin = mpl.colormaps["plasma_r"], 0.0
    else:
        cmap, vmin = mpl.colormaps["viridis"], 0.0
        positive = finite[finite > 0]
        if positive.size and positive.size < finite.size:
            # cells that reach nothing in a light colour of their own, not the scale's darkest
            vmin = min(float(positive.min()), vmax) * 1e-9  # the scale still starts at (almost) 0
            cmap = cmap.with_extremes(under="#f1eef6")
            handles.append(Patch(facecolor="#f1eef6", edgecolor="#999999", label=zero_label))
    vmax = vmax if vmax > vmin else vmin + 1.0
    im = ax.imshow(np.ma.masked_invalid(vals), extent=extent, origin="upper", interpolation="nearest", cmap=cmap,
                   vmin=vmin, vmax=vmax)
    cb = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
    big = max(abs(vmin), abs(vmax))
    if big >= 1e6:
        cb.formatter = FuncFormatter(lambda v, _pos: f"{v / 1e6:g}M")
    elif big >= 1e4:
        cb.formatter = FuncFormatter(lambda v, _pos: f"{v:,.0f}")
    cb.update_ticks()
    cb.set_label(band.unit)
    if lines is not None and len(lines):
        ax.add_collection(LineCollection(lines, colors="#b2182b", linewidths=0.9, alpha=0.8, zorder=2.5))
        handles.append(Line2D([], [], color="#b2182b", lw=1.3, label=lines_label))
    if points is not None and len(points):
        pts = np.asarray(points, dtype=np.float64)
        ax.scatter(pts[:, 0], pts[:, 1], s=10, c="white", edgecolors="black", linewidths=0.6, zorder=3)
        handles.append(Line2D([], [], marker="o", linestyle="none", markersize=4, color="white",
                              markeredgecolor="black", label=points_label))
    if grid.area is not None:
        geoms = getattr(grid.area, "geoms", [grid.area])
        for g in geoms:
            for ring in [g.exterior, *g.interiors] if hasattr(g, "exterior") else []:
                xy = shapely.get_coordinates(ring)
                ax.plot(xy[:, 0], xy[:, 1], color="black", linewidth=1.0)
        handles.append(Patch(facecolor="none", edgecolor="black", label="study area"))
    if context:
        _draw_raster_context(ax, context, grid.crs, handles)
    # scale bar: a nice ground length near a fifth of the map width, measured on the ground
    g = _ground_per_unit(grid)
    ground = _nice((east - west) * g / 5.0)
    label = f"{ground / 1000:g} km" if ground >= 1000 else f"{ground:g} m"
    bar = AnchoredSizeBar(ax.transData, ground / g, label, "lower left", pad=0.5, borderpad=0.6, sep=4,
                          color="black", frameon=True, size_vertical=0.012 * (north - south),
                          fontproperties=FontProperties(size=9))
    bar.patch.set_alpha(0.85)
    bar.patch.set_edgecolor("none")
    ax.add_artist(bar)
    if marker is not None:
        ax.plot([marker[0]], [marker[1]], marker="*", markersize=14, color="white", markeredgecolor="black")
        handles.append(Line2D([], [], marker="*", linestyle="none", markersize=10, color="white",
                              markeredgecolor="black", label="origin"))
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(1.0, -0.01, f"{grid.crs}, {grid.resolution:g} m cells", transform=ax.transAxes, ha="right", va="top",
            fontsize=7, color="#555555")
    if handles:  # below the map: over it, the legend hid cells (Harbin, in the regional maps)
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.045), ncol=min(3, len(handles)),
                  fontsize=7, frameon=False)
    # wrapped to the map's width: a long description ran off the figure on both sides
    unchanged = diverging and finite.size and not np.any(finite)
    words = f"{band.description} [{band.unit}]" + (": no cell changes" if unchanged else "")
    ax.set_title(title or "\n".join([band.name, *textwrap.wrap(words, 70)]), fontsize=10)
    fig.tight_layout()
    out = Path(path)
    with atomic_write(out, "wb") as fh:
        fig.savefig(fh, format="png", dpi=dpi)
    return out


def settings_tags(record: dict) -> dict[str, str]:
    """A run's configuration record (what ``config.json`` holds) as the GeoTIFF dataset tag
    ``plan_config`` (compact JSON), so that a raster alone says how it was made."""
    return {"plan_config": json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=list)}


def write_result(stage, stem: str, result: RasterResult, *, png: bool = True, dtype: str = "float32",
                 diverging: bool = False, marker: tuple[float, float] | None = None, points=None,
                 zero_label: str = "0 (none reached)", context: Context | None = None,
                 tags: dict[str, str] | None = None, **preview) -> list[str]:
    """``{stem}.tif`` and one PNG per band (``{stem}_{band}.png``, or ``{band}.png`` when the
    band name starts with the stem) through an :class:`~planner.common.atomic.OutputStage` (or
    into a folder); returns the file names. ``tags``: more dataset tags (e.g. the run's
    configuration as ``plan_config``), added to the result's provenance tags; ``preview``: more
    keywords of :func:`write_png` (``nodata_label``, ``lines``)."""
    def where(name: str) -> Path:
        return stage.path(name) if hasattr(stage, "path") else Path(stage) / name

    names = [f"{stem}.tif"]
    write_geotiff(where(names[0]), result.grid, result.bands, tags={**result.tags, **(tags or {})}, dtype=dtype)
    if png:
        for b in result.bands:
            name = f"{b.name}.png" if b.name.startswith(stem) else f"{stem}_{b.name}.png"
            write_png(where(name), result.grid, b, valid=result.valid, diverging=diverging, marker=marker,
                      points=points, zero_label=zero_label, context=context, **preview)
            names.append(name)
    return names
