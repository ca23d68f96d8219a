"""``plan net``: how well the intercity rail net ties the cities together.

:mod:`~planner.analyses.railnet.net` (one net), :mod:`~planner.analyses.railnet.compare`
(baseline and scenarios), :mod:`~planner.analyses.railnet.outputs` (map, report, files).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.analyses.railnet import compare, net, outputs

__all__ = ["compare", "net", "outputs"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
