"""What a feed holds, as numbers (used by ``plan gtfs check``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from planner.ingest.gtfs.frequencies import frequency_departures
from planner.ingest.gtfs.modes import mode_of_route_type
from planner.ingest.gtfs.service import service_date_range

if TYPE_CHECKING:
    from planner.ingest.gtfs.feed import Feed

__all__ = ["feed_summary"]


def feed_summary(feed: Feed) -> dict[str, Any]:
    """Counts of what a loaded feed holds.

    Keys: ``feed_id``, ``path``, ``agencies`` (names), ``timezone``, ``routes``,
    ``routes_by_mode`` ({mode: count}), ``stops`` (all locations), ``stations``,
    ``entrances``, ``trips`` (as in trips.txt after validation), ``trips_dropped``,
    ``frequency_templates``, ``frequency_trips`` (trips after expanding frequencies.txt
    templates), ``stop_times``, ``first_service_date``, ``last_service_date``,
    ``service_days``, ``transfers``, ``fares_v1`` (fare_attributes rows), ``fare_rules``,
    ``fares_v2`` (fare_products rows), ``shapes``.
    """
    st = feed.stops
    lt = st["location_type"].fillna(0).astype(np.int64).to_numpy()
    first, last, ndays = service_date_range(feed)
    deps = frequency_departures(feed.frequencies)
    templates = deps["trip_id"].nunique() if not deps.empty else 0
    modes: dict[str, int] = {}
    for rt in feed.routes["route_type"].astype(np.int64):
        m = mode_of_route_type(int(rt))
        modes[m] = modes.get(m, 0) + 1
    return {
        "feed_id": feed.feed_id,
        "path": str(feed.path),
        "agencies": feed.agency["agency_name"].tolist(),
        "timezone": feed.timezone,
        "routes": len(feed.routes),
        "routes_by_mode": dict(sorted(modes.items(), key=lambda kv: (-kv[1], kv[0]))),
        "stops": len(st),
        "stations": int((lt == 1).sum()),
        "entrances": int((lt == 2).sum()),
        "trips": len(feed.trips),
        "trips_dropped": len(feed.dropped_trips),
        "frequency_templates": int(templates),
        "frequency_trips": int(len(feed.trips) - templates + len(deps)),
        "stop_times": len(feed.stop_times),
        "first_service_date": None if first is None else str(first),
        "last_service_date": None if last is None else str(last),
        "service_days": int(ndays),
        "transfers": len(feed.transfers),
        "fares_v1": len(feed["fare_attributes"]),
        "fare_rules": len(feed["fare_rules"]),
        "fares_v2": len(feed["fare_products"]),
        "shapes": int(feed["shapes"]["shape_id"].nunique()) if len(feed["shapes"]) else 0,
    }
