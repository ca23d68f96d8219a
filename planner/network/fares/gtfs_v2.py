"""A useful subset of GTFS Fares v2: leg rules by network, areas and timeframes, products,
and transfer rules.

Semantics
---------
* **Legs.** A leg's network is its route's (``route_networks``, else ``routes.network_id``);
  its areas are those of its boarding and alighting stops (``stop_areas``; a stop may be in
  several). Leg rules are filtered field by field as the reference says: rules naming the
  leg's network are kept if there are any, otherwise those with an empty ``network_id``;
  the same for ``from_area_id``, ``to_area_id``, ``from_timeframe_group_id`` (the leg's
  departure time) and ``to_timeframe_group_id`` (its arrival time). When the feed uses
  ``rule_priority``, empty fields match everything instead and only the highest priority
  among the matching rules is kept. The leg costs the cheapest of the remaining rules'
  products.
* **Products.** A product's price is the cheapest of its ``fare_products`` rows for the
  default rider category (rows without category, or of a category with
  ``is_default_fare_category = 1``) and the fare media allowed (all, or those given).
* **Transfers.** Consecutive legs ``l1, l2, ...`` form one chain (one "ticket") when every
  transfer matches a ``fare_transfer_rules`` row from the previous leg's ``leg_group_id`` to
  the next one's (empty group ids matched by default, as above), within ``transfer_count``
  (consecutive transfers between legs of the same group; ``-1`` no limit) and
  ``duration_limit``. The duration is measured per ``duration_limit_type`` from the chain's
  first departure (types 0 and 1) or from the previous leg's arrival (types 2 and 3), to the
  next leg's arrival (0, 3) or departure (1, 2). ``fare_transfer_type`` 0 adds the transfer
  product to the chain (A + AB), 1 adds it and the next leg's price (A + AB + B), 2 replaces
  the previous leg's price by it (AB). A transfer without a rule is not allowed in a chain:
  the next leg starts a new ticket.

Not supported: ``fare_leg_join_rules``, rider categories other than the default, the
``service_id`` of timeframes (windows apply on every day), and ``networks`` joined across
feeds (one feed is one system).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from planner.errors import ConfigError
from planner.network.fares.model import RideLeg, to_minor
from planner.network.fares.systems import FareSystem, is_missing

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from planner.ingest.gtfs.feed import Feed

__all__ = ["GtfsV2Fares", "V2LegRule", "V2TransferRule"]


@dataclass(frozen=True)
class V2LegRule:
    """One ``fare_leg_rules`` row (ids namespaced)."""

    leg_group_id: str
    network_id: str
    from_area_id: str
    to_area_id: str
    from_timeframe: str
    to_timeframe: str
    product: str
    priority: int | None


@dataclass(frozen=True)
class V2TransferRule:
    """One ``fare_transfer_rules`` row (ids namespaced; ``None`` for empty numbers)."""

    from_group: str
    to_group: str
    transfer_count: int | None
    duration_limit: int | None
    duration_limit_type: int | None
    fare_transfer_type: int
    product: str


def _default_match(rules: list, value_sets: Iterable[tuple[str, frozenset[str]]], wildcard: bool) -> list:
    """Filter ``rules`` field by field: ``value_sets`` is (attribute, allowed values)."""
    for attr, allowed in value_sets:
        if wildcard:
            rules = [r for r in rules if getattr(r, attr) == "" or getattr(r, attr) in allowed]
        else:
            named = [r for r in rules if getattr(r, attr) != "" and getattr(r, attr) in allowed]
            rules = named or [r for r in rules if getattr(r, attr) == ""]
        if not rules:
            break
    return rules


@dataclass(frozen=True)
class GtfsV2Fares(FareSystem):
    """GTFS Fares v2 of one feed (see the module docstring).

    Attributes
    ----------
    leg_rules, transfer_rules
        The rules, ids namespaced.
    product_price
        Product id -> price in minor units (default rider category, allowed media).
    route_network
        Namespaced route id -> network id.
    stop_areas
        Namespaced stop id -> area ids.
    timeframes
        Timeframe group id -> ``(start_s, end_s)`` windows (seconds of the day).
    """

    leg_rules: tuple[V2LegRule, ...] = ()
    transfer_rules: tuple[V2TransferRule, ...] = ()
    product_price: Mapping[str, int] = field(default_factory=dict)
    route_network: Mapping[str, str] = field(default_factory=dict)
    stop_areas: Mapping[str, frozenset[str]] = field(default_factory=dict)
    timeframes: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    kind: ClassVar[str] = "gtfs_v2"

    @property
    def uses_priority(self) -> bool:
        return any(r.priority is not None for r in self.leg_rules)

    def _in_timeframes(self, t: int) -> frozenset[str]:
        tod = t % 86_400
        return frozenset(g for g, wins in self.timeframes.items() if any(a <= tod < b for a, b in wins))

    def leg_price(self, leg: RideLeg) -> tuple[int, str, str] | None:
        """``(price_minor, leg_group_id, product)`` of one leg, or ``None``."""
        return self.price_for(self.route_network.get(leg.route_id, ""),
                              self.stop_areas.get(leg.from_stop_id, frozenset()),
                              self.stop_areas.get(leg.to_stop_id, frozenset()),
                              self._in_timeframes(leg.dep_s), self._in_timeframes(leg.arr_s))

    def price_for(self, network: str, from_areas: frozenset[str], to_areas: frozenset[str],
                  from_tf: frozenset[str] | None, to_tf: frozenset[str] | None) -> tuple[int, str, str] | None:
        """The leg price for a network, the areas of the boarding and alighting stops and
        the timeframe groups of the departure and arrival (``None``: ignore timeframes)."""
        rules = [r for r in self.leg_rules if r.product in self.product_price]
        wildcard = self.uses_priority
        fields = [("network_id", frozenset({network}) if network else frozenset()),
                  ("from_area_id", from_areas), ("to_area_id", to_areas)]
        if from_tf is not None and to_tf is not None:
            fields += [("from_timeframe", from_tf), ("to_timeframe", to_tf)]
        rules = _default_match(rules, fields, wildcard)
        if not rules:
            return None
        if wildcard:
            top = max((r.priority or 0) for r in rules)
            rules = [r for r in rules if (r.priority or 0) == top]
        best = min(rules, key=lambda r: (self.product_price[r.product], r.leg_group_id, r.product))
        return self.product_price[best.product], best.leg_group_id, best.product

    def transfer_rule(self, from_group: str, to_group: str) -> list[V2TransferRule]:
        rules = list(self.transfer_rules)
        return _default_match(rules, (("from_group", frozenset({from_group}) if from_group else frozenset()),
                                      ("to_group", frozenset({to_group}) if to_group else frozenset())), False)

    def ticket(self, legs: Sequence[RideLeg]) -> tuple[int, str] | None:
        priced = [self.leg_price(leg) for leg in legs]
        if any(p is None for p in priced):
            return None
        cost = priced[0][0]  # type: ignore[index]
        products = [priced[0][2]]  # type: ignore[index]
        run = 0  # consecutive transfers within one group
        for i in range(1, len(legs)):
            prev, cur = priced[i - 1], priced[i]
            if prev is None or cur is None:  # pragma: no cover - checked above
                return None
            rules = self.transfer_rule(prev[1], cur[1])
            run = run + 1 if prev[1] == cur[1] else 1
            ok = [r for r in rules if self._transfer_ok(r, legs, i, run)]
            if not ok:
                return None
            best_step = None
            for r in ok:
                extra = self.product_price.get(r.product, 0) if r.product else 0
                if r.fare_transfer_type == 0:
                    step = extra
                elif r.fare_transfer_type == 1:
                    step = extra + cur[0]
                else:
                    step = extra - prev[0]
                if best_step is None or step < best_step[0]:
                    best_step = (step, r)
            if best_step is None:  # pragma: no cover - ok is not empty
                return None
            cost += best_step[0]
            products.append(best_step[1].product or "transfer")
        return cost, "+".join(p for p in products if p)

    @staticmethod
    def _transfer_ok(r: V2TransferRule, legs: Sequence[RideLeg], i: int, run: int) -> bool:
        if r.transfer_count is not None and r.transfer_count >= 0 and run > r.transfer_count:
            return False
        if r.duration_limit is None:
            return True
        ty = r.duration_limit_type or 0
        start = legs[0].dep_s if ty in (0, 1) else legs[i - 1].arr_s
        end = legs[i].arr_s if ty in (0, 3) else legs[i].dep_s
        return end - start <= r.duration_limit

    @classmethod
    def from_feed(cls, feed: Feed, system_id: str, name: str, routes: frozenset[str], *,
                  fare_media: Iterable[str] | None = None) -> GtfsV2Fares:
        """Read the Fares v2 tables of ``feed`` (ids namespaced).

        ``fare_media``: media ids (without the feed prefix) a traveller may use; ``None``
        allows all.
        """
        prefix = f"{feed.feed_id}:"
        media = None if fare_media is None else {prefix + m for m in fare_media}
        cats = feed.namespaced("rider_categories")
        default_cats = {""} | set(cats.loc[cats["is_default_fare_category"].fillna(0).astype(int) == 1,
                                           "rider_category_id"])
        prices: dict[str, int] = {}
        currencies = set()
        for row in feed.namespaced("fare_products").itertuples(index=False):
            if row.rider_category_id not in default_cats:
                continue
            if media is not None and row.fare_media_id and row.fare_media_id not in media:
                continue
            amount = to_minor(row.amount)
            currencies.add(str(row.currency))
            if row.fare_product_id not in prices or amount < prices[row.fare_product_id]:
                prices[row.fare_product_id] = amount
        if len(currencies) > 1:
            msg = f"fare system {system_id} mixes currencies {sorted(currencies)}"
            raise ConfigError(msg, code="fare_mixed_currencies", hint="keep one currency per feed")
        legs = tuple(
            V2LegRule(r.leg_group_id, r.network_id, r.from_area_id, r.to_area_id, r.from_timeframe_group_id,
                      r.to_timeframe_group_id, r.fare_product_id, None if is_missing(r.rule_priority) else int(r.rule_priority))
            for r in feed.namespaced("fare_leg_rules").itertuples(index=False))
        transfers = tuple(
            V2TransferRule(r.from_leg_group_id, r.to_leg_group_id,
                           None if is_missing(r.transfer_count) else int(r.transfer_count),
                           None if is_missing(r.duration_limit) else int(r.duration_limit),
                           None if is_missing(r.duration_limit_type) else int(r.duration_limit_type),
                           int(r.fare_transfer_type), r.fare_product_id)
            for r in feed.namespaced("fare_transfer_rules").itertuples(index=False))
        rn = feed.namespaced("route_networks")
        network = dict(zip(rn["route_id"], rn["network_id"], strict=True))
        rt = feed.namespaced("routes")
        if "network_id" in rt:
            for r, n in zip(rt["route_id"], rt["network_id"], strict=True):
                if n and r not in network:
                    network[r] = n
        areas: dict[str, set[str]] = {}
        for a, s in zip(feed.namespaced("stop_areas")["area_id"], feed.namespaced("stop_areas")["stop_id"], strict=True):
            areas.setdefault(s, set()).add(a)
        st = feed.namespaced("stops")
        for s, parent in zip(st["stop_id"], st["parent_station"], strict=True):
            if parent and parent in areas:  # a platform is in its station's areas
                areas.setdefault(s, set()).update(areas[parent])
        tfs: dict[str, list[tuple[int, int]]] = {}
        for r in feed.namespaced("timeframes").itertuples(index=False):
            a = 0 if is_missing(r.start_time) else int(r.start_time)
            b = 86_400 if is_missing(r.end_time) else int(r.end_time)
            tfs.setdefault(r.timeframe_group_id, []).append((a, b))
        return cls(system_id, name, next(iter(currencies), ""), routes, leg_rules=legs, transfer_rules=transfers,
                   product_price=prices, route_network=network,
                   stop_areas={s: frozenset(a) for s, a in areas.items()},
                   timeframes={g: tuple(w) for g, w in tfs.items()})
