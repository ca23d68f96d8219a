"""Reading OSM files (PBF and XML give the same data) and building networks from small
hand-drawn extracts with exact expected edges, lengths and times."""

from __future__ import annotations

import numpy as np
import pytest

from planner.common.geodesy import OSMNX_EARTH_RADIUS_M
from planner.common.geodesy import haversine_m as _haversine
from planner.common.notices import Notices
from planner.config import Config
from planner.ingest.osm import read_osm
from planner.ingest.osm._network import street_edges
from planner.ingest.osm.info import osm_info
from planner.ingest.osm.rail import rail_from_raw, rail_layer
from planner.network.streets import street_network_from_raw
from tests.test_osm_helpers import HARBIN, HELSINKI, pbf_to_xml, write_osm

DX = 0.001  # degrees of longitude; at latitude 0 that is ~111.2 m


def haversine_m(lon1, lat1, lon2, lat2):
    """Edge length as the street builder measures it: osmnx's sphere, lon/lat order."""
    return _haversine(*(np.radians(v) for v in (lat1, lon1, lat2, lon2)), radius=OSMNX_EARTH_RADIUS_M, radians=True)


def lengths_between(net, a, b):
    ia, ib = net.node_index([a, b])
    lo, hi = net.indptr[ia], net.indptr[ia + 1]
    hits = np.flatnonzero(net.indices[lo:hi] == ib)
    return net.length_m[lo + hits], net.time_s[lo + hits]


# A little town at the equator (node ids; each dash is 0.001 degrees):
#
#   1 ---- 2 ---- 3        footway 10: 1-2-3
#          |               residential 11: 2-4 (oneway=yes, 2 -> 4)
#          4 ---- 5        residential 12: 4-5, maxspeed "fast" (garbage)
#                 |        steps 13: 5-6
#                 6        motorway 14: 3-6 (not walkable, oneway implied 3 -> 6)
#
TOWN_NODES = [(1, 0.0, 0.0), (2, DX, 0.0), (3, 2 * DX, 0.0), (4, DX, -DX), (5, 2 * DX, -DX), (6, 2 * DX, -2 * DX)]
TOWN_WAYS = [
    (10, [1, 2, 3], {"highway": "footway"}),
    (11, [2, 4], {"highway": "residential", "oneway": "yes", "maxspeed": "30"}),
    (12, [4, 5], {"highway": "residential", "maxspeed": "fast"}),
    (13, [5, 6], {"highway": "steps"}),
    (14, [3, 6], {"highway": "motorway"}),
]


@pytest.fixture
def town(tmp_path):
    return write_osm(tmp_path / "town.osm", TOWN_NODES, TOWN_WAYS)


def test_walk_network_of_the_town(town):
    raw, digest = read_osm(town)
    assert len(digest) == 64
    net = street_network_from_raw(raw, "walk")
    assert net.n_nodes == 6
    assert net.n_edges == 2 * 5  # 5 walkable segments, both directions, no motorway
    seg = haversine_m(0.0, 0.0, DX, 0.0)[()]
    assert seg == pytest.approx(6_371_009 * np.radians(DX), rel=1e-9)  # 111.195 m on osmnx's sphere
    length, time = lengths_between(net, 1, 2)
    assert length.tolist() == [pytest.approx(seg)]
    assert time.tolist() == [pytest.approx(seg / 1.33)]
    # walking 1 -> 6 goes 1-2-4-5-6 (the oneway does not bind pedestrians)
    path = net.path(1, 6)
    assert path["node_osm_id"].tolist() == [1, 2, 4, 5, 6]
    assert path["walk_m"].iloc[-1] == pytest.approx(4 * seg, rel=1e-6)
    assert path["way_id"].iloc[1:].tolist() == [10, 11, 12, 13]
    assert path["way_id"].isna().iloc[0]
    assert not net.notices


def test_drive_network_of_the_town(town):
    # drivable: 2 -> 4 (oneway), 4 <-> 5, 3 -> 6 (motorway, implied oneway); strongly
    # connected components {4, 5}, {2}, {3}, {6}: only 4 <-> 5 is kept
    raw, _ = read_osm(town)
    net = street_network_from_raw(raw, "drive")
    assert sorted(net.node_osm_id.tolist()) == [4, 5]
    assert net.n_edges == 2
    assert net.meta["components_dropped"] == 3
    assert net.meta["nodes_dropped"] == 3 and net.meta["edges_dropped"] == 2
    assert net.notices.count("osm_dropped_components") == 3
    assert net.notices.count("osm_unparsed_maxspeed") == 1


def test_drive_directions_and_speeds(tmp_path):
    # a loop 1 -> 2 -> 3 -> 1 of oneways, plus a two-way spur 3 - 4 with a garbage speed
    nodes = [(1, 0.0, 0.0), (2, DX, 0.0), (3, DX, DX), (4, 2 * DX, DX)]
    ways = [
        (1, [1, 2], {"highway": "primary", "oneway": "yes", "maxspeed": "50"}),
        (2, [3, 2], {"highway": "primary", "oneway": "-1", "maxspeed": "30 mph"}),
        (3, [3, 1], {"highway": "secondary", "junction": "roundabout"}),
        (4, [3, 4], {"highway": "residential", "maxspeed": "fast"}),
        (5, [4, 1], {"highway": "residential", "oneway": "reversible"}),
    ]
    raw, _ = read_osm(write_osm(tmp_path / "d.osm", nodes, ways))
    net = street_network_from_raw(raw, "drive")
    tails = net.node_osm_id[net.edge_tails()]
    heads = net.node_osm_id[net.indices]
    assert sorted(zip(tails.tolist(), heads.tolist(), strict=True)) == [(1, 2), (2, 3), (3, 1), (3, 4), (4, 3)]
    seg12 = haversine_m(0.0, 0.0, DX, 0.0)[()]
    _length, time = lengths_between(net, 1, 2)
    assert time[0] == pytest.approx(seg12 / (50 / 3.6))
    _, time = lengths_between(net, 2, 3)
    assert time[0] == pytest.approx(haversine_m(DX, 0.0, DX, DX)[()] / (30 * 1.609344 / 3.6))
    _, time = lengths_between(net, 3, 1)  # no maxspeed: the secondary default, 55 km/h
    assert time[0] == pytest.approx(haversine_m(DX, DX, 0, 0)[()] / (55 / 3.6))
    _, time = lengths_between(net, 3, 4)  # garbage: the residential default, 25 km/h
    assert time[0] == pytest.approx(haversine_m(DX, DX, 2 * DX, DX)[()] / (25 / 3.6))
    assert net.notices.count("osm_unparsed_maxspeed") == 1
    sample = next(n for n in net.notices if n.code == "osm_unparsed_maxspeed")
    assert sample.value == "fast"
    assert net.notices.count("osm_reversible_oneway") == 1


def test_clipped_way_is_split_at_missing_nodes(tmp_path):
    # way 1: 1-2-3-[99 missing]-4-5 ; way 2: 5-[98 missing]-[97 missing]-6
    nodes = [(1, 0.0, 0.0), (2, DX, 0.0), (3, 2 * DX, 0.0), (4, 4 * DX, 0.0), (5, 5 * DX, 0.0), (6, 7 * DX, 0.0)]
    ways = [(1, [1, 2, 3, 99, 4, 5], {"highway": "footway"}), (2, [5, 98, 97, 6], {"highway": "path"}),
            (3, [1, 2], {"highway": "footway"})]
    raw, _ = read_osm(write_osm(tmp_path / "c.osm", nodes, ways))
    notices = Notices()
    edges = street_edges(raw, "walk", walk_speed_mps=1.33, notices=notices)
    pairs = sorted(zip(edges.u.tolist(), edges.v.tolist(), strict=True))
    assert pairs == sorted([(1, 2), (2, 1), (2, 3), (3, 2), (4, 5), (5, 4), (1, 2), (2, 1)])
    assert edges.ways_cut == 2 and edges.missing_refs == 3
    n = next(iter(notices))
    assert n.code == "osm_missing_node_refs" and notices.count("osm_missing_node_refs") == 2
    assert "1, 2" in n.value  # sample way ids
    net = street_network_from_raw(raw, "walk", notices=notices)
    assert sorted(net.node_osm_id.tolist()) == [1, 2, 3]  # the larger piece; 4-5 dropped
    assert net.meta["parallel_edges_merged"] == 2  # way 3 doubles 1-2
    assert net.meta["components_dropped"] == 1  # {4, 5}; node 6 has no edge left at all
    assert notices.count("osm_dropped_components") == 1


def test_invalid_and_duplicate_nodes(tmp_path):
    text = (
        "<?xml version='1.0'?>\n<osm version='0.6'>\n"
        "<node id='1' lat='0' lon='0'/><node id='2' lat='0' lon='0.001'/>"
        "<node id='3' lat='91' lon='0.002'/><node id='4' lat='0' lon='abc'/><node id='5' lat='0'/>"
        "<node id='2' lat='5' lon='5'/><node id='6' lat='0' lon='0.003'/><node id='7' lat='0' lon='0.004'/>"
        "<way id='9'><nd ref='1'/><nd ref='2'/><nd ref='3'/><nd ref='6'/><nd ref='7'/>"
        "<tag k='highway' v='footway'/></way></osm>\n"
    )
    p = tmp_path / "bad_nodes.osm"
    p.write_text(text)
    notices = Notices()
    raw, _ = read_osm(p, notices=notices)
    assert notices.count("osm_invalid_node_location") == 3
    assert notices.count("osm_duplicate_id") == 1
    i = raw.refs.tolist().index(2)
    assert (raw.lon[i], raw.lat[i]) == (0.001, 0.0)  # the first node 2 is kept
    assert np.isnan(raw.lon[raw.refs.tolist().index(3)])  # lat 91: dropped, way split there


def test_consecutive_duplicates_and_lollipop(tmp_path):
    nodes = [(k, k * DX, 0.0 if k < 4 else DX) for k in range(1, 5)]
    ways = [(1, [1, 1, 2, 2, 3], {"highway": "footway"}), (2, [1, 2, 3, 4, 2], {"highway": "path"})]
    raw, _ = read_osm(write_osm(tmp_path / "l.osm", nodes, ways))
    edges = street_edges(raw, "walk", walk_speed_mps=1.33, notices=Notices())
    assert (edges.u != edges.v).all()  # no zero-length self loops from repeated refs
    assert len(edges) == 2 * (2 + 4)


def test_pbf_and_xml_give_the_same_data(tmp_path):
    xml = pbf_to_xml(HELSINKI, tmp_path / "helsinki.osm")
    a, _ = read_osm(HELSINKI, count_all=True)
    b, _ = read_osm(xml)
    np.testing.assert_array_equal(a.way_id, b.way_id)
    np.testing.assert_array_equal(a.refs, b.refs)
    np.testing.assert_allclose(a.lon, b.lon, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(a.lat, b.lat, atol=1e-7, equal_nan=True)
    assert a.way_tags == b.way_tags
    assert a.counts == b.counts
    key = lambda s: (s["osm_type"], s["osm_id"])  # noqa: E731
    assert sorted(map(key, a.stations)) == sorted(map(key, b.stations))
    na = street_network_from_raw(a, "walk")
    nb = street_network_from_raw(b, "walk")
    np.testing.assert_array_equal(na.node_osm_id, nb.node_osm_id)
    np.testing.assert_array_equal(na.indices, nb.indices)
    np.testing.assert_allclose(na.length_m, nb.length_m, rtol=1e-9)


def test_compressed_xml(tmp_path):
    import bz2
    import gzip

    from tests.test_osm_helpers import osm_xml

    text = osm_xml(TOWN_NODES, TOWN_WAYS).encode()
    (tmp_path / "t.osm.gz").write_bytes(gzip.compress(text))
    (tmp_path / "t.osm.bz2").write_bytes(bz2.compress(text))
    for name in ("t.osm.gz", "t.osm.bz2"):
        raw, _ = read_osm(tmp_path / name)
        assert raw.way_id.tolist() == [10, 11, 12, 13, 14]


def test_osm_info_on_harbin():
    info = osm_info(HARBIN)
    assert info["format"] == "pbf"
    assert (info["nodes"], info["ways"], info["relations"]) == (226_042, 34_996, 394)
    assert info["header_bbox"] == [126.5061299, 45.6579199, 126.7718619, 45.830905]
    assert info["highways"]["footway"] == 1797
    assert info["railways"] == {"rail": 1594, "subway": 81, "tram": 1}
    assert info["clipped_highways"] == 244
    assert info["stations"]["station"] > 50
    assert info["sha256"].startswith("33c5db708836732e")  # as recorded in tests/data/PROVENANCE.md


def test_walkable_ways_cut_in_harbin_match_the_issue():
    """The issue states 231 walkable ways of central Harbin reference nodes outside the file."""
    raw, _ = read_osm(HARBIN)
    notices = Notices()
    edges = street_edges(raw, "walk", walk_speed_mps=1.33, notices=notices)
    assert edges.ways_cut == 231
    assert notices.count("osm_missing_node_refs") == 231


def test_rail_layer_of_harbin():
    rail = rail_layer(HARBIN)
    lines, st = rail.lines, rail.stations
    assert set(lines["railway"]) == {"rail", "subway", "tram"}
    assert lines.crs.to_epsg() == 4326
    assert (lines["length_m"] > 0).all()
    assert lines["clipped"].any() and not lines["clipped"].all()
    main = st[(st["kind"] == "station") & (st["name"] == "哈尔滨")]
    assert len(main) == 1
    row = main.iloc[0]
    assert row["name_en"] == "Harbin" and row["name_zh"] == "哈尔滨"
    assert row["lat"] == pytest.approx(45.760, abs=0.01) and row["lon"] == pytest.approx(126.625, abs=0.01)
    assert {"Harbin West", "Harbin East"} <= set(st["name_en"].dropna())
    assert (st["kind"] == "subway_entrance").sum() > 50
    assert set(st["kind"]) <= {"station", "halt", "stop_position", "tram_stop", "subway_entrance"}
    assert rail.summary()["lines"]["subway"] == 81


def test_rail_layer_of_inline_file(tmp_path):
    nodes = [(1, 0.0, 0.0), (2, DX, 0.0), (3, 2 * DX, 0.0),
             (4, DX, DX, {"railway": "station", "name": "Central", "name:en": "Central", "name:zh": "中央",
                          "station": "subway"}),
             (5, DX, 0.0001, {"public_transport": "stop_position", "bus": "yes", "name": "Bus stop"})]
    ways = [(1, [1, 2, 99, 3], {"railway": "subway", "name": "Line 1"}), (2, [1, 3], {"railway": "abandoned"})]
    raw, _ = read_osm(write_osm(tmp_path / "r.osm", nodes, ways))
    rail = rail_from_raw(raw)
    assert rail.lines["osm_id"].tolist() == [1]
    line = rail.lines.iloc[0]
    assert line["clipped"] and line["geometry"].geom_type == "LineString"  # 3 alone is not a piece
    assert line["length_m"] == pytest.approx(haversine_m(0, 0, DX, 0)[()])
    assert rail.stations["name"].tolist() == ["Central"]
    assert rail.stations.iloc[0]["station"] == "subway"


def test_config_limits_are_validated():
    from planner.errors import ConfigError

    with pytest.raises(ConfigError):
        Config(walk_speed_mps=0)
    with pytest.raises(ConfigError):
        Config(snap_max_m=-1)
