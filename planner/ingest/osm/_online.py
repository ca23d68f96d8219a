"""OSM data for a place name or bounding box, downloaded through osmnx and cached on disk.

The cache is ours, not osmnx's: one JSON file per request under ``<cache>/requests/``,
named by the SHA-256 of the normalised request + planner version + schema version
(:func:`request_key`), written atomically, never pickled. An entry is validated on read
(JSON, schema version, the key echoed inside it, the shape of the payload); a bad entry is
treated as a miss, removed and reported once (``cache_entry_corrupt``). With ``offline``
a miss is an error (``cache_miss_offline``) instead of a download, so a request that was
fetched once works without a network.

osmnx settings are changed only inside :func:`osmnx_settings` (a scoped context that
restores them), never at import. What is fetched: every way with a ``highway`` tag or a
rail ``railway`` tag (with all its nodes), and the station nodes and outlines of the rail
layer; the result goes through the same :class:`~planner.ingest.osm._raw.Collector` as a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapely.geometry import box

from planner import __version__
from planner.common.atomic import write_text
from planner.common.notices import Notices, Severity
from planner.errors import OSMError
from planner.ingest.osm._raw import Collector, RawOSM

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "REQUEST_SCHEMA",
    "OSMRequest",
    "fetch_request",
    "load_cached_response",
    "osmnx_settings",
    "raw_from_elements",
    "request_key",
    "save_response",
]

#: bump when the stored payload or what is fetched changes (2: walkable areas, issue 19)
REQUEST_SCHEMA = 2
#: Overpass way filters of the download (osmnx ``custom_filter`` syntax)
WAY_FILTERS = ('["highway"]', '["railway"~"^(rail|subway|light_rail|tram)$"]')
#: Overpass tags of the station download (osmnx ``features`` syntax)
STATION_TAGS: dict[str, Any] = {
    "railway": ["station", "halt", "tram_stop", "subway_entrance", "stop", "platform"],
    "public_transport": ["station", "stop_position", "platform"],
    # walkable areas (issue 19): station halls, squares drawn as multipolygons, area:highway;
    # Overpass answers these with their member ways and nodes
    "building": ["train_station"], "highway": ["pedestrian", "footway", "corridor"], "area:highway": True,
}


@dataclass(frozen=True)
class OSMRequest:
    """An online request: a place name (geocoded by Nominatim) or a WGS84 bounding box
    ``(west, south, east, north)``."""

    place: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if (self.place is None) == (self.bbox is None):
            msg = "give exactly one of a place name or a bounding box"
            raise OSMError(msg, code="invalid_osm_request")
        if self.place is not None and not self.place.strip():
            msg = "the place name is empty"
            raise OSMError(msg, code="invalid_osm_request")
        if self.bbox is not None:
            try:
                w, s, e, n = (float(v) for v in self.bbox)
            except (TypeError, ValueError) as err:
                msg = f"bounding box must be four numbers west,south,east,north; got {self.bbox!r}"
                raise OSMError(msg, code="invalid_osm_request") from err
            if not all(math.isfinite(v) for v in (w, s, e, n)) or not (
                -180 <= w < e <= 180 and -90 <= s < n <= 90
            ):
                msg = (f"bounding box {self.bbox!r} is not west,south,east,north in degrees "
                       "with west < east and south < north")
                raise OSMError(msg, code="invalid_osm_request", hint="e.g. --bbox 126.60,45.74,126.66,45.78")
            object.__setattr__(self, "bbox", (w, s, e, n))

    def normalised(self) -> dict[str, Any]:
        """The request as it enters the cache key (case and spacing of names ignored,
        coordinates rounded to 1e-7 degrees, OSM's own precision)."""
        if self.place is not None:
            return {"place": re.sub(r"\s+", " ", self.place.strip()).casefold()}
        return {"bbox": [round(v, 7) for v in self.bbox or ()]}

    def describe(self) -> str:
        if self.place is not None:
            return f"place '{self.place.strip()}'"
        w, s, e, n = self.bbox  # type: ignore[misc]
        return f"bbox {w:.5f},{s:.5f},{e:.5f},{n:.5f}"


def request_key(request: OSMRequest) -> str:
    """SHA-256 hex of the normalised request, planner version and schema version."""
    doc = {"request": request.normalised(), "planner": __version__, "schema": REQUEST_SCHEMA,
           "ways": list(WAY_FILTERS), "stations": STATION_TAGS}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _entry_path(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "requests" / f"{key}.json"


def _valid_payload(doc: Any, key: str) -> bool:
    if not isinstance(doc, dict):
        return False
    if doc.get("schema_version") != REQUEST_SCHEMA or doc.get("key") != key:
        return False
    elements = doc.get("elements")
    if not isinstance(elements, list):
        return False
    return all(isinstance(e, dict) and e.get("type") in ("node", "way", "relation") for e in elements)


def load_cached_response(cache_dir: str | Path, request: OSMRequest,
                         notices: Notices | None = None) -> tuple[dict | None, Path]:
    """The cached response of ``request`` (or None) and the entry's path.

    A corrupt entry (bad JSON, other schema or key, wrong payload shape) is removed and
    reported as ``cache_entry_corrupt``; it is never executed or unpickled.
    """
    key = request_key(request)
    path = _entry_path(Path(cache_dir), key)
    if not path.is_file():
        return None, path
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        doc = None
    if not _valid_payload(doc, key):
        with contextlib.suppress(OSError):
            path.unlink()
        if notices is not None:
            notices.add("cache_entry_corrupt", Severity.WARNING,
                        "a cached OSM response was unreadable or from another version; it was removed",
                        file=str(path), action="dropped")
        return None, path
    return doc, path


def save_response(cache_dir: str | Path, request: OSMRequest, elements: list[dict],
                  extra: dict | None = None) -> Path:
    """Store a response atomically; returns the entry's path."""
    key = request_key(request)
    path = _entry_path(Path(cache_dir), key)
    doc = {"schema_version": REQUEST_SCHEMA, "key": key, "planner_version": __version__,
           "request": request.normalised(), **(extra or {}), "elements": elements}
    write_text(path, json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=True))
    return path


@contextlib.contextmanager
def osmnx_settings(**values: Any) -> Iterator[None]:
    """Set osmnx settings for the block only; the previous values are always restored."""
    # slow (3 s) and only for downloads: not on the import path of plan
    from osmnx import settings

    missing = [k for k in values if not hasattr(settings, k)]
    if missing:
        msg = f"osmnx has no setting(s) {missing}"
        raise AttributeError(msg)
    before = {k: getattr(settings, k) for k in values}
    try:
        for k, v in values.items():
            setattr(settings, k, v)
        yield
    finally:
        for k, v in before.items():
            setattr(settings, k, v)


def _download(request: OSMRequest) -> tuple[list[dict], dict]:
    """Fetch the elements of ``request`` from Nominatim and Overpass via osmnx."""
    # slow (3 s) and only for downloads: osmnx, its requests and its Overpass client (no
    # public API gives raw elements) stay off the import path of plan
    import osmnx as ox
    import requests
    from osmnx import _overpass

    elements: list[dict] = []
    try:
        with osmnx_settings(use_cache=False, log_console=False, requests_timeout=180):
            if request.place is not None:
                gdf = ox.geocode_to_gdf(request.place)
                polygon = gdf.geometry.union_all()
                if polygon.geom_type not in ("Polygon", "MultiPolygon"):
                    msg = f"{request.describe()} geocodes to a {polygon.geom_type}, not an area"
                    raise OSMError(msg, code="osm_place_not_area",
                                   hint="use a city or district name, or pass --bbox")
            else:
                polygon = box(*request.bbox)  # type: ignore[misc]
            responses = [*_overpass._download_overpass_network(polygon, "all", list(WAY_FILTERS)),
                         *_overpass._download_overpass_features(polygon, STATION_TAGS)]
    except OSMError:
        raise
    except (requests.RequestException, ox._errors.InsufficientResponseError, ValueError, TypeError) as err:
        msg = f"downloading OSM data for {request.describe()} failed: {err}"
        raise OSMError(msg, code="osm_download_failed",
                       hint="check the network, or build from a local .osm.pbf extract") from err
    for response in responses:
        remark = response.get("remark") if isinstance(response, dict) else None
        if remark:
            msg = f"Overpass did not complete the request for {request.describe()}: {remark}"
            raise OSMError(msg, code="overpass_error", hint="try a smaller area or later")
        elements.extend(response.get("elements", []) if isinstance(response, dict) else [])
    return elements, {"bounds": [float(v) for v in polygon.bounds]}


def raw_from_elements(elements: list[dict], source: str, notices: Notices | None = None) -> RawOSM:
    """Overpass JSON elements -> :class:`RawOSM` (the same collector as the file readers)."""
    col = Collector(source, notices)
    col.spare = {}  # untagged rings of walkable multipolygons (see planner.ingest.osm._raw)
    for el in elements:
        kind = el.get("type")
        try:
            if kind == "node":
                col.counts["nodes"] += 1
                col.add_node(int(el["id"]), float(el.get("lon", math.nan)), float(el.get("lat", math.nan)),
                             el.get("tags") or None)
            elif kind == "way":
                col.counts["ways"] += 1
                col.add_way(int(el["id"]), el.get("tags") or {}, [int(r) for r in el.get("nodes", [])])
            elif kind == "relation":
                col.counts["relations"] += 1
                tags = el.get("tags") or {}
                if tags.get("type") == "multipolygon":
                    col.add_relation(int(el["id"]), tags, [(str(m.get("type", ""))[:1], int(m["ref"]), m.get("role", ""))
                                                           for m in el.get("members", [])])
        except (KeyError, TypeError, ValueError) as err:
            msg = f"malformed OSM element in {source}: {el!r:.120}"
            raise OSMError(msg, code="osm_response_malformed") from err
    return col.finish()


def fetch_request(request: OSMRequest, *, cache_dir: str | Path, offline: bool = False,
                  notices: Notices | None = None) -> tuple[RawOSM, str, Path]:
    """The data of ``request``: from the cache when present, else downloaded and cached.

    Returns ``(raw, digest, entry_path)``; ``digest`` is the SHA-256 of the cached entry's
    bytes, the input digest of any network built from it.
    """
    doc, path = load_cached_response(cache_dir, request, notices)
    if doc is None:
        if offline:
            msg = f"no cached OSM data for {request.describe()} and offline mode forbids downloading"
            raise OSMError(msg, code="cache_miss_offline",
                           hint=f"run once online (cache folder {Path(cache_dir)}), or pass a local .osm.pbf")
        elements, extra = _download(request)
        path = save_response(cache_dir, request, elements, extra)
        doc = json.loads(path.read_text(encoding="utf-8"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    raw = raw_from_elements(doc["elements"], request.describe(), notices)
    return raw, digest, path
