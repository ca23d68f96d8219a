"""Static maps (PNG) of networks, places and changes, with matplotlib (no pyplot state).

Maps are drawn in longitude/latitude with the aspect ratio of a local equirectangular
projection (1 / cos(latitude)), with a scale bar, a north arrow-free frame and a legend;
no web tiles (nothing is downloaded). Every function returns PNG bytes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from planner.ingest.gtfs.modes import MODES

if TYPE_CHECKING:
    import pandas as pd

    from planner.network.timetable import Timetable

__all__ = ["finish_map", "network_map", "new_map", "place_change_map"]

_MODE_STYLE = {  # colour, line width, z-order
    "high_speed_rail": ("#c0392b", 2.4, 5), "intercity_rail": ("#d35400", 2.0, 4), "rail": ("#7f8c8d", 1.6, 3),
    "metro": ("#2980b9", 1.6, 4), "tram": ("#27ae60", 1.0, 3), "bus": ("#bdc3c7", 0.5, 1),
    "coach": ("#95a5a6", 0.8, 2), "ferry": ("#16a085", 1.0, 2),
}


def new_map(title: str):
    """A map's (figure, axes): a bare Figure that renders through its own Agg canvas (no
    pyplot, no global backend change)."""
    fig = Figure(figsize=(9, 7.5), dpi=110)
    ax = fig.add_subplot(111)
    ax.set_title(title, fontsize=11)
    return fig, ax


def finish_map(fig, ax, lon, lat) -> bytes:
    """Frame the map on the points ``lon``/``lat`` (kept between 2:1 and 1:2), add the scale
    bar and return the PNG."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if ok.any():
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
        ax.set_xlim(x0 - padx, x1 + padx)
        ax.set_ylim(y0 - pady, y1 + pady)
        ax.set_aspect(1.0 / max(np.cos(np.radians(lat0)), 0.1))
        _scale_bar(ax, lat0)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.grid(alpha=0.2)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


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


def _draw_patterns(ax, tt: Timetable, modes=None, color=None, lw_scale=1.0, label_modes=True) -> set[str]:
    seen = set()
    names = np.asarray(MODES, dtype=object)[tt.pattern_mode]
    drawn = set()
    for p in range(tt.n_patterns):
        mode = str(names[p])
        if modes is not None and mode not in modes:
            continue
        stops = tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]
        key = (mode, tuple(sorted(zip(stops[:-1].tolist(), stops[1:].tolist(), strict=True))))
        if key in drawn:
            continue
        drawn.add(key)
        c, lw, z = _MODE_STYLE.get(mode, ("#888888", 0.8, 2))
        ax.plot(tt.stop_lon[stops], tt.stop_lat[stops], color=color or c, lw=lw * lw_scale, zorder=z, alpha=0.9,
                label=mode.replace("_", " ") if (label_modes and mode not in seen) else None)
        seen.add(mode)
    return seen


def _draw_places(ax, places: pd.DataFrame, values=None, cmap="RdYlGn", vlabel: str = "", fig=None,
                 center_zero=False) -> None:
    pop = places["population"].to_numpy(dtype=float)
    size = 20 + 280 * np.sqrt(pop / max(pop.max(), 1.0))
    if values is None:
        ax.scatter(places["lon"], places["lat"], s=size, c="#34495e", edgecolor="white", zorder=20, alpha=0.9)
    else:
        v = np.asarray(values, dtype=float)
        lim = np.nanmax(np.abs(v)) if center_zero and np.isfinite(v).any() else None
        # a scenario that changes nothing still gets a readable scale (-1, 0, +1), not +0 six times
        kw = {"vmin": -max(lim, 1.0), "vmax": max(lim, 1.0)} if lim is not None else {}
        sc = ax.scatter(places["lon"], places["lat"], s=size, c=v, cmap=cmap, edgecolor="black", linewidth=0.5,
                        zorder=20, **kw)
        if fig is not None:
            big = np.nanmax(np.abs(v)) >= 1e5 if np.isfinite(v).any() else False
            fmt = FuncFormatter(lambda x, _pos: f"{x / 1e6:+.1f} M" if big else f"{x:+,.0f}")
            cb = fig.colorbar(sc, ax=ax, shrink=0.7, format=fmt, ticks=MaxNLocator(integer=True))
            cb.set_label(vlabel)
    name_col = "name" if "name" in places else "id"
    for lon, lat, name in zip(places["lon"], places["lat"], places[name_col], strict=True):
        ax.annotate(str(name), (lon, lat), xytext=(4, 4), textcoords="offset points", fontsize=7, zorder=21)


def network_map(tt: Timetable, places: pd.DataFrame | None = None, *, title: str = "Network",
                modes=None, extra_lines=()) -> bytes:
    """The routes of a timetable (by mode), places sized by population, new lines on top.

    ``extra_lines``: (coords [(lon, lat)...], label) drawn thick in magenta.
    """
    fig, ax = new_map(title)
    _draw_patterns(ax, tt, modes=modes)
    lon = list(tt.stop_lon)
    lat = list(tt.stop_lat)
    for coords, label in extra_lines:
        c = np.asarray(coords, dtype=float)
        ax.plot(c[:, 0], c[:, 1], color="#8e44ad", lw=3.5, zorder=15, label=label)
        ax.scatter(c[:, 0], c[:, 1], color="#8e44ad", s=18, zorder=16)
        lon += list(c[:, 0])
        lat += list(c[:, 1])
    if places is not None and len(places):
        _draw_places(ax, places)
        lon += list(places["lon"])
        lat += list(places["lat"])
    ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    return finish_map(fig, ax, lon, lat)


def place_change_map(tt: Timetable, places: pd.DataFrame, values, *, title: str, label: str,
                     extra_lines=(), cmap: str = "RdYlGn") -> bytes:
    """Places coloured by a change (diverging colours centred on zero), routes in grey."""
    fig, ax = new_map(title)
    _draw_patterns(ax, tt, color="#cccccc", label_modes=False)
    lon = list(places["lon"])
    lat = list(places["lat"])
    for coords, name in extra_lines:
        c = np.asarray(coords, dtype=float)
        ax.plot(c[:, 0], c[:, 1], color="#8e44ad", lw=3.0, zorder=15, label=name)
        lon += list(c[:, 0])
        lat += list(c[:, 1])
    _draw_places(ax, places, values, cmap=cmap, vlabel=label, fig=fig, center_zero=True)
    if extra_lines:
        ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    return finish_map(fig, ax, lon, lat)
