"""``plan fares``: what a unified fare card saves, for whom and where.

:mod:`~planner.analyses.fare_card.dividend` (per place pair: separate systems vs the card),
:mod:`~planner.analyses.fare_card.outputs` (tables, explanation, map, report section),
:mod:`~planner.analyses.fare_card.measure` (the dividend as a measure of ``plan evaluate``).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.analyses.fare_card import dividend, measure, outputs

__all__ = ["dividend", "measure", "outputs"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
