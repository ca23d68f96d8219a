"""Load one GTFS feed: read, type, validate and clean every table.

The policy (``anchors/reliability.md`` §3):

* container and structure problems (unreadable input, missing required file or column,
  undecodable required file, invalid or inconsistent agency time zones) are **fatal**: all
  of them are collected and raised together as one :class:`FeedError` (exit code 2);
* row-level problems drop the row (and what depends on it: a bad stop_time drops its trip)
  and are counted as notices with file, line, field and value;
* lenient by default, but loading fails when more than ``Config.max_dropped_trip_share`` of
  the trips had to be dropped, and ``Config.strict`` makes every ERROR fatal.

Notice codes are the canonical gtfs-validator's where one exists; ours start ``planner_``.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.notices import Notices, Severity
from planner.errors import FeedError
from planner.ingest.gtfs import _convert as cv
from planner.ingest.gtfs._container import Source, open_source
from planner.ingest.gtfs._csv import CsvFatal, RawTable, tokenize
from planner.ingest.gtfs.modes import known_route_type
from planner.ingest.gtfs.schema import TABLES, Column, Table

if TYPE_CHECKING:
    from planner.config import Config

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
_SAMPLES = 100
# the order tables are typed and checked in (parents before children)
ORDER = (
    "agency", "levels", "stops", "routes", "calendar", "calendar_dates", "shapes", "trips",
    "stop_times", "frequencies", "transfers", "pathways", "fare_attributes", "fare_rules",
    "feed_info", "attributions", "translations", "areas", "stop_areas", "networks",
    "route_networks", "rider_categories", "fare_media", "fare_products", "timeframes",
    "fare_leg_rules", "fare_transfer_rules",
)


def empty_frame(t: Table) -> pd.DataFrame:
    """An empty typed frame with the table's declared columns and ``_line``."""
    return _empty_template(t).copy()


@cache
def _empty_template(t: Table) -> pd.DataFrame:
    # building ~20 typed empty frames per feed cost ~75 ms of pandas overhead on every load
    data: dict[str, pd.Series] = {}
    for c in t.columns:
        data[c.name] = _empty_series(c, 0)
    data["_line"] = pd.Series([], dtype=np.int64)
    return pd.DataFrame(data)


def _empty_series(c: Column, n: int) -> pd.Series:
    if c.kind in {"int", "enum", "time"}:
        return pd.Series(pd.array([pd.NA] * n, dtype="Int64"))
    if c.kind in {"float", "lat", "lon"}:
        return pd.Series(np.full(n, np.nan))
    if c.kind == "date":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[s]"))
    return pd.Series([""] * n, dtype="str")


class FeedLoader:
    """Loads one feed; see the module docstring for the policy."""

    def __init__(self, path: str | Path, feed_id: str, config: Config, notices: Notices):
        self.path = Path(path)
        self.feed = feed_id
        self.config = config
        self.notices = notices
        self.tables: dict[str, pd.DataFrame] = {}
        self.present: set[str] = set()
        self.digest = ""
        self.trips_in_file = 0
        self.dropped_trips: dict[str, str] = {}  # trip_id -> code
        self._typing_dropped_trips: set[str] = set()

    # -- reporting -------------------------------------------------------------------
    def _report(self, code: str, severity: Severity, message: str, file: str, frame: pd.DataFrame | None,
                idx: np.ndarray, *, field: str = "", values: pd.Series | None = None, action: str = "dropped") -> None:
        idx = np.asarray(idx)
        if len(idx) == 0:
            return
        lines = frame["_line"].to_numpy() if frame is not None and "_line" in frame else None
        for i in idx[:_SAMPLES]:
            value = "" if values is None else values.iloc[i]
            self.notices.add(code, severity, message, feed=self.feed, file=file,
                             line=int(lines[i]) if lines is not None else 0, field=field, value=value, action=action)
        if len(idx) > _SAMPLES:
            self.notices.add(code, severity, message + f" (and {len(idx) - _SAMPLES:,} more rows)", feed=self.feed,
                             file=file, field=field, action=action, count=len(idx) - _SAMPLES)

    def _fatal(self, code: str, message: str, file: str = "", line: int = 0, field: str = "", value: str = "") -> None:
        self.notices.add(code, Severity.ERROR, message, feed=self.feed, file=file, line=line, field=field,
                         value=value, action="fatal")

    def _raise_if_fatal(self) -> None:
        fatal = self.notices.fatal()
        fatal = [n for n in fatal if n.feed == self.feed]
        if not fatal:
            return
        lines = [f"{self.path}: GTFS feed '{self.feed}' is unusable:"]
        for n in fatal[:20]:
            loc = n.file + (f":{n.line}" if n.line else "") + (f" field '{n.field}'" if n.field else "")
            lines.append(f"  - {n.code}: {n.message}" + (f" [{loc}]" if loc else ""))
        if len(fatal) > 20:
            lines.append(f"  ... and {len(fatal) - 20} more")
        hint = _HINTS.get(fatal[0].code)
        raise FeedError("\n".join(lines), code=fatal[0].code, hint=hint, notices=fatal)

    # -- main ------------------------------------------------------------------------
    def load(self) -> dict[str, pd.DataFrame]:
        src = open_source(self.path, self.feed, self.config, self.notices)
        try:
            raw = self._read_all(src)
        finally:
            src.close()
        self._raise_if_fatal()
        for name in ORDER:
            t = TABLES[name]
            if name in raw:
                self.tables[name] = self._type(t, raw[name])
            else:
                self.tables[name] = empty_frame(t)
        self._dedupe_keys()
        self._check_agency()
        self._raise_if_fatal()
        self._check_stops()
        self._check_routes()
        self._check_calendar()
        self._check_trips()
        self._check_stop_times()
        self._check_frequencies()
        self._check_references()
        self._check_dropped_share()
        self._raise_if_fatal()
        if self.config.strict and self.notices.has_errors():
            errors = [n for n in self.notices.sorted() if n.severity == Severity.ERROR and n.feed == self.feed]
            if errors:
                first = errors[0]
                msg = (f"{self.path}: {self.notices.count(severity=Severity.ERROR)} ERROR notice(s) in strict mode; "
                       f"first: {first}")
                raise FeedError(msg, code=first.code, hint="fix the feed, or run without --strict to drop the bad rows",
                                notices=errors)
        return self.tables

    def _read_all(self, src: Source) -> dict[str, RawTable]:
        h = hashlib.blake2b(digest_size=16)
        for name in src.unknown:
            self.notices.add("unknown_file", Severity.INFO, f"{name} is not a GTFS file we read; ignored",
                             feed=self.feed, file=name)
        for req in REQUIRED_FILES:
            if not src.has(req):
                self._fatal("missing_required_file", f"required file {req} is missing", file=req)
        if not src.has("calendar.txt") and not src.has("calendar_dates.txt"):
            self._fatal("missing_calendar_and_calendar_date_files",
                        "neither calendar.txt nor calendar_dates.txt is present", file="calendar.txt")
        raw: dict[str, RawTable] = {}
        for name in ORDER:
            t = TABLES[name]
            fn = t.filename
            if not src.has(fn):
                continue
            data = src.read(fn, self.notices)
            h.update(fn.encode())
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
            try:
                table = tokenize(data, feed=self.feed, file=fn, notices=self.notices,
                                 max_cell_chars=self.config.max_cell_chars)
            except CsvFatal as err:
                optional_empty = err.code == "empty_file" and not t.required
                if optional_empty:
                    self.notices.add("empty_file", Severity.INFO, f"{fn} is empty; treated as absent",
                                     feed=self.feed, file=fn)
                elif t.required or name in {"calendar", "calendar_dates"}:
                    self._fatal(err.code, err.message, file=fn, line=err.line, field=err.field)
                else:
                    self.notices.add(err.code, Severity.ERROR, err.message + f"; {fn} ignored", feed=self.feed,
                                     file=fn, line=err.line, field=err.field, action="dropped")
                continue
            if not self._check_header(t, table):
                continue
            if t.required and len(table) == 0:
                self._fatal("empty_file", f"{fn} has a header but no usable rows", file=fn)
                continue
            raw[name] = table
            self.present.add(name)
            if name == "stop_times" and table.dropped and "trip_id" in table.header:
                # a stop time the tokeniser had to drop takes its trip with it
                k = table.header.index("trip_id")
                self._typing_dropped_trips |= {f[k].strip() for _line, f in table.dropped if len(f) > k and f[k].strip()}
        if not raw.get("calendar") and not raw.get("calendar_dates"):
            if not self.notices.fatal() and (src.has("calendar.txt") or src.has("calendar_dates.txt")):
                self._fatal("missing_calendar_and_calendar_date_files",
                            "calendar.txt and calendar_dates.txt hold no usable rows", file="calendar.txt")
        self.digest = h.hexdigest()
        return raw

    def _check_header(self, t: Table, table: RawTable) -> bool:
        fn = t.filename
        missing = [c.name for c in t.columns if c.required and c.name not in table.header]
        if missing:
            found = ", ".join(table.header)
            msg = f"missing required column(s) {', '.join(missing)} (found: {found})"
            if t.required or t.name in {"calendar", "calendar_dates"}:
                self._fatal("missing_required_column", msg, file=fn, line=1, field=missing[0])
            else:
                self.notices.add("missing_required_column", Severity.ERROR, msg + f"; {fn} ignored", feed=self.feed,
                                 file=fn, line=1, field=missing[0], action="dropped")
            return False
        known = set(t.column_names)
        for col in table.header:
            if col not in known:
                self.notices.add("unknown_column", Severity.INFO, f"column {col} is not part of {fn}; kept as text",
                                 feed=self.feed, file=fn, line=1, field=col)
        return True

    # -- typing ----------------------------------------------------------------------
    def _type(self, t: Table, raw: RawTable) -> pd.DataFrame:
        fn = t.filename
        n = len(raw)
        cols: dict[str, object] = {}
        drop = np.zeros(n, dtype=bool)
        frame_for_lines = pd.DataFrame({"_line": raw.lines})
        for c in t.columns:
            if c.name not in raw.columns:
                cols[c.name] = _empty_series(c, n)
                continue
            s = raw.columns[c.name]
            present = cv.present_mask(s)
            if c.required:
                missing = np.flatnonzero(~present & ~drop)
                self._report("missing_required_field", Severity.ERROR, f"required field {c.name} is empty", fn,
                             frame_for_lines, missing, field=c.name)
                drop |= ~present
            values, bad, out_of_range = self._convert(c, s)
            if bad.any():
                code = {"time": "invalid_time", "date": "invalid_date", "int": "invalid_integer",
                        "enum": "invalid_integer", "float": "invalid_float", "lat": "invalid_float",
                        "lon": "invalid_float", "timezone": "invalid_timezone", "color": "invalid_color",
                        "currency": "invalid_currency_code", "url": "invalid_url", "email": "invalid_email",
                        "lang": "invalid_language_code"}.get(c.kind, "invalid_value")
                hard = c.kind in {"time", "date", "int", "enum", "float", "lat", "lon"}
                severity = Severity.ERROR
                action = "dropped" if (hard and (c.required or c.kind == "time" or t.name in _STRICT_ROW_TABLES)) else "kept"
                self._report(code, severity, _BAD_MSG.get(c.kind, f"invalid {c.kind} value"), fn, frame_for_lines,
                             np.flatnonzero(bad & ~drop), field=c.name, values=s, action=action)
                if action == "dropped":
                    drop |= bad
            if out_of_range is not None and out_of_range.any():
                code = "unexpected_enum_value" if c.kind == "enum" else "number_out_of_range"
                severity = Severity.WARNING if c.kind == "enum" else Severity.ERROR
                action = "dropped" if (c.required or c.kind in {"lat", "lon"}) else "kept"
                lo, hi = _RANGES.get(c.kind, (c.min, c.max))
                msg = (f"value not in {{{', '.join(map(str, c.values))}}}" if c.kind == "enum"
                       else "not a known route_type" if c.name == "route_type"
                       else f"value outside [{lo}, {hi}]" if hi is not None else f"value below {lo}")
                self._report(code, severity, msg, fn, frame_for_lines, np.flatnonzero(out_of_range & ~drop),
                             field=c.name, values=s, action=action)
                if action == "dropped":
                    drop |= out_of_range
                else:
                    values = _null_where(values, out_of_range)
            cols[c.name] = values
        for name in raw.header:
            if name not in cols:
                cols[name] = raw.columns[name]
        cols["_line"] = raw.lines
        if t.name == "stop_times" and drop.any() and "trip_id" in raw.columns:
            lost = raw.columns["trip_id"][drop]
            self._typing_dropped_trips |= set(lost[lost != ""].tolist())
        frame = pd.DataFrame(cols)
        if drop.any():
            frame = frame.loc[~drop].reset_index(drop=True)
        return frame

    def _convert(self, c: Column, s: pd.Series):
        """(typed values, invalid mask, out-of-range mask or None)."""
        kind = c.kind
        n = len(s)
        if kind == "time":
            vals, bad = cv.to_time(s)
            series = pd.Series(pd.array(np.where(vals >= 0, vals, 0), dtype="Int64"))
            series[vals < 0] = pd.NA
            return series, bad, None
        if kind in {"int", "enum"}:
            vals, ok, bad = cv.to_int(s)
            series = pd.Series(pd.array(vals, dtype="Int64"))
            series[~ok] = pd.NA
            oor = np.zeros(n, bool)
            if kind == "enum":
                oor = ok & ~np.isin(vals, np.asarray(c.values))
            else:
                if c.min is not None:
                    oor |= ok & (vals < c.min)
                if c.max is not None:
                    oor |= ok & (vals > c.max)
            if c.name == "route_type":
                oor = ok & ~np.array([known_route_type(v) for v in vals], dtype=bool) if n else oor
            return series, bad, oor
        if kind in {"float", "lat", "lon"}:
            vals, bad = cv.to_float(s)
            lo, hi = _RANGES.get(kind, (c.min, c.max))
            with np.errstate(invalid="ignore"):
                oor = np.zeros(n, bool)
                if lo is not None:
                    oor |= vals < lo
                if hi is not None:
                    oor |= vals > hi
            return pd.Series(vals), bad, oor
        if kind == "date":
            vals, bad = cv.to_date(s)
            return pd.Series(vals.astype("datetime64[s]")), bad, None
        if kind == "timezone":
            return s, cv.to_timezone(s), None
        pattern = {"color": cv.COLOR_RE, "currency": cv.CURRENCY_RE, "lang": cv.LANG_RE,
                   "email": cv.EMAIL_RE, "url": cv.URL_RE}.get(kind)
        if pattern is not None:
            return s, cv.to_pattern(s, pattern), None
        return s, np.zeros(n, bool), None

    # -- keys --------------------------------------------------------------------------
    def _dedupe_keys(self) -> None:
        for name in ORDER:
            t = TABLES[name]
            df = self.tables[name]
            if not t.key or df.empty:
                continue
            key = [k for k in t.key if k in df.columns]
            dup = df.duplicated(subset=key, keep="first").to_numpy()
            if not dup.any():
                continue
            first_line = df.groupby(key, sort=False, dropna=False)["_line"].transform("first").to_numpy()
            idx = np.flatnonzero(dup)
            for i in idx[:_SAMPLES]:
                value = ", ".join(f"{k}={df[k].iloc[i]}" for k in key)
                self.notices.add("duplicate_key", Severity.ERROR,
                                 f"duplicate key ({value}); first seen at line {first_line[i]}, this row dropped",
                                 feed=self.feed, file=t.filename, line=int(df["_line"].iloc[i]), field=key[0],
                                 value=value, action="dropped")
            if len(idx) > _SAMPLES:
                self.notices.add("duplicate_key", Severity.ERROR, "duplicate keys (more rows)", feed=self.feed,
                                 file=t.filename, action="dropped", count=len(idx) - _SAMPLES)
            self.tables[name] = df.loc[~dup].reset_index(drop=True)

    def _drop(self, name: str, mask: np.ndarray) -> None:
        if mask.any():
            self.tables[name] = self.tables[name].loc[~mask].reset_index(drop=True)

    def _fk(self, child: str, col: str, parent: str, pcol: str, *, action: str = "dropped",
            parent_values: pd.Series | None = None) -> np.ndarray:
        """Mask of child rows whose non-empty ``col`` is not in the parent; reported."""
        df = self.tables[child]
        if df.empty or col not in df:
            return np.zeros(len(df), bool)
        values = df[col]
        present = (values != "").to_numpy(dtype=bool)
        pool = parent_values if parent_values is not None else self.tables[parent][pcol]
        bad = present & ~isin(values, pool)
        if bad.any():
            self._report("foreign_key_violation", Severity.ERROR,
                         f"{col} not found in {parent}.txt ({pcol})", f"{child}.txt", df, np.flatnonzero(bad),
                         field=col, values=values, action=action)
        return bad

    # -- table checks --------------------------------------------------------------------
    def _check_agency(self) -> None:
        ag = self.tables["agency"]
        if ag.empty:
            self._fatal("missing_required_file", "agency.txt has no usable rows", file="agency.txt")
            return
        bad_tz = cv.to_timezone(ag["agency_timezone"])
        for i in np.flatnonzero(bad_tz):
            self._fatal("invalid_timezone", "agency_timezone is not an IANA time zone name (e.g. Asia/Shanghai)",
                        file="agency.txt", line=int(ag["_line"].iloc[i]), field="agency_timezone",
                        value=ag["agency_timezone"].iloc[i])
        zones = ag["agency_timezone"].unique()
        if len(zones) > 1 and not bad_tz.any():
            self._fatal("inconsistent_agency_timezone",
                        f"agencies of one feed use different time zones: {', '.join(sorted(zones))}",
                        file="agency.txt", field="agency_timezone")
        if len(ag) > 1 and (ag["agency_id"] == "").any():
            i = int(np.flatnonzero((ag["agency_id"] == "").to_numpy())[0])
            self._fatal("missing_required_field", "agency_id is required when the feed has several agencies",
                        file="agency.txt", line=int(ag["_line"].iloc[i]), field="agency_id")

    def _check_stops(self) -> None:
        st = self.tables["stops"]
        fn = "stops.txt"
        lt = st["location_type"].fillna(0).astype(np.int64).to_numpy()
        st["location_type"] = pd.array(lt, dtype="Int64")
        lat = st["stop_lat"].to_numpy()
        lon = st["stop_lon"].to_numpy()
        needs_loc = lt <= 2
        no_loc = needs_loc & (np.isnan(lat) | np.isnan(lon))
        self._report("stop_without_location", Severity.ERROR, "stop, station or entrance has no stop_lat/stop_lon",
                     fn, st, np.flatnonzero(no_loc), field="stop_lat")
        with np.errstate(invalid="ignore"):
            origin = ~no_loc & (np.abs(lat) <= 1.0) & (np.abs(lon) <= 1.0)
            pole = ~no_loc & (np.abs(lat) >= 89.0)
        self._report("point_near_origin", Severity.ERROR, "stop is near (0, 0): coordinates missing or swapped?",
                     fn, st, np.flatnonzero(origin), field="stop_lat", values=st["stop_lat"].astype(str))
        self._report("point_near_pole", Severity.ERROR, "stop is near a pole: lat/lon swapped?", fn, st,
                     np.flatnonzero(pole), field="stop_lat", values=st["stop_lat"].astype(str))
        no_name = needs_loc & (st["stop_name"] == "").to_numpy(dtype=bool)
        self._report("missing_required_field", Severity.ERROR, "stop_name is required for stops, stations and entrances",
                     fn, st, np.flatnonzero(no_name), field="stop_name", action="kept")
        drop = no_loc | origin | pole
        self._drop("stops", drop)
        st = self.tables["stops"]
        lt = st["location_type"].astype(np.int64).to_numpy()
        # parent_station hierarchy
        ids = st["stop_id"]
        parent = st["parent_station"].copy()
        has_parent = (parent != "").to_numpy(dtype=bool)
        index = pd.Series(np.arange(len(st)), index=ids.to_numpy())
        pidx = index.reindex(parent.to_numpy()).to_numpy()
        found = ~np.isnan(pidx)
        clear = np.zeros(len(st), bool)
        bad_ref = has_parent & ~found
        self._report("foreign_key_violation", Severity.ERROR, "parent_station not found in stops.txt; cleared", fn, st,
                     np.flatnonzero(bad_ref), field="parent_station", values=parent, action="fixed")
        clear |= bad_ref
        self_ref = has_parent & (parent == ids).to_numpy(dtype=bool)
        self._report("wrong_parent_location_type", Severity.ERROR, "stop is its own parent_station; cleared", fn, st,
                     np.flatnonzero(self_ref), field="parent_station", values=parent, action="fixed")
        clear |= self_ref
        station_with_parent = has_parent & (lt == 1)
        self._report("station_with_parent_station", Severity.ERROR, "a station (location_type 1) cannot have a parent_station; cleared",
                     fn, st, np.flatnonzero(station_with_parent & ~clear), field="parent_station", values=parent, action="fixed")
        clear |= station_with_parent
        ok = has_parent & found & ~clear
        plt = np.full(len(st), -1)
        plt[ok] = lt[pidx[ok].astype(np.int64)]
        # expected parent types: stop/entrance/generic node -> station (1); boarding area (4) -> stop (0)
        expected = np.where(lt == 4, 0, 1)
        wrong = ok & (plt != expected)
        self._report("wrong_parent_location_type", Severity.ERROR, "parent_station has the wrong location_type; cleared", fn, st,
                     np.flatnonzero(wrong), field="parent_station", values=parent, action="fixed")
        clear |= wrong
        parent[clear] = ""
        st["parent_station"] = parent
        needs_parent = np.isin(lt, [2, 3, 4]) & (parent == "").to_numpy(dtype=bool)
        self._report("location_without_parent_station", Severity.ERROR,
                     "entrances, generic nodes and boarding areas need a parent_station", fn, st,
                     np.flatnonzero(needs_parent), field="parent_station", action="kept")
        self.tables["stops"] = st

    def _check_routes(self) -> None:
        ro = self.tables["routes"]
        ag = self.tables["agency"]
        fn = "routes.txt"
        if len(ag) == 1:
            only = ag["agency_id"].iloc[0]
            empty = (ro["agency_id"] == "").to_numpy(dtype=bool)
            ro.loc[empty, "agency_id"] = only
            # an agency with no id: routes naming some other id are still violations
            bad = self._fk("routes", "agency_id", "agency", "agency_id")
        else:
            empty = (ro["agency_id"] == "").to_numpy(dtype=bool)
            self._report("missing_required_field", Severity.ERROR, "agency_id is required when the feed has several agencies",
                         fn, ro, np.flatnonzero(empty), field="agency_id")
            bad = self._fk("routes", "agency_id", "agency", "agency_id") | empty
        no_name = ((ro["route_short_name"] == "") & (ro["route_long_name"] == "")).to_numpy(dtype=bool)
        self._report("route_both_short_and_long_name_missing", Severity.ERROR, "route has neither a short nor a long name",
                     fn, ro, np.flatnonzero(no_name & ~bad), field="route_short_name", action="kept")
        self.tables["routes"] = ro
        self._drop("routes", bad)

    def _check_calendar(self) -> None:
        cal = self.tables["calendar"]
        if not cal.empty:
            rev = (cal["start_date"] > cal["end_date"]).to_numpy(dtype=bool)
            self._report("start_and_end_range_out_of_order", Severity.ERROR, "start_date is after end_date",
                         "calendar.txt", cal, np.flatnonzero(rev), field="start_date", values=cal["start_date"].astype(str))
            self._drop("calendar", rev)
            cal = self.tables["calendar"]
            days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            none = (cal[days].fillna(0).astype(np.int64).sum(axis=1) == 0).to_numpy()
            in_dates = isin(cal["service_id"], self.tables["calendar_dates"]["service_id"])
            self._report("service_has_no_active_day_of_the_week", Severity.WARNING,
                         "service runs on no day of the week and has no calendar_dates", "calendar.txt", cal,
                         np.flatnonzero(none & ~in_dates), field="service_id", values=cal["service_id"], action="kept")

    def _check_trips(self) -> None:
        tr = self.tables["trips"]
        self.trips_in_file = len(tr)
        bad_route = self._fk("trips", "route_id", "routes", "route_id")
        services = pd.concat([self.tables["calendar"]["service_id"], self.tables["calendar_dates"]["service_id"]])
        bad_service = self._fk("trips", "service_id", "calendar", "service_id", parent_values=services) & ~bad_route
        bad = bad_route | bad_service
        for i in np.flatnonzero(bad):
            self.dropped_trips[tr["trip_id"].iloc[i]] = "foreign_key_violation"
        if not self.tables["shapes"].empty or "shapes" in self.present:
            bad_shape = self._fk("trips", "shape_id", "shapes", "shape_id", action="fixed")
            if bad_shape.any():
                tr.loc[bad_shape, "shape_id"] = ""
        self._drop("trips", bad)

    def _drop_trips(self, trip_ids, code: str) -> None:
        for t in trip_ids:
            self.dropped_trips.setdefault(t, code)

    def _check_stop_times(self) -> None:
        st = self.tables["stop_times"]
        fn = "stop_times.txt"
        trips = self.tables["trips"]
        # rows lost to typing errors (bad time, missing stop_id...) take their trip with them
        typed_bad = self._lost_rows_trips()
        bad_trip = self._fk("stop_times", "trip_id", "trips", "trip_id")
        bad_stop = self._fk("stop_times", "stop_id", "stops", "stop_id", action="dropped")
        self._drop_trips(st.loc[bad_stop & ~bad_trip, "trip_id"].unique(), "foreign_key_violation")
        self._drop_trips(typed_bad, "planner_trip_with_bad_stop_time")
        self._drop("stop_times", bad_trip | bad_stop)
        st = self.tables["stop_times"]
        if st.empty:
            self._fatal("planner_feed_unusable", "stop_times.txt has no usable rows", file=fn)
            return
        st = st.sort_values(["trip_id", "stop_sequence"], kind="stable").reset_index(drop=True)
        arr = st["arrival_time"].to_numpy(dtype=np.float64, na_value=np.nan)
        dep = st["departure_time"].to_numpy(dtype=np.float64, na_value=np.nan)
        only_arr = ~np.isnan(arr) & np.isnan(dep)
        only_dep = np.isnan(arr) & ~np.isnan(dep)
        self._report("stop_time_with_only_arrival_or_departure_time", Severity.ERROR,
                     "only one of arrival_time and departure_time is set; copied to the other", fn, st,
                     np.flatnonzero(only_arr | only_dep), field="arrival_time", action="fixed")
        dep = np.where(only_arr, arr, dep)
        arr = np.where(only_dep, dep, arr)
        trip = st["trip_id"].to_numpy(dtype=object)
        n = len(st)
        first = np.ones(n, bool)
        first[1:] = trip[1:] != trip[:-1]
        last = np.ones(n, bool)
        last[:-1] = trip[1:] != trip[:-1]
        edge = (first | last) & np.isnan(arr)
        self._report("missing_trip_edge", Severity.ERROR, "first or last stop of a trip has no times; trip dropped", fn, st,
                     np.flatnonzero(edge), field="arrival_time")
        self._drop_trips(np.unique(trip[edge]), "missing_trip_edge")
        reversed_ = arr > dep
        self._report("start_and_end_range_out_of_order", Severity.ERROR, "arrival_time is after departure_time; trip dropped",
                     fn, st, np.flatnonzero(reversed_), field="arrival_time")
        self._drop_trips(np.unique(trip[reversed_]), "start_and_end_range_out_of_order")
        # time travel: an arrival before the last known departure of the same trip
        known = ~np.isnan(dep)
        last_dep = pd.Series(np.where(known, dep, np.nan)).groupby(trip).ffill().shift(1).to_numpy(copy=True)
        last_dep[first] = np.nan
        backwards = arr < last_dep
        self._report("stop_time_with_arrival_before_previous_departure_time", Severity.ERROR,
                     "arrival_time is before the previous stop's departure_time; trip dropped", fn, st,
                     np.flatnonzero(backwards), field="arrival_time")
        self._drop_trips(np.unique(trip[backwards]), "stop_time_with_arrival_before_previous_departure_time")
        # shape_dist_traveled must increase along a trip; where it does not, it is ignored
        sdt = st["shape_dist_traveled"].to_numpy(dtype=np.float64)
        prev = np.r_[np.nan, sdt[:-1]]
        prev[first] = np.nan
        with np.errstate(invalid="ignore"):
            bad_sdt = ~np.isnan(sdt) & ~np.isnan(prev) & (sdt <= prev)
        if bad_sdt.any():
            self._report("decreasing_or_equal_stop_time_distance", Severity.ERROR,
                         "shape_dist_traveled does not increase along the trip; ignored for this trip", fn, st,
                         np.flatnonzero(bad_sdt), field="shape_dist_traveled",
                         values=st["shape_dist_traveled"].astype(str), action="fixed")
            bad_trips = np.unique(trip[bad_sdt])
            st.loc[np.isin(trip, bad_trips), "shape_dist_traveled"] = np.nan
        st["arrival_time"] = pd.array(np.where(np.isnan(arr), 0, arr).astype(np.int64), dtype="Int64")
        st.loc[np.isnan(arr), "arrival_time"] = pd.NA
        st["departure_time"] = pd.array(np.where(np.isnan(dep), 0, dep).astype(np.int64), dtype="Int64")
        st.loc[np.isnan(dep), "departure_time"] = pd.NA
        counts = st.groupby("trip_id", sort=False).size()
        short = counts[counts < 2].index
        if len(short):
            tr = trips.set_index("trip_id")
            rows = np.flatnonzero(isin(trips["trip_id"], short))
            self._report("unusable_trip", Severity.WARNING, "trip has fewer than two stop_times; dropped", "trips.txt",
                         trips, rows, field="trip_id", values=trips["trip_id"])
            del tr
            self._drop_trips(short, "unusable_trip")
        unused = ~isin(trips["trip_id"], counts.index)
        unused &= ~isin(trips["trip_id"], list(self.dropped_trips))
        self._report("unused_trip", Severity.WARNING, "trip has no stop_times; dropped", "trips.txt", trips,
                     np.flatnonzero(unused), field="trip_id", values=trips["trip_id"])
        self._drop_trips(trips["trip_id"].to_numpy()[unused], "unused_trip")
        self.tables["stop_times"] = st
        self._apply_trip_drops()
        self._check_blocks()

    def _check_blocks(self) -> None:
        """Trips of one block on one service must not overlap in time (reported, kept)."""
        tr = self.tables["trips"]
        if tr.empty or not (tr["block_id"] != "").any():
            return
        st = self.tables["stop_times"]
        span = st.groupby("trip_id", sort=False).agg(first=("departure_time", "min"), last=("arrival_time", "max"))
        b = tr.loc[tr["block_id"] != "", ["trip_id", "block_id", "service_id", "_line"]].merge(
            span, left_on="trip_id", right_index=True, how="inner")
        b = b.sort_values(["block_id", "service_id", "first", "_line"], kind="stable")
        idx = []
        for _key, g in b.groupby(["block_id", "service_id"], sort=False):
            if len(g) < 2:
                continue
            first = g["first"].to_numpy(dtype=np.float64)
            last = g["last"].to_numpy(dtype=np.float64)
            running = np.maximum.accumulate(last)
            overlap = np.r_[False, first[1:] < running[:-1]]
            idx.extend(g.index[overlap].tolist())
        if idx:
            rows = np.flatnonzero(tr.index.isin(idx))
            self._report("block_trips_with_overlapping_stop_times", Severity.ERROR,
                         "trip overlaps in time with another trip of the same block", "trips.txt", tr, rows,
                         field="block_id", values=tr["block_id"], action="kept")

    def _lost_rows_trips(self) -> list[str]:
        """Trips that lost stop_times rows while typing (invalid time, stop_sequence...)."""
        return sorted(self._typing_dropped_trips)

    def _apply_trip_drops(self) -> None:
        if not self.dropped_trips:
            return
        dropped = pd.Index(list(self.dropped_trips))
        for name in ("trips", "stop_times", "frequencies"):
            df = self.tables[name]
            if df.empty:
                continue
            self._drop(name, isin(df["trip_id"], dropped))

    def _check_frequencies(self) -> None:
        fr = self.tables["frequencies"]
        if fr.empty:
            return
        fn = "frequencies.txt"
        bad_trip = self._fk("frequencies", "trip_id", "trips", "trip_id")
        fr = fr.loc[~bad_trip].reset_index(drop=True)
        rev = (fr["start_time"] >= fr["end_time"]).to_numpy(dtype=bool)
        self._report("start_and_end_range_out_of_order", Severity.ERROR, "start_time is not before end_time", fn, fr,
                     np.flatnonzero(rev), field="start_time")
        fr = fr.loc[~rev].sort_values(["trip_id", "start_time", "_line"], kind="stable").reset_index(drop=True)
        trip = fr["trip_id"].to_numpy(dtype=object)
        start = fr["start_time"].to_numpy(dtype=np.int64)
        end = fr["end_time"].to_numpy(dtype=np.int64)
        overlap = np.zeros(len(fr), bool)
        running_end = -1
        for i in range(len(fr)):
            if i > 0 and trip[i] == trip[i - 1]:
                if start[i] < running_end:
                    overlap[i] = True
                running_end = max(running_end, end[i])
            else:
                running_end = end[i]
        # kept: real feeds (HSL 2022) overlap windows by a minute; expansion drops any
        # departure that would duplicate one of an earlier window of the same trip
        self._report("overlapping_frequency", Severity.ERROR,
                     "frequency window overlaps an earlier one of the same trip; kept, duplicate departures removed",
                     fn, fr, np.flatnonzero(overlap), field="start_time", action="kept")
        self.tables["frequencies"] = fr
        self._check_frequency_volume(fr)

    def _check_frequency_volume(self, fr: pd.DataFrame) -> None:
        """Refuse a frequencies.txt that would expand to more stop times than the limit."""
        if fr.empty:
            return
        start = fr["start_time"].to_numpy(dtype=np.int64)
        end = fr["end_time"].to_numpy(dtype=np.int64)
        hw = np.maximum(fr["headway_secs"].to_numpy(dtype=np.int64), 1)
        departures = np.maximum((end - start + hw - 1) // hw, 0)
        stops = self.tables["stop_times"].groupby("trip_id", sort=False).size()
        per_row = departures * stops.reindex(fr["trip_id"]).fillna(0).to_numpy(dtype=np.int64)
        total = int(per_row.sum())
        limit = self.config.max_frequency_stop_times
        if total > limit:
            i = int(np.argmax(per_row))
            self._fatal("planner_too_many_frequency_trips",
                        f"frequencies.txt expands to {total:,} stop times, more than the {limit:,} allowed; the "
                        f"largest row makes {int(departures[i]):,} departures of trip {fr['trip_id'].iloc[i]} "
                        f"(every {int(hw[i])} s for {(end[i] - start[i]) / 3600:,.1f} h)",
                        file="frequencies.txt", line=int(fr["_line"].iloc[i]), field="headway_secs",
                        value=str(int(hw[i])))

    def _check_references(self) -> None:
        """Generic foreign keys declared in the schema for the remaining tables."""
        stops = self.tables["stops"]
        zones = stops["zone_id"][stops["zone_id"] != ""]
        fr = self.tables["fare_rules"]
        if not fr.empty:
            bad = self._fk("fare_rules", "fare_id", "fare_attributes", "fare_id")
            bad |= self._fk("fare_rules", "route_id", "routes", "route_id")
            # unknown zones are kept: dropping a contains_id row would change which fare a rule
            # describes, and a rule naming a zone no stop is in simply never matches
            for col in ("origin_id", "destination_id", "contains_id"):
                self._fk("fare_rules", col, "stops", "zone_id", parent_values=zones, action="kept")
            self._drop("fare_rules", bad)
        fa = self.tables["fare_attributes"]
        if not fa.empty and len(self.tables["agency"]) > 1:
            self._drop("fare_attributes", self._fk("fare_attributes", "agency_id", "agency", "agency_id"))
        tf = self.tables["transfers"]
        if not tf.empty:
            bad = np.zeros(len(tf), bool)
            for col, parent, pcol in (("from_stop_id", "stops", "stop_id"), ("to_stop_id", "stops", "stop_id"),
                                      ("from_route_id", "routes", "route_id"), ("to_route_id", "routes", "route_id"),
                                      ("from_trip_id", "trips", "trip_id"), ("to_trip_id", "trips", "trip_id")):
                bad |= self._fk("transfers", col, parent, pcol)
            tf_types = tf["transfer_type"].fillna(0).astype(np.int64).to_numpy()
            no_time = (tf_types == 2) & tf["min_transfer_time"].isna().to_numpy()
            self._report("missing_required_field", Severity.ERROR,
                         "transfer_type 2 needs min_transfer_time; treated as 0 s", "transfers.txt", tf,
                         np.flatnonzero(no_time & ~bad), field="min_transfer_time", action="kept")
            self._drop("transfers", bad)
        for name in ("pathways", "stop_areas", "route_networks", "fare_products", "fare_leg_rules", "levels"):
            t = TABLES[name]
            if self.tables[name].empty:
                continue
            bad = np.zeros(len(self.tables[name]), bool)
            for c in t.columns:
                if c.ref is None:
                    continue
                ptable, pcol = c.ref
                if ptable not in self.present and ptable not in {"stops", "routes", "trips"}:
                    continue
                bad |= self._fk(name, c.name, ptable, pcol)
            self._drop(name, bad)
        # stops.level_id
        if "levels" in self.present:
            bad = self._fk("stops", "level_id", "levels", "level_id", action="fixed")
            if bad.any():
                self.tables["stops"].loc[bad, "level_id"] = ""

    def _check_dropped_share(self) -> None:
        total = max(self.trips_in_file, 1)
        dropped = len(self.dropped_trips)
        share = dropped / total
        if dropped and share > self.config.max_dropped_trip_share:
            codes = pd.Series(list(self.dropped_trips.values())).value_counts()
            why = ", ".join(f"{c} {n}" for c, n in codes.items())
            self._fatal("planner_too_many_dropped_trips",
                        f"{dropped:,} of {self.trips_in_file:,} trips ({share:.0%}) had to be dropped ({why}), more than "
                        f"the {self.config.max_dropped_trip_share:.0%} allowed", file="trips.txt")
        if self.tables["trips"].empty:
            self._fatal("planner_feed_unusable", "no usable trips remain after validation", file="trips.txt")
        if dropped:
            self.notices.add("planner_trips_dropped", Severity.INFO,
                             f"{dropped:,} of {self.trips_in_file:,} trips dropped for errors (see the notices above)",
                             feed=self.feed, file="trips.txt", count=1)


_RANGES = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}
_STRICT_ROW_TABLES = {"stop_times", "frequencies", "calendar", "calendar_dates", "shapes", "transfers", "pathways"}

_BAD_MSG = {
    "time": "invalid time (expected H:MM:SS with minutes and seconds below 60)",
    "date": "invalid date (expected YYYYMMDD, years 1970-2199)",
    "int": "not an integer",
    "enum": "not an integer",
    "float": "not a number",
    "lat": "not a number",
    "lon": "not a number",
    "timezone": "not an IANA time zone name",
    "color": "not a 6-digit hex colour",
    "currency": "not an ISO 4217 currency code",
    "url": "not a URL (expected http(s)://...)",
    "email": "not an e-mail address",
    "lang": "not a language code",
}

_HINTS = {
    "missing_required_file": "a GTFS feed needs agency.txt, stops.txt, routes.txt, trips.txt, stop_times.txt and calendar.txt or calendar_dates.txt",
    "missing_calendar_and_calendar_date_files": "add calendar.txt or calendar_dates.txt",
    "missing_required_column": "rename the column to the name the GTFS reference uses",
    "invalid_timezone": "use an IANA name such as Asia/Shanghai or Europe/Helsinki",
    "inconsistent_agency_timezone": "all agencies of one feed must share one time zone; split the feed",
    "planner_too_many_dropped_trips": "fix the feed (see the notices), or raise --max-dropped-trip-share",
    "invalid_encoding": "re-encode the files as UTF-8",
    "empty_file": "the file must hold a header line and at least one row",
    "planner_too_many_frequency_trips": "check headway_secs (seconds, not minutes) and the time windows, or raise "
                                        "max_frequency_stop_times",
}


def isin(values: pd.Series, pool) -> np.ndarray:
    """Fast exact string membership (pandas' isin on arrow strings goes through Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) == 0:
        return np.zeros(0, bool)
    arr = pa.array(np.asarray(values, dtype=object), type=pa.string())
    pool_arr = pa.array(pd.unique(np.asarray(pool, dtype=object)), type=pa.string())
    return pc.is_in(arr, value_set=pool_arr).to_numpy(zero_copy_only=False).astype(bool)


def _null_where(values, mask: np.ndarray):
    if isinstance(values, pd.Series):
        values = values.copy()
        if values.dtype.kind == "f":
            values[mask] = np.nan
        else:
            values[mask] = pd.NA
    return values
