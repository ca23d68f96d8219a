"""``plan transfers``: transfers between stations of different modes.

:mod:`~planner.analyses.transfers.analysis` (the analysis), :mod:`~planner.analyses.transfers.stations`
(stations, access points, candidate pairs), :mod:`~planner.analyses.transfers.walks` (walks on
the street network, new entrances), :mod:`~planner.analyses.transfers.timing` (waits and missed
connections), :mod:`~planner.analyses.transfers.use` (journeys through each pair),
:mod:`~planner.analyses.transfers.standard` (the walking standard and delay model),
:mod:`~planner.analyses.transfers.outputs` (files, maps, report).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.analyses.transfers import analysis, outputs, standard, stations, timing, use, walks

__all__ = ["analysis", "outputs", "standard", "stations", "timing", "use", "walks"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
