"""Bad OSM input (reliability anchors §8 D and E): each is refused with a clear error code,
fast, and leaves nothing in the cache."""

from __future__ import annotations

import bz2
import gzip
import os
import time

import pytest

from planner.config import Config
from planner.errors import InputError, OSMError
from planner.ingest.osm import read_osm
from planner.network.streets import build_street_network
from tests.test_osm_helpers import HELSINKI, osm_xml, write_osm

PBF = HELSINKI.read_bytes()


def refused(path, code, tmp_path, *, config=None, seconds=5.0):
    """Build from ``path`` and check the error code, the time taken, an empty cache."""
    cache = tmp_path / "cache"
    t = time.perf_counter()
    with pytest.raises(OSMError) as err:
        build_street_network(path, "walk", cache_dir=cache, config=config)
    elapsed = time.perf_counter() - t
    assert err.value.code == code, str(err.value)
    assert isinstance(err.value, InputError) and err.value.exit_code == 2
    assert elapsed < seconds
    leftovers = [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []
    assert leftovers == []
    return err.value


# ---------------------------------------------------------------------- PBF (E)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99, 0.999])
def test_truncated_pbf(tmp_path, fraction):
    p = tmp_path / "cut.osm.pbf"
    p.write_bytes(PBF[: int(len(PBF) * fraction)])
    err = refused(p, "osm_pbf_corrupt", tmp_path)
    assert "cut.osm.pbf" in err.message and "EOF" in err.message


def test_bit_flip_inside_a_blob(tmp_path):
    data = bytearray(PBF)
    data[len(data) // 2] ^= 0xFF
    p = tmp_path / "flip.osm.pbf"
    p.write_bytes(bytes(data))
    refused(p, "osm_pbf_corrupt", tmp_path)


@pytest.mark.parametrize(("name", "content"), [
    ("empty.osm.pbf", b""),
    ("short.osm.pbf", b"\x00\x00"),
    ("random.osm.pbf", os.urandom(1 << 20)),
    # a Mapbox vector tile is a protobuf too (Tile.layers = field 3), usually gzipped
    ("tile.pbf", b"\x1a\x10\x0a\x05roads\x28\x02\x78\x80\x20" + b"\x00" * 40),
    ("tile_gz.pbf", gzip.compress(b"\x1a\x10\x0a\x05roads\x28\x02\x78\x80\x20")),
    ("huge_header.osm.pbf", b"\x00\x10\x00\x00" + b"\n\tOSMHeader" + b"\x00" * 100),
])
def test_not_an_osm_pbf(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content)
    refused(p, "not_osm_pbf", tmp_path)


def test_missing_and_unknown_files(tmp_path):
    refused(tmp_path / "nope.osm.pbf", "input_not_found", tmp_path)
    p = tmp_path / "data.bin"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    refused(p, "not_osm_file", tmp_path)


# ---------------------------------------------------------------------- XML (D)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE osm [
 <!ENTITY a0 "ha">
""" + "".join(f' <!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">\n' for i in range(1, 11)) + """]>
<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="name" v="&a10;"/></node></osm>
"""
QUADRATIC = ('<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY big "' + "x" * 100_000 + '">]>\n'
             '<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="name" v="' + "&big;" * 20_000
             + '"/></node></osm>\n')
XXE_FILE = ('<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
            '<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="name" v="&e;"/></node></osm>\n')
XXE_HTTP = ('<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY e SYSTEM "http://example.invalid/x">]>\n'
            '<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="name">&e;</tag></node></osm>\n')
DTD_ONLY = '<?xml version="1.0"?>\n<!DOCTYPE osm SYSTEM "osm.dtd">\n<osm version="0.6"></osm>\n'


@pytest.mark.parametrize(("name", "text"), [("laughs", BILLION_LAUGHS), ("quadratic", QUADRATIC),
                                            ("xxe_file", XXE_FILE), ("xxe_http", XXE_HTTP), ("dtd", DTD_ONLY)])
def test_xml_with_dtd_or_entities_is_refused_fast(tmp_path, name, text):
    p = tmp_path / f"{name}.osm"
    p.write_text(text)
    err = refused(p, "osm_xml_dtd_forbidden", tmp_path, seconds=1.0)
    assert "DTD" in err.message


def test_truncated_xml_names_line_and_column(tmp_path):
    text = osm_xml([(1, 0.0, 0.0), (2, 0.001, 0.0)], [(1, [1, 2], {"highway": "footway"})])
    p = tmp_path / "cut.osm"
    p.write_text(text[: len(text) - 30])
    err = refused(p, "osm_xml_parse_error", tmp_path)
    assert "line" in err.message and "column" in err.message


def test_invalid_utf8(tmp_path):
    text = osm_xml([(1, 0.0, 0.0, {"name": "XXXX"})]).encode()
    p = tmp_path / "bad_utf8.osm"
    p.write_bytes(text.replace(b"XXXX", b"\xff\xfe\xfa"))
    refused(p, "osm_xml_parse_error", tmp_path)


def test_graphml_and_geojson_passed_as_osm(tmp_path):
    g = tmp_path / "graph.osm"
    g.write_text('<?xml version="1.0"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph/></graphml>\n')
    refused(g, "not_osm_xml", tmp_path)
    j = tmp_path / "features.osm"
    j.write_text('{"type": "FeatureCollection", "features": []}')
    refused(j, "osm_xml_parse_error", tmp_path)


def test_compressed_xml_is_capped(tmp_path):
    body = osm_xml([(k, 0.0, 0.0) for k in range(1, 20_000)])
    (tmp_path / "big.osm.gz").write_bytes(gzip.compress(body.encode()))
    (tmp_path / "big.osm.bz2").write_bytes(bz2.compress(body.encode()))
    cfg = Config(osm_max_xml_bytes=100_000)
    for name in ("big.osm.gz", "big.osm.bz2"):
        refused(tmp_path / name, "decompressed_too_large", tmp_path, config=cfg)


def test_element_without_id(tmp_path):
    p = tmp_path / "noid.osm"
    p.write_text('<?xml version="1.0"?>\n<osm version="0.6"><node lat="0" lon="0"/></osm>\n')
    refused(p, "osm_xml_parse_error", tmp_path)


# ---------------------------------------------------------------------- empty extracts


def test_empty_extract(tmp_path):
    p = tmp_path / "empty.osm"
    p.write_text('<?xml version="1.0"?>\n<osm version="0.6"></osm>\n')
    err = refused(p, "osm_empty_network", tmp_path)
    assert "walk" in err.message


def test_extract_without_roads(tmp_path):
    nodes = [(1, 10.0, 50.0), (2, 10.01, 50.0), (3, 10.02, 50.0)]
    p = write_osm(tmp_path / "rails.osm", nodes, [(1, [1, 2, 3], {"railway": "rail"})],
                  bounds=(9.99, 49.99, 10.03, 50.01))
    err = refused(p, "osm_empty_network", tmp_path)
    assert "bbox 9.99000, 49.99000, 10.03000, 50.01000" in err.message


def test_walk_only_extract_has_no_drive_network(tmp_path):
    nodes = [(1, 10.0, 50.0), (2, 10.01, 50.0)]
    p = write_osm(tmp_path / "paths.osm", nodes, [(1, [1, 2], {"highway": "footway"})])
    with pytest.raises(OSMError) as err:
        build_street_network(p, "drive", cache_dir=tmp_path / "cache")
    assert err.value.code == "osm_empty_network"
    assert build_street_network(p, "walk", cache_dir=tmp_path / "cache").n_nodes == 2


def test_all_ways_clipped_away(tmp_path):
    # every way references only nodes outside the file
    p = write_osm(tmp_path / "outside.osm", [(1, 10.0, 50.0)], [(5, [7, 8, 9], {"highway": "residential"})])
    raw, _ = read_osm(p)
    assert raw.n_ways == 1
    refused(p, "osm_empty_network", tmp_path)


def test_xml_written_by_osmnx_is_flagged(tmp_path):
    text = osm_xml([(1, 0.0, 0.0), (2, 0.001, 0.0)], [(1, [1, 2], {"highway": "footway"})])
    p = tmp_path / "from_osmnx.osm"
    p.write_text(text.replace('generator="tests"', 'generator="OSMnx 2.1.1"'))
    net = build_street_network(p, "walk", use_cache=False)
    assert net.notices.count("osm_generated_by_osmnx") == 1


def test_unwritable_cache_is_a_warning_not_a_failure(tmp_path, monkeypatch):
    import planner.network.streets as streets
    from planner.errors import OutputError

    def full_disk(path, data):
        raise OutputError(f"cannot write {path}: No space left on device", code="output_unwritable")

    monkeypatch.setattr(streets, "write_bytes", full_disk)
    cache = tmp_path / "cache"
    net = build_street_network(HELSINKI, "walk", cache_dir=cache)
    assert net.n_nodes > 0 and net.notices.count("cache_write_failed") == 1
    assert "cache_path" not in net.meta
    assert not any(p.is_file() for p in cache.rglob("*"))
