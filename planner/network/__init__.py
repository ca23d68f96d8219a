"""The multimodal network: streets + timetable + the links between them, built and cached.

* :mod:`~planner.network.model` (:class:`~planner.network.model.Network`) and
  :mod:`~planner.network.links` (link kinds, :class:`~planner.network.links.Access`,
  :class:`~planner.network.links.Footpaths`): the data;
* :mod:`~planner.network.build` (:func:`~planner.network.build.build_network`),
  :mod:`~planner.network.footpaths`, :mod:`~planner.network.store`: building and caching it;
* :mod:`~planner.network.streets`, :mod:`~planner.network.timetable`: its two halves;
* :mod:`~planner.network.pathways`: walks inside stations along GTFS pathways;
* :mod:`~planner.network.places`: from points to stops (access and egress, direct walks);
* :mod:`~planner.network.fares`: the fare systems of its operators;
* :mod:`~planner.network.export`: tables and layers for inspection.
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.network import (
        build,
        export,
        fares,
        footpaths,
        links,
        model,
        pathways,
        places,
        store,
        streets,
        timetable,
    )

__all__ = ["build", "export", "fares", "footpaths", "links", "model", "pathways", "places", "store", "streets",
           "timetable"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
