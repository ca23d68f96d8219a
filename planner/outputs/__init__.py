"""Outputs: the writers every analysis uses (they know no analysis).

:mod:`~planner.outputs.report` (one self-contained HTML report and its Markdown),
:mod:`~planner.outputs.maps` (PNG maps of networks and places), :mod:`~planner.outputs.context`
(geographic context under the maps), :mod:`~planner.outputs.raster` (GeoTIFF bands and PNG previews).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.outputs import context, maps, raster, report

__all__ = ["context", "maps", "raster", "report"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
