"""Outputs of the transfer analysis: CSV, GeoPackage, PNG maps, HTML, scenario YAML.

Files (all written through one :class:`~planner.common.atomic.OutputStage`, so a failed run
leaves nothing half-written):

* ``transfers.csv``: the ranked pair table (columns in :mod:`planner.analyses.transfers.analysis`);
* ``transfer_suggestions.csv``: one row per failing pair with a suggested entrance;
* ``transfers.gpkg`` (EPSG:4326), layers ``stations`` (points), ``access_points``
  (points), ``walk_paths`` (one LineString per pair, platform to platform along the
  street network), ``suggestions`` (points) and ``connectors`` (LineString: the new
  passage and the walk it opens);
* ``transfer_map_NN_<station>.png``: the station areas with the most minutes lost / the
  worst transfers (streets, walking paths coloured by class, suggested entrances, legend,
  scale bar);
* ``transfers.html``: a self-contained report page (the same section
  :meth:`TransferResult.report_section` adds to a larger report);
* ``transfer_standard.yaml``: the standard and delay model used.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from matplotlib import font_manager
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from shapely.geometry import LineString, Point

from planner.analyses.transfers.standard import standard_yaml
from planner.common.atomic import OutputStage, write_bytes, write_text
from planner.errors import ConfigError
from planner.ingest.gtfs.consolidation import normalise_name
from planner.outputs.context import OSM_LAYERS, clip_context, draw_context, load_osm_context
from planner.outputs.maps import spread_labels
from planner.outputs.report import PERCENT, Report, settings_section

if TYPE_CHECKING:
    from pathlib import Path

    from planner.analyses.transfers.analysis import TransferResult

__all__ = ["report_section", "scenario_yaml", "transfer_maps", "write_outputs"]

CLASS_COLOUR = {"good": "#1a9850", "acceptable": "#91cf60", "poor": "#fc8d59", "very_poor": "#d73027",
                "no_path": "#7f7f7f"}
MODE_COLOUR = {"high_speed_rail": "#c0392b", "intercity_rail": "#d35400", "rail": "#7f8c8d", "metro": "#2980b9",
               "monorail": "#2980b9", "tram": "#27ae60", "bus": "#8e44ad", "trolleybus": "#8e44ad",
               "coach": "#95a5a6", "ferry": "#16a085"}
_HALO = [withStroke(linewidth=2.2, foreground="white", alpha=0.85)]
TERMINAL_COLUMNS = ["rank", "from", "to", "walk_m", "walk_min", "detour_ratio", "forced_min", "miss_risk", "class",
                    "journeys", "traveller_min_lost", "saved_min"]
#: the pairs listed apart ("check the map data", issue 19)
CHECK_COLUMNS = ["pair", "from", "to", "walk_m", "detour_ratio", "what is missing"]


# ---------------------------------------------------------------------- labels

_FONT = None


def _renderable(text: str) -> bool:
    """True when the default font has a glyph for every character (no CJK font is bundled)."""
    global _FONT
    if _FONT is None:
        _FONT = FT2Font(font_manager.findfont("DejaVu Sans"))
    return all(ch.isspace() or _FONT.get_char_index(ord(ch)) != 0 for ch in text)


def station_labels(result: TransferResult) -> dict[str, str]:
    """A label per station id that the map font can draw: the name, else the English OSM
    name of a station with the same normalised name, else the station id."""
    english = result.english_names
    out = {}
    for sid, name, mode in zip(result.stations["station"], result.stations["name"], result.stations["mode"],
                               strict=True):
        if _renderable(str(name)):
            out[sid] = str(name)
        else:
            key = normalise_name(str(name))
            family = "subway" if mode in {"metro", "monorail"} else "rail"
            en = english.get((key, family)) or english.get((key, ""))
            out[sid] = en if en and _renderable(en) else str(sid).split(":", 1)[-1]
    return out


def _slug(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    return s[:40] or "station"


# ---------------------------------------------------------------------- tables

def terminal_rows(result: TransferResult, top: int = 20) -> list[dict]:
    """The first ``top`` ranked rows whose walk is trusted (not "check the map data") as dicts
    for :func:`planner.cli._table.render`."""
    labels = station_labels(result)
    rows = []
    trusted = result.pairs[~result.pairs["data_check"].astype(bool)]
    for r in trusted.head(top).itertuples(index=False):
        rows.append({
            "rank": int(r.rank), "from": f"{labels.get(r.from_station, r.from_name)} ({r.from_mode})",
            "to": f"{labels.get(r.to_station, r.to_name)} ({r.to_mode})",
            "walk_m": _num(r.walk_m, 0), "walk_min": _num(r.walk_min, 1), "detour_ratio": _num(r.detour_ratio, 2),
            "forced_min": _num(r.forced_min, 1), "miss_risk": _num(r.miss_risk, 2), "class": r[_col(result, "class")],
            "journeys": _num(r.journeys, 1), "traveller_min_lost": _num(r.traveller_min_lost, 1),
            "saved_min": _num(r.saved_min, 1),
        })
    return rows


def check_rows(result: TransferResult) -> list[dict]:
    """One row per unordered pair listed apart ("check the map data"), for the terminal."""
    labels = station_labels(result)
    p = result.pairs[result.pairs["data_check"].astype(bool)].drop_duplicates("pair_id")
    return [{"pair": r.pair_id, "from": f"{labels.get(r.from_station, r.from_name)} ({r.from_mode})",
             "to": f"{labels.get(r.to_station, r.to_name)} ({r.to_mode})", "walk_m": _num(r.walk_m, 0),
             "detour_ratio": _num(r.detour_ratio, 2), "what is missing": r.data_issues}
            for r in p.itertuples(index=False)]


def _col(result: TransferResult, name: str) -> int:
    return list(result.pairs.columns).index(name)


def _num(v, digits: int):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return round(float(v), digits) if digits else round(float(v))


# ---------------------------------------------------------------------- layers

def _layers(result: TransferResult) -> dict:
    crs = "EPSG:4326"
    st = result.stations
    stations = gpd.GeoDataFrame(st.copy(), geometry=[Point(x, y) for x, y in zip(st["lon"], st["lat"], strict=True)],
                                crs=crs)
    ap = result.access_points
    access = gpd.GeoDataFrame(ap.copy(), geometry=[Point(x, y) for x, y in zip(ap["lon"], ap["lat"], strict=True)],
                              crs=crs)
    und = result.pairs.sort_values(["pair_id", "rank"]).drop_duplicates("pair_id").set_index("pair_id")
    journeys = result.pairs.groupby("pair_id")["journeys"].sum()
    rows, geoms = [], []
    for i, w in enumerate(result.walks):
        pid = f"T{i + 1:04d}"
        if pid not in und.index or len(w.coords) < 2:
            continue
        r = und.loc[pid]
        rows.append({"pair_id": pid, "from_station": r["from_station"], "from_name": r["from_name"],
                     "to_station": r["to_station"], "to_name": r["to_name"], "walk_m": r["walk_m"],
                     "walk_min": r["walk_min"], "straight_m": r["straight_m"], "detour_ratio": r["detour_ratio"],
                     "walk_method": r["walk_method"], "class": r["class"], "journeys": float(journeys.get(pid, 0.0)),
                     "data_check": bool(r["data_check"]), "data_issues": str(r["data_issues"])})
        geoms.append(LineString(w.coords))
    paths = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["pair_id", "from_station", "from_name", "to_station",
                                                         "to_name", "walk_m", "walk_min", "straight_m", "detour_ratio",
                                                         "walk_method", "class", "journeys", "data_check",
                                                         "data_issues"]),
                             geometry=geoms, crs=crs)
    sg = result.suggestions
    sugg = gpd.GeoDataFrame(sg.copy(), geometry=[Point(x, y) for x, y in zip(sg["lon"], sg["lat"], strict=True)],
                            crs=crs)
    crow, cgeom = [], []
    for pid, c in sorted(result.connectors.items()):
        i = int(pid[1:]) - 1
        if i in c.coords and len(c.coords[i]) >= 2:
            crow.append({"pair_id": pid, "station": str(result.units.ids[c.side]), "connector_m": c.connector_m,
                         "new_walk_m": c.new_walk_m[i], "new_walk_min": c.new_walk_s[i] / 60.0})
            cgeom.append(LineString(c.coords[i]))
    conns = gpd.GeoDataFrame(pd.DataFrame(crow, columns=["pair_id", "station", "connector_m", "new_walk_m",
                                                         "new_walk_min"]), geometry=cgeom, crs=crs)
    return {"stations": (stations, "Point"), "access_points": (access, "Point"), "walk_paths": (paths, "LineString"),
            "suggestions": (sugg, "Point"), "connectors": (conns, "LineString")}


# ---------------------------------------------------------------------- maps

def _focal_stations(result: TransferResult, n: int) -> list[str]:
    """Stations to map: most traveller-minutes lost, then most failing pairs, then most pairs."""
    p = result.pairs
    score: dict[str, list[float]] = {}
    for r in p.itertuples(index=False):
        lost = 0.0 if not math.isfinite(r.traveller_min_lost) else float(r.traveller_min_lost)
        for sid in (r.from_station, r.to_station):
            s = score.setdefault(sid, [0.0, 0.0, 0.0])
            s[0] += lost
            s[1] += 0.5 * float(r.fails)
            s[2] += 0.5
    ranked = sorted(score, key=lambda k: (-score[k][0], -score[k][1], -score[k][2], k))
    return ranked[:n]


def transfer_maps(result: TransferResult, n: int = 6) -> list[tuple[str, str, bytes]]:
    """PNG maps of the ``n`` most important station areas: (file name, caption, bytes), on the
    buildings and water of the OSM extract the walk network was built from (read once)."""
    labels = station_labels(result)
    walk = result.net.walk
    focal = _focal_stations(result, n)
    osm = None
    if walk is not None and focal:  # the extract's features near the mapped stations (walks reach about 3 km)
        st = result.stations.set_index("station").loc[focal]
        box = (st["lon"].min() - 0.05, st["lat"].min() - 0.05, st["lon"].max() + 0.05, st["lat"].max() + 0.05)
        osm = load_osm_context(walk.meta.get("source_path"), box, buildings=True)
    out = []
    for k, sid in enumerate(focal):
        png, caption = _area_map(result, sid, labels, osm)
        out.append((f"transfer_map_{k + 1:02d}_{_slug(labels.get(sid, sid))}.png", caption, png))
    return out


def _area_map(result: TransferResult, sid: str, labels: dict[str, str], osm=None) -> tuple[bytes, str]:
    p = result.pairs
    mine = p[(p["from_station"] == sid) | (p["to_station"] == sid)].drop_duplicates("pair_id")
    st = result.stations.set_index("station")
    ids = sorted(set(mine["from_station"]) | set(mine["to_station"]) | {sid})
    xs, ys = list(st.loc[ids, "lon"]), list(st.loc[ids, "lat"])
    paths = {pid: result.walks[int(pid[1:]) - 1] for pid in mine["pair_id"]}
    for w in paths.values():
        xs += [c[0] for c in w.coords]
        ys += [c[1] for c in w.coords]
    conns = _top_connectors(result, mine, 3)
    for c in conns.values():
        for line in c.coords.values():
            xs += [q[0] for q in line]
            ys += [q[1] for q in line]
    lat0 = float(np.mean(ys))
    k = max(math.cos(math.radians(lat0)), 0.1)
    pad = 120.0 / 111_195.0  # 120 m
    x0, x1 = min(xs) - pad / k, max(xs) + pad / k
    y0, y1 = min(ys) - pad, max(ys) + pad
    fig = Figure(figsize=(10, 7.5), dpi=110)
    ax = fig.add_subplot(111)
    context = clip_context(osm, (x0, y0, x1, y1))
    if context:  # a district boundary says nothing about a station area
        context.layers.pop("boundaries", None)
    draw_context(ax, context)  # buildings and water under the streets, with the OSM credit line
    walk = result.net.walk
    if walk is not None:
        tails = walk.edge_tails()
        heads = walk.indices
        inside = ((walk.lon[tails] >= x0) & (walk.lon[tails] <= x1) & (walk.lat[tails] >= y0) & (walk.lat[tails] <= y1))
        inside &= ~_area_edges(walk)  # not the visibility edges across squares and halls (issue 19)
        segs = np.stack([np.column_stack([walk.lon[tails[inside]], walk.lat[tails[inside]]]),
                         np.column_stack([walk.lon[heads[inside]], walk.lat[heads[inside]]])], axis=1)
        ax.add_collection(LineCollection(segs, colors="#d0d0d0", linewidths=0.6, zorder=1))
    handles = []
    texts = []  # station names and walk lengths, spread apart once the frame is set
    for r in mine.itertuples(index=False):
        w = paths[r.pair_id]
        if len(w.coords) < 2:
            continue
        c = np.asarray(w.coords)
        style = ":" if r.data_check else ("--" if r.walk_method != "street" else "-")
        ax.plot(c[:, 0], c[:, 1], style, color=CLASS_COLOUR[r[_col(result, "class")]], lw=2.2, zorder=4,
                solid_capstyle="round")
        mid = c[len(c) // 2]
        texts.append(ax.text(mid[0], mid[1], f"{r.walk_m:,.0f} m" if math.isfinite(r.walk_m) else "no path",
                             fontsize=7, zorder=9, color="#333333", path_effects=_HALO))
    for cls, colour in CLASS_COLOUR.items():
        if (mine["class"] == cls).any():
            handles.append(Line2D([], [], color=colour, lw=2.2, label=f"walk: {cls.replace('_', ' ')}"))
    handles += _data_check_layer(ax, result, mine, (x0, y0, x1, y1))
    for pid, c in conns.items():
        i = int(pid[1:]) - 1
        line = np.asarray(c.coords.get(i, []))
        if len(line) >= 2:
            ax.plot(line[:, 0], line[:, 1], ":", color="#e31a1c", lw=1.8, zorder=5)
        ax.plot([c.lon], [c.lat], marker="*", ms=15, color="#e31a1c", mec="black", mew=0.6, zorder=8)
    if conns:
        handles.append(Line2D([], [], color="#e31a1c", ls=":", marker="*", ms=11, mec="black", mew=0.6,
                              label="suggested entrance / connector"))
    if walk is not None:
        handles.append(Line2D([], [], color="#d0d0d0", lw=1.2, label="streets and paths (walk network)"))
    for layer in ("buildings", "water"):
        if context and layer in context.layers:
            handles.append(Patch(facecolor=OSM_LAYERS[layer][1], edgecolor=OSM_LAYERS[layer][2], label=layer))
    ap = result.access_points
    ap = ap[ap["station"].isin(ids) & (ap["kind"] != "stop")]
    if len(ap):
        ax.scatter(ap["lon"], ap["lat"], s=10, c="black", marker="s", zorder=6)
        handles.append(Line2D([], [], color="black", marker="s", ms=4, ls="", label="entrance"))
    seen_modes = set()
    names = [labels.get(s, s) for s in ids]
    for s in ids:
        mode = str(st.loc[s, "mode"])
        colour = MODE_COLOUR.get(mode, "#555555")
        ax.plot([st.loc[s, "lon"]], [st.loc[s, "lat"]], "o", ms=10 if s == sid else 7, color=colour, mec="white",
                mew=1.2, zorder=7)
        text = labels.get(s, s)
        if names.count(text) > 1:  # one name for two stations: say which is which
            text = f"{text} ({mode.replace('_', ' ')})"
        texts.append(ax.text(st.loc[s, "lon"], st.loc[s, "lat"], text, fontsize=8, zorder=10,
                             weight="bold" if s == sid else "normal", path_effects=_HALO))
        if mode not in seen_modes:
            seen_modes.add(mode)
            handles.append(Line2D([], [], color=colour, marker="o", ls="", ms=7, label=mode.replace("_", " ")))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / k)
    spread_labels(fig, ax, texts, (st.loc[ids, "lon"].to_numpy(float), st.loc[ids, "lat"].to_numpy(float)))
    _scale_bar(ax, lat0)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.tick_params(labelsize=7)
    n_fail = int(mine["fails"].sum())
    title = f"{labels.get(sid, sid)} ({st.loc[sid, 'mode'].replace('_', ' ')}): {len(mine)} transfer pairs, {n_fail} failing"
    ax.set_title(title, fontsize=10)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, framealpha=0.85,
              borderaxespad=0.0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue(), title


def _area_edges(walk) -> np.ndarray:
    """Per edge: True for the edges across or along walkable areas (classes ``area:*``)."""
    area = np.array([str(c).startswith("area:") for c in walk.highway_classes], bool)
    return area[walk.highway] if area.any() else np.zeros(walk.n_edges, bool)


def _data_check_layer(ax, result: TransferResult, mine: pd.DataFrame, box) -> list:
    """Issue 19 on the map: walks listed apart (dotted) and the station halls and platforms in
    view that are linked to no walkable way (crosses); returns the legend handles."""
    handles = []
    if mine["data_check"].astype(bool).any():
        handles.append(Line2D([], [], color="#555555", lw=2.2, ls=":", label="walk: check the map data"))
    walk = result.net.walk
    rows = walk.meta.get("walk_areas", []) if walk is not None else []
    x0, y0, x1, y1 = box
    lost = [r for r in rows if not r["linked"] and (r["kind"] != "station_hall" or r.get("rail"))
            and r["kind"] != "pedestrian" and x0 <= r["lon"] <= x1 and y0 <= r["lat"] <= y1]
    if lost:
        ax.scatter([r["lon"] for r in lost], [r["lat"] for r in lost], s=36, marker="x", c="#b35806", zorder=6,
                   linewidths=1.4)
        handles.append(Line2D([], [], color="#b35806", marker="x", ls="", ms=6, mew=1.4,
                              label="station hall / platform linked to no walkable way"))
    return handles


def _top_connectors(result: TransferResult, mine: pd.DataFrame, n: int) -> dict:
    """The ``n`` best distinct suggested entrances among the pairs ``mine``."""
    sg = result.suggestions[result.suggestions["pair_id"].isin(set(mine["pair_id"]))]
    sg = sg.sort_values(["saved_traveller_min", "saved_min", "pair_id"], ascending=[False, False, True])
    out, seen = {}, set()
    for pid in sg["pair_id"]:
        c = result.connectors[pid]
        if (c.side, c.node) in seen:
            continue
        seen.add((c.side, c.node))
        out[pid] = c
        if len(out) >= n:
            break
    return out


def _scale_bar(ax, lat0: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_m = (x1 - x0) * 111_195.0 * math.cos(math.radians(lat0))
    nice = [50, 100, 200, 250, 500, 1000, 2000, 5000]
    length = max([v for v in nice if v <= width_m / 4] or [nice[0]])
    deg = length / (111_195.0 * math.cos(math.radians(lat0)))
    xs, ys = x0 + (x1 - x0) * 0.05, y0 + (y1 - y0) * 0.05
    ax.plot([xs, xs + deg], [ys, ys], color="black", lw=2.5, zorder=10)
    ax.text(xs + deg / 2, ys + (y1 - y0) * 0.012, f"{length:g} m", ha="center", va="bottom", fontsize=8, zorder=10)


# ---------------------------------------------------------------------- report / files

#: the report's tables: column -> (heading, format, meaning); transfers.csv and
#: transfer_suggestions.csv keep every column under its own name
_PAIR_COLUMNS = {
    "rank": ("rank", None, "1 = most traveller-minutes lost, then the worst class"),
    "from": ("from (mode)", None, "the station a traveller arrives at, and its mode"),
    "to": ("to (mode)", None, "the station a traveller changes to, and its mode"),
    "walk_m": ("walk (m)", "{:,.0f}", "walk platform to platform on the street network"),
    "walk_min": ("walk (min)", "{:,.1f}", "the walk's time"),
    "detour_ratio": ("detour (x straight line)", "{:,.2f}", "the walk over the straight line between the stations"),
    "forced_min": ("connection time (min)", "{:,.0f}", "what the timetable forces: walk and change time (or the "
                   "transfers.txt minimum) plus the typical wait"),
    "miss_risk": ("risk of missing it", PERCENT, "mean probability of missing the planned connection (delay model)"),
    "class": ("class", None, "class of the walk under the standard: good, acceptable, poor, very poor"),
    "journeys": ("journeys", "{:,.1f}", "weighted journeys through this direction"),
    "traveller_min_lost": ("traveller-minutes lost", "{:,.0f}", "journeys x walk time beyond the acceptable walk"),
    "saved_min": ("saved by the new entrance (min)", "{:,.1f}", "per traveller on this pair, with the suggested "
                  "entrance"),
}
_CSV_NAMES = {"from": "from_name, from_mode", "to": "to_name, to_mode"}
#: headings of the "check the map data" table (columns of transfers.csv)
_CHECK_LABELS = {"pair_id": "pair", "from": "from (mode)", "to": "to (mode)", "walk_m": "walk (m)", "straight_m": "straight line (m)", "detour_ratio": "detour (x straight line)",
                 "data_issues": "what the map data lacks"}
_SUGGESTION_COLUMNS = {
    "pair_id": ("pair", None, "the transfer pair (pair_id in transfers.csv)"),
    "station_name": ("station that gets it", None, "the station that gets the new entrance"),
    "connector_m": ("new passage (m)", "{:,.0f}", "length of the new passage, platform to street"),
    "pairs_improved": ("pairs improved", "{:,.0f}", "transfer pairs of the station whose walk gets shorter"),
    "walk_m": ("walk now (m)", "{:,.0f}", "the pair's walk today"),
    "new_walk_m": ("walk with it (m)", "{:,.0f}", "the pair's walk with the new entrance"),
    "new_walk_min": ("walk with it (min)", "{:,.1f}", "the same in minutes"),
    "saved_min": ("saved per traveller (min)", "{:,.1f}", "minutes saved per traveller on the pair"),
    "saved_traveller_min": ("traveller-minutes saved", "{:,.0f}", "use-weighted minutes saved over all pairs of "
                            "the station"),
}


def _table_args(columns: dict) -> dict:
    return {"labels": {c: v[0] for c, v in columns.items()},
            "formats": {c: v[1] for c, v in columns.items() if v[1] is not None}}


def _pair_table(result: TransferResult, top: int, keep: pd.Series | None = None) -> pd.DataFrame:
    """The ranked pairs as the report shows them (``keep``: a mask of the rows to show): a
    station's map name with its mode."""
    labels = station_labels(result)
    p = (result.pairs if keep is None else result.pairs[keep]).head(top)
    out = p[[c for c in _PAIR_COLUMNS if c in p]].copy()
    for side in ("from", "to"):
        out.insert(list(_PAIR_COLUMNS).index(side), side,
                   [f"{labels.get(s, n)} ({str(m).replace('_', ' ')})"
                    for s, n, m in zip(p[f"{side}_station"], p[f"{side}_name"], p[f"{side}_mode"], strict=True)])
    out["class"] = out["class"].astype(str).str.replace("_", " ")
    return out


def report_section(result: TransferResult, report, *, maps: int = 3, images: list | None = None):
    """Add the transfer analysis as a section of ``report`` (a :class:`planner.outputs.report.Report`)."""
    s = result.summary()
    std = result.standard
    sec = report.section("Transfers between stations")
    sec.text(f"{s['pairs']} candidate transfer pairs between {s['stations']} stations: "
             + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in s["by_class"].items() if v)
             + f". {s['failing']} fail the standard (walk over {std.acceptable_max_m:g} m); "
             + (f"{s['data_checks']} are listed apart (check the map data); " if s["data_checks"] else "")
             + f"{s['detour_flags']} have a walk at least {std.detour_ratio_flag:g} times the straight line. "
             f"{s['journeys_routed']:.0f} routed journeys ({result.params['od']}); "
             f"{s['traveller_min_lost']:.0f} traveller-minutes lost against the standard"
             + (" (pairs listed apart not counted)." if s["data_checks"] else "."))
    sec.text(f"Standard: good up to {std.good_max_m:g} m, acceptable up to {std.acceptable_max_m:g} m, poor up to "
             f"{std.poor_max_m:g} m of walk (the standard and its sources are in transfer_standard.yaml). Delays: "
             "exponential with an assumed mean per mode.", note=True)
    apart = result.pairs["data_check"].astype(bool)
    sec.table(_pair_table(result, 30, keep=~apart), caption="Transfers, ranked (one row per direction; "
              "transfers.csv has every column)", **_table_args(_PAIR_COLUMNS))
    if apart.any():
        und = result.pairs[apart].drop_duplicates("pair_id")
        sec.text(f"Check the map data: {len(und)} pair(s) have a walk that is likely an artefact of the map "
                 "(a long detour, a station hall or platforms linked to no walkable way, an entrance no way "
                 "reaches). They are not ranked among the findings above"
                 + ("; their walks were trusted (--trust-walks), so they may have a suggested connector."
                    if result.params.get("trust_walks") else " and get no suggested connector."))
        names = station_labels(result)  # the map names of the ranked table, not the feed's (CJK) stop names
        sides = {side: [f"{names.get(s, n)} ({str(m).replace('_', ' ')})" for s, n, m in
                        zip(und[f"{side}_station"], und[f"{side}_name"], und[f"{side}_mode"], strict=True)]
                 for side in ("from", "to")}
        sides["class"] = und["class"].astype(str).str.replace("_", " ")
        # what the map data lacks names the stations too: by their map names here as well
        sides["data_issues"] = [_renamed(str(t), {fn: names.get(fs, fn), tn: names.get(ts, tn)})
                                for t, fs, fn, ts, tn in zip(und["data_issues"], und["from_station"], und["from_name"],
                                                             und["to_station"], und["to_name"], strict=True)]
        sec.table(und.assign(**sides)[["pair_id", "from", "to", "walk_m", "straight_m", "detour_ratio", "class",
                                       "data_issues"]],
                  caption="Check the map data (one row per pair)", labels=_CHECK_LABELS,
                  formats={"walk_m": "{:,.0f}", "straight_m": "{:,.0f}", "detour_ratio": "{:,.2f}"})
    if len(result.suggestions):
        labels = station_labels(result)
        sg = result.suggestions.head(20).copy()
        sg["station_name"] = [labels.get(st, n) for st, n in zip(sg["station"], sg["station_name"], strict=True)]
        sec.table(sg[[c for c in _SUGGESTION_COLUMNS if c in sg]], caption="Suggested entrances / connectors "
                  "(transfer_suggestions.csv has their coordinates)", **_table_args(_SUGGESTION_COLUMNS))
    for _name, caption, png in (images if images is not None else transfer_maps(result, maps)):
        sec.image(png, caption)
    gl = report.section("Glossary: the tables' headings and the columns of transfers.csv and "
                        "transfer_suggestions.csv")
    gl.table(pd.DataFrame([{"heading in this report": head, "file": file, "column": _CSV_NAMES.get(col, col),
                            "meaning": meaning}
                           for file, cols in (("transfers.csv", _PAIR_COLUMNS),
                                              ("transfer_suggestions.csv", _SUGGESTION_COLUMNS))
                           for col, (head, _f, meaning) in cols.items()]), max_rows=500)
    return sec


def write_outputs(result: TransferResult, out_dir: Path, *, overwrite: bool = False, maps: int = 6,
                  settings: dict | None = None) -> list[Path]:
    images = transfer_maps(result, maps)
    with OutputStage(out_dir, overwrite=overwrite) as stage:
        write_text(stage.path("transfers.csv"), result.pairs.to_csv(index=False, float_format="%.3f", lineterminator="\n"))
        write_text(stage.path("transfer_suggestions.csv"),
                   result.suggestions.to_csv(index=False, float_format="%.6f", lineterminator="\n"))
        write_text(stage.path("transfer_standard.yaml"), standard_yaml(result.standard, result.delay))
        gpkg = stage.path("transfers.gpkg")
        for layer, (gdf, geom_type) in _layers(result).items():
            gdf.to_file(gpkg, layer=layer, driver="GPKG", geometry_type=geom_type)
        for name, _caption, png in images:
            write_bytes(stage.path(name), png)
        rep = Report("Transfers between stations", meta={"service date": result.params["service_date"]})
        report_section(result, rep, images=images)
        if settings is not None:
            settings_section(rep, settings)
        write_text(stage.path("transfers.html"), rep.html())
    written = stage.written
    # maps of an earlier run (other station areas) would pass for this run's: remove them
    keep = {p.name for p in written}
    for old in out_dir.glob("transfer_map_*.png"):
        if old.name not in keep and overwrite:
            old.unlink(missing_ok=True)
    return written


def scenario_yaml(result: TransferResult, *, pair_ids=None, top: int = 1, name: str | None = None) -> str:
    """The ``add_transfer`` scenario of the chosen connectors (see
    :func:`planner.analyses.transfers.analysis.write_connector_scenario`)."""
    sg = result.suggestions
    if pair_ids is None:
        order = sg.sort_values(["saved_traveller_min", "saved_min", "pair_id"], ascending=[False, False, True])
        chosen, seen = [], set()
        for r in order.itertuples(index=False):
            c = result.connectors[r.pair_id]
            if (c.side, c.node) in seen:
                continue
            seen.add((c.side, c.node))
            chosen.append(r.pair_id)
            if len(chosen) >= top:
                break
    else:
        chosen = [str(p) for p in pair_ids]
        missing = [p for p in chosen if p not in result.connectors]
        if missing:
            msg = f"no suggested connector for pair(s) {', '.join(missing)}"
            raise ConfigError(msg, code="no_suggestion", hint="see transfer_suggestions.csv for the pairs that have one")
    if not chosen:
        msg = "no transfer fails the standard with a connector that helps; no scenario written"
        raise ConfigError(msg, code="no_suggestion", hint="lower the thresholds with --standard, or widen --radius")
    net, st = result.net, result.units
    tt = net.timetable
    fp = net.footpaths
    changes, described = [], []
    for pid in chosen:
        c = result.connectors[pid]
        a_col, b_col = _pair_units(result)
        for k in sorted(c.new_walk_s):
            u, v = int(a_col[k]), int(b_col[k])
            secs = math.ceil(c.new_walk_s[k] - 1e-9)
            for sa in st.stops(u):
                for sb in st.stops(v):
                    if min(_footpath_s(fp, int(sa), int(sb)), _footpath_s(fp, int(sb), int(sa))) <= secs:
                        continue
                    changes.append({"add_transfer": {"from_stop": str(tt.stop_ids[sa]), "to_stop": str(tt.stop_ids[sb]),
                                                     "walk_m": round(float(c.new_walk_m[k]), 1), "walk_s": secs,
                                                     "both_ways": True}})
        described.append(f"new entrance of {st.names[c.side]} ({st.ids[c.side]}) at {c.lat:.6f}, {c.lon:.6f} "
                         f"({c.connector_m:.0f} m passage) for {pid}")
    if not changes:
        msg = "the chosen connectors do not beat the existing footpaths; no scenario written"
        raise ConfigError(msg, code="no_suggestion")
    first = result.connectors[chosen[0]]
    label = station_labels(result).get(str(st.ids[first.side]), str(st.ids[first.side]).split(":", 1)[-1])
    default = "connector_" + _slug(label)
    doc = {"name": name or default[:64],
           "description": "plan transfers: " + "; ".join(described),
           "changes": changes}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _pair_units(result: TransferResult) -> tuple[np.ndarray, np.ndarray]:
    return result.pair_units["a"].to_numpy(), result.pair_units["b"].to_numpy()


def _footpath_s(fp, a: int, b: int) -> float:
    lo, hi = fp.ptr[a], fp.ptr[a + 1]
    hit = np.flatnonzero(fp.to[lo:hi] == b)
    return float(fp.seconds[lo + hit[0]]) if len(hit) else math.inf


def _renamed(text: str, names: dict) -> str:
    """``text`` with each station name of ``names`` replaced by its label (whole names only,
    the longest first, so that a name inside another is left alone)."""
    for old in sorted((k for k in names if k and k != names[k]), key=len, reverse=True):
        text = text.replace(f"{old}:", f"{names[old]}:")
    return text

