"""Golden tables for the walk/drive filters, oneway rules and maxspeed parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.ingest.osm._filters import (
    DEFAULT_SPEED_KMH,
    DRIVE_HIGHWAYS,
    drive_direction,
    drive_way,
    parse_maxspeed,
    station_kind,
    walk_way,
)

MPH = 1.609344

# (tags, walkable)
WALK_CASES = [
    ({"highway": "footway"}, True),
    ({"highway": "steps"}, True),
    ({"highway": "pedestrian"}, True),
    ({"highway": "pedestrian", "area": "yes"}, True),  # pedestrian area: walk its outline
    ({"highway": "footway", "area": "yes"}, True),
    ({"highway": "service", "area": "yes"}, False),
    ({"highway": "residential"}, True),
    ({"highway": "trunk"}, True),
    ({"highway": "motorway"}, False),
    ({"highway": "motorway_link"}, False),
    ({"highway": "cycleway"}, False),
    ({"highway": "cycleway", "foot": "designated"}, True),
    ({"highway": "construction"}, False),
    ({"highway": "proposed"}, False),
    ({"highway": "platform"}, False),
    ({"highway": "footway", "foot": "no"}, False),
    ({"highway": "residential", "foot": "use_sidepath"}, False),
    ({"highway": "footway", "access": "private"}, False),
    ({"highway": "footway", "access": "private", "foot": "yes"}, True),
    ({"highway": "footway", "access": "no"}, False),
    ({"highway": "footway", "access": "no", "foot": "permissive"}, True),
    ({"highway": "service", "service": "private"}, False),
    ({"highway": "primary", "sidewalk": "separate"}, False),
    ({"highway": "primary", "sidewalk:left": "separate"}, False),
    ({"highway": "primary", "sidewalk": "both"}, True),
    ({"railway": "rail"}, False),
    ({}, False),
]


@pytest.mark.parametrize(("tags", "expected"), WALK_CASES)
def test_walk_filter(tags, expected):
    assert walk_way(tags) is expected


DRIVE_CASES = [
    ({"highway": "primary"}, True),
    ({"highway": "residential"}, True),
    ({"highway": "living_street"}, True),
    ({"highway": "motorway_link"}, True),
    ({"highway": "service"}, False),
    ({"highway": "footway"}, False),
    ({"highway": "track"}, False),
    ({"highway": "busway"}, False),
    ({"highway": "trail"}, False),
    ({"highway": "primary", "area": "yes"}, False),
    ({"highway": "residential", "access": "private"}, False),
    ({"highway": "residential", "access": "destination"}, True),
    ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, True),
    ({"highway": "residential", "motor_vehicle": "no"}, False),
    ({"highway": "residential", "motorcar": "no", "motor_vehicle": "yes"}, False),
    ({"highway": "residential", "vehicle": "no"}, False),
    ({"highway": "tertiary", "access": "psv"}, False),
    ({"highway": "residential", "service": "driveway"}, False),
]


@pytest.mark.parametrize(("tags", "expected"), DRIVE_CASES)
def test_drive_filter(tags, expected):
    assert drive_way(tags) is expected


# reliability anchors §5 row 2 / D12: each oneway value on a 2-node way
ONEWAY_CASES = [
    ({}, (True, True, "")),
    ({"oneway": "yes"}, (True, False, "")),
    ({"oneway": "true"}, (True, False, "")),
    ({"oneway": "1"}, (True, False, "")),
    ({"oneway": "-1"}, (False, True, "")),
    ({"oneway": "reverse"}, (False, True, "")),
    ({"oneway": "T"}, (False, True, "")),
    ({"oneway": "F"}, (True, False, "")),
    ({"oneway": "no"}, (True, True, "")),
    ({"oneway": "false"}, (True, True, "")),
    ({"oneway": "0"}, (True, True, "")),
    ({"oneway": "YES"}, (True, False, "")),
    ({"oneway": "reversible"}, (False, False, "reversible_oneway")),
    ({"oneway": "alternating"}, (False, False, "reversible_oneway")),
    ({"oneway": "yes;no"}, (True, True, "unknown_oneway")),
    ({"oneway": "perhaps"}, (True, True, "unknown_oneway")),
    ({"junction": "roundabout"}, (True, False, "")),
    ({"junction": "circular"}, (True, False, "")),
    ({"junction": "roundabout", "oneway": "no"}, (True, True, "")),
    ({"highway": "motorway"}, (True, False, "")),
    ({"highway": "motorway", "oneway": "no"}, (True, True, "")),
]


@pytest.mark.parametrize(("tags", "expected"), ONEWAY_CASES)
def test_oneway_table(tags, expected):
    assert drive_direction({"highway": "residential", **tags}) == expected


# D13: maxspeed values -> km/h
MAXSPEED_CASES = [
    ("50", 50.0, "ok"),
    ("50 km/h", 50.0, "ok"),
    ("50kmh", 50.0, "ok"),
    ("60 kph", 60.0, "ok"),
    ("30 mph", 30 * MPH, "ok"),
    ("30mph", 30 * MPH, "ok"),
    ("10 knots", 18.52, "ok"),
    ("50,5", 50.5, "ok"),
    ("50.5", 50.5, "ok"),
    ("50;70", 50.0, "ok"),
    ("60|40", 60.0, "ok"),
    ("RU:urban", 60.0, "ok"),
    ("RU:rural", 90.0, "ok"),
    ("DE:urban", 50.0, "ok"),
    ("DE:zone30", 30.0, "ok"),
    ("DE:zone:20", 20.0, "ok"),
    ("FR:zone30", 30.0, "ok"),
    ("GB:nsl_single", 60 * MPH, "ok"),
    ("walk", 6.0, "ok"),
    ("none", None, "no_number"),
    ("signals", None, "no_number"),
    ("variable", None, "no_number"),
    ("fast", None, "unparsed"),
    ("XX:urban", None, "unparsed"),
    ("", None, "absent"),
    (None, None, "absent"),
    ("3", None, "implausible"),
    ("500", None, "implausible"),
    ("1e3", None, "unparsed"),
]


@pytest.mark.parametrize(("value", "kmh", "status"), MAXSPEED_CASES)
def test_maxspeed_table(value, kmh, status):
    got, got_status = parse_maxspeed(value)
    assert got_status == status
    if kmh is None:
        assert got is None
    else:
        assert got == pytest.approx(kmh)


def test_every_drive_class_has_a_default_speed():
    assert set(DRIVE_HIGHWAYS) <= set(DEFAULT_SPEED_KMH)


STATION_CASES = [
    ({"railway": "station", "name": "Harbin"}, "station"),
    ({"railway": "halt"}, "halt"),
    ({"railway": "tram_stop"}, "tram_stop"),
    ({"railway": "subway_entrance"}, "subway_entrance"),
    ({"railway": "stop", "public_transport": "stop_position"}, "stop_position"),
    ({"public_transport": "stop_position", "subway": "yes"}, "stop_position"),
    ({"public_transport": "stop_position", "bus": "yes"}, None),
    ({"public_transport": "station", "station": "subway"}, "station"),
    ({"public_transport": "station", "amenity": "bus_station"}, None),
    ({"railway": "switch"}, None),
    ({"highway": "bus_stop"}, None),
]


@pytest.mark.parametrize(("tags", "kind"), STATION_CASES)
def test_station_kinds(tags, kind):
    assert station_kind(tags) == kind


tag_values = st.one_of(st.text(max_size=12), st.sampled_from(["yes", "no", "-1", "private", "area", "none"]))
tag_dicts = st.dictionaries(
    st.sampled_from(["highway", "oneway", "foot", "access", "area", "junction", "motorcar", "service",
                     "sidewalk", "railway", "public_transport", "station", "subway", "motor_vehicle"]),
    tag_values, max_size=6)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(tag_dicts)
def test_rules_are_total_functions(tags):
    assert isinstance(walk_way(tags), bool)
    assert isinstance(drive_way(tags), bool)
    _fwd, _bwd, problem = drive_direction(tags)
    assert problem in {"", "unknown_oneway", "reversible_oneway"}
    assert station_kind(tags) in {None, "station", "halt", "tram_stop", "subway_entrance", "stop_position"}


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(max_size=20))
def test_maxspeed_parser_is_total(text):
    kmh, status = parse_maxspeed(text)
    assert status in {"ok", "absent", "no_number", "unparsed", "implausible"}
    if status == "ok":
        assert 5.0 <= kmh <= 150.0
    else:
        assert kmh is None
