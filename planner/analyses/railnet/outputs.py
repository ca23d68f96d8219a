"""The outputs of ``plan net``: the net map, the report section and the files."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from shapely.geometry import LineString, Point

from planner.analyses.railnet.compare import NetComparison, changed_pairs
from planner.analyses.railnet.net import RailNet
from planner.common.atomic import OutputStage, write_bytes, write_text
from planner.common.timeofday import window_text
from planner.outputs.maps import (
    LABEL_HALO,
    MapFrame,
    colorbar,
    finish_map,
    map_frame,
    map_name,
    new_map,
)
from planner.outputs.report import PEOPLE, Report, percent, settings_section, signed

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["add_net_section", "net_map", "write_net_outputs"]


def net_map(net: RailNet, places: pd.DataFrame, *, title: str = "Intercity rail net",
            frame: MapFrame | None = None) -> bytes:
    """PNG of the net: links between city points (width: trains per day in both directions;
    colour: straight-line speed of the fastest train), cities sized by population. ``frame``:
    the run's extent (default: framing the places); maps sharing one also share their label
    positions."""
    if frame is None:
        frame = map_frame(places["lon"], places["lat"])
    fig, ax = new_map(title, frame)
    pos = {str(r.id): (r.lon, r.lat) for r in places.itertuples()}
    lk = net.links
    und = (lk.assign(u=np.minimum(lk["from_id"], lk["to_id"]), v=np.maximum(lk["from_id"], lk["to_id"]))
           .groupby(["u", "v"], as_index=False).agg(trains=("trains", "sum"), fastest_min=("fastest_min", "min"),
                                                     crow_km=("crow_km", "first")))
    und = und.assign(speed=und["crow_km"] / (und["fastest_min"] / 60.0)).sort_values("trains", ascending=False,
                                                                                       kind="stable")
    cmap, norm = colormaps["plasma_r"], Normalize(60, 300)
    top = max(float(und["trains"].max()), 1.0) if len(und) else 1.0

    def width(n):
        return 0.6 + 6.0 * np.sqrt(n / top)

    for r in und.itertuples():  # busiest first, so that thin links stay visible on top
        (x0, y0), (x1, y1) = pos[r.u], pos[r.v]
        ax.plot([x0, x1], [y0, y1], color=cmap(norm(r.speed)), lw=width(r.trains), alpha=0.85, zorder=5,
                solid_capstyle="round")
    pop = places["population"].to_numpy(float)
    has = net.cities["stations"].to_numpy() > 0
    size = 20 + 280 * np.sqrt(pop / max(pop.max(), 1.0))
    # one scatter (gid "places"), so that the labels are moved off the dots as sized
    ax.scatter(places["lon"], places["lat"], s=size, zorder=20, gid="places",
               facecolor=np.where(has, "#34495e", "white"), edgecolor=np.where(has, "white", "#34495e"))
    labels = [ax.text(r.lon, r.lat, map_name(r.name, getattr(r, "name_en", ""), r.id), zorder=21, fontsize=8 if central else 7,
                      fontweight="bold" if central else "normal", ha="left", va="bottom", path_effects=LABEL_HALO)
              for r, central in zip(places.itertuples(), net.cities["central"], strict=True)]
    colorbar(fig, ScalarMappable(norm=norm, cmap=cmap), "straight-line speed of the fastest train (km/h)")
    samples = [n for n in (10, 20, 50, 100, 200) if n <= top] or [top]
    handles = [Line2D([], [], color="#555555", lw=width(n), label=f"{n:g} trains/day") for n in samples[-3:]]
    handles.append(Line2D([], [], ls="", marker="o", mfc="white", mec="#34495e", label="city without a station"))
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85)
    return finish_map(fig, ax, places["lon"], places["lat"], frame=frame, labels=labels,
                      avoid=(places["lon"].to_numpy(float), places["lat"].to_numpy(float)))


#: the changed-pairs columns the report shows, with their headings
_PAIR_LABELS = {"from_id": "from", "to_id": "to", "fastest_min_base": "fastest before (min)",
                "fastest_min": "fastest after (min)", "median_min_base": "median before (min)",
                "median_min": "median after (min)", "transfers_fastest_base": "changes on the fastest, before",
                "transfers_fastest": "changes on the fastest, after", "direct_trains_base": "direct trains before",
                "direct_trains": "direct trains after"}


#: the cities table's columns, with their headings, formats and meanings (cities.csv)
_CITY_COLUMNS = {
    "name": ("city", None, "the city (place) name"),
    "population": ("population", PEOPLE, "people living in the city"),
    "stations": ("stations", None, "rail stations grouped into the city"),
    "pop_within_1h": ("people of other cities within 1 h", PEOPLE,
                      "population of the other cities reached by rail within 1 hour ('radiation')"),
    "pop_within_2h": ("people of other cities within 2 h", PEOPLE, "the same within 2 hours"),
    "direct_destinations": ("cities with a direct train", None, "other cities reached without changing trains"),
    "betweenness": ("betweenness (paths through)", "{:,.0f}",
                    "fastest city-to-city paths on the link graph that pass through the city"),
    "closeness_per_h": ("closeness (1/h)", "{:.3f}", "inverse of the mean fastest time to the other cities on "
                        "the link graph, per hour"),
}
#: the weak links table's columns (weak_links.csv also has the cities' ids)
_WEAK_COLUMNS = {
    "from_name": ("from", None, "city of departure"),
    "to_name": ("to", None, "city of arrival"),
    "crow_km": ("straight line (km)", "{:,.0f}", "distance between the city points"),
    "fastest_min": ("fastest (min)", "{:,.0f}", "fastest journey of the window, departure to arrival"),
    "median_min": ("median (min)", "{:,.0f}", "median journey of the window (waits included)"),
    "min_transfers": ("fewest changes", "{:,.0f}", "fewest changes of train of any journey (0: a direct train)"),
    "detour_index": ("detour index", "{:.2f}", "time over the time of a straight line at the reference speed"),
    "reason": ("why it is weak", None, "detour far over the median, two or more changes, or no connection"),
}


#: the net measures in words (summary.csv keeps the names)
_MEASURE_WORDS = {
    "cities_with_station": "cities with a station", "node_stations": "stations", "pairs": "city pairs",
    "reachable_pairs": "city pairs reachable", "efficiency_per_h": "efficiency",
    "efficiency_relative": "efficiency relative to the ideal net", "pop_weighted_mean_min":
    "population-weighted mean time", "median_detour_index": "median detour index",
    "share_within_1h": "pairs within 1 h", "share_within_2h": "pairs within 2 h", "share_within_3h":
    "pairs within 3 h", "share_direct": "pairs with a direct train", "share_max_1_transfer":
    "pairs with at most one change", "mean_transfer_wait_min": "mean wait at changes", "weak_links": "weak links",
    "pop_weighted_mean_common_min": "population-weighted mean time, pairs reachable in both",
}


def _measure_words(measure: str, names: dict) -> str:
    if measure.startswith("pop_within_") and ":" in measure:  # pop_within_1h:harbin
        head, city = measure.split(":", 1)
        return f"people within {head[len('pop_within_'):-1]} h of {names.get(city, city)}"
    return _MEASURE_WORDS.get(measure, measure.replace("_", " "))


def _by_unit(cell) -> str:
    """A net measure formatted by its unit: whole counts and people, shares as percentages (a
    change in points), minutes to 0.1, the rest to 0.001; a change signed."""
    unit, v, change = cell
    if v is None or v != v:
        return ""
    unit = str(unit)
    if unit.startswith("share"):
        return (f"{100 * v:+.1f} pts" if round(100 * v, 1) else "0") if change else percent(v)
    if unit in ("count", "ordered city pairs", "people"):
        return signed(v) if change else f"{v:,.0f}"
    digits = 1 if unit.startswith("min") else 2 if unit == "ratio" else 3
    return f"{v:+,.{digits}f}" if change else f"{v:,.{digits}f}"


def _table_args(columns: dict) -> dict:
    return {"labels": {c: v[0] for c, v in columns.items()},
            "formats": {c: v[1] for c, v in columns.items() if v[1] is not None}}


def add_net_section(report: Report, cmp: NetComparison, *, maps: dict[str, bytes] | None = None) -> None:
    """Add the rail-net sections (measures, map, central cities, weak links, scenario
    changes, method) to an HTML :class:`~planner.outputs.report.Report`."""
    maps, st = maps or {}, cmp.settings
    sec = report.section("Intercity rail net")
    sec.text(f"Cities linked by the rail trips of {cmp.date}, departures {_window_text(cmp)}; net measures use "
             f"the {cmp.basis} time of each city pair. Efficiency: mean of 1/time over all ordered city pairs "
             f"(Latora-Marchiori, 1/h; unreachable pairs count 0), also relative to an ideal net of straight "
             f"lines at {st.get('reference_speed_kmh')} km/h.")
    summary = cmp.summary_table()
    names = dict(zip(cmp.places["id"].astype(str), cmp.places["name"].astype(str), strict=True))
    shown = pd.DataFrame({"measure": [_measure_words(m, names) for m in summary["measure"]], "unit": summary["unit"]})
    values = [c for c in summary.columns if c == "baseline" or c.endswith("_change")]
    for c in values:  # (unit, value, is a change): formatted by the row's unit
        shown[c] = list(zip(summary["unit"], summary[c], [c != "baseline"] * len(summary), strict=True))
    sec.table(shown, caption="Net measures: the baseline and each scenario's change (summary.csv also has the "
              "scenarios' values, under the measures' names)", formats=dict.fromkeys(values, _by_unit),
              labels={c: f"{c[:-len('_change')]}: change" for c in values if c.endswith("_change")})
    if "baseline" in maps:
        sec.image(maps["baseline"], "Links between cities: width by trains per day, colour by speed")
    cities = cmp.baseline.cities
    cols = list(_CITY_COLUMNS)
    sec.table(cities.loc[cities["central"], cols], caption="Central cities: population reachable within 1 and 2 h "
              "('radiation'), betweenness and closeness on the link graph", **_table_args(_CITY_COLUMNS))
    sec.table(cities[cols], caption="Every city (cities.csv also has the ids, station names and 3 h figures)",
              **_table_args(_CITY_COLUMNS))
    weak = cmp.baseline.weak
    sec.table(weak.head(40)[[c for c in _WEAK_COLUMNS if c in weak]],
              caption=f"Weakest links ({len(weak)} in all; weak_links.csv)", **_table_args(_WEAK_COLUMNS))
    for net in cmp.scenarios:
        s = report.section(f"Rail net: scenario {net.name}")
        if net.report:
            s.table(pd.DataFrame([{k: v for k, v in r.items() if k != "matched"} for r in net.report]),
                    caption="What the scenario changed")
        if net.name in maps:
            s.image(maps[net.name], f"The net with {net.name}")
        ch = changed_pairs(cmp.baseline, net)
        s.text(f"{len(ch)} of {len(net.pairs)} ordered city pairs change.")
        s.table(ch.head(60)[[c for c in _PAIR_LABELS if c in ch]], labels=_PAIR_LABELS, float_format="{:,.1f}",
                caption="City pairs that change (changed_pairs.csv has every column)")
        for n in net.notes:
            s.text(n, note=True)
    notes = report.section("Rail net: method and assumptions")
    for text in (
        f"A station belongs to a city within {st.get('cluster_km')} km of the city point (the station's 'city' "
        "attribute where the feed has one, else the nearest point); stations.csv says why a station has none.",
        f"Changing trains takes {st.get('change_time_s')} s at a station; between stations of one city beyond "
        "walking distance the urban taxi/bus approximation of plan evaluate applies.",
        "A connection is a departure after which no later one arrives as early; the median is over the "
        "connections of the window and includes overnight waits at changing stations.",
        f"The timetable covers the window plus {st.get('horizon_h')} h: overnight trains and next-day "
        "connections count.",
    ):
        notes.text(text, note=True)
    gl = report.section("Glossary: the tables' headings and the columns of cities.csv and weak_links.csv")
    gl.table(pd.DataFrame([{"heading in this report": head, "file": file, "column": col, "meaning": meaning}
                           for file, columns in (("cities.csv", _CITY_COLUMNS), ("weak_links.csv", _WEAK_COLUMNS))
                           for col, (head, _f, meaning) in columns.items()]), max_rows=500)


def _window_text(cmp: NetComparison) -> str:
    return window_text(cmp.depart_s, cmp.window_min)


def write_net_outputs(cmp: NetComparison, out_dir: str | Path, *, overwrite: bool = False,
                      inputs: dict | None = None, settings: dict | None = None) -> list[Path]:
    """Write the tables, GeoPackage, maps and HTML report; returns the written paths.

    ``settings``: the run's configuration record (what ``config.json`` holds), shown as the
    report's last section.

    Files in ``out_dir``: ``summary.csv`` (:meth:`NetComparison.summary_table`);
    ``pairs.csv`` / ``pairs.parquet`` (the per-pair table of every network, column
    ``network``); ``matrix_<network>_fastest_min.csv`` and ``..._direct_trains.csv`` (city x
    city); ``cities.csv``, ``links.csv``, ``weak_links.csv`` (every network);
    ``stations.csv`` (baseline grouping); ``changed_pairs.csv`` (scenarios); ``net.gpkg``
    (layers ``cities``, ``links``, ``stations``; EPSG:4326); ``net_<network>.png``;
    ``report.html``. Written through a staging folder: a failure leaves no partial output.
    """
    pos = {str(r.id): (r.lon, r.lat) for r in cmp.places.itertuples()}
    ids = cmp.baseline.cities["id"].tolist()
    tables = {"pairs.csv": cmp.long("pairs"), "cities.csv": cmp.long("cities"), "links.csv": cmp.long("links"),
              "weak_links.csv": cmp.long("weak"), "stations.csv": cmp.baseline.stations}
    if cmp.scenarios:
        tables["changed_pairs.csv"] = pd.concat([changed_pairs(cmp.baseline, n).assign(network=n.name)
                                                 for n in cmp.scenarios], ignore_index=True)
    for net in cmp.nets:
        for col in ("fastest_min", "direct_trains"):
            m = pd.DataFrame(net.matrix(col), index=pd.Index(ids, name="from_id"), columns=ids)
            tables[f"matrix_{net.name}_{col}.csv"] = m.reset_index()
    with OutputStage(out_dir, overwrite=overwrite) as stage:
        write_text(stage.path("summary.csv"), cmp.summary_table().to_csv(index=False, lineterminator="\n"))
        for name, df in tables.items():
            write_text(stage.path(name), df.to_csv(index=False, float_format="%.4f", lineterminator="\n"))
        buf = io.BytesIO()
        tables["pairs.csv"].to_parquet(buf, index=False)
        write_bytes(stage.path("pairs.parquet"), buf.getvalue())
        gpkg = stage.path("net.gpkg")
        layers = {"cities": (tables["cities.csv"], [Point(pos[i]) for i in tables["cities.csv"]["id"]]),
                  "links": (tables["links.csv"], [LineString([pos[a], pos[b]]) for a, b in
                                                  zip(tables["links.csv"]["from_id"], tables["links.csv"]["to_id"],
                                                      strict=True)]),
                  "stations": (cmp.baseline.stations, gpd.points_from_xy(cmp.baseline.stations["lon"],
                                                                          cmp.baseline.stations["lat"]))}
        for layer, (df, geom) in layers.items():
            if len(df):
                gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326").to_file(gpkg, layer=layer, driver="GPKG")
        frame = map_frame(cmp.places["lon"], cmp.places["lat"])  # the same places: one extent for every net map
        maps = {net.name: net_map(net, cmp.places, title=f"Intercity rail net: {net.name}, {cmp.date}", frame=frame)
                for net in cmp.nets}
        for name, png in maps.items():
            write_bytes(stage.path(f"net_{name}.png"), png)
        report = Report("Intercity rail net", meta={"service date": cmp.date, "departures": _window_text(cmp),
                                                    **(inputs or {})})
        add_net_section(report, cmp, maps=maps)
        if settings is not None:
            settings_section(report, settings)
        write_text(stage.path("report.html"), report.html())
        written = stage.written
    return written
