"""Fare systems: how one operator's (or one feed's) tickets price a run of ride legs.

Every system answers one question, :meth:`FareSystem.ticket`: the cheapest *single* ticket
valid for a run of consecutive legs, or ``None``. :func:`cheapest_tickets` then splits a run
into tickets at the lowest total (a dynamic programme over the split points, as
OpenTripPlanner's default fare service does), so a traveller who could buy one ticket with a
transfer, or two single tickets, pays the cheaper.

Kinds of system:

* :class:`GtfsV1Fares`: GTFS Fares v1 (``fare_attributes`` + ``fare_rules``).
* :class:`~planner.network.fares.gtfs_v2.GtfsV2Fares`: a subset of GTFS Fares v2.
* :class:`DistanceFares`: a price per km by mode with a minimum fare (intercity rail).
* :class:`FlatFares`: one price per ticket, with an optional transfer window.
* :class:`OdTableFares`: a station-to-station price table (entry and exit station of a
  gated system, changes inside it free), as metros publish.
* :class:`NoFares`: a feed without fare data: every leg is unpriced.

GTFS Fares v1 semantics used here
---------------------------------
Rows of ``fare_rules`` of one ``fare_id`` that share ``route_id``, ``origin_id`` and
``destination_id`` form one rule whose ``contains_id`` values are a set; rules of one fare
that differ only in ``route_id`` are merged into a rule with a set of routes (so a Caltrain
zone ticket listed once per route covers a transfer between a local and a bullet train). A
ticket for legs ``l1..ln`` matches a rule when every leg's route is in the rule's routes
(an empty ``route_id`` allows any route), the zone of the first boarding stop equals
``origin_id`` and the zone of the last alighting stop equals ``destination_id`` (empty:
any), and the zones of every stop passed satisfy ``contains_id`` (``"exact"``: the set of
zones passed equals the rule's set, the GTFS reference reading; ``"subset"``: it lies within
it, the reading of zone tickets such as HSL's). A fare without rules applies to every leg of
its agency. ``transfers`` bounds ``n - 1`` (empty: unlimited); ``transfer_duration`` bounds
the time from the first leg's departure to every later leg's departure (empty: no limit).
A stop without ``zone_id`` takes its parent station's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from planner.errors import ConfigError
from planner.network.fares.model import RideLeg, Ticket, to_minor

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd

__all__ = [
    "CHINA_RAIL_FIRST_CLASS",
    "CHINA_RAIL_SECOND_CLASS",
    "DistanceFares",
    "DistanceRate",
    "FareSystem",
    "FlatFares",
    "GtfsV1Fares",
    "NoFares",
    "OdTableFares",
    "V1Fare",
    "V1Rule",
    "cheapest_tickets",
    "distance_price_minor",
    "is_missing",
]


@dataclass(frozen=True)
class FareSystem:
    """One fare system (base class).

    Attributes
    ----------
    system_id
        Its id (``feed_id``, ``feed_id:agency_id``, or chosen).
    name
        Human-readable name.
    currency
        ISO 4217 code; ``""`` for a system without fares.
    routes
        Namespaced route ids it prices.
    """

    system_id: str
    name: str
    currency: str
    routes: frozenset[str]
    kind: ClassVar[str] = "base"

    def ticket(self, legs: Sequence[RideLeg]) -> tuple[int, str] | None:
        """``(amount_minor, product)`` of the cheapest single ticket valid for all of
        ``legs`` (consecutive legs of this system), or ``None``."""
        raise NotImplementedError

    def max_legs_per_ticket(self) -> int | None:
        """Most legs one ticket may cover (``None``: no limit); bounds the search."""
        return None


def cheapest_tickets(system: FareSystem, legs: Sequence[RideLeg], offset: int = 0) -> tuple[list[Ticket], int]:
    """Split a run of consecutive legs of one system into tickets at the lowest total.

    Returns the tickets (leg indices shifted by ``offset``) and the number of unpriced
    legs: a leg no ticket covers is a ticket of its own with amount ``None``. The total is
    minimised lexicographically: fewest unpriced legs first, then the amount.
    """
    n = len(legs)
    limit = system.max_legs_per_ticket() or n
    best: list[tuple[int, int] | None] = [None] * (n + 1)
    back: list[tuple[int, Ticket] | None] = [None] * (n + 1)
    best[0] = (0, 0)
    for i in range(1, n + 1):
        for j in range(max(0, i - limit), i):
            prev = best[j]
            if prev is None:
                continue
            t = system.ticket(legs[j:i])
            if t is None:
                if i - j != 1:
                    continue
                cost = (prev[0] + 1, prev[1])
                ticket = Ticket(system.system_id, (offset + j,), "", None)
            else:
                cost = (prev[0], prev[1] + t[0])
                ticket = Ticket(system.system_id, tuple(range(offset + j, offset + i)), t[1], t[0])
            cur = best[i]
            if cur is None or cost < cur:
                best[i] = cost
                back[i] = (j, ticket)
    tickets: list[Ticket] = []
    i = n
    while i > 0:
        step = back[i]
        if step is None:  # pragma: no cover - a single leg always has a (possibly unpriced) ticket
            msg = "no ticket split found (internal error)"
            raise RuntimeError(msg)
        tickets.append(step[1])
        i = step[0]
    tickets.reverse()
    total = best[n]
    return tickets, (total[0] if total else 0)


# --------------------------------------------------------------------------------------
# GTFS Fares v1
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class V1Fare:
    """One ``fare_attributes`` row (ids namespaced, price in minor units)."""

    fare_id: str
    price_minor: int
    currency: str
    transfers: int | None          # None: unlimited
    transfer_duration: int | None  # seconds; None: no limit
    agency_id: str = ""


@dataclass(frozen=True)
class V1Rule:
    """One merged fare rule: ``routes`` ``None`` means any route; empty zone ids mean any."""

    fare_id: str
    routes: frozenset[str] | None
    origin: str
    destination: str
    contains: frozenset[str]


@dataclass(frozen=True)
class GtfsV1Fares(FareSystem):
    """GTFS Fares v1 of one feed (or of one agency of it); see the module docstring.

    Attributes
    ----------
    fares
        ``fare_id`` -> :class:`V1Fare`.
    rules
        Merged rules, by fare.
    stop_zone
        Namespaced stop id -> namespaced zone id (``""``: none).
    route_agency
        Namespaced route id -> namespaced agency id (for fares restricted to an agency).
    contains_mode
        ``"exact"`` or ``"subset"`` (how ``contains_id`` matches).
    """

    fares: Mapping[str, V1Fare] = field(default_factory=dict)
    rules: Mapping[str, tuple[V1Rule, ...]] = field(default_factory=dict)
    stop_zone: Mapping[str, str] = field(default_factory=dict)
    route_agency: Mapping[str, str] = field(default_factory=dict)
    contains_mode: str = "exact"
    kind: ClassVar[str] = "gtfs_v1"

    def max_legs_per_ticket(self) -> int | None:
        if any(f.transfers is None for f in self.fares.values()):
            return None
        return 1 + max((f.transfers or 0 for f in self.fares.values()), default=0)

    def zones_passed(self, legs: Sequence[RideLeg]) -> frozenset[str]:
        zones = {self.stop_zone.get(s, "") for leg in legs for s in leg.passed}
        zones.discard("")
        return frozenset(zones)

    def rule_matches(self, rule: V1Rule, legs: Sequence[RideLeg], zones: frozenset[str]) -> bool:
        """Whether ``rule`` matches a ticket for ``legs`` passing ``zones``."""
        if rule.routes is not None and any(leg.route_id not in rule.routes for leg in legs):
            return False
        if rule.origin and self.stop_zone.get(legs[0].from_stop_id, "") != rule.origin:
            return False
        if rule.destination and self.stop_zone.get(legs[-1].to_stop_id, "") != rule.destination:
            return False
        if rule.contains:
            if self.contains_mode == "exact":
                return zones == rule.contains
            return zones <= rule.contains
        return True

    def valid(self, fare: V1Fare, legs: Sequence[RideLeg]) -> bool:
        """Transfers, transfer duration and agency of ``fare`` allow ``legs`` as one ticket."""
        if fare.transfers is not None and len(legs) - 1 > fare.transfers:
            return False
        if fare.transfer_duration is not None:
            t0 = legs[0].dep_s
            if any(leg.dep_s - t0 > fare.transfer_duration for leg in legs[1:]):
                return False
        return not (fare.agency_id and any(self.route_agency.get(leg.route_id, "") != fare.agency_id for leg in legs))

    def ticket(self, legs: Sequence[RideLeg]) -> tuple[int, str] | None:
        zones = self.zones_passed(legs)
        best: tuple[int, str] | None = None
        for fid, fare in self.fares.items():
            if best is not None and fare.price_minor >= best[0]:
                continue
            if not self.valid(fare, legs):
                continue
            rules = self.rules.get(fid, ())
            if rules and not any(self.rule_matches(r, legs, zones) for r in rules):
                continue
            best = (fare.price_minor, fid)
        return best

    @classmethod
    def from_tables(cls, system_id: str, name: str, fare_attributes: pd.DataFrame, fare_rules: pd.DataFrame,
                    stops: pd.DataFrame, routes: pd.DataFrame, *, contains: str = "exact",
                    agency_id: str | None = None) -> GtfsV1Fares:
        """Build from namespaced ``fare_attributes``, ``fare_rules``, ``stops`` and ``routes``.

        With ``agency_id``, keep only that agency's routes and the fares of that agency (or
        of no agency).
        """
        if contains not in ("exact", "subset"):
            msg = f"contains must be 'exact' or 'subset', got {contains!r}"
            raise ConfigError(msg, code="invalid_parameter")
        route_agency = dict(zip(routes["route_id"], routes["agency_id"], strict=True))
        if agency_id is not None:
            route_set = frozenset(r for r, a in route_agency.items() if a in (agency_id, ""))
        else:
            route_set = frozenset(route_agency)
        fares: dict[str, V1Fare] = {}
        currencies = set()
        for row in fare_attributes.itertuples(index=False):
            ag = str(row.agency_id)
            if agency_id is not None and ag not in ("", agency_id):
                continue
            tr = None if is_missing(row.transfers) else int(row.transfers)
            dur = None if is_missing(row.transfer_duration) else int(row.transfer_duration)
            fares[row.fare_id] = V1Fare(row.fare_id, to_minor(row.price), str(row.currency_type), tr, dur, ag)
            currencies.add(str(row.currency_type))
        if len(currencies) > 1:
            msg = f"fare system {system_id} mixes currencies {sorted(currencies)}"
            raise ConfigError(msg, code="fare_mixed_currencies", hint="keep one currency per feed")
        # group contains_id by (fare, route, origin, destination), then merge routes
        zone_sets: dict[tuple[str, str, str, str], set[str]] = {}
        for row in fare_rules.itertuples(index=False):
            if row.fare_id not in fares:
                continue
            key = (row.fare_id, row.route_id, row.origin_id, row.destination_id)
            zones = zone_sets.setdefault(key, set())
            if row.contains_id:
                zones.add(row.contains_id)
        merged: dict[tuple[str, str, str, frozenset[str]], set[str]] = {}
        for (fid, route, o, d), zones in zone_sets.items():
            merged.setdefault((fid, o, d, frozenset(zones)), set()).add(route)
        rules: dict[str, list[V1Rule]] = {}
        for (fid, o, d, zones), rset in merged.items():
            routes_of = None if "" in rset else frozenset(rset)
            rules.setdefault(fid, []).append(V1Rule(fid, routes_of, o, d, zones))
        zone = dict(zip(stops["stop_id"], stops["zone_id"], strict=True))
        parent = dict(zip(stops["stop_id"], stops["parent_station"], strict=True))
        stop_zone = {s: (z or zone.get(parent.get(s, ""), "") or "") for s, z in zone.items()}
        return cls(system_id, name, next(iter(currencies), ""), route_set,
                   fares=fares, rules={k: tuple(v) for k, v in rules.items()}, stop_zone=stop_zone,
                   route_agency=route_agency, contains_mode=contains)


def is_missing(v) -> bool:
    """A fare table value that is not there (None, NaN, empty)."""
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v) in ("", "<NA>", "nan")


# --------------------------------------------------------------------------------------
# distance-based, flat, none
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistanceRate:
    """A per-km tariff for one mode.

    Attributes
    ----------
    rate_per_km
        Currency units per km along the vehicle's path.
    min_fare
        Least a ride costs (currency units).
    rounding
        The price is rounded half up to a multiple of this (currency units; 0.01 = cents).
    currency
        ISO 4217 code.
    source
        Where the figures come from, with what was ASSUMED.
    """

    rate_per_km: float
    min_fare: float = 0.0
    rounding: float = 0.01
    currency: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if not (self.rate_per_km >= 0 and self.min_fare >= 0 and self.rounding > 0):
            msg = (f"distance rate must have rate_per_km >= 0, min_fare >= 0 and rounding > 0, got "
                   f"{self.rate_per_km}, {self.min_fare}, {self.rounding}")
            raise ConfigError(msg, code="invalid_parameter")

    @property
    def rate_minor_per_km(self) -> float:
        return self.rate_per_km * 100.0

    @property
    def min_minor(self) -> int:
        return to_minor(self.min_fare)

    @property
    def step_minor(self) -> int:
        return max(1, to_minor(self.rounding))


_CR_SOURCE = (
    "SOURCED rate: CNY {fare} {cls} class Harbin West-Dalian North, opening fare of Dec 2012 "
    "(shared/data/northeast_china/rail_service_levels.csv, row 'hada', allchinavisits.com) / 921 km "
    "operating mileage (rail_lines.csv 'hada' alt_length_km, Xinhua/Ministry of Railways 2012) "
    "= {rate:.4f} CNY/km. ASSUMED: the same rate on 200 km/h lines; no minimum fare; prices "
    "rounded to CNY 0.5 as on China Railway tickets."
)

#: China Railway high-speed second class, derived from a published fare (see ``source``)
CHINA_RAIL_SECOND_CLASS = DistanceRate(285 / 921, 0.0, 0.5, "CNY", _CR_SOURCE.format(fare=285, cls="2nd", rate=285 / 921))
#: China Railway high-speed first class, derived from a published fare (see ``source``)
CHINA_RAIL_FIRST_CLASS = DistanceRate(456 / 921, 0.0, 0.5, "CNY", _CR_SOURCE.format(fare=456, cls="1st", rate=456 / 921))


def distance_price_minor(rate: DistanceRate, distance_m: float) -> int | None:
    """Price of one ride of ``distance_m`` metres in minor units (None when unknown).

    ``max(min, round_half_up(rate * km / step) * step)`` with the same floating-point
    operations as the McRAPTOR kernel (:func:`planner.kernels.fare_raptor.ride_part`).
    """
    if not math.isfinite(distance_m):
        return None
    x = rate.rate_minor_per_km * distance_m / 1000.0
    step = rate.step_minor
    d = math.floor(x / step + 0.5) * step
    return max(rate.min_minor, d)


@dataclass(frozen=True)
class DistanceFares(FareSystem):
    """A per-km price by mode; every ride is its own ticket.

    Attributes
    ----------
    rates
        Mode name -> :class:`DistanceRate`; ``"*"`` applies to modes not listed.
    route_mode
        Namespaced route id -> mode name.
    """

    rates: Mapping[str, DistanceRate] = field(default_factory=dict)
    route_mode: Mapping[str, str] = field(default_factory=dict)
    kind: ClassVar[str] = "distance"

    def rate_for(self, route_id: str) -> DistanceRate | None:
        mode = self.route_mode.get(route_id, "other")
        return self.rates.get(mode, self.rates.get("*"))

    def max_legs_per_ticket(self) -> int | None:
        return 1

    def ticket(self, legs: Sequence[RideLeg]) -> tuple[int, str] | None:
        if len(legs) != 1:
            return None
        rate = self.rate_for(legs[0].route_id)
        if rate is None:
            return None
        price = distance_price_minor(rate, legs[0].distance_m)
        return None if price is None else (price, "distance")


@dataclass(frozen=True)
class FlatFares(FareSystem):
    """One price per ticket; a ticket may cover further rides of the system within
    ``transfer_window_s`` of its first departure and up to ``max_transfers`` transfers.

    Attributes
    ----------
    price_minor
        The ticket price in minor units.
    transfer_window_s
        Seconds from the first departure to a later departure; ``None``: no transfers.
    max_transfers
        ``None``: unlimited within the window.
    """

    price_minor: int = 0
    transfer_window_s: int | None = None
    max_transfers: int | None = None
    kind: ClassVar[str] = "flat"

    def max_legs_per_ticket(self) -> int | None:
        if self.transfer_window_s is None:
            return 1
        return None if self.max_transfers is None else 1 + self.max_transfers

    def ticket(self, legs: Sequence[RideLeg]) -> tuple[int, str] | None:
        if len(legs) > 1:
            if self.transfer_window_s is None:
                return None
            if self.max_transfers is not None and len(legs) - 1 > self.max_transfers:
                return None
            if any(leg.dep_s - legs[0].dep_s > self.transfer_window_s for leg in legs[1:]):
                return None
        return self.price_minor, "flat"


@dataclass(frozen=True)
class OdTableFares(FareSystem):
    """A price per (entry zone, exit zone): the first boarding's and the last alighting's
    zone of a ticket (a station, or a group of platforms), as gated metros charge by entry
    and exit station. A ticket covers any number of rides of the system departing within
    ``transfer_window_s`` of its first departure (``None``: no limit); riding another system
    ends it (:mod:`planner.network.fares.policy`).

    Attributes
    ----------
    stop_zone
        Namespaced stop id -> zone id (e.g. the parent station).
    prices_minor
        (origin zone, destination zone) -> price in minor units; a missing pair is not a
        valid ticket.
    source
        Where the prices come from.
    """

    stop_zone: Mapping[str, str] = field(default_factory=dict)
    prices_minor: Mapping[tuple[str, str], int] = field(default_factory=dict)
    transfer_window_s: int | None = None
    source: str = ""
    kind: ClassVar[str] = "od_table"

    def ticket(self, legs: Sequence[RideLeg]) -> tuple[int, str] | None:
        if self.transfer_window_s is not None and any(
                leg.dep_s - legs[0].dep_s > self.transfer_window_s for leg in legs[1:]):
            return None
        key = (self.stop_zone.get(legs[0].from_stop_id, ""), self.stop_zone.get(legs[-1].to_stop_id, ""))
        price = self.prices_minor.get(key)
        return None if price is None else (price, "od")


@dataclass(frozen=True)
class NoFares(FareSystem):
    """A system without fare data: no leg is priced (fares come out NaN)."""

    kind: ClassVar[str] = "none"

    def max_legs_per_ticket(self) -> int | None:
        return 1

    def ticket(self, legs: Sequence[RideLeg]) -> tuple[int, str] | None:
        return None
