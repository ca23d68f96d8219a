"""The explicit, frozen configuration of ``planner``.

The library never reads ``sys.argv``, environment variables or files on its own: every
function that needs a setting takes ``config: Config | None = None`` and ``None`` means
``Config()`` with the defaults below. The command line builds one :class:`Config` from its
flags (same names, dashes for underscores) and passes it down.

Change a field with :func:`dataclasses.replace`::

    >>> from dataclasses import replace
    >>> from planner.config import Config
    >>> replace(Config(), strict=True).strict
    True

Fields
------
Input limits (untrusted archives; see ``anchors/reliability.md`` §6.1)

``max_archive_bytes`` : int, default 2 GiB
    Largest GTFS zip accepted.
``max_archive_members`` : int, default 1000
    Most members a GTFS zip may hold.
``max_uncompressed_bytes`` : int, default 8 GiB
    Largest total declared uncompressed size of the members we read.
``max_member_bytes`` : int, default 4 GiB
    Largest single member (declared and counted while streaming).
``max_compression_ratio`` : float, default 200.0
    Largest declared uncompressed/compressed ratio for members over 1 MiB (real GTFS CSV
    compresses about 5-20:1).
``max_cell_chars`` : int, default 4096
    Longest CSV cell accepted (the canonical validator's limit); a longer cell drops its row.
``max_frequency_stop_times`` : int, default 10,000,000
    Most stop times that frequencies.txt may expand to (departures of each row times the
    stops of its trip). One row ``00:00:00,999:59:59,1`` means 3.6 million departures: a
    few bytes of input that would take gigabytes and minutes to build a timetable from, so
    a feed over the limit is unusable (``planner_too_many_frequency_trips``), naming the row.

GTFS policy

``strict`` : bool, default False
    Treat every ERROR notice as fatal (exit code 2), as a CI gate would.
``max_dropped_trip_share`` : float, default 0.05
    Loading fails when more than this share of a feed's trips had to be dropped for errors
    (lenient loading must not quietly lose a large part of a timetable).
``allow_subfolder`` : bool, default False
    Accept a zip whose GTFS files sit in one subfolder (a common packaging mistake),
    with a warning instead of a fatal error.
``encodings`` : tuple of (feed id, codec name) pairs, default ()
    Read every file of that feed with this text encoding instead of deciding per file
    (``--encoding FEED=NAME``; the feed id ``*`` means every feed). Without it each file is
    read as UTF-8 (with or without a BOM), UTF-16 by its BOM, or else a fallback guessed
    from its bytes (GB18030 or Windows-1252/Latin-1) and reported as
    ``planner_file_encoding`` (``planner.ingest.gtfs._encoding``). A dict
    ``{feed: codec}`` is accepted and stored as sorted pairs; unknown codecs are refused.
``consolidation_radius_m`` : float, default 250.0
    Stations of two feeds with the same normalised name within this distance are reported
    as consolidation candidates (never merged silently).
``consolidation_same_point_m`` : float, default 15.0
    Stations of two feeds closer than this are reported whatever their names.

Execution

``threads`` : int or None, default None
    Numba threads for parallel kernels; ``None`` keeps numba's default (all cores).
``progress`` : bool, default True
    Show progress bars on long work (the CLI's ``-q`` sets it False).

Street networks (``planner.network.streets``, ``planner.ingest.osm``)

``walk_speed_mps`` : float, default 1.33
    Walking speed on the street network, in metres per second (4.8 km/h). The default is
    OpenTripPlanner's ``walkSpeed`` (``RoutingRequest``: "1.33 m/s ~ 3mph, avg. human
    speed"). Must be positive. Drive speeds come from ``maxspeed`` tags and the per-class
    table ``planner.ingest.osm._filters.DEFAULT_SPEED_KMH`` (the OSRM car profile's speeds).
``snap_max_m`` : float, default 500.0
    Points farther than this (metres, straight line) from every node of a street network
    are reported as not snapped instead of being attached to a far-away node.
``osm_max_xml_bytes`` : int, default 4 GiB
    Most bytes read from an ``.osm`` XML file after decompression (``.osm.gz``,
    ``.osm.bz2``); a decompression bomb stops here with ``decompressed_too_large``.

Public transport routing (``planner.network.build``, ``planner.routing.raptor``)

``change_time_s`` : int, default 120
    Minimum time to change vehicles at the same stop where transfers.txt says nothing
    (seconds). An assumption: two minutes to leave one vehicle and board another.
``footpath_max_s`` : int, default 900
    Longest walk between two stops that counts as a transfer footpath (seconds; 15 min is
    about 1.2 km at 1.33 m/s, enough for the walks between stations planners ask about).
``access_max_s`` : int, default 1800
    Longest walk from an origin to a stop, or from a stop to a destination (seconds; an
    assumption: 30 minutes).
``straight_line_detour`` : float, default 1.3
    Where no street network is available, walking distance = straight-line distance times
    this factor (a common circuity value for walking in cities, stated as an assumption).
``max_rides`` : int, default 8
    Most vehicles in one journey (transfers + 1). r5r's default ``max_rides`` is 3, too
    few for intercity journeys with metro legs at both ends; 8 leaves room.
``max_trip_duration_s`` : int, default 259200
    Journeys longer than this count as unreachable. The default (72 h) is not a cap in
    practice: intercity and overnight journeys of many hours are kept.
``drive_access_max_s`` : int, default 3600
    Longest drive to a rail station for park-and-ride access (seconds).
``park_ride_penalty_s`` : int, default 600
    Time added to a park-and-ride access leg for parking and walking to the platform
    (seconds; an assumption).
``local_access_speed_kmh`` : float, default 20.0
    Door-to-door speed of urban access by taxi or bus, used by city-to-city evaluation
    where no model of a city's streets and local transit exists: straight-line distance times
    ``straight_line_detour`` at this speed (an assumption: urban traffic including waiting).
``local_access_max_s`` : int, default 5400
    Longest such urban access or egress leg (seconds; 90 minutes).
``local_rail_transfers`` : bool, default False
    Also link the rail stations of one city by that urban taxi/bus approximation, so that an
    intercity journey can change between two stations across town (Harbin station to
    Harbin West). Each such link is also chained with the footpaths at either end (a walk
    from a metro stop to one station, the cross-town leg, a walk from the other station to a
    metro stop), as one link. Off for urban analyses; ``plan evaluate`` and ``plan net``
    turn it on.

Intercity rail net (``planner.analyses.railnet.net``, ``plan net``; issue 9)

``net_cluster_km`` : float, default 20.0
    A rail station joins a city node when it lies within this straight-line distance of the
    city point (its ``city`` attribute names the city where the feed has one, else the
    nearest city point). 20 km keeps the main stations of the sample's cities (Shenyang
    South 14 km, Yingkou East 17 km) and leaves out county-town stations of a prefecture
    (Shangzhi South, 118 km from Harbin). An assumption; ``--cluster-km`` changes it.
``net_reference_speed_kmh`` : float, default 200.0
    Reference speed of the detour index (rail time / straight-line distance at this speed)
    and of the ideal net in the relative efficiency. 200 km/h: the lower bound of
    "high-speed" for upgraded lines (EU Directive 96/48/EC, Annex I); an assumption.
``net_horizon_h`` : float, default 36.0
    The timetable covers the departure window plus this many hours, so overnight journeys
    and next-morning connections are found (journeys longer than this are not).
``net_weak_detour_factor`` : float, default 1.5
    A city pair is a weak link when its detour index exceeds this multiple of the median
    detour index of the net (or when it needs two or more transfers).
``net_central_count`` : int, default 4
    Without an explicit list, the most populous cities counted as central cities (whose
    "radiation" the summary reports); 4 gives Harbin, Shenyang, Changchun and Dalian on the
    bundled sample.
"""

from __future__ import annotations

import codecs
import difflib
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from planner.errors import ConfigError

__all__ = ["Config", "field_help", "field_unit", "read_config_file"]

GiB = 1024**3


@dataclass(frozen=True)
class Config:
    """Every tunable setting, documented field by field in the module docstring."""

    max_archive_bytes: int = 2 * GiB
    max_archive_members: int = 1000
    max_uncompressed_bytes: int = 8 * GiB
    max_member_bytes: int = 4 * GiB
    max_compression_ratio: float = 200.0
    max_cell_chars: int = 4096
    max_frequency_stop_times: int = 10_000_000

    strict: bool = False
    max_dropped_trip_share: float = 0.05
    allow_subfolder: bool = False
    encodings: tuple[tuple[str, str], ...] = ()
    consolidation_radius_m: float = 250.0
    consolidation_same_point_m: float = 15.0

    threads: int | None = None
    progress: bool = True

    # -- street networks (issue 3; planner.network.streets / planner.ingest.osm) ------------------------
    walk_speed_mps: float = 1.33
    snap_max_m: float = 500.0
    osm_max_xml_bytes: int = 4 * GiB

    # -- public transport routing (planner.network.build / planner.routing.raptor) -------------------
    change_time_s: int = 120
    footpath_max_s: int = 900
    access_max_s: int = 1800
    straight_line_detour: float = 1.3
    max_rides: int = 8
    max_trip_duration_s: int = 72 * 3600
    drive_access_max_s: int = 3600
    park_ride_penalty_s: int = 600
    local_access_speed_kmh: float = 20.0
    local_access_max_s: int = 5400
    local_rail_transfers: bool = False

    # -- intercity rail net (issue 9; planner.analyses.railnet.net) ------------------------------------
    net_cluster_km: float = 20.0
    net_reference_speed_kmh: float = 200.0
    net_horizon_h: float = 36.0
    net_weak_detour_factor: float = 1.5
    net_central_count: int = 4

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "encodings":
                problems += self._check_encodings(value)
                continue
            if f.name in {"strict", "allow_subfolder", "progress", "local_rail_transfers"}:
                if not isinstance(value, bool):
                    problems.append(f"{f.name} must be true or false, got {value!r}")
                continue
            if value is None and f.name == "threads":
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                problems.append(f"{f.name} must be a number, got {value!r}")
            elif value < 0:
                problems.append(f"{f.name} must not be negative, got {value!r}")
        if not problems and not 0.0 <= self.max_dropped_trip_share <= 1.0:
            problems.append(
                f"max_dropped_trip_share must be between 0 and 1, got {self.max_dropped_trip_share}"
            )
        if not problems and self.walk_speed_mps <= 0:  # street networks: a speed divides
            problems.append(f"walk_speed_mps must be positive, got {self.walk_speed_mps}")
        if not problems and self.max_rides < 1:
            problems.append(f"max_rides must be at least 1, got {self.max_rides}")
        if not problems and self.straight_line_detour < 1:
            problems.append(f"straight_line_detour must be at least 1, got {self.straight_line_detour}")
        if self.threads is not None and not problems and self.threads < 1:
            problems.append(f"threads must be at least 1, got {self.threads}")
        if problems:
            msg = "invalid configuration: " + "; ".join(problems)
            raise ConfigError(msg, code="invalid_config")

    def _check_encodings(self, value) -> list[str]:
        pairs = list(value.items()) if isinstance(value, dict) else value
        try:
            pairs = tuple(sorted((str(k), str(v)) for k, v in pairs))
        except (TypeError, ValueError):
            return [f"encodings must be (feed id, encoding) pairs, got {value!r}"]
        object.__setattr__(self, "encodings", pairs)
        problems = []
        for feed, name in pairs:
            try:
                b"a".decode(codecs.lookup(name).name)  # refuses bytes-to-bytes codecs (base64, zlib)
            except (LookupError, TypeError):
                problems.append(f"encodings: {name!r} (for feed {feed}) is not a text encoding Python knows; "
                                "e.g. utf-8, cp1252, latin-1, gb18030, utf-16")
        if len({k for k, _ in pairs}) != len(pairs):
            problems.append(f"encodings: a feed is given two encodings: {pairs}")
        return problems

    def encoding_for(self, feed_id: str) -> str | None:
        """The text encoding forced for feed ``feed_id`` (or for every feed), or None."""
        forced = dict(self.encodings)
        return forced.get(feed_id, forced.get("*"))


# ---------------------------------------------------------------------- configuration files

_UNITS = (("_mps", "m/s"), ("_kmh", "km/h"), ("_km", "km"), ("_bytes", "bytes"), ("_m", "m"), ("_s", "s"),
          ("_h", "h"), ("_share", "share, 0-1"), ("_ratio", "ratio"), ("_chars", "characters"))


def field_unit(name: str) -> str:
    """The unit of a :class:`Config` field, from its name (``walk_speed_mps``: m/s); '' for
    counts, switches and factors."""
    return next((unit for suffix, unit in _UNITS if name.endswith(suffix)), "")


def field_help(name: str) -> str:
    """The first sentence of a field's documentation in this module's docstring."""
    m = re.search(rf"^``{re.escape(name)}`` : [^\n]*\n((?:    [^\n]*\n)+)", __doc__ or "", re.MULTILINE)
    if not m:
        return ""
    text = " ".join(line.strip() for line in m.group(1).splitlines())
    return re.split(r"(?<=[.;])\s", text, maxsplit=1)[0]


def _key_lines(text: str) -> dict[str, int]:
    """Line number (1-based) of each top-level ``key = value`` of a TOML text."""
    out: dict[str, int] = {}
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*[\"']?([A-Za-z0-9_-]+)[\"']?\s*=", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = i
    return out


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The :class:`Config` fields set in a TOML file (``key = value`` at the top level, the
    field names of this module; ``encodings`` as a table ``{feed = "codec"}``).

    Every problem is collected and reported at once, each with the file, line and key: a
    file that is not TOML, an unknown key (with the closest field name), a value of the
    wrong type (a string where a number belongs, a fraction for a whole number) or out of
    range. Raises :class:`~planner.errors.ConfigError` (exit code 2)."""
    p = Path(path)
    hint = "'plan config init FILE' writes a template with every key, its unit and default"
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except OSError as err:
        msg = f"{p}: cannot read the configuration file ({err.strerror or err})"
        raise ConfigError(msg, code="config_file_unreadable", hint="check the path") from None
    except UnicodeDecodeError as err:
        msg = f"{p}: the configuration file is not UTF-8 text (byte {err.start})"
        raise ConfigError(msg, code="invalid_config_file", hint=hint) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = f"{p}: not valid TOML: {err}"
        raise ConfigError(msg, code="invalid_config_file", hint=hint) from None
    lines = _key_lines(text)
    known = {f.name: f for f in fields(Config)}
    problems: list[str] = []
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{p}:{lines.get(key, '?')}: {key}"
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            problems.append(f"{where}: unknown key" + (f" (did you mean {close[0]}?)" if close else ""))
            continue
        if key == "threads" and value == "auto":
            value = None
        elif (isinstance(value, dict) and key != "encodings") or isinstance(value, list):
            problems.append(f"{where}: expected a single value, got {type(value).__name__} {value!r}")
            continue
        elif known[key].type == "int" and isinstance(value, float):
            problems.append(f"{where}: expected a whole number, got {value!r}")
            continue
        try:
            Config(**{key: value})
        except ConfigError as err:
            problems.append(f"{where}: {str(err).removeprefix('invalid configuration: ')}")
            continue
        out[key] = value
    if problems:
        msg = f"{len(problems)} problem(s) in the configuration file:\n  " + "\n  ".join(problems)
        raise ConfigError(msg, code="invalid_config_file", hint=hint)
    return out
