"""Static maps (PNG) of networks, places and changes, with matplotlib (no pyplot state).

Maps are drawn in longitude/latitude with the aspect ratio of a local equirectangular
projection (1 / cos(latitude)), on geographic context where there is some
(:mod:`planner.outputs.context`: land, sea, coast, borders, rivers, lakes, urban areas, with
the credit line), with a scale bar, a legend of what is drawn, a key of the dot sizes and
place labels moved apart by adjustText so that they do not overlap. No web tiles (nothing is
downloaded). All maps of one run share one :class:`MapFrame` (the same extent), so a reader
can lay them side by side. Every function returns PNG bytes.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from adjustText import adjust_text
from matplotlib import font_manager, patheffects, rcParams
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D

from planner.ingest.gtfs.modes import MODES
from planner.outputs.context import Context, draw_context, load_context, load_osm_context

if TYPE_CHECKING:
    import pandas as pd

    from planner.network.timetable import Timetable

__all__ = ["LABEL_HALO", "MODE_STYLE", "MapFrame", "change_title", "colorbar", "drawable", "finish_map", "line_ends", "map_frame", "map_name", "network_map", "new_map", "place_change_map", "route_patterns", "spread_labels", "varies"]

MODE_STYLE = {  # colour, line width, z-order
    "high_speed_rail": ("#c0392b", 2.4, 5), "intercity_rail": ("#d35400", 2.0, 4), "rail": ("#5d6d7e", 1.6, 3),
    "metro": ("#2980b9", 1.6, 4), "tram": ("#27ae60", 1.0, 3), "bus": ("#bdc3c7", 0.5, 1),
    "coach": ("#95a5a6", 0.8, 2), "ferry": ("#16a085", 1.0, 2),
}
_NEW = "#8e44ad"       # new lines
_CHANGED = "#e67e22"   # routes whose frequency changed
_REMOVED = "#2c3e50"   # removed routes (dashed)
_CONNECTOR = "#d81b60" # new transfers
_CARD = "#f1c40f"      # routes of a fare card's operators (a halo)
#: a mode whose drawn extent is below this share of the map's width is too small to see
_VISIBLE_SHARE = 0.02
#: adjustText's iterations (bounded by count, not by time, so that outputs are reproducible)
_LABEL_ITERATIONS = 300
#: mean-time changes smaller than this (minutes) count as no change
_NO_CHANGE_MIN = 0.05
#: where the map and its colour bar sit on the figure (left, bottom, width, height): the same
#: for every map, so that maps of one run line up and share their label positions
_MAP_RECT = (0.075, 0.07, 0.80, 0.855)
_CBAR_RECT = (0.895, 0.2, 0.018, 0.6)
#: a line end farther than this share of the map's width from every place gets its own label
_END_SHARE = 0.03
#: a white halo around labels, so that they stay readable over lines and context
LABEL_HALO = [patheffects.withStroke(linewidth=2.2, foreground="white", alpha=0.85)]
_LEADER = {"color": "#555555", "lw": 0.5, "zorder": 1}
#: a label moved less than this (pixels) from its point gets no leader line
_MIN_LEADER_PX = 8


@dataclass(frozen=True)
class MapFrame:
    """One extent (and its context) for every map of a run."""

    x0: float
    x1: float
    y0: float
    y1: float
    context: Context | None = None
    #: label positions computed for this frame (by what was labelled and the axes' size), so
    #: that maps of one run with the same labels run adjustText once, not once per map
    labels: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def lat0(self) -> float:
        return 0.5 * (self.y0 + self.y1)

    @property
    def has_context(self) -> bool:
        return bool(self.context)


def map_frame(lon, lat, *, context: bool = True, osm=None) -> MapFrame:
    """The extent framing the points ``lon``/``lat`` (kept between 2:1 and 1:2, 8 % margin), with
    the bundled context when ``context`` and the extent lies inside it, else the context of the
    OSM extract ``osm`` (a ``.osm.pbf`` path) where it has some."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return MapFrame(0.0, 1.0, 0.0, 1.0)
    x0, x1 = lon[ok].min(), lon[ok].max()
    y0, y1 = lat[ok].min(), lat[ok].max()
    lat0 = 0.5 * (y0 + y1)
    k = max(np.cos(np.radians(lat0)), 0.1)
    w, h = (x1 - x0) * k, (y1 - y0)  # in "latitude degrees"
    # keep the frame between 2:1 and 1:2 so a corridor along one parallel stays readable
    if h < 0.5 * w:
        y0, y1 = lat0 - 0.25 * w, lat0 + 0.25 * w
    elif w < 0.5 * h:
        xc = 0.5 * (x0 + x1)
        x0, x1 = xc - 0.25 * h / k, xc + 0.25 * h / k
    padx = max((x1 - x0) * 0.08, 0.01)
    pady = max((y1 - y0) * 0.08, 0.01)
    x0, x1, y0, y1 = float(x0 - padx), float(x1 + padx), float(y0 - pady), float(y1 + pady)
    ctx = load_context((x0, y0, x1, y1)) if context else None
    if ctx is None and context and osm is not None:
        ctx = load_osm_context(osm, (x0, y0, x1, y1))
    return MapFrame(x0, x1, y0, y1, ctx)


def new_map(title: str, frame: MapFrame | None = None):
    """A map's (figure, axes): a bare Figure that renders through its own Agg canvas (no
    pyplot, no global backend change), with the frame's context drawn."""
    fig = Figure(figsize=(9, 7.5), dpi=110)
    ax = fig.add_axes(_MAP_RECT)
    ax.set_title(title, fontsize=11)
    if frame is not None:
        draw_context(ax, frame.context)
    return fig, ax


def finish_map(fig, ax, lon, lat, *, frame: MapFrame | None = None, labels=(), avoid=None) -> bytes:
    """Set the extent (``frame``'s, else one framing ``lon``/``lat``), add the scale bar, move
    the ``labels`` (matplotlib texts) apart, off the place dots (the scatter with gid "places",
    else the points ``avoid``: (lon, lat) arrays), and return the PNG."""
    if frame is None:
        frame = map_frame(lon, lat, context=False)
    ax.set_xlim(frame.x0, frame.x1)
    ax.set_ylim(frame.y0, frame.y1)
    ax.set_aspect(1.0 / max(np.cos(np.radians(frame.lat0)), 0.1))
    _scale_bar(ax, frame.lat0)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.grid(alpha=0.2)
    ax.apply_aspect()
    pos = ax.get_position()
    for cax in fig.axes:  # the colour bar beside the map as drawn (a tall map is narrower than its place)
        if cax.get_label() == "colorbar":
            cax.set_position([pos.x1 + 0.02, pos.y0 + 0.15 * pos.height, _CBAR_RECT[2], 0.7 * pos.height])
    labels = list(labels)
    if labels:
        _place_labels(fig, ax, labels, avoid, frame)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _place_labels(fig, ax, labels: list, avoid, frame: MapFrame) -> None:
    """Move the labels apart and off the place dots (the scatter with gid "places", else the
    points ``avoid``) with adjustText, with a leader line from a moved label to its point.

    The positions are kept in ``frame.labels`` under what decides them (the texts, the dots,
    the axes' size in pixels): the next map of the run with the same labels reuses them
    instead of running adjustText again. The leader lines are plain lines from the edge of
    the label's box (adjustText's arrows clip themselves to the text on every draw: slow)."""
    dots = [c for c in ax.collections if c.get_gid() == "places"]
    x, y = avoid if avoid is not None and not dots else (None, None)
    targets = [tuple(float(v) for v in t.get_position()) for t in labels]
    ax.apply_aspect()
    key = (tuple(round(v, 3) for v in ax.get_window_extent().bounds),
           tuple((t.get_text(), xy, t.get_fontsize(), str(t.get_fontweight()), t.get_fontstyle())
                 for t, xy in zip(labels, targets, strict=True)),
           tuple(np.asarray(dots[0].get_offsets(), dtype=float).ravel().tolist()) if dots else (),
           tuple(np.asarray(dots[0].get_sizes(), dtype=float).tolist()) if dots else (),
           tuple(np.asarray(x, dtype=float).tolist()) if x is not None else (),
           tuple(np.asarray(y, dtype=float).tolist()) if y is not None else ())
    plan = frame.labels.get(key)
    if plan is None:
        fig.canvas.draw()  # adjustText measures the texts on the rendered figure
        # a fixed number of iterations, not adjustText's default time limit: the same map twice
        adjust_text(labels, x=x, y=y, objects=dots[0] if dots else None, ax=ax, iter_lim=_LABEL_ITERATIONS,
                    expand=(1.15, 1.3))
        plan = []
        for t, target in zip(labels, targets, strict=True):
            plan.append((tuple(float(v) for v in t.get_position()), _leader_start(ax, t.get_window_extent(), target)))
        frame.labels[key] = plan = tuple(plan)
    for t, target, (xy, start) in zip(labels, targets, plan, strict=True):
        t.set_horizontalalignment("center")
        t.set_verticalalignment("center")
        t.set_position(xy)
        if start is not None:
            ax.add_line(Line2D([start[0], target[0]], [start[1], target[1]], **_LEADER))


def spread_labels(fig, ax, texts: list, points: tuple | None = None) -> None:
    """Move ``texts`` (matplotlib texts placed at their anchors) apart and off ``points``
    (data x and y arrays) with adjustText, and draw a leader line from each moved label to its
    anchor. Call it once the axes' limits are final. A fixed number of iterations, not
    adjustText's time limit, so the same map twice is the same PNG."""
    if not texts:
        return
    targets = [tuple(float(v) for v in t.get_position()) for t in texts]
    x, y = points if points is not None else (None, None)
    fig.canvas.draw()  # adjustText measures the texts on the rendered figure
    adjust_text(texts, x=x, y=y, ax=ax, iter_lim=_LABEL_ITERATIONS, expand=(1.15, 1.3))
    fig.canvas.draw()
    for t, target in zip(texts, targets, strict=True):
        start = _leader_start(ax, t.get_window_extent(), target)
        if start is not None:
            ax.add_line(Line2D([start[0], target[0]], [start[1], target[1]], **_LEADER))


def _leader_start(ax, box, target) -> tuple[float, float] | None:
    """Where the segment from the centre of ``box`` (display units) to ``target`` (data) leaves
    the box (2 px out), in data units; None when the label is within 8 px of its point (as
    adjustText's ``min_arrow_len``: no leader)."""
    cx, cy = 0.5 * (box.x0 + box.x1), 0.5 * (box.y0 + box.y1)
    tx, ty = ax.transData.transform(target)
    if max(min(abs(box.x0 - tx), abs(box.x1 - tx)), min(abs(box.y0 - ty), abs(box.y1 - ty))) < _MIN_LEADER_PX:
        return None
    dx, dy = tx - cx, ty - cy
    hw, hh = 0.5 * box.width + 2.0, 0.5 * box.height + 2.0
    f = min(hw / abs(dx) if dx else np.inf, hh / abs(dy) if dy else np.inf, 1.0)
    return tuple(float(v) for v in ax.transData.inverted().transform((cx + f * dx, cy + f * dy)))


def colorbar(fig, mappable, label: str):
    """The map's colour bar, in its fixed place right of the map."""
    cb = fig.colorbar(mappable, cax=fig.add_axes(_CBAR_RECT, label="colorbar"))
    cb.set_label(label)
    return cb


def _scale_bar(ax, lat0: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    km_per_deg = 111.195 * np.cos(np.radians(lat0))
    width_km = (x1 - x0) * km_per_deg
    nice = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    length = max([n for n in nice if n <= width_km / 4] or [nice[0]])
    deg = length / km_per_deg
    xs = x1 - (x1 - x0) * 0.05 - deg  # lower right, away from labels on the left
    ys = y0 + (y1 - y0) * 0.05
    ax.plot([xs, xs + deg], [ys, ys], color="black", lw=3, solid_capstyle="butt", zorder=10)
    ax.text(xs + deg / 2, ys + (y1 - y0) * 0.015, f"{length:g} km", ha="center", va="bottom", fontsize=8, zorder=10)


def route_patterns(tt: Timetable, modes=None, routes=None):
    """(mode, operator, stop indices) of each distinct pattern (by mode and set of stop pairs),
    optionally of the given ``modes`` or route ids ``routes`` only."""
    names = np.asarray(MODES, dtype=object)[tt.pattern_mode]
    drawn = set()
    for p in range(tt.n_patterns):
        mode = str(names[p])
        if modes is not None and mode not in modes:
            continue
        if routes is not None and str(tt.route_ids[tt.pattern_route[p]]) not in routes:
            continue
        stops = tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]
        key = (mode, tuple(sorted(zip(stops[:-1].tolist(), stops[1:].tolist(), strict=True))))
        if key in drawn:
            continue
        drawn.add(key)
        yield mode, str(tt.operator_names[tt.pattern_operator[p]]), stops


def _draw_patterns(ax, tt: Timetable, modes=None, color=None, lw_scale=1.0, frame: MapFrame | None = None,
                   label_modes=True) -> list:
    """Draw the routes; returns legend handles of the modes visible at the frame's scale and,
    as a note, the modes drawn but too small to see."""
    extent: dict[str, list] = {}
    for mode, _op, stops in route_patterns(tt, modes):
        c, lw, z = MODE_STYLE.get(mode, ("#888888", 0.8, 2))
        ax.plot(tt.stop_lon[stops], tt.stop_lat[stops], color=color or c, lw=lw * lw_scale, zorder=z, alpha=0.9)
        e = extent.setdefault(mode, [np.inf, -np.inf, np.inf, -np.inf])
        e[:] = [min(e[0], tt.stop_lon[stops].min()), max(e[1], tt.stop_lon[stops].max()),
                min(e[2], tt.stop_lat[stops].min()), max(e[3], tt.stop_lat[stops].max())]
    if not label_modes:
        return []
    width = (frame.x1 - frame.x0) if frame is not None else np.inf
    handles, small = [], []
    for mode, e in extent.items():
        c, lw, _z = MODE_STYLE.get(mode, ("#888888", 0.8, 2))
        if max(e[1] - e[0], e[3] - e[2]) < _VISIBLE_SHARE * width:
            small.append(mode.replace("_", " "))
            continue
        handles.append(Line2D([], [], color=color or c, lw=lw * lw_scale, label=mode.replace("_", " ")))
    if small:
        handles.append(Line2D([], [], lw=0, label=f"({', '.join(small)}: too small to see here)"))
    return handles


def _sizes(pop: np.ndarray, pop_max: float) -> np.ndarray:
    return 20 + 280 * np.sqrt(np.asarray(pop, dtype=float) / max(pop_max, 1.0))


def _size_key(ax, pop_max: float) -> None:
    """A legend of dot sizes (people) in the lower left."""
    steps = [v for v in (1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7) if v <= pop_max]
    if not steps:
        return
    picks = sorted({steps[-1], steps[max(len(steps) - 3, 0)], steps[max(len(steps) - 5, 0)]})
    handles = [Line2D([], [], lw=0, marker="o", markersize=float(np.sqrt(_sizes(np.array([v]), pop_max)[0])),
                      markerfacecolor="#bbbbbb", markeredgecolor="#555555",
                      label=f"{v / 1e6:g} million" if v >= 1e6 else f"{v:,.0f}") for v in picks]
    leg = ax.legend(handles=handles, title="population", loc="lower left", fontsize=7, title_fontsize=7.5,
                    framealpha=0.85, labelspacing=1.3, borderpad=0.9)
    ax.add_artist(leg)


def _draw_places(ax, places: pd.DataFrame, values=None, cmap="RdYlGn", vlabel: str = "", fig=None,
                 center_zero=False) -> list:
    """Dots sized by population (coloured by ``values``), their key, and their labels (returned,
    to be moved apart once the extent is set)."""
    pop = places["population"].to_numpy(dtype=float)
    size = _sizes(pop, pop.max() if len(pop) else 1.0)
    if values is None:
        ax.scatter(places["lon"], places["lat"], s=size, c="#34495e", edgecolor="white", zorder=20, alpha=0.9,
                   gid="places")
    else:
        v = np.asarray(values, dtype=float)
        lim = float(np.nanmax(np.abs(v))) if varies(v) else 0.0
        if lim == 0.0:  # nothing varies: neutral dots, no scale (the title says so)
            ax.scatter(places["lon"], places["lat"], s=size, c="#cfcfcf", edgecolor="black", linewidth=0.5, zorder=20,
                       gid="places")
        else:
            norm = TwoSlopeNorm(0.0, -lim, lim) if center_zero else None
            sc = ax.scatter(places["lon"], places["lat"], s=size, c=v, cmap=cmap, norm=norm, edgecolor="black",
                            linewidth=0.5, zorder=20, gid="places")
            if fig is not None:
                colorbar(fig, sc, vlabel)
    _size_key(ax, float(pop.max()) if len(pop) else 0.0)
    return [ax.text(lon, lat, name, fontsize=7, zorder=21, ha="left", va="bottom", path_effects=LABEL_HALO)
            for lon, lat, name in zip(places["lon"], places["lat"], _place_names(places), strict=True)]


@functools.lru_cache(maxsize=1)
def _font_chars() -> frozenset:
    """The characters the maps' font can draw."""
    path = font_manager.findfont(font_manager.FontProperties(family=rcParams["font.family"]))
    return frozenset(FT2Font(path).get_charmap())


def drawable(text: str) -> bool:
    """Whether the maps' font has a glyph for every character of ``text`` (else matplotlib
    draws empty boxes: Chinese names with the default fonts)."""
    chars = _font_chars()
    return all(c.isspace() or ord(c) in chars for c in str(text))


def map_name(*candidates) -> str:
    """The first non-empty candidate the maps' font can draw (e.g. the English name, the name,
    the id), else the last non-empty one with the characters it cannot draw left out."""
    texts = [str(c).strip() for c in candidates
             if c is not None and not (isinstance(c, float) and c != c) and str(c).strip() not in ("", "<NA>")]
    for t in texts:
        if drawable(t):
            return t
    return "".join(c for c in texts[-1] if drawable(c)) if texts else ""


def _place_names(places: pd.DataFrame) -> list[str]:
    """The places' names as a map shows them: the name, else its English name (``name_en``),
    else the id."""
    n = len(places)
    cols = [places[c].tolist() if c in places else [""] * n for c in ("name", "name_en", "id")]
    return [map_name(*row) for row in zip(*cols, strict=True)]


def line_ends(tt: Timetable, frame: MapFrame, places: pd.DataFrame | None = None, modes=None) -> list[int]:
    """The stops where a line big enough to see on ``frame`` ends, inside the frame and
    farther than 3 % of its width from every place (whose dot and label name it) and from each
    other (one per cluster), in the order of the patterns."""
    k = max(np.cos(np.radians(frame.lat0)), 0.1)
    width = frame.x1 - frame.x0
    near = _END_SHARE * width * k  # in degrees of latitude
    px, py = _points(places) or (np.zeros(0), np.zeros(0))
    ends: list[int] = []
    for _mode, _op, stops in route_patterns(tt, modes):
        lon, lat = tt.stop_lon[stops], tt.stop_lat[stops]
        if max(np.ptp(lon), np.ptp(lat)) < _VISIBLE_SHARE * width:
            continue
        for s in (int(stops[0]), int(stops[-1])):
            x, y = tt.stop_lon[s], tt.stop_lat[s]
            if not (frame.x0 <= x <= frame.x1 and frame.y0 <= y <= frame.y1):
                continue
            ex = np.array([tt.stop_lon[e] for e in ends])
            ey = np.array([tt.stop_lat[e] for e in ends])
            if any(np.hypot((a - x) * k, b - y).min() < near for a, b in ((px, py), (ex, ey)) if len(a)):
                continue
            ends.append(s)
    return ends


def _draw_line_ends(ax, tt: Timetable, frame: MapFrame, places: pd.DataFrame | None) -> list:
    """A small ring and the stop's name (English where the feed has one) at each end of a
    line that no place names; returns the labels."""
    ends = line_ends(tt, frame, places)
    if not ends:
        return []
    ax.scatter(tt.stop_lon[ends], tt.stop_lat[ends], s=14, facecolor="white", edgecolor="#34495e", linewidth=0.9,
               zorder=19, gid="line_ends")
    return [ax.text(tt.stop_lon[s], tt.stop_lat[s], map_name(tt.stop_names_en[s], tt.stop_names[s],
                                                               str(tt.stop_ids[s]).split(":", 1)[-1]),
                    fontsize=7, fontstyle="italic", color="#2c3e50", zorder=21, ha="left", va="bottom",
                    path_effects=LABEL_HALO)
            for s in ends]


def _points(places: pd.DataFrame | None):
    if places is None or not len(places):
        return None
    return places["lon"].to_numpy(dtype=float), places["lat"].to_numpy(dtype=float)


def _legend(ax, handles) -> None:
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=7.5, framealpha=0.85)


def network_map(tt: Timetable, places: pd.DataFrame | None = None, *, title: str = "Network",
                modes=None, extra_lines=(), frame: MapFrame | None = None) -> bytes:
    """The routes of a timetable (by mode), places sized by population, new lines on top.

    ``extra_lines``: (coords [(lon, lat)...], label) drawn thick in purple. ``frame``: the
    run's extent and context (default: framing this map's stops and places, with context).
    """
    if frame is None:
        lon = [*tt.stop_lon, *(places["lon"] if places is not None else [])]
        lat = [*tt.stop_lat, *(places["lat"] if places is not None else [])]
        frame = map_frame(lon, lat)
    fig, ax = new_map(title, frame)
    handles = _draw_patterns(ax, tt, modes=modes, frame=frame)
    for coords, label in extra_lines:
        c = np.asarray(coords, dtype=float)
        ax.plot(c[:, 0], c[:, 1], color=_NEW, lw=3.5, zorder=15)
        ax.scatter(c[:, 0], c[:, 1], color=_NEW, s=18, zorder=16)
        handles.append(Line2D([], [], color=_NEW, lw=3.5, label=label))
    labels = _draw_places(ax, places) if places is not None and len(places) else []
    labels += _draw_line_ends(ax, tt, frame, places)
    _legend(ax, handles)
    return finish_map(fig, ax, [], [], frame=frame, labels=labels, avoid=_points(places))


def varies(values) -> bool:
    """Whether any value differs from zero by at least 0.05 (else a map of it shows nothing)."""
    v = np.asarray(values, dtype=float)
    return bool(np.isfinite(v).any() and np.nanmax(np.abs(v)) >= _NO_CHANGE_MIN)


def change_title(title: str, values) -> str:
    """The title of a change map, saying so when nothing changes."""
    return title if varies(values) else f"{title}\n(no place changes: every value is 0)"


def place_change_map(tt: Timetable, places: pd.DataFrame, values, *, title: str, label: str,
                     extra_lines=(), cmap: str = "RdYlGn", frame: MapFrame | None = None,
                     changed_routes=(), removed_routes=(), connectors=(), card_operators=()) -> bytes:
    """Places coloured by a change (diverging colours centred on zero), routes in grey, and what
    the change consists of: ``extra_lines`` ((coords, label): new lines, purple),
    ``changed_routes`` / ``removed_routes`` (route ids: orange / dark dashed), ``connectors``
    ((lon0, lat0, lon1, lat1, label): new transfers, marked) and ``card_operators`` (operator
    names: their routes get a yellow halo). When no value differs from zero (by 0.05) the
    title says so and no colour scale is drawn."""
    if frame is None:  # every stop and place, as network_map frames them
        frame = map_frame([*tt.stop_lon, *places["lon"]], [*tt.stop_lat, *places["lat"]])
    v = np.asarray(values if values is not None else np.zeros(len(places)), dtype=float)
    fig, ax = new_map(change_title(title, v), frame)
    _draw_patterns(ax, tt, color="#b0b0b0", label_modes=False)
    handles = []
    if card_operators:
        ops = set(card_operators)
        for _mode, op, stops in route_patterns(tt):
            if op in ops:
                ax.plot(tt.stop_lon[stops], tt.stop_lat[stops], color=_CARD, lw=5, alpha=0.55, zorder=2,
                        solid_capstyle="round")
        handles.append(Line2D([], [], color=_CARD, lw=5, alpha=0.55,
                              label=f"routes on the fare card ({len(ops)} operators)"))
    for ids, color, style, what in ((changed_routes, _CHANGED, "-", "frequency changed"),
                                    (removed_routes, _REMOVED, "--", "removed")):
        if not ids:
            continue
        for _mode, _op, stops in route_patterns(tt, routes=set(ids)):
            ax.plot(tt.stop_lon[stops], tt.stop_lat[stops], color=color, lw=3, ls=style, zorder=14)
        handles.append(Line2D([], [], color=color, lw=3, ls=style, label=f"{what}: {', '.join(ids)}"))
    for coords, name in extra_lines:
        c = np.asarray(coords, dtype=float)
        ax.plot(c[:, 0], c[:, 1], color=_NEW, lw=3.0, zorder=15)
        handles.append(Line2D([], [], color=_NEW, lw=3.0, label=name))
    for lon0, lat0, lon1, lat1, name in connectors:
        ax.plot([lon0, lon1], [lat0, lat1], color=_CONNECTOR, lw=2, zorder=22)
        ax.scatter([lon0, lon1], [lat0, lat1], marker="*", s=160, color=_CONNECTOR, edgecolor="white",
                   linewidth=0.6, zorder=22)
        handles.append(Line2D([], [], lw=0, marker="*", markersize=11, color=_CONNECTOR, label=name))
    labels = _draw_places(ax, places, v, cmap=cmap, vlabel=label, fig=fig, center_zero=True)
    labels += _draw_line_ends(ax, tt, frame, places)
    _legend(ax, handles)
    return finish_map(fig, ax, [], [], frame=frame, labels=labels, avoid=_points(places))
