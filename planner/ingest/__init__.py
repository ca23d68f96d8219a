"""Ingest: what the planner reads from files, checked and cleaned.

* :mod:`~planner.ingest.gtfs`: GTFS feeds (one or several, zip or folder), validated;
* :mod:`~planner.ingest.osm`: OpenStreetMap extracts (``.osm.pbf``, ``.osm``, or online through
  osmnx with a cache);
* :mod:`~planner.ingest.points`: points and places (CSV, GeoPackage, GeoJSON);
* :mod:`~planner.ingest.rasters`: count rasters (population grids).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.ingest import gtfs, osm, points, rasters

__all__ = ["gtfs", "osm", "points", "rasters"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
