"""Times of day (seconds after midnight of the service date) and departure windows.

Every analysis counts time as whole seconds after midnight of the service date; hours may
pass 24 (``25:30`` is 01:30 the next morning), as in GTFS. This module is the one place
that reads and writes such times and builds the departures of a window:

* :func:`parse_hhmm`: ``HH:MM`` or ``HH:MM:SS`` -> seconds;
* :func:`hhmm` (``07:05``, ``25:30``), :func:`hms` (``07:05:00``, signed) and
  :func:`clock` (``01:30 (+1d)``, for itineraries) -> text;
* :func:`departures`: the departures of a window (``plan matrix``, ``plan access``,
  ``plan evaluate``, ``plan fares``), and :func:`window_text` to say which window was used.
"""

from __future__ import annotations

import numpy as np

from planner.errors import InputError

__all__ = ["clock", "departures", "hhmm", "hms", "parse_hhmm", "window_text"]


def parse_hhmm(value: str) -> int:
    """``HH:MM`` or ``HH:MM:SS`` (hours may pass 24) -> seconds after midnight.

    >>> parse_hhmm("07:30"), parse_hhmm("25:00:30")
    (27000, 90030)

    Raises :class:`ValueError` (with the message to show) for anything else.
    """
    parts = str(value).strip().split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) not in (2, 3) or any(n < 0 for n in nums) or nums[1] > 59 or (len(nums) == 3 and nums[2] > 59):
        msg = f"{value!r} is not a time of day; use HH:MM (hours may pass 24 for after midnight)"
        raise ValueError(msg)
    return nums[0] * 3600 + nums[1] * 60 + (nums[2] if len(nums) == 3 else 0)


def hhmm(seconds: int) -> str:
    """``HH:MM`` of seconds after midnight (hours past 24 stay: ``25:30``).

    >>> hhmm(27000), hhmm(91800)
    ('07:30', '25:30')
    """
    t = int(seconds)
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}"


def hms(seconds: int) -> str:
    """``HH:MM:SS`` of seconds after midnight, ``-`` before midnight (``-00:05:00``).

    >>> hms(92100), hms(-300)
    ('25:35:00', '-00:05:00')
    """
    t = int(seconds)
    sign = "-" if t < 0 else ""
    t = abs(t)
    return f"{sign}{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def clock(seconds: int) -> str:
    """``HH:MM`` on a 24-hour clock, with the day when it is not the service date.

    >>> clock(27000), clock(91800), clock(-600)
    ('07:30', '01:30 (+1d)', '23:50 (-1d)')
    """
    day, rem = divmod(int(seconds), 86400)
    text = hhmm(rem)
    if day:
        text += f" ({day:+d}d)"
    return text


def departures(departure_s: int, window_min: int, step_min: int) -> np.ndarray:
    """Departure times (int64 s) of a window: every ``step_min`` minutes from ``departure_s``
    for ``window_min`` minutes (the end excluded); one departure when ``window_min`` is 0.

    >>> departures(7 * 3600, 15, 5).tolist()
    [25200, 25500, 25800]
    """
    if window_min < 0 or step_min < 1:
        msg = f"window must be >= 0 and step >= 1 minute (got {window_min}, {step_min})"
        raise InputError(msg, code="invalid_parameter")
    if window_min == 0:
        return np.array([departure_s], np.int64)
    return departure_s + 60 * np.arange(0, window_min, step_min, dtype=np.int64)


def window_text(departure_s: int, window_min: int) -> str:
    """``07:00 + 180 min``: the window, as the outputs state it."""
    return f"{hhmm(departure_s)} + {window_min} min"
