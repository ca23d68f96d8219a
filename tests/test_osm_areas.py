"""Walkable areas in the walk network (issue 19): a hand-drawn map with distances computed by hand.

The map lies on the equator at 10 degrees east, drawn on a grid of u = 0.001 degree (111.195 m on osmnx's sphere of
radius 6,371,009 m; at latitudes below 0.005 degree a degree of longitude is as long as one of
latitude to 1e-9, so Pythagoras on the grid is the great-circle distance to well under a millimetre):

    y=4   24 ------------- 23 (N) ------------ 25          ring road (residential), way 204
           |                |                   |
    y=3    |   6 ---------- 5 (E3) --------- 4  |          square: multipolygon relation 900,
           |   |                             |  |          highway=pedestrian; outer ring way 100
    y=2    |   |      14 ------- 13          |  |          (untagged), hole: way 101 (building=yes)
    y=1.5  21-- 7 (E1)  | hole  |       (E2) 3 -- 22 ---- 39 hall (building=train_station), way 300;
    y=1    |   |      11 ------- 12          |        |   platforms ways 301, 302 (railway=platform)
    y=0.5  |   |  51-52           61         |        |   east of the hall, sharing its rim nodes
    y=0    |   1 --------------------------- 2
    y=-1   63 -------------------------------62            tunnel footway (layer=-1): 61-62-63-21

The square has three entrances (E1, E2, E3: rim nodes shared with streets), a hole, a path of its
own level ending inside it (51-52) and a tunnel of another level ending under it (61), which must
not be joined to it. Hand-computed walks (in u):

* E1 -> E2: the straight line crosses the hole; around its south corners 11, 12:
  sqrt(1.5^2 + 0.5^2) + 1 + sqrt(1.5^2 + 0.5^2) = 1 + 2 sqrt(2.5) = 4.16228 (without the area: 13 on
  the ring road);
* E1 -> E3 and E3 -> E2: 2.5 each (3-4-5 triangles clear of the hole);
* 52 -> E1: sqrt(2);
* W (21) -> platform corner 42 (10, 1): 1 (21-7) + 4.16228 (E1-E2) + 1 (3-22) + 1 (22-39) +
  sqrt(2^2 + 0.5^2) (across the hall, 39 -> 34) + 2 (along platform 301) = 11.22383.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.common.notices import Notices
from planner.config import Config
from planner.ingest.osm import read_osm, walkable_areas
from planner.ingest.osm._filters import walk_area_kind, way_level
from planner.network.streets import street_network_from_raw

#: one grid unit in metres on osmnx's sphere
U = 6_371_009.0 * math.pi / 180.0 / 1000.0

NODES = {  # id: (x, y) in grid units
    1: (0, 0), 2: (4, 0), 3: (4, 1.5), 4: (4, 3), 5: (2, 3), 6: (0, 3), 7: (0, 1.5),
    11: (1.5, 1), 12: (2.5, 1), 13: (2.5, 2), 14: (1.5, 2),
    21: (-1, 1.5), 22: (5, 1.5), 23: (2, 4), 24: (-1, 4), 25: (5, 4),
    31: (6, 0), 32: (8, 0), 33: (8, 0.5), 34: (8, 1), 35: (8, 2), 36: (8, 2.5), 37: (8, 3), 38: (6, 3),
    39: (6, 1.5), 41: (10, 0.5), 42: (10, 1), 43: (10, 2), 44: (10, 2.5),
    51: (0.5, 0.5), 52: (1, 0.5), 61: (3, 0.5), 62: (3, -1), 63: (-1, -1),
}
WAYS = {  # id: (nodes, tags)
    100: ([1, 2, 3, 4, 5, 6, 7, 1], {}),
    101: ([11, 12, 13, 14, 11], {"building": "yes"}),
    201: ([21, 7], {"highway": "footway"}),
    202: ([3, 22], {"highway": "residential"}),
    203: ([5, 23], {"highway": "footway"}),
    204: ([21, 24, 23, 25, 22], {"highway": "residential"}),
    205: ([22, 39], {"highway": "footway"}),
    206: ([51, 52], {"highway": "footway"}),
    207: ([61, 62, 63, 21], {"highway": "footway", "tunnel": "yes", "layer": "-1"}),
    300: ([31, 32, 33, 34, 35, 36, 37, 38, 39, 31], {"building": "train_station", "name": "Hall"}),
    301: ([33, 41, 42, 34, 33], {"railway": "platform", "public_transport": "platform"}),
    302: ([35, 43, 44, 36, 35], {"railway": "platform"}),
}
RELATIONS = {900: ([(100, "outer"), (101, "inner")], {"type": "multipolygon", "highway": "pedestrian"})}


#: the grid's origin: on the equator, 10 degrees east (a GTFS stop near (0, 0) is refused as
#: "coordinates missing", and the transfer tests put stops on this map)
LON0 = 10.0


def _lonlat(node: int) -> tuple[float, float]:
    x, y = NODES[node]
    return LON0 + x / 1000.0, y / 1000.0


def _write_xml(path):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="hand">']
    for n in sorted(NODES):
        lon, lat = _lonlat(n)
        lines.append(f'  <node id="{n}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for w, (refs, tags) in WAYS.items():
        lines.append(f'  <way id="{w}">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    for r, (members, tags) in RELATIONS.items():
        lines.append(f'  <relation id="{r}">')
        lines += [f'    <member type="way" ref="{m}" role="{role}"/>' for m, role in members]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </relation>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_pbf(path):
    import osmium  # the PBF writer of the reader's own library

    w = osmium.SimpleWriter(str(path))
    try:
        for n in sorted(NODES):
            w.add_node(osmium.osm.mutable.Node(id=n, location=_lonlat(n), tags={}))
        for wid, (refs, tags) in WAYS.items():
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
        for rid, (members, tags) in RELATIONS.items():
            w.add_relation(osmium.osm.mutable.Relation(id=rid, members=[("w", m, role) for m, role in members],
                                                       tags=tags))
    finally:
        w.close()
    return path


@pytest.fixture(scope="module", params=["xml", "pbf"])
def hand_net(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"areas_{request.param}")
    path = _write_xml(tmp / "hand.osm") if request.param == "xml" else _write_pbf(tmp / "hand.osm.pbf")
    raw, _ = read_osm(path)
    notices = Notices()
    return raw, street_network_from_raw(raw, "walk", config=Config(progress=False), notices=notices), notices


def _walk_m(net, a: int, b: int) -> float:
    p = net.path(a, b, weight="length")
    assert len(p), f"no path {a} -> {b}"
    return float(p["walk_m"].iloc[-1])


@pytest.mark.parametrize(("a", "b", "units"), [
    (7, 3, 1 + 2 * math.sqrt(2.5)),                      # E1 -> E2 around the hole
    (7, 5, 2.5), (5, 3, 2.5),                            # E1 -> E3, E3 -> E2
    (52, 7, math.sqrt(2)),                               # a path ending inside the square
    (21, 42, 1 + (1 + 2 * math.sqrt(2.5)) + 1 + 1 + math.sqrt(4.25) + 2),  # street -> hall -> platform
])
def test_walks_across_areas_equal_the_hand_computed_reference(hand_net, a, b, units):
    _raw, net, _notices = hand_net
    assert _walk_m(net, a, b) == pytest.approx(units * U, abs=1e-3)
    assert _walk_m(net, b, a) == pytest.approx(units * U, abs=1e-3)


def test_the_hole_blocks_and_other_levels_are_not_joined(hand_net):
    raw, net, _notices = hand_net
    # no edge crosses the hole: E1 and E2 are not joined directly
    i7, i3, i61, i62 = net.node_index([7, 3, 61, 62])
    assert i3 not in net.indices[net.indptr[i7]:net.indptr[i7 + 1]]
    # the tunnel's end under the square has only its own way
    assert set(net.indices[net.indptr[i61]:net.indptr[i61 + 1]].tolist()) == {int(i62)}
    rows = {r["ref"]: r for r in net.meta["walk_areas"]}
    assert rows["relation/900"]["kind"] == "pedestrian" and rows["relation/900"]["entrances"] == 3
    assert rows["relation/900"]["inside_ends"] == 2 and rows["relation/900"]["linked"]
    assert rows["way/300"]["kind"] == "station_hall" and rows["way/300"]["linked"]
    assert rows["way/301"]["kind"] == rows["way/302"]["kind"] == "platform"
    assert len(walkable_areas(raw)) == 4


def test_area_tags_and_levels():
    assert walk_area_kind({"highway": "pedestrian", "area": "yes"}) == "pedestrian"
    assert walk_area_kind({"highway": "pedestrian"}) is None             # a closed pedestrian street
    assert walk_area_kind({"highway": "pedestrian"}, relation=True) == "pedestrian"
    assert walk_area_kind({"area:highway": "footway"}) == "pedestrian"
    assert walk_area_kind({"railway": "platform"}, closed=False) == "platform_line"
    assert walk_area_kind({"railway": "platform", "area": "no"}) == "platform_line"
    assert walk_area_kind({"public_transport": "platform", "highway": "bus_stop"}) is None
    assert walk_area_kind({"building": "train_station"}) == "station_hall"
    assert walk_area_kind({"railway": "station", "building": "yes"}) == "station_hall"
    assert walk_area_kind({"railway": "station"}) is None                # the whole site: tracks, yards
    assert walk_area_kind({"building": "train_station", "access": "private"}) is None
    assert walk_area_kind({"highway": "pedestrian", "area": "yes", "indoor": "room"}) is None
    assert [way_level(t) for t in ({"level": "-1;0"}, {"layer": "2"}, {"tunnel": "yes"}, {"bridge": "yes"}, {})] \
        == ["-1", "2", "-1", "1", "0"]


def test_open_outline_is_reported_not_crossed(tmp_path):
    text = _write_xml(tmp_path / "hand.osm").read_text()
    broken = text.replace('<nd ref="7"/>\n    <nd ref="1"/>', '<nd ref="7"/>')  # outer ring left open
    p = tmp_path / "broken.osm"
    p.write_text(broken)
    raw, _ = read_osm(p)
    notices = Notices()
    net = street_network_from_raw(raw, "walk", notices=notices)
    assert "osm_area_unusable" in {r["code"] for r in notices.summary()}
    assert "relation/900" not in {r["ref"] for r in net.meta["walk_areas"]}
    assert np.isfinite(_walk_m(net, 7, 3))   # still connected by the ring road
    assert _walk_m(net, 7, 3) == pytest.approx(13 * U, abs=1e-3)


def test_osm_info_reports_areas_and_station_complexes(tmp_path):
    from click.testing import CliRunner

    from planner.cli.main import main
    from planner.ingest.osm.info import osm_info

    path = _write_pbf(tmp_path / "hand.osm.pbf")
    info = osm_info(path)
    # the square (relation 900), the hall (way 300, building=train_station) and its two platforms
    assert info["walkable_areas"] == {"pedestrian": {"found": 1, "linked": 1},
                                      "station_hall": {"found": 1, "linked": 1},
                                      "platform": {"found": 2, "linked": 2}}
    assert info["station_complexes"] == {"found": 1, "linked": 1, "platforms_in_complexes": 2}
    assert info["unlinked_station_halls"] == []
    # cut the hall's entrance footway (205): hall and platforms become an island
    text = _write_xml(tmp_path / "hand.osm").read_text().replace('<way id="205">', '<way id="205"><tag k="foot" v="no"/>')
    (tmp_path / "cut.osm").write_text(text)
    cut = osm_info(tmp_path / "cut.osm")
    assert cut["station_complexes"]["linked"] == 0
    assert [h["ref"] for h in cut["unlinked_station_halls"]] == ["way/300"]
    r = CliRunner().invoke(main, ["osm", "info", str(tmp_path / "cut.osm")])
    assert r.exit_code == 0, r.output
    assert "station hall 1 (0 linked)" in r.output and "way/300 Hall" in r.output and "check the map data" in r.output


def test_an_area_over_the_node_cap_still_joins_its_entrances(tmp_path):
    """A round square of 200 rim vertices (over MAX_AREA_NODES = 150), radius 2 u, with streets
    at the west and east vertices: only the entrances and 148 rim vertices get visibility edges,
    so the two entrances still see each other straight across (4 u), and the cap is reported."""
    from planner.ingest.osm import MAX_AREA_NODES

    n = 200
    nodes = {1000 + k: (2 * math.cos(2 * math.pi * k / n), 2 * math.sin(2 * math.pi * k / n)) for k in range(n)}
    nodes |= {1: (-3, 0), 2: (3, 0)}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    lines += [f'<node id="{k}" lat="{y / 1000:.9f}" lon="{LON0 + x / 1000:.9f}"/>' for k, (x, y) in nodes.items()]
    ring = [1000 + k for k in range(n)] + [1000]
    lines += ['<way id="1">', *[f'<nd ref="{r}"/>' for r in ring],
              '<tag k="highway" v="pedestrian"/><tag k="area" v="yes"/></way>']
    lines += ['<way id="2"><nd ref="1"/><nd ref="1100"/><tag k="highway" v="footway"/></way>',  # 1100: west vertex
              '<way id="3"><nd ref="1000"/><nd ref="2"/><tag k="highway" v="footway"/></way>', "</osm>"]
    p = tmp_path / "round.osm"
    p.write_text("\n".join(lines))
    raw, _ = read_osm(p)
    notices = Notices()
    net = street_network_from_raw(raw, "walk", notices=notices)
    assert n > MAX_AREA_NODES and "osm_area_nodes_capped" in {r["code"] for r in notices.summary()}
    assert net.meta["walk_areas"][0]["capped"] and net.meta["walk_areas"][0]["entrances"] == 2
    assert _walk_m(net, 1100, 1000) == pytest.approx(4 * U, abs=1e-3)
    assert _walk_m(net, 1, 2) == pytest.approx(6 * U, abs=1e-3)


def test_a_clipped_platform_line_is_reported_not_walked(tmp_path):
    """Found by the PBF fuzzer: a railway=platform line whose nodes are all missing from the
    extract used to fail the build (an empty outline); it is reported like any unusable area."""
    text = _write_xml(tmp_path / "hand.osm").read_text().replace(
        "</osm>", '<way id="400"><nd ref="77777"/><nd ref="77778"/><tag k="railway" v="platform"/></way>\n</osm>')
    p = tmp_path / "clipped.osm"
    p.write_text(text)
    raw, _ = read_osm(p)
    notices = Notices()
    net = street_network_from_raw(raw, "walk", notices=notices)
    assert "way/400" not in {r["ref"] for r in net.meta["walk_areas"]}
    assert any("way/400" in str(r.get("example", "")) for r in notices.summary() if r["code"] == "osm_area_unusable")
