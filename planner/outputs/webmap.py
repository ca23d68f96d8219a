"""An interactive map page (``map.html``) that works offline: one HTML file holding Leaflet
(vendored in ``outputs/vendor/leaflet/``, BSD-2-Clause, its licence kept beside it and quoted in
the page), the data as GeoJSON, no tile server and no CDN: nothing is requested from a network.

Layers: exclusive "views" (the baseline, each scenario: a radio button each) and context
overlays (land, coast, borders, rivers, lakes, urban areas: check boxes). Each feature carries
its own style (colour, width, dash, radius) and an optional popup (HTML built here, every input
string escaped). The writer knows no analysis: callers build :class:`WebLayer` s with
:func:`line_feature` and :func:`point_feature`.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import TwoSlopeNorm, to_hex

from planner.outputs.context import CREDIT, LAYERS, SEA, Context

__all__ = ["WebLayer", "context_layers", "diverging_colors", "line_feature", "page", "point_feature", "popup"]

_CONTEXT_NAMES = {"land": "land", "urban_areas": "urban areas", "lakes": "lakes",
                  "rivers_lake_centerlines": "rivers", "coastline": "coast", "admin_0_boundary_lines_land": "borders"}


@dataclass
class WebLayer:
    """One layer of the page: a name, GeoJSON features and a legend (HTML, escaped by the caller
    with :func:`html.escape` or built by :func:`popup`)."""

    name: str
    features: list[dict] = field(default_factory=list)
    legend: str = ""
    show: bool = False


def line_feature(coords, *, color: str, weight: float = 2.0, dash: str | None = None, popup_html: str = "",
                 opacity: float = 0.9) -> dict:
    """A polyline (coords: (lon, lat) pairs)."""
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[float(x), float(y)]
                                                                                   for x, y in coords]},
            "properties": {"color": color, "weight": weight, "dash": dash, "popup": popup_html, "opacity": opacity}}


def point_feature(lon: float, lat: float, *, radius: float, fill: str, color: str = "#222222",
                  popup_html: str = "", label: str = "") -> dict:
    """A circle of ``radius`` pixels with a popup and a hover label."""
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
            "properties": {"radius": radius, "fill": fill, "color": color, "weight": 1, "popup": popup_html,
                           "label": html.escape(label)}}


def popup(title: str, rows: list[tuple[str, str]]) -> str:
    """A popup: a bold title and a small table of (label, value), all escaped."""
    e = html.escape
    body = "".join(f"<tr><td>{e(k)}</td><td style='text-align:right'>{e(v)}</td></tr>" for k, v in rows)
    return f"<b>{e(title)}</b><table class='pp'>{body}</table>"


def diverging_colors(values, cmap: str = "RdYlGn_r") -> tuple[list[str], float]:
    """Hex colours of ``values`` on a diverging scale centred on zero, and the scale's limit
    (0 when nothing varies: every colour is a neutral grey)."""
    v = np.asarray(values, dtype=float)
    lim = float(np.nanmax(np.abs(v))) if np.isfinite(v).any() else 0.0
    if lim < 0.05:
        return ["#cfcfcf"] * len(v), 0.0
    cm = colormaps[cmap]
    norm = TwoSlopeNorm(0.0, -lim, lim)
    return [to_hex(cm(norm(x))) if np.isfinite(x) else "#ffffff" for x in v], lim


def context_layers(ctx: Context | None, *, tolerance: float = 0.01) -> list[WebLayer]:
    """The context as overlays (geometry simplified by ``tolerance`` degrees), drawn below the data."""
    if not ctx:
        return []
    out = []
    if ctx.coverage is not None and "land" in ctx.layers:  # sea inside the file's coverage, unknown outside it
        x0, y0, x1, y1 = ctx.coverage
        out.append(WebLayer("sea", [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
            [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}, "properties": {
                "color": SEA, "weight": 0, "fill": SEA, "context": True, "dash": None}}], show=True))
    for name, (kind, face, edge, lw, _z) in LAYERS.items():
        gdf = ctx.layers.get(name)
        if gdf is None:
            continue
        geo = json.loads(gdf[["geometry"]].assign(geometry=gdf.geometry.simplify(tolerance)).to_json())
        for f in geo["features"]:
            f["properties"] = {"color": edge if edge != "none" else face, "weight": max(lw, 0.5) if kind == "line" else
                               0.4, "fill": face if kind == "polygon" else None, "context": True,
                               "dash": "6 3 1 3" if name.startswith("admin_0") else None}
        out.append(WebLayer(_CONTEXT_NAMES.get(name, name), geo["features"], show=True))
    return out


def _vendor(name: str) -> str:
    return resources.files("planner.outputs").joinpath("vendor", "leaflet", name).read_text(encoding="utf-8")


def _leaflet_css() -> str:
    # the stylesheet's images (marker icons, the layers button) are never used here: no url() is left to fetch
    return re.sub(r"url\([^)]*\)", "none", _vendor("leaflet.css"))


def _leaflet_js() -> str:
    return "\n".join(line for line in _vendor("leaflet.js").splitlines() if not line.startswith("//# sourceMappingURL"))


_PAGE_CSS = """
html,body{margin:0;height:100%;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
#top{padding:.4em .8em;border-bottom:1px solid #ddd;font-size:.95em}#top h1{font-size:1.15em;margin:0 0 .2em}
#map{position:absolute;top:4.2em;bottom:0;left:0;right:0;background:#f2f2f2}
.legend{background:rgba(255,255,255,.92);padding:6px 9px;font-size:12px;line-height:1.35;max-width:320px;
border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3)}table.pp td{padding:1px 6px;font-size:12px}
"""

_PAGE_JS = """
const D = JSON.parse(document.getElementById('plan-data').textContent);
const map = L.map('map', {zoomSnap: 0.25, attributionControl: true});
map.fitBounds([[D.bounds[1], D.bounds[0]], [D.bounds[3], D.bounds[2]]]);
map.attributionControl.setPrefix(false);
if (D.credit) map.attributionControl.addAttribution(D.credit);
function layer(spec) {
  return L.geoJSON({type: 'FeatureCollection', features: spec.features}, {
    style: f => ({color: f.properties.color, weight: f.properties.weight, dashArray: f.properties.dash,
                  opacity: f.properties.opacity ?? 1, fill: !!f.properties.fill, fillColor: f.properties.fill,
                  fillOpacity: f.properties.context ? 1 : 0.9, interactive: !f.properties.context}),
    pointToLayer: (f, ll) => L.circleMarker(ll, {radius: f.properties.radius, fillColor: f.properties.fill,
                  color: f.properties.color, weight: f.properties.weight, fillOpacity: 0.9}),
    onEachFeature: (f, l) => {
      if (f.properties.popup) l.bindPopup(f.properties.popup);
      if (f.properties.label) l.bindTooltip(f.properties.label);
    }});
}
const overlays = {}, views = {}, legends = {};
for (const spec of D.context) { const g = layer(spec); overlays[spec.name] = g; if (spec.show) g.addTo(map); }
let first = D.views.length ? D.views[0].name : null;
for (const spec of D.views) {
  views[spec.name] = layer(spec); legends[spec.name] = spec.legend;
  if (spec.show) first = spec.name;
}
const legend = L.control({position: 'bottomleft'});
legend.onAdd = () => { const d = L.DomUtil.create('div', 'legend'); d.id = 'legend'; return d; };
legend.addTo(map);
map.on('baselayerchange', e => { document.getElementById('legend').innerHTML = legends[e.name] || ''; });
L.control.layers(views, overlays, {collapsed: false}).addTo(map);
L.control.scale({imperial: false}).addTo(map);
if (first !== null) { views[first].addTo(map); document.getElementById('legend').innerHTML = legends[first] || ''; }
document.body.dataset.layersDrawn = String(Object.keys(views).length + Object.keys(overlays).length);
"""


def page(title: str, views: list[WebLayer], *, context: list[WebLayer] = (), bounds: tuple[float, float, float, float],
         note: str = "", credit: bool | None = None) -> str:
    """The self-contained HTML page. ``views``: exclusive layers (the first, or the one with
    ``show``, is on at first); ``context``: overlays under them; ``bounds``: (lon0, lat0, lon1,
    lat1) shown at first; ``note``: a line under the title (escaped). The credit line is shown
    when there is context (or ``credit``)."""
    e = html.escape
    data = {"bounds": list(bounds), "credit": CREDIT if (credit if credit is not None else bool(context)) else "",
            "views": [vars(v) for v in views], "context": [vars(c) for c in context]}
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(title)}</title>\n<style>{_leaflet_css()}</style>\n<style>{_PAGE_CSS}</style></head><body>\n"
        f"<div id='top'><h1>{e(title)}</h1><span>{e(note)}</span></div><div id='map'></div>\n"
        f"<script type='application/json' id='plan-data'>{blob}</script>\n"
        "<!-- Leaflet 1.9.4, (c) 2010-2023 Volodymyr Agafonkin, (c) 2010-2011 CloudMade, BSD-2-Clause "
        "(planner/outputs/vendor/leaflet/LICENSE) -->\n"
        f"<script>{_leaflet_js()}</script>\n<script>{_PAGE_JS}</script>\n</body></html>\n"
    )
