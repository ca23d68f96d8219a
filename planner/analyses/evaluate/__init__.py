"""``plan evaluate``: candidate scenarios against the baseline.

:mod:`~planner.analyses.evaluate.compare` (the evaluation, ranking, extension points for other
rooms' measures), :mod:`~planner.analyses.evaluate.parameters` (the appraisal's inputs and their
sources; the observed OD table), :mod:`~planner.analyses.evaluate.appraisal` (costs, demand,
benefits, discounting, sensitivity), :mod:`~planner.analyses.evaluate.findings` (coverage of
the places, the recommendation) and :mod:`~planner.analyses.evaluate.outputs` (tables, layers,
maps, report), :mod:`~planner.analyses.evaluate.interactive` (``map.html``).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.analyses.evaluate import (
        appraisal,
        compare,
        findings,
        interactive,
        outputs,
        parameters,
    )

__all__ = ["appraisal", "compare", "findings", "interactive", "outputs", "parameters"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
