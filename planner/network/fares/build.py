"""The fare systems of a set of feeds: :class:`FareSystems` and how to build it.

:func:`fare_systems_from_feeds` makes one fare system per feed (``split="feed"``) or per
agency (``split="agency"``), reading GTFS Fares v2 when a feed has ``fare_leg_rules``, else
Fares v1 when it has ``fare_attributes``; a feed may instead be given a per-km tariff
(``distance=``) or a flat one (``flat=``); a feed with none of these becomes a system
without fares (its legs are unpriced, fares NaN). :meth:`FareSystems.split` divides a system
further (by mode, say) to study operators that do not exist as separate feeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pandas as pd

from planner.errors import ConfigError
from planner.ingest.gtfs.feed import Feed
from planner.ingest.gtfs.modes import mode_of_route_type
from planner.network.fares.gtfs_v2 import GtfsV2Fares
from planner.network.fares.model import to_minor
from planner.network.fares.policy import price_journey
from planner.network.fares.systems import (
    DistanceFares,
    DistanceRate,
    FareSystem,
    FlatFares,
    GtfsV1Fares,
    NoFares,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from planner.ingest.gtfs.feed import Feed, FeedSet
    from planner.network.fares.model import JourneyPrice, RideLeg
    from planner.network.fares.policy import UnifiedCardPolicy

__all__ = ["FareSystems", "FlatTariff", "fare_systems_from_feeds"]


@dataclass(frozen=True)
class FlatTariff:
    """A flat fare for a feed or agency without fare files.

    Attributes
    ----------
    price
        Currency units per ticket.
    currency
        ISO 4217 code.
    transfer_window_s
        A ticket covers further rides of the system departing within this many seconds of
        its first departure; ``None``: every ride is a new ticket.
    max_transfers
        ``None``: unlimited within the window.
    source
        Where the price comes from (say ASSUMED when it is).
    """

    price: float
    currency: str
    transfer_window_s: int | None = None
    max_transfers: int | None = None
    source: str = ""


@dataclass
class FareSystems:
    """The fare systems of a network and which routes each one prices.

    Attributes
    ----------
    systems
        System id -> :class:`~planner.network.fares.systems.FareSystem`.
    route_mode
        Namespaced route id -> mode name (distance tariffs, penalties per mode).
    notes
        What was assumed or left out while building (one line each).
    """

    systems: dict[str, FareSystem]
    route_mode: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._route_system: dict[str, str] = {}
        for sid, system in self.systems.items():
            if sid != system.system_id:
                msg = f"fare system registered as {sid!r} has id {system.system_id!r}"
                raise ConfigError(msg, code="invalid_fare_system")
            for r in system.routes:
                other = self._route_system.get(r)
                if other is not None:
                    msg = f"route {r} belongs to two fare systems: {other} and {sid}"
                    raise ConfigError(msg, code="invalid_fare_system",
                                      hint="give each route to one system (split by agency or by mode)")
                self._route_system[r] = sid
        currencies = {s.currency for s in self.systems.values() if s.currency}
        if len(currencies) > 1:
            msg = "fare systems use different currencies: " + ", ".join(
                f"{s.system_id}={s.currency}" for s in self.systems.values() if s.currency)
            raise ConfigError(msg, code="fare_mixed_currencies",
                              hint="price feeds of one currency together, or convert their fares first")

    @property
    def currency(self) -> str:
        """The currency of every priced system (``""`` when none is priced)."""
        return next((s.currency for s in self.systems.values() if s.currency), "")

    def system_of(self, route_id: str) -> str | None:
        """The id of the system pricing ``route_id`` (namespaced), or ``None``."""
        return self._route_system.get(route_id)

    def __getitem__(self, system_id: str) -> FareSystem:
        try:
            return self.systems[system_id]
        except KeyError:
            msg = f"no fare system {system_id!r}; known: {', '.join(sorted(self.systems)) or 'none'}"
            raise ConfigError(msg, code="unknown_fare_system") from None

    def __iter__(self):
        return iter(self.systems.values())

    def __len__(self) -> int:
        return len(self.systems)

    def split(self, system_id: str, key: Callable[[str], str] | Mapping[str, str]) -> FareSystems:
        """Divide one system into several with the same tariff, by route.

        ``key`` maps each namespaced route id of the system to a suffix; the new systems
        are ``"<system_id>/<suffix>"``. Used to treat modes (or groups of routes) of one
        feed as separate operators. Returns a new :class:`FareSystems`.
        """
        system = self[system_id]
        keyf = key.get if not callable(key) else key
        groups: dict[str, set[str]] = {}
        for r in system.routes:
            suffix = keyf(r)
            if not suffix:
                msg = f"split of {system_id}: no group for route {r}"
                raise ConfigError(msg, code="invalid_fare_system")
            groups.setdefault(str(suffix), set()).add(r)
        new = {k: v for k, v in self.systems.items() if k != system_id}
        for suffix, routes in sorted(groups.items()):
            sid = f"{system_id}/{suffix}"
            new[sid] = replace(system, system_id=sid, name=f"{system.name} ({suffix})", routes=frozenset(routes))
        return FareSystems(new, dict(self.route_mode), [*self.notes, f"{system_id} split into {len(groups)} systems"])

    def split_by_mode(self, system_id: str, groups: Mapping[str, Iterable[str]] | None = None) -> FareSystems:
        """:meth:`split` by mode; ``groups`` maps a group name to modes (default: one group
        per mode)."""
        lookup = {m: g for g, modes in (groups or {}).items() for m in modes}

        def key(route_id: str) -> str:
            mode = self.route_mode.get(route_id, "other")
            return lookup.get(mode, mode)

        return self.split(system_id, key)

    def price(self, legs: Sequence[RideLeg], policy: UnifiedCardPolicy | None = None) -> JourneyPrice:
        """:func:`planner.network.fares.price_journey` with these systems."""
        return price_journey(legs, self, policy)

    def summary(self) -> pd.DataFrame:
        """One row per system: ``system_id``, ``kind``, ``name``, ``currency``, ``n_routes``."""
        return pd.DataFrame(
            [(s.system_id, s.kind, s.name, s.currency, len(s.routes)) for s in self.systems.values()],
            columns=["system_id", "kind", "name", "currency", "n_routes"])


def _feeds(feeds: Feed | FeedSet | Sequence[Feed]) -> list[Feed]:
    return [feeds] if isinstance(feeds, Feed) else list(feeds)


def fare_systems_from_feeds(
    feeds: Feed | FeedSet | Sequence[Feed],
    *,
    split: str = "feed",
    contains: str = "exact",
    distance: Mapping[str, Mapping[str, DistanceRate]] | None = None,
    flat: Mapping[str, FlatTariff] | None = None,
    prefer: str = "v2",
    fare_media: Iterable[str] | None = None,
) -> FareSystems:
    """Build the fare systems of ``feeds``.

    Parameters
    ----------
    feeds
        One feed, a :class:`~planner.ingest.gtfs.feed.FeedSet` or a list of feeds.
    split
        ``"feed"``: one system per feed (id: the feed id); ``"agency"``: one per agency
        (id: the namespaced agency id ``feed:agency``).
    contains
        How GTFS Fares v1 ``contains_id`` matches: ``"exact"`` or ``"subset"`` (see
        :mod:`planner.network.fares.systems`).
    distance
        Feed id -> {mode name or ``"*"``: :class:`DistanceRate`}: price these feeds per km
        (their fare files, if any, are not used).
    flat
        Feed id -> :class:`FlatTariff` for feeds priced by a flat fare.
    prefer
        ``"v2"`` or ``"v1"``: which GTFS fares to read when a feed has both.
    fare_media
        Fares v2 media ids a traveller may use (``None``: all).

    Returns
    -------
    FareSystems
        With ``notes`` saying which tariff each feed got.
    """
    if split not in ("feed", "agency"):
        msg = f"split must be 'feed' or 'agency', got {split!r}"
        raise ConfigError(msg, code="invalid_parameter")
    if prefer not in ("v1", "v2"):
        msg = f"prefer must be 'v1' or 'v2', got {prefer!r}"
        raise ConfigError(msg, code="invalid_parameter")
    flist = _feeds(feeds)
    known = {f.feed_id for f in flist}
    for name, given in (("distance", distance), ("flat", flat)):
        unknown = sorted(set(given or {}) - known)
        if unknown:
            msg = f"{name} tariff given for unknown feed(s) {unknown}; feeds: {sorted(known)}"
            raise ConfigError(msg, code="unknown_feed")
    systems: dict[str, FareSystem] = {}
    route_mode: dict[str, str] = {}
    notes: list[str] = []
    for feed in flist:
        routes = feed.namespaced("routes")
        agencies = feed.namespaced("agency")
        rtypes = routes["route_type"].astype("int64").to_numpy()
        for r, t in zip(routes["route_id"], rtypes, strict=True):
            route_mode[r] = mode_of_route_type(int(t))
        sole = agencies["agency_id"].iloc[0] if len(agencies) == 1 else ""
        route_agency = {r: (a or sole) for r, a in zip(routes["route_id"], routes["agency_id"], strict=True)}
        if split == "feed":
            groups = [(feed.feed_id, feed.feed_id, frozenset(route_agency), None)]
        else:
            groups = []
            for a, name in zip(agencies["agency_id"], agencies["agency_name"], strict=True):
                rs = frozenset(r for r, ra in route_agency.items() if ra == a or (not ra and not a))
                groups.append((a or f"{feed.feed_id}:", str(name), rs, a))
        has_v2 = not feed["fare_leg_rules"].empty
        has_v1 = not feed["fare_attributes"].empty
        for sid, name, rs, agency in groups:
            if distance and feed.feed_id in distance:
                rates = dict(distance[feed.feed_id])
                curs = {v.currency for v in rates.values() if v.currency}
                if len(curs) > 1:
                    msg = f"distance tariff of {feed.feed_id} mixes currencies {sorted(curs)}"
                    raise ConfigError(msg, code="fare_mixed_currencies")
                cur = next(iter(curs), "") or _currency_of(feed)
                systems[sid] = DistanceFares(sid, name, cur, rs, rates=rates,
                                             route_mode={r: route_mode[r] for r in rs})
                notes.append(f"{sid}: distance tariff " + "; ".join(
                    f"{m}: {v.rate_per_km:.4f}/km, min {v.min_fare}, rounded to {v.rounding}"
                    + (f" ({v.source})" if v.source else "") for m, v in rates.items()))
            elif flat and feed.feed_id in flat:
                ft = flat[feed.feed_id]
                systems[sid] = FlatFares(sid, name, ft.currency, rs, price_minor=to_minor(ft.price),
                                         transfer_window_s=ft.transfer_window_s, max_transfers=ft.max_transfers)
                notes.append(f"{sid}: flat fare {ft.price} {ft.currency}" + (f" ({ft.source})" if ft.source else ""))
            elif has_v2 and (prefer == "v2" or not has_v1):
                systems[sid] = GtfsV2Fares.from_feed(feed, sid, name, rs, fare_media=fare_media)
                notes.append(f"{sid}: GTFS Fares v2")
            elif has_v1:
                systems[sid] = GtfsV1Fares.from_tables(
                    sid, name, feed.namespaced("fare_attributes"), feed.namespaced("fare_rules"),
                    feed.namespaced("stops"), routes.assign(agency_id=[route_agency[r] for r in routes["route_id"]]),
                    contains=contains, agency_id=agency)
                notes.append(f"{sid}: GTFS Fares v1 (contains_id: {contains})")
            else:
                systems[sid] = NoFares(sid, name, "", rs)
                notes.append(f"{sid}: no fare data; its legs are unpriced (fare NaN)")
    return FareSystems(systems, route_mode, notes)


def _currency_of(feed: Feed) -> str:
    """A feed's currency from its fare files, else ``""``."""
    fa = feed["fare_attributes"]
    if not fa.empty:
        return str(fa["currency_type"].iloc[0])
    fp = feed["fare_products"]
    if not fp.empty:
        return str(fp["currency"].iloc[0])
    return ""
