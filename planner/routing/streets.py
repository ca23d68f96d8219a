"""Shortest paths on a street network: the boundary around :mod:`planner.kernels.dijkstra`.

Functions of a :class:`~planner.network.streets.StreetNetwork` (whose methods of the same
names call them): bounded multi-source searches that settle only what they reach
(:func:`reach_index`, :func:`reach`), dense one-to-all searches (:func:`one_to_all_index`),
a path between two nodes (:func:`path`) and many-to-many costs on numba threads
(:func:`cost_matrix_index`, :func:`distance_matrix`). Public functions take and return OSM
node ids or points; ``*_index`` functions work on node indices ``0..V-1``. Each thread keeps
a search workspace per network, so a small search costs only what it settles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np
import pandas as pd

from planner.common.notices import Severity
from planner.config import Config
from planner.errors import ConfigError, InputError
from planner.kernels.dijkstra import (
    batch_matrix,
    new_workspace,
    path_from_sparse,
    sssp_dense,
    sssp_sparse,
)
from planner.kernels.options import numba_threads

if TYPE_CHECKING:
    from planner.network.streets import StreetNetwork

__all__ = ["cost_matrix_index", "distance_matrix", "one_to_all_index", "path", "reach", "reach_index"]


def _workspace(net: StreetNetwork):
    ws = getattr(net.thread_local(), "ws", None)
    if ws is None:
        ws = new_workspace(net.n_nodes)
        net.thread_local().ws = ws
    return ws


def _other(net: StreetNetwork, weight: str) -> np.ndarray:
    return net.length_m if weight == "time" else net.time_s


def reach_index(net: StreetNetwork, sources, *, source_cost=None, cutoff: float | None = None,
                weight: str = "time", target: int = -1, want_pred: bool = True):
    """Kernel-level bounded multi-source search on node indices.

    Returns ``(nodes, cost, other, pred)`` for the settled nodes in order of cost:
    ``cost`` by ``weight``, ``other`` the other quantity summed along the same paths,
    ``pred`` the previous node (``-1`` at sources; all ``-1`` with ``want_pred=False``,
    which is about 20 % faster on large searches). Reuses a per-thread workspace, so a
    search that settles a small part of the graph costs only that part (no O(V)
    initialisation).
    """

    src, src_cost = _sources(net, sources, source_cost)
    w = net.weights(weight)
    ws = _workspace(net)
    return sssp_sparse(net.indptr, net.indices, w, _other(net, weight), True, bool(want_pred), src,
                       src_cost, _cutoff(cutoff), int(target), *ws)


def _sources(net: StreetNetwork, sources, source_cost) -> tuple[np.ndarray, np.ndarray]:
    src = np.ascontiguousarray(np.atleast_1d(np.asarray(sources)), dtype=np.int64)
    if src.size == 0:
        msg = "no source node given"
        raise InputError(msg, code="invalid_points")
    if src.min() < 0 or src.max() >= net.n_nodes:
        msg = f"source node index out of range 0..{net.n_nodes - 1}"
        raise InputError(msg, code="invalid_points")
    if source_cost is None:
        cost = np.zeros(src.size, dtype=np.float64)
    else:
        cost = np.ascontiguousarray(np.atleast_1d(np.asarray(source_cost, dtype=np.float64)))
        if cost.shape != src.shape or not np.all(np.isfinite(cost)) or cost.min() < 0:
            msg = "source_cost must give one finite, non-negative cost per source"
            raise InputError(msg, code="invalid_points")
    return src.astype(np.int32), cost


@staticmethod


def _cutoff(cutoff: float | None) -> float:
    if cutoff is None:
        return np.inf
    c = float(cutoff)
    if not c >= 0:
        msg = f"cutoff must be a non-negative number, got {cutoff!r}"
        raise ConfigError(msg, code="invalid_cutoff")
    return c


def reach(net: StreetNetwork, sources, *, source_cost=None, cutoff: float | None = None,
          weight: str = "time") -> pd.DataFrame:
    """Every node reachable from ``sources`` (OSM node ids) within ``cutoff``.

    Parameters
    ----------
    sources
        One OSM node id or several (multi-source: each node gets the cost of its best
        source).
    source_cost
        Cost already spent at each source, in the unit of ``weight``.
    cutoff
        Largest cost kept (seconds for ``weight="time"``, metres for ``"length"``);
        ``None``: no limit.
    weight
        ``"time"`` or ``"length"``: what the paths minimise.

    Returns
    -------
    DataFrame
        ``node_osm_id``, ``<mode>_s``, ``<mode>_m`` (both along the same path),
        ``pred_osm_id`` (previous node on the path, ``<NA>`` at a source), sorted by
        cost.
    """
    idx = net.node_index(sources)
    nodes, cost, other, pred = reach_index(net, idx, source_cost=source_cost, cutoff=cutoff, weight=weight)
    t, m = (cost, other) if weight == "time" else (other, cost)
    pred_osm = pd.array(net.node_osm_id[np.maximum(pred, 0)], dtype="Int64")
    pred_osm[pred < 0] = pd.NA
    s_col, m_col = net.cost_columns
    return pd.DataFrame({"node_osm_id": net.node_osm_id[nodes], s_col: t, m_col: m, "pred_osm_id": pred_osm})


def one_to_all_index(net: StreetNetwork, sources, *, source_cost=None, cutoff: float | None = None,
                     weight: str = "time") -> tuple[np.ndarray, np.ndarray]:
    """Dense search: ``(cost float64[V], pred int32[V])`` by node index (``inf``/``-1``
    when not reached)."""

    src, src_cost = _sources(net, sources, source_cost)
    dist, pred, _n = sssp_dense(net.indptr, net.indices, net.weights(weight), src, src_cost,
                                _cutoff(cutoff), -1)
    return dist, pred


def path(net: StreetNetwork, origin, destination, *, weight: str = "time") -> pd.DataFrame:
    """The shortest path between two OSM node ids.

    Returns
    -------
    DataFrame
        One row per node along the path: ``node_osm_id``, ``lon``, ``lat``, ``way_id``
        (the OSM way of the edge arriving at the node, ``<NA>`` at the origin), and the
        cumulative ``<mode>_s`` and ``<mode>_m``. Empty when unreachable.
    """

    o, d = net.node_index([origin, destination])
    nodes, _cost, _other, pred = reach_index(net, [o], weight=weight, target=int(d))
    seq = path_from_sparse(nodes, pred, int(d))
    s_col, m_col = net.cost_columns
    if seq.size == 0:
        return pd.DataFrame({"node_osm_id": pd.Series(dtype=np.int64), "lon": pd.Series(dtype=float),
                             "lat": pd.Series(dtype=float), "way_id": pd.Series(dtype="Int64"),
                             s_col: pd.Series(dtype=float), m_col: pd.Series(dtype=float)})
    edges = _edges_between(net, seq[:-1], seq[1:])
    t = np.concatenate([[0.0], np.cumsum(net.time_s[edges])])
    m = np.concatenate([[0.0], np.cumsum(net.length_m[edges])])
    way = pd.array(np.concatenate([[0], net.way_id[edges]]), dtype="Int64")
    way[0] = pd.NA
    return pd.DataFrame({"node_osm_id": net.node_osm_id[seq], "lon": net.lon[seq], "lat": net.lat[seq],
                         "way_id": way, s_col: t, m_col: m})


def _edges_between(net: StreetNetwork, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:
    out = np.empty(tails.size, dtype=np.int64)
    for k, (u, v) in enumerate(zip(tails, heads, strict=True)):
        a, b = net.indptr[u], net.indptr[u + 1]
        hits = np.flatnonzero(net.indices[a:b] == v)
        out[k] = a + hits[0]
    return out


def cost_matrix_index(net: StreetNetwork, origins, targets, *, cutoff: float | None = None, weight: str = "time",
                      config: Config | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Kernel-level many-to-many: ``(cost, other)`` float64 arrays of shape
    ``(len(origins), len(targets))`` between node indices (``inf`` = not reached).

    Runs the origins in parallel on ``Config.threads`` numba threads; duplicate targets
    are allowed. Each search stops once every target is settled.
    """

    config = config or Config()
    o = np.ascontiguousarray(np.atleast_1d(np.asarray(origins)), dtype=np.int64)
    t = np.ascontiguousarray(np.atleast_1d(np.asarray(targets)), dtype=np.int64)
    for name, arr in (("origin", o), ("target", t)):
        if arr.size and (arr.min() < 0 or arr.max() >= net.n_nodes):
            msg = f"{name} node index out of range 0..{net.n_nodes - 1}"
            raise InputError(msg, code="invalid_points")
    uniq, inverse = np.unique(t, return_inverse=True)
    with numba_threads(config.threads):
        chunks = numba.get_num_threads()
        cost, other = batch_matrix(net.indptr, net.indices, net.weights(weight), _other(net, weight),
                                   o.astype(np.int32), uniq.astype(np.int32), _cutoff(cutoff), chunks)
    return cost[:, inverse], other[:, inverse]


def distance_matrix(net: StreetNetwork, origins, destinations, *, cutoff: float | None = None, weight: str = "time",
                    max_snap_m: float | None = None, include_snap: bool = True,
                    config: Config | None = None) -> pd.DataFrame:
    """Network times and distances between points (the function for "walk distances
    between many points").

    Parameters
    ----------
    origins, destinations
        Points: a DataFrame with ``lon`` and ``lat`` columns (and an ``id`` column,
        else its index is used) or an ``(n, 2)`` array of lon, lat.
    cutoff
        Largest network cost searched (unit of ``weight``); farther pairs get ``nan``.
    weight
        ``"time"`` or ``"length"``: what the paths minimise.
    max_snap_m
        Snap distance limit (default ``Config.snap_max_m``).
    include_snap
        Add the straight-line legs from each point to its snapped node, at
        ``Config.walk_speed_mps`` (the cost columns then are door to door).

    Returns
    -------
    DataFrame
        One row per (origin, destination) pair, origins outer: ``origin_id``,
        ``destination_id``, ``<mode>_s`` (seconds), ``<mode>_m`` (metres, along the
        same path), ``origin_snap_m``, ``destination_snap_m``. Costs are ``nan`` when a
        point could not be snapped (see ``snapped`` columns) or the pair is unreachable
        within ``cutoff``.
    """
    config = config or Config()
    o_id, o_lon, o_lat = _points(origins, "origins")
    d_id, d_lon, d_lat = _points(destinations, "destinations")
    o_node, o_snap = net.snap_index(o_lon, o_lat, max_distance_m=max_snap_m, config=config)
    d_node, d_snap = net.snap_index(d_lon, d_lat, max_distance_m=max_snap_m, config=config)
    o_ok = o_node >= 0
    d_ok = d_node >= 0
    for what, ok in (("origin", o_ok), ("destination", d_ok)):
        if not ok.all():
            net.notices.add("points_not_snapped", Severity.WARNING,
                             f"{int((~ok).sum())} {what} point(s) are farther than the snap limit from "
                             f"the {net.mode} network; their costs are left empty",
                             field=what, count=int((~ok).sum()))
    cost = np.full((o_id.size, d_id.size), np.nan)
    other = np.full((o_id.size, d_id.size), np.nan)
    if o_ok.any() and d_ok.any():
        c, c2 = cost_matrix_index(net, o_node[o_ok], d_node[d_ok], cutoff=cutoff, weight=weight, config=config)
        c[~np.isfinite(c)] = np.nan
        c2[~np.isfinite(c2)] = np.nan
        cost[np.ix_(o_ok, d_ok)] = c
        other[np.ix_(o_ok, d_ok)] = c2
    t, m = (cost, other) if weight == "time" else (other, cost)
    if include_snap:
        snap_m = np.nan_to_num(o_snap)[:, None] + np.nan_to_num(d_snap)[None, :]
        m = m + snap_m
        t = t + snap_m / config.walk_speed_mps
    s_col, m_col = net.cost_columns
    n_o, n_d = o_id.size, d_id.size
    return pd.DataFrame({
        "origin_id": np.repeat(o_id, n_d), "destination_id": np.tile(d_id, n_o),
        s_col: t.ravel(), m_col: m.ravel(),
        "origin_snap_m": np.repeat(o_snap, n_d), "destination_snap_m": np.tile(d_snap, n_o),
    })


def _points(obj, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(obj, pd.DataFrame):
        if not {"lon", "lat"} <= set(obj.columns):
            msg = f"{what} need 'lon' and 'lat' columns; got {list(obj.columns)}"
            raise InputError(msg, code="invalid_points")
        ids = obj["id"].to_numpy() if "id" in obj.columns else obj.index.to_numpy()
        return ids, obj["lon"].to_numpy(dtype=np.float64), obj["lat"].to_numpy(dtype=np.float64)
    arr = np.asarray(obj, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 2:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2:
        msg = f"{what} must be a DataFrame with lon/lat columns or an (n, 2) array of lon, lat"
        raise InputError(msg, code="invalid_points")
    return np.arange(arr.shape[0]), arr[:, 0].copy(), arr[:, 1].copy()
