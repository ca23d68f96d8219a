"""The fare variants a unified card is measured by: separate systems, money-and-ticketing, whole card.

:class:`DividendParams` are the parameters of comparing the three (the departures, fare
budgets, value of time, ticketing penalties, search limits); :func:`fare_models` builds the
:class:`~planner.routing.fares.FareModel` of each variant (:data:`VARIANTS`) for a timetable.
Both the card's dividend between places (:mod:`planner.analyses.fare_card`) and its raster
of accessibility at (time, fare) cutoffs (:mod:`planner.analyses.access.fare_access`) use
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from planner.common.timeofday import departures
from planner.errors import InputError
from planner.network.fares.model import FareParams, TicketingPenalty
from planner.routing.fares import FareModel, build_fare_model

if TYPE_CHECKING:
    from planner.network.fares.policy import UnifiedCardPolicy
    from planner.network.fares.sample import FareSetup
    from planner.network.timetable import Timetable

__all__ = ["VARIANTS", "DividendParams", "fare_models"]

VARIANTS = ("separate", "ticketing", "card")


@dataclass(frozen=True)
class DividendParams:
    """Parameters of the dividend analysis.

    Attributes
    ----------
    departure_s, window_min, step_min
        First departure (s after midnight) and the window of departures (``window_min`` 0:
        one departure), as ``plan matrix``.
    budgets
        Fare budgets (currency units) for the travel time at a fixed budget.
    value_of_time_per_h
        Currency units per hour for generalized cost (``None``: no generalized cost; the
        best journey is the fastest).
    transfer_penalty_min
        Perceived minutes per transfer (``separate``; the card's own when it sets one).
    penalty
        Ticketing penalties per mode. By default the first boarding pays none
        (``first_boarding=False``): a traveller starts with a ticket for the first vehicle
        (bought in advance; the station entry is the same with or without a card), so what
        is compared is the re-ticketing at each change of operator that the card removes.
    max_rounds, max_duration_s
        Most vehicles per journey; longest journey searched.
    windows
        ``"exact"`` or ``"first_vehicle"`` (:class:`~planner.network.fares.FareParams`).
    max_labels
        Label limit of one McRAPTOR search.
    fare_horizon_min
        Ticket windows tracked this long after each departure (``None``: the whole search,
        exact); see :class:`~planner.network.fares.FareParams`.
    """

    departure_s: int = 7 * 3600
    window_min: int = 120
    step_min: int = 10
    budgets: tuple[float, ...] = ()
    value_of_time_per_h: float | None = None
    transfer_penalty_min: float = 0.0
    penalty: TicketingPenalty = field(default_factory=lambda: TicketingPenalty(first_boarding=False))
    max_rounds: int = 5
    max_duration_s: int = 8 * 3600
    windows: str = "exact"
    max_labels: int = 4_000_000
    fare_horizon_min: float | None = None

    def __post_init__(self) -> None:
        if any(not b > 0 for b in self.budgets):
            msg = f"fare budgets must be positive, got {list(self.budgets)}"
            raise InputError(msg, code="invalid_parameter")

    def departures(self) -> np.ndarray:
        return departures(self.departure_s, self.window_min, self.step_min).astype(np.int32)

    def fare_params(self) -> FareParams:
        return FareParams(penalty=self.penalty, value_of_time_per_h=self.value_of_time_per_h,
                          transfer_penalty_min=self.transfer_penalty_min, max_labels=self.max_labels,
                          windows=self.windows, fare_horizon_min=self.fare_horizon_min)


def fare_models(tt: Timetable, setup: FareSetup, policy: UnifiedCardPolicy, params: DividendParams,
                feeds=None) -> tuple[FareModel, FareModel, FareModel]:
    """The three fare models of :data:`VARIANTS` (separate, money-and-ticketing, whole card)."""
    fp = params.fare_params()
    kw = {"feeds": feeds, "distance_column": setup.distance_column, "distance_unit_m": setup.distance_unit_m}
    sep = build_fare_model(tt, setup.fares, params=fp, **kw)
    tick = build_fare_model(tt, setup.fares, params=fp, policy=replace(policy, change_s=None,
                                                                       transfer_penalty_min=None), **kw)
    card = build_fare_model(tt, setup.fares, params=fp, policy=policy, **kw)
    return sep, tick, card
