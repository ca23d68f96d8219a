"""Benchmark the numba Dijkstra kernels against SciPy, igraph and networkx.

Measured in one run, on the same graphs (perf anchors §3 and §7, targets T1-T3):

* graph A: the Harbin walk network (tests/data/osm/harbin_central.osm.pbf, travel time in
  seconds per edge);
* graph B: a synthetic road-like grid (seeded): 1024 x 1024 nodes, each of the 4-neighbour
  arcs kept with probability 0.65 (mean out-degree 2.6), integer weights 10-999, as in the
  anchors' local SciPy calibration.

1. one-to-all from random sources: ours (``sssp_dense``) vs ``scipy.sparse.csgraph.dijkstra``
   (``indices=s``), igraph ``Graph.distances`` and networkx
   ``single_source_dijkstra_path_length``; distances are checked equal first.
   Target: ours <= 1.25 x SciPy (T1).
2. bounded queries settling under 5 % of the nodes (each source's cutoff is the 3rd
   percentile of its distances): ours (``sssp_sparse`` on a reused workspace) vs SciPy with
   ``limit=``. Target: ours <= 0.5 x SciPy (T2).
3. the many-origin batch (``batch_matrix``, origins to 1,000 targets, no cutoff) on 1 vs 2
   numba threads, results checked identical. Target: >= 1.7 x faster on 2 threads (T3).

One-to-all times are medians over the sources (one run each, after a warm-up call);
bounded queries take the best of 5 runs per source and method (the VM is noisy; the same
rule for every method), the batch the best of 4 (1- and 2-thread runs interleaved). The
first call's time (compile, or load from numba's cache) is reported separately. Ratios are ours / reference (lower is better) and ns per settled node.

Run: ``python scripts/bench_dijkstra.py [--sources 7] [--side 1024] [--no-networkx-large]
[--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("NUMBA_OPT", "1")  # as the plan command line (planner/kernels/options.py)

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from planner.kernels.dijkstra import batch_matrix, new_workspace, sssp_dense, sssp_sparse
from planner.kernels.options import numba_threads

ROOT = Path(__file__).resolve().parent.parent
HARBIN = ROOT / "tests" / "data" / "osm" / "harbin_central.osm.pbf"


def road_grid(side: int, keep: float = 0.65, seed: int = 42):
    """CSR arrays of the synthetic road-like grid (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = side * side
    r, c = np.divmod(np.arange(n, dtype=np.int64), side)
    us, vs = [], []
    for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        rr, cc = r + dr, c + dc
        ok = (rr >= 0) & (rr < side) & (cc >= 0) & (cc < side)
        us.append(np.flatnonzero(ok))
        vs.append((rr * side + cc)[ok])
    u = np.concatenate(us)
    v = np.concatenate(vs)
    m = rng.random(u.size) < keep
    u, v = u[m], v[m]
    w = rng.integers(10, 1000, u.size).astype(np.float64)
    o = np.lexsort((v, u))
    u, v, w = u[o], v[o], w[o]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    return indptr, v.astype(np.int32), w


def harbin_walk():
    from planner.network.streets import build_street_network

    net = build_street_network(HARBIN, "walk", use_cache=False)
    return net.indptr.copy(), net.indices.copy(), net.time_s.copy()


def timed(fn, repeat=1):
    out = None
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def one_to_all(name, g, sources, *, with_networkx: bool):
    indptr, indices, w = g
    n = indptr.size - 1
    A = sp.csr_matrix((w, indices, indptr), shape=(n, n))
    zero = np.zeros(1)
    rows = {"graph": name, "nodes": n, "edges": int(indices.size)}

    t = time.perf_counter()
    sssp_dense(indptr, indices, w, np.array([0], np.int32), zero, np.inf, -1)
    rows["compile_s"] = time.perf_counter() - t

    import igraph as ig

    t = time.perf_counter()
    tails = np.repeat(np.arange(n), np.diff(indptr))
    G = ig.Graph(n=n, edges=np.column_stack([tails, indices]).tolist(), directed=True)
    G.es["weight"] = w.tolist()
    rows["igraph_build_s"] = time.perf_counter() - t

    ours, sci, igr, settled = [], [], [], []
    for s in sources:
        src = np.array([s], np.int32)
        (d, _pred, k), t1 = timed(lambda src=src: sssp_dense(indptr, indices, w, src, zero, np.inf, -1))
        ds, t2 = timed(lambda s=s: scipy_dijkstra(A, directed=True, indices=int(s)))
        di, t3 = timed(lambda s=s: np.asarray(G.distances(source=[int(s)], weights="weight", mode="out")[0]))
        assert np.array_equal(d, ds), "ours != scipy"
        np.testing.assert_allclose(di, ds, rtol=1e-12)
        ours += t1
        sci += t2
        igr += t3
        settled.append(int(k))
    rows.update(
        settled=int(statistics.median(settled)),
        ours_ms=1e3 * statistics.median(ours),
        scipy_ms=1e3 * statistics.median(sci),
        igraph_ms=1e3 * statistics.median(igr),
    )
    rows["ns_per_node_ours"] = rows["ours_ms"] * 1e6 / rows["settled"]
    rows["ns_per_node_scipy"] = rows["scipy_ms"] * 1e6 / rows["settled"]
    rows["ratio_scipy"] = rows["ours_ms"] / rows["scipy_ms"]
    rows["ratio_igraph"] = rows["ours_ms"] / rows["igraph_ms"]
    if with_networkx:
        import networkx as nx

        t = time.perf_counter()
        X = nx.from_scipy_sparse_array(A, create_using=nx.DiGraph)
        rows["networkx_build_s"] = time.perf_counter() - t
        s = int(sources[0])
        dn, tn = timed(lambda: nx.single_source_dijkstra_path_length(X, s, weight="weight"))
        ds = scipy_dijkstra(A, indices=s)
        assert len(dn) == np.isfinite(ds).sum() and all(dn[k] == ds[k] for k in list(dn)[:1000])
        rows["networkx_ms"] = 1e3 * tn[0]
        rows["ratio_networkx"] = rows["ours_ms"] / rows["networkx_ms"]
        del X
    return rows


def bounded(name, g, sources, share=0.03):
    """One query per source, its cutoff the ``share`` quantile of that source's distances
    (so each query settles about ``share`` of the nodes, always under 5 %)."""
    indptr, indices, w = g
    n = indptr.size - 1
    A = sp.csr_matrix((w, indices, indptr), shape=(n, n))
    zero = np.zeros(1)
    ws = new_workspace(n)
    sssp_sparse(indptr, indices, w, w, False, False, np.array([0], np.int32), zero, 1.0, -1, *ws)  # compile
    ours, ours_pred, sci, settled, cutoffs = [], [], [], [], []
    for s in sources:
        d0 = scipy_dijkstra(A, indices=int(s))
        cutoff = float(np.quantile(d0[np.isfinite(d0)], share))
        src = np.array([s], np.int32)
        (nodes, dist, _d2, _p), t1 = timed(
            lambda src=src, c=cutoff: sssp_sparse(indptr, indices, w, w, False, False, src, zero, c, -1, *ws),
            repeat=5)
        (nodes_p, dist_p, _d2, _p), t1p = timed(
            lambda src=src, c=cutoff: sssp_sparse(indptr, indices, w, w, False, True, src, zero, c, -1, *ws),
            repeat=5)
        ds, t2 = timed(lambda s=s, c=cutoff: scipy_dijkstra(A, directed=True, indices=int(s), limit=c), repeat=5)
        reached = np.flatnonzero(np.isfinite(ds))
        assert np.array_equal(np.sort(nodes), reached) and np.array_equal(dist, ds[nodes])
        assert np.array_equal(nodes_p, nodes) and np.array_equal(dist_p, dist)
        ours.append(min(t1))
        ours_pred.append(min(t1p))
        sci.append(min(t2))
        settled.append(nodes.size)
        cutoffs.append(cutoff)
    return {
        "graph": name, "cutoff_median": float(np.median(cutoffs)), "settled_share_max": max(settled) / n,
        "settled_mean": float(np.mean(settled)),
        "ours_ms": 1e3 * float(np.mean(ours)), "scipy_ms": 1e3 * float(np.mean(sci)),
        "ours_pred_ms": 1e3 * float(np.mean(ours_pred)),
        "ratio_scipy": float(np.sum(ours) / np.sum(sci)),
        "ratio_scipy_with_pred": float(np.sum(ours_pred) / np.sum(sci)),
        "ns_per_node_ours": float(np.sum(ours) / np.sum(settled) * 1e9),
    }


def batch(name, g, n_origins, n_targets=1000, seed=5, repeat=4):
    indptr, indices, w = g
    n = indptr.size - 1
    rng = np.random.default_rng(seed)
    origins = rng.choice(n, n_origins, replace=False).astype(np.int32)
    targets = rng.choice(n, n_targets, replace=False).astype(np.int32)
    batch_matrix(indptr, indices, w, w, origins[:2], targets, np.inf, 2)  # compile
    out = {"t1_s": np.inf, "t2_s": np.inf}
    results = {}
    for _ in range(repeat):  # interleaved, so a burst of other load hits both alike
        for threads in (1, 2):
            with numba_threads(threads) as got:
                res, times = timed(lambda got=got: batch_matrix(indptr, indices, w, w, origins, targets, np.inf, got))
            results[threads] = res
            out[f"t{threads}_s"] = min(out[f"t{threads}_s"], times[0])
            out[f"threads{threads}"] = got
    assert np.array_equal(results[1][0], results[2][0]), "batch results depend on the thread count"
    out.update(graph=name, origins=n_origins, targets=n_targets, speedup=out["t1_s"] / out["t2_s"])
    return out


def print_report(report) -> None:
    if report["one_to_all"]:
        print("\n1. one-to-all (median; ratio = ours / reference, target vs SciPy <= 1.25)")
        print(f"{'graph':<13}{'nodes':>10}{'edges':>10}{'ours ms':>9}{'scipy ms':>9}{'igraph ms':>10}"
              f"{'nx ms':>9}{'/scipy':>8}{'/igraph':>8}{'/nx':>7}{'ns/node':>9}{'scipy ns':>9}{'first call s':>13}")
        for r in report["one_to_all"]:
            nx_ms = f"{r['networkx_ms']:9.0f}" if "networkx_ms" in r else f"{'-':>9}"
            nx_ratio = f"{r['ratio_networkx']:7.3f}" if "ratio_networkx" in r else f"{'-':>7}"
            print(f"{r['graph']:<13}{r['nodes']:>10,}{r['edges']:>10,}{r['ours_ms']:9.1f}{r['scipy_ms']:9.1f}"
                  f"{r['igraph_ms']:10.1f}{nx_ms}{r['ratio_scipy']:8.2f}{r['ratio_igraph']:8.2f}{nx_ratio}"
                  f"{r['ns_per_node_ours']:9.0f}{r['ns_per_node_scipy']:9.0f}{r['compile_s']:13.2f}")
    if report["bounded"]:
        print("\n2. bounded queries, 20 sources, cutoff = 3rd percentile of each source's distances "
              "(median cutoff shown; best of 5 per query; target: ours <= 0.5 x SciPy limit=)")
        print("   (ours: distances only, as SciPy without return_predecessors; +pred: with predecessors)")
        print(f"{'graph':<13}{'cutoff':>10}{'max settled':>12}{'ours ms':>9}{'+pred ms':>9}{'scipy ms':>9}"
              f"{'ratio':>7}{'+pred':>7}{'ns/node':>9}")
        for r in report["bounded"]:
            print(f"{r['graph']:<13}{r['cutoff_median']:10.1f}{r['settled_share_max']:11.1%} {r['ours_ms']:9.2f}"
                  f"{r['ours_pred_ms']:9.2f}{r['scipy_ms']:9.2f}{r['ratio_scipy']:7.2f}"
                  f"{r['ratio_scipy_with_pred']:7.2f}{r['ns_per_node_ours']:9.0f}")
    if report["batch"]:
        print("\n3. many-origin batch to 1,000 targets (best of 4; target >= 1.7 x on 2 threads; "
              "needs an otherwise idle machine)")
        print(f"{'graph':<13}{'origins':>8}{'1 thread s':>11}{'2 threads s':>12}{'speedup':>9}")
        for r in report["batch"]:
            print(f"{r['graph']:<13}{r['origins']:>8}{r['t1_s']:11.3f}{r['t2_s']:12.3f}{r['speedup']:9.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=7, help="random sources per graph for steps 1-2")
    ap.add_argument("--side", type=int, default=1024, help="side of the synthetic grid")
    ap.add_argument("--no-networkx-large", action="store_true", help="skip networkx on the large grid")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    ap.add_argument("--steps", default="123", help="which measurements to run (1, 2, 3) [default: 123]")
    args = ap.parse_args()

    rng = np.random.default_rng(2024)
    t = time.perf_counter()
    graphs = {"harbin_walk": harbin_walk()}
    print(f"Harbin walk network built in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    graphs[f"grid_{args.side}"] = road_grid(args.side)
    print(f"synthetic grid built in {time.perf_counter() - t:.1f} s")

    report = {"one_to_all": [], "bounded": [], "batch": []}
    for name, g in graphs.items():
        n = g[0].size - 1
        src = rng.choice(n, args.sources, replace=False)
        large = n > 200_000
        bounded_src = rng.choice(n, 20, replace=False)
        if "1" in args.steps:
            report["one_to_all"].append(one_to_all(name, g, src, with_networkx=not (large and args.no_networkx_large)))
        if "2" in args.steps:
            report["bounded"].append(bounded(name, g, bounded_src))
        if "3" in args.steps:
            report["batch"].append(batch(name, g, 24 if large else 400))

    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
