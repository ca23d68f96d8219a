"""Transport modes from GTFS ``route_type`` (basic and extended/HVT codes).

Each mode has a stable name and a small integer code (kernels see only the code).

>>> mode_of_route_type(101)
'high_speed_rail'
>>> mode_of_route_type(1)
'metro'
"""

from __future__ import annotations

import numpy as np

__all__ = ["MODES", "mode_code", "mode_of_route_type", "modes_of_route_types"]

#: mode names by code; order is fixed (codes are stored in timetables)
MODES: tuple[str, ...] = (
    "other",            # 0
    "tram",             # 1
    "metro",            # 2
    "rail",             # 3  conventional / regional / suburban rail
    "bus",              # 4
    "ferry",            # 5
    "cable_tram",       # 6
    "aerial_lift",      # 7
    "funicular",        # 8
    "trolleybus",       # 9
    "monorail",         # 10
    "high_speed_rail",  # 11
    "intercity_rail",   # 12 long-distance / inter-regional rail
    "coach",            # 13
)

_BASIC = {0: "tram", 1: "metro", 2: "rail", 3: "bus", 4: "ferry", 5: "cable_tram",
          6: "aerial_lift", 7: "funicular", 11: "trolleybus", 12: "monorail"}
_RAIL_EXT = {100: "rail", 101: "high_speed_rail", 102: "intercity_rail", 103: "intercity_rail",
             104: "rail", 105: "intercity_rail", 106: "rail", 107: "rail", 108: "rail",
             109: "rail", 110: "rail", 111: "rail", 112: "rail", 113: "rail", 114: "intercity_rail",
             115: "rail", 116: "rail", 117: "rail"}


def mode_of_route_type(route_type: int) -> str:
    """Mode name of a GTFS ``route_type`` (``other`` when unknown)."""
    rt = int(route_type)
    if rt in _BASIC:
        return _BASIC[rt]
    if rt in _RAIL_EXT:
        return _RAIL_EXT[rt]
    family = rt // 100
    return {
        2: "coach", 4: "metro", 5: "metro", 6: "metro", 7: "bus", 8: "trolleybus", 9: "tram",
        10: "ferry", 11: "other", 12: "ferry", 13: "aerial_lift", 14: "funicular", 15: "other",
        16: "other", 17: "other",
    }.get(family, "other") if rt >= 100 else "other"


def mode_code(name: str) -> int:
    """Integer code of a mode name."""
    return MODES.index(name)


def known_route_type(route_type: int) -> bool:
    """True for the basic codes and the extended (HVT) codes 100-1799."""
    rt = int(route_type)
    return rt in _BASIC or 100 <= rt <= 1799


def modes_of_route_types(route_types: np.ndarray) -> np.ndarray:
    """Vector of mode codes (int8) for an array of route types."""
    cache: dict[int, int] = {}
    out = np.empty(len(route_types), dtype=np.int8)
    for i, rt in enumerate(np.asarray(route_types, dtype=np.int64)):
        code = cache.get(int(rt))
        if code is None:
            code = cache[int(rt)] = mode_code(mode_of_route_type(int(rt)))
        out[i] = code
    return out
