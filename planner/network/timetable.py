"""The timetable of one service date in RAPTOR layout: plain arrays for the kernels.

:func:`build_timetable` takes one or several feeds, a service date and a time window and
returns a :class:`Timetable`:

* **stops**: every boarding stop (``location_type`` 0 or 4) of every feed, IDs namespaced
  ``"<feed_id>:<stop_id>"``, index ``0..S-1``;
* **patterns**: trips of one route that visit the same stops in the same order with the same
  pickup/drop-off rules; trips are sorted by departure within each pattern, and a pattern
  whose trips overtake each other is split so that every pattern is FIFO (a later trip never
  arrives or departs before an earlier one at any stop, which RAPTOR's trip search needs);
* **stop times** in seconds after midnight of the service date, trip-major per pattern
  (``arrival[pattern_times_ptr[p] + k * L + i]`` is trip ``k``'s arrival at the ``i``-th stop of
  pattern ``p``, which has ``L`` stops);
* a **stop -> patterns** index with the position of the stop in each pattern;
* route, operator (agency), feed and mode per pattern;
* stop-to-stop transfers from transfers.txt (station-level rules expanded to child stops).

Times of trips of the *previous* service day that run past midnight (``25:10:00``) appear
shifted by -24 h, and a window that ends after midnight takes trips of the next service day
shifted by +24 h, so overnight trains are where they belong. Missing intermediate times
(``timepoint`` 0 stops) are interpolated by distance along the trip (``shape_dist_traveled``
where every stop of the trip has it, straight-line distance between stops otherwise).
Feeds in other time zones are shifted to the first feed's zone for the service date.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.timeofday import hhmm
from planner.errors import ConfigError, NoServiceError
from planner.ingest.gtfs.feed import Feed, FeedSet
from planner.ingest.gtfs.modes import MODES, modes_of_route_types
from planner.ingest.gtfs.service import service_date_range, to_date
from planner.network.trip_events import FeedEvents, feed_events, gather

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["RAIL_MODES", "Timetable", "build_timetable", "rail_segments", "rail_stop_mask"]

DAY = 86_400


@dataclass
class Timetable:
    """A service date's timetable as arrays (see the module docstring for the layout).

    Index arrays are ``int32`` unless stated; times are ``int32`` seconds after midnight of
    ``service_date`` in ``timezone`` (negative for trips that started the day before).
    """

    service_date: np.datetime64
    window: tuple[int, int]
    timezone: str
    feed_ids: list[str]
    # stops
    stop_ids: np.ndarray          # object, namespaced
    stop_names: np.ndarray        # object
    stop_names_en: np.ndarray     # object: English name (stop_name_en or translations.txt), "" if none
    stop_lat: np.ndarray          # float64
    stop_lon: np.ndarray          # float64
    stop_parent: np.ndarray       # object, namespaced parent station id or ""
    stop_feed: np.ndarray         # int16, index into feed_ids
    # patterns
    pattern_stops_ptr: np.ndarray
    pattern_stops: np.ndarray
    pattern_board: np.ndarray     # bool, aligned with pattern_stops
    pattern_alight: np.ndarray    # bool, aligned with pattern_stops
    pattern_trips_ptr: np.ndarray  # into trip arrays (trips grouped by pattern)
    pattern_times_ptr: np.ndarray  # int64, into arrival/departure
    pattern_route: np.ndarray
    pattern_mode: np.ndarray      # int8, index into planner.ingest.gtfs.modes.MODES
    pattern_operator: np.ndarray
    pattern_feed: np.ndarray      # int16
    arrival: np.ndarray
    departure: np.ndarray
    # trips (grouped by pattern, sorted by departure within a pattern)
    trip_ids: np.ndarray          # object, namespaced
    trip_pattern: np.ndarray
    trip_day_offset: np.ndarray   # int8: service day relative to service_date
    # stop -> patterns
    stop_patterns_ptr: np.ndarray
    stop_patterns: np.ndarray
    stop_pattern_pos: np.ndarray
    # routes and operators
    route_ids: np.ndarray         # object, namespaced
    route_names: np.ndarray       # object (short name, else long name)
    route_types: np.ndarray       # int32
    operator_ids: np.ndarray      # object, namespaced agency ids
    operator_names: np.ndarray    # object
    # transfers.txt, stop level
    transfer_from: np.ndarray
    transfer_to: np.ndarray
    transfer_min_s: np.ndarray
    transfer_type: np.ndarray     # int8 (0-3)
    interpolated_times: int = 0
    split_patterns: int = 0
    stats: dict = field(default_factory=dict)

    @property
    def n_stops(self) -> int:
        return len(self.stop_ids)

    @property
    def n_patterns(self) -> int:
        return len(self.pattern_route)

    @property
    def n_trips(self) -> int:
        return len(self.trip_ids)

    @property
    def n_stop_events(self) -> int:
        """Number of (trip, stop) events in the timetable."""
        return len(self.arrival)

    def stop_index(self) -> dict[str, int]:
        """Namespaced stop id -> index."""
        return {s: i for i, s in enumerate(self.stop_ids)}

    def pattern_trip_times(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """(arrival, departure) of pattern ``p`` as (trips x stops) arrays."""
        n_st = self.pattern_stops_ptr[p + 1] - self.pattern_stops_ptr[p]
        n_tr = self.pattern_trips_ptr[p + 1] - self.pattern_trips_ptr[p]
        a, b = self.pattern_times_ptr[p], self.pattern_times_ptr[p + 1]
        return self.arrival[a:b].reshape(n_tr, n_st), self.departure[a:b].reshape(n_tr, n_st)

    def mode_names(self) -> np.ndarray:
        """Mode name per pattern."""
        return np.asarray(MODES, dtype=object)[self.pattern_mode]


def _as_feeds(feeds: Feed | FeedSet | Sequence[Feed]) -> list[Feed]:
    if isinstance(feeds, Feed):
        return [feeds]
    return list(feeds)


def _utc_offset_s(tz: str, day: np.datetime64) -> int:
    d = dt.date.fromisoformat(str(day))
    noon = dt.datetime(d.year, d.month, d.day, 12, tzinfo=zoneinfo.ZoneInfo(tz))
    off = noon.utcoffset()
    return int(off.total_seconds()) if off is not None else 0


#: the modes that count as rail (park-and-ride targets, cross-town rail transfers)
RAIL_MODES = ("rail", "high_speed_rail", "intercity_rail")


def rail_stop_mask(tt: Timetable) -> np.ndarray:
    """Bool per stop: a pattern of a :data:`RAIL_MODES` mode calls there."""
    codes = [MODES.index(m) for m in RAIL_MODES]
    rail = np.zeros(tt.n_stops, bool)
    for p in np.flatnonzero(np.isin(tt.pattern_mode, codes)):
        rail[tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]] = True
    return rail


def rail_segments(tt: Timetable) -> np.ndarray:
    """(k, 2) stop indices: the distinct consecutive stop pairs that a :data:`RAIL_MODES`
    pattern serves (either direction once), e.g. to draw the rail net stop to stop."""
    codes = [MODES.index(m) for m in RAIL_MODES]
    pairs = []
    for p in np.flatnonzero(np.isin(tt.pattern_mode, codes)):
        st = tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]
        if len(st) > 1:
            pairs.append(np.column_stack([st[:-1], st[1:]]))
    if not pairs:
        return np.zeros((0, 2), np.int64)
    both = np.sort(np.vstack(pairs).astype(np.int64), axis=1)
    both = both[both[:, 0] != both[:, 1]]
    return np.unique(both, axis=0)


def build_timetable(
    feeds: Feed | FeedSet | Sequence[Feed],
    date: str | dt.date | np.datetime64,
    window: tuple[int, int] = (0, DAY - 1),
) -> Timetable:
    """Build the RAPTOR timetable of ``date`` for trips touching ``window``.

    Parameters
    ----------
    feeds
        One feed, a :class:`FeedSet`, or a list of feeds (feed ids must differ).
    date
        The service date (``YYYY-MM-DD``).
    window
        (start, end) in seconds after midnight of ``date``; trips with any stop event in it
        are kept. The default keeps every trip running during the service date (00:00 to
        23:59:59), including trips of the previous service day still running after midnight.

    Raises
    ------
    NoServiceError
        When no trip runs on ``date`` in the window (the message gives each feed's service
        date range).
    """
    flist = _as_feeds(feeds)
    day = to_date(date)
    t0, t1 = int(window[0]), int(window[1])
    if t1 < t0:
        msg = f"window ends ({t1} s) before it starts ({t0} s)"
        raise ConfigError(msg, code="invalid_window")
    ref_tz = flist[0].timezone
    ref_off = _utc_offset_s(ref_tz, day)
    events: list[FeedEvents] = []
    for f in flist:
        shift = ref_off - _utc_offset_s(f.timezone, day)
        ev = feed_events(f, day, t0, t1, shift)
        if ev is not None:
            events.append(ev)
    if not events:
        ranges = []
        for f in flist:
            first, last, _n = service_date_range(f)
            if first is None:
                ranges.append(f"{f.feed_id}: no service dates")
            else:
                ranges.append(f"{f.feed_id}: {first} to {last}")
        msg = f"no trips run on {day} between {hhmm(t0)} and {hhmm(t1)}"
        raise NoServiceError(msg, code="planner_no_service_on_date",
                             hint="choose a date in the feeds' service range (" + "; ".join(ranges) + ")")
    return _assemble(flist, events, day, (t0, t1), ref_tz)


def _assemble(flist: list[Feed], events: list[FeedEvents], day, window, tz: str) -> Timetable:
    n_interp = sum(e.interpolated for e in events)
    feed_ids = [f.feed_id for f in flist]
    feed_index = {fid: i for i, fid in enumerate(feed_ids)}
    # -- stops: every boarding stop of every feed (namespaced), in feed then file order
    stop_frames = []
    for f in flist:
        s = f.namespaced("stops").assign(_name_en=f.english_stop_names().to_numpy(dtype=object))
        lt = s["location_type"].fillna(0).astype(np.int64).to_numpy()
        stop_frames.append(s.loc[np.isin(lt, [0, 4])])
    stops = pd.concat(stop_frames, ignore_index=True)
    stop_ids = stops["stop_id"].to_numpy(dtype=object)
    sindex = pd.Index(stop_ids)
    # -- routes and operators
    route_frames, agency_frames = [], []
    for f in flist:
        route_frames.append(f.namespaced("routes"))
        agency_frames.append(f.namespaced("agency"))
    routes = pd.concat(route_frames, ignore_index=True)
    agencies = pd.concat(agency_frames, ignore_index=True)
    inst_route = np.concatenate([e.inst_route for e in events])
    used_routes = pd.Index(sorted(pd.unique(inst_route)))
    routes = routes.set_index("route_id").loc[used_routes].reset_index()
    rindex = pd.Index(routes["route_id"])
    aindex = pd.Index(agencies["agency_id"] + "|" + agencies["feed_id"])
    route_op = aindex.get_indexer(routes["agency_id"] + "|" + routes["feed_id"])
    route_type = routes["route_type"].astype(np.int64).to_numpy()
    route_mode = modes_of_route_types(route_type)
    # -- events to arrays: instances (trip, service day) in namespaced-name order, their rows
    # gathered once (a next-day trip is an instance pointing at the same rows)
    uids = [u for e in events for u in e.uids()]
    inst = np.asarray(sorted(range(len(uids)), key=uids.__getitem__), dtype=np.int64)
    inst_day = np.concatenate([e.inst_day for e in events])
    stop_maps = [sindex.get_indexer(e.stop_ids).astype(np.int64) for e in events]
    ev_stop, arr, dep, board, alight, length = gather(events, inst, stop_maps)
    starts = np.cumsum(length) - length
    # stop_times pointing at a station (not boardable): the trip is dropped
    bad = np.add.reduceat((ev_stop < 0).astype(np.int64), starts) > 0 if len(starts) else np.zeros(0, bool)
    if bad.any():
        keep_rows = np.repeat(~bad, length)
        ev_stop, arr, dep = ev_stop[keep_rows], arr[keep_rows], dep[keep_rows]
        board, alight = board[keep_rows], alight[keep_rows]
        inst, length = inst[~bad], length[~bad]
        starts = np.cumsum(length) - length
    ends = starts + length
    trip_uid = np.asarray([uids[i] for i in inst.tolist()], dtype=object)  # per trip
    trip_route = rindex.get_indexer(inst_route[inst]).astype(np.int32)
    day_off = inst_day[inst]
    del uids, inst_route
    # -- group trips into patterns by (route, stops, board, alight)
    groups: dict[bytes, list[int]] = {}
    for t, (a, b) in enumerate(zip(starts, ends, strict=True)):
        key = (trip_route[t].tobytes() + ev_stop[a:b].tobytes() + board[a:b].tobytes() + alight[a:b].tobytes())
        groups.setdefault(key, []).append(t)
    # deterministic pattern order: route id, then stop sequence ids, then first departure
    keyed = []
    for key, tlist in groups.items():
        a0 = starts[tlist[0]]
        b0 = ends[tlist[0]]
        first_dep = min(dep[starts[t]] for t in tlist)
        keyed.append((str(rindex[trip_route[tlist[0]]]), tuple(stop_ids[ev_stop[a0:b0]]), first_dep, key, tlist))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    p_stops, p_board, p_alight, p_route = [], [], [], []
    p_times_arr, p_times_dep, p_trips = [], [], []
    split_count = 0
    for _rid, _sids, _fd, _key, tlist in keyed:
        a0, b0 = starts[tlist[0]], ends[tlist[0]]
        L = b0 - a0
        A = np.stack([arr[starts[t]:ends[t]] for t in tlist])
        D = np.stack([dep[starts[t]:ends[t]] for t in tlist])
        names = np.array([trip_uid[t] for t in tlist], dtype=object)
        order = np.lexsort((names, *[D[:, i] for i in range(L - 1, -1, -1)]))
        A, D, tl = A[order], D[order], [tlist[i] for i in order]
        # FIFO split: greedy first-fit into sub-patterns
        subs: list[list[int]] = []
        lasts: list[tuple[np.ndarray, np.ndarray]] = []
        for r in range(len(tl)):
            placed = False
            for s_i, (la, ld) in enumerate(lasts):
                if np.all(la <= A[r]) and np.all(ld <= D[r]):
                    subs[s_i].append(r)
                    lasts[s_i] = (A[r], D[r])
                    placed = True
                    break
            if not placed:
                subs.append([r])
                lasts.append((A[r], D[r]))
        split_count += len(subs) - 1
        for sub in subs:
            p_stops.append(ev_stop[a0:b0])
            p_board.append(board[a0:b0])
            p_alight.append(alight[a0:b0])
            p_route.append(trip_route[tlist[0]])
            p_times_arr.append(A[sub].ravel())
            p_times_dep.append(D[sub].ravel())
            p_trips.append([tl[r] for r in sub])
    P = len(p_stops)
    pattern_stops_ptr = np.zeros(P + 1, np.int32)
    pattern_stops_ptr[1:] = np.cumsum([len(s) for s in p_stops])
    pattern_trips_ptr = np.zeros(P + 1, np.int32)
    pattern_trips_ptr[1:] = np.cumsum([len(t) for t in p_trips])
    pattern_times_ptr = np.zeros(P + 1, np.int64)
    pattern_times_ptr[1:] = np.cumsum([len(a) for a in p_times_arr])
    pattern_stops = np.concatenate(p_stops).astype(np.int32)
    trip_order = np.concatenate([np.asarray(t, dtype=np.int64) for t in p_trips])
    trip_pattern = np.repeat(np.arange(P, dtype=np.int32), np.diff(pattern_trips_ptr))
    pattern_route = np.asarray(p_route, dtype=np.int32)
    # -- stop -> patterns index
    pos = np.concatenate([np.arange(len(s), dtype=np.int32) for s in p_stops])
    pat = np.repeat(np.arange(P, dtype=np.int32), np.diff(pattern_stops_ptr))
    order = np.lexsort((pos, pat, pattern_stops))
    S = len(stop_ids)
    counts = np.bincount(pattern_stops, minlength=S)
    stop_patterns_ptr = np.zeros(S + 1, np.int32)
    stop_patterns_ptr[1:] = np.cumsum(counts)
    transfers = _transfers(flist, sindex)
    routes_short = routes["route_short_name"].where(routes["route_short_name"] != "", routes["route_long_name"])
    arrival = np.concatenate(p_times_arr)
    departure = np.concatenate(p_times_dep)
    tt = Timetable(
        service_date=day,
        window=window,
        timezone=tz,
        feed_ids=feed_ids,
        stop_ids=stop_ids,
        stop_names=stops["stop_name"].to_numpy(dtype=object),
        stop_names_en=stops["_name_en"].to_numpy(dtype=object),
        stop_lat=stops["stop_lat"].to_numpy(dtype=np.float64),
        stop_lon=stops["stop_lon"].to_numpy(dtype=np.float64),
        stop_parent=stops["parent_station"].to_numpy(dtype=object),
        stop_feed=stops["feed_id"].map(feed_index).to_numpy(dtype=np.int16),
        pattern_stops_ptr=pattern_stops_ptr,
        pattern_stops=pattern_stops,
        pattern_board=np.concatenate(p_board).astype(bool),
        pattern_alight=np.concatenate(p_alight).astype(bool),
        pattern_trips_ptr=pattern_trips_ptr,
        pattern_times_ptr=pattern_times_ptr,
        pattern_route=pattern_route,
        pattern_mode=route_mode[pattern_route].astype(np.int8),
        pattern_operator=route_op[pattern_route].astype(np.int32),
        pattern_feed=routes["feed_id"].map(feed_index).to_numpy(dtype=np.int16)[pattern_route],
        arrival=np.round(arrival).astype(np.int32),
        departure=np.round(departure).astype(np.int32),
        trip_ids=trip_uid[trip_order],
        trip_pattern=trip_pattern,
        trip_day_offset=day_off[trip_order].astype(np.int8),
        stop_patterns_ptr=stop_patterns_ptr,
        stop_patterns=pat[order].astype(np.int32),
        stop_pattern_pos=pos[order].astype(np.int32),
        route_ids=routes["route_id"].to_numpy(dtype=object),
        route_names=routes_short.to_numpy(dtype=object),
        route_types=route_type.astype(np.int32),
        operator_ids=agencies["agency_id"].to_numpy(dtype=object),
        operator_names=agencies["agency_name"].to_numpy(dtype=object),
        transfer_from=transfers[0],
        transfer_to=transfers[1],
        transfer_min_s=transfers[2],
        transfer_type=transfers[3],
        interpolated_times=n_interp,
        split_patterns=split_count,
    )
    tt.stats = {
        "stops": tt.n_stops, "patterns": tt.n_patterns, "trips": tt.n_trips,
        "stop_events": tt.n_stop_events, "interpolated_times": n_interp, "fifo_splits": split_count,
    }
    return tt


def _transfers(flist: list[Feed], sindex: pd.Index) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stop-level transfers.txt rules; a station's rule applies to each of its child stops."""
    rows_f, rows_t, rows_m, rows_ty = [], [], [], []
    for f in flist:
        tf = f.namespaced("transfers")
        if tf.empty:
            continue
        tf = tf.loc[(tf["from_stop_id"] != "") & (tf["to_stop_id"] != "") & (tf["from_route_id"] == "")
                    & (tf["to_route_id"] == "") & (tf["from_trip_id"] == "") & (tf["to_trip_id"] == "")]
        if tf.empty:
            continue
        stops = f.namespaced("stops")
        children: dict[str, list[str]] = {}
        for sid, parent in zip(stops["stop_id"], stops["parent_station"], strict=True):
            if parent:
                children.setdefault(parent, []).append(sid)
        for fr, to, ty, mt in zip(tf["from_stop_id"], tf["to_stop_id"], tf["transfer_type"].fillna(0),
                                  tf["min_transfer_time"].fillna(0), strict=True):
            ty = int(ty)
            if ty > 3:
                continue
            for a in children.get(fr, [fr]):
                for b in children.get(to, [to]):
                    ia, ib = sindex.get_indexer([a, b])
                    if ia < 0 or ib < 0:
                        continue
                    rows_f.append(ia)
                    rows_t.append(ib)
                    rows_m.append(int(mt) if ty == 2 else 0)
                    rows_ty.append(ty)
    return (np.asarray(rows_f, np.int32), np.asarray(rows_t, np.int32),
            np.asarray(rows_m, np.int32), np.asarray(rows_ty, np.int8))
