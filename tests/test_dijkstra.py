"""The Dijkstra kernels against hand-computed costs, a slow reference and SciPy."""

from __future__ import annotations

import heapq
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from planner.kernels.dijkstra import (
    batch_matrix,
    new_workspace,
    path_from_pred,
    path_from_sparse,
    sssp_dense,
    sssp_sparse,
)
from planner.kernels.options import numba_threads

INF = np.inf


# ---------------------------------------------------------------------- helpers


def csr(n: int, edges: list[tuple[int, int, float]]):
    """(indptr int64, indices int32, weights float64) from (u, v, w) triples."""
    if edges:
        u, v, w = (np.array(x) for x in zip(*edges, strict=True))
    else:
        u = v = np.zeros(0, np.int64)
        w = np.zeros(0)
    order = np.lexsort((v, u))
    u, v, w = u[order], v[order], w[order].astype(np.float64)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    return indptr, v.astype(np.int32), w


def reference(indptr, indices, weights, sources, costs, cutoff=INF):
    """Textbook Dijkstra with heapq: the slow oracle."""
    n = len(indptr) - 1
    dist = [INF] * n
    heap = []
    for s, c in zip(sources, costs, strict=True):
        if c <= cutoff and c < dist[s]:
            dist[s] = c
            heapq.heappush(heap, (c, s))
    done = [False] * n
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for e in range(indptr[u], indptr[u + 1]):
            v = int(indices[e])
            nd = d + weights[e]
            if nd < dist[v] and nd <= cutoff:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return np.array(dist)


def dense(g, sources, costs=None, cutoff=INF, target=-1):
    src = np.asarray(sources, np.int32)
    c = np.zeros(src.size) if costs is None else np.asarray(costs, np.float64)
    return sssp_dense(*g, src, c, float(cutoff), int(target))


def random_graph(rng, n, m, integer=False):
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    w = rng.integers(0, 20, m).astype(float) if integer else rng.random(m) * 10
    return csr(n, list(zip(u.tolist(), v.tolist(), w.tolist(), strict=True)))


def path_cost(g, path):
    indptr, indices, weights = g
    total = 0.0
    for a, b in itertools.pairwise(path):
        cand = [weights[e] for e in range(indptr[a], indptr[a + 1]) if indices[e] == b]
        assert cand, f"no edge {a}->{b}"
        total += min(cand)
    return total


# ---------------------------------------------------------------------- hand-drawn graphs

# A diamond with a shortcut that only looks cheap:
#
#        1 ---- 1 ---> 2
#        ^             |
#        1             1
#        |             v
#        0 ---- 5 ---> 3 ---- 2 ---> 4
#         \                          ^
#          `----------- 10 ----------'
#
DIAMOND = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (0, 3, 5.0), (3, 4, 2.0), (0, 4, 10.0)]


@pytest.mark.slow
def test_diamond_exact_costs_and_path():
    g = csr(5, DIAMOND)
    dist, pred, settled = dense(g, [0])
    assert dist.tolist() == [0.0, 1.0, 2.0, 3.0, 5.0]
    assert pred.tolist() == [-1, 0, 1, 2, 3]
    assert settled == 5
    assert path_from_pred(pred, 4).tolist() == [0, 1, 2, 3, 4]


def test_directed_edges_are_one_way():
    g = csr(5, DIAMOND)
    dist, pred, _ = dense(g, [4])
    assert dist.tolist() == [INF, INF, INF, INF, 0.0]
    assert pred.tolist() == [-1] * 5


# Two sources with start costs (multi-source, like several stations with a wait):
#
#   0 --4--> 1 --4--> 2 <--1-- 3
#   start 0            start 6 at 3
#
def test_multi_source_takes_the_best_source():
    g = csr(4, [(0, 1, 4.0), (1, 2, 4.0), (3, 2, 1.0)])
    dist, pred, _ = dense(g, [0, 3], [0.0, 6.0])
    assert dist.tolist() == [0.0, 4.0, 7.0, 6.0]
    assert pred.tolist() == [-1, 0, 3, -1]
    dist, _, _ = dense(g, [0, 3], [0.0, 8.5])
    assert dist.tolist() == [0.0, 4.0, 8.0, 8.5]


def test_duplicate_sources_keep_the_cheaper_cost():
    g = csr(2, [(0, 1, 1.0)])
    dist, _, _ = dense(g, [0, 0, 0], [3.0, 1.0, 2.0])
    assert dist.tolist() == [1.0, 2.0]


# Cutoff on a line 0 -1-> 1 -1-> 2 -1-> 3: a node exactly at the cutoff is reached
def test_cutoff_is_inclusive_like_scipy_limit():
    g = csr(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)])
    dist, _, settled = dense(g, [0], cutoff=2.0)
    assert dist.tolist() == [0.0, 1.0, 2.0, INF]
    assert settled == 3
    A = sp.csr_matrix((g[2], g[1], g[0]), shape=(4, 4))
    np.testing.assert_array_equal(dist, scipy_dijkstra(A, indices=0, limit=2.0))
    dist, _, _ = dense(g, [0], [2.5], cutoff=2.0)  # a source beyond the cutoff reaches nothing
    assert np.isinf(dist).all()


def test_zero_weights_and_self_loops():
    g = csr(3, [(0, 0, 0.0), (0, 1, 0.0), (1, 2, 0.0), (2, 0, 3.0)])
    dist, pred, _ = dense(g, [0])
    assert dist.tolist() == [0.0, 0.0, 0.0]
    assert path_from_pred(pred, 2).tolist() == [0, 1, 2]


def test_target_stop_leaves_only_settled_costs():
    # a star: 0 -> 1..5 with weights 1..5 and 5 -> 6
    g = csr(7, [(0, k, float(k)) for k in range(1, 6)] + [(5, 6, 1.0)])
    dist, pred, settled = dense(g, [0], target=2)
    assert dist[2] == 2.0 and pred[2] == 0
    assert settled == 3  # 0, 1, 2
    assert np.isinf(dist[3:]).all()  # pushed but not settled: not reported
    assert (pred[3:] == -1).all()


def test_empty_and_isolated():
    g = csr(3, [])
    dist, pred, settled = dense(g, [1])
    assert dist.tolist() == [INF, 0.0, INF] and settled == 1
    assert path_from_pred(pred, 1).tolist() == [1]


def test_path_from_pred_refuses_a_cycle():
    assert path_from_pred(np.array([1, 0], np.int32), 0).size == 0


# ---------------------------------------------------------------------- random graphs


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_match_reference_and_scipy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 120))
    m = int(rng.integers(0, 6 * n))
    g = random_graph(rng, n, m, integer=seed % 2 == 0)  # integer weights: many ties
    A = sp.csr_matrix((g[2], g[1], g[0]), shape=(n, n))
    for _ in range(5):
        k = int(rng.integers(1, 4))
        src = rng.integers(0, n, k)
        costs = rng.random(k) * 5
        cutoff = float(rng.choice([INF, rng.random() * 20]))
        dist, pred, settled = dense(g, src, costs, cutoff)
        ref = reference(*g, src.tolist(), costs.tolist(), cutoff)
        np.testing.assert_allclose(dist, ref, rtol=0, atol=1e-12)
        assert settled == np.isfinite(ref).sum()
        # every predecessor chain is a real path of the reported cost
        for v in np.flatnonzero(np.isfinite(dist)):
            p = path_from_pred(pred, v)
            assert p[0] in src
            start = costs[src == p[0]].min()
            assert path_cost(g, p) + start == pytest.approx(dist[v], abs=1e-9)
        if k == 1 and costs[0] == 0 and np.isinf(cutoff):
            np.testing.assert_allclose(dist, scipy_dijkstra(A, indices=int(src[0])), atol=1e-12)
    # SciPy multi-source min_only with a limit
    src = rng.integers(0, n, 3)
    dist, _, _ = dense(g, src, cutoff=7.0)
    np.testing.assert_allclose(dist, scipy_dijkstra(A, indices=src, min_only=True, limit=7.0), atol=1e-12)


@pytest.mark.slow
def test_sparse_workspace_matches_dense_and_stays_clean():
    rng = np.random.default_rng(7)
    n = 300
    g = random_graph(rng, n, 1200)
    ws = new_workspace(n)
    for q in range(40):
        src = rng.integers(0, n, int(rng.integers(1, 3))).astype(np.int32)
        cost = rng.random(src.size)
        cutoff = float(rng.random() * 8) if q % 3 else INF
        nodes, dist, dist2, pred = sssp_sparse(*g, g[2] * 2.0, True, True, src, cost, cutoff, -1, *ws)
        d_dense, p_dense, settled = sssp_dense(*g, src, cost, cutoff, -1)
        assert nodes.size == settled
        np.testing.assert_array_equal(dist, d_dense[nodes])
        np.testing.assert_array_equal(pred, p_dense[nodes])
        assert np.all(np.diff(dist) >= 0)  # settled in order of cost
        # weights2 = 2 * weights along the same tree: dist2 = 2 * (dist - source cost)
        roots = dist.copy()
        for k in range(nodes.size):  # source cost carried along each path
            p = path_from_sparse(nodes, pred, nodes[k])
            roots[k] = cost[src == p[0]].min()
        np.testing.assert_allclose(dist2, 2 * (dist - roots), atol=1e-9)
        # the invariant that makes bounded queries O(touched): workspace clean again
        assert np.isinf(ws[0]).all()
        assert (ws[2] == -1).all() and (ws[3] == -1).all()


def test_sparse_without_predecessors():
    rng = np.random.default_rng(8)
    g = random_graph(rng, 150, 600)
    ws = new_workspace(150)
    src = np.array([3, 40], np.int32)
    a = sssp_sparse(*g, g[2], False, True, src, np.zeros(2), 6.0, -1, *ws)
    b = sssp_sparse(*g, g[2], False, False, src, np.zeros(2), 6.0, -1, *ws)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert (b[3] == -1).all() and (a[3] >= 0).any()
    assert np.isinf(ws[0]).all() and (ws[2] == -1).all() and (ws[3] == -1).all()


def test_sparse_path_matches_dense_path():
    rng = np.random.default_rng(3)
    g = random_graph(rng, 200, 900)
    ws = new_workspace(200)
    nodes, _d, _d2, pred = sssp_sparse(*g, g[2], False, True, np.array([5], np.int32), np.zeros(1), INF, -1, *ws)
    _, p_dense, _ = sssp_dense(*g, np.array([5], np.int32), np.zeros(1), INF, -1)
    for t in nodes[::7]:
        assert path_from_sparse(nodes, pred, t).tolist() == path_from_pred(p_dense, t).tolist()
    unreached = np.setdiff1d(np.arange(200), nodes)
    if unreached.size:
        assert path_from_sparse(nodes, pred, int(unreached[0])).size == 0


# ---------------------------------------------------------------------- batches


@pytest.mark.slow
def test_batch_matrix_matches_single_searches_and_thread_count():
    rng = np.random.default_rng(11)
    n = 400
    g = random_graph(rng, n, 2000)
    w2 = rng.random(g[2].size) * 3
    origins = rng.integers(0, n, 37).astype(np.int32)
    targets = rng.choice(n, 25, replace=False).astype(np.int32)
    A = sp.csr_matrix((g[2], g[1], g[0]), shape=(n, n))
    ref = scipy_dijkstra(A, indices=origins)[:, targets]
    results = []
    for threads, chunks in ((1, 1), (2, 2), (2, 7)):
        with numba_threads(threads):
            cost, cost2 = batch_matrix(*g, w2, origins, targets, INF, chunks)
        np.testing.assert_allclose(cost, ref, atol=1e-12)
        results.append((cost, cost2))
    for cost, cost2 in results[1:]:
        np.testing.assert_array_equal(cost, results[0][0])
        np.testing.assert_array_equal(cost2, results[0][1])
    # cost2 is w2 summed along the path that minimises w (checked on one origin)
    i = 3
    ws = new_workspace(n)
    nodes, _dist, dist2, _pred = sssp_sparse(*g, w2, True, True, origins[i:i + 1], np.zeros(1), INF, -1, *ws)
    lookup = dict(zip(nodes.tolist(), dist2.tolist(), strict=True))
    for j, t in enumerate(targets):
        if np.isfinite(results[0][0][i, j]):
            assert results[0][1][i, j] == pytest.approx(lookup[int(t)])


def test_batch_matrix_cutoff_and_edge_cases():
    g = csr(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)])
    cost, cost2 = batch_matrix(*g, g[2], np.array([0, 3], np.int32), np.array([3, 2, 0], np.int32), 2.0, 2)
    assert cost.tolist() == [[INF, 2.0, 0.0], [0.0, INF, INF]]
    assert cost2[0, 1] == 2.0
    empty, _ = batch_matrix(*g, g[2], np.zeros(0, np.int32), np.array([1], np.int32), INF, 2)
    assert empty.shape == (0, 1)
