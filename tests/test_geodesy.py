"""Straight-line distances on the sphere (planner.common.geodesy) and the legs built on them.

Checked against pyproj's geodesic on a sphere of the same radius, and on a network whose
stops span eight degrees of latitude (39-47 N, Dalian to Harbin): before issue 11 the
straight lines were measured in a projection around the stops' mean latitude, and the
accessibility prefilter skipped points that :meth:`Network.access` reaches.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from planner.common.geodesy import EARTH_RADIUS_M, arc_m, sphere_xyz
from planner.config import Config
from planner.network.build import build_network
from tests.conftest import write_feed

SPHERE = Geod(a=EARTH_RADIUS_M, b=EARTH_RADIUS_M)
CFG = Config(progress=False)


def test_arc_matches_pyproj_on_random_pairs():
    rng = np.random.default_rng(3)
    lat1, lat2 = rng.uniform(-80, 80, (2, 2000))
    lon1 = rng.uniform(-180, 180, 2000)
    # from a metre to a quarter of the globe, and some antipodes
    lon2 = lon1 + rng.choice([1e-5, 1e-3, 0.1, 5.0, 90.0], 2000) * rng.choice([-1, 1], 2000)
    lat2[:10], lon2[:10] = -lat1[:10], lon1[:10] + 180.0
    got = arc_m(sphere_xyz(lat1, lon1), sphere_xyz(lat2, lon2))
    _f, _b, want = SPHERE.inv(lon1, lat1, lon2, lat2)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-3)  # arcsin loses digits at antipodes


def test_chord_never_exceeds_the_arc():
    # what makes a k-d tree radius in metres a safe prefilter
    rng = np.random.default_rng(4)
    a = sphere_xyz(rng.uniform(-90, 90, 5000), rng.uniform(-180, 180, 5000))
    b = sphere_xyz(rng.uniform(-90, 90, 5000), rng.uniform(-180, 180, 5000))
    assert np.all(np.linalg.norm(a - b, axis=1) <= arc_m(a, b) + 1e-6)


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """Two stations eight degrees of latitude apart, one train between them; no streets."""
    feed = write_feed(tmp_path_factory.mktemp("wide") / "feed", {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nR,Rail,https://r.example,Asia/Shanghai\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nN,North,47.0,126.0\nS,South,39.0,121.6\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nG,R,G1,2\n",
        "trips.txt": "route_id,service_id,trip_id\nG,D,T1\n",
        "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                           "T1,08:00:00,08:00:00,N,1\nT1,12:00:00,12:00:00,S,2\n"),
        "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                         "D,1,1,1,1,1,1,1,20240101,20241231\n"),
    })
    return build_network([str(feed)], "2024-05-06", config=CFG, use_cache=False)


def _east_of(lon, lat, metres):
    lon2, lat2, _b = SPHERE.fwd(np.full(len(metres), lon), np.full(len(metres), lat), np.full(len(metres), 90.0),
                                metres)
    return lon2, lat2


@pytest.mark.parametrize("local", [False, True])
def test_access_legs_far_from_the_mean_latitude_equal_network_access(wide, local):
    from planner.network.places import access_legs as _access_legs

    cfg = wide.config
    reach = (cfg.local_access_max_s * cfg.local_access_speed_kmh / 3.6 if local
             else cfg.access_max_s * cfg.walk_speed_mps) / cfg.straight_line_detour
    metres = reach * np.linspace(0.9, 1.1, 41)
    for lon0, lat0 in [(126.0, 47.0), (121.6, 39.0)]:
        lon, lat = _east_of(lon0, lat0, metres)
        got = _access_legs(wide, lon, lat, local=local)
        reached = 0
        for a, b, m, mine in zip(lon, lat, metres, got, strict=True):
            ref = wide.access(a, b, local=local)
            np.testing.assert_array_equal(mine.stops, ref.stops)
            np.testing.assert_array_equal(mine.seconds, ref.seconds)
            reached += len(ref.stops) > 0
            # the leg is the great-circle distance times the detour factor
            if len(ref.stops) and m < reach * 0.999:
                speed = cfg.local_access_speed_kmh / 3.6 if local else cfg.walk_speed_mps
                assert -1e-6 < ref.seconds[0] - m * cfg.straight_line_detour / speed < 1.001  # ceil
        assert 15 <= reached <= 25  # about half the points are within reach


def test_direct_walk_is_great_circle_times_detour(wide):
    import pandas as pd

    from planner.network.places import direct_walk_seconds

    cfg = wide.config
    metres = np.array([100.0, 500.0, 1000.0, 1300.0])
    lon, lat = _east_of(126.0, 47.0, metres)
    # the origin at 47 N and destinations both there and at 39 N: no shared reference latitude
    slon, slat = _east_of(121.6, 39.0, metres)
    o = pd.DataFrame({"id": ["o"], "lon": [126.0], "lat": [47.0]})
    d = pd.DataFrame({"id": [f"d{i}" for i in range(8)], "lon": np.r_[lon, slon], "lat": np.r_[lat, slat]})
    got = direct_walk_seconds(wide, o, d)[0]
    want = np.ceil(metres * cfg.straight_line_detour / cfg.walk_speed_mps).astype(np.int64)
    np.testing.assert_array_equal(got[:4], want)
    assert np.all(got[4:] == -1)
