"""``plan evaluate``: candidate scenarios against the baseline.

:mod:`~planner.analyses.evaluate.compare` (the evaluation, ranking, extension points for other
rooms' measures) and :mod:`~planner.analyses.evaluate.outputs` (tables, layers, maps, report).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.analyses.evaluate import compare, outputs

__all__ = ["compare", "outputs"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
