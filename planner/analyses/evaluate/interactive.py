"""``map.html`` of ``plan evaluate``: the baseline and every scenario as views of one offline
interactive map (:mod:`planner.outputs.webmap`), on the run's map extent and context.

Views: the baseline (routes by mode, places sized by population) and each scenario in rank
order (places coloured by the change of their mean door-to-door time to all other places,
minutes, green faster and red slower, on a scale centred on zero; routes grey; the changed
elements on top as in the PNG maps). A popup per place: population, mean door-to-door time to
the other places (baseline and scenario, minutes) and people reachable within 1 and 2 hours.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from planner.outputs.maps import MODE_STYLE, MapFrame, route_patterns
from planner.outputs.webmap import (
    WebLayer,
    context_layers,
    diverging_colors,
    line_feature,
    page,
    point_feature,
    popup,
)

if TYPE_CHECKING:
    import pandas as pd

    from planner.analyses.evaluate.compare import Evaluation
    from planner.network.timetable import Timetable

__all__ = ["map_page"]


def _routes(tt: Timetable, *, grey: bool) -> list[dict]:
    out = []
    for mode, _op, stops in route_patterns(tt):
        color, lw, _z = MODE_STYLE.get(mode, ("#888888", 0.8, 2))
        out.append(line_feature(zip(tt.stop_lon[stops], tt.stop_lat[stops], strict=True),
                                color="#9a9a9a" if grey else color, weight=max(lw, 1.0) * (0.8 if grey else 1.2),
                                popup_html=html.escape(mode.replace("_", " "))))
    return out


def _radius(pop: np.ndarray) -> np.ndarray:
    return 4 + 14 * np.sqrt(pop / max(float(pop.max()) if len(pop) else 1.0, 1.0))


def _fmt(v, unit: str = "") -> str:
    if v is None or v != v:
        return "unreachable" if unit == "min" else ""
    return f"{v:,.0f}{' ' + unit if unit else ''}" if unit != "min" else f"{v:,.1f} min"


def _place_rows(pp: pd.Series, prefix: str) -> list[tuple[str, str]]:
    rows = [("population", _fmt(pp["population"]))]
    rows.append(("mean time to the others, baseline", _fmt(pp.get("baseline_mean_travel_min"), "min")))
    if prefix != "baseline":
        rows.append(("mean time with the scenario", _fmt(pp.get(f"{prefix}_mean_travel_min"), "min")))
        d = pp.get(f"{prefix}_delta_mean_travel_min")
        rows.append(("change", "" if d is None or d != d else f"{d:+.1f} min"))
    for h in (1, 2):
        rows.append((f"people within {h} h" + ("" if prefix == "baseline" else " (scenario)"),
                     _fmt(pp.get(f"{prefix}_pop_within_{h}h"))))
    return rows


def map_page(ev: Evaluation, tt: Timetable, frame: MapFrame, changes: dict[str, dict]) -> str:
    """The page (HTML text); ``changes``: scenario name -> the changed elements of
    :func:`planner.analyses.evaluate.outputs.changed_elements`."""
    places = ev.places
    pp = ev.per_place.reset_index(drop=True)
    radius = _radius(places["population"].to_numpy(dtype=float))
    names = places["name"].astype(str).tolist()
    base = WebLayer("Baseline", _routes(tt, grey=False), show=True,
                    legend=html.escape("Routes by mode (click a line); circles: places sized by population "
                                       "(click one for its travel times)."))
    for i, name in enumerate(names):
        base.features.append(point_feature(places["lon"].iloc[i], places["lat"].iloc[i], radius=float(radius[i]),
                                           fill="#34495e", color="#ffffff", label=name,
                                           popup_html=popup(name, _place_rows(pp.iloc[i], "baseline"))))
    views = [base]
    order = {n: k for k, n in enumerate(ev.ranking["scenario"])} if "scenario" in ev.ranking else {}
    for res in sorted(ev.scenarios, key=lambda r: order.get(r.name, len(order))):
        col = f"{res.name}_delta_mean_travel_min"
        values = pp[col].to_numpy(dtype=float) if col in pp else np.zeros(len(pp))
        colors, lim = diverging_colors(values)
        layer = WebLayer(f"Scenario {res.name}", _routes(tt, grey=True))
        ch = changes.get(res.name, {})
        for r in ch.get("changed_routes", []):
            layer.features += [line_feature(zip(tt.stop_lon[s], tt.stop_lat[s], strict=True), color="#e67e22",
                                            weight=4, popup_html=html.escape(f"frequency changed: {r}"))
                               for _m, _o, s in route_patterns(tt, routes={r})]
        for r in ch.get("removed_routes", []):
            layer.features += [line_feature(zip(tt.stop_lon[s], tt.stop_lat[s], strict=True), color="#2c3e50",
                                            weight=4, dash="8 6", popup_html=html.escape(f"removed: {r}"))
                               for _m, _o, s in route_patterns(tt, routes={r})]
        for line in res.lines:
            layer.features.append(line_feature(line["coords"], color="#8e44ad", weight=5,
                                               popup_html=html.escape(f"new line: {line['name']} "
                                                                      f"({line['length_km']:.0f} km)")))
        for lon0, lat0, lon1, lat1, label in ch.get("connectors", []):
            layer.features.append(line_feature([(lon0, lat0), (lon1, lat1)], color="#d81b60", weight=6,
                                               popup_html=html.escape(label)))
            layer.features.append(point_feature(lon0, lat0, radius=7, fill="#d81b60", color="#ffffff",
                                                label=label, popup_html=html.escape(label)))
        for i, name in enumerate(names):
            layer.features.append(point_feature(places["lon"].iloc[i], places["lat"].iloc[i],
                                                radius=float(radius[i]), fill=colors[i], label=name,
                                                popup_html=popup(name, _place_rows(pp.iloc[i], res.name))))
        scale = (f"green: faster, red: slower (scale ±{lim:.1f} min)" if lim else
                 "no place's mean time changes (every value is 0)")
        layer.legend = html.escape(f"{res.description or res.name}. Circles: change of each place's mean door-to-door "
                                   f"time to the other places, {scale}. Purple: new lines; orange: frequency changed; "
                                   "dashed: removed; pink: new transfer connectors.")
        views.append(layer)
    note = ("Pick the baseline or a scenario on the right; click a place for its figures. Works offline: no map "
            "tiles, nothing is downloaded.")
    return page("Candidate lines against the baseline: interactive map", views, context=context_layers(frame.context),
                bounds=(frame.x0, frame.y0, frame.x1, frame.y1), note=note)
