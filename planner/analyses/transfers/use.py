"""Weighting transfers by use: which routed journeys pass through which station pair.

Journeys are routed with RAPTOR (:func:`planner.routing.raptor.earliest_arrival`, recorded) for
every origin of an OD set at every sampled departure of the window, and rebuilt leg by leg
(:func:`planner.routing.itinerary.reconstruct`). A journey *passes through* the directed pair
``A -> B`` when it alights from a vehicle at a stop of station A and boards the next
vehicle at a stop of station B (a walk leg between them, or a change at a stop that
belongs to both). When the OD set is made of stations (the default), a journey that
starts at station A and first boards at another station B also passes through ``A -> B``
(it stands for a traveller arriving at A), and likewise at the end. A journey that walking
alone does faster (on the street network, :func:`planner.network.places.direct_walk_seconds`) uses
no transfer.

OD sets (:class:`OD`):

* the stations of the analysis, every ordered pair once (:func:`station_od`);
* the evaluation's places (``plan evaluate``'s cities, :func:`planner.ingest.points.load_places`),
  every ordered pair once, reaching stops as the evaluation does (walking, and the local
  taxi/bus approximation) (:func:`places_od`);
* a points file (``id, lon, lat`` or ``stop_id``; :func:`planner.ingest.points.read_points`),
  every ordered pair of points once;
* an OD list (CSV with ``from_lon, from_lat, to_lon, to_lat`` or ``from_stop, to_stop``
  and an optional ``trips`` column, the weight of the row; default 1).

``journeys`` of a pair = the sum over OD rows of ``weight x`` the share of sampled
departures whose journey passes through it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.common.progress import progress as bar
from planner.errors import InputError
from planner.ingest.points import convert_datum, read_points
from planner.network.links import Access
from planner.network.places import direct_walk_seconds, resolve_points
from planner.routing.itinerary import reconstruct
from planner.routing.raptor import INF, earliest_arrival

__all__ = ["OD", "count_use", "places_od", "read_od", "station_od"]


@dataclass
class OD:
    """Origins and destinations (access legs), the OD rows and their weights."""

    origins: pd.DataFrame          # id, lon, lat, stop_id (for direct walks)
    destinations: pd.DataFrame
    o_access: list[Access]
    d_access: list[Access]
    rows: np.ndarray               # int64 (n, 2): origin index, destination index
    weight: np.ndarray             # float64 (n,)
    o_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # station OD: unit per origin
    d_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    label: str = ""


def _stop_access(stops) -> Access:
    stops = np.asarray(stops, np.int32)
    return Access(stops, np.zeros(len(stops), np.int32), np.zeros(len(stops)), np.ones(len(stops), np.int8),
                  True, 0.0)


def station_od(st, units) -> OD:
    """Every ordered pair of the stations ``units`` (weight 1 each)."""
    units = np.asarray(sorted(int(u) for u in units), np.int64)
    pts = pd.DataFrame({"id": st.ids[units], "lon": st.lon[units], "lat": st.lat[units],
                        "stop_id": [""] * len(units)})
    acc = [_stop_access(st.stops(int(u))) for u in units]
    n = len(units)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = i != j
    rows = np.column_stack([i[keep], j[keep]]).astype(np.int64)
    return OD(pts, pts, acc, acc, rows, np.ones(len(rows)), units, units, "every ordered pair of the stations")


def places_od(net, places: pd.DataFrame) -> OD:
    """Every ordered pair of the evaluation's places (``id``, ``lon``, ``lat``; weight 1 each)."""
    pts = pd.DataFrame({"id": places["id"].astype(str).to_numpy(dtype=object),
                        "lon": places["lon"].to_numpy(dtype=float), "lat": places["lat"].to_numpy(dtype=float),
                        "stop_id": [""] * len(places)})
    acc = resolve_points(net, pts, local=True)
    n = len(pts)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = i != j
    rows = np.column_stack([i[keep], j[keep]]).astype(np.int64)
    return OD(pts, pts, acc, acc, rows, np.ones(len(rows)), label="every ordered pair of the evaluation's places")


def read_od(net, path: str | Path, *, datum: str = "wgs84") -> OD:
    """An OD set from a file (see the module docstring for the two layouts)."""
    p = Path(path)
    head = None
    if p.suffix.lower() in {".csv", ".txt"} and p.is_file():
        try:
            head = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
            msg = f"{p}: cannot read as CSV ({err})"
            raise InputError(msg, code="invalid_points_file", hint="save the file as UTF-8 CSV with a header") from err
        head.columns = [c.strip().lower() for c in head.columns]
    if head is not None and ({"from_lon", "to_lon"} <= set(head.columns) or {"from_stop", "to_stop"} <= set(head.columns)):
        return _od_list(net, head, p, datum)
    pts = read_points(p, datum=datum)
    acc = resolve_points(net, pts)
    n = len(pts)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = i != j
    rows = np.column_stack([i[keep], j[keep]]).astype(np.int64)
    return OD(pts, pts, acc, acc, rows, np.ones(len(rows)), label=f"every ordered pair of the points in {p.name}")


def _od_list(net, df: pd.DataFrame, p: Path, datum: str) -> OD:
    n = len(df)
    if n == 0:
        msg = f"{p}: the OD list has no rows"
        raise InputError(msg, code="empty_file")
    sides = {}
    for side in ("from", "to"):
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        stop = df.get(f"{side}_stop", pd.Series([""] * n)).str.strip().to_numpy(dtype=object)
        for i in range(n):
            if stop[i]:
                continue
            try:
                lon[i] = float(df[f"{side}_lon"].iat[i])
                lat[i] = float(df[f"{side}_lat"].iat[i])
            except (KeyError, ValueError):
                msg = f"{p}: row {i + 2}: '{side}' needs {side}_lon and {side}_lat numbers or a {side}_stop"
                raise InputError(msg, code="invalid_float", hint="use decimal degrees, e.g. 126.6254") from None
            if not (-180 <= lon[i] <= 180 and -90 <= lat[i] <= 90):
                msg = f"{p}: row {i + 2}: ({lon[i]}, {lat[i]}) is not a longitude/latitude pair"
                raise InputError(msg, code="number_out_of_range")
        has = np.isfinite(lon)
        if has.any():
            lon[has], lat[has] = convert_datum(lon[has], lat[has], datum)
        sides[side] = pd.DataFrame({"id": [f"{side}{i + 2}" for i in range(n)], "lon": lon, "lat": lat,
                                    "stop_id": stop})
    weight = np.ones(n)
    if "trips" in df.columns:
        w = pd.to_numeric(df["trips"], errors="coerce").to_numpy()
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 2
            msg = f"{p}: row {row}: field 'trips' must be a non-negative number, got {df['trips'].iat[row - 2]!r}"
            raise InputError(msg, code="invalid_float")
        weight = w.astype(np.float64)
    o_acc = resolve_points(net, sides["from"])
    d_acc = resolve_points(net, sides["to"])
    rows = np.column_stack([np.arange(n), np.arange(n)]).astype(np.int64)
    return OD(sides["from"], sides["to"], o_acc, d_acc, rows, weight, label=f"the OD list {p.name}")


@dataclass
class UseCount:
    """Weighted journeys per directed unit pair, and what was routed."""

    through: dict[tuple[int, int], float]
    od_rows: int = 0
    departures: int = 0
    journeys_routed: float = 0.0       # weighted, with a transit leg
    journeys_walk_only: float = 0.0
    journeys_unreachable: float = 0.0
    not_rebuilt: int = 0


def count_use(net, st, od: OD, departures, *, progress: bool = False) -> UseCount:
    """Route every OD row at every departure and count the transfers per unit pair."""
    cfg = net.config
    tt = net.timetable
    deps = [int(t) for t in departures]
    out = UseCount({}, len(od.rows), len(deps))
    if len(od.rows) == 0 or not deps:
        return out
    share = 1.0 / len(deps)
    station = len(od.o_unit) > 0
    by_origin: dict[int, list[int]] = {}
    for r, (o, _d) in enumerate(od.rows):
        by_origin.setdefault(int(o), []).append(r)
    for o, rows in bar(sorted(by_origin.items()), enabled=progress, desc="journeys", unit="origin"):
        acc = od.o_access[o]
        # walking alone, to this origin's destinations only (an OD list pairs rows one to one)
        dest = np.array([int(od.rows[r, 1]) for r in rows])
        walk_only = direct_walk_seconds(net, od.origins.iloc[[o]], od.destinations.iloc[dest])[0]
        walk_of = dict(zip(rows, walk_only.tolist(), strict=True))
        for t in deps:
            if len(acc.stops) == 0:
                out.journeys_unreachable += share * float(od.weight[rows].sum())
                continue
            res = earliest_arrival(tt, net.footpaths, net.change_s, acc.stops, acc.seconds, t,
                                   max_rounds=cfg.max_rides, max_duration_s=cfg.max_trip_duration_s, record=True)
            best = res.best.astype(np.int64)
            for r in rows:
                d = int(od.rows[r, 1])
                w = float(od.weight[r]) * share
                eg = od.d_access[d]
                if len(eg.stops) == 0:
                    out.journeys_unreachable += w
                    continue
                cand = best[eg.stops] + eg.seconds
                cand[best[eg.stops] >= INF] = np.iinfo(np.int64).max
                j = int(np.argmin(cand))
                walk = int(walk_of[r])
                if cand[j] == np.iinfo(np.int64).max or cand[j] - t > cfg.max_trip_duration_s:
                    if walk >= 0:
                        out.journeys_walk_only += w
                    else:
                        out.journeys_unreachable += w
                    continue
                if walk >= 0 and walk <= cand[j] - t:
                    out.journeys_walk_only += w
                    continue
                try:
                    legs = reconstruct(tt, net.footpaths, net.change_s, res, int(eg.stops[j]), acc.stops, acc.seconds)
                except (ValueError, RuntimeError):
                    out.not_rebuilt += 1
                    continue
                rides = [leg for leg in legs if leg.kind == "ride"]
                if not rides:
                    out.journeys_walk_only += w
                    continue
                out.journeys_routed += w
                hops = [(int(st.stop_unit[r1.to_stop]), int(st.stop_unit[r2.from_stop]))
                        for r1, r2 in itertools.pairwise(rides)]
                if station:
                    hops.append((int(od.o_unit[o]), int(st.stop_unit[rides[0].from_stop])))
                    hops.append((int(st.stop_unit[rides[-1].to_stop]), int(od.d_unit[d])))
                for u1, u2 in hops:
                    if u1 >= 0 and u2 >= 0 and u1 != u2:
                        out.through[(u1, u2)] = out.through.get((u1, u2), 0.0) + w
    return out
