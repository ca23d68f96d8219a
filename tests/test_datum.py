"""WGS84 <-> GCJ-02 <-> BD-09: round trips, independent published pairs, outside China, errors.

The station pairs below are copied from ../shared/data/northeast_china/station_coordinates_more.csv
(sources per row there): an OpenStreetMap station node (WGS84, as extracted into
github.com/JerryTheAlpaca/footpoint-atlas js/rail-route-data.js @13b20974, ODbL) and, for the same
station, the GCJ-02 address geocode of the heywhale 'cnstation' dataset
(github.com/listenzcc/China-rail-way-stations-data @fb1b1474) and the BD-09 Baidu geocode of
github.com/Raymond1030/China-High-speed-railway-Mapbox-Visualization @6a8ec386. The OSM values
are independent of the conversion formulas, so converting the geocodes must land near them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.common.datum import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_offset_m,
    gcj02_offset_suspect,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from planner.errors import InputError

# name: (OSM lon, lat), (cnstation GCJ-02 lon, lat), (Raymond1030 BD-09 lon, lat)
STATIONS = {
    "沈阳北": ((123.42943, 41.81733), (123.435889, 41.81941), (123.443103, 41.82422)),
    "长春西": ((125.19390, 43.87494), (125.199952, 43.877608), (125.207355, 43.882565)),
    "四平东": ((124.43290, 43.13584), (124.438689, 43.137636), (124.445293, 43.143874)),
    "公主岭南": ((124.80973, 43.47088), (124.815679, 43.473527), (124.8221, 43.479782)),
    "德惠西": ((125.67032, 44.54363), (125.677516, 44.545862), (125.682962, 44.551683)),
}


def dist_m(lon1, lat1, lon2, lat2):
    k = math.pi / 180 * 6371008.8
    return math.hypot((lon2 - lon1) * k * math.cos(math.radians(lat1)), (lat2 - lat1) * k)


def china_points(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(74.0, 134.0, n), rng.uniform(18.0, 53.0, n)


def test_round_trips_inside_china_below_1e6_degrees():
    lon, lat = china_points()
    for fwd, inv in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84),
                     (gcj02_to_bd09, bd09_to_gcj02)):
        x, y = fwd(lon, lat)
        assert np.abs(x - lon).max() > 1e-4          # something happened
        u, v = inv(x, y)
        assert np.abs(u - lon).max() < 1e-6
        assert np.abs(v - lat).max() < 1e-6
    for datum in ("gcj02", "bd09", "wgs84"):
        x, y = from_wgs84(lon, lat, datum)
        u, v = to_wgs84(x, y, datum)
        assert np.abs(u - lon).max() < 1e-6 and np.abs(v - lat).max() < 1e-6


def test_inverse_is_iterated_to_1e9_degrees():
    x, y = wgs84_to_gcj02(126.6254465, 45.7600422)
    u, v = gcj02_to_wgs84(x, y)
    assert abs(u - 126.6254465) < 1e-9 and abs(v - 45.7600422) < 1e-9


def test_gcj_offset_is_a_few_hundred_metres_in_the_northeast():
    lon = np.array([126.6254, 125.3177, 123.4294, 121.6025])    # Harbin, Changchun, Shenyang, Dalian stations
    lat = np.array([45.7600, 43.9094, 41.8173, 39.0159])
    off = gcj02_offset_m(lon, lat)
    assert ((off > 300) & (off < 700)).all(), off


@pytest.mark.parametrize("name", sorted(STATIONS))
def test_published_geocodes_convert_onto_the_osm_station(name):
    (olon, olat), (glon, glat), (blon, blat) = STATIONS[name]
    assert dist_m(olon, olat, glon, glat) > 400                  # raw GCJ-02 is off by the offset
    x, y = to_wgs84(glon, glat, "gcj02")
    assert dist_m(olon, olat, float(x), float(y)) < 200          # address geocode vs station node
    assert dist_m(olon, olat, blon, blat) > 900                  # raw BD-09 even further
    x, y = to_wgs84(blon, blat, "BD09")
    assert dist_m(olon, olat, float(x), float(y)) < 200


def test_conversions_match_the_facts_folder_values():
    # station_coordinates_more.csv: 长春站 cnstation GCJ-02 125.324188,43.911812 -> 43.909424,125.317683;
    # 沈阳南站 KermitCode BD-09 123.415045,41.672487 -> 41.664353,123.402295 (converted there by a
    # separate implementation of the same published formulas)
    x, y = gcj02_to_wgs84(125.324188, 43.911812)
    assert dist_m(float(x), float(y), 125.317683, 43.909424) < 0.5
    x, y = bd09_to_wgs84(123.415045, 41.672487)
    assert dist_m(float(x), float(y), 123.402295, 41.664353) < 0.5


def test_outside_china_points_are_unchanged():
    lon = np.array([24.9384, 2.3522, -74.006, 139.69, 126.6])
    lat = np.array([60.1699, 48.8566, 40.7128, 35.68, 60.0])     # Helsinki, Paris, NYC, Tokyo, north of China
    assert not in_china(lon, lat).any()
    for datum in ("gcj02", "bd09"):
        x, y = to_wgs84(lon, lat, datum)
        assert np.array_equal(x, lon) and np.array_equal(y, lat)
        x, y = from_wgs84(lon, lat, datum)
        assert np.array_equal(x, lon) and np.array_equal(y, lat)
    assert (gcj02_offset_m(lon, lat) == 0).all()


def test_nan_and_shapes():
    x, y = to_wgs84(np.array([np.nan, 126.6]), np.array([45.7, np.nan]), "gcj02")
    assert np.isnan(x[0]) and np.isnan(y[1])
    x, y = to_wgs84(126.6, 45.7, "gcj02")
    assert np.ndim(x) == 0 and isinstance(float(x), float)
    x, y = to_wgs84([[126.6, 125.3]], [[45.7, 43.9]], "bd09")
    assert x.shape == (1, 2)


@pytest.mark.parametrize("datum", ["WGS84", "gcj-02", "GCJ02", "bd-09", "Bd09", "epsg:4326"])
def test_datum_names_are_case_insensitive(datum):
    to_wgs84(126.6, 45.7, datum)


def test_bad_datum_is_an_input_error():
    with pytest.raises(InputError) as err:
        to_wgs84(126.6, 45.7, "baidu-mercator")
    assert err.value.code == "invalid_datum"
    assert "wgs84" in str(err.value)


def test_gcj_offset_suspect():
    osm = np.array([s[0] for s in STATIONS.values()])
    gcj = np.array([s[1] for s in STATIONS.values()])
    # the raw GCJ-02 geocodes sit at the offset from the OSM nodes
    assert gcj02_offset_suspect(gcj[:, 0], gcj[:, 1], osm[:, 0], osm[:, 1]).all()
    # the exact GCJ-02 image of the OSM node too
    x, y = wgs84_to_gcj02(osm[:, 0], osm[:, 1])
    assert gcj02_offset_suspect(x, y, osm[:, 0], osm[:, 1]).all()
    # converted points are not suspect; nor are points 500 m off in the opposite direction
    u, v = gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    assert not gcj02_offset_suspect(u, v, osm[:, 0], osm[:, 1]).any()
    assert not gcj02_offset_suspect(2 * osm[:, 0] - x, 2 * osm[:, 1] - y, osm[:, 0], osm[:, 1]).any()
    # outside China nothing is suspect; NaN is not suspect
    assert not gcj02_offset_suspect([24.95], [60.17], [24.94], [60.17]).any()
    assert not gcj02_offset_suspect([np.nan], [45.7], [126.6], [45.7]).any()
