"""What ``plan evaluate`` concludes, and where its data is too thin: the recommendation in
sentences and the coverage of every place.

Coverage columns (``coverage.csv``): ``id``, ``name``, ``population`` (people);
``reached_by``: ``street network`` (walking on the OSM streets), ``taxi/bus approximation``
(no street network there: straight line times the detour at the local speed), ``walking
approximation`` or ``unreachable``; ``nearest_station`` and ``nearest_station_km``
(straight line); ``access_min``: the fastest leg to any stop (minutes); ``pairs_unreachable``:
ordered place pairs with this place and no journey on the baseline; ``reason`` and ``fix``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.geodesy import haversine_m
from planner.network.links import LINK_LOCAL, LINK_STRAIGHT, LINK_STREET

if TYPE_CHECKING:
    from planner.network.model import Network

__all__ = ["coverage", "recommendation"]


def coverage(net: Network, places: pd.DataFrame, base_T: np.ndarray) -> pd.DataFrame:
    """How each place is reached on the baseline and why some are not (module docstring)."""
    cfg = net.config
    tt = net.timetable
    n = len(places)
    lon, lat = places["lon"].to_numpy(float), places["lat"].to_numpy(float)
    walks = [net.access(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]
    accs = [net.access(float(x), float(y), local=True) for x, y in zip(lon, lat, strict=True)]
    # pairs with no journey, not counting those with a place that no stop reaches (said apart)
    reached = np.array([len(a.stops) > 0 for a in accs])
    gap = ~np.isfinite(base_T) & ~np.eye(n, dtype=bool) & np.outer(reached, reached)
    missing = (gap.sum(axis=0) + gap.sum(axis=1)).astype(int)
    radius_km = cfg.local_access_max_s * cfg.local_access_speed_kmh / 3600.0 / cfg.straight_line_detour
    rows = []
    for k, p in enumerate(places.itertuples(index=False)):
        acc = accs[k]
        d = haversine_m(np.full(tt.n_stops, float(p.lat)), np.full(tt.n_stops, float(p.lon)), tt.stop_lat, tt.stop_lon)
        near = int(np.argmin(d)) if tt.n_stops else -1
        near_km = float(d[near]) / 1000.0 if near >= 0 else float("nan")
        near_name = str(tt.stop_names[near]) if near >= 0 else ""
        methods = set(np.unique(acc.method).tolist()) | set(np.unique(walks[k].method).tolist())
        fastest = float(acc.seconds.min()) / 60.0 if len(acc.seconds) else float("nan")
        if not len(acc.stops):
            by = "unreachable"
            minutes = near_km * cfg.straight_line_detour / cfg.local_access_speed_kmh * 60.0
            reason = (f"no stop within the {cfg.local_access_max_s // 60}-minute taxi/bus approximation "
                      f"({radius_km:.0f} km): the nearest, {near_name}, is {near_km:.0f} km away (about "
                      f"{minutes:.0f} min)")
            fix = (f"add the line that serves it (a station within {radius_km:.0f} km) with plan gtfs "
                   "from-timetable, or a feed of its local buses")
        elif LINK_STREET in methods:
            by, reason, fix = "street network", "", ""
        elif LINK_LOCAL in methods:
            by = "taxi/bus approximation"
            reason = (f"no street network here: to and from stations by straight line x {cfg.straight_line_detour} "
                      f"at {cfg.local_access_speed_kmh:g} km/h")
            fix = "load the city's streets (--osm) for walking access, or its bus feed"
        elif LINK_STRAIGHT in methods:
            by = "walking approximation"
            reason = f"not on the street network: walking by straight line x {cfg.straight_line_detour}"
            fix = "extend the OSM extract (--osm) to cover it"
        else:
            by, reason, fix = "drive", "", ""
        if by != "unreachable" and missing[k]:
            reason = (reason + "; " if reason else "") + f"{missing[k]} pairs with no journey in the window"
            fix = fix or "widen the departure window, or check the service of its stations on the date"
        rows.append({"id": p.id, "name": p.name, "population": int(p.population), "reached_by": by,
                     "nearest_station": near_name, "nearest_station_km": round(near_km, 1),
                     "access_min": round(fastest, 1), "pairs_unreachable": int(missing[k]),
                     "reason": reason, "fix": fix})
    return pd.DataFrame(rows)


def _bn(million: float) -> str:
    return f"CNY {million / 1000:,.1f} bn" if abs(million) >= 1000 else f"CNY {million:,.0f} M"


def _reasons(pairs: pd.DataFrame, places: pd.DataFrame, top: int = 3) -> str:
    """The place pairs (both directions together) that gain most, in words."""
    if pairs is None or not len(pairs):
        return "no place pair gains"
    a = np.minimum(pairs["i"], pairs["j"])
    b = np.maximum(pairs["i"], pairs["j"])
    g = pairs.assign(a=a, b=b).groupby(["a", "b"], sort=False).agg(
        benefit=("benefit_million_cny_per_year", "sum"), minutes=("minutes_saved", "mean"),
        trips=("trips_per_day", "sum")).sort_values("benefit", ascending=False, kind="stable").head(top)
    names = places["name"].to_numpy()
    pop = places["population"].to_numpy(dtype=float)
    parts = [f"{names[i]}–{names[j]} ({pop[i] / 1e6:.1f} M and {pop[j] / 1e6:.1f} M people: {r.minutes:.0f} min "
             f"saved on {r.trips:,.0f} trips a day, {_bn(r.benefit)} a year)"
             for (i, j), r in g.iterrows() if r.benefit > 0]
    return "; ".join(parts) if parts else "no place pair gains"


def recommendation(ranking: pd.DataFrame, pairs: dict[str, pd.DataFrame], new_lines: set[str],
                   places: pd.DataFrame, cov: pd.DataFrame, sens: pd.DataFrame, params, assumed: int,
                   inputs: int, descriptions: dict[str, str], demand_basis: str = "") -> list[str]:
    """The recommendation, in sentences: the best scenario, the best new line, the reasons,
    whether the ranking holds, then the caveats."""
    if not len(ranking):
        return ["No scenarios were given: the outputs describe the baseline only."]
    r = params.discount_rate
    n_years = params.operating_years
    valued = ranking[np.isfinite(ranking["bcr"].astype(float))]
    out = []

    def said(row) -> str:
        return (f"{row.scenario} ({descriptions.get(row.scenario, '')}): benefit–cost ratio {row.bcr:.2f}, "
                f"net present value {_bn(row.npv_million_cny)} over {n_years} years at {r:.0%}, for "
                f"{_bn(row.capital_million_cny)} of capital and {_bn(row.operating_million_cny_per_year)} a year "
                f"to run; it saves {row.hours_saved_per_year / 1e6:.2f} M hours a year")

    if not len(valued):
        if demand_basis.startswith("not calibrated"):
            out.append(f"No benefit-cost ratio: the demand model is {demand_basis}. The ranking is by the change of "
                       "the population-weighted mean travel time.")
        else:
            out.append("No scenario has a cost to weigh its benefits against; the ranking is by the change of the "
                       "population-weighted mean travel time.")
    else:
        best = valued.iloc[0]
        if best.bcr >= 1:
            out.append(f"Best overall: {said(best)}.")
        else:
            out.append(f"No scenario pays back its costs at these inputs; the closest is {said(best)}.")
        out.append(f"Why: {_reasons(pairs.get(best.scenario), places)}.")
        lines = valued[valued["scenario"].isin(new_lines)]
        if len(lines):
            bl = lines.iloc[0]
            if bl.scenario == best.scenario:
                out.append("It is also the best new line.")
            else:
                verdict = "pays back" if bl.bcr >= 1 else "does not pay back"
                out.append(f"Best new line: {said(bl)}; it {verdict} its costs. "
                           f"Why: {_reasons(pairs.get(bl.scenario), places)}.")
    if len(sens) and len(valued):
        central = sens[sens["case"] == "central"].sort_values("rank")["scenario"].tolist()
        moved = []
        for case, g in sens.groupby("case", sort=False):
            order = g.sort_values("rank")["scenario"].tolist()
            if case != "central" and order[:1] != central[:1]:
                moved.append(f"{case} ({order[0]} first)")
        swing = f"{params.sensitivity:.0%}"
        if moved:
            out.append(f"The first place is not robust: with each input swung by {swing} it changes in "
                       f"{', '.join(moved)}.")
        else:
            out.append(f"The first place holds when capital, operating costs, demand or the value of time move "
                       f"by ±{swing} (sensitivity table).")
        top = valued.iloc[0].scenario
        first = sens[sens["scenario"] == top]
        pays = first.set_index("case")["bcr"] >= 1
        flips = [c for c, v in pays.items() if c != "central" and v != pays.get("central")]
        if flips:
            verb = "would pay back" if not pays.get("central") else "would no longer pay back"
            out.append(f"{top} {verb} its costs with {', '.join(flips)}: whether it pays back rests on those "
                       "inputs.")
    caveats = []
    unreached = cov[cov["reached_by"] == "unreachable"]
    if len(unreached):
        some = "1 place cannot" if len(unreached) == 1 else f"{len(unreached)} places cannot"
        caveats.append(f"{some} be reached at all ({', '.join(unreached['name'])}: "
                       f"{unreached['population'].sum() / 1e6:.1f} M people), so their trips are not valued")
    approx = cov[cov["reached_by"].isin(["taxi/bus approximation", "walking approximation"])]
    if len(approx):
        caveats.append(f"{len(approx)} of {len(cov)} places are reached only by an approximation (no street network "
                       "there), which sets their access times")
    caveats.append(f"{assumed} of {inputs} appraisal inputs are ASSUMED (see 'Appraisal inputs'); the fare card's "
                   "time savings are shown apart and not valued in the ratios; costs are at about 2015 prices "
                   "and the value of time at 2018 prices, without a deflator")
    out.append("Caveats: " + "; ".join(caveats) + ".")
    return out
