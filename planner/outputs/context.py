"""Geographic context under maps: land, sea, coast, national borders, rivers, lakes and
urban areas from a GeoPackage of Natural Earth layers (the bundled ``context/`` of the
Northeast China sample, public domain; see ``context/PROVENANCE.md``), or, for a user's own
region, water, rivers, coast, administrative boundaries (and, for a station area, buildings)
from the OSM extract the network was built from (:func:`load_osm_context`, read by
:mod:`planner.ingest.osm.context`).

A map uses the Natural Earth context only when its extent lies inside the file's coverage;
for any other region :func:`load_context` returns None, the caller tries the OSM extract,
and where there is none says so in its report (a note) instead of drawing a partial or wrong
background. Every map drawn on context carries its credit line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pyogrio

from planner.common.bundled import data_root
from planner.ingest.osm.context import read_osm_context

__all__ = [
    "CREDIT",
    "LAYERS",
    "OSM_CREDIT",
    "OSM_LAYERS",
    "Context",
    "bundled_context_path",
    "clip_context",
    "context_note",
    "draw_context",
    "load_context",
    "load_osm_context",
]

#: the credit line every map drawn on the context carries
CREDIT = "Made with Natural Earth"
#: the credit line of a map drawn on OSM data
OSM_CREDIT = "Map data © OpenStreetMap contributors (ODbL)"

#: layer name -> (kind, face colour, edge colour, line width, z-order), drawn in this order
LAYERS = {
    "land": ("polygon", "#f4f1ea", "none", 0.0, 0.1),
    "urban_areas": ("polygon", "#e3d9c6", "none", 0.0, 0.2),
    "lakes": ("polygon", "#c6dbef", "#9ecae1", 0.4, 0.3),
    "rivers_lake_centerlines": ("line", "none", "#9ecae1", 0.8, 0.4),
    "coastline": ("line", "none", "#6baed6", 0.6, 0.5),
    "admin_0_boundary_lines_land": ("line", "none", "#7b6f8f", 1.0, 0.6),
}
SEA = "#dcebf5"
#: the OSM layers (:mod:`planner.ingest.osm.context`), in the same form as LAYERS
OSM_LAYERS = {
    "buildings": ("polygon", "#e4ded2", "#d3cbbb", 0.2, 0.2),
    "water": ("polygon", "#c6dbef", "#9ecae1", 0.3, 0.3),
    "rivers": ("line", "none", "#9ecae1", 0.8, 0.4),
    "roads": ("line", "none", "#4d4d4d", 0.6, 0.45),
    "coastline": ("line", "none", "#6baed6", 0.6, 0.5),
    "boundaries": ("line", "none", "#7b6f8f", 0.9, 0.6),
}

#: the coverage of the bundled file (lon0, lat0, lon1, lat1), from its PROVENANCE
_BUNDLED_BOX = (115.0, 37.0, 136.0, 54.0)


@dataclass
class Context:
    """Context layers clipped to a map's box: layer name -> GeoDataFrame (EPSG:4326)."""

    layers: dict = field(default_factory=dict)
    source: str = ""
    #: the file's coverage (lon0, lat0, lon1, lat1): sea where it has no land, unknown outside
    coverage: tuple | None = None
    #: "natural_earth" or "osm" (which styles and credit line)
    kind: str = "natural_earth"
    #: the layers projected for drawing, per CRS (filled by the raster previews; each entry
    #: remembers the layers dict it was made from, so a copy with other layers makes its own)
    projected: dict = field(default_factory=dict, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.layers)


def bundled_context_path() -> Path | None:
    """The bundled ``context/ne_china_context.gpkg``, or None when the sample is not found."""
    root = data_root()
    p = root / "context" / "ne_china_context.gpkg" if root is not None else None
    return p if p is not None and p.is_file() else None


def load_context(box: tuple[float, float, float, float], path: str | Path | None = None,
                 coverage: tuple[float, float, float, float] | None = None) -> Context | None:
    """The context layers inside ``box`` (lon0, lat0, lon1, lat1), or None when there is no
    file or the box is not inside its ``coverage`` (default: the bundled file's clip box)."""
    if path is None:
        path = bundled_context_path()
        coverage = coverage or _BUNDLED_BOX
    if path is None or not Path(path).is_file():
        return None
    if coverage is not None:
        c = coverage
        if box[0] < c[0] or box[1] < c[1] or box[2] > c[2] or box[3] > c[3]:
            return None
    present = {str(row[0]) for row in pyogrio.list_layers(path)}
    layers = {}
    for name in LAYERS:
        if name not in present:  # a layer the file lacks is left out
            continue
        gdf = gpd.read_file(path, layer=name, bbox=box, engine="pyogrio")
        if len(gdf):
            layers[name] = gdf
    return Context(layers, source=str(path), coverage=coverage) if layers else None


def load_osm_context(path, box: tuple[float, float, float, float] | None, *,
                     buildings: bool = False, roads: bool = False) -> Context | None:
    """The context of the OSM extract ``path`` inside ``box`` (None: all of it; water, rivers, coast,
    administrative boundaries; buildings too with ``buildings``), or None when there is no
    extract (None, an online request, an XML file) or it has nothing there."""
    if path is None or not Path(path).is_file():
        return None
    osm = read_osm_context(path, box, buildings=buildings, roads=roads)
    return Context(osm.layers, source=osm.source, kind="osm") if osm else None


def clip_context(ctx: Context | None, box: tuple[float, float, float, float]) -> Context | None:
    """The features of ``ctx`` that touch ``box`` (lon0, lat0, lon1, lat1), or None: read a
    context once, draw many small maps from it."""
    if not ctx:
        return None
    layers = {k: g.cx[box[0]:box[2], box[1]:box[3]] for k, g in ctx.layers.items()}
    layers = {k: g for k, g in layers.items() if len(g)}
    return replace(ctx, layers=layers) if layers else None


def draw_context(ax, ctx: Context | None) -> None:
    """Draw the context under everything else (z-order below 1) and the credit line."""
    if not ctx:
        return
    osm = ctx.kind == "osm"
    ax.set_facecolor(SEA if "land" in ctx.layers else "white")
    for name, (kind, face, edge, lw, z) in (OSM_LAYERS if osm else LAYERS).items():
        gdf = ctx.layers.get(name)
        if gdf is None:
            continue
        if kind == "polygon":
            gdf.plot(ax=ax, facecolor=face, edgecolor=edge, linewidth=lw, zorder=z)
        else:
            gdf.plot(ax=ax, color=edge, linewidth=lw, zorder=z,
                     linestyle=(0, (6, 2, 1, 2)) if name.startswith("admin_0") or name == "boundaries" else "-")
    ax.text(0.995, 0.005, OSM_CREDIT if osm else CREDIT, transform=ax.transAxes, ha="right", va="bottom", fontsize=6.5, color="#555555",
            zorder=30)


def context_note(ctx: Context | None) -> str:
    """The report's sentence on the maps' background."""
    if ctx and ctx.kind == "osm":
        names = {"water": "water", "rivers": "rivers", "coastline": "coast", "boundaries": "administrative boundaries",
                 "buildings": "buildings", "roads": "main roads"}
        found = ", ".join(names[k] for k in OSM_LAYERS if k in ctx.layers)
        return (f"Map background: {found} from the OpenStreetMap extract {ctx.source} (© OpenStreetMap "
                "contributors, ODbL); the bundled Natural Earth context covers Northeast China only.")
    if ctx:
        return ("Map background: land, sea, coast, national borders, rivers, lakes and urban areas from "
                "Natural Earth 1:50m (public domain; made with Natural Earth).")
    return ("The maps have no geographic background: the bundled Natural Earth context covers Northeast China "
            "only (lon 115-136 E, lat 37-54 N), this region lies outside it, and no OSM extract (.osm.pbf) with "
            "water, coast or boundaries there was given.")
