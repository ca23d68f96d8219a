"""OpenStreetMap input: three ways in, one raw form out.

* a local ``.osm.pbf`` (pyosmium, streaming: :mod:`planner.ingest.osm._pbf`);
* a local ``.osm`` XML file, optionally ``.gz``/``.bz2`` (defusedxml with DTDs forbidden:
  :mod:`planner.ingest.osm._xml`);
* a place name or bounding box fetched through osmnx and cached under
  ``<cache>/requests/`` (:mod:`planner.ingest.osm._online`).

:func:`read_osm` (:mod:`~planner.ingest.osm.reader`) returns a :class:`~planner.ingest.osm._raw.RawOSM` and the input"s digest; the
street network builder (:func:`planner.network.streets.build_street_network`), the rail layer
(:func:`planner.ingest.osm.rail.rail_layer`) and ``plan osm info`` (:func:`planner.ingest.osm.info.osm_info`)
all start from it. Walkable areas (squares, platforms, station halls) join the walk network
through :func:`~planner.ingest.osm._areas.with_area_edges`. Map context (water, coast,
boundaries, buildings) is read apart, from an ``.osm.pbf`` only (:mod:`planner.ingest.osm.context`).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.ingest.osm import context, info, landuse, rail, reader
    from planner.ingest.osm._areas import (
        MAX_AREA_NODES,
        Area,
        area_links,
        area_report,
        walkable_areas,
        with_area_edges,
    )
    from planner.ingest.osm._filters import DEFAULT_SPEED_KMH, FILTERS_VERSION
    from planner.ingest.osm._network import MODES, EdgeList, street_edges
    from planner.ingest.osm._online import OSMRequest
    from planner.ingest.osm._raw import RawOSM
    from planner.ingest.osm.reader import DEFAULT_CACHE_DIR, file_digest, osm_format, read_osm

__all__ = ["DEFAULT_CACHE_DIR", "DEFAULT_SPEED_KMH", "FILTERS_VERSION", "MAX_AREA_NODES", "MODES", "Area", "EdgeList", "OSMRequest", "RawOSM", "area_links", "area_report", "context", "file_digest", "info", "landuse", "osm_format", "rail", "read_osm", "reader", "street_edges", "walkable_areas", "with_area_edges"]
__getattr__, __dir__ = attach(__name__, submodules=["context", "info", "landuse", "rail", "reader"], names={"_areas": ["MAX_AREA_NODES", "Area", "area_links", "area_report", "walkable_areas", "with_area_edges"], "reader": ["DEFAULT_CACHE_DIR", "file_digest", "osm_format", "read_osm"], "_filters": ["DEFAULT_SPEED_KMH", "FILTERS_VERSION"], "_network": ["MODES", "EdgeList", "street_edges"], "_online": ["OSMRequest"], "_raw": ["RawOSM"]})
