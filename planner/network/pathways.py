"""Walks inside stations along GTFS ``pathways.txt`` (issue 19).

A feed's pathways join its stops, entrances, generic nodes and boarding areas into a directed
graph. Each pathway costs its ``traversal_time``; without one, its ``length`` at walking speed;
without either, the straight line between its two ends at walking speed (the rule
:func:`planner.analyses.transfers.stations.build_access` follows for entrance walks). Where two
pathways join the same two nodes (stairs beside an escalator) the faster counts; a pathway with
``is_bidirectional = 1`` runs both ways, so the walk down the stairs and the ride up the
escalator may differ. The time between two stops is the shortest path on that graph: the sum of
the traversal times along it, which the validator's notices (``foreign_key_violation`` for a
pathway to an unknown stop, ``number_out_of_range`` for a traversal time below 1 s,
``pathway_level_mismatch``) have already cleaned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner.common.geodesy import haversine_m

__all__ = ["PathwayGraph", "pathway_graph"]


@dataclass
class PathwayGraph:
    """The pathways of one feed: node ids (feed-local), seconds and metres per directed edge."""

    nodes: list[str]
    index: dict[str, int]
    seconds: csr_matrix
    metres: dict[tuple[int, int], float]
    lonlat: dict[str, tuple[float, float]]

    def walks(self, sources: list[str], targets: list[str]) -> tuple[float, float, str, str, list] | None:
        """The fastest walk from any of ``sources`` to any of ``targets``: (seconds, metres,
        source, target, the (lon, lat) of the nodes passed that have coordinates), or None
        when the pathways do not join them."""
        src = [s for s in dict.fromkeys(sources) if s in self.index]
        dst = [t for t in dict.fromkeys(targets) if t in self.index]
        if not src or not dst:
            return None
        dist, pred = dijkstra(self.seconds, directed=True, indices=[self.index[s] for s in src],
                              return_predecessors=True)
        cols = [self.index[t] for t in dst]
        sub = dist[:, cols]
        if not np.isfinite(sub).any():
            return None
        i, j = np.unravel_index(int(np.argmin(sub)), sub.shape)
        metres, v = 0.0, cols[j]
        passed = [v]
        while pred[i, v] >= 0:
            metres += self.metres[(int(pred[i, v]), int(v))]
            v = int(pred[i, v])
            passed.append(v)
        line = [self.lonlat[self.nodes[k]] for k in passed[::-1] if self.nodes[k] in self.lonlat]
        return float(sub[i, j]), metres, src[i], dst[j], line


    def between(self, ids: list[str]) -> list[tuple[int, int, float, float]]:
        """Every ordered pair of ``ids`` (positions into ``ids``) the pathways join:
        ``(from, to, seconds, metres)``; one Dijkstra from all of them at once."""
        pos = [k for k, s in enumerate(ids) if s in self.index]
        if len(pos) < 2:
            return []
        nodes = [self.index[ids[k]] for k in pos]
        dist, pred = dijkstra(self.seconds, directed=True, indices=nodes, return_predecessors=True)
        out = []
        for i, a in enumerate(pos):
            for j, b in enumerate(pos):
                t = dist[i, nodes[j]]
                if a == b or not np.isfinite(t):
                    continue
                metres, v = 0.0, nodes[j]
                while pred[i, v] >= 0:
                    metres += self.metres[(int(pred[i, v]), int(v))]
                    v = int(pred[i, v])
                out.append((a, b, float(t), metres))
        return out


def pathway_graph(feed, walk_speed_mps: float) -> PathwayGraph | None:
    """The :class:`PathwayGraph` of a loaded feed, or None when it has no pathways."""
    pw = feed.tables.get("pathways")
    if pw is None or pw.empty:
        return None
    stops = feed.tables["stops"]
    coords = {str(r.stop_id): (float(r.stop_lat), float(r.stop_lon)) for r in stops.itertuples(index=False)}
    nodes = sorted(set(map(str, pw["from_stop_id"])) | set(map(str, pw["to_stop_id"])))
    index = {s: i for i, s in enumerate(nodes)}
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for r in pw.itertuples(index=False):
        a, b = str(r.from_stop_id), str(r.to_stop_id)
        length = float(r.length) if pd.notna(r.length) else np.nan
        if not np.isfinite(length):
            pa, pb = coords.get(a), coords.get(b)
            ok = pa is not None and pb is not None and all(np.isfinite(pa + pb))
            length = float(haversine_m(pa[0], pa[1], pb[0], pb[1])) if ok else 0.0
        t = float(r.traversal_time) if pd.notna(r.traversal_time) else length / walk_speed_mps
        for x, y in [(a, b)] + ([(b, a)] if int(r.is_bidirectional) == 1 else []):
            key = (index[x], index[y])
            if key not in best or t < best[key][0]:
                best[key] = (t, length)
    keys = sorted(best)
    seconds = csr_matrix(([max(best[k][0], 1e-6) for k in keys],  # csgraph drops explicit zeros
                          ([k[0] for k in keys], [k[1] for k in keys])), shape=(len(nodes), len(nodes)))
    lonlat = {s: (c[1], c[0]) for s, c in coords.items() if all(np.isfinite(c))}
    return PathwayGraph(nodes, index, seconds, {k: best[k][1] for k in keys}, lonlat)
