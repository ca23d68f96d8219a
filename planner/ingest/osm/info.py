"""What an OSM file holds: ``plan osm info``.

:func:`osm_info` reads the whole file once (every node, way and relation is counted) and
returns a plain dict, so the command line can print it and scripts can use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.ingest.osm import area_report, file_digest, osm_format, read_osm
from planner.ingest.osm.rail import rail_from_raw

if TYPE_CHECKING:
    from planner.config import Config

__all__ = ["osm_info"]


def osm_info(path: str | Path, *, config: Config | None = None) -> dict[str, Any]:
    """Counts and extent of an ``.osm.pbf`` or ``.osm`` file.

    Returns
    -------
    dict
        ``file``, ``format`` (``pbf``/``xml``), ``bytes``, ``sha256``, ``generator``,
        ``header_bbox`` and ``data_bbox`` (``[min_lon, min_lat, max_lon, max_lat]`` or
        None), ``nodes``, ``ways``, ``relations``, ``highways`` (ways by ``highway``
        value, most common first), ``railways`` (rail line ways by ``railway`` value),
        ``stations`` (by kind), ``named_stations``, ``clipped_highways`` (highway ways
        referencing nodes missing from the file), ``walkable_areas`` (per kind:
        ``found`` and ``linked`` to the walk network), ``station_complexes`` (station halls
        with the platforms near them: ``found``, ``linked``, ``platforms_in_complexes``),
        ``unlinked_station_halls`` and ``notices`` (summary rows).
    """
    path = Path(path)
    raw, digest = read_osm(path, config=config, count_all=True)
    rail = rail_from_raw(raw)
    st = rail.stations
    highway_rows = [i for i, t in enumerate(raw.way_tags) if "highway" in t]
    clipped = raw.missing_ref_ways()
    areas = area_report(raw, walk_speed_mps=(config.walk_speed_mps if config is not None else 1.33))
    hb = raw.header_bbox
    db = raw.data_bbox()
    return {
        "file": str(path),
        "format": osm_format(path),
        "bytes": path.stat().st_size,
        "sha256": digest if digest else file_digest(path),
        "generator": raw.generator,
        "header_bbox": [round(v, 7) for v in hb] if hb else None,
        "data_bbox": [round(v, 7) for v in db] if db else None,
        "nodes": raw.counts["nodes"],
        "ways": raw.counts["ways"],
        "relations": raw.counts["relations"],
        "highways": dict(sorted(raw.highways.items(), key=lambda kv: (-kv[1], kv[0]))),
        "railways": dict(sorted(raw.railways.items(), key=lambda kv: (-kv[1], kv[0]))),
        "stations": {str(k): int(v) for k, v in st["kind"].value_counts().sort_index().items()},
        "named_stations": int(st["name"].notna().sum()),
        "clipped_highways": int(clipped[highway_rows].sum()) if highway_rows else 0,
        "walkable_areas": areas["areas"],
        "station_complexes": areas["station_complexes"],
        "unlinked_station_halls": areas["unlinked_station_halls"],
        "notices": raw.notices.summary(),
    }
