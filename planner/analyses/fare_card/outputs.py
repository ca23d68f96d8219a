"""Tables, explanation, map and report section of the fare dividend (``plan fares``, and the
fare part of ``plan evaluate``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.atomic import OutputStage, write_bytes, write_text
from planner.common.timeofday import hhmm
from planner.network.fares.model import UNLIMITED
from planner.outputs.maps import map_frame, place_change_map
from planner.outputs.raster import raster_context, settings_tags, write_png, write_result
from planner.outputs.report import PEOPLE, PERCENT, Report, settings_section

if TYPE_CHECKING:
    from pathlib import Path

    from planner.analyses.fare_card.dividend import FareDividend
    from planner.outputs.raster import RasterResult
    from planner.outputs.report import Report

__all__ = ["explain_pair", "policy_rows", "report_section", "top_pairs", "write_fare_outputs"]

#: the OD columns shown on the terminal and in the report
PAIR_COLUMNS = ["from_id", "to_id", "separate_time_min", "card_time_min", "time_saved_min", "separate_fare",
                "card_fare", "fare_change", "penalty_removed_min", "generalized_change_min", "card_operators"]


def top_pairs(res: FareDividend, n: int = 10) -> pd.DataFrame:
    """The ``n`` pairs that gain most time (ties: most generalized cost saved, then ids)."""
    od = res.od.copy()
    od["_g"] = od["generalized_change_min"].fillna(0.0)
    od = od[np.isfinite(od["time_saved_min"])]
    od = od.sort_values(["time_saved_min", "_g", "from_id", "to_id"], ascending=[False, True, True, True],
                        kind="stable")
    return od[PAIR_COLUMNS].head(n).reset_index(drop=True)


def explain_pair(res: FareDividend, from_id: str, to_id: str) -> str:
    """One sentence on where a pair's saving comes from: penalties removed, connection
    times, the fare change and the operators ridden."""
    od = res.od
    hit = od[(od["from_id"] == from_id) & (od["to_id"] == to_id)]
    if hit.empty:
        return f"{from_id} -> {to_id}: not in the results"
    r = hit.iloc[0]
    if not np.isfinite(r["time_saved_min"]):
        return f"{r['from_name']} -> {r['to_name']}: not reached on both sides"
    cur = res.currency
    parts = [
        f"{r['from_name']} -> {r['to_name']}: {r['separate_time_min']:.1f} min with separate tickets, "
        f"{r['card_time_min']:.1f} min with the card ({r['time_saved_min']:.1f} min saved on average over "
        f"{int(r['departures'])} departures)",
        f"money and ticketing {r['time_saved_ticketing_min']:.1f} min (ticketing penalties on the fastest journey "
        f"{r['separate_penalty_min']:.1f} -> {r['card_penalty_min']:.1f} min: {r['penalty_removed_min']:.1f} min "
        f"removed; an earlier train or metro can be caught), connection time {r['time_saved_connection_min']:.1f} min",
        f"fare {r['separate_fare']:.2f} -> {r['card_fare']:.2f} {cur} ({r['fare_change']:+.2f})",
        f"operators {r['separate_operators'] or '-'} -> {r['card_operators'] or '-'}",
    ]
    if np.isfinite(r["generalized_change_min"]):
        parts.append(f"generalized cost {r['generalized_change_min']:+.1f} min")
    return "; ".join(parts) + "."


def policy_rows(res: FareDividend, operators: dict | None = None) -> list[dict]:
    """The card policy as (setting, value) rows."""
    p = res.policy

    window = ("none" if p.transfer_window_s is None else "unlimited" if p.transfer_window_s >= UNLIMITED
              else f"{p.transfer_window_s / 60:g} min")
    rows = [("name", p.name), ("fare systems on the card", ", ".join(p.systems) if p.systems else "all priced"),
            ("tariff", p.tariff), ("transfer window", window),
            ("max transfers", "unlimited" if p.max_transfers is None else str(p.max_transfers)),
            ("transfer fee", f"{p.transfer_fee:g} {res.currency}"),
            ("transfer discount", "whole fare" if p.transfer_discount is None else f"{p.transfer_discount:g} {res.currency}"),
            ("fare cap", "none" if p.fare_cap is None else f"{p.fare_cap:g} {res.currency}"),
            ("penalties kept for modes", ", ".join(p.penalty_modes_kept) or "none"),
            ("minimum connection at card stops", "unchanged" if p.change_s is None else f"{p.change_s} s"),
            ("perceived transfer penalty", "unchanged" if p.transfer_penalty_min is None
             else f"{p.transfer_penalty_min:g} min")]
    for op, sid in (operators or {}).items():
        rows.append((f"operator {op}", sid))
    return [{"setting": k, "value": v} for k, v in rows]


def _summary_rows(res: FareDividend) -> list[dict]:
    s, cur = res.summary, res.currency
    rows = [
        ("place pairs reached (both sides)", f"{s['pairs_reached']} of {s['pairs']}"),
        ("journeys (pair x departure)", f"{s['journeys']}"),
        ("mean time saved per pair", f"{s['mean_time_saved_min']:.2f} min"),
        ("  of which money and ticketing", f"{s['time_saved_ticketing_min']:.2f} min"),
        ("  of which connection time", f"{s['time_saved_connection_min']:.2f} min"),
        ("population-weighted time saved", f"{s['pop_weighted_time_saved_min']:.2f} min"),
        ("  of which money and ticketing", f"{s['pop_weighted_time_saved_ticketing_min']:.2f} min"),
        ("  of which connection time", f"{s['pop_weighted_time_saved_connection_min']:.2f} min"),
        ("median / 90th percentile per journey", f"{s['median_journey_saved_min']:.1f} / "
                                                  f"{s['p90_journey_saved_min']:.1f} min"),
        ("pairs faster with the card", f"{100 * s['share_pairs_faster']:.0f}%"),
        ("mean fare change (fastest journeys)", f"{s['mean_fare_change']:+.2f} {cur}"),
        ("mean generalized cost change", "n/a (no value of time)" if not np.isfinite(s["mean_generalized_change_min"])
         else f"{s['mean_generalized_change_min']:+.2f} min"),
        ("journeys whose best route changes operator mix", f"{100 * s['share_journeys_mix_changed']:.1f}%"),
    ]
    for k, v in s.items():
        if k.startswith("mean_time_saved_at_"):
            b = k.removeprefix("mean_time_saved_at_").removesuffix("_min").replace("_", ".")
            rows.append((f"time saved within a {b} {cur} budget", "n/a" if not np.isfinite(v) else f"{v:.2f} min"))
    return [{"measure": k, "value": v} for k, v in rows]


def best_example(res: FareDividend) -> tuple[str, str] | None:
    """The pair with the largest time saving (the one the report explains)."""
    top = top_pairs(res, 1)
    if top.empty or not top["time_saved_min"].iloc[0] > 0:
        return None
    return str(top["from_id"].iloc[0]), str(top["to_id"].iloc[0])


def fare_map(res: FareDividend, tt, operators=None, *, osm=None) -> bytes:
    """Places coloured by the minutes the card saves them; the routes of the card's
    ``operators`` (names) marked; framed on every stop and place, on Natural Earth, else on the
    OSM extract ``osm`` (an ``.osm.pbf``) where it has context."""
    per = res.per_place.set_index("id")["mean_time_saved_min"]
    values = res.places["id"].astype(str).map(per).to_numpy(dtype=float)
    frame = map_frame([*tt.stop_lon, *res.places["lon"]], [*tt.stop_lat, *res.places["lat"]], osm=osm)
    return place_change_map(tt, res.places, values, title=f"{res.policy.name}: minutes saved per journey",
                            label="mean minutes saved (to and from the other places)",
                            card_operators=list(operators or []), frame=frame)


def report_section(report: Report, res: FareDividend, tt, *, title: str, operators: dict | None = None,
                   map_png: bytes | None = None, pairs: int = 15) -> None:
    """Add the fare dividend's section(s) to ``report``."""
    sec = report.section(title)
    p = res.params
    sec.text(
        "Separate fare systems (a ticketing penalty at each boarding that enters a system the traveller holds no "
        f"ticket for: {', '.join(f'{m} {s} s' for m, s in sorted(p.penalty.by_mode.items()))}, otherwise "
        f"{p.penalty.default_s} s) against the unified card, on the same network, places and departures "
        f"({len(p.departures())} departures from {hhmm(p.departure_s)} every "
        f"{p.step_min} min). Times are door to door, means over the departures; fares in {res.currency} are those "
        "of the fastest journey. The money-and-ticketing effect (penalties removed, the card's tariff) and the "
        "connection-time effect (minimum connection time, perceived transfer penalty) are reported apart.")
    sec.table(pd.DataFrame(policy_rows(res, operators)), caption="The card")
    sec.table(pd.DataFrame(_summary_rows(res)), caption="Headline figures")
    ex = best_example(res)
    if ex is not None:
        sec.text("The largest saving, explained: " + explain_pair(res, *ex))
    if map_png is not None:
        sec.image(map_png, "Places coloured by the mean minutes saved on journeys to and from the other places")
    cur = res.currency
    sec.table(top_pairs(res, pairs), caption=f"The place pairs that gain most (minutes, fares in {cur})",
              float_format="{:,.2f}", labels={
                  "from_id": "from", "to_id": "to", "separate_time_min": "separate tickets (min)",
                  "card_time_min": "with the card (min)", "time_saved_min": "saved (min)",
                  "separate_fare": f"separate fare ({cur})", "card_fare": f"card fare ({cur})",
                  "fare_change": f"fare change ({cur})", "penalty_removed_min": "ticketing time removed (min)",
                  "generalized_change_min": "generalized change (min)", "card_operators": "fare systems used"})
    sec.table(res.distribution, caption="Journeys (pair x departure) by minutes saved",
              labels={"minutes_saved": "minutes saved", "share": "share of journeys"}, formats={"share": PERCENT})
    cols = ["name", "population", "mean_time_saved_min", "max_time_saved_min", "pairs_faster",
            "mean_fare_change", "mean_generalized_change_min"]
    sec.table(res.per_place[cols], caption="Places by the time they gain (population-weighted over their pairs; "
              "fares_places.csv has every column)", float_format="{:,.2f}", formats={"population": PEOPLE}, labels={
                  "mean_time_saved_min": "mean saved (min)", "max_time_saved_min": "most saved (min)",
                  "pairs_faster": "pairs faster", "mean_fare_change": f"mean fare change ({cur})",
                  "mean_generalized_change_min": "mean generalized change (min)"})
    for n in res.notes:
        sec.text(n, note=True)


def write_fare_outputs(res: FareDividend, raster: RasterResult | None, tt, out_dir: str | Path, *,
                       overwrite: bool = False, inputs: dict | None = None, operators: dict | None = None,
                       png: bool = True, osm: str | Path | None = None, settings: dict | None = None) -> list[Path]:
    """Write the outputs of ``plan fares`` through a staging folder (nothing partial).

    Files: ``fares_od.csv`` (every ordered place pair, :mod:`planner.analyses.fare_card.dividend`
    columns), ``fares_places.csv`` (per place), ``fares_distribution.csv`` (journeys by
    minutes saved), ``fares_summary.json`` (headline figures, policy, parameters, notes),
    ``map_fares.png``, with a grid ``fare_access.tif`` (bands ``{layer}_{T}min_{F}{cur}_
    {separate,card,change}``) and a PNG per change band, ``report.html`` and ``report.md``
    (the report section as Markdown). ``osm``: the OSM extract (``.osm.pbf``) the network was
    built from: the map's background outside Natural Earth's box, and the main roads and water
    drawn over the raster previews.
    """
    with OutputStage(out_dir, overwrite=overwrite) as stage:
        write_text(stage.path("fares_od.csv"), res.od.to_csv(index=False, float_format="%.3f", lineterminator="\n"))
        write_text(stage.path("fares_places.csv"),
                   res.per_place.to_csv(index=False, float_format="%.3f", lineterminator="\n"))
        write_text(stage.path("fares_distribution.csv"),
                   res.distribution.to_csv(index=False, float_format="%.4f", lineterminator="\n"))
        p = res.params
        summary = {"policy": {r["setting"]: r["value"] for r in policy_rows(res, operators)},
                   "currency": res.currency, "summary": res.summary,
                   "parameters": {"departure_s": p.departure_s, "window_min": p.window_min, "step_min": p.step_min,
                                  "budgets": list(p.budgets), "value_of_time_per_h": p.value_of_time_per_h,
                                  "transfer_penalty_min": p.transfer_penalty_min, "max_rounds": p.max_rounds,
                                  "max_duration_s": p.max_duration_s, "penalty_default_s": p.penalty.default_s,
                                  "penalty_by_mode_s": dict(sorted(p.penalty.by_mode.items())),
                                  "first_boarding_penalty": p.penalty.first_boarding},
                   "fare_systems": list(res.systems), "inputs": inputs or {}, "notes": res.notes}
        ex = best_example(res)
        if ex is not None:
            summary["largest_saving"] = {"from_id": ex[0], "to_id": ex[1], "explanation": explain_pair(res, *ex)}
        write_text(stage.path("fares_summary.json"),
                   json.dumps(summary, indent=1, ensure_ascii=False, default=float, allow_nan=True) + "\n")
        map_png = fare_map(res, tt, operators, osm=osm)
        write_bytes(stage.path("map_fares.png"), map_png)
        report = Report(f"Unified fare card: {res.policy.name}", meta=inputs or {})
        report_section(report, res, tt, title="The integration dividend of the card", operators=operators,
                       map_png=map_png)
        if raster is not None:
            write_result(stage, "fare_access", raster, png=False, dtype="float64",
                         tags=settings_tags(settings) if settings is not None else None)
            if png:
                context = raster_context(raster.grid, osm)
                for b in raster.bands:
                    if b.name.endswith("_change"):
                        write_png(stage.path(f"fare_access_{b.name}.png"), raster.grid, b, valid=raster.valid,
                                  diverging=True, context=context)
            rs = report.section("Accessibility at (time, fare) cutoffs")
            rows = []
            for b in raster.bands:
                v = b.values[np.isfinite(b.values)]
                rows.append({"band": b.name, "unit": b.unit, "cells": int(v.size),
                             "mean": float(v.mean()) if v.size else float("nan"),
                             "max": float(v.max()) if v.size else float("nan")})
            rs.text("Per raster cell (origin), the opportunities reached within each time cutoff for at most each "
                    "fare, separate systems and card (median travel time over the departures); fare_access.tif holds "
                    "every band, a PNG shows each change.")
            rs.table(pd.DataFrame(rows), caption="fare_access.tif bands")
        if settings is not None:
            settings_section(report, settings)
        write_text(stage.path("report.html"), report.html())
        write_text(stage.path("report.md"), report.markdown())
        written = stage.written
    return written
