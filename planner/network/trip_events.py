"""The stop events of one feed's trips on a service date, as typed arrays (issue 17).

:func:`feed_events` reads a feed's stop times once into plain arrays (stop codes, times in
seconds as float64 until the timetable rounds them, pickup and drop-off rules), sorted by
trip then ``stop_sequence``, with missing intermediate times interpolated; the trips that
run on the date (and the days before and after, whose trips reach into the window) are
*instances*: a trip, a service day and a time offset, pointing at the trip's rows. A trip of
the next service day is one more instance of the same rows, not a copy of them; the rows
are gathered once, in the timetable's order, by :func:`gather`.

No Python object is made per stop time: ids become integer codes (``pandas.factorize`` on
the arrow strings), and the namespaced trip names (``"<feed>:<trip>"``, ``"@1d"`` for the
next day's copy) exist once per instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.geodesy import haversine_m
from planner.ingest.gtfs.frequencies import expand_frequencies
from planner.ingest.gtfs.service import active_services

if TYPE_CHECKING:
    from collections.abc import Sequence

    from planner.ingest.gtfs.feed import Feed

__all__ = ["FeedEvents", "feed_events", "gather"]

DAY = 86_400


@dataclass
class FeedEvents:
    """One feed's stop events: rows (a trip's rows are contiguous, in stop order) and the
    instances of its trips that run (see the module docstring)."""

    feed_id: str
    stop: np.ndarray          # int64 per row: code into stop_ids
    stop_ids: np.ndarray      # object: namespaced stop id per code
    arr: np.ndarray           # float64 per row, seconds (the trip's own service day)
    dep: np.ndarray
    board: np.ndarray         # bool per row (pickup_type != 1)
    alight: np.ndarray        # bool per row (drop_off_type != 1)
    trip_start: np.ndarray    # int64 per trip code: first row
    trip_end: np.ndarray      # int64 per trip code: one past the last row
    trip_ids: np.ndarray      # object per trip code: the feed's trip_id
    inst_trip: np.ndarray     # int64 per instance: trip code
    inst_day: np.ndarray      # int64 per instance: service day relative to the date
    inst_off: np.ndarray      # int64 per instance: seconds added to its times
    inst_route: np.ndarray    # object per instance: namespaced route id
    interpolated: int = 0

    def uids(self) -> list[str]:
        """Namespaced trip name per instance (``"<feed>:<trip>"``, ``"@<k>d"`` for day k != 0)."""
        p = f"{self.feed_id}:"
        return [p + self.trip_ids[t] + ("" if k == 0 else f"@{k}d")
                for t, k in zip(self.inst_trip.tolist(), self.inst_day.tolist(), strict=True)]


def interpolate(arr: np.ndarray, dep: np.ndarray, first: np.ndarray, lat_lon, sdt: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, int]:
    """(arrival, departure) float arrays with missing intermediate times interpolated by
    distance along the trip: ``shape_dist_traveled`` where every stop of the trip has it,
    straight-line distance between stops otherwise. ``first`` marks each trip's first row;
    ``lat_lon()`` gives the (lat, lon) of every row (called only when a time is missing)."""
    missing = np.isnan(arr) | np.isnan(dep)
    if not missing.any():
        return arr, dep, 0
    n = len(arr)
    lat, lon = lat_lon()
    seg = np.zeros(n)
    seg[1:] = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    seg[first] = 0.0
    seg = np.nan_to_num(seg)
    group = np.cumsum(first) - 1
    cum = pd.Series(seg).groupby(group).cumsum().to_numpy()
    trip_has_sdt = pd.Series(~np.isnan(sdt)).groupby(group).transform("all").to_numpy()
    dist = np.where(trip_has_sdt, sdt, cum)
    idx = np.arange(n, dtype=float)
    known = ~missing
    # previous / next known row within the trip (trip edges are always known)
    prev_i = pd.Series(np.where(known, idx, np.nan)).groupby(group).ffill().to_numpy()
    next_i = pd.Series(np.where(known, idx, np.nan)).groupby(group).bfill().to_numpy()
    m = np.flatnonzero(missing)
    pi = prev_i[m].astype(np.int64)
    ni = next_i[m].astype(np.int64)
    d0, d1 = dist[pi], dist[ni]
    span = d1 - d0
    frac = np.where(span > 0, (dist[m] - d0) / np.where(span > 0, span, 1.0), (m - pi) / np.maximum(ni - pi, 1))
    frac = np.clip(frac, 0.0, 1.0)
    t = np.round(dep[pi] + (arr[ni] - dep[pi]) * frac)
    arr = arr.copy()
    dep = dep.copy()
    arr[m] = t
    dep[m] = t
    return arr, dep, len(m)


def _first_valid(values: np.ndarray, group: np.ndarray, n_groups: int, *, last: bool = False) -> np.ndarray:
    """Per group (rows sorted by group): the first (or last) non-NaN value, NaN if none
    (what ``groupby().first()`` / ``.last()`` give)."""
    out = np.full(n_groups, np.nan)
    ok = np.flatnonzero(~np.isnan(values))
    if last:
        ok = ok[::-1]
    u, i = np.unique(group[ok], return_index=True)
    out[u] = values[ok[i]]
    return out


def _flag(st: pd.DataFrame, col: str, order: np.ndarray) -> np.ndarray:
    """``col != 1`` per row (pickup_type / drop_off_type; empty counts as 0)."""
    if col not in st:
        return np.ones(len(order), bool)
    v = st[col].to_numpy(dtype=np.float64, na_value=0.0)
    return v[order] != 1


def feed_events(feed: Feed, day: np.datetime64, t0: int, t1: int, shift_s: int) -> FeedEvents | None:
    """Stop events of the feed's trips that touch [t0, t1] on ``day`` (times shifted by
    ``shift_s`` into the reference time zone); None when no trip does."""
    trips, st = expand_frequencies(feed)
    if st.empty:
        return None
    # sorted by trip_id then stop_sequence (stable): trip codes in sorted trip_id order
    tcode, tuniq = pd.factorize(st["trip_id"], sort=True)
    seq = st["stop_sequence"].to_numpy(dtype=np.int64, na_value=0)
    order = np.lexsort((seq, tcode))
    del seq
    tc = tcode[order]
    del tcode
    n = len(order)
    first = np.ones(n, bool)
    first[1:] = tc[1:] != tc[:-1]
    scode, suniq = pd.factorize(st["stop_id"])
    stop = scode[order].astype(np.int64)
    del scode
    suniq = np.asarray(suniq, dtype=object)

    def lat_lon():
        stops = feed.stops
        where = pd.Index(stops["stop_id"]).get_indexer(suniq)
        lat = np.where(where >= 0, stops["stop_lat"].to_numpy(dtype=float)[where], np.nan)
        lon = np.where(where >= 0, stops["stop_lon"].to_numpy(dtype=float)[where], np.nan)
        return lat[stop], lon[stop]

    arr = st["arrival_time"].to_numpy(dtype=np.float64, na_value=np.nan)[order]
    dep = st["departure_time"].to_numpy(dtype=np.float64, na_value=np.nan)[order]
    sdt = (st["shape_dist_traveled"].to_numpy(dtype=float, na_value=np.nan)[order] if "shape_dist_traveled" in st
           else np.full(n, np.nan))
    arr, dep, n_interp = interpolate(arr, dep, first, lat_lon, sdt)
    del sdt
    board = _flag(st, "pickup_type", order)
    alight = _flag(st, "drop_off_type", order)
    del order
    starts = np.flatnonzero(first)
    del first
    ends = np.r_[starts[1:], n].astype(np.int64)
    n_trips = len(tuniq)
    trip_first = _first_valid(dep, tc, n_trips)
    trip_last = _first_valid(arr, tc, n_trips, last=True)
    del tc
    max_t = float(np.nanmax(arr)) if n else 0.0
    k_min = -int(max_t // DAY)
    k_max = max(int(np.floor((t1 - shift_s) / DAY)), 0)
    tindex = pd.Index(tuniq)
    inst_trip, inst_day, inst_route = [], [], []
    p = f"{feed.feed_id}:"
    for k in range(k_min, k_max + 1):
        services = active_services(feed, day + np.timedelta64(k, "D"))
        if not services:
            continue
        on = trips.loc[trips["service_id"].isin(services), ["trip_id", "route_id"]]
        if on.empty:
            continue
        off = k * DAY + shift_s
        code = tindex.get_indexer(on["trip_id"])
        has = code >= 0
        first_t = np.where(has, trip_first[code], np.nan) + off
        last_t = np.where(has, trip_last[code], np.nan) + off
        keep = (last_t >= t0) & (first_t <= t1)
        if not keep.any():
            continue
        inst_trip.append(code[keep])
        inst_day.append(np.full(int(keep.sum()), k, np.int64))
        inst_route.append(np.asarray(p + on["route_id"].to_numpy(dtype=object)[keep], dtype=object))
    if not inst_trip:
        return None
    inst_t = np.concatenate(inst_trip).astype(np.int64)
    inst_d = np.concatenate(inst_day)
    return FeedEvents(
        feed_id=feed.feed_id, stop=stop, stop_ids=np.asarray([p + s for s in suniq], dtype=object),
        arr=arr, dep=dep, board=board, alight=alight, trip_start=starts.astype(np.int64), trip_end=ends,
        trip_ids=np.asarray(tuniq, dtype=object), inst_trip=inst_t, inst_day=inst_d,
        inst_off=inst_d * DAY + shift_s, inst_route=np.concatenate(inst_route), interpolated=n_interp,
    )


def gather(events: Sequence[FeedEvents], inst: np.ndarray, stop_index: Sequence[np.ndarray]
           ) -> tuple[np.ndarray, ...]:
    """Rows of the instances ``inst`` (indices into the instances of all ``events``, in
    order), shifted by each instance's offset: (stop, arrival, departure (int32 seconds),
    board, alight, row count per instance). ``stop_index[f]`` maps feed ``f``'s stop codes
    to timetable stop indices (-1: not a boarding stop)."""
    n_inst = np.cumsum([0] + [len(e.inst_trip) for e in events])
    row_base = np.cumsum([0] + [len(e.arr) for e in events])
    feed_of = np.searchsorted(n_inst, inst, side="right") - 1
    start = np.empty(len(inst), np.int64)
    length = np.empty(len(inst), np.int64)
    off = np.empty(len(inst), np.int64)
    for f, e in enumerate(events):
        sel = feed_of == f
        local = inst[sel] - n_inst[f]
        t = e.inst_trip[local]
        start[sel] = e.trip_start[t] + row_base[f]
        length[sel] = e.trip_end[t] - e.trip_start[t]
        off[sel] = e.inst_off[local]
    total = int(length.sum())
    # row i of instance j: start[j] + (i - first row of j in the output)
    out_first = np.cumsum(length) - length
    rows = np.repeat(start - out_first, length) + np.arange(total, dtype=np.int64)

    def cat(name):
        return np.concatenate([getattr(e, name) for e in events]) if len(events) > 1 else getattr(events[0], name)

    stop = np.concatenate([stop_index[f][e.stop] for f, e in enumerate(events)])[rows].astype(np.int32)
    shift = np.repeat(off, length).astype(np.float64)

    def seconds(name, shift):
        # whole seconds (times are whole, interpolated ones rounded): the timetable's int32
        # now rather than after the patterns are stacked, at half the memory
        t = cat(name)[rows]
        t += shift
        return np.round(t, out=t).astype(np.int32)

    arr = seconds("arr", shift)
    dep = seconds("dep", shift)
    del shift
    return stop, arr, dep, cat("board")[rows], cat("alight")[rows], length
