"""How stops, footpaths and access legs are linked: the link kinds and the two link structures.

* ``LINK_*``: the method of a stop's snap, a footpath or an access leg, as stored in
  ``Network.footpath_method`` and ``Access.method`` (and named in the exports);
* :class:`Footpaths`: stop-to-stop walking links as CSR arrays (what RAPTOR relaxes after
  every round);
* :class:`Access`: the legs from one point to the stops it reaches (or back, as egress).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LINK_DRIVE", "LINK_LOCAL", "LINK_NAMES", "LINK_PATHWAYS", "LINK_STRAIGHT", "LINK_STREET", "LINK_TRANSFERS_TXT", "Access",
           "Footpaths", "access_csr"]

#: link methods per stop / footpath / access leg
LINK_STREET = 1
LINK_STRAIGHT = 0
LINK_TRANSFERS_TXT = 2
LINK_DRIVE = 3
LINK_LOCAL = 4
LINK_PATHWAYS = 5  # inside a station, along GTFS pathways.txt (issue 19)
#: the name of each link kind in exported tables
LINK_NAMES = {LINK_STREET: "street", LINK_TRANSFERS_TXT: "transfers_txt", LINK_STRAIGHT: "straight_line",
              LINK_LOCAL: "local_taxi_bus", LINK_DRIVE: "drive", LINK_PATHWAYS: "pathways"}


@dataclass(frozen=True)
class Footpaths:
    """Stop-to-stop walking links as CSR arrays (rows = from stop).

    ``ptr`` int32 (S+1), ``to`` int32, ``seconds`` int32 (walk time including any
    transfers.txt minimum), ``metres`` float64 (walking distance; NaN when only a time is
    known, e.g. a transfers.txt rule).
    """

    ptr: np.ndarray
    to: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray

    @property
    def n_links(self) -> int:
        return len(self.to)

    @classmethod
    def empty(cls, n_stops: int) -> Footpaths:
        return cls(np.zeros(n_stops + 1, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32),
                   np.zeros(0, np.float64))

    @classmethod
    def from_pairs(cls, n_stops: int, src, dst, seconds, metres=None) -> Footpaths:
        """CSR from (from, to, seconds[, metres]) lists; duplicate pairs keep the shortest;
        self-loops are dropped (changing at the same stop is the stop's change time)."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        sec = np.asarray(seconds, dtype=np.int64)
        met = np.full(len(src), np.nan) if metres is None else np.asarray(metres, dtype=np.float64)
        keep = src != dst
        src, dst, sec, met = src[keep], dst[keep], sec[keep], met[keep]
        order = np.lexsort((sec, dst, src))
        src, dst, sec, met = src[order], dst[order], sec[order], met[order]
        first = np.ones(len(src), bool)
        first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        src, dst, sec, met = src[first], dst[first], sec[first], met[first]
        ptr = np.zeros(n_stops + 1, np.int32)
        np.add.at(ptr, src + 1, 1)
        return cls(np.cumsum(ptr).astype(np.int32), dst.astype(np.int32), sec.astype(np.int32), met)


@dataclass
class Access:
    """Access (or egress) legs of one point: stops reachable and how long it takes.

    ``stops`` int32 stop indices, ``seconds`` int32, ``metres`` float64 (walking or driving
    distance), ``method`` int8 (1 street network, 0 straight-line walking approximation,
    3 drive (park-and-ride), 4 local taxi/bus approximation). ``snapped`` tells whether the point is on the walk network;
    ``snap_m`` is its distance to it.
    """

    stops: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    method: np.ndarray
    snapped: bool
    snap_m: float
    node: int = -1

    @classmethod
    def empty(cls) -> Access:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int8), False, np.nan)


def access_csr(accs: list[Access]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The legs of several points as CSR: ``ptr`` int64 (points + 1), ``stops`` and
    ``seconds`` int32 (what the many-origin kernels take)."""
    ptr = np.zeros(len(accs) + 1, np.int64)
    ptr[1:] = np.cumsum([len(a.stops) for a in accs])
    stops = np.concatenate([a.stops for a in accs]).astype(np.int32) if accs else np.zeros(0, np.int32)
    secs = np.concatenate([a.seconds for a in accs]).astype(np.int32) if accs else np.zeros(0, np.int32)
    return ptr, stops, secs
