"""The value objects of :mod:`planner.network.fares`: ride legs, priced tickets and journeys, the
ticketing penalty and the fare parameters.

Money is handled in integer *minor units* (cents, fen): every amount read from a file or a
parameter is converted once by :func:`to_minor` (``round(amount * 100)``, half up), sums are
exact, and results are converted back with :func:`from_minor`. Every currency the project
meets (EUR, USD, CNY) has two decimals; a currency without them would need ``MINOR``
changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planner.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "FARE_NA",
    "MINOR",
    "UNLIMITED",
    "FareParams",
    "JourneyPrice",
    "RideLeg",
    "Ticket",
    "TicketingPenalty",
    "from_minor",
    "to_minor",
]

#: minor units per currency unit
MINOR = 100
#: a fare no ticket prices (minor units); the fare-aware kernels use the same sentinel
#: (``planner.kernels.mcraptor.FARE_NA``, checked equal by tests/test_architecture.py)
FARE_NA = 1_000_000_000
#: an unlimited transfer window (seconds), as the kernels take it (``planner.kernels.mcraptor.UNLIMITED``)
UNLIMITED = 1 << 40


def to_minor(amount: float) -> int:
    """Currency units -> integer minor units, rounded half up (``2.8`` -> ``280``)."""
    value = float(amount)
    if not math.isfinite(value):
        msg = f"a fare amount must be a finite number, got {amount!r}"
        raise ConfigError(msg, code="invalid_fare_amount")
    return math.floor(value * MINOR + 0.5)


def from_minor(minor: int | None) -> float:
    """Integer minor units -> currency units (``None`` -> NaN)."""
    return float("nan") if minor is None else minor / MINOR


@dataclass(frozen=True)
class RideLeg:
    """One vehicle ride, as the fare rules see it.

    Attributes
    ----------
    route_id
        Namespaced route id (``"feed:route"``), as in :attr:`Timetable.route_ids`.
    from_stop_id, to_stop_id
        Namespaced boarding and alighting stop ids.
    dep_s, arr_s
        Departure from the boarding stop and arrival at the alighting stop, seconds after
        midnight of the service date.
    stop_ids
        Every stop the ride passes, boarding and alighting stops included, in order (the
        zones of these stops are the zones "contained" in the ride, GTFS ``contains_id``);
        empty means just the two end stops.
    distance_m
        Length of the ride along the vehicle's path in metres (distance fares); NaN when
        unknown.
    mode
        Mode name (:data:`planner.ingest.gtfs.modes.MODES`) of the route.
    """

    route_id: str
    from_stop_id: str
    to_stop_id: str
    dep_s: int
    arr_s: int
    stop_ids: tuple[str, ...] = ()
    distance_m: float = float("nan")
    mode: str = "other"

    @property
    def passed(self) -> tuple[str, ...]:
        """The stops passed (at least the boarding and alighting stops)."""
        return self.stop_ids or (self.from_stop_id, self.to_stop_id)


@dataclass(frozen=True)
class Ticket:
    """A ticket bought in a journey: which legs it covers and what it costs.

    ``legs`` are indices into the journey's ride legs; ``product`` names the fare (GTFS
    ``fare_id`` or ``fare_product_id``, ``"distance"``, ``"flat"``, ``"card"``);
    ``amount_minor`` is ``None`` when no fare rule prices the legs.
    """

    system_id: str
    legs: tuple[int, ...]
    product: str
    amount_minor: int | None

    @property
    def amount(self) -> float:
        return from_minor(self.amount_minor)


@dataclass(frozen=True)
class JourneyPrice:
    """The fare of a journey.

    Attributes
    ----------
    fare_minor
        Total in minor units; ``None`` when some leg has no fare (see ``unpriced_legs``).
    currency
        ISO 4217 code.
    tickets
        The cheapest valid ticket combination found.
    by_system
        Minor units paid per fare system (the card counts as one system ``"card"``).
    unpriced_legs
        Indices of ride legs no fare rule prices.
    capped_minor
        How much the fare cap saved (0 without a cap).
    """

    fare_minor: int | None
    currency: str
    tickets: tuple[Ticket, ...] = ()
    by_system: Mapping[str, int] = field(default_factory=dict)
    unpriced_legs: tuple[int, ...] = ()
    capped_minor: int = 0

    @property
    def fare(self) -> float:
        """Total in currency units (NaN when unpriced)."""
        return from_minor(self.fare_minor)


@dataclass(frozen=True)
class TicketingPenalty:
    """Time lost at a boarding that enters a ticketing group the traveller holds no ticket
    for: buying a ticket, a security or ID check, passing a gate.

    Attributes
    ----------
    default_s
        Seconds for modes not in ``by_mode``.
    by_mode
        Seconds per mode name (``"bus"``, ``"metro"``, ``"high_speed_rail"`` ...).
    first_boarding
        Whether the first boarding of a journey pays it (the traveller starts without a
        ticket). With ``False`` the traveller is assumed to start holding one.

    The defaults are ASSUMED round figures for a traveller without a ticket, not measured
    values: 30 s on a bus (pay on board), 120 s for metro, tram and other rail (ticket
    machine and gate), 600 s for high-speed and intercity rail (ticket, ID and security
    check, gate; Chinese stations ask for more before departure), 60 s otherwise.
    """

    default_s: int = 60
    by_mode: Mapping[str, int] = field(default_factory=lambda: {
        "bus": 30, "trolleybus": 30, "coach": 120, "tram": 120, "metro": 120, "rail": 120,
        "monorail": 120, "ferry": 120, "high_speed_rail": 600, "intercity_rail": 600,
    })
    first_boarding: bool = True

    def __post_init__(self) -> None:
        bad = {m: s for m, s in self.by_mode.items() if not (isinstance(s, int | float) and 0 <= s < 86_400)}
        if not (0 <= self.default_s < 86_400) or bad:
            msg = f"ticketing penalties must be seconds in [0, 86400), got default {self.default_s} and {bad or 'no bad mode'}"
            raise ConfigError(msg, code="invalid_parameter")

    def seconds(self, mode: str) -> int:
        """The penalty for entering a ticketing group by a vehicle of ``mode``."""
        return round(self.by_mode.get(mode, self.default_s))

    @classmethod
    def none(cls) -> TicketingPenalty:
        """No penalty anywhere (plain RAPTOR times)."""
        return cls(default_s=0, by_mode={}, first_boarding=False)


@dataclass(frozen=True)
class FareParams:
    """How fares turn into routing criteria.

    Attributes
    ----------
    penalty
        The ticketing penalty (seconds per boarding into a new ticketing group).
    value_of_time_per_h
        Currency units per hour of travel time, to express fares as generalized minutes
        (``generalized_min = travel_time_min + fare * 60 / value_of_time_per_h +
        transfer_penalty_min * n_transfers``); ``None`` leaves ``generalized_min`` NaN.
        There is no default: it depends on the currency and the travellers.
    transfer_penalty_min
        Perceived minutes per transfer added to ``generalized_min`` (not to travel time).
    max_labels
        Most labels one McRAPTOR search may create before it stops with an error.
    windows
        How the fare search treats transfer windows measured from a ticket's first
        departure: ``"exact"`` also tries later first vehicles (a traveller may wait to
        start a ticket later and stretch its window), ``"first_vehicle"`` starts every
        ticket on the first vehicle the traveller can catch (may miss journeys that wait to
        stretch a window). See :mod:`planner.kernels.fare_raptor`.
    fare_horizon_min
        ``None`` (default): ticket windows are tracked over the whole search (exact). A
        number of minutes: windowed tickets end that long after the query's departure at
        the latest, so a transfer on a vehicle leaving later buys a new ticket. Fares are
        then never too low (each option is a real journey at a price one can pay for it)
        but may be too high for journeys continuing a ticket past the horizon, and such
        options may be missing. It bounds the ticket states the search keeps apart (every
        expiry later than the horizon is the same), which is what grows the search at
        horizons longer than the windows (``scripts/bench_fares.py``). Tickets without a
        window limit are not affected; a value at least the search's ``max_duration_s``
        changes nothing.
    """

    penalty: TicketingPenalty = field(default_factory=TicketingPenalty)
    value_of_time_per_h: float | None = None
    transfer_penalty_min: float = 0.0
    max_labels: int = 4_000_000
    windows: str = "exact"
    fare_horizon_min: float | None = None

    def __post_init__(self) -> None:
        if self.windows not in ("exact", "first_vehicle"):
            msg = f"windows must be 'exact' or 'first_vehicle', got {self.windows!r}"
            raise ConfigError(msg, code="invalid_parameter")
        if self.value_of_time_per_h is not None and not self.value_of_time_per_h > 0:
            msg = f"value_of_time_per_h must be positive, got {self.value_of_time_per_h}"
            raise ConfigError(msg, code="invalid_parameter")
        if self.transfer_penalty_min < 0:
            msg = f"transfer_penalty_min must not be negative, got {self.transfer_penalty_min}"
            raise ConfigError(msg, code="invalid_parameter")
        if self.fare_horizon_min is not None and not self.fare_horizon_min > 0:
            msg = f"fare_horizon_min must be positive (minutes), got {self.fare_horizon_min}"
            raise ConfigError(msg, code="invalid_parameter")
        if self.max_labels < 1:
            msg = f"max_labels must be at least 1, got {self.max_labels}"
            raise ConfigError(msg, code="invalid_parameter")
