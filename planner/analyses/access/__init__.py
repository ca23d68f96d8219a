"""``plan access``: accessibility rasters on a grid.

:mod:`~planner.analyses.access.grid` (the grid and opportunities), :mod:`~planner.analyses.access.problem`
(a prepared run and its work unit), :mod:`~planner.analyses.access.accessibility` (cumulative
and decay-weighted opportunities, travel-time surfaces), :mod:`~planner.analyses.access.results`
(bands with provenance, read and written), :mod:`~planner.analyses.access.fare_access`
(accessibility at time and fare cutoffs, separate fares vs a unified card),
:mod:`~planner.analyses.access.population` (population and activity layers from OSM buildings and places),
:mod:`~planner.analyses.access.layer_outputs` (the files of ``plan opportunities``),
:mod:`~planner.analyses.access.report` (the report of ``plan access``).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.analyses.access import (
        accessibility,
        fare_access,
        grid,
        layer_outputs,
        population,
        problem,
        report,
        results,
    )

__all__ = ["accessibility", "fare_access", "grid", "layer_outputs", "population", "problem", "report", "results"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
