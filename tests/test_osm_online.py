"""Online OSM requests: the request cache (key, atomic JSON, validation, offline mode) and
the osmnx download path, with osmnx's HTTP layer replaced by local data (no network)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from planner.common.notices import Notices
from planner.config import Config
from planner.errors import OSMError
from planner.ingest.osm import OSMRequest, read_osm
from planner.ingest.osm import _online as online
from planner.network.streets import build_street_network, network_cache_key
from tests.test_osm_helpers import HELSINKI

HELSINKI_BBOX = (24.9352, 60.1642, 24.9534, 60.1791)


@pytest.fixture(scope="module")
def helsinki_elements():
    """The Helsinki extract as Overpass JSON elements (what a download would return)."""
    import osmium

    out = []
    for obj in osmium.FileProcessor(str(HELSINKI)):
        tags = dict(obj.tags)
        if obj.is_node():
            el = {"type": "node", "id": obj.id, "lat": obj.location.lat, "lon": obj.location.lon}
        elif obj.is_way():
            el = {"type": "way", "id": obj.id, "nodes": [n.ref for n in obj.nodes]}
        else:
            el = {"type": "relation", "id": obj.id,
                  "members": [{"type": {"n": "node", "w": "way", "r": "relation"}[m.type], "ref": m.ref, "role": m.role}
                              for m in obj.members]}
        if tags:
            el["tags"] = tags
        out.append(el)
    return out


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to reach Nominatim or Overpass fails the test."""
    import osmnx

    def boom(*a, **k):
        raise AssertionError("tried to download")

    monkeypatch.setattr(osmnx._overpass, "_overpass_request", boom)
    monkeypatch.setattr(osmnx, "geocode_to_gdf", boom)


@pytest.fixture
def fake_osm_servers(monkeypatch, helsinki_elements):
    """Nominatim and Overpass answered from the local Helsinki extract; records queries."""
    import geopandas as gpd
    import osmnx
    from shapely.geometry import box

    calls = {"queries": [], "geocode": []}

    def overpass(data):
        calls["queries"].append(data["data"])
        if "railway" in data["data"] and "station" in data["data"]:
            return {"elements": [e for e in helsinki_elements if e["type"] == "node" and "tags" in e]}
        return {"elements": helsinki_elements}

    def geocode(query, **kw):
        calls["geocode"].append(query)
        return gpd.GeoDataFrame(geometry=[box(*HELSINKI_BBOX)], crs="EPSG:4326")

    monkeypatch.setattr(osmnx._overpass, "_overpass_request", overpass)
    monkeypatch.setattr(osmnx, "geocode_to_gdf", geocode)
    return calls


# ---------------------------------------------------------------------- requests and keys


def test_request_normalisation_and_key(monkeypatch):
    a = OSMRequest(place="  Helsinki,   Finland ")
    b = OSMRequest(place="helsinki, finland")
    assert a.normalised() == b.normalised() == {"place": "helsinki, finland"}
    assert online.request_key(a) == online.request_key(b)
    c = OSMRequest(bbox=(24.93520001, 60.1642, 24.9534, 60.1791))
    d = OSMRequest(bbox=HELSINKI_BBOX)
    assert online.request_key(c) == online.request_key(d)  # below OSM's 1e-7 precision
    assert online.request_key(a) != online.request_key(d)
    key = online.request_key(d)
    monkeypatch.setattr(online, "__version__", "99.0")
    assert online.request_key(d) != key  # another planner version never reuses an entry
    monkeypatch.setattr(online, "REQUEST_SCHEMA", 2)
    assert len(online.request_key(d)) == 64


@pytest.mark.parametrize("kwargs", [
    {}, {"place": "x", "bbox": (0, 0, 1, 1)}, {"place": "   "}, {"bbox": (1, 0, 0, 1)},
    {"bbox": (0, 1, 1, 0)}, {"bbox": (0, 0, 200, 1)}, {"bbox": (0, 0, 1)}, {"bbox": ("a", 0, 1, 1)},
    {"bbox": (0, 0, float("nan"), 1)},
])
def test_invalid_requests(kwargs):
    with pytest.raises(OSMError) as err:
        OSMRequest(**kwargs)
    assert err.value.code == "invalid_osm_request"


# ---------------------------------------------------------------------- cache


def test_prepopulated_cache_works_offline(tmp_path, helsinki_elements, no_network):
    req = OSMRequest(bbox=HELSINKI_BBOX)
    path = online.save_response(tmp_path, req, helsinki_elements)
    assert path.parent.name == "requests" and path.name == online.request_key(req) + ".json"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    net = build_street_network(req, "walk", cache_dir=tmp_path, offline=True)
    ref = build_street_network(HELSINKI, "walk", cache_dir=tmp_path)
    np.testing.assert_array_equal(net.node_osm_id, ref.node_osm_id)
    np.testing.assert_array_equal(net.indptr, ref.indptr)
    np.testing.assert_array_equal(net.indices, ref.indices)
    np.testing.assert_allclose(net.length_m, ref.length_m, rtol=1e-12)
    again = build_street_network(req, "walk", cache_dir=tmp_path, offline=True)
    assert again.meta["from_cache"] is True


def test_cache_miss_offline(tmp_path, no_network):
    with pytest.raises(OSMError) as err:
        build_street_network(OSMRequest(place="Nowhere"), "walk", cache_dir=tmp_path, offline=True)
    assert err.value.code == "cache_miss_offline"
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("damage", ["truncate", "empty", "not_json", "pickle", "old_schema", "wrong_key",
                                    "bad_elements"])
def test_corrupt_cache_entries_are_misses(tmp_path, helsinki_elements, no_network, damage):
    req = OSMRequest(bbox=HELSINKI_BBOX)
    path = online.save_response(tmp_path, req, helsinki_elements[:50])
    text = path.read_text()
    doc = json.loads(text)
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "not_json":
        path.write_text("import os; os.system('echo pwned')")
    elif damage == "pickle":
        path.write_bytes(pickle.dumps({"schema_version": 1}))
    elif damage == "old_schema":
        path.write_text(json.dumps({**doc, "schema_version": 0}))
    elif damage == "wrong_key":
        path.write_text(json.dumps({**doc, "key": "0" * 64}))
    else:
        path.write_text(json.dumps({**doc, "elements": [{"type": "node"}, "x"]}))
    notices = Notices()
    got, where = online.load_cached_response(tmp_path, req, notices)
    assert got is None and where == path
    assert not path.exists()  # removed
    assert notices.count("cache_entry_corrupt") == 1
    with pytest.raises(OSMError) as err:
        read_osm(req, cache_dir=tmp_path, offline=True)
    assert err.value.code == "cache_miss_offline"


def test_bbox_without_roads(tmp_path, no_network):
    req = OSMRequest(bbox=(10.0, 50.0, 10.01, 50.01))
    elements = [{"type": "node", "id": 1, "lat": 50.001, "lon": 10.001},
                {"type": "node", "id": 2, "lat": 50.002, "lon": 10.002},
                {"type": "way", "id": 3, "nodes": [1, 2], "tags": {"railway": "rail"}}]
    online.save_response(tmp_path, req, elements)
    with pytest.raises(OSMError) as err:
        build_street_network(req, "walk", cache_dir=tmp_path, offline=True)
    assert err.value.code == "osm_empty_network"
    assert "bbox 10.00000,50.00000,10.01000,50.01000" in err.value.message
    assert not (tmp_path / "networks").exists() or not any((tmp_path / "networks").iterdir())


# ---------------------------------------------------------------------- download path


@pytest.mark.slow
def test_download_through_osmnx_then_offline(tmp_path, fake_osm_servers, monkeypatch):
    import osmnx

    before = (osmnx.settings.use_cache, osmnx.settings.requests_timeout, osmnx.settings.log_console)
    req = OSMRequest(place="Helsinki centre")
    net = build_street_network(req, "walk", cache_dir=tmp_path)
    assert fake_osm_servers["geocode"] == ["Helsinki centre"]
    queries = fake_osm_servers["queries"]
    assert any('way["highway"]' in q for q in queries)
    assert any("railway" in q and "subway|light_rail|tram" in q for q in queries)
    assert any("'railway'='station'" in q or '"railway"="station"' in q for q in queries)
    assert (osmnx.settings.use_cache, osmnx.settings.requests_timeout, osmnx.settings.log_console) == before
    ref = build_street_network(HELSINKI, "walk", use_cache=False)
    np.testing.assert_array_equal(net.node_osm_id, ref.node_osm_id)
    assert (tmp_path / "requests" / f"{online.request_key(req)}.json").is_file()
    # the same request later, without any network: served from the cache
    monkeypatch.setattr(osmnx._overpass, "_overpass_request", lambda d: pytest.fail("downloaded twice"))
    monkeypatch.setattr(osmnx, "geocode_to_gdf", lambda *a, **k: pytest.fail("geocoded twice"))
    raw, digest = read_osm(req, cache_dir=tmp_path, offline=True)
    assert len(digest) == 64 and raw.n_ways > 1000
    assert len(raw.stations) > 0


def test_overpass_remark_is_an_error_and_not_cached(tmp_path, monkeypatch):
    import osmnx

    monkeypatch.setattr(osmnx._overpass, "_overpass_request",
                        lambda d: {"elements": [], "remark": "runtime error: Query timed out"})
    with pytest.raises(OSMError) as err:
        read_osm(OSMRequest(bbox=HELSINKI_BBOX), cache_dir=tmp_path)
    assert err.value.code == "overpass_error" and "timed out" in err.value.message
    assert not (tmp_path / "requests").exists() or not any((tmp_path / "requests").iterdir())


def test_network_failure_is_a_clear_error_and_settings_are_restored(tmp_path, monkeypatch):
    import osmnx
    import requests

    def down(data):
        raise requests.ConnectionError("no route to host")

    monkeypatch.setattr(osmnx._overpass, "_overpass_request", down)
    before = osmnx.settings.use_cache
    with pytest.raises(OSMError) as err:
        read_osm(OSMRequest(bbox=HELSINKI_BBOX), cache_dir=tmp_path)
    assert err.value.code == "osm_download_failed"
    assert osmnx.settings.use_cache == before


def test_osmnx_settings_scope():
    import osmnx

    old = osmnx.settings.requests_timeout
    with pytest.raises(RuntimeError), online.osmnx_settings(requests_timeout=old + 1):
        assert osmnx.settings.requests_timeout == old + 1
        raise RuntimeError
    assert osmnx.settings.requests_timeout == old
    with pytest.raises(AttributeError), online.osmnx_settings(no_such_setting=1):
        pass


def test_network_key_depends_on_what_changes_the_network():
    d = "ab" * 32
    walk = network_cache_key(d, "walk")
    assert walk != network_cache_key(d, "walk", Config(walk_speed_mps=1.0))
    assert walk != network_cache_key("cd" * 32, "walk")
    assert walk != network_cache_key(d, "drive")
    assert network_cache_key(d, "drive") == network_cache_key(d, "drive", Config(walk_speed_mps=1.0))
    assert network_cache_key(d, "walk") == network_cache_key(d, "walk", Config(snap_max_m=10))
