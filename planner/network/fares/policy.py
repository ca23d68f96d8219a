"""The unified fare card and the fare of a whole journey.

How a journey is priced (:func:`price_journey`)
-----------------------------------------------
1. Each ride leg belongs to the fare system of its route
   (:meth:`FareSystems.system_of`); a leg whose route no system prices is unpriced.
2. The legs are cut into *runs* of consecutive legs of one system; riding another system
   ends a run. (A ticket is not kept across another operator's ride: exact for gated or
   separate systems, an approximation for paper tickets that stay valid across another
   operator's ride. The routing kernels use the same rule.)
3. Within a run, the legs are split into tickets at the lowest total
   (:func:`~planner.network.fares.systems.cheapest_tickets`: every split point is tried, each piece
   must be one valid ticket of the system).
4. The journey's fare is the sum over runs (fares of different systems add up); one
   unpriced leg makes the fare unknown (``fare_minor`` ``None``, NaN in tables).

The unified card (:class:`UnifiedCardPolicy`)
--------------------------------------------
The card joins chosen fare systems (or all). Its effects, each one a field:

* **ticketing penalties** between and into card systems are removed (a card holder buys
  no ticket), except for the modes listed in ``penalty_modes_kept`` (a security check at a
  high-speed rail station stays);
* **tariff** ``"keep"``: every leg is still priced by its own system (only the penalty and
  the cap change); ``"integrated"``: consecutive legs on card systems form *card tickets*:
  the first leg pays its own system's single-ride fare, every further leg departing within
  ``transfer_window_s`` of the card ticket's first departure (at most ``max_transfers``
  transfers) pays ``transfer_fee + max(0, its single-ride fare - transfer_discount)``
  (``transfer_discount=None``: only the fee); a new card ticket may always be started;
* **fare cap**: what the journey spends on card systems is capped at ``fare_cap``;
* **connection time** (reported apart from money and ticketing): ``change_s`` sets the
  minimum connection time at stops served by card systems (integrated gates,
  through-ticketing), ``transfer_penalty_min`` the perceived transfer penalty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from planner.errors import ConfigError
from planner.network.fares.model import FARE_NA, JourneyPrice, RideLeg, Ticket, to_minor
from planner.network.fares.systems import FareSystem, NoFares, cheapest_tickets

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from planner.network.fares.build import FareSystems

__all__ = ["CARD", "CardFares", "UnifiedCardPolicy", "price_journey"]

#: the system id of card tickets in :attr:`JourneyPrice.by_system`
CARD = "card"
#: a discount that makes every continued ride free beyond the fee
_FREE = 1 << 50


@dataclass(frozen=True)
class UnifiedCardPolicy:
    """A unified fare card across fare systems (see the module docstring).

    Attributes
    ----------
    name
        Label of the policy in outputs.
    systems
        Fare-system ids on the card; ``None``: every system with fare data.
    tariff
        ``"integrated"`` (card tickets with transfer rules) or ``"keep"`` (own fares).
    transfer_window_s
        Card tickets: seconds from the first departure within which later departures are
        transfers (default 5400 s, ASSUMED: the 80-90 min of typical integrated tickets);
        ``None``: no transfers.
    max_transfers
        Card tickets: most transfers (``None``: unlimited within the window).
    transfer_fee
        Paid at every transfer on a card ticket (currency units).
    transfer_discount
        Taken off the single-ride fare of a transfer leg (floored at 0); ``None``: the
        transfer leg's own fare is waived entirely (only the fee is paid).
    fare_cap
        Most a journey pays on card systems (currency units); ``None``: no cap.
    penalty_modes_kept
        Modes whose ticketing penalty stays on the card (security checks, ID checks).
    change_s
        Minimum connection time (s) at stops served by card systems; ``None``: unchanged.
    transfer_penalty_min
        Perceived minutes per transfer with the card; ``None``: unchanged.
    """

    name: str = "unified_card"
    systems: tuple[str, ...] | None = None
    tariff: str = "integrated"
    transfer_window_s: int | None = 5400
    max_transfers: int | None = None
    transfer_fee: float = 0.0
    transfer_discount: float | None = None
    fare_cap: float | None = None
    penalty_modes_kept: tuple[str, ...] = ()
    change_s: int | None = None
    transfer_penalty_min: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.tariff not in ("integrated", "keep"):
            problems.append(f"tariff must be 'integrated' or 'keep', got {self.tariff!r}")
        if self.transfer_window_s is not None and self.transfer_window_s < 0:
            problems.append(f"transfer_window_s must not be negative, got {self.transfer_window_s}")
        if self.max_transfers is not None and self.max_transfers < 0:
            problems.append(f"max_transfers must not be negative, got {self.max_transfers}")
        for name in ("transfer_fee", "transfer_discount", "fare_cap", "transfer_penalty_min"):
            v = getattr(self, name)
            if v is not None and not v >= 0:
                problems.append(f"{name} must not be negative, got {v}")
        if self.change_s is not None and not 0 <= self.change_s < 86_400:
            problems.append(f"change_s must be seconds in [0, 86400), got {self.change_s}")
        if problems:
            msg = f"fare policy {self.name!r}: " + "; ".join(problems)
            raise ConfigError(msg, code="invalid_fare_policy")

    def card_systems(self, fares: FareSystems) -> frozenset[str]:
        """The ids of the systems on the card (validated against ``fares``)."""
        if self.systems is None:
            return frozenset(s.system_id for s in fares if not isinstance(s, NoFares))
        unknown = sorted(set(self.systems) - {s.system_id for s in fares})
        if unknown:
            msg = f"fare policy {self.name!r} names unknown fare systems {unknown}"
            raise ConfigError(msg, code="unknown_fare_system",
                              hint="known systems: " + ", ".join(sorted(s.system_id for s in fares)))
        return frozenset(self.systems)

    @property
    def fee_minor(self) -> int:
        return to_minor(self.transfer_fee)

    @property
    def discount_minor(self) -> int:
        return _FREE if self.transfer_discount is None else to_minor(self.transfer_discount)

    @property
    def cap_minor(self) -> int | None:
        return None if self.fare_cap is None else to_minor(self.fare_cap)


@dataclass(frozen=True)
class CardFares(FareSystem):
    """Card tickets of an ``"integrated"`` :class:`UnifiedCardPolicy` over member systems.

    A single-ride fare that no member prices counts as ``FARE_NA`` minor units (as in the
    kernel); a card ticket whose total reaches it is not valid (its first leg unpriced).
    """

    members: Mapping[str, FareSystem] = field(default_factory=dict)
    route_member: Mapping[str, str] = field(default_factory=dict)
    window_s: int | None = None
    max_transfers: int | None = None
    fee_minor: int = 0
    discount_minor: int = _FREE
    kind: ClassVar[str] = "card"

    def single(self, leg: RideLeg) -> int:
        t = self.members[self.route_member[leg.route_id]].ticket([leg])
        return FARE_NA if t is None else t[0]

    def max_legs_per_ticket(self) -> int | None:
        if self.window_s is None:
            return 1
        return None if self.max_transfers is None else 1 + self.max_transfers

    def ticket(self, legs: Sequence[RideLeg]) -> tuple[int, str] | None:
        if len(legs) > 1:
            if self.window_s is None:
                return None
            if self.max_transfers is not None and len(legs) - 1 > self.max_transfers:
                return None
            if any(leg.dep_s - legs[0].dep_s > self.window_s for leg in legs[1:]):
                return None
        total = self.single(legs[0])
        for leg in legs[1:]:
            total += self.fee_minor + max(0, self.single(leg) - self.discount_minor)
        if total >= FARE_NA:
            return None
        return total, CARD

    @classmethod
    def of(cls, fares: FareSystems, policy: UnifiedCardPolicy) -> CardFares:
        members = {sid: fares[sid] for sid in sorted(policy.card_systems(fares))}
        route_member = {r: sid for sid, s in members.items() for r in s.routes}
        currency = next((s.currency for s in members.values() if s.currency), "")
        return cls(CARD, policy.name, currency, frozenset(route_member), members=members,
                   route_member=route_member, window_s=policy.transfer_window_s,
                   max_transfers=policy.max_transfers, fee_minor=policy.fee_minor,
                   discount_minor=policy.discount_minor)


def price_journey(legs: Sequence[RideLeg], fares: FareSystems,
                  policy: UnifiedCardPolicy | None = None) -> JourneyPrice:
    """The fare of a journey's ride legs, under separate systems or a unified card.

    Parameters
    ----------
    legs
        The ride legs in travel order (walks carry no fare).
    fares
        The fare systems.
    policy
        A unified card, or ``None`` for separate systems.

    Returns
    -------
    JourneyPrice
        Total, tickets, the amount per system and the cap's saving (see the module
        docstring for the rules).
    """
    card_ids: frozenset[str] = frozenset()
    card: CardFares | None = None
    if policy is not None:
        card_ids = policy.card_systems(fares)
        if policy.tariff == "integrated":
            card = CardFares.of(fares, policy)
    keys: list[str | None] = []
    for leg in legs:
        sid = fares.system_of(leg.route_id)
        keys.append(CARD if card is not None and sid in card_ids else sid)
    tickets: list[Ticket] = []
    unpriced: list[int] = []
    i = 0
    while i < len(legs):
        j = i
        while j < len(legs) and keys[j] == keys[i]:
            j += 1
        key = keys[i]
        if key is None:
            for m in range(i, j):
                tickets.append(Ticket("", (m,), "", None))
                unpriced.append(m)
        else:
            system: FareSystem = card if (key == CARD and card is not None) else fares[key]
            run_tickets, _n_unpriced = cheapest_tickets(system, legs[i:j], offset=i)
            tickets.extend(run_tickets)
            unpriced.extend(t.legs[0] for t in run_tickets if t.amount_minor is None)
        i = j
    by_system: dict[str, int] = {}
    for t in tickets:
        if t.amount_minor is not None:
            by_system[t.system_id] = by_system.get(t.system_id, 0) + t.amount_minor
    total = sum(by_system.values())
    saved = 0
    if policy is not None and policy.cap_minor is not None:
        spent = sum(v for k, v in by_system.items() if k == CARD or k in card_ids)
        saved = max(0, spent - policy.cap_minor)
        total -= saved
    currency = fares.currency
    return JourneyPrice(None if unpriced else total, currency, tuple(tickets), by_system, tuple(unpriced), saved)
