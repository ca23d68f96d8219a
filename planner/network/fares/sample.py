"""Fares of the bundled Northeast China sample, and the fare setup of any set of feeds.

The bundled feeds carry no fare files, so their tariffs are stated here, with sources:

* ``northeast_rail`` (China Railway, both groups: one ticketing system, 12306): the per-km
  second-class rate of :data:`~planner.network.fares.CHINA_RAIL_SECOND_CLASS` (SOURCED: the
  published CNY 285 Harbin West - Dalian North fare over the line's 921 km; see its
  ``source``), applied to the km marks of the feed's ``stop_times.txt`` (``km`` column).
* ``harbin_metro``: :data:`HARBIN_METRO_BANDS` by the number of stations travelled
  (:data:`HARBIN_METRO_SOURCE`), as a station-to-station table
  (:class:`~planner.network.fares.systems.OdTableFares`): one ticket from entry to exit station,
  changes of line inside the paid area free.

:func:`fare_setup` is what ``plan fares`` and ``plan evaluate`` use: the feeds' own fare
files, the sample tariffs for the bundled feeds (``sample=True``), and flat or per-km
tariffs given on the command line for feeds without fare files.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planner.ingest.gtfs.modes import mode_of_route_type
from planner.network.fares.build import FareSystems, FlatTariff, fare_systems_from_feeds
from planner.network.fares.model import to_minor
from planner.network.fares.systems import CHINA_RAIL_SECOND_CLASS, DistanceRate, OdTableFares

if TYPE_CHECKING:
    from collections.abc import Mapping

    from planner.ingest.gtfs.feed import Feed, FeedSet

__all__ = ["HARBIN_METRO_BANDS", "HARBIN_METRO_SOURCE", "FareSetup", "fare_setup", "station_count_fares"]

#: (most stations travelled, price CNY); beyond the last band +1 CNY per further 5 stations
HARBIN_METRO_BANDS = ((12, 3.0), (17, 4.0), (22, 5.0))
HARBIN_METRO_SOURCE = (
    "SOURCED: Harbin Metro single-journey fares 'the same as other existing lines, at 3 yuan for a journey "
    "of 1-12 stations, 4 yuan for 13-17 stations and 5 yuan for 18-22 stations' (China Daily, 2019-04-11, "
    "'Harbin metro extension line kicks off operations', copy at http://e.my399.com/news/2019-04-11/4496.html). "
    "ASSUMED: stations counted as stops passed on the path with fewest stops (a change of line inside an "
    "interchange station counts none); +1 yuan per further 5 stations beyond 22; one ticket from entry to "
    "exit station, changes inside the paid area free, no time limit; stored-value card discounts not modelled."
)
SAMPLE_RAIL_FEED = "northeast_rail"
_RAIL = ("rail", "high_speed_rail", "intercity_rail")
SAMPLE_METRO_FEED = "harbin_metro"


def _band_price(n: int, bands) -> float:
    for most, price in bands:
        if n <= most:
            return price
    last_n, last_p = bands[-1]
    return last_p + -(-(n - last_n) // 5)


def station_count_fares(feed: Feed, system_id: str, name: str, routes, *, bands=HARBIN_METRO_BANDS,
                        currency: str = "CNY", source: str = HARBIN_METRO_SOURCE) -> OdTableFares:
    """An :class:`OdTableFares` priced by the number of stations between entry and exit.

    Stations are parent stations (platforms of one interchange are one station); two
    stations are neighbours when a trip serves them one after the other. The count is the
    fewest hops between them (breadth-first search), priced by ``bands``.
    """
    stops = feed.namespaced("stops")
    parent = {str(s): (str(p) if p else str(s)) for s, p in zip(stops["stop_id"], stops["parent_station"],
                                                                strict=True)}
    st = feed.namespaced("stop_times").sort_values(["trip_id", "stop_sequence"], kind="stable")
    adj: dict[str, set[str]] = {}
    prev_trip, prev = None, None
    for trip, stop in zip(st["trip_id"], st["stop_id"], strict=True):
        here = parent.get(str(stop), str(stop))
        adj.setdefault(here, set())
        if trip == prev_trip and prev is not None and prev != here:
            adj[prev].add(here)
            adj[here].add(prev)
        prev_trip, prev = trip, here
    prices: dict[tuple[str, str], int] = {}
    for origin in sorted(adj):
        hops = {origin: 0}
        queue = deque([origin])
        while queue:
            u = queue.popleft()
            for v in adj[u]:
                if v not in hops:
                    hops[v] = hops[u] + 1
                    queue.append(v)
        for dest, n in hops.items():
            prices[(origin, dest)] = to_minor(_band_price(max(n, 1), bands))
    zone = {s: parent[s] for s in parent if parent[s] in adj}
    return OdTableFares(system_id, name, currency, frozenset(routes), stop_zone=zone, prices_minor=prices,
                        source=source)


@dataclass
class FareSetup:
    """The fare systems of a network and where ride distances come from.

    ``distance_column``/``distance_unit_m``: the ``stop_times`` column with distances along
    the trip and its unit in metres (:func:`planner.routing.fares.build_fare_model`);
    ``notes``: one line per system saying which tariff it got and its source.
    """

    fares: FareSystems
    distance_column: str | None = None
    distance_unit_m: float = 1.0
    notes: list[str] = field(default_factory=list)


def fare_setup(feeds: FeedSet, *, sample: bool = False, flat: Mapping[str, FlatTariff] | None = None,
               distance: Mapping[str, DistanceRate] | None = None) -> FareSetup:
    """The fare systems of ``feeds``: one per feed, from its fare files (Fares v2, else v1).

    Parameters
    ----------
    feeds
        The feeds (of the baseline or of a scenario).
    sample
        Apply the bundled sample's tariffs (module docstring) to the feeds ``northeast_rail``
        and ``harbin_metro`` when present and without fare files of their own, and the rail
        rate to a scenario's new rail lines (feeds ``scenario_*`` of rail modes only; their
        distances are straight lines between stops, shorter than the track: ASSUMED).
    flat, distance
        Feed id -> a flat tariff, or a per-km rate (every mode), for feeds without fare files.
    """
    ids = set(feeds.ids)
    flat = dict(flat or {})
    dist = {k: {"*": v} for k, v in (distance or {}).items()}
    metro = None
    column, unit = None, 1.0
    if sample:
        if SAMPLE_RAIL_FEED in ids and SAMPLE_RAIL_FEED not in flat and SAMPLE_RAIL_FEED not in dist \
                and feeds[SAMPLE_RAIL_FEED]["fare_attributes"].empty:
            dist[SAMPLE_RAIL_FEED] = {"*": CHINA_RAIL_SECOND_CLASS}
            if "km" in feeds[SAMPLE_RAIL_FEED].stop_times:
                column, unit = "km", 1000.0
        for f in feeds:
            if f.feed_id.startswith("scenario_") and f["fare_attributes"].empty and f.feed_id not in flat \
                    and f.feed_id not in dist and len(f.routes) \
                    and f.routes["route_type"].astype("int64").map(mode_of_route_type).isin(_RAIL).all():
                dist[f.feed_id] = {"*": CHINA_RAIL_SECOND_CLASS}
        if SAMPLE_METRO_FEED in ids and SAMPLE_METRO_FEED not in flat and SAMPLE_METRO_FEED not in dist \
                and feeds[SAMPLE_METRO_FEED]["fare_attributes"].empty \
                and feeds[SAMPLE_METRO_FEED]["fare_leg_rules"].empty:
            metro = SAMPLE_METRO_FEED
    fares = fare_systems_from_feeds(feeds, distance=dist or None, flat=flat or None)
    notes = list(fares.notes)
    if metro is not None:
        old = fares[metro]  # NoFares: the feed has no fare files (checked above)
        systems = dict(fares.systems)
        systems[metro] = station_count_fares(feeds[metro], metro, old.name, old.routes)
        notes = [n for n in notes if not n.startswith(f"{metro}:")]
        notes.append(f"{metro}: fares by stations travelled (3/4/5 CNY up to 12/17/22 stations): "
                     + HARBIN_METRO_SOURCE)
        fares = FareSystems(systems, dict(fares.route_mode), notes)
    if column is not None:
        notes.append(f"{SAMPLE_RAIL_FEED}: ride distances from the km marks of stop_times.txt")
    return FareSetup(fares, column, unit, notes)
