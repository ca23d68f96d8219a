"""Service days from calendar.txt and calendar_dates.txt.

A service runs on a date when calendar.txt says so for that weekday within its date range,
unless calendar_dates.txt removes it (``exception_type`` 2); calendar_dates.txt may also add
dates (``exception_type`` 1), including for services that have no calendar.txt row.

Trips with times past 24:00 belong to the service day they started on: a trip of Monday's
service at ``25:10:00`` runs at 01:10 on Tuesday. :mod:`planner.network.timetable` takes care of that
when it builds the timetable of one date.

Only :func:`service_dates` lists every (service, date) pair. The other functions never do:
a calendar row may span 1970-2199 (84,000 days), so 200 such rows (a 16 kB calendar.txt)
expand to 16.8 million pairs, about 15 s and 2.7 GB (issue 11, resource limits).
:func:`active_services` looks at one date; :func:`service_date_range` and
:func:`busiest_date` count per day with weekly difference arrays, in memory proportional to
the number of days spanned (at most the 84,000 of the accepted years) plus the rows.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.errors import InputError, NoServiceError

if TYPE_CHECKING:
    from planner.ingest.gtfs.feed import Feed

__all__ = ["DateChoice", "active_services", "busiest_date", "country_of_timezone", "representative_date", "service_date_range", "service_dates", "service_day_counts", "to_date"]

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
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        msg = f"invalid date {shown}: use YYYY-MM-DD"
        raise InputError(msg, code="invalid_date") from err


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


class _Calendar:
    """calendar.txt and calendar_dates.txt of one feed as arrays (days since 1970-01-01)."""

    def __init__(self, feed: Feed):
        cal = feed.calendar
        self.sid = cal["service_id"].to_numpy(dtype=object)
        self.start = cal["start_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
        self.end = cal["end_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
        self.flags = cal[list(_DAYS)].fillna(0).astype(np.int64).to_numpy().astype(bool).reshape(len(cal), 7)
        cd = feed.calendar_dates
        self.cd_sid = cd["service_id"].to_numpy(dtype=object)
        self.cd_day = cd["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
        self.cd_exc = cd["exception_type"].astype(np.int64).to_numpy() if len(cd) else np.zeros(0, np.int64)
        # calendar row of each calendar_dates row (-1: the service has no calendar.txt row)
        self.cd_row = pd.Index(self.sid).get_indexer(self.cd_sid) if len(cd) else np.zeros(0, np.int64)

    def by_calendar(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Whether calendar row ``rows[i]`` runs on ``days[i]`` (False for row -1)."""
        ok = rows >= 0
        r = np.where(ok, rows, 0)
        if len(self.sid) == 0:
            return np.zeros(len(rows), bool)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        return ok & (self.start[r] <= days) & (days <= self.end[r]) & self.flags[r, weekday]

    def span(self) -> tuple[int, int] | None:
        days = [self.start, self.end, self.cd_day]
        parts = [d for d in days if len(d)]
        if not parts:
            return None
        return int(min(d.min() for d in parts)), int(max(d.max() for d in parts))

    def day_counts(self, weight: dict[str, float] | None) -> tuple[int, np.ndarray] | None:
        """(first day, per-day sum of the running services' weights), weight 1 when None.

        Weekly difference arrays: memory and time proportional to the days spanned plus
        the rows, never to rows x days.
        """
        span = self.span()
        if span is None:
            return None
        lo, hi = span
        n = hi - lo + 1
        w_cal = np.ones(len(self.sid)) if weight is None else np.array([weight.get(x, 0.0) for x in self.sid])
        counts = np.zeros(n)
        for wd in range(7):
            first = lo + (wd - (lo + 3)) % 7  # first day >= lo with this weekday
            if first > hi:
                continue
            k_n = (hi - first) // 7 + 1
            rows = np.flatnonzero(self.flags[:, wd]) if len(self.sid) else np.zeros(0, np.int64)
            k0 = -((first - self.start[rows]) // 7)  # ceil((start - first) / 7)
            k1 = (self.end[rows] - first) // 7
            k0 = np.maximum(k0, 0)
            k1 = np.minimum(k1, k_n - 1)
            use = k0 <= k1
            diff = np.zeros(k_n + 1)
            np.add.at(diff, k0[use], w_cal[rows][use])
            np.add.at(diff, k1[use] + 1, -w_cal[rows][use])
            counts[first - lo::7][:k_n] += np.cumsum(diff)[:k_n]
        if len(self.cd_sid):
            active = self.by_calendar(self.cd_row, self.cd_day)
            w_cd = np.ones(len(self.cd_sid)) if weight is None else np.array([weight.get(x, 0.0) for x in self.cd_sid])
            change = np.where((self.cd_exc == 2) & active, -w_cd, np.where((self.cd_exc == 1) & ~active, w_cd, 0.0))
            np.add.at(counts, self.cd_day - lo, change)
        return lo, counts


def active_services(feed: Feed, date: str | dt.date | np.datetime64) -> set[str]:
    """Service ids running on ``date`` (looks at that date only)."""
    day = int(to_date(date).astype(np.int64))
    c = _Calendar(feed)
    running = set(c.sid[c.by_calendar(np.arange(len(c.sid)), np.full(len(c.sid), day, np.int64))].tolist())
    on_day = c.cd_day == day
    running -= set(c.cd_sid[on_day & (c.cd_exc == 2)].tolist())
    running |= set(c.cd_sid[on_day & (c.cd_exc == 1)].tolist())
    return {str(x) for x in running}


def service_day_counts(feed: Feed) -> tuple[int, np.ndarray] | None:
    """Services running per day over the feed's calendar: ``(first day, counts)`` with the
    first day in days since 1970-01-01, or None for a feed without calendar dates."""
    return _Calendar(feed).day_counts(None)


def service_date_range(feed: Feed) -> tuple[np.datetime64 | None, np.datetime64 | None, int]:
    """(first date with service, last date with service, number of dates with service)."""
    res = service_day_counts(feed)
    if res is None:
        return None, None, 0
    lo, counts = res
    days = np.flatnonzero(counts > 0.5)
    if len(days) == 0:
        return None, None, 0
    first, last = (np.datetime64(int(lo + d), "D") for d in (days[0], days[-1]))
    return first, last, len(days)


def _trips_per_day(feeds) -> tuple[int, np.ndarray, np.ndarray]:
    """(first day, trips per day, services running per day) over all ``feeds``, in days
    since 1970-01-01."""
    parts = []
    for feed in feeds:
        c = _Calendar(feed)
        per_service = feed.trips["service_id"].value_counts()
        trips = c.day_counts({str(k): float(v) for k, v in per_service.items()})
        running = c.day_counts(None)
        if trips is not None and running is not None:
            parts.append((trips[0], trips[1], running[1]))
    if not parts:
        msg = "the feeds have no service dates (no calendar.txt or calendar_dates.txt row runs a trip)"
        raise NoServiceError(msg, code="planner_no_service_on_date", hint="check calendar.txt and calendar_dates.txt")
    lo = min(p[0] for p in parts)
    hi = max(p[0] + len(p[1]) for p in parts)
    trips = np.zeros(hi - lo)
    running = np.zeros(hi - lo)
    for start, t, r in parts:
        trips[start - lo:start - lo + len(t)] += t
        running[start - lo:start - lo + len(r)] += r
    if not (running > 0.5).any():
        msg = "the feeds have no service dates (no calendar.txt or calendar_dates.txt row runs a trip)"
        raise NoServiceError(msg, code="planner_no_service_on_date", hint="check calendar.txt and calendar_dates.txt")
    return lo, trips, running


def busiest_date(feeds) -> np.datetime64:
    """The service date with the most trips over all ``feeds`` (earliest on ties).

    Frequency templates count once. The commands' default date is
    :func:`representative_date`, which avoids public holidays and weekends.
    """
    lo, trips, running = _trips_per_day(feeds)
    has = running > 0.5
    best = trips[has].max()
    day = int(np.flatnonzero(has & (trips >= best - 0.5))[0])
    return np.datetime64(lo + day, "D")


@dataclass(frozen=True)
class DateChoice:
    """A default service date and why it was chosen (for reports)."""

    date: np.datetime64
    reason: str

    def __str__(self) -> str:
        return str(self.date)


#: weekdays taken as representative (Monday = 0): Tuesday, Wednesday, Thursday
TYPICAL_WEEKDAYS = (1, 2, 3)


def representative_date(feeds, *, country: str | None = None) -> DateChoice:
    """A representative weekday of ``feeds``: the default service date of the commands.

    Among the dates with service, the Tuesdays, Wednesdays and Thursdays that are neither a
    public holiday nor the day before or after one (holidays of ``country``, an ISO 3166
    code, by default the country of the first feed's ``agency_timezone``, from the
    ``holidays`` package), the one whose number of trips is the median of those days
    (earliest on ties): a day of the regular timetable, not a holiday's, a weekend's or an
    extra-trains day's. Falls back to any weekday, then to :func:`busiest_date`, saying so.
    """
    lo, trips, running = _trips_per_day(feeds)
    days = lo + np.flatnonzero(running > 0.5)
    weekday = (days + 3) % 7
    if country is None:
        country = next((c for f in feeds if (c := country_of_timezone(_timezone(f))) is not None), None)
    holiday_days, named = _holidays(country, days)
    near = np.isin(days, holiday_days) | np.isin(days - 1, holiday_days) | np.isin(days + 1, holiday_days)
    for mask, kind in ((np.isin(weekday, TYPICAL_WEEKDAYS) & ~near, "Tuesday to Thursday"),
                       ((weekday < 5) & ~near, "weekday")):
        cand = days[mask]
        if len(cand):
            n = trips[cand - lo]
            median = np.sort(n)[(len(n) - 1) // 2]
            day = int(cand[np.flatnonzero(n == median)[0]])
            date = np.datetime64(day, "D")
            where = (f"public holidays of {country} ({named} in the feeds' dates) and the days next to them excluded"
                     if country else "public holidays unknown (no country for the feeds' time zone)")
            reason = (f"{date} ({_DAYS[(day + 3) % 7].capitalize()}): a {kind} with the median number of trips "
                      f"({median:,.0f}) of the {len(cand):,} such service days, {where}")
            return DateChoice(date, reason)
    date = busiest_date(feeds)
    return DateChoice(date, f"{date}: the busiest date (the feeds run on no ordinary weekday)")


def _timezone(feed) -> str:
    try:
        return feed.timezone
    except (KeyError, IndexError, AttributeError):
        return ""


def country_of_timezone(tz: str) -> str | None:
    """ISO 3166 country code of an IANA time zone (``Asia/Shanghai`` -> ``CN``), from the
    system's ``zone.tab``; None when unknown."""
    for path in (Path("/usr/share/zoneinfo/zone.tab"), Path(sys.prefix) / "share" / "zoneinfo" / "zone.tab"):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and not line.startswith("#") and parts[2] == tz:
                return parts[0]
        return _ZONE_FALLBACK.get(tz)
    return _ZONE_FALLBACK.get(tz)


#: time zones of the bundled and test feeds, for systems without zone.tab
_ZONE_FALLBACK = {"Asia/Shanghai": "CN", "Asia/Harbin": "CN", "Europe/Helsinki": "FI",
                  "America/Los_Angeles": "US", "Australia/Brisbane": "AU"}


def _holidays(country: str | None, days: np.ndarray) -> tuple[np.ndarray, int]:
    """Public holidays of ``country`` over the years of ``days`` (days since 1970), and how
    many fall on those days."""
    if country is None or len(days) == 0:
        return np.zeros(0, np.int64), 0
    import holidays  # slow (0.2 s plus 0.3 s per country calendar): only a default date needs it

    years = range(int(str(np.datetime64(int(days.min()), "D"))[:4]), int(str(np.datetime64(int(days.max()), "D"))[:4]) + 1)
    try:
        cal = holidays.country_holidays(country, years=years)
    except NotImplementedError:
        return np.zeros(0, np.int64), 0
    hol = np.array(sorted(np.datetime64(d.isoformat(), "D").astype(np.int64) for d in cal), dtype=np.int64)
    return hol, int(np.isin(days, hol).sum())
