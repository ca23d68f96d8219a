"""Tabular train timetables to GTFS (``plan gtfs from-timetable``).

Intercity rail timetables are published as tables (train number, stations, times), rarely as
GTFS. This module turns two CSV files into a GTFS zip:

**Timetable** (one row per train and stop; UTF-8, header on line 1; column names are
case-insensitive):

==================  ==========  ================================================================
column              required    meaning
==================  ==========  ================================================================
``train``           yes         train number; becomes ``trip_id`` and ``trip_short_name``
``seq``             yes         stop order within the train (integers, increasing)
``station``         yes         a ``station_id`` or ``name`` of the stations file
``arrival``         yes         local clock time ``HH:MM`` or ``HH:MM:SS`` (empty at the origin)
``departure``       yes         local clock time (empty at the last stop)
``day_offset``      no          days after the origin departure (0 at the origin; default 0).
                                It dates the arrival (the departure when there is no arrival);
                                a departure earlier than the arrival of the same row is on the
                                next day. GTFS times pass 24:00 accordingly.
``running_days``    no          ``daily`` (default), a Monday-first mask such as ``1111100``,
                                or day names and ranges: ``Mon-Fri``, ``Sat,Sun``, ``weekdays``
``operator``        no          agency name (one agency per operator)
``operator_id``     no          agency id (default ``a1``, ``a2``... by operator name)
``operator_url``    no          agency URL (default ``--agency-url``)
``route_id``        no          route id (default: one route per route name)
``route_name``      no          route long name (default: "first station – last station")
``route_type``      no          GTFS route type (default ``--route-type``, 2 = rail)
``trip_<column>``   no          copied to ``trips.txt`` as ``<column>`` (one value per train)
any other column    no          copied to ``stop_times.txt`` unchanged (e.g. ``pickup_type``)
==================  ==========  ================================================================

Train-level values (``running_days``, operator and route columns, ``trip_*``) may be given
on every row of a train or only on its first; two different values are an error.

**Stations**: a name, ``lat`` and ``lon`` required. The name is ``name_zh`` or ``name``
(``stop_name``); with both, ``name_zh`` is the ``stop_name`` and ``name`` the English name
(unless ``name_en`` is given), and the timetable may refer to either. Optional:
``station_id`` (``stop_id``, default ``s1``, ``s2``... in file order), ``name_en``
(``stop_name_en``), ``quality`` (``coord_quality``) and ``datum`` (per-row
``wgs84``/``gcj02``/``bd09``, default ``--datum``); other columns are copied to
``stops.txt``. The timetable's ``station`` may also be a station's English name (when it
names one station only). Coordinates in GCJ-02 or BD-09 are converted to WGS84.

Every problem is reported at once as ``file:line: field 'name': message`` (line 1 is the
header) in a :class:`TimetableError` (exit code 2 on the command line). The zip is written
deterministically (sorted rows and members, fixed timestamps) and atomically.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.common.datum import to_wgs84
from planner.errors import InputError, OutputError
from planner.ingest.gtfs.writer import write_feed_zip

__all__ = [
    "DEFAULT_AGENCY_URL",
    "ConversionSummary",
    "TimetableError",
    "convert_timetable",
    "parse_running_days",
    "timetable_to_tables",
]

#: agency_url used when the timetable gives no ``operator_url`` (China Railway's 12306 site)
DEFAULT_AGENCY_URL = "https://www.12306.cn"
_MAX_LISTED = 25

_REQUIRED_TT = ("train", "seq", "station", "arrival", "departure")
_TRAIN_LEVEL = ("running_days", "operator", "operator_id", "operator_url", "route_id", "route_name", "route_type")
_RESERVED_ST = {"trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"}
_RESERVED_TRIP = {"trip_id", "route_id", "service_id", "trip_short_name"}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


class TimetableError(InputError):
    """A tabular timetable or its stations file cannot be converted to GTFS."""


@dataclass
class _Problems:
    items: list[tuple[str, str]] = field(default_factory=list)   # (code, text)

    def add(self, code: str, file: str, line: int, fld: str, message: str) -> None:
        where = f"{file}:{line}" if line else file
        text = f"{where}: field '{fld}': {message}" if fld else f"{where}: {message}"
        self.items.append((code, text))

    def raise_if_any(self, hint: str) -> None:
        if not self.items:
            return
        shown = [t for _, t in self.items[:_MAX_LISTED]]
        more = len(self.items) - len(shown)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        n = len(self.items)
        msg = f"cannot convert the timetable: {n} problem{'s' if n != 1 else ''}\n  " + "\n  ".join(shown) + tail
        raise TimetableError(msg, code=self.items[0][0], hint=hint)


@dataclass(frozen=True)
class ConversionSummary:
    """What :func:`convert_timetable` wrote."""

    path: Path
    agencies: int
    routes: int
    trips: int
    stops: int
    stop_times: int
    services: int
    start_date: str
    end_date: str


# ---------------------------------------------------------------------- reading

def _read_csv(path: Path, role: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header (lower-cased) and (line, row) pairs of a CSV file; raises TimetableError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        msg = f"{path}: the {role} file does not exist"
        raise TimetableError(msg, code="input_unreadable", hint=f"give the path of the {role} CSV") from None
    except OSError as err:
        msg = f"{path}: cannot read the {role} file: {err.strerror or err}"
        raise TimetableError(msg, code="input_unreadable", hint=f"give a readable {role} CSV file") from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        msg = f"{path}: the {role} file is not UTF-8 (byte {err.start})"
        raise TimetableError(msg, code="invalid_encoding", hint="save the file as UTF-8 CSV") from None
    if "\x00" in text:
        msg = f"{path}: the {role} file contains NUL bytes (is it a spreadsheet, not a CSV?)"
        raise TimetableError(msg, code="invalid_character", hint="export the sheet as UTF-8 CSV")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        msg = f"{path}: the {role} file is empty"
        raise TimetableError(msg, code="empty_file", hint="the first line must name the columns") from None
    except csv.Error as err:
        msg = f"{path}:1: cannot parse the header: {err}"
        raise TimetableError(msg, code="csv_parsing_failed", hint="check the quotes in the first line") from None
    cols = [h.strip().lower() for h in header]
    seen: set[str] = set()
    for c in cols:
        if not c:
            msg = f"{path}:1: an empty column name in the header"
            raise TimetableError(msg, code="empty_column_name", hint="name every column or delete the empty one")
        if c in seen:
            msg = f"{path}:1: field '{c}': the column appears twice"
            raise TimetableError(msg, code="duplicated_column", hint="keep one column of each name")
        seen.add(c)
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for rec in reader:
            start = line + 1
            line = reader.line_num
            if not rec or all(not v.strip() for v in rec):
                continue
            if len(rec) != len(cols):
                msg = f"{path}:{start}: the row has {len(rec)} values, the header {len(cols)}"
                raise TimetableError(msg, code="invalid_row_length", hint="quote values that contain commas")
            rows.append((start, {c: v.strip() for c, v in zip(cols, rec, strict=True)}))
    except csv.Error as err:
        msg = f"{path}:{line + 1}: cannot parse the row: {err}"
        raise TimetableError(msg, code="csv_parsing_failed", hint="check quotes in that row") from None
    if not rows:
        msg = f"{path}: the {role} file has a header but no rows"
        raise TimetableError(msg, code="empty_file", hint=f"add one row per {'train and stop' if role == 'timetable' else 'station'}")
    return cols, rows


def parse_running_days(text: str) -> tuple[int, ...] | None:
    """Monday-first 0/1 tuple of a running-days value, or None when it cannot be read.

    >>> parse_running_days("Mon-Fri")
    (1, 1, 1, 1, 1, 0, 0)
    >>> parse_running_days("0000011")
    (0, 0, 0, 0, 0, 1, 1)
    """
    t = text.strip().lower()
    if t in {"", "daily", "everyday", "every day", "all", "1-7", "mon-sun"}:
        return (1,) * 7
    if t in {"weekdays", "workdays"}:
        return (1, 1, 1, 1, 1, 0, 0)
    if t in {"weekends", "weekend"}:
        return (0, 0, 0, 0, 0, 1, 1)
    if re.fullmatch(r"[01]{7}", t):
        mask = tuple(int(ch) for ch in t)
        return mask if any(mask) else None

    def day(tok: str) -> int | None:
        tok = tok.strip()
        if re.fullmatch(r"[1-7]", tok):
            return int(tok) - 1
        for i, name in enumerate(_DAYS):
            if len(tok) >= 2 and name.startswith(tok) and (len(tok) >= 3 or tok in {"mo", "tu", "we", "th", "fr", "sa", "su"}):
                return i
        return None

    out = [0] * 7
    for part in re.split(r"[,;/\s]+", t):
        if not part:
            continue
        if "-" in part:
            a_txt, _, b_txt = part.partition("-")
            a, b = day(a_txt), day(b_txt)
            if a is None or b is None:
                return None
            k = a
            while True:
                out[k] = 1
                if k == b:
                    break
                k = (k + 1) % 7
        else:
            d = day(part)
            if d is None:
                return None
            out[d] = 1
    return tuple(out) if any(out) else None


def _parse_time(text: str) -> int | None:
    m = _TIME.fullmatch(text.strip())
    if not m:
        return None
    h = int(m.group(1))
    if h > 23:
        return None
    return h * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def _parse_date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    msg = f"{name} {value!r} is not a date"
    raise TimetableError(msg, code="invalid_date", hint="write dates as YYYY-MM-DD, e.g. 2025-01-01")


def _check_timezone(tz: str) -> None:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
        msg = f"unknown time zone {tz!r}"
        raise TimetableError(msg, code="invalid_timezone", hint="use an IANA name such as Asia/Shanghai") from err


# ---------------------------------------------------------------------- stations

def _read_stations(path: Path, datum: str, probs: _Problems) -> pd.DataFrame:
    name = path.name
    cols, rows = _read_csv(path, "stations")
    name_col = "name_zh" if "name_zh" in cols else ("name" if "name" in cols else None)
    en_col = "name_en" if "name_en" in cols else ("name" if name_col == "name_zh" and "name" in cols else None)
    missing = [c for c in ("lat", "lon") if c not in cols]
    if name_col is None:
        missing.insert(0, "name")
    if missing:
        msg = f"{path}:1: missing column(s) {', '.join(missing)} (found {', '.join(cols)})"
        raise TimetableError(msg, code="missing_required_column",
                             hint="the stations file needs name, lat, lon (station_id, name_en, quality optional)")
    known = {"station_id", name_col, en_col, "lat", "lon", "quality", "datum"}
    recs = []
    ids: dict[str, int] = {}
    names: dict[str, int] = {}
    for k, (line, r) in enumerate(rows):
        nm = r[name_col]
        if not nm:
            probs.add("missing_required_field", name, line, name_col, "empty station name")
        sid = r.get("station_id", "") or f"s{k + 1}"
        if sid in ids:
            probs.add("duplicate_key", name, line, "station_id", f"{sid!r} is also on line {ids[sid]}")
        ids.setdefault(sid, line)
        if nm and nm in names:
            probs.add("duplicate_key", name, line, name_col, f"{nm!r} is also on line {names[nm]}")
        names.setdefault(nm, line)
        vals = {}
        for c, lo, hi in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
            try:
                v = float(r[c])
            except ValueError:
                probs.add("invalid_float", name, line, c, f"not a number: {r[c]!r}")
                continue
            if not np.isfinite(v) or not lo <= v <= hi:
                probs.add("number_out_of_range", name, line, c, f"{v} is outside {lo:g}..{hi:g}")
                continue
            vals[c] = v
        d = r.get("datum", "") or datum
        if len(vals) == 2 and abs(vals["lat"]) < 1e-6 and abs(vals["lon"]) < 1e-6:
            probs.add("point_near_origin", name, line, "lat", "station at (0, 0): coordinates missing?")
        try:
            x, y = to_wgs84(np.array([vals.get("lon", 0.0)]), np.array([vals.get("lat", 0.0)]), d)
        except InputError as err:
            probs.add("invalid_datum", name, line, "datum" if r.get("datum") else "", err.message)
        else:
            if len(vals) == 2:
                vals["lon"], vals["lat"] = float(x[0]), float(y[0])
        rec = {"stop_id": sid, "stop_name": nm, "stop_lat": vals.get("lat", np.nan),
               "stop_lon": vals.get("lon", np.nan)}
        if en_col:
            rec["stop_name_en"] = r[en_col]
        if "quality" in cols:
            rec["coord_quality"] = r["quality"]
        rec.update({c: r[c] for c in cols if c not in known})
        rec["_line"] = line
        rec["_alias"] = r.get("name", "") if name_col == "name_zh" else ""
        recs.append(rec)
    return pd.DataFrame(recs)


# ---------------------------------------------------------------------- timetable

def _train_value(probs: _Problems, file: str, rows: list[tuple[int, dict]], col: str) -> str:
    """The one value of a train-level column over a train's rows ('' when absent)."""
    val, first_line = "", 0
    for line, r in rows:
        v = r.get(col, "")
        if not v:
            continue
        if not val:
            val, first_line = v, line
        elif v != val:
            probs.add("inconsistent_train_value", file, line, col,
                      f"{v!r} differs from {val!r} on line {first_line} (one value per train)")
    return val


def timetable_to_tables(timetable: str | Path, stations: str | Path, *, start_date, end_date,
                        timezone: str = "Asia/Shanghai", datum: str = "wgs84",
                        agency_url: str = DEFAULT_AGENCY_URL, route_type: int = 2, lang: str = "zh",
                        publisher_name: str = "plan gtfs from-timetable",
                        publisher_url: str = "https://example.invalid/plan",
                        feed_version: str | None = None,
                        feed_info_extra: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Read a tabular timetable and its stations and return the GTFS tables.

    Parameters
    ----------
    timetable, stations
        CSV files (see the module docstring for the columns).
    start_date, end_date
        The validity range written to ``calendar.txt`` and ``feed_info.txt``
        (``YYYY-MM-DD``, ``YYYYMMDD`` or :class:`datetime.date`).
    timezone
        IANA time zone of the clock times (``agency_timezone``).
    datum
        Datum of the station coordinates without a ``datum`` column value.
    agency_url, route_type, lang
        Defaults for agencies without ``operator_url``, trains without ``route_type``, and
        ``agency_lang`` / ``feed_lang``.
    publisher_name, publisher_url, feed_version, feed_info_extra
        ``feed_info.txt`` values; extra columns are added as given. ``feed_version``
        defaults to a digest of both input files.

    Returns
    -------
    dict
        Table name (without ``.txt``) -> DataFrame, ready for
        :func:`planner.ingest.gtfs.writer.write_feed_zip`.

    Raises
    ------
    TimetableError
        Listing every problem as ``file:line: field 'name': message``.
    """
    tt_path, st_path = Path(timetable), Path(stations)
    start = _parse_date(start_date, "start date")
    end = _parse_date(end_date, "end date")
    if end < start:
        msg = f"the end date {end} is before the start date {start}"
        raise TimetableError(msg, code="start_and_end_range_out_of_order", hint="swap --start-date and --end-date")
    _check_timezone(timezone)
    if isinstance(route_type, bool) or not isinstance(route_type, int | np.integer) or route_type < 0:
        msg = f"route type must be a non-negative integer, got {route_type!r}"
        raise TimetableError(msg, code="invalid_route_type", hint="2 = rail, 101 = high-speed rail, 102 = long distance")
    probs = _Problems()
    st = _read_stations(st_path, datum, probs)
    cols, rows = _read_csv(tt_path, "timetable")
    fname = tt_path.name
    missing = [c for c in _REQUIRED_TT if c not in cols]
    if missing:
        msg = f"{tt_path}:1: missing column(s) {', '.join(missing)} (found {', '.join(cols)})"
        raise TimetableError(msg, code="missing_required_column",
                             hint="the timetable needs train, seq, station, arrival, departure "
                                  "(day_offset, running_days, operator, route_name, route_type optional)")
    for c in cols:
        if c.startswith("trip_") and c[5:] in _RESERVED_TRIP:
            probs.add("reserved_column", fname, 1, c, f"{c[5:]} is computed by the converter")
        elif not c.startswith("trip_") and c in _RESERVED_ST:
            probs.add("reserved_column", fname, 1, c, f"{c} is computed by the converter")
    by_id = dict(zip(st["stop_id"], st["stop_id"], strict=True))
    by_name: dict[str, str] = {}
    alias_cols = ["_alias"] + (["stop_name_en"] if "stop_name_en" in st.columns else [])
    for col in alias_cols:       # other names, where they name one station only
        counts = st[col].value_counts()
        by_name.update({a: s for a, s in zip(st[col], st["stop_id"], strict=True) if a and counts[a] == 1})
    by_name.update(zip(st["stop_name"], st["stop_id"], strict=True))
    names_of = dict(zip(st["stop_id"], st["stop_name"], strict=True))
    trains: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, r in rows:
        if not r["train"]:
            probs.add("missing_required_field", fname, line, "train", "empty train number")
            continue
        trains.setdefault(r["train"], []).append((line, r))
    stop_cols = [c for c in cols if c not in {*_REQUIRED_TT, "day_offset", *_TRAIN_LEVEL} and not c.startswith("trip_")]
    trip_cols = [c for c in cols if c.startswith("trip_")]
    st_rows: list[dict] = []
    trip_rows: list[dict] = []
    masks: set[tuple[int, ...]] = set()
    agencies: dict[str, dict] = {}
    route_keys: dict[tuple[str, str], dict] = {}
    for train in sorted(trains):
        trows = trains[train]
        seqs = []
        for line, r in trows:
            try:
                s = int(r["seq"])
                if s < 0:
                    raise ValueError
            except ValueError:
                probs.add("invalid_integer", fname, line, "seq", f"not a non-negative integer: {r['seq']!r}")
                s = None
            seqs.append(s)
        if any(s is None for s in seqs):
            continue
        order = sorted(range(len(trows)), key=lambda k: seqs[k])
        trows = [trows[k] for k in order]
        seqs = [seqs[k] for k in order]
        dup = [k for k in range(1, len(seqs)) if seqs[k] == seqs[k - 1]]
        for k in dup:
            probs.add("duplicate_key", fname, trows[k][0], "seq", f"train {train} has seq {seqs[k]} twice")
        if len(trows) < 2:
            probs.add("too_few_stops", fname, trows[0][0], "train", f"train {train} has only one stop")
            continue
        rd_text = _train_value(probs, fname, trows, "running_days")
        mask = parse_running_days(rd_text)
        if mask is None:
            line = next((ln for ln, r in trows if r.get("running_days")), trows[0][0])
            probs.add("invalid_running_days", fname, line, "running_days",
                      f"cannot read {rd_text!r} (use daily, a mask like 1111100 (Mon-Sun), or Mon-Fri, Sat,Sun)")
            mask = (1,) * 7
        masks.add(mask)
        operator = _train_value(probs, fname, trows, "operator") or "Unknown operator"
        op_id = _train_value(probs, fname, trows, "operator_id")
        op_url = _train_value(probs, fname, trows, "operator_url") or agency_url
        ag = agencies.setdefault(operator, {"agency_name": operator, "agency_id": op_id, "agency_url": op_url,
                                            "_line": trows[0][0]})
        if op_id and ag["agency_id"] and op_id != ag["agency_id"]:
            probs.add("inconsistent_train_value", fname, trows[0][0], "operator_id",
                      f"operator {operator!r} has ids {ag['agency_id']!r} and {op_id!r}")
        ag["agency_id"] = ag["agency_id"] or op_id
        rt_text = _train_value(probs, fname, trows, "route_type")
        rtype = route_type
        if rt_text:
            try:
                rtype = int(rt_text)
                if rtype < 0:
                    raise ValueError
            except ValueError:
                line = next(ln for ln, r in trows if r.get("route_type"))
                probs.add("invalid_integer", fname, line, "route_type", f"not a GTFS route type: {rt_text!r}")
        # stops and times
        stop_ids: list[str] = []
        times: list[tuple[int | None, int | None]] = []
        prev_abs = -1
        prev_off = 0
        n = len(trows)
        ok = True
        for k, (line, r) in enumerate(trows):
            sref = r["station"]
            sid = by_id.get(sref) or by_name.get(sref)
            if sid is None:
                probs.add("unknown_station", fname, line, "station",
                          f"{sref!r} is neither a station_id nor a name in {st_path.name}")
                ok = False
            stop_ids.append(sid or "")
            off_text = r.get("day_offset", "") or "0"
            try:
                off = int(off_text)
                if not 0 <= off <= 14:
                    raise ValueError
            except ValueError:
                probs.add("invalid_integer", fname, line, "day_offset", f"not a day count 0..14: {off_text!r}")
                ok = False
                off = prev_off
            if k == 0 and off != 0:
                probs.add("invalid_day_offset", fname, line, "day_offset",
                          "the first stop's day_offset must be 0 (offsets count from the origin departure day)")
                ok = False
            if off < prev_off:
                probs.add("invalid_day_offset", fname, line, "day_offset", f"{off} is smaller than the previous stop's {prev_off}")
                ok = False
            prev_off = off
            a_txt, d_txt = r["arrival"], r["departure"]
            a = _parse_time(a_txt) if a_txt else None
            d = _parse_time(d_txt) if d_txt else None
            for fld, txt, val in (("arrival", a_txt, a), ("departure", d_txt, d)):
                if txt and val is None:
                    probs.add("invalid_time", fname, line, fld,
                              f"not a clock time HH:MM[:SS] (00:00-23:59): {txt!r}")
                    ok = False
            if k == 0 and d is None and d_txt == "":
                if a is None:
                    probs.add("missing_required_field", fname, line, "departure", "the first stop needs a departure time")
                    ok = False
                d = a
            if k == n - 1 and a is None and a_txt == "":
                if d is None:
                    probs.add("missing_required_field", fname, line, "arrival", "the last stop needs an arrival time")
                    ok = False
                a = d
            if 0 < k < n - 1 and a is None and d is None and not a_txt and not d_txt:
                probs.add("missing_required_field", fname, line, "arrival",
                          "give an arrival or a departure time at every intermediate stop")
                ok = False
            if a is None and d is not None and not a_txt:
                a = d
            if d is None and a is not None and not d_txt:
                d = a
            if a is None or d is None:
                times.append((None, None))
                continue
            a_abs = a + 86400 * off
            d_abs = d + 86400 * off
            if d_abs < a_abs:
                d_abs += 86400       # departs after midnight
            if a_abs < prev_abs:
                probs.add("stop_time_with_arrival_before_previous_departure_time", fname, line, "arrival",
                          f"{a_txt or d_txt} (day {off}) is before the previous departure; "
                          "set day_offset for stops after midnight")
                ok = False
            prev_abs = d_abs
            times.append((a_abs, d_abs))
        if not ok:
            continue
        rid = _train_value(probs, fname, trows, "route_id")
        rname = _train_value(probs, fname, trows, "route_name")
        if not rname:
            first, last = names_of.get(stop_ids[0], ""), names_of.get(stop_ids[-1], "")
            a_, b_ = sorted([first, last])
            rname = f"{a_} – {b_}"
        rkey = (operator, rid or rname)
        rt = route_keys.setdefault(rkey, {"route_id": rid, "route_long_name": rname, "route_type": rtype,
                                          "operator": operator, "_line": trows[0][0]})
        if rt["route_type"] != rtype:
            probs.add("inconsistent_train_value", fname, trows[0][0], "route_type",
                      f"route {rid or rname!r} has route types {rt['route_type']} and {rtype}")
        trip = {"trip_id": train, "_route": rkey, "_mask": mask, "trip_short_name": train,
                "trip_headsign": names_of.get(stop_ids[-1], ""), "_line": trows[0][0]}
        for c in trip_cols:
            trip[c[5:]] = _train_value(probs, fname, trows, c)
        trip_rows.append(trip)
        for k, (line, r) in enumerate(trows):
            rec = {"trip_id": train, "arrival_time": times[k][0], "departure_time": times[k][1],
                   "stop_id": stop_ids[k], "stop_sequence": seqs[k], "_line": line}
            for c in stop_cols:
                rec[c] = r.get(c, "")
            st_rows.append(rec)
    probs.raise_if_any("fix the rows listed; see 'plan gtfs from-timetable --help' for the columns")
    if not trip_rows:
        msg = f"{tt_path}: no train could be converted"
        raise TimetableError(msg, code="empty_file", hint="a train needs at least two rows (stops)")

    # agencies: ids by name order where not given
    taken = {a["agency_id"] for a in agencies.values() if a["agency_id"]}
    k = 1
    for name in sorted(agencies):
        a = agencies[name]
        while not a["agency_id"]:
            cand = f"a{k}"
            k += 1
            if cand not in taken:
                a["agency_id"] = cand
                taken.add(cand)
    agency = pd.DataFrame([{"agency_id": a["agency_id"], "agency_name": a["agency_name"], "agency_url": a["agency_url"],
                            "agency_timezone": timezone, "agency_lang": lang} for a in agencies.values()])
    if agency["agency_id"].duplicated().any():
        dup = agency.loc[agency["agency_id"].duplicated(), "agency_id"].iloc[0]
        msg = f"{tt_path}: two operators share operator_id {dup!r}"
        raise TimetableError(msg, code="duplicate_key", hint="give each operator its own operator_id")
    agency = agency.sort_values("agency_id", kind="stable").reset_index(drop=True)
    ag_of = {a["agency_name"]: a["agency_id"] for a in agencies.values()}
    # routes
    taken_r = {r["route_id"] for r in route_keys.values() if r["route_id"]}
    k = 1
    for key in sorted(route_keys):
        r = route_keys[key]
        while not r["route_id"]:
            cand = f"r{k}"
            k += 1
            if cand not in taken_r:
                r["route_id"] = cand
                taken_r.add(cand)
    routes = pd.DataFrame([{"route_id": r["route_id"], "agency_id": ag_of[r["operator"]],
                            "route_long_name": r["route_long_name"], "route_type": int(r["route_type"])}
                           for r in route_keys.values()])
    if routes["route_id"].duplicated().any():
        dup = routes.loc[routes["route_id"].duplicated(), "route_id"].iloc[0]
        msg = f"{tt_path}: route_id {dup!r} is used by two operators"
        raise TimetableError(msg, code="duplicate_key", hint="give each operator's routes their own route_id")
    routes = routes.sort_values("route_id", kind="stable").reset_index(drop=True)
    # calendar
    svc_of = {}
    cal = []
    for mask in sorted(masks, reverse=True):
        sid = "daily" if all(mask) else "days_" + "".join(map(str, mask))
        svc_of[mask] = sid
        cal.append({"service_id": sid, **{d: m for d, m in zip(_DAYS, mask, strict=True)},
                    "start_date": np.datetime64(start, "D"), "end_date": np.datetime64(end, "D")})
    calendar = pd.DataFrame(cal).sort_values("service_id").reset_index(drop=True)
    # trips
    trips = pd.DataFrame(trip_rows)
    trips["route_id"] = [route_keys[k]["route_id"] for k in trips["_route"]]
    trips["service_id"] = [svc_of[m] for m in trips["_mask"]]
    front = ["route_id", "service_id", "trip_id", "trip_headsign", "trip_short_name"]
    trips = trips[front + [c for c in trips.columns if c not in front and not c.startswith("_")]]
    trips = trips.sort_values("trip_id", kind="stable").reset_index(drop=True)
    # stop times
    stop_times = pd.DataFrame(st_rows)
    for c in ("arrival_time", "departure_time"):
        stop_times[c] = stop_times[c].astype("Int64")
    stop_times = stop_times.drop(columns=["_line"]).sort_values(["trip_id", "stop_sequence"], kind="stable")
    stop_times = stop_times.reset_index(drop=True)
    # stops actually served, in id order
    used = set(stop_times["stop_id"])
    stops = st[st["stop_id"].isin(used)].drop(columns=["_line", "_alias"]).sort_values("stop_id", kind="stable")
    stops = stops.reset_index(drop=True)
    version = feed_version
    if version is None:
        h = hashlib.sha256()
        for p in (tt_path, st_path):
            h.update(p.read_bytes())
        version = h.hexdigest()[:12]
    info = {"feed_publisher_name": publisher_name, "feed_publisher_url": publisher_url, "feed_lang": lang,
            "feed_start_date": np.datetime64(start, "D"), "feed_end_date": np.datetime64(end, "D"),
            "feed_version": version}
    info.update(feed_info_extra or {})
    feed_info = pd.DataFrame([info])
    return {"agency": agency, "stops": stops, "routes": routes, "trips": trips, "stop_times": stop_times,
            "calendar": calendar, "feed_info": feed_info}


def convert_timetable(timetable: str | Path, stations: str | Path, output: str | Path, *,
                      overwrite: bool = False, **options: Any) -> ConversionSummary:
    """Convert a tabular timetable to a GTFS zip at ``output`` (written atomically).

    ``options`` are those of :func:`timetable_to_tables`. Raises :class:`TimetableError`
    for bad input and :class:`~planner.errors.OutputError` when ``output`` exists and
    ``overwrite`` is False, or is not a ``.zip`` path.
    """
    out = Path(output)
    if out.suffix.lower() != ".zip":
        msg = f"{out}: the output must be a .zip file"
        raise OutputError(msg, code="invalid_output_path", hint="give -o FEED.zip")
    if out.exists() and not overwrite:
        msg = f"{out} already exists"
        raise OutputError(msg, code="output_exists", hint="pass --overwrite or choose another -o")
    if out.exists() and out.is_dir():
        msg = f"{out} is a folder"
        raise OutputError(msg, code="output_unwritable", hint="give a file name ending in .zip")
    tables = timetable_to_tables(timetable, stations, **options)
    write_feed_zip(tables, out)
    cal = tables["calendar"]
    return ConversionSummary(
        path=out, agencies=len(tables["agency"]), routes=len(tables["routes"]), trips=len(tables["trips"]),
        stops=len(tables["stops"]), stop_times=len(tables["stop_times"]), services=len(cal),
        start_date=str(cal["start_date"].min())[:10], end_date=str(cal["end_date"].max())[:10])
