"""The multimodal network: a timetable, street networks and the links between them.

A :class:`Network` is one service date's :class:`~planner.network.timetable.Timetable`,
the walk (and optionally drive) :class:`~planner.network.streets.StreetNetwork`, every stop's
snap to the walk network, the stop-to-stop :class:`~planner.network.links.Footpaths` and the
per-stop change times. :func:`planner.network.build.build_network` makes one (and caches
it); :mod:`planner.network.places` links points to it (:meth:`Network.access`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from planner.common.geodesy import sphere_xyz
from planner.common.notices import Notices
from planner.config import Config
from planner.errors import InputError
from planner.ingest.gtfs.feed import read_feeds
from planner.network import places
from planner.network.links import LINK_STRAIGHT, LINK_STREET, LINK_TRANSFERS_TXT, Access, Footpaths

if TYPE_CHECKING:
    from planner.ingest.gtfs.feed import FeedSet
    from planner.network.streets import StreetNetwork
    from planner.network.timetable import Timetable

__all__ = ["Network"]


@dataclass
class Network:
    """A multimodal network for one service date (see the module docstring)."""

    timetable: Timetable
    footpaths: Footpaths
    footpath_method: np.ndarray   # int8 per footpath: LINK_*
    change_s: np.ndarray          # int32 per stop
    stop_node: np.ndarray         # int32 per stop: walk-network node index, -1 not snapped
    stop_snap_m: float | np.ndarray
    config: Config
    walk: StreetNetwork | None = None
    drive: StreetNetwork | None = None
    notices: Notices = field(default_factory=Notices)
    key: str = ""
    inputs: dict = field(default_factory=dict)
    feeds: FeedSet | None = None
    stop_drive_node: np.ndarray | None = None
    feed_specs: list[str] = field(default_factory=list)

    def load_feeds(self) -> FeedSet:
        """The GTFS feeds behind the network (read on first use after a cache reload)."""
        if self.feeds is None:
            self.feeds = read_feeds(self.feed_specs, config=self.config)
        return self.feeds

    # ------------------------------------------------------------------ basics
    @property
    def n_stops(self) -> int:
        return self.timetable.n_stops

    def stop_index(self, stop_id: str) -> int:
        """Index of a stop given as ``feed:id`` or a bare id that is unique across feeds."""
        ids = self.timetable.stop_ids
        hits = np.flatnonzero(ids == stop_id)
        if len(hits) == 0:
            suffix = np.char.endswith(ids.astype(str), ":" + stop_id)
            hits = np.flatnonzero(suffix)
        if len(hits) == 1:
            return int(hits[0])
        if len(hits) > 1:
            msg = f"stop id {stop_id!r} exists in several feeds: {', '.join(ids[hits][:5])}"
            raise InputError(msg, code="ambiguous_stop", hint="write it as FEED:ID")
        msg = f"no stop with id {stop_id!r}"
        raise InputError(msg, code="unknown_stop", hint="see 'plan network export' for the stop ids")

    def summary(self) -> dict:
        tt = self.timetable
        snapped = int((self.stop_node >= 0).sum())
        return {
            "service_date": str(tt.service_date), "stops": tt.n_stops, "stops_snapped": snapped,
            "stops_not_snapped": tt.n_stops - snapped, "patterns": tt.n_patterns, "trips": tt.n_trips,
            "stop_events": tt.n_stop_events, "footpaths": self.footpaths.n_links,
            "footpaths_street": int((self.footpath_method == LINK_STREET).sum()),
            "footpaths_straight_line": int((self.footpath_method == LINK_STRAIGHT).sum()),
            "footpaths_transfers_txt": int((self.footpath_method == LINK_TRANSFERS_TXT).sum()),
            "walk_nodes": self.walk.n_nodes if self.walk is not None else 0,
            "walk_edges": self.walk.n_edges if self.walk is not None else 0,
        }

    # ------------------------------------------------------------------ access / egress
    def access(self, lon: float, lat: float, *, max_s: float | None = None, park_and_ride: bool = False,
               local: bool = False) -> Access:
        """Stops reachable from a point: :func:`planner.network.places.access`."""
        return places.access(self, lon, lat, max_s=max_s, park_and_ride=park_and_ride, local=local)

    def access_many(self, lon, lat, *, max_s: float | None = None, park_and_ride: bool = False,
                    local: bool = False, threads: int | None = None) -> tuple[np.ndarray, list[Access]]:
        """Access legs of many points: :func:`planner.network.places.access_many`."""
        return places.access_many(self, lon, lat, max_s=max_s, park_and_ride=park_and_ride, local=local,
                                  threads=threads)

    # ------------------------------------------------------------------ spatial indexes
    def node_stops(self) -> tuple[np.ndarray, np.ndarray]:
        """The stops snapped to each walk node as CSR (ptr int64 (V+1), stop indices int32), cached."""
        cached = getattr(self, "_node_stops_cache", None)
        if cached is not None:
            return cached
        n = self.walk.n_nodes
        snapped = np.flatnonzero(self.stop_node >= 0)
        nodes = self.stop_node[snapped]
        order = np.argsort(nodes, kind="stable")
        ptr = np.zeros(n + 1, np.int64)
        np.add.at(ptr, nodes.astype(np.int64) + 1, 1)
        out = (np.cumsum(ptr), snapped[order].astype(np.int32))
        self._node_stops_cache = out
        return out

    def stop_xyz(self) -> np.ndarray:
        """Stop positions on the sphere (x, y, z metres; see :func:`planner.common.geodesy.sphere_xyz`), cached with
        their k-d tree (:meth:`stop_tree`).

        Straight-line distances are great-circle distances computed from these, so they do
        not depend on the other stops: an equirectangular projection around the stops' mean
        latitude (as before issue 11) made a stop nobody uses shift every walking time by a
        rounding second, and erred by several per cent far from the mean latitude of a
        country-wide network (found by ``tests/test_properties.py``).
        """
        cached = getattr(self, "_stop_xyz_cache", None)
        if cached is None:
            tt = self.timetable
            cached = sphere_xyz(tt.stop_lat, tt.stop_lon)
            self._stop_xyz_cache = cached
            self._stop_tree = cKDTree(cached)
        return cached

    def stop_tree(self) -> cKDTree:
        """A k-d tree over :meth:`stop_xyz` (straight-line legs and pairs within a radius)."""
        self.stop_xyz()
        return self._stop_tree
