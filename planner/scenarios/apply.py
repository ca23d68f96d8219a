"""Apply a :class:`~planner.scenarios.spec.Scenario` to copies of the feeds and of the network.

* ``remove_route`` drops the route's trips (all trips of every route it names);
* ``adjust_headway`` with ``factor`` ``f`` < 1 inserts, between two consecutive trips of one
  stop pattern and service, ``round(1/f) - 1`` copies of the earlier trip shifted evenly
  across the gap; ``f`` > 1 keeps every ``round(f)``-th trip; ``headway_min`` replaces the
  trips of each pattern by copies of its first trip every ``headway`` from its first to
  its last departure (times between stops taken from the trip nearest in time);
* ``add_line`` becomes a new feed ``scenario_<name>`` (own agency, stops at the matched
  coordinates, one route, trips in both directions) running on every date the baseline
  feeds run; run times come from ``run_times_min`` or from the kinematic model
  (:mod:`planner.scenarios.runtimes`) on segment lengths = straight-line distance times
  ``alignment_factor``;
* ``add_transfer`` adds a footpath (both ways unless ``both_ways: false``) to the network
  after it is built, with ``walk_s`` seconds (or ``walk_m`` at the walking speed);
* ``fare_policy`` is left to the fare analysis.

Every changed feed gets a new digest (old digest + scenario digest), so networks of a
scenario are cached apart from the baseline's.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import warnings
from copy import copy
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.datum import gcj02_offset_suspect
from planner.common.geodesy import haversine_m
from planner.common.notices import Notices, Severity
from planner.errors import FeedError, ScenarioError
from planner.ingest.gtfs.consolidation import normalise_name
from planner.ingest.gtfs.feed import Feed, FeedSet, read_feed
from planner.ingest.gtfs.service import service_day_counts
from planner.ingest.gtfs.writer import write_feed_zip
from planner.network.links import LINK_TRANSFERS_TXT, Footpaths
from planner.scenarios import runtimes
from planner.scenarios.spec import AddLine, AddTransfer, AdjustHeadway, RemoveRoute, Scenario

if TYPE_CHECKING:
    from planner.network.model import Network

__all__ = ["ScenarioWarning", "added_transfers", "apply_to_feeds", "apply_to_network", "line_geometry", "resolve_stop"]

log = logging.getLogger(__name__)


class ScenarioWarning(UserWarning):
    """A scenario loads but something in it is probably not what was meant."""


def _err(scn: Scenario, line: int, message: str, hint: str | None = None, code: str = "invalid_scenario"):
    where = f"{scn.path}:{line}" if scn.path else f"line {line}"
    return ScenarioError(f"{where}: {message}", code=code, hint=hint)


# ---------------------------------------------------------------------- lookups

def _find_routes(fs: FeedSet, ref: str) -> list[tuple[str, str]]:
    """(feed_id, route_id) of every route a reference names."""
    out = []
    fid, _, rid = ref.partition(":")
    if rid and fid in fs.ids:
        routes = fs[fid].routes
        if (routes["route_id"] == rid).any():
            return [(fid, rid)]
    for f in fs:
        r = f.routes
        hit = (r["route_id"] == ref) | (r["route_short_name"] == ref) | (r["route_long_name"] == ref)
        out += [(f.feed_id, x) for x in r.loc[hit, "route_id"]]
    return out


def resolve_stop(fs: FeedSet, text: str) -> tuple[float, float, str, list[str]]:
    """(lon, lat, name, [namespaced stop ids]) of a stop given by id or station name.

    Raises ScenarioError-like ValueError messages for the caller to locate.
    """
    fid, _, sid = text.partition(":")
    if sid and fid in fs.ids:
        st = fs[fid].stops
        row = st.loc[st["stop_id"] == sid]
        if len(row):
            r = row.iloc[0]
            return float(r["stop_lon"]), float(r["stop_lat"]), str(r["stop_name"]), [text]
    cands = []
    key = normalise_name(text)
    for f in fs:
        st = f.stops
        lt = st["location_type"].fillna(0).astype(np.int64).to_numpy()
        ok = (lt == 0) | (lt == 1)
        exact = ok & ((st["stop_id"] == text) | (st["stop_name"] == text)).to_numpy(dtype=bool)
        if not exact.any():
            names = st["stop_name"].to_numpy(dtype=object)
            exact = ok & np.array([normalise_name(str(n)) == key for n in names], dtype=bool) if key else exact
        for i in np.flatnonzero(exact):
            cands.append((f.feed_id, st.iloc[i]))
    if not cands:
        msg = f"no stop or station named {text!r} in the feeds"
        raise LookupError(msg)
    lat = np.array([float(r["stop_lat"]) for _, r in cands])
    lon = np.array([float(r["stop_lon"]) for _, r in cands])
    spread = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :]).max()
    if spread > 3000:
        where = ", ".join(f"{fid}:{r['stop_id']}" for fid, r in cands[:5])
        msg = f"{text!r} names stops {spread / 1000:.0f} km apart ({where})"
        raise LookupError(msg)
    # prefer a station's coordinates
    best = next(((fid, r) for fid, r in cands if int(r["location_type"] or 0) == 1), cands[0])
    return (float(best[1]["stop_lon"]), float(best[1]["stop_lat"]), str(best[1]["stop_name"]),
            [f"{fid}:{r['stop_id']}" for fid, r in cands])


# ---------------------------------------------------------------------- feeds

def _copy_feed(f: Feed, scn: Scenario) -> Feed:
    digest = hashlib.sha256((f.digest + scn.digest).encode()).hexdigest()
    return Feed(f.feed_id, f.path, dict(f.tables), f.notices, digest, f.present, f.trips_in_file,
                dict(f.dropped_trips))


def apply_to_feeds(fs: FeedSet, scn: Scenario) -> tuple[FeedSet, list[dict]]:
    """New feeds with the scenario's feed-level changes; and a report (one dict per change).

    The baseline ``fs`` is not modified.
    """
    feeds = {f.feed_id: f for f in fs}
    changed: set[str] = set()
    report: list[dict] = []

    def editable(fid: str) -> Feed:
        if fid not in changed:
            feeds[fid] = _copy_feed(feeds[fid], scn)
            changed.add(fid)
        return feeds[fid]

    new_feeds: list[Feed] = []
    for ch in scn.changes:
        if isinstance(ch, RemoveRoute):
            hits = _find_routes(FeedSet(list(feeds.values()), Notices()), ch.route)
            if not hits:
                raise _err(scn, ch.line, f"remove_route: no route {ch.route!r} in the feeds",
                           hint="use FEED:ROUTE_ID or the route's short name", code="unknown_route")
            n = 0
            for fid, rid in hits:
                f = editable(fid)
                n += _drop_route(f, rid)
            report.append({"change": "remove_route", "route": ch.route, "routes": len(hits), "trips_removed": n})
        elif isinstance(ch, AdjustHeadway):
            hits = _find_routes(FeedSet(list(feeds.values()), Notices()), ch.route)
            if not hits:
                raise _err(scn, ch.line, f"adjust_headway: no route {ch.route!r} in the feeds",
                           hint="use FEED:ROUTE_ID or the route's short name", code="unknown_route")
            before = after = 0
            for fid, rid in hits:
                f = editable(fid)
                b, a = _adjust_headway(f, rid, ch)
                before += b
                after += a
            report.append({"change": "adjust_headway", "route": ch.route, "trips_before": before, "trips_after": after})
        elif isinstance(ch, AddLine):
            feed, info = _new_line_feed(FeedSet(list(feeds.values()) + new_feeds, Notices()), scn, ch)
            new_feeds.append(feed)
            report.append({"change": "add_line", **info})
        elif isinstance(ch, AddTransfer):
            report.append({"change": "add_transfer", "from": ch.from_stop, "to": ch.to_stop})
    out = FeedSet([feeds[f.feed_id] for f in fs] + new_feeds, fs.notices)
    return out, report


def _drop_route(f: Feed, route_id: str) -> int:
    t = f.tables
    trips = t["trips"]
    gone = trips.loc[trips["route_id"] == route_id, "trip_id"]
    n = len(gone)
    t["trips"] = trips.loc[trips["route_id"] != route_id].reset_index(drop=True)
    for name in ("stop_times", "frequencies"):
        df = t[name]
        if len(df):
            t[name] = df.loc[~df["trip_id"].isin(gone)].reset_index(drop=True)
    return n


def _adjust_headway(f: Feed, route_id: str, ch: AdjustHeadway) -> tuple[int, int]:
    t = f.tables
    trips = t["trips"]
    st = t["stop_times"]
    mine = trips.loc[trips["route_id"] == route_id]
    if mine.empty:
        return 0, 0
    sub = st.loc[st["trip_id"].isin(mine["trip_id"])].sort_values(["trip_id", "stop_sequence"], kind="stable")
    first_dep = sub.groupby("trip_id", sort=False)["departure_time"].first()
    pattern = sub.groupby("trip_id", sort=False)["stop_id"].agg(lambda s: "|".join(s))
    # only the columns needed here: a feed's extra trips.txt columns must not collide
    info = pd.DataFrame({"trip_id": mine["trip_id"].to_numpy(), "service_id": mine["service_id"].to_numpy()})
    info["dep"] = first_dep.reindex(info["trip_id"]).to_numpy()
    info["pattern"] = pattern.reindex(info["trip_id"]).to_numpy()
    info = info.dropna(subset=["dep"]).reset_index(drop=True)
    new_trips, _new_st, keep = [], [], set()
    for (_pat, _svc), g in info.groupby(["pattern", "service_id"], sort=True):
        g = g.sort_values(["dep", "trip_id"], kind="stable")
        ids = g["trip_id"].tolist()
        deps = g["dep"].astype(np.int64).tolist()
        if ch.factor is not None and ch.factor > 1:
            k = max(round(ch.factor), 1)
            keep.update(ids[::k])
            continue
        if ch.factor is not None:
            n = max(round(1.0 / ch.factor), 1)
            keep.update(ids)
            for a in range(len(ids) - 1):
                gap = deps[a + 1] - deps[a]
                for m in range(1, n):
                    shift = round(gap * m / n)
                    new_trips.append((ids[a], shift, f"{ids[a]}~hw{m}"))
            continue
        # a fixed headway over the pattern's span, copies of the nearest existing trip
        span = range(deps[0], deps[-1] + 1, max(int(ch.headway_s or 60), 60))
        for k, d in enumerate(span):
            near = int(np.argmin(np.abs(np.asarray(deps) - d)))
            new_trips.append((ids[near], d - deps[near], f"{ids[near]}~hw{k}"))
    before = len(info)
    if ch.factor is None:
        keep = set()
    drop_ids = set(info["trip_id"]) - keep
    trips2 = trips.loc[~trips["trip_id"].isin(drop_ids)]
    st2 = st.loc[~st["trip_id"].isin(drop_ids)]
    if new_trips:
        src = pd.DataFrame(new_trips, columns=["src", "shift", "new_id"])
        tr_new = trips.merge(src, left_on="trip_id", right_on="src")
        tr_new["trip_id"] = tr_new["new_id"].astype("str")
        tr_new = tr_new[trips.columns]
        st_new = st.merge(src, left_on="trip_id", right_on="src")
        for c in ("arrival_time", "departure_time"):
            st_new[c] = st_new[c] + st_new["shift"]
        st_new["trip_id"] = st_new["new_id"].astype("str")
        st_new = st_new[st.columns]
        trips2 = pd.concat([trips2, tr_new], ignore_index=True)
        st2 = pd.concat([st2, st_new], ignore_index=True)
    t["trips"] = trips2.reset_index(drop=True)
    t["stop_times"] = st2.reset_index(drop=True)
    after = int(trips2["route_id"].eq(route_id).sum())
    return before, after


def line_geometry(fs: FeedSet, ch: AddLine, scn: Scenario) -> tuple[list[tuple[float, float, str, list[str]]], np.ndarray]:
    """Resolved stops of a new line ((lon, lat, name, matched ids) each) and segment lengths (m)."""
    pts = []
    for ref in ch.stops:
        if ref.lon is not None:
            _warn_if_gcj02(fs, ref, ch, scn)
            pts.append((ref.lon, ref.lat, ref.name, []))
            continue
        try:
            pts.append(resolve_stop(fs, ref.text))
        except LookupError as err:
            raise _err(scn, ref.line, f"add_line '{ch.id}': {err}",
                       hint="write the stop's exact name, its FEED:ID, or {lon, lat, name}",
                       code="unknown_station") from None
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    seg = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]) * ch.alignment_factor
    return pts, seg


def _warn_if_gcj02(fs: FeedSet, ref, ch: AddLine, scn: Scenario) -> None:
    """Warn when a WGS84 point sits at the typical GCJ-02 offset from the matching station:
    the coordinates were probably copied from a Chinese map service without ``datum``."""
    if ref.datum != "wgs84":
        return
    for f in fs:
        st = f.stops
        names = st["stop_name"].to_numpy(dtype=object)
        key = normalise_name(ref.name)
        hit = np.flatnonzero([normalise_name(str(n)) == key for n in names]) if key else []
        for i in hit:
            lon0, lat0 = float(st["stop_lon"].iloc[i]), float(st["stop_lat"].iloc[i])
            if bool(np.asarray(gcj02_offset_suspect(ref.lon, ref.lat, lon0, lat0)).ravel()[0]):
                where = f"{scn.path}:{ref.line}" if scn.path else f"line {ref.line}"
                msg = (f"{where}: add_line '{ch.id}': stop '{ref.name}' sits at the typical GCJ-02 offset from "
                       f"{f.feed_id}:{st['stop_id'].iloc[i]}; if the coordinates come from a Chinese map service, "
                       "add 'datum: gcj02'")
                log.warning(msg)
                warnings.warn(msg, ScenarioWarning, stacklevel=2)
                return


def _run_times(ch: AddLine, seg_m: np.ndarray, scn: Scenario) -> list[int]:
    if ch.run_times_s is not None:
        return list(ch.run_times_s)

    kwargs = {}
    if ch.accel_mps2 is not None:
        kwargs["accel_mps2"] = ch.accel_mps2
    if ch.brake_mps2 is not None:
        kwargs["brake_mps2"] = ch.brake_mps2
    if (seg_m <= 0).any():
        raise _err(scn, ch.line, f"add_line '{ch.id}': two consecutive stops are at the same place",
                   hint="give run_times_min for such segments")
    secs = runtimes.segment_run_times(seg_m, ch.speed_class_kmh, **kwargs)
    return [round(s) for s in secs]


def _new_line_feed(fs: FeedSet, scn: Scenario, ch: AddLine) -> tuple[Feed, dict]:
    pts, seg = line_geometry(fs, ch, scn)
    run = _run_times(ch, seg, scn)
    fid = f"scenario_{scn.name}_{ch.id}"[:64]
    stops = pd.DataFrame({
        "stop_id": [f"{ch.id}_{k}" for k in range(len(pts))],
        "stop_name": [p[2] for p in pts],
        "stop_lat": [p[1] for p in pts], "stop_lon": [p[0] for p in pts],
    })
    # offsets along the line: depart first stop at 0, dwell at intermediate stops
    arr = [0]
    dep = [0]
    for k, r in enumerate(run):
        a = dep[-1] + int(r)
        arr.append(a)
        dep.append(a + (ch.dwell_s if k + 1 < len(run) else 0))
    trips, st = [], []
    directions = [(0, list(range(len(pts))))]
    if ch.both_directions:
        directions.append((1, list(range(len(pts)))[::-1]))
    for direction, order in directions:
        # reverse direction: same run times in reverse segment order
        seg_run = run if direction == 0 else run[::-1]
        a_off, d_off = [0], [0]
        for k, r in enumerate(seg_run):
            a = d_off[-1] + int(r)
            a_off.append(a)
            d_off.append(a + (ch.dwell_s if k + 1 < len(seg_run) else 0))
        last = max(ch.departures_s, default=0) + d_off[-1]
        if last >= _GTFS_TIME_END:
            raise _err(scn, ch.line, f"add_line '{ch.id}': its last trip would reach the terminus {last / 3600:,.0f} h "
                       "after midnight; GTFS times end at 999:59:59",
                       hint="check run_times_min, speed_class_kmh and dwell_min (a speed in m/s instead of km/h?)")
        for t0 in ch.departures_s:
            tid = f"{ch.id}_{direction}_{t0 // 3600:02d}{t0 % 3600 // 60:02d}"
            trips.append({"route_id": ch.id, "service_id": "scenario", "trip_id": tid, "direction_id": direction})
            for seq, k in enumerate(order):
                st.append({"trip_id": tid, "arrival_time": t0 + a_off[seq], "departure_time": t0 + d_off[seq],
                           "stop_id": f"{ch.id}_{k}", "stop_sequence": seq + 1})
    days = _baseline_days(fs)
    tables = {
        "agency": pd.DataFrame({"agency_id": ["op"], "agency_name": [ch.operator],
                                "agency_url": ["https://example.invalid/scenario"],
                                "agency_timezone": [fs.feeds[0].timezone]}),
        "stops": stops,
        "routes": pd.DataFrame({"route_id": [ch.id], "agency_id": ["op"], "route_short_name": [ch.id],
                                "route_long_name": [ch.name], "route_type": [ch.route_type]}),
        "trips": pd.DataFrame(trips),
        "stop_times": pd.DataFrame(st),
        "calendar_dates": pd.DataFrame({"service_id": "scenario",
                                        "date": np.asarray(days, dtype="datetime64[D]").astype("datetime64[s]"),
                                        "exception_type": 1}),
    }
    notices = Notices()
    try:
        feed = _feed_from_frames(fid, tables, hashlib.sha256((scn.digest + ch.id).encode()).hexdigest(), notices)
    except FeedError as err:
        # the line's own feed is unusable, e.g. a stop at (0, 0) was dropped and took every trip
        # with it; name the scenario and the root cause, not the temporary zip
        errors = [n for n in notices.sorted() if n.severity == Severity.ERROR and n.action != "fatal"]
        # the first cause first: a dropped stop before the stop times and trips it took along
        order = {"stops.txt": 0, "routes.txt": 1, "trips.txt": 2, "stop_times.txt": 3}
        errors.sort(key=lambda n: order.get(n.file, 4))
        causes, seen = [], set()
        for n in [*errors, *err.notices]:
            if (n.code, n.file) not in seen:
                seen.add((n.code, n.file))
                causes.append(n)
        why = "; ".join(f"{n.code}: {n.message}" + (f" ({n.file}, value {n.value})" if n.value != "" else "")
                        for n in causes[:3])
        raise _err(scn, ch.line, f"add_line '{ch.id}': the new line is not a usable timetable: {why}",
                   hint="check the stops' coordinates (lon, lat) and the times") from err
    length_km = float(seg.sum()) / 1000.0
    info = {"line": ch.id, "feed_id": fid, "stops": len(pts), "trips": len(trips), "length_km": round(length_km, 1),
            "end_to_end_min": round((arr[-1]) / 60.0, 1),
            "cost_million": None if ch.cost_per_km_million is None else round(ch.cost_per_km_million * length_km, 1),
            "matched": [p[3] for p in pts]}
    return feed, info


def _baseline_days(fs: FeedSet) -> list[str]:
    """Every date on which some baseline service runs (counted per day, never per service)."""
    days: set = set()
    for f in fs:
        res = service_day_counts(f)
        if res is not None:
            lo, counts = res
            days.update((np.flatnonzero(counts > 0.5) + lo).astype("datetime64[D]").tolist())
    return sorted(days)


_GTFS_TIME_END = 1000 * 3600  # 1000:00:00, one past the last time GTFS can write


def _feed_from_frames(fid: str, tables: dict[str, pd.DataFrame], digest: str, notices: Notices | None = None) -> Feed:
    """A Feed from plain frames, typed through the real loader (write + read, no shortcuts)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{fid}.zip"
        frames = {}
        for name, df in tables.items():
            frames[name] = df
        write_feed_zip(frames, path)
        feed = read_feed(path, fid, notices=notices)
    return replace(feed, digest=digest, path=Path(f"<scenario {fid}>"))


# ---------------------------------------------------------------------- network

def apply_to_network(net: Network, scn: Scenario) -> Network:
    """The network with the scenario's network-level changes (``add_transfer``); a copy."""
    adds = scn.of_kind(AddTransfer)
    if not adds:
        return net

    fp = net.footpaths
    src = np.repeat(np.arange(net.n_stops), np.diff(fp.ptr))
    s_list, d_list, t_list, m_list, k_list = [src], [fp.to], [fp.seconds], [fp.metres], [net.footpath_method]
    for ch in adds:
        try:
            a = net.stop_index(ch.from_stop)
            b = net.stop_index(ch.to_stop)
        except Exception as err:
            raise _err(scn, ch.line, f"add_transfer: {getattr(err, 'message', err)}", code="unknown_stop") from None
        secs = ch.walk_s if ch.walk_s is not None else int(np.ceil(ch.walk_m / net.config.walk_speed_mps))
        metres = ch.walk_m if ch.walk_m is not None else secs * net.config.walk_speed_mps
        pairs = [(a, b)] + ([(b, a)] if ch.both_ways else [])
        for x, y in pairs:
            s_list.append(np.array([x]))
            d_list.append(np.array([y]))
            t_list.append(np.array([secs]))
            m_list.append(np.array([metres]))
            k_list.append(np.array([LINK_TRANSFERS_TXT], np.int8))
    src = np.concatenate(s_list).astype(np.int64)
    dst = np.concatenate(d_list).astype(np.int64)
    sec = np.concatenate(t_list).astype(np.int64)
    met = np.concatenate(m_list).astype(np.float64)
    kind = np.concatenate(k_list).astype(np.int8)
    # the scenario's link replaces an existing one between the same stops (last wins)
    order = np.lexsort((np.arange(len(src))[::-1], dst, src))
    src, dst, sec, met, kind = src[order], dst[order], sec[order], met[order], kind[order]
    first = np.ones(len(src), bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, sec, met, kind = src[first], dst[first], sec[first], met[first], kind[first]
    ptr = np.zeros(net.n_stops + 1, np.int64)
    np.add.at(ptr, src + 1, 1)
    out = copy(net)
    out.footpaths = Footpaths(np.cumsum(ptr).astype(np.int32), dst.astype(np.int32), sec.astype(np.int32), met)
    out.footpath_method = kind
    out.key = hashlib.sha256((net.key + scn.digest).encode()).hexdigest()
    return out


def added_transfers(scn: Scenario) -> pd.DataFrame:
    """The scenario's ``add_transfer`` changes as a table: ``from_stop``, ``to_stop``,
    ``walk_m``, ``walk_s``, ``both_ways`` (what ``plan scenario export`` writes beside the
    feeds: a transfer between two feeds has no place in one GTFS feed)."""
    return pd.DataFrame([{"from_stop": a.from_stop, "to_stop": a.to_stop, "walk_m": a.walk_m, "walk_s": a.walk_s,
                          "both_ways": a.both_ways} for a in scn.of_kind(AddTransfer)])

