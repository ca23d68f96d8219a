"""Service days from calendar.txt and calendar_dates.txt.

A service runs on a date when calendar.txt says so for that weekday within its date range,
unless calendar_dates.txt removes it (``exception_type`` 2); calendar_dates.txt may also add
dates (``exception_type`` 1), including for services that have no calendar.txt row.

Trips with times past 24:00 belong to the service day they started on: a trip of Monday's
service at ``25:10:00`` runs at 01:10 on Tuesday. :mod:`planner.timetable` takes care of that
when it builds the timetable of one date.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from planner.gtfs.feed import Feed

__all__ = ["active_services", "busiest_date", "service_date_range", "service_dates", "to_date"]

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def to_date(value: str | dt.date | np.datetime64) -> np.datetime64:
    """A ``datetime64[D]`` from ``YYYY-MM-DD``, ``YYYYMMDD``, a date or a datetime64."""
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]")
    if isinstance(value, dt.date):
        return np.datetime64(value.isoformat(), "D")
    text = str(value).strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return np.datetime64(dt.date.fromisoformat(text).isoformat(), "D")
    except ValueError as err:
        msg = f"invalid date {value!r}: use YYYY-MM-DD"
        raise ValueError(msg) from err


def service_dates(feed: Feed) -> pd.DataFrame:
    """Every (service_id, date) on which a service runs.

    Returns
    -------
    frame
        Columns ``service_id`` (str) and ``date`` (``datetime64[s]``), sorted, unique.
    """
    parts_sid: list[np.ndarray] = []
    parts_day: list[np.ndarray] = []
    cal = feed.calendar
    if not cal.empty:
        flags = cal[list(_DAYS)].fillna(0).astype(np.int64).to_numpy().astype(bool)
        starts = cal["start_date"].to_numpy(dtype="datetime64[D]")
        ends = cal["end_date"].to_numpy(dtype="datetime64[D]")
        sids = cal["service_id"].to_numpy(dtype=object)
        for sid, start, end, f in zip(sids, starts, ends, flags, strict=True):
            days = np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")
            # 1970-01-01 was a Thursday: weekday index (Monday = 0)
            weekday = (days.astype(np.int64) + 3) % 7
            days = days[f[weekday]]
            parts_sid.append(np.full(len(days), sid, dtype=object))
            parts_day.append(days)
    base = pd.DataFrame({
        "service_id": np.concatenate(parts_sid) if parts_sid else np.array([], dtype=object),
        "date": np.concatenate(parts_day) if parts_day else np.array([], dtype="datetime64[D]"),
    })
    cd = feed.calendar_dates
    if not cd.empty:
        exc = cd["exception_type"].astype(np.int64).to_numpy()
        dates = cd["date"].to_numpy(dtype="datetime64[D]")
        sids = cd["service_id"].to_numpy(dtype=object)
        removed = pd.DataFrame({"service_id": sids[exc == 2], "date": dates[exc == 2]})
        added = pd.DataFrame({"service_id": sids[exc == 1], "date": dates[exc == 1]})
        if not removed.empty and not base.empty:
            key = pd.MultiIndex.from_frame(base[["service_id", "date"]])
            rkey = pd.MultiIndex.from_frame(removed)
            base = base.loc[~key.isin(rkey)]
        base = pd.concat([base, added], ignore_index=True)
    base["service_id"] = base["service_id"].astype("str")
    base["date"] = base["date"].to_numpy(dtype="datetime64[D]").astype("datetime64[s]")
    base = base.drop_duplicates().sort_values(["date", "service_id"], kind="stable").reset_index(drop=True)
    return base


def active_services(feed: Feed, date: str | dt.date | np.datetime64) -> set[str]:
    """Service ids running on ``date``."""
    day = to_date(date)
    sd = service_dates(feed)
    return set(sd.loc[sd["date"].to_numpy(dtype="datetime64[D]") == day, "service_id"].tolist())


def service_date_range(feed: Feed) -> tuple[np.datetime64 | None, np.datetime64 | None, int]:
    """(first date with service, last date with service, number of dates with service)."""
    sd = service_dates(feed)
    if sd.empty:
        return None, None, 0
    days = sd["date"].to_numpy(dtype="datetime64[D]")
    return days.min(), days.max(), len(np.unique(days))


def busiest_date(feeds) -> np.datetime64:
    """The service date with the most trips over all ``feeds`` (earliest on ties).

    Frequency templates count once; the answer is used as the default analysis date when
    none is given.
    """
    counts: dict[np.datetime64, int] = {}
    for feed in feeds:
        sd = service_dates(feed)
        if sd.empty:
            continue
        per_service = feed.trips["service_id"].value_counts()
        n = sd["service_id"].map(per_service).fillna(0).to_numpy(dtype=np.int64)
        days = sd["date"].to_numpy(dtype="datetime64[D]")
        for d, k in zip(days, n, strict=True):
            counts[d] = counts.get(d, 0) + int(k)
    if not counts:
        msg = "the feeds have no service dates"
        raise ValueError(msg)
    best = max(counts.values())
    return min(d for d, k in counts.items() if k == best)
