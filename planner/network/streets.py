"""Street networks (walk, drive) as compact CSR arrays, and shortest paths on them.

:func:`build_street_network` is the one funnel: a local ``.osm.pbf`` / ``.osm`` file or an
online :class:`~planner.ingest.osm.OSMRequest` goes through :func:`planner.ingest.osm.read_osm`, the
mode's filters and oneway/speed rules (:mod:`planner.ingest.osm._network`), node numbering,
parallel-edge merging and the largest strongly connected component, and comes out as a
:class:`StreetNetwork`, saved to a content-addressed cache and reloaded from it next time.

A :class:`StreetNetwork` holds

* ``indptr`` (int64[V+1]), ``indices`` (int32[E]): the directed graph in CSR form, nodes
  ``0..V-1`` ordered along a Morton (Z-order) curve so that nearby nodes sit near each
  other in memory;
* per edge ``time_s`` (float64, seconds), ``length_m`` (float64, metres), ``way_id``
  (int64, the OSM way) and ``highway`` (int16 index into ``highway_classes``);
* per node ``node_osm_id`` (int64), ``lon``/``lat`` (WGS84) and ``x``/``y`` (metres in
  the UTM zone of the data's centroid, ``crs``).

All arrays are read-only. Public methods take and return OSM node ids or points; the
``0..V-1`` indices appear only in the ``*_index`` helpers and in :meth:`StreetNetwork.csr`.
Result columns carry units and the mode: ``walk_s``/``walk_m`` on a walk network,
``drive_s``/``drive_m`` on a drive network.

Cache layout (``<cache>/networks/``): ``<mode>-<key>.npz`` (arrays, ``allow_pickle=False``)
and ``<mode>-<key>.json`` (metadata, the npz's SHA-256, the notices' summary), where ``key``
is the SHA-256 of the input digest, the mode, the build parameters, the planner version and
:data:`NETWORK_SCHEMA`. Both files are written atomically, the JSON last, under an exclusive
lock on the ``networks/`` folder (readers take it shared, so a reader never pairs the JSON of
one write with the npz of another): an entry without its JSON, or whose npz does not match
the recorded SHA-256 (a writer killed between the two files), is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from planner import __version__
from planner.common.atomic import entry_lock, sweep_temp_files, write_bytes, write_text
from planner.common.geodesy import utm_crs
from planner.common.memory import release_free_memory
from planner.common.notices import Notices, Severity
from planner.config import Config
from planner.errors import CacheError, ConfigError, InputError, OSMError, OutputError
from planner.ingest.osm import (
    DEFAULT_CACHE_DIR,
    DEFAULT_SPEED_KMH,
    FILTERS_VERSION,
    MODES,
    EdgeList,
    OSMRequest,
    RawOSM,
    area_links,
    file_digest,
    read_osm,
    street_edges,
    with_area_edges,
)
from planner.routing import streets as street_paths

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "NETWORK_SCHEMA",
    "StreetNetwork",
    "build_street_network",
    "network_cache_key",
    "street_network_from_raw",
]

log = logging.getLogger(__name__)

#: bump when the saved arrays or their meaning change
NETWORK_SCHEMA = 1

_ARRAYS = {  # name -> dtype of the saved arrays
    "indptr": np.int64, "indices": np.int32, "time_s": np.float64, "length_m": np.float64,
    "way_id": np.int64, "highway": np.int16, "node_osm_id": np.int64,
    "lon": np.float64, "lat": np.float64, "x": np.float64, "y": np.float64,
}


def _morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation sorting points along a Z-order curve (16 bits per axis)."""
    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    def quantise(v: np.ndarray) -> np.ndarray:
        span = float(v.max() - v.min()) if v.size else 0.0
        if span <= 0:
            return np.zeros(v.size, dtype=np.uint64)
        return np.minimum((v - v.min()) / span * 65535.0, 65535.0).astype(np.uint64)

    code = spread(quantise(x)) | (spread(quantise(y)) << np.uint64(1))
    return np.argsort(code, kind="stable")


def _readonly(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.flags.writeable = False


class StreetNetwork:
    """A walk or drive network: CSR arrays, node ids and coordinates, a snapper.

    Build one with :func:`build_street_network`; load a saved one with :meth:`load`.
    Methods never modify the network or the caller's data. A network may be shared
    between threads (each thread gets its own search workspace).
    """

    def __init__(self, *, mode: str, indptr, indices, time_s, length_m, way_id, highway,
                 node_osm_id, lon, lat, x, y, crs: str, highway_classes: Sequence[str],
                 meta: dict[str, Any] | None = None, notices: Notices | None = None,
                 walk_speed_mps: float = 1.33):
        if mode not in MODES:
            msg = f"unknown mode {mode!r}; expected one of {', '.join(MODES)}"
            raise ConfigError(msg, code="invalid_mode")
        self.mode = mode
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.time_s = np.ascontiguousarray(time_s, dtype=np.float64)
        self.length_m = np.ascontiguousarray(length_m, dtype=np.float64)
        self.way_id = np.ascontiguousarray(way_id, dtype=np.int64)
        self.highway = np.ascontiguousarray(highway, dtype=np.int16)
        self.node_osm_id = np.ascontiguousarray(node_osm_id, dtype=np.int64)
        self.lon = np.ascontiguousarray(lon, dtype=np.float64)
        self.lat = np.ascontiguousarray(lat, dtype=np.float64)
        self.x = np.ascontiguousarray(x, dtype=np.float64)
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        _readonly(self.indptr, self.indices, self.time_s, self.length_m, self.way_id, self.highway,
                  self.node_osm_id, self.lon, self.lat, self.x, self.y)
        self.crs = crs
        self.highway_classes = tuple(highway_classes)
        self.meta = dict(meta or {})
        self.notices = notices if notices is not None else Notices()
        self.walk_speed_mps = float(walk_speed_mps)
        self._check()
        self._local = threading.local()
        self._tree = None
        self._id_order: np.ndarray | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ basics

    def _check(self) -> None:
        n, m = self.n_nodes, self.n_edges
        problems = []
        if self.indptr.size != n + 1 or self.indptr[0] != 0 or self.indptr[-1] != m:
            problems.append("indptr does not match the node and edge counts")
        elif np.any(np.diff(self.indptr) < 0):
            problems.append("indptr is not non-decreasing")
        for name in ("time_s", "length_m", "way_id", "highway"):
            if getattr(self, name).size != m:
                problems.append(f"{name} has {getattr(self, name).size} entries for {m} edges")
        for name in ("lon", "lat", "x", "y"):
            if getattr(self, name).size != n:
                problems.append(f"{name} has {getattr(self, name).size} entries for {n} nodes")
        if m and (self.indices.min() < 0 or self.indices.max() >= n):
            problems.append("an edge points outside the node range")
        if m and not (np.all(np.isfinite(self.time_s)) and self.time_s.min() >= 0
                      and np.all(np.isfinite(self.length_m)) and self.length_m.min() >= 0):
            problems.append("edge costs must be finite and non-negative")
        if problems:
            msg = "inconsistent street network arrays: " + "; ".join(problems)
            raise CacheError(msg, code="network_arrays_invalid")

    @property
    def n_nodes(self) -> int:
        return int(self.node_osm_id.size)

    @property
    def n_edges(self) -> int:
        return int(self.indices.size)

    @property
    def cost_columns(self) -> tuple[str, str]:
        """Names of the time and distance columns of results (``walk_s``, ``walk_m`` ...)."""
        return f"{self.mode}_s", f"{self.mode}_m"

    def __repr__(self) -> str:
        return (f"StreetNetwork(mode={self.mode!r}, nodes={self.n_nodes:,}, edges={self.n_edges:,}, "
                f"crs={self.crs!r})")

    def weights(self, weight: str = "time") -> np.ndarray:
        """Edge costs: ``"time"`` (seconds) or ``"length"`` (metres)."""
        if weight == "time":
            return self.time_s
        if weight == "length":
            return self.length_m
        msg = f"weight must be 'time' or 'length', got {weight!r}"
        raise ConfigError(msg, code="invalid_weight")

    def csr(self, weight: str = "time") -> scipy.sparse.csr_matrix:
        """The graph as a SciPy CSR matrix (a copy; parallel edges were merged at build)."""
        return scipy.sparse.csr_matrix(
            (self.weights(weight).copy(), self.indices.copy(), self.indptr.copy()),
            shape=(self.n_nodes, self.n_nodes))

    def edge_tails(self) -> np.ndarray:
        """int32[E]: the tail node index of each edge."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self.indptr))

    def to_networkx(self):
        """A ``networkx.DiGraph`` with OSM node ids and ``time_s``/``length_m`` edge attributes."""
        import networkx as nx  # optional and slow (0.5 s): only this export needs it

        g = nx.DiGraph()
        ids = self.node_osm_id
        g.add_nodes_from((int(ids[i]), {"lon": float(self.lon[i]), "lat": float(self.lat[i])})
                         for i in range(self.n_nodes))
        tails = self.edge_tails()
        g.add_edges_from((int(ids[u]), int(ids[v]), {"time_s": float(t), "length_m": float(d)})
                         for u, v, t, d in zip(tails, self.indices, self.time_s, self.length_m, strict=True))
        return g

    # ------------------------------------------------------------------ ids and points

    def node_index(self, osm_ids) -> np.ndarray:
        """Indices ``0..V-1`` of OSM node ids; unknown ids raise ``InputError``."""
        ids = np.atleast_1d(np.asarray(osm_ids, dtype=np.int64))
        with self._lock:
            if self._id_order is None:
                self._id_order = np.argsort(self.node_osm_id, kind="stable")
        order = self._id_order
        sorted_ids = self.node_osm_id[order]
        j = np.searchsorted(sorted_ids, ids)
        j_clip = np.minimum(j, max(self.n_nodes - 1, 0))
        found = (j < self.n_nodes) & (sorted_ids[j_clip] == ids) if self.n_nodes else np.zeros(ids.size, bool)
        if not np.all(found):
            bad = ids[~found]
            msg = (f"{bad.size} node id(s) are not in the {self.mode} network (e.g. {int(bad[0])}); "
                   "the network keeps only its largest strongly connected component")
            raise InputError(msg, code="node_not_in_network", hint="snap points with StreetNetwork.snap()")
        return order[j_clip].astype(np.int32)

    def project(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 longitude/latitude -> metres in the network's CRS."""
        tr = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        x, y = tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def snap(self, lon, lat, *, max_distance_m: float | None = None,
             config: Config | None = None) -> pd.DataFrame:
        """The nearest network node of each point, within a distance limit.

        Parameters
        ----------
        lon, lat
            WGS84 coordinates (scalars or arrays of equal length).
        max_distance_m
            Points farther than this from every node are not snapped (default
            ``Config.snap_max_m``).

        Returns
        -------
        DataFrame
            One row per point, in input order: ``node_osm_id`` (Int64, ``<NA>`` when not
            snapped), ``snap_m`` (straight-line metres to that node, ``nan`` when not
            snapped), ``snapped`` (bool). The point beyond the limit is reported, never
            attached to a far node.
        """
        node, dist = self._snap_index(lon, lat, max_distance_m, config)
        osm = pd.array(np.where(node >= 0, self.node_osm_id[np.maximum(node, 0)], 0), dtype="Int64")
        osm[node < 0] = pd.NA
        return pd.DataFrame({"node_osm_id": osm, "snap_m": dist, "snapped": node >= 0})

    def snap_index(self, lon, lat, *, max_distance_m: float | None = None,
                   config: Config | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`snap` on node indices: ``(node int32, snap_m float64)`` per point,
        ``-1`` / ``nan`` where not snapped."""
        return self._snap_index(lon, lat, max_distance_m, config)

    def _snap_index(self, lon, lat, max_distance_m, config) -> tuple[np.ndarray, np.ndarray]:
        limit = (config or Config()).snap_max_m if max_distance_m is None else float(max_distance_m)
        if not limit >= 0:
            msg = f"max_distance_m must be a non-negative number, got {max_distance_m!r}"
            raise ConfigError(msg, code="invalid_snap_distance")
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        if lon.shape != lat.shape or lon.ndim != 1:
            msg = f"lon and lat must be 1-D and of equal length, got shapes {lon.shape} and {lat.shape}"
            raise InputError(msg, code="invalid_points")
        with self._lock:
            if self._tree is None:
                self._tree = cKDTree(np.column_stack([self.x, self.y]))
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        node = np.full(lon.size, -1, dtype=np.int32)
        dist = np.full(lon.size, np.nan)
        if ok.any():
            px, py = self.project(lon[ok], lat[ok])
            d, i = self._tree.query(np.column_stack([px, py]), distance_upper_bound=limit)
            hit = np.isfinite(d)
            idx = np.flatnonzero(ok)
            node[idx[hit]] = i[hit]
            dist[idx[hit]] = d[hit]
        return node, dist

    # ------------------------------------------------------------------ searches (planner.routing.streets)

    def thread_local(self) -> threading.local:
        """A per-thread namespace tied to this network (the searches keep their workspace there)."""
        return self._local

    def reach_index(self, sources, *, source_cost=None, cutoff: float | None = None, weight: str = "time",
                    target: int = -1, want_pred: bool = True):
        """Bounded multi-source search on node indices: :func:`planner.routing.streets.reach_index`."""
        return street_paths.reach_index(self, sources, source_cost=source_cost, cutoff=cutoff, weight=weight,
                                        target=target, want_pred=want_pred)

    def reach(self, sources, *, source_cost=None, cutoff: float | None = None, weight: str = "time") -> pd.DataFrame:
        """Every node reachable from OSM node ids: :func:`planner.routing.streets.reach`."""
        return street_paths.reach(self, sources, source_cost=source_cost, cutoff=cutoff, weight=weight)

    def one_to_all_index(self, sources, *, source_cost=None, cutoff: float | None = None,
                         weight: str = "time") -> tuple[np.ndarray, np.ndarray]:
        """Dense search by node index: :func:`planner.routing.streets.one_to_all_index`."""
        return street_paths.one_to_all_index(self, sources, source_cost=source_cost, cutoff=cutoff, weight=weight)

    def path(self, origin, destination, *, weight: str = "time") -> pd.DataFrame:
        """The shortest path between two OSM node ids: :func:`planner.routing.streets.path`."""
        return street_paths.path(self, origin, destination, weight=weight)

    def cost_matrix_index(self, origins, targets, *, cutoff: float | None = None, weight: str = "time",
                          config: Config | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Many-to-many on node indices: :func:`planner.routing.streets.cost_matrix_index`."""
        return street_paths.cost_matrix_index(self, origins, targets, cutoff=cutoff, weight=weight, config=config)

    def distance_matrix(self, origins, destinations, *, cutoff: float | None = None, weight: str = "time",
                        max_snap_m: float | None = None, include_snap: bool = True,
                        config: Config | None = None) -> pd.DataFrame:
        """Network times and distances between points: :func:`planner.routing.streets.distance_matrix`."""
        return street_paths.distance_matrix(self, origins, destinations, cutoff=cutoff, weight=weight,
                                            max_snap_m=max_snap_m, include_snap=include_snap, config=config)

    # ------------------------------------------------------------------ save / load

    def save(self, path: str | Path, *, key: str = "") -> Path:
        """Write ``<path>.npz`` and ``<path>.json`` atomically (JSON last); returns the JSON path."""
        base = Path(path)
        base = base.with_name(base.name.removesuffix(".npz").removesuffix(".json"))
        buf = io.BytesIO()
        np.savez(buf, **{name: getattr(self, name) for name in _ARRAYS})
        data = buf.getvalue()
        npz = base.with_name(base.name + ".npz")
        side = base.with_name(base.name + ".json")
        write_bytes(npz, data)
        doc = {
            "kind": "street_network", "schema_version": NETWORK_SCHEMA, "planner_version": __version__,
            "key": key, "mode": self.mode, "crs": self.crs, "highway_classes": list(self.highway_classes),
            "walk_speed_mps": self.walk_speed_mps, "npz_sha256": hashlib.sha256(data).hexdigest(),
            "meta": self.meta, "notices": self.notices.summary(),
        }
        write_text(side, json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False, default=_json_default))
        return side

    @classmethod
    def load(cls, path: str | Path, *, key: str | None = None) -> StreetNetwork:
        """Read a network written by :meth:`save` (``.json`` or ``.npz`` path, or the stem).

        Raises ``CacheError`` (``network_file_corrupt``) when the files are missing, do not
        match each other, come from another schema version or hold inconsistent arrays.
        Never unpickles anything.
        """
        base = Path(path)
        base = base.with_name(base.name.removesuffix(".npz").removesuffix(".json"))
        npz = base.with_name(base.name + ".npz")
        side = base.with_name(base.name + ".json")

        def corrupt(why: str, err: Exception | None = None) -> CacheError:
            msg = f"saved street network {side} is unusable: {why}"
            return CacheError(msg, code="network_file_corrupt", hint="delete it and build the network again")

        try:
            doc = json.loads(side.read_text(encoding="utf-8"))
            data = npz.read_bytes()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise corrupt(str(err)) from err
        if not isinstance(doc, dict) or doc.get("kind") != "street_network":
            why = "not a street network file"
            raise corrupt(why)
        if doc.get("schema_version") != NETWORK_SCHEMA:
            why = f"schema version {doc.get('schema_version')!r}, expected {NETWORK_SCHEMA}"
            raise corrupt(why)
        if key is not None and doc.get("key") != key:
            why = "its key does not match its name"
            raise corrupt(why)
        if doc.get("npz_sha256") != hashlib.sha256(data).hexdigest():
            why = "the arrays do not match the recorded checksum"
            raise corrupt(why)
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {name: z[name] for name in _ARRAYS}
        except (OSError, ValueError, KeyError) as err:
            raise corrupt(str(err)) from err
        for name, dtype in _ARRAYS.items():
            if arrays[name].dtype != dtype or arrays[name].ndim != 1:
                why = f"array {name} has dtype {arrays[name].dtype}"
                raise corrupt(why)
        notices = Notices()
        for row in doc.get("notices", []):
            try:
                notices.add(row["code"], Severity[row["severity"]], row.get("message", ""),
                            count=int(row.get("count", 1)))
            except (KeyError, TypeError, ValueError):
                continue
        try:
            return cls(mode=doc.get("mode"), crs=str(doc.get("crs")), highway_classes=doc.get("highway_classes", []),
                       meta=doc.get("meta", {}), notices=notices,
                       walk_speed_mps=float(doc.get("walk_speed_mps", 1.33)), **arrays)
        except (ConfigError, CacheError, TypeError, ValueError) as err:
            raise corrupt(str(err)) from err


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    msg = f"not JSON serialisable: {type(obj).__name__}"
    raise TypeError(msg)


# ---------------------------------------------------------------------- building


def _build_params(mode: str, config: Config) -> dict[str, Any]:
    params: dict[str, Any] = {"mode": mode, "filters": FILTERS_VERSION}
    if mode == "walk":
        params["walk_speed_mps"] = config.walk_speed_mps
    else:
        params["default_speed_kmh"] = DEFAULT_SPEED_KMH
    return params


def load_cached(stem: Path, key: str) -> tuple[StreetNetwork | None, bool]:
    """The cache entry ``<stem>.npz``/``.json`` read under the cache's shared lock.

    Returns ``(network, False)`` on a hit, ``(None, False)`` when there is no entry and
    ``(None, True)`` when the entry was unusable (half of a pair left by a killed writer, a
    checksum mismatch, another schema) and has been removed. The removal happens under the
    exclusive lock and only if the entry is still bad then (a concurrent writer may have
    replaced it meanwhile, in which case its entry is returned).
    """
    side = stem.with_name(stem.name + ".json")
    if not side.exists():
        return None, False
    lock = stem.parent  # the networks/ folder (see planner.common.atomic.entry_lock)
    try:
        with entry_lock(lock, shared=True):
            net = StreetNetwork.load(stem, key=key)
    except CacheError as err:
        with entry_lock(lock):
            try:
                net = StreetNetwork.load(stem, key=key)
            except CacheError:
                if not side.exists():
                    return None, False
                log.warning("%s; rebuilding", err.message)
                for suffix in (".json", ".npz"):
                    stem.with_name(stem.name + suffix).unlink(missing_ok=True)
                return None, True
    net.meta.update(cache_path=str(stem.with_name(stem.name + ".npz")), from_cache=True)
    return net, False


def save_cached(net: StreetNetwork, stem: Path, key: str) -> None:
    """Write ``net`` as the cache entry ``<stem>.npz``/``.json`` under the exclusive lock.

    On failure (full disk, read-only folder) both files are removed and the error raised.
    """
    with entry_lock(stem.parent):
        try:
            net.save(stem, key=key)
        except (OutputError, OSError):
            for suffix in (".json", ".npz"):
                with contextlib.suppress(OSError):
                    stem.with_name(stem.name + suffix).unlink(missing_ok=True)
            raise
    net.meta["cache_path"] = str(stem.with_name(stem.name + ".npz"))


def network_cache_key(input_digest: str, mode: str, config: Config | None = None) -> str:
    """SHA-256 hex naming a built network: input digest + mode + build parameters +
    planner version + :data:`NETWORK_SCHEMA`."""
    config = config or Config()
    doc = {"input": input_digest, "params": _build_params(mode, config), "planner": __version__,
           "schema": NETWORK_SCHEMA}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def street_network_from_raw(raw: RawOSM, mode: str = "walk", *, config: Config | None = None,
                            notices: Notices | None = None, areas: bool = True) -> StreetNetwork:
    """Build a network from already-read OSM data (no cache involved); ``areas=False`` leaves
    the walkable areas out (the walk network osmnx builds)."""
    config = config or Config()
    notices = notices if notices is not None else Notices()
    if mode not in MODES:
        msg = f"unknown mode {mode!r}; expected one of {', '.join(MODES)}"
        raise ConfigError(msg, code="invalid_mode")
    edges = street_edges(raw, mode, walk_speed_mps=config.walk_speed_mps, notices=notices)
    found = []
    if mode == "walk" and areas:  # squares, platforms and station halls are crossed (issue 19)
        edges, found = with_area_edges(raw, edges, walk_speed_mps=config.walk_speed_mps, notices=notices)
    if len(edges) == 0:
        box = raw.header_bbox or raw.data_bbox()
        where = f" (bbox {', '.join(f'{v:.5f}' for v in box)})" if box else ""
        msg = f"{raw.source}{where} holds no {mode} network: no usable {mode} ways were found"
        raise OSMError(msg, code="osm_empty_network",
                       hint="check that the extract or area covers streets; 'plan osm info' lists what it holds")
    net = _assemble(edges, raw.source, mode, config, notices)
    if found:  # which areas ended up in the network (plan transfers says where the map lacks a link)
        net.meta["walk_areas"] = area_links(found, net.node_osm_id)
    return net


def _assemble(edges: EdgeList, source: str, mode: str, config: Config, notices: Notices) -> StreetNetwork:
    ids, inverse = np.unique(np.concatenate([edges.u, edges.v]), return_inverse=True)
    m = len(edges)
    u = inverse[:m]
    v = inverse[m:]
    n = ids.size
    lon = np.empty(n)
    lat = np.empty(n)
    lon[u], lat[u] = edges.u_lon, edges.u_lat
    lon[v], lat[v] = edges.v_lon, edges.v_lat

    # merge parallel edges (two ways over the same node pair): keep the fastest
    order = np.lexsort((edges.length_m, edges.time_s, v, u))
    u, v = u[order], v[order]
    first = np.ones(m, dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    keep = order[first]
    merged = int(m - keep.size)
    u, v = u[first], v[first]

    # largest strongly connected component
    g = csr_matrix((np.ones(u.size), (u, v)), shape=(n, n))
    n_comp, labels = connected_components(g, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=n_comp)
    main = int(np.argmax(sizes))
    in_main = labels == main
    edge_ok = in_main[u] & in_main[v]
    dropped_sizes = np.sort(np.delete(sizes, main))[::-1]
    report = {
        "components": int(n_comp), "components_dropped": int(n_comp - 1),
        "nodes_dropped": int(n - sizes[main]), "edges_dropped": int((~edge_ok).sum()),
        "largest_dropped": int(dropped_sizes[0]) if dropped_sizes.size else 0,
    }
    if n_comp > 1:
        notices.add("osm_dropped_components", Severity.WARNING,
                    f"kept the largest strongly connected component ({int(sizes[main]):,} nodes); dropped "
                    f"{n_comp - 1:,} smaller one(s) with {report['nodes_dropped']:,} nodes and "
                    f"{report['edges_dropped']:,} edges (largest dropped: {report['largest_dropped']:,} nodes)",
                    file=source, action="dropped", count=int(n_comp - 1))

    # renumber the kept nodes along a Morton curve of their projected coordinates
    keep_nodes = np.flatnonzero(in_main)
    crs = utm_crs(float(np.mean(lon[keep_nodes])), float(np.mean(lat[keep_nodes])))
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x_all, y_all = tr.transform(lon[keep_nodes], lat[keep_nodes])
    x_all, y_all = np.asarray(x_all), np.asarray(y_all)
    perm = _morton_order(x_all, y_all)
    old_nodes = keep_nodes[perm]
    new_index = np.full(n, -1, dtype=np.int64)
    new_index[old_nodes] = np.arange(old_nodes.size)

    e_keep = keep[edge_ok]
    nu = new_index[u[edge_ok]]
    nv = new_index[v[edge_ok]]
    o = np.lexsort((nv, nu))
    nu, nv, e_keep = nu[o], nv[o], e_keep[o]
    indptr = np.zeros(old_nodes.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(nu, minlength=old_nodes.size), out=indptr[1:])

    across = np.array([c.startswith("area:") for c in edges.classes], bool)[edges.highway[e_keep]] \
        if edges.classes else np.zeros(e_keep.size, bool)
    net_meta = {
        "source": source, "mode": mode, "nodes": int(old_nodes.size), "edges": int(nu.size),
        "ways_used": edges.ways_used, "ways_cut": edges.ways_cut, "missing_refs": edges.missing_refs,
        "parallel_edges_merged": merged, **report, "crs": crs,
        "bbox": [float(lon[old_nodes].min()), float(lat[old_nodes].min()),
                 float(lon[old_nodes].max()), float(lat[old_nodes].max())],
        # ways only: the edges across and along walkable areas (classes "area:*") are counted apart
        "total_length_km": float(edges.length_m[e_keep][~across].sum() / 1000.0), "area_edges": int(across.sum()),
    }
    return StreetNetwork(
        mode=mode, indptr=indptr, indices=nv.astype(np.int32), time_s=edges.time_s[e_keep],
        length_m=edges.length_m[e_keep], way_id=edges.way_id[e_keep], highway=edges.highway[e_keep],
        node_osm_id=ids[old_nodes], lon=lon[old_nodes], lat=lat[old_nodes], x=x_all[perm], y=y_all[perm],
        crs=crs, highway_classes=edges.classes, meta=net_meta, notices=notices,
        walk_speed_mps=config.walk_speed_mps,
    )


def build_street_network(source: str | Path | OSMRequest, mode: str = "walk", *, config: Config | None = None,
                         cache_dir: str | Path | None = None, use_cache: bool = True,
                         refresh: bool = False, offline: bool = False) -> StreetNetwork:
    """Build (or load from the cache) the ``mode`` street network of an OSM input.

    Parameters
    ----------
    source
        A local ``.osm.pbf`` / ``.osm`` (``.gz``, ``.bz2``) file, or an
        :class:`~planner.ingest.osm.OSMRequest` (place name or bbox, fetched through osmnx).
    mode
        ``"walk"`` or ``"drive"``.
    cache_dir
        Cache folder (default ``osm_cache/``); networks go to ``networks/``, online
        responses to ``requests/``.
    use_cache
        Read and write built networks in the cache (online responses are always cached).
    refresh
        Build again even when the cache holds the network, and replace the entry.
    offline
        Never download: an online request missing from the cache is an error
        (``cache_miss_offline``).

    Returns
    -------
    StreetNetwork
        With ``notices`` (what was cut, merged, dropped) and ``meta`` (counts, the cache
        path under ``meta["cache_path"]``, ``meta["from_cache"]``, and the extract's path
        under ``meta["source_path"]`` when ``source`` is a file).
    """
    config = config or Config()
    if mode not in MODES:
        msg = f"unknown mode {mode!r}; expected one of {', '.join(MODES)}"
        raise ConfigError(msg, code="invalid_mode")
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    notices = Notices()
    raw: RawOSM | None = None
    if isinstance(source, OSMRequest):
        raw, digest = read_osm(source, config=config, cache_dir=cache, offline=offline, notices=notices)
    else:
        path = Path(source)
        if not path.is_file():
            msg = f"{path} does not exist" if not path.exists() else f"{path} is not a regular file"
            raise OSMError(msg, code="input_not_found" if not path.exists() else "input_unreadable")
        digest = file_digest(path)
    key = network_cache_key(digest, mode, config)
    stem = cache / "networks" / f"{mode}-{key[:40]}"
    if use_cache:
        sweep_temp_files(cache)
        if not refresh:
            net, dropped = load_cached(stem, key)
            if net is not None:
                if not isinstance(source, OSMRequest):  # the extract, for map context
                    net.meta["source_path"] = str(source)
                return net
            if dropped:
                notices.add("cache_entry_corrupt", Severity.WARNING,
                            "a cached street network was unreadable; it was removed and rebuilt",
                            file=str(stem), action="dropped")
    if raw is None:
        raw, _digest = read_osm(source, config=config, notices=notices)
    net = street_network_from_raw(raw, mode, config=config, notices=notices)
    del raw
    release_free_memory()  # the extract's heap, before the next stage maps its own (issue 17)
    net.meta["input_sha256"] = digest
    if use_cache:
        try:
            save_cached(net, stem, key)
        except (OutputError, OSError) as err:  # read-only or full disk: carry on uncached
            net.notices.add("cache_write_failed", Severity.WARNING,
                            f"the street network could not be cached ({err}); it was built but not saved",
                            file=str(stem), action="kept")
    net.meta["from_cache"] = False
    if not isinstance(source, OSMRequest):
        net.meta["source_path"] = str(source)
    return net
