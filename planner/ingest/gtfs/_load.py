"""Load one GTFS feed: read, type, validate and clean every table.

The policy (``anchors/reliability.md`` §3):

* container and structure problems (unreadable input, missing required file or column,
  undecodable required file, invalid or inconsistent agency time zones) are **fatal**: all
  of them are collected and raised together as one :class:`FeedError` (exit code 2);
* row-level problems drop the row (and what depends on it: a bad stop_time drops its trip)
  and are counted as notices with file, line, field and value;
* text encodings are decided per file (:mod:`._encoding`): a file not in UTF-8 is read in
  the encoding its bytes fit and reported once (``planner_file_encoding``, WARNING); a byte
  that cannot be decoded (``invalid_character``) keeps its row in a free-text field (WARNING,
  shown as U+FFFD) and drops it in an id or a required typed field (ERROR);
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
import pyarrow as pa

from planner.common.memory import release_free_memory
from planner.common.notices import Notices, Severity
from planner.errors import FeedError
from planner.ingest.gtfs import _convert as cv
from planner.ingest.gtfs._container import Source, open_source
from planner.ingest.gtfs._csv import CsvFatal, RawTable, tokenize
from planner.ingest.gtfs._rules import FeedRules
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
    # built from buffers: a list of n Python objects cost ~3 s per absent column of a
    # 6-million-row stop_times.txt (issue 17)
    if c.kind in {"int", "enum", "time"}:
        return pd.Series(pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool)))
    if c.kind in {"float", "lat", "lon"}:
        return pd.Series(np.full(n, np.nan))
    if c.kind == "date":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[s]"))
    empty = pa.StringArray.from_buffers(n, pa.py_buffer(np.zeros(n + 1, np.int32)), pa.py_buffer(b""))
    return pd.Series(pd.array(empty, dtype="str"))


class FeedLoader(FeedRules):
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
            if name in raw:  # the text goes as soon as its table is typed (issue 17: not kept through the checks)
                self.tables[name] = self._type(t, raw.pop(name))
            else:
                self.tables[name] = empty_frame(t)
        del raw
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
        release_free_memory()  # the text and the intermediates of the checks (issue 17)
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
                                 max_cell_chars=self.config.max_cell_chars,
                                 encoding=self.config.encoding_for(self.feed))
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
            if c.name in raw.bad_chars:
                drop |= self._bad_characters(t, c, raw, frame_for_lines, drop)
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
            if values is not s and c.name != "trip_id":  # typed: its text is no longer needed (issue 17)
                del raw.columns[c.name]
                del s
        for name in raw.header:
            if name not in cols:
                if name in raw.bad_chars:  # a column we do not read: free text
                    self._bad_characters(t, Column(name), raw, frame_for_lines, drop)
                cols[name] = raw.columns[name]
        cols["_line"] = raw.lines
        if t.name == "stop_times" and drop.any() and "trip_id" in raw.columns:
            lost = raw.columns["trip_id"][drop]
            self._typing_dropped_trips |= set(lost[lost != ""].tolist())
        frame = pd.DataFrame(cols)
        if drop.any():
            frame = frame.loc[~drop].reset_index(drop=True)
        return frame

    def _bad_characters(self, t: Table, c: Column, raw: RawTable, lines: pd.DataFrame, drop: np.ndarray) -> np.ndarray:
        """Report the cells of column ``c`` that held undecodable bytes (now U+FFFD); return
        the rows to drop. Free text (names, descriptions, headsigns) keeps its row with a
        WARNING; an id or a required typed value cannot be trusted, so its row goes (ERROR);
        an optional typed value is reported and left to the type check."""
        bad = raw.bad_chars[c.name]
        idx = np.flatnonzero(np.isin(raw.lines, np.fromiter(bad, dtype=np.int64, count=len(bad))) & ~drop)
        offsets = [bad[int(raw.lines[i])] for i in idx[:1]]
        where = f" (the first at byte offset {offsets[0]} of the file)" if offsets and offsets[0] >= 0 else ""
        values = raw.columns[c.name]
        if c.kind == "text":
            self._report("invalid_character", Severity.WARNING,
                         f"a byte {raw.encoding} cannot decode, shown as U+FFFD{where}; row kept", t.filename, lines,
                         idx, field=c.name, values=values, action="fixed")
            return np.zeros(len(raw), dtype=bool)
        hard = c.kind == "id" or c.required
        self._report("invalid_character", Severity.ERROR,
                     f"a byte {raw.encoding} cannot decode in {c.kind} field {c.name}{where}"
                     + ("; the row cannot be used" if hard else ""), t.filename, lines, idx, field=c.name,
                     values=values, action="dropped" if hard else "kept")
        out = np.zeros(len(raw), dtype=bool)
        if hard:
            out[idx] = True
        return out

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
    "invalid_encoding": "re-encode the file as UTF-8, or name its encoding with --encoding FEED=NAME; a file that "
                        "is not text at all must be replaced by the feed's CSV file",
    "empty_file": "the file must hold a header line and at least one row",
    "planner_too_many_frequency_trips": "check headway_secs (seconds, not minutes) and the time windows, or raise "
                                        "max_frequency_stop_times",
}


def _null_where(values, mask: np.ndarray):
    if isinstance(values, pd.Series):
        values = values.copy()
        if values.dtype.kind == "f":
            values[mask] = np.nan
        else:
            values[mask] = pd.NA
    return values
