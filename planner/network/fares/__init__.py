"""Fare systems, fares of journeys and the unified fare card.

>>> from planner.network.fares import fare_systems_from_feeds, price_journey    # doctest: +SKIP
>>> fares = fare_systems_from_feeds(read_feeds([...]))                    # doctest: +SKIP
>>> price_journey(legs, fares).fare                                       # doctest: +SKIP

* :mod:`planner.network.fares.systems`: the fare system kinds (GTFS Fares v1, distance, flat,
  none) and the cheapest split of a run of legs into tickets; :mod:`planner.network.fares.gtfs_v2`
  the Fares v2 subset.
* :mod:`planner.network.fares.build`: :class:`FareSystems` and :func:`fare_systems_from_feeds`.
* :mod:`planner.network.fares.policy`: :class:`UnifiedCardPolicy` and :func:`price_journey` (how
  a journey across several systems is priced, step by step);
  :mod:`planner.scenarios.fare_policy` the ``fare_policy`` change of a scenario file.
* :mod:`planner.network.fares.sample`: the sourced fares of the bundled sample and
  :func:`~planner.network.fares.sample.fare_setup` (the fare systems ``plan fares`` uses).
* :mod:`planner.routing.tariff` (a stage up, with the routing): the tariff of the fare-aware
  RAPTOR kernels, with what is exact in the search and what is priced afterwards.
* :mod:`planner.routing.fares`: the searches; :mod:`planner.analyses.fare_card.dividend` the card"s
  dividend (``plan fares``).

Money is in integer minor units inside (``fare_minor``) and currency units outside
(``fare``); see :mod:`planner.network.fares.model`.
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.network.fares import build, gtfs_v2, model, policy, sample, systems
    from planner.network.fares.build import FareSystems, FlatTariff, fare_systems_from_feeds
    from planner.network.fares.gtfs_v2 import GtfsV2Fares
    from planner.network.fares.model import (
        MINOR,
        FareParams,
        JourneyPrice,
        RideLeg,
        Ticket,
        TicketingPenalty,
        from_minor,
        to_minor,
    )
    from planner.network.fares.policy import CARD, CardFares, UnifiedCardPolicy, price_journey
    from planner.network.fares.systems import (
        CHINA_RAIL_FIRST_CLASS,
        CHINA_RAIL_SECOND_CLASS,
        DistanceFares,
        DistanceRate,
        FareSystem,
        FlatFares,
        GtfsV1Fares,
        NoFares,
        OdTableFares,
        cheapest_tickets,
    )

__all__ = ["CARD", "CHINA_RAIL_FIRST_CLASS", "CHINA_RAIL_SECOND_CLASS", "MINOR", "CardFares", "DistanceFares", "DistanceRate", "FareParams", "FareSystem", "FareSystems", "FlatFares", "FlatTariff", "GtfsV1Fares", "GtfsV2Fares", "JourneyPrice", "NoFares", "OdTableFares", "RideLeg", "Ticket", "TicketingPenalty", "UnifiedCardPolicy", "build", "cheapest_tickets", "fare_systems_from_feeds", "from_minor", "gtfs_v2", "model", "policy", "price_journey", "sample", "systems", "to_minor"]
__getattr__, __dir__ = attach(__name__, submodules=["build", "gtfs_v2", "model", "policy", "sample", "systems"], names={"build": ["FareSystems", "FlatTariff", "fare_systems_from_feeds"], "gtfs_v2": ["GtfsV2Fares"], "model": ["MINOR", "FareParams", "JourneyPrice", "RideLeg", "Ticket", "TicketingPenalty", "from_minor", "to_minor"], "policy": ["CARD", "CardFares", "UnifiedCardPolicy", "price_journey"], "systems": ["CHINA_RAIL_FIRST_CLASS", "CHINA_RAIL_SECOND_CLASS", "DistanceFares", "DistanceRate", "FareSystem", "FlatFares", "GtfsV1Fares", "NoFares", "OdTableFares", "cheapest_tickets"]})
