"""Street networks built from the real extracts, checked against osmnx, networkx and SciPy.

osmnx reads the same file (converted to XML, see ``ways_for_osmnx``): it must produce the
same nodes, the same directed node pairs and the same edge lengths before component
filtering, and the same largest strongly connected component. The intended differences
are counted exactly:

* osmnx keeps parallel edges (a MultiDiGraph); we merge them, keeping the fastest;
* osmnx refuses clipped ways ("Some edges missing nodes"); we split them, so it is given
  the same pieces;
* osmnx keeps the largest *weakly* connected component by default; we keep the largest
  *strongly* connected one (``retain_all=True`` + ``largest_component(strongly=True)``
  on the osmnx side gives the same nodes);
* the tag filters differ in a few documented rules (``planner.ingest.osm._filters``), each
  disagreement on the real tags must be explained by one of them.
"""

from __future__ import annotations

import re
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from planner.common.notices import Notices
from planner.errors import CacheError, InputError
from planner.ingest.osm import read_osm
from planner.ingest.osm._filters import (
    _FOOT_OK,
    DRIVE_HIGHWAYS,
    WALK_AREA_HIGHWAYS,
    WALK_EXCLUDED_HIGHWAYS,
    drive_way,
    walk_way,
)
from planner.ingest.osm._network import street_edges
from planner.kernels.options import numba_threads
from planner.network.streets import (
    StreetNetwork,
    build_street_network,
    street_network_from_raw,
    utm_crs,
)
from tests.test_osm_helpers import HARBIN, HELSINKI, ways_for_osmnx

# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def raws():
    return {"harbin": read_osm(HARBIN)[0], "helsinki": read_osm(HELSINKI)[0]}


@pytest.fixture(scope="module")
def nets(raws):
    # osmnx walks no areas: the comparisons use the walk network without them (issue 19's
    # walkable areas are checked against hand-computed walks in test_osm_areas.py)
    return {(city, mode): street_network_from_raw(raw, mode, areas=False) for city, raw in raws.items()
            for mode in ("walk", "drive")}


def _osmnx_graph(tmp_path_factory, city, mode, keep):
    import osmnx as ox

    src = HARBIN if city == "harbin" else HELSINKI
    path, _ = ways_for_osmnx(src, tmp_path_factory.mktemp("osmnx") / f"{city}_{mode}.osm", keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # osmnx logging/deprecation chatter is not ours
        return ox.graph_from_xml(path, bidirectional=(mode == "walk"), simplify=False, retain_all=True)


@pytest.fixture(scope="module")
def osmnx_helsinki_walk(tmp_path_factory):
    return _osmnx_graph(tmp_path_factory, "helsinki", "walk", walk_way)


@pytest.fixture(scope="module")
def osmnx_harbin_walk(tmp_path_factory):
    return _osmnx_graph(tmp_path_factory, "harbin", "walk", walk_way)


def pair_lengths(G) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for u, v, d in G.edges(data="length"):
        if u != v:
            out[(u, v)] = min(d, out.get((u, v), np.inf))
    return out


def our_pairs(edges) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for u, v, d in zip(edges.u.tolist(), edges.v.tolist(), edges.length_m.tolist(), strict=True):
        out[(u, v)] = min(d, out.get((u, v), np.inf))
    return out


def compare_with_osmnx(raw, net, G, mode):
    import osmnx as ox

    edges = street_edges(raw, mode, walk_speed_mps=1.33, notices=Notices())
    ours = our_pairs(edges)
    theirs = pair_lengths(G)
    # before component filtering: same nodes, same directed pairs, same lengths
    assert set(G.nodes) == set(edges.u.tolist()) | set(edges.v.tolist())
    assert ours.keys() == theirs.keys()
    keys = list(ours)
    np.testing.assert_allclose([ours[k] for k in keys], [theirs[k] for k in keys], rtol=1e-9, atol=1e-6)
    assert G.number_of_edges() == len(edges)  # osmnx keeps parallel edges, as we do before merging
    # the largest strongly connected component is the same
    scc = ox.truncate.largest_component(G, strongly=True)
    assert set(scc.nodes) == set(net.node_osm_id.tolist())
    scc_pairs = {(u, v) for u, v in scc.edges() if u != v}
    assert len(scc_pairs) == net.n_edges  # our parallel edges are merged
    assert scc.number_of_edges() - net.n_edges == sum(
        1 for u, v, k in scc.edges(keys=True) if k > 0)
    return scc


# ---------------------------------------------------------------------- against osmnx


@pytest.mark.slow
def test_helsinki_walk_matches_osmnx(raws, nets, osmnx_helsinki_walk):
    compare_with_osmnx(raws["helsinki"], nets[("helsinki", "walk")], osmnx_helsinki_walk, "walk")


@pytest.mark.slow
def test_harbin_walk_matches_osmnx(raws, nets, osmnx_harbin_walk):
    scc = compare_with_osmnx(raws["harbin"], nets[("harbin", "walk")], osmnx_harbin_walk, "walk")
    assert scc.number_of_nodes() == 47_131  # recorded in docs/notes/issue3.md


@pytest.mark.slow
def test_osmnx_refuses_clipped_ways_we_split(tmp_path, raws):
    """osmnx's graph_from_xml raises on the raw file; our builder splits and counts."""
    import osmium
    import osmnx as ox

    out = tmp_path / "unsplit.osm"
    writer = osmium.SimpleWriter(str(out), overwrite=True)
    try:
        for obj in osmium.FileProcessor(str(HELSINKI)):
            if obj.is_node() or (obj.is_way() and walk_way(dict(obj.tags))):
                writer.add(obj)
    finally:
        writer.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Some edges missing nodes"):
            ox.graph_from_xml(out, bidirectional=True, simplify=False, retain_all=True)
    net = build_street_network(out, "walk", use_cache=False)
    assert net.notices.count("osm_missing_node_refs") == 174
    assert net.meta["ways_cut"] == 174


@pytest.mark.slow
@pytest.mark.parametrize("city", ["helsinki", "harbin"])
def test_drive_matches_osmnx_up_to_the_oneway_rules(tmp_path_factory, raws, nets, city):
    """Drive: osmnx's oneway reading on the same ways; the only differences are ways whose
    direction our table reads differently (implied motorway oneway, reversible)."""
    from planner.ingest.osm._filters import drive_direction

    G = _osmnx_graph(tmp_path_factory, city, "drive", drive_way)
    raw = raws[city]
    edges = street_edges(raw, "drive", walk_speed_mps=1.33, notices=Notices())
    ours = set(our_pairs(edges))
    theirs = set(pair_lengths(G))
    explained_ways = {int(w) for w, t in zip(raw.way_id, raw.way_tags, strict=True)
                      if drive_way(t) and (drive_direction(t)[2] or
                                           (t.get("highway") == "motorway" and "oneway" not in t))}
    way_of_pair = {}
    for u, v, d in G.edges(data="osmid"):
        way_of_pair.setdefault((u, v), set()).add(d)
    for u, v, w in zip(edges.u.tolist(), edges.v.tolist(), edges.way_id.tolist(), strict=True):
        way_of_pair.setdefault((u, v), set()).add(w)
    unexplained = [p for p in ours ^ theirs if not (way_of_pair[p] & explained_ways)]
    assert unexplained == []
    assert len(ours & theirs) > 0.95 * len(theirs)


# ---------------------------------------------------------------------- filters vs osmnx's


_CLAUSE = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')


def overpass_filter(expr: str):
    """A tag predicate from an Overpass filter string like osmnx's network filters."""
    clauses = _CLAUSE.findall(expr)
    assert "".join(f'["{k}"' + (f'{op}"{rx}"' if op else "") + "]" for k, op, rx in clauses) == expr

    def ok(tags):
        for key, op, rx in clauses:
            value = tags.get(key)
            if not op:
                if value is None:
                    return False
            elif op == "~":
                if value is None or not re.search(rx, value):
                    return False
            elif value is not None and re.search(rx, value):
                return False
        return True

    return ok


def walk_difference_reason(tags, ours):
    hw = tags.get("highway")
    foot = tags.get("foot")
    if ours:
        if tags.get("area") == "yes" and hw in WALK_AREA_HIGHWAYS:
            return "pedestrian area kept"
        if foot in _FOOT_OK and tags.get("access") == "private":
            return "foot=* overrides access=private"
        if hw == "cycleway" and foot in _FOOT_OK:
            return "cycleway open to pedestrians"
        if hw not in WALK_EXCLUDED_HIGHWAYS:
            return "exact highway values, not substrings"
    else:
        if foot is None and tags.get("access") == "no":
            return "access=no without foot=*"
        if foot == "use_sidepath":
            return "foot=use_sidepath"
        if hw in WALK_EXCLUDED_HIGHWAYS:
            return "more highway values excluded"
    return None


def drive_difference_reason(tags, ours):
    hw = tags.get("highway")
    if not ours and hw not in DRIVE_HIGHWAYS:
        return "allow-list of road classes"
    motor = next((tags[k] for k in ("motorcar", "motor_vehicle", "vehicle", "access") if k in tags), None)
    if ours and tags.get("access") == "private" and motor not in (None, "private"):
        return "motor access overrides access=private"
    if not ours and motor is not None:
        return "motor access resolved motorcar > motor_vehicle > vehicle > access"
    return None


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_filters_agree_with_osmnx_except_documented_rules(raws, mode):
    from osmnx._overpass import _get_network_filter

    theirs = overpass_filter(_get_network_filter(mode))
    ours_fn = walk_way if mode == "walk" else drive_way
    reason_fn = walk_difference_reason if mode == "walk" else drive_difference_reason
    reasons: dict[str, int] = {}
    agree = 0
    for raw in raws.values():
        for tags in raw.way_tags:
            if "highway" not in tags:
                continue
            ours = ours_fn(tags)
            if ours == theirs(tags):
                agree += 1
                continue
            why = reason_fn(tags, ours)
            assert why is not None, (mode, tags, ours)
            reasons[why] = reasons.get(why, 0) + 1
    assert agree > 0.95 * (agree + sum(reasons.values()))
    print(mode, reasons)


# ---------------------------------------------------------------------- shortest paths


def random_pairs(net, n_sources, rng):
    return rng.choice(net.n_nodes, n_sources, replace=False)


@pytest.mark.slow
@pytest.mark.parametrize("city", ["helsinki", "harbin"])
def test_shortest_paths_match_scipy(nets, city):
    net = nets[(city, "walk")]
    rng = np.random.default_rng(42)
    src = random_pairs(net, 20, rng)
    for weight in ("length", "time"):
        ref = scipy_dijkstra(net.csr(weight), directed=True, indices=src)
        for k, s in enumerate(src):
            dist, _pred = net.one_to_all_index([s], weight=weight)
            np.testing.assert_allclose(dist, ref[k], rtol=1e-12, atol=1e-9)
    # strongly connected: everything is reachable from everywhere
    assert np.isfinite(ref).all()


@pytest.mark.parametrize("city", [pytest.param("harbin", marks=pytest.mark.slow), "helsinki"])
def test_shortest_paths_match_networkx_on_the_osmnx_graph(request, nets, city):
    """Hundreds of random pairs: our CSR network vs networkx on osmnx's own graph."""
    import osmnx as ox

    G = request.getfixturevalue(f"osmnx_{city}_walk")
    scc = ox.truncate.largest_component(G, strongly=True)
    net = nets[(city, "walk")]
    rng = np.random.default_rng(7)
    sources = rng.choice(net.node_osm_id, 12, replace=False)
    n_pairs = 0
    for s in sources:
        theirs = nx.single_source_dijkstra_path_length(scc, int(s), weight="length")
        ours = net.reach([int(s)], weight="length").set_index("node_osm_id")["walk_m"]
        assert len(ours) == len(theirs) == net.n_nodes
        targets = rng.choice(net.node_osm_id, 30, replace=False)
        for t in targets:
            assert ours[int(t)] == pytest.approx(theirs[int(t)], rel=1e-9, abs=1e-6)
            n_pairs += 1
    assert n_pairs >= 300


def test_paths_are_walkable_and_costs_add_up(nets):
    net = nets[("helsinki", "walk")]
    rng = np.random.default_rng(1)
    for _ in range(20):
        a, b = (int(x) for x in rng.choice(net.node_osm_id, 2, replace=False))
        path = net.path(a, b, weight="length")
        assert path["node_osm_id"].iloc[0] == a and path["node_osm_id"].iloc[-1] == b
        reach = net.reach([a], weight="length").set_index("node_osm_id")
        assert path["walk_m"].iloc[-1] == pytest.approx(reach.loc[b, "walk_m"])
        assert path["walk_s"].iloc[-1] == pytest.approx(path["walk_m"].iloc[-1] / 1.33)
        assert np.all(np.diff(path["walk_m"]) >= 0)


def test_bounded_reach_matches_scipy_limit(nets):
    net = nets[("harbin", "walk")]
    rng = np.random.default_rng(5)
    A = net.csr("time")
    for s in rng.choice(net.n_nodes, 5, replace=False):
        got = net.reach([int(net.node_osm_id[s])], cutoff=600.0)
        ref = scipy_dijkstra(A, indices=s, limit=600.0)
        reached = np.flatnonzero(np.isfinite(ref))
        assert len(got) == reached.size < net.n_nodes
        idx = net.node_index(got["node_osm_id"].to_numpy())
        np.testing.assert_allclose(got["walk_s"].to_numpy(), ref[idx], rtol=1e-12)
        assert got["walk_s"].max() <= 600.0
        np.testing.assert_allclose(got["walk_m"], got["walk_s"] * 1.33, rtol=1e-9)


def test_multi_source_reach(nets):
    net = nets[("helsinki", "walk")]
    ids = [int(net.node_osm_id[10]), int(net.node_osm_id[4000])]
    got = net.reach(ids, source_cost=[0.0, 120.0], cutoff=900.0).set_index("node_osm_id")
    A = net.csr("time")
    ref = np.minimum(scipy_dijkstra(A, indices=10), scipy_dijkstra(A, indices=4000) + 120.0)
    idx = net.node_index(got.index.to_numpy())
    np.testing.assert_allclose(got["walk_s"].to_numpy(), ref[idx], rtol=1e-12)
    assert pd.isna(got.loc[ids[0], "pred_osm_id"])


@pytest.mark.slow
def test_drive_costs_match_scipy(nets):
    net = nets[("harbin", "drive")]
    A = net.csr("time")
    src = np.random.default_rng(3).choice(net.n_nodes, 5, replace=False)
    ref = scipy_dijkstra(A, indices=src)
    cost, meters = net.cost_matrix_index(src, np.arange(net.n_nodes))
    np.testing.assert_allclose(cost, ref, rtol=1e-12)
    assert (meters >= 0).all()
    # drive is directed: some pair differs between directions
    back = scipy_dijkstra(A.T.tocsr(), indices=src)
    assert np.any(np.abs(back - ref) > 1)


# ---------------------------------------------------------------------- snapping and matrices


def test_crs_and_projection(nets):
    assert nets[("harbin", "walk")].crs == "EPSG:32652"
    assert nets[("helsinki", "walk")].crs == "EPSG:32635"
    assert utm_crs(-43.2, -22.9) == "EPSG:32723"  # Rio de Janeiro: south
    net = nets[("helsinki", "walk")]
    x, y = net.project(net.lon[:50], net.lat[:50])
    np.testing.assert_allclose(x, net.x[:50], atol=1e-6)
    np.testing.assert_allclose(y, net.y[:50], atol=1e-6)


def test_snap_with_a_distance_limit(nets):
    net = nets[("helsinki", "walk")]
    lon = np.array([net.lon[5], net.lon[5] + 0.0005, 25.5, np.nan])
    lat = np.array([net.lat[5], net.lat[5], 60.5, 60.17])
    snapped = net.snap(lon, lat, max_distance_m=300)
    assert snapped["snapped"].tolist() == [True, True, False, False]
    assert snapped["node_osm_id"].iloc[0] == net.node_osm_id[5]
    assert snapped["snap_m"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert 0 <= snapped["snap_m"].iloc[1] <= 300
    assert pd.isna(snapped["node_osm_id"].iloc[2]) and np.isnan(snapped["snap_m"].iloc[2])
    tight = net.snap(lon[1:2], lat[1:2], max_distance_m=0.01)
    assert not tight["snapped"].iloc[0]


def test_distance_matrix_between_points(nets):
    net = nets[("helsinki", "walk")]
    rng = np.random.default_rng(9)
    pick = rng.choice(net.n_nodes, 6, replace=False)
    origins = pd.DataFrame({"id": ["a", "b", "c"], "lon": net.lon[pick[:3]], "lat": net.lat[pick[:3]]})
    dests = pd.DataFrame({"lon": [*net.lon[pick[3:]], 26.0], "lat": [*net.lat[pick[3:]], 61.0]},
                         index=[10, 11, 12, 13])
    before = origins.copy()
    with numba_threads(1):
        m1 = net.distance_matrix(origins, dests)
    with numba_threads(2):
        m2 = net.distance_matrix(origins, dests)
    pd.testing.assert_frame_equal(m1, m2)
    pd.testing.assert_frame_equal(origins, before)  # caller's data untouched
    assert list(m1.columns) == ["origin_id", "destination_id", "walk_s", "walk_m", "origin_snap_m",
                                "destination_snap_m"]
    assert len(m1) == 12
    ref = scipy_dijkstra(net.csr("length"), indices=pick[:3])[:, pick[3:]]
    got = m1[m1["destination_id"] != 13]["walk_m"].to_numpy().reshape(3, 3)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-6)
    assert m1[m1["destination_id"] == 13]["walk_s"].isna().all()  # far point: not snapped, reported
    assert net.notices.count("points_not_snapped") >= 1


def test_distance_matrix_includes_snap_legs(nets):
    net = nets[("helsinki", "walk")]
    pts = np.array([[net.lon[0] + 0.0003, net.lat[0]], [net.lon[100], net.lat[100]]])
    with_snap = net.distance_matrix(pts[:1], pts[1:])
    without = net.distance_matrix(pts[:1], pts[1:], include_snap=False)
    snap = with_snap["origin_snap_m"].iloc[0]
    assert snap > 0.5
    assert with_snap["walk_m"].iloc[0] == pytest.approx(without["walk_m"].iloc[0] + snap)
    assert with_snap["walk_s"].iloc[0] == pytest.approx(without["walk_s"].iloc[0] + snap / 1.33)


def test_unknown_node_ids_and_bad_arguments(nets):
    net = nets[("helsinki", "walk")]
    with pytest.raises(InputError) as err:
        net.reach([123])
    assert err.value.code == "node_not_in_network"
    with pytest.raises(InputError):
        net.distance_matrix(np.zeros((2, 3)), np.zeros((1, 2)))
    with pytest.raises(InputError):
        net.snap([1, 2], [3])
    with pytest.raises(ValueError, match="cutoff"):
        net.reach([int(net.node_osm_id[0])], cutoff=-1)
    with pytest.raises(ValueError, match="read-only"):
        net.time_s[0] = 0.0


def test_to_networkx(nets):
    net = nets[("helsinki", "drive")]
    g = net.to_networkx()
    assert g.number_of_nodes() == net.n_nodes and g.number_of_edges() == net.n_edges
    a, b = int(net.node_osm_id[0]), int(net.node_osm_id[-1])
    ours = net.reach([a], weight="length").set_index("node_osm_id").loc[b, "drive_m"]
    assert ours == pytest.approx(nx.dijkstra_path_length(g, a, b, weight="length_m"))


# ---------------------------------------------------------------------- cache and determinism


def test_build_is_deterministic(raws):
    a = street_network_from_raw(raws["helsinki"], "walk")
    b = street_network_from_raw(raws["helsinki"], "walk")
    for name in ("indptr", "indices", "time_s", "length_m", "node_osm_id", "x", "y", "way_id"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_save_load_and_cache(tmp_path):
    cache = tmp_path / "cache"
    net = build_street_network(HELSINKI, "walk", cache_dir=cache)
    assert net.meta["from_cache"] is False
    files = sorted(p.name for p in (cache / "networks").iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".npz")
    again = build_street_network(HELSINKI, "walk", cache_dir=cache)
    assert again.meta["from_cache"] is True
    for name in ("indptr", "indices", "time_s", "length_m", "node_osm_id", "lon", "lat", "x", "y"):
        np.testing.assert_array_equal(getattr(net, name), getattr(again, name))
    assert again.crs == net.crs and again.highway_classes == net.highway_classes
    assert again.notices.count("osm_missing_node_refs") == net.notices.count("osm_missing_node_refs")
    # a changed walking speed is another entry
    from planner.config import Config

    slow = build_street_network(HELSINKI, "walk", cache_dir=cache, config=Config(walk_speed_mps=1.0))
    assert slow.meta["from_cache"] is False
    np.testing.assert_allclose(slow.time_s, net.length_m / 1.0)
    assert len(list((cache / "networks").iterdir())) == 4


@pytest.mark.parametrize("damage", ["npz_garbage", "npz_missing", "json_garbage", "checksum", "schema",
                                    "object_array"])
def test_damaged_cache_entries_are_rebuilt(tmp_path, damage):
    import hashlib
    import io
    import json

    cache = tmp_path / "cache"
    net = build_street_network(HELSINKI, "walk", cache_dir=cache)
    npz = next((cache / "networks").glob("*.npz"))
    side = npz.with_suffix(".json")
    if damage == "npz_garbage":
        npz.write_bytes(b"PK\x03\x04 not really")
    elif damage == "npz_missing":
        npz.unlink()
    elif damage == "json_garbage":
        side.write_text("{")
    elif damage == "checksum":
        data = bytearray(npz.read_bytes())
        data[-100] ^= 1
        npz.write_bytes(bytes(data))
    elif damage == "schema":
        doc = json.loads(side.read_text())
        side.write_text(json.dumps({**doc, "schema_version": 0}))
    else:  # an object array (would need pickle) with a matching checksum
        buf = io.BytesIO()
        np.savez(buf, indptr=np.array([object()], dtype=object))
        npz.write_bytes(buf.getvalue())
        doc = json.loads(side.read_text())
        side.write_text(json.dumps({**doc, "npz_sha256": hashlib.sha256(buf.getvalue()).hexdigest()}))
    with pytest.raises(CacheError) as err:
        StreetNetwork.load(npz)
    assert err.value.code == "network_file_corrupt"
    rebuilt = build_street_network(HELSINKI, "walk", cache_dir=cache)
    assert rebuilt.meta["from_cache"] is False
    assert rebuilt.notices.count("cache_entry_corrupt") == 1
    np.testing.assert_array_equal(rebuilt.indices, net.indices)
    assert StreetNetwork.load(npz).n_nodes == net.n_nodes  # the entry is good again


def test_orphan_temp_files_are_swept(tmp_path):
    import os
    import time

    cache = tmp_path / "cache"
    (cache / "networks").mkdir(parents=True)
    orphan = cache / "networks" / ".walk-x.npz.abc.tmp"
    orphan.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    build_street_network(HELSINKI, "walk", cache_dir=cache)
    assert not orphan.exists()
