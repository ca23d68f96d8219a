"""Analyses: one room per planning question; no room imports another.

``matrix`` and ``route`` (single questions), ``evaluate`` (candidates against the baseline),
``access`` (accessibility rasters), ``fare_card`` (what a unified card saves), ``transfers``
(transfers between stations), ``railnet`` (the intercity rail net). Measures several rooms
report sit in :mod:`~planner.analyses.metrics`; anything else they share sits a stage below.
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.analyses import (
        access,
        evaluate,
        fare_card,
        matrix,
        metrics,
        railnet,
        route,
        transfers,
    )

__all__ = ["access", "evaluate", "fare_card", "matrix", "metrics", "railnet", "route", "transfers"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
