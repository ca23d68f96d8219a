"""Which OSM ways a walker or a driver may use, in which direction, and how fast.

Every rule is a small explicit table; the functions are total (no string makes them
raise) and pure (no notices are recorded here: the builder counts what they report).

Walk (``walk_way``): osmnx's ``walk`` filter (``osmnx._overpass._get_network_filter``) with
four deliberate differences, each checked on real extracts by the test suite:

1. pedestrian areas (``highway=pedestrian`` or ``footway`` with ``area=yes``) are kept:
   their outline is walkable (osmnx drops every ``area=yes``);
2. access is resolved the OSM way: ``foot=*`` overrides ``access=*``, so
   ``access=private`` + ``foot=yes`` is walkable and ``access=no`` without a ``foot`` tag
   is not (osmnx only drops ``access`` values containing "private");
3. ``highway=cycleway`` with ``foot=yes|designated|permissive`` is walkable;
   ``foot=use_sidepath`` is not;
4. highway values are matched exactly, not as Overpass substrings (osmnx's ``"no"``
   pattern also drops e.g. ``highway=unknown``).

Drive (``drive_way``): an allow-list of road classes (osmnx uses a block-list, so it keeps
odd values such as ``highway=trail`` or ``crossing``), no ``area=yes``, motor access
resolved ``motorcar`` > ``motor_vehicle`` > ``vehicle`` > ``access``, and osmnx's
``service`` exclusions.

Oneway (``drive_direction``): ``yes/true/1`` forward, ``-1/reverse`` backward,
``no/false/0`` both ways, ``T``/``F`` as osmnx reads Geofabrik shapefiles (``T`` backward,
``F`` forward); untagged roundabouts (``junction=roundabout|circular``) and motorways are
oneway forward (implied by OSM); ``reversible``/``alternating`` are not routable;
anything else is two-way and reported. Walk networks are always two-way.

Speeds (``parse_maxspeed``): km/h, mph, knots, decimal commas, ``;``/``|`` lists (first
value), implicit zone codes (``RU:urban``, ``DE:zone30``, ``GB:nsl_single``), ``walk``;
anything unparseable or outside ``[MIN_SPEED_KMH, MAX_SPEED_KMH]`` gives ``None`` and the
builder falls back to :data:`DEFAULT_SPEED_KMH` by road class.

Walkable areas (``walk_area_kind``, issue 19): the polygons a walker may cross in any
direction, linked into the walk network by :mod:`planner.ingest.osm._areas`:

* ``pedestrian``: ``highway=pedestrian|footway|corridor`` with ``area=yes`` (and any
  ``type=multipolygon`` relation with those tags: a relation is an area by definition), and
  ``area:highway=pedestrian|footway|corridor|path|platform``;
* ``platform``: ``railway=platform`` or ``public_transport=platform`` drawn as a closed way
  (unless ``area=no``) or a multipolygon; drawn as an open line (``platform_line``) its
  length is walkable like a footway;
* ``station_hall``: ``building=train_station``, and a ``railway=station`` or
  ``public_transport=station`` outline that is also tagged ``building=*``. The rule: a
  station *building* is a hall open to the public (its concourse is walked through to the
  platforms); a station outline without ``building`` is the whole site (tracks, yards,
  depots), which nobody may cross, so it is not walkable;
* never when ``access``/``foot`` forbid walking (``no``, ``private``), nor ``indoor=*``
  rooms (the hall stands for them).

Levels (``way_level``): ``level`` (first value of a ``;`` list), else ``layer``, else
``-1`` for a tunnel, ``1`` for a bridge, else ``0``. A walkable area is only joined to way
ends inside it on its own level; ways of other levels cross it without a junction (a
tunnel under a square), and shared nodes, steps and elevators remain the only links
between levels, as in OSM itself.
"""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_SPEED_KMH",
    "DRIVE_HIGHWAYS",
    "FILTERS_VERSION",
    "IMPLICIT_MAXSPEED_KMH",
    "MAX_SPEED_KMH",
    "MIN_SPEED_KMH",
    "RAIL_LINE_VALUES",
    "drive_direction",
    "drive_way",
    "parse_maxspeed",
    "station_kind",
    "walk_area_kind",
    "walk_way",
    "way_level",
]

#: bump whenever a rule or table below changes what a built network contains
#: (2: walkable areas, platforms and station halls, issue 19)
FILTERS_VERSION = 2

# ---------------------------------------------------------------------------- walk

#: highway values never walkable (osmnx's walk exclusions, matched exactly)
WALK_EXCLUDED_HIGHWAYS = frozenset({
    "abandoned", "bus_guideway", "construction", "cycleway", "motorway", "motorway_link",
    "no", "planned", "platform", "proposed", "raceway", "razed", "rest_area", "services",
    "disused", "busway",
})
#: area=yes is dropped except on these classes (pedestrian areas: walk the outline)
WALK_AREA_HIGHWAYS = frozenset({"pedestrian", "footway"})
_NO_ACCESS = frozenset({"no", "private"})
_FOOT_OK = frozenset({"yes", "designated", "permissive", "official"})
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


def walk_way(tags: dict[str, str]) -> bool:
    """True when a way with these tags belongs to the walking network."""
    highway = tags.get("highway")
    if not highway:
        return False
    foot = tags.get("foot")
    if highway in WALK_EXCLUDED_HIGHWAYS:
        if not (highway == "cycleway" and foot in _FOOT_OK):
            return False
    if tags.get("area") == "yes" and highway not in WALK_AREA_HIGHWAYS:
        return False
    if foot is not None:
        if foot in _NO_ACCESS or foot == "use_sidepath":
            return False
    elif tags.get("access") in _NO_ACCESS:
        return False
    if tags.get("service") == "private":
        return False
    # the road's sidewalks are drawn as their own ways: walk those instead
    return all(tags.get(k) != "separate" for k in _SIDEWALK_KEYS)


# ---------------------------------------------------------------------------- walkable areas

#: highway values that are walkable areas when tagged ``area=yes`` (or a multipolygon)
AREA_HIGHWAYS = frozenset({"pedestrian", "footway", "corridor"})
#: ``area:highway`` values that are walkable
AREA_HIGHWAY_VALUES = frozenset({"pedestrian", "footway", "corridor", "path", "platform"})
AREA_KINDS = ("pedestrian", "platform", "station_hall")


def walk_area_kind(tags, *, closed: bool = True, relation: bool = False) -> str | None:
    """``pedestrian``, ``platform``, ``station_hall``, ``platform_line`` or None (module docstring).

    ``closed``: the way's first and last node are the same; ``relation``: a
    ``type=multipolygon`` relation (always an area).
    """
    if tags.get("foot") in _NO_ACCESS or (tags.get("foot") is None and tags.get("access") in _NO_ACCESS):
        return None
    if "indoor" in tags:
        return None
    as_area = relation or (closed and tags.get("area") != "no")
    if tags.get("area:highway") in AREA_HIGHWAY_VALUES and as_area:
        return "platform" if tags["area:highway"] == "platform" else "pedestrian"
    highway = tags.get("highway")
    if highway in AREA_HIGHWAYS and (relation or (closed and tags.get("area") == "yes")):
        return "pedestrian"
    if tags.get("railway") == "platform" or tags.get("public_transport") == "platform":
        if highway is not None and highway != "platform":
            return None  # a footway or road that is also a platform: walked as a way already
        return "platform" if as_area else "platform_line"
    if not as_area:
        return None
    if tags.get("building") == "train_station":
        return "station_hall"
    station = tags.get("railway") == "station" or tags.get("public_transport") == "station"
    if station and tags.get("building", "no") != "no":
        return "station_hall"
    return None


def way_level(tags) -> str:
    """The level a way or area lies on (module docstring), as text (``"0"``, ``"-1"``...)."""
    for key in ("level", "layer"):
        value = tags.get(key)
        if value is not None and str(value).strip():
            first = re.split(r"[;,]", str(value))[0].strip()
            try:
                return f"{float(first):g}"
            except ValueError:
                return first
    if tags.get("tunnel") not in (None, "no"):
        return "-1"
    if tags.get("bridge") not in (None, "no"):
        return "1"
    return "0"


# ---------------------------------------------------------------------------- drive

#: road classes a car may use (service roads, tracks and paths are not in the drive network)
DRIVE_HIGHWAYS = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "road",
})
_NO_MOTOR = frozenset({
    "no", "private", "agricultural", "forestry", "emergency", "psv", "bus", "delivery",
    "military", "official",
})
_DRIVE_SERVICE_EXCLUDED = frozenset({
    "alley", "driveway", "emergency_access", "parking", "parking_aisle", "private",
})


def drive_way(tags: dict[str, str]) -> bool:
    """True when a way with these tags belongs to the driving network (ignoring direction)."""
    if tags.get("highway") not in DRIVE_HIGHWAYS:
        return False
    if tags.get("area") == "yes":
        return False
    for key in ("motorcar", "motor_vehicle", "vehicle", "access"):
        value = tags.get(key)
        if value is not None:
            if value in _NO_MOTOR:
                return False
            break
    return tags.get("service") not in _DRIVE_SERVICE_EXCLUDED


#: oneway tag value -> (forward allowed, backward allowed)
ONEWAY_VALUES: dict[str, tuple[bool, bool]] = {
    "yes": (True, False), "true": (True, False), "1": (True, False), "F": (True, False),
    "-1": (False, True), "reverse": (False, True), "T": (False, True),
    "no": (True, True), "false": (True, True), "0": (True, True),
    "reversible": (False, False), "alternating": (False, False),
}
_IMPLIED_ONEWAY_JUNCTIONS = frozenset({"roundabout", "circular"})


def drive_direction(tags: dict[str, str]) -> tuple[bool, bool, str]:
    """``(forward, backward, problem)`` for a drivable way.

    ``problem`` is ``""``, ``"unknown_oneway"`` (value not in :data:`ONEWAY_VALUES`,
    treated as two-way) or ``"reversible_oneway"`` (direction changes by time of day:
    neither direction is routable).
    """
    value = tags.get("oneway")
    if value is None:
        if tags.get("junction") in _IMPLIED_ONEWAY_JUNCTIONS or tags.get("highway") == "motorway":
            return True, False, ""
        return True, True, ""
    value = value.strip()
    known = ONEWAY_VALUES.get(value) or ONEWAY_VALUES.get(value.lower())
    if known is None:
        return True, True, "unknown_oneway"
    fwd, bwd = known
    return fwd, bwd, ("reversible_oneway" if not (fwd or bwd) else "")


# ---------------------------------------------------------------------------- speeds

#: km/h by road class when a way has no usable maxspeed: the speed table of the OSRM car
#: profile (profiles/car.lua ``speeds.highway``; the same numbers appear in itinero's copy,
#: test/Itinero.Test.Functional/Tests/Profiles/car.shortest.lua). ``road`` takes the
#: unclassified speed.
DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 90.0, "motorway_link": 45.0, "trunk": 85.0, "trunk_link": 40.0,
    "primary": 65.0, "primary_link": 30.0, "secondary": 55.0, "secondary_link": 25.0,
    "tertiary": 40.0, "tertiary_link": 20.0, "unclassified": 25.0, "residential": 25.0,
    "living_street": 10.0, "service": 15.0, "road": 25.0,
}
#: speed for any class missing from the table
FALLBACK_SPEED_KMH = 25.0
#: parsed speeds outside this range are treated as garbage (km/h)
MIN_SPEED_KMH = 5.0
MAX_SPEED_KMH = 150.0

MPH = 1.609344
KNOT = 1.852

#: implicit limits (km/h) for the most common zone codes, after the OSM wiki pages
#: "Key:maxspeed" and "Default speed limits". ``XX:zone30`` / ``XX:zone:30`` style codes
#: are read from their number and need no entry; unknown codes are reported.
IMPLICIT_MAXSPEED_KMH: dict[str, float] = {
    "AT:urban": 50, "AT:rural": 100, "AT:trunk": 100, "AT:motorway": 130,
    "BE:urban": 50, "BE:rural": 70, "BE:motorway": 120, "BE:living_street": 20,
    "BY:urban": 60, "BY:rural": 90, "BY:motorway": 110, "BY:living_street": 20,
    "CH:urban": 50, "CH:rural": 80, "CH:trunk": 100, "CH:motorway": 120,
    "CN:urban": 50, "CN:rural": 70, "CN:motorway": 120, "CN:expressway": 100,
    "CZ:urban": 50, "CZ:rural": 90, "CZ:trunk": 110, "CZ:motorway": 130, "CZ:living_street": 20,
    "DE:urban": 50, "DE:rural": 100, "DE:living_street": 7, "DE:bicycle_road": 30,
    "DK:urban": 50, "DK:rural": 80, "DK:motorway": 130,
    "ES:urban": 50, "ES:rural": 90, "ES:motorway": 120, "ES:living_street": 20,
    "FI:urban": 50, "FI:rural": 80, "FI:trunk": 100, "FI:motorway": 120,
    "FR:urban": 50, "FR:rural": 80, "FR:trunk": 110, "FR:motorway": 130,
    "GB:nsl_single": 60 * MPH, "GB:nsl_dual": 70 * MPH, "GB:motorway": 70 * MPH,
    "GB:nsl_restricted": 30 * MPH,
    "HU:urban": 50, "HU:rural": 90, "HU:trunk": 110, "HU:motorway": 130,
    "IT:urban": 50, "IT:rural": 90, "IT:trunk": 110, "IT:motorway": 130,
    "JP:nsl": 60, "JP:express": 100,
    "KZ:urban": 60, "KZ:rural": 90, "KZ:motorway": 110,
    "NL:urban": 50, "NL:rural": 80, "NL:trunk": 100, "NL:motorway": 130,
    "NO:urban": 50, "NO:rural": 80, "NO:motorway": 110,
    "PL:urban": 50, "PL:rural": 90, "PL:expressway": 120, "PL:motorway": 140,
    "PT:urban": 50, "PT:rural": 90, "PT:trunk": 100, "PT:motorway": 120,
    "RO:urban": 50, "RO:rural": 90, "RO:trunk": 100, "RO:motorway": 130,
    "RU:urban": 60, "RU:rural": 90, "RU:motorway": 110, "RU:living_street": 20,
    "SE:urban": 50, "SE:rural": 70, "SE:motorway": 110,
    "SK:urban": 50, "SK:rural": 90, "SK:motorway": 130, "SK:living_street": 20,
    "UA:urban": 50, "UA:rural": 90, "UA:trunk": 110, "UA:motorway": 130, "UA:living_street": 20,
    "UK:nsl_single": 60 * MPH, "UK:nsl_dual": 70 * MPH, "UK:motorway": 70 * MPH,
}
#: values that are legitimate but carry no number: use the road-class default silently
NO_NUMBER_VALUES = frozenset({"none", "signals", "variable", "unknown", "implicit", "default"})
#: ``walk`` (walking pace on shared spaces), km/h
WALK_PACE_KMH = 6.0

_NUMBER = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|kmph|km/hr|mph|knots|knot|kn)?\s*$", re.IGNORECASE
)
_ZONE = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]+)?:(?:zone|Zone)?:?(\d+)$")


def _parse_one(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    if text in IMPLICIT_MAXSPEED_KMH:
        return float(IMPLICIT_MAXSPEED_KMH[text])
    if text.lower() == "walk":
        return WALK_PACE_KMH
    m = _NUMBER.match(text)
    if m:
        value = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "").lower()
        if unit == "mph":
            value *= MPH
        elif unit in {"knots", "knot", "kn"}:
            value *= KNOT
        return value
    m = _ZONE.match(text)
    if m:
        return float(m.group(1))
    return None


def parse_maxspeed(value: str | None) -> tuple[float | None, str]:
    """``(km/h or None, status)`` for a ``maxspeed`` tag value.

    ``status`` is ``"ok"``, ``"absent"`` (no value), ``"no_number"`` (``none``,
    ``signals``...: legitimate, use the class default), ``"unparsed"`` (garbage) or
    ``"implausible"`` (a number outside ``[MIN_SPEED_KMH, MAX_SPEED_KMH]``). Lists
    (``50;70``, ``60|40``) take their first parseable value.
    """
    if value is None:
        return None, "absent"
    text = str(value).strip()
    if not text:
        return None, "absent"
    parts = re.split(r"[;|]", text)
    for part in parts:
        kmh = _parse_one(part)
        if kmh is None:
            continue
        if not MIN_SPEED_KMH <= kmh <= MAX_SPEED_KMH:
            return None, "implausible"
        return kmh, "ok"
    if all(p.strip().lower() in NO_NUMBER_VALUES for p in parts):
        return None, "no_number"
    return None, "unparsed"


# ---------------------------------------------------------------------------- rail

#: ``railway`` values of the rail layer's lines
RAIL_LINE_VALUES = frozenset({"rail", "subway", "light_rail", "tram"})
_RAIL_MODE_KEYS = ("train", "subway", "light_rail", "tram", "monorail")
_RAIL_STATION_VALUES = frozenset({"subway", "light_rail", "train", "tram", "monorail", "rail"})


def station_kind(tags) -> str | None:
    """``station``, ``halt``, ``tram_stop``, ``stop_position``, ``subway_entrance`` or None.

    Bus stops and bus stations (``public_transport=*`` without a rail mode) are not
    stations of the rail layer.
    """
    railway = tags.get("railway")
    if railway in ("station", "halt", "tram_stop", "subway_entrance"):
        return railway
    if railway == "stop":
        return "stop_position"
    pt = tags.get("public_transport")
    if pt not in ("stop_position", "station"):
        return None
    rail_mode = any(tags.get(k) == "yes" for k in _RAIL_MODE_KEYS) or tags.get("station") in _RAIL_STATION_VALUES
    if not rail_mode:
        return None
    return "stop_position" if pt == "stop_position" else "station"
