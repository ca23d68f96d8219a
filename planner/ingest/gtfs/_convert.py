"""Convert text columns to typed values by the declared schema, vectorised.

Each converter takes a ``str`` Series (empty string = no value) and returns the typed
values plus a boolean mask of values that are present but invalid. Scalar twins
(:func:`parse_time`, :func:`format_time`, :func:`parse_date`) exist for the API and tests;
they raise :class:`~planner.errors.InputError` (a ``ValueError``) naming the value, never a
bare ``ValueError`` from ``datetime`` or ``int`` (issue 11: ``tests/test_fuzz.py`` checks
that they agree with the vectorised converters on arbitrary text).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from planner.errors import InputError

__all__ = ["arrow_strings", "format_time", "parse_date", "parse_time"]

TIME_RE = r"^([0-9]{1,3}):([0-5][0-9]):([0-5][0-9])$"
DATE_RE = r"^[0-9]{8}$"
INT_RE = r"^[-+]?[0-9]+$"
FLOAT_RE = r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"
COLOR_RE = r"^[0-9A-Fa-f]{6}$"
CURRENCY_RE = r"^[A-Za-z]{3}$"
LANG_RE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
EMAIL_RE = r"^[^@\s]+@[^@\s]+$"
URL_RE = r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$"
MIN_YEAR, MAX_YEAR = 1970, 2199
_TIME_SCALAR = re.compile(r"([0-9]{1,3}):([0-5][0-9]):([0-5][0-9])\Z")
_DATE_SCALAR = re.compile(r"[0-9]{8}")


def parse_time(text: str) -> int:
    """Seconds after midnight of ``H:MM:SS`` (hours 0-999; past 24 for overnight trips).

    >>> parse_time("25:35:00")
    92100
    >>> parse_time("7:05:03")
    25503
    """
    m = _TIME_SCALAR.match(text.strip()) if isinstance(text, str) else None
    if not m:
        msg = f"invalid GTFS time {_shown(text)} (expected H:MM:SS, minutes and seconds below 60)"
        raise InputError(msg, code="invalid_time")
    h, mi, s = (int(g) for g in m.groups())
    return h * 3600 + mi * 60 + s


def format_time(seconds: int) -> str:
    """``HH:MM:SS`` for seconds after midnight (inverse of :func:`parse_time`).

    >>> format_time(92100)
    '25:35:00'
    """
    try:
        seconds = int(seconds)
    except (TypeError, ValueError, OverflowError) as err:
        msg = f"time out of range: {_shown(seconds)} is not a whole number of seconds"
        raise InputError(msg, code="invalid_time") from err
    if seconds < 0 or seconds >= 1000 * 3600:
        msg = f"time out of range: {seconds} s (GTFS times run from 00:00:00 to 999:59:59)"
        raise InputError(msg, code="invalid_time")
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def parse_date(text: str) -> dt.date:
    """A ``YYYYMMDD`` date (years 1970-2199)."""
    t = text.strip() if isinstance(text, str) else ""
    if not _DATE_SCALAR.fullmatch(t):
        msg = f"invalid GTFS date {_shown(text)} (expected YYYYMMDD)"
        raise InputError(msg, code="invalid_date")
    try:
        d = dt.date(int(t[:4]), int(t[4:6]), int(t[6:]))
    except ValueError as err:  # 20240230, month 13...
        msg = f"invalid GTFS date {_shown(text)}: {err}"
        raise InputError(msg, code="invalid_date") from err
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        msg = f"date {_shown(text)} outside {MIN_YEAR}-{MAX_YEAR}"
        raise InputError(msg, code="invalid_date")
    return d


def _shown(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _arrow(s: pd.Series) -> pa.Array:
    return arrow_strings(s)


def arrow_strings(s) -> pa.Array:
    """``s`` (a ``str`` Series, or any sequence of strings) as an arrow ``large_string`` array.

    A ``str`` Series is already arrow inside: its buffers are taken as they are, with no
    Python object per row (issue 17: going through ``to_numpy(dtype=object)`` cost about a
    second per million rows and per column)."""
    if len(s) == 0:
        return pa.array([], pa.large_string())
    arrow = getattr(getattr(s, "array", None), "__arrow_array__", None)
    if arrow is not None and isinstance(getattr(s, "dtype", None), pd.StringDtype):
        arr = pa.array(s.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())
    return pa.array(np.asarray(s, dtype=object), type=pa.large_string())


def _matches(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False).astype(bool)


def present_mask(s: pd.Series) -> np.ndarray:
    return (s != "").to_numpy(dtype=bool)


def to_time(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(seconds as int64 with -1 for empty/invalid, invalid mask)."""
    n = len(s)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return out, np.zeros(0, bool)
    present = present_mask(s)
    arr = _arrow(s)
    ok = _matches(arr, TIME_RE)
    if ok.any():
        idx = np.flatnonzero(ok)
        sub = arr.take(pa.array(idx))
        parts = pc.split_pattern(sub, ":")
        flat = pc.cast(pc.list_flatten(parts), pa.int64()).to_numpy().reshape(-1, 3)
        out[idx] = flat[:, 0] * 3600 + flat[:, 1] * 60 + flat[:, 2]
    return out, present & ~ok


def to_int(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int64 values with 0 for empty/invalid, valid mask, invalid mask)."""
    n = len(s)
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out, np.zeros(0, bool), np.zeros(0, bool)
    present = present_mask(s)
    arr = _arrow(s)
    ok = _matches(arr, INT_RE)
    # reject absurd lengths before casting (overflow)
    lengths = pc.utf8_length(arr).to_numpy(zero_copy_only=False)
    ok &= lengths <= 18
    if ok.any():
        idx = np.flatnonzero(ok)
        # arrow's cast refuses a leading '+', which INT_RE (and the GTFS reference) allow
        digits = pc.replace_substring_regex(arr.take(pa.array(idx)), pattern=r"^\+", replacement="")
        out[idx] = pc.cast(digits, pa.int64()).to_numpy()
    return out, ok, present & ~ok


def to_float(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values with NaN for empty/invalid, invalid mask)."""
    n = len(s)
    out = np.full(n, np.nan)
    if n == 0:
        return out, np.zeros(0, bool)
    present = present_mask(s)
    arr = _arrow(s)
    ok = _matches(arr, FLOAT_RE)
    if ok.any():
        idx = np.flatnonzero(ok)
        vals = pc.cast(arr.take(pa.array(idx)), pa.float64()).to_numpy()
        finite = np.isfinite(vals)
        out[idx[finite]] = vals[finite]
        ok[idx[~finite]] = False
    return out, present & ~ok


def to_date(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D] values with NaT for empty/invalid, invalid mask)."""
    n = len(s)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if n == 0:
        return out, np.zeros(0, bool)
    present = present_mask(s)
    arr = _arrow(s)
    ok = _matches(arr, DATE_RE)
    if ok.any():
        idx = np.flatnonzero(ok)
        parsed = pd.to_datetime(pd.Series(s.iloc[idx].to_numpy(dtype=object)), format="%Y%m%d", errors="coerce")
        vals = parsed.to_numpy(dtype="datetime64[D]")
        years = vals.astype("datetime64[Y]").astype(np.int64) + 1970
        good = ~np.isnat(vals) & (years >= MIN_YEAR) & (years <= MAX_YEAR)
        out[idx[good]] = vals[good]
        ok[idx[~good]] = False
    return out, present & ~ok


def to_pattern(s: pd.Series, pattern: str) -> np.ndarray:
    """Invalid mask of present values not matching ``pattern``."""
    if len(s) == 0:
        return np.zeros(0, bool)
    return present_mask(s) & ~_matches(_arrow(s), pattern)


@lru_cache(maxsize=512)
def valid_timezone(name: str) -> bool:
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def to_timezone(s: pd.Series) -> np.ndarray:
    """Invalid mask of present values that are not IANA time zone names."""
    present = present_mask(s)
    bad = np.zeros(len(s), bool)
    for i in np.flatnonzero(present):
        bad[i] = not valid_timezone(s.iloc[i])
    return bad
