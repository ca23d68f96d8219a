"""Routing: the only stage that calls the numba kernels (:mod:`planner.kernels`).

The wrappers validate, build contiguous typed arrays once, call the kernels and return arrays
or DataFrames: RAPTOR (:mod:`~planner.routing.raptor`), fare-aware RAPTOR
(:mod:`~planner.routing.fares`, :mod:`~planner.routing.tariff`,
:mod:`~planner.routing.card_variants`), shortest paths on streets
(:mod:`~planner.routing.streets`), many origins at once (:mod:`~planner.routing.batch`,
:mod:`~planner.routing.opportunities`) on local threads or Dask
(:mod:`~planner.routing.execution`), journeys as legs (:mod:`~planner.routing.itinerary`) and
statistics over departure windows (:mod:`~planner.routing.traveltime`).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.routing import (
        batch,
        card_variants,
        execution,
        fares,
        itinerary,
        opportunities,
        raptor,
        streets,
        tariff,
        traveltime,
    )

__all__ = ["batch", "card_variants", "execution", "fares", "itinerary", "opportunities", "raptor", "streets", "tariff", "traveltime"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
