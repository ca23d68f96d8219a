"""Scenarios: candidate lines and other changes, as YAML files applied to a copy of the inputs.

A scenario never changes the baseline in memory or on disk: :func:`apply_to_feeds` returns
new feeds (the changed tables are copies) and :func:`apply_to_network` a new network.

File format (every field is checked on load; an error names the file, the line and the
field)::

    name: spine_express                  # [A-Za-z0-9._-]
    description: Hourly express Harbin West - Shenyang North
    changes:
      - add_line:
          id: hsr_express                # route id of the new line
          name: Harbin West - Shenyang North express
          operator: China Railway Harbin Group
          mode: high_speed_rail          # or route_type: 101
          stops: [哈尔滨西, 长春西, 沈阳北]  # stop names, stop ids (FEED:ID) or {lon, lat, name, datum}
          speed_class_kmh: 350           # kinematic run times ...
          # run_times_min: [55, 60]      # ... or the minutes of each segment
          dwell_min: 2                   # at intermediate stops
          headway_min: {"06:00-09:00": 30, "09:00-21:00": 60}   # or a number with service:
          # service: {start: "06:30", end: "21:30"}
          # departures: ["07:00", "08:15"]                     # or explicit departures
          both_directions: true
          track: new                     # new | upgraded | existing, or one per segment: [new, existing]
                                         # (default: existing for bus, coach and ferry, new otherwise)
          # design_speed_kmh: 250        # cost class of new/upgraded track (default: speed_class_kmh)
          # cost_per_km_million: 120     # overrides the unit-cost table for this line's track
      - adjust_headway: {route: FEED:ROUTE, factor: 0.5}      # or headway_min: 10
      - remove_route: {route: FEED:ROUTE}
      - add_transfer: {from_stop: FEED:A, to_stop: FEED:B, walk_m: 300, walk_s: 240, both_ways: true}
      - fare_policy:                     # a unified fare card (keys: planner.scenarios.fare_policy)
          unified_card: true
          operators: [China Railway Harbin Group, Harbin Metro]
          tariff: integrated             # or keep
          transfer_window_min: unlimited # or minutes from the card ticket's first departure
          transfer_discount: 3           # currency units off a connecting ride ('full': free)
    costs:                               # optional (planner.scenarios.costs): fixed costs, overrides
      capital_million: 30
      unit_costs: {new_track_350: 150}

Stops named by a station name are matched against the feeds' ``stop_name`` (exact, then
normalised as in :func:`planner.ingest.gtfs.normalise_name`); a new line gets its own stops at the
matched coordinates, linked to the existing stops by footpaths like any other stop.
Coordinates may be WGS84, GCJ-02 or BD-09 (``datum``), converted to WGS84 on load.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from planner.common.datum import to_wgs84
from planner.common.safe_yaml import load_yaml_with_lines
from planner.common.timeofday import parse_hhmm
from planner.errors import InputError, ScenarioError
from planner.scenarios.costs import TRACK_KINDS, CostSpec, check_costs
from planner.scenarios.fare_policy import check_spec

__all__ = ["AddLine", "AddTransfer", "AdjustHeadway", "FarePolicy", "RemoveRoute", "Scenario", "StopRef",
           "load_scenario"]

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MODE_ROUTE_TYPE = {"high_speed_rail": 101, "intercity_rail": 102, "rail": 2, "metro": 1, "tram": 0, "bus": 3,
                    "coach": 200, "ferry": 4, "monorail": 12, "trolleybus": 11}
DEFAULT_SERVICE = (6 * 3600, 22 * 3600)
#: route types that run on roads or water that exist (their default track is "existing")
_ROAD_ROUTE_TYPES = frozenset({3, 4, 11, *range(200, 300), *range(700, 800), 1000})


@dataclass
class StopRef:
    """A stop of a new line: an existing stop (by name or id) or a new point."""

    text: str = ""                 # station name or stop id as written
    lon: float | None = None       # WGS84 after conversion
    lat: float | None = None
    name: str = ""
    line: int = 0
    datum: str = "wgs84"           # as written in the file


@dataclass
class AddLine:
    id: str
    name: str
    operator: str
    route_type: int
    stops: list[StopRef]
    run_times_s: list[int] | None
    speed_class_kmh: float | None
    dwell_s: int
    departures_s: list[int]
    both_directions: bool
    accel_mps2: float | None = None
    brake_mps2: float | None = None
    alignment_factor: float = 1.1
    cost_per_km_million: float | None = None
    line: int = 0
    #: track kind per segment (``planner.scenarios.costs.TRACK_KINDS``)
    track: tuple[str, ...] = ()
    #: whether the file said ``track:`` (else every segment is counted as new, and the report says so)
    track_declared: bool = False
    design_speed_kmh: float | None = None

    @property
    def cost_speed_kmh(self) -> float | None:
        """The design speed that sets the cost class of new or upgraded track."""
        return self.design_speed_kmh if self.design_speed_kmh is not None else self.speed_class_kmh


@dataclass
class AdjustHeadway:
    route: str
    factor: float | None
    headway_s: int | None
    line: int = 0


@dataclass
class RemoveRoute:
    route: str
    line: int = 0


@dataclass
class AddTransfer:
    from_stop: str
    to_stop: str
    walk_m: float | None
    walk_s: int | None
    both_ways: bool
    line: int = 0


@dataclass
class FarePolicy:
    """A ``fare_policy`` change: the mapping as written (checked on load; turned into a
    :class:`~planner.network.fares.UnifiedCardPolicy` by :func:`planner.scenarios.fare_policy.card_policy`),
    its line, the file and the line of each key (for errors)."""

    spec: dict
    line: int = 0
    path: str = ""
    key_lines: dict = field(default_factory=dict)


@dataclass
class Scenario:
    """A loaded, validated scenario."""

    name: str
    description: str
    changes: list
    path: Path | None = None
    text: str = ""
    costs: CostSpec = field(default_factory=CostSpec)

    @property
    def digest(self) -> str:
        """SHA-256 of the scenario's canonical content (cache keys, provenance tags)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def of_kind(self, kind: type) -> list:
        return [c for c in self.changes if isinstance(c, kind)]


class _Problems:
    """Collects every problem of a file and raises them together."""

    def __init__(self, filename: str, lines: dict):
        self.filename = filename
        self.lines = lines
        self.items: list[str] = []

    def line(self, path: tuple) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 0)

    def add(self, path: tuple, message: str) -> None:
        where = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")
        self.items.append(f"{self.filename}:{self.line(path)}: field '{where}': {message}")

    def raise_if_any(self) -> None:
        if self.items:
            shown = self.items[:50]
            if len(self.items) > 50:
                shown.append(f"... and {len(self.items) - 50} more")
            msg = "invalid scenario:\n  " + "\n  ".join(shown)
            raise ScenarioError(msg, code="invalid_scenario", hint="see the scenario format in 'plan evaluate --help'")


def _hhmm(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 72 * 60:
        # YAML reads 07:30 as sexagesimal 450 (minutes); accept it
        return value * 60
    try:
        return parse_hhmm(str(value))
    except ValueError:
        return None


#: largest value accepted for any number of a scenario (minutes, km/h, metres...): the
#: values are turned into whole seconds and int32 timetable arrays, so ``.inf``, ``.nan``
#: and 1e300 must be refused here, with the field named, not crash later (issue 11 fuzzing)
MAX_NUMBER = 1e7


def _number(p: _Problems, path: tuple, value: Any, *, positive: bool = True, allow_zero: bool = False,
            maximum: float = MAX_NUMBER, minimum: float | None = None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        p.add(path, f"must be a number, got {_short(value)}")
        return None
    if not math.isfinite(value):
        p.add(path, f"must be a finite number, got {value!r}")
        return None
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        p.add(path, f"must be {'>= 0' if allow_zero else 'positive'}, got {value!r}")
        return None
    if abs(value) > maximum:
        p.add(path, f"must be at most {maximum:g}, got {_short(value)}")
        return None
    if minimum is not None and value < minimum:
        p.add(path, f"must be at least {minimum:g}, got {_short(value)}")
        return None
    return float(value)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"an integer of {len(str(abs(value)))} digits"
    return text if len(text) <= limit else text[:limit] + "..."


def load_scenario(path: str | Path, *, text: str | None = None) -> Scenario:
    """Read and validate a scenario file (see the module docstring for the format).

    Raises
    ------
    ScenarioError
        Listing every problem as ``file:line: field 'path': message`` (exit code 2).
    """
    p = Path(path)
    if text is None:
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            msg = f"cannot read scenario {p}: {err}"
            raise ScenarioError(msg, code="input_unreadable", hint="give a UTF-8 YAML file") from err
    data, lines = load_yaml_with_lines(text, p)
    probs = _Problems(str(p), lines)
    if not isinstance(data, dict):
        probs.add((), "a scenario is a mapping with 'name' and 'changes'")
        probs.raise_if_any()
    allowed = {"name", "description", "changes", "costs"}
    for k in data:
        if k not in allowed:
            probs.add((k,), f"unknown field (expected one of {', '.join(sorted(allowed))})")
    name = data.get("name", p.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        probs.add(("name",), f"must be letters, digits, '.', '_' or '-' (at most 64), got {_short(name)}")
    changes_raw = data.get("changes")
    changes = []
    if not isinstance(changes_raw, list) or not changes_raw:
        probs.add(("changes",), "must be a non-empty list of changes")
    else:
        for i, item in enumerate(changes_raw):
            c = _change(probs, ("changes", i), item)
            if c is not None:
                changes.append(c)
        n_fp = sum(isinstance(c, FarePolicy) for c in changes)
        if n_fp > 1:
            probs.add(("changes",), f"at most one fare_policy per scenario, got {n_fp}")
    costs = CostSpec()
    if "costs" in data:
        costs = check_costs(data["costs"], lambda key, message: probs.add(("costs", *key), message))
    probs.raise_if_any()
    return Scenario(str(name), str(data.get("description", "") or ""), changes, p, text, costs)


_KINDS = ("add_line", "adjust_headway", "remove_route", "add_transfer", "fare_policy")


def _change(p: _Problems, path: tuple, item: Any):
    if not isinstance(item, dict) or len(item) != 1:
        p.add(path, f"each change is a mapping with exactly one of: {', '.join(_KINDS)}")
        return None
    kind, body = next(iter(item.items()))
    path = (*path, kind)
    if kind not in _KINDS:
        p.add(path, f"unknown change (expected one of {', '.join(_KINDS)})")
        return None
    if not isinstance(body, dict):
        p.add(path, "must be a mapping of fields")
        return None
    line = p.line(path)
    if kind == "add_line":
        return _add_line(p, path, body, line)
    if kind == "adjust_headway":
        _only(p, path, body, {"route", "factor", "headway_min"})
        route = _route_ref(p, path, body)
        factor = body.get("factor")
        hw = body.get("headway_min")
        if (factor is None) == (hw is None):
            p.add(path, "give exactly one of 'factor' or 'headway_min'")
            return None
        f = _number(p, (*path, "factor"), factor) if factor is not None else None
        h = _number(p, (*path, "headway_min"), hw) if hw is not None else None
        return AdjustHeadway(route, f, round(h * 60) if h else None, line)
    if kind == "remove_route":
        _only(p, path, body, {"route"})
        return RemoveRoute(_route_ref(p, path, body), line)
    if kind == "add_transfer":
        _only(p, path, body, {"from_stop", "to_stop", "walk_m", "walk_s", "both_ways"})
        a, b = body.get("from_stop"), body.get("to_stop")
        for k, v in (("from_stop", a), ("to_stop", b)):
            if not isinstance(v, str) or not v.strip():
                p.add((*path, k), "must be a stop id (FEED:ID)")
        wm = _number(p, (*path, "walk_m"), body["walk_m"], allow_zero=True) if "walk_m" in body else None
        ws = _number(p, (*path, "walk_s"), body["walk_s"], allow_zero=True) if "walk_s" in body else None
        if wm is None and ws is None:
            p.add(path, "give 'walk_s' (seconds) and/or 'walk_m' (metres)")
        return AddTransfer(str(a), str(b), wm, round(ws) if ws is not None else None,
                           bool(body.get("both_ways", True)), line)

    for key, message in check_spec(body):
        p.add((*path, key) if key is not None else path, message)
    key_lines = {k: p.line((*path, k)) for k in body}
    return FarePolicy(dict(body), line, p.filename, key_lines)


def _only(p: _Problems, path: tuple, body: dict, allowed: set[str]) -> None:
    for k in body:
        if k not in allowed:
            p.add((*path, k), f"unknown field (expected one of {', '.join(sorted(allowed))})")


def _route_ref(p: _Problems, path: tuple, body: dict) -> str:
    r = body.get("route")
    if not isinstance(r, str | int) or not str(r).strip():
        p.add((*path, "route"), "must name a route (FEED:ROUTE_ID, or a route short/long name)")
        return ""
    return str(r).strip()


def _add_line(p: _Problems, path: tuple, body: dict, line: int) -> AddLine | None:
    allowed = {"id", "name", "operator", "mode", "route_type", "stops", "run_times_min", "speed_class_kmh",
               "accel_mps2", "brake_mps2", "dwell_min", "headway_min", "service", "departures", "both_directions",
               "cost_per_km_million", "alignment_factor", "track", "design_speed_kmh"}
    _only(p, path, body, allowed)
    lid = body.get("id")
    if not isinstance(lid, str) or not _NAME.match(lid):
        p.add((*path, "id"), f"must be letters, digits, '.', '_' or '-', got {_short(lid)}")
        lid = "new_line"
    name = str(body.get("name", lid))
    operator = str(body.get("operator", "Scenario operator"))
    rt = body.get("route_type")
    mode = body.get("mode")
    if rt is None:
        if mode is None:
            p.add(path, "give 'mode' (e.g. high_speed_rail, metro, bus) or 'route_type'")
            rt = 101
        elif not isinstance(mode, str) or mode not in _MODE_ROUTE_TYPE:
            p.add((*path, "mode"), f"unknown mode {_short(mode)} (one of {', '.join(sorted(_MODE_ROUTE_TYPE))})")
            rt = 101
        else:
            rt = _MODE_ROUTE_TYPE[mode]
    elif isinstance(rt, bool) or not isinstance(rt, int) or not 0 <= rt <= 9999:
        p.add((*path, "route_type"), f"must be a GTFS route_type integer, got {_short(rt)}")
        rt = 101
    stops_raw = body.get("stops")
    stops: list[StopRef] = []
    if not isinstance(stops_raw, list) or len(stops_raw) < 2:
        p.add((*path, "stops"), "must list at least two stops")
    else:
        for k, s in enumerate(stops_raw):
            sp = (*path, "stops", k)
            ref = _stop_ref(p, sp, s)
            if ref is not None:
                stops.append(ref)
    run_times = None
    if "run_times_min" in body:
        rtm = body["run_times_min"]
        if not isinstance(rtm, list) or (isinstance(stops_raw, list) and len(rtm) != len(stops_raw) - 1):
            p.add((*path, "run_times_min"), "must give one run time (minutes) per segment (number of stops - 1)")
        else:
            vals = [_number(p, (*path, "run_times_min", k), v) for k, v in enumerate(rtm)]
            run_times = [round(v * 60) for v in vals if v is not None]
    speed = None
    if "speed_class_kmh" in body:
        # a speed of 1e-300 km/h overflowed the run-time model (issue 11 fuzzing)
        speed = _number(p, (*path, "speed_class_kmh"), body["speed_class_kmh"], minimum=1.0, maximum=1000.0)
    if (run_times is None) == (speed is None) and not ("run_times_min" in body and "speed_class_kmh" in body):
        if run_times is None and speed is None:
            p.add(path, "give 'run_times_min' (per segment) or 'speed_class_kmh' (kinematic run times)")
    if "run_times_min" in body and "speed_class_kmh" in body:
        p.add(path, "give either 'run_times_min' or 'speed_class_kmh', not both")
    dwell = _number(p, (*path, "dwell_min"), body.get("dwell_min", 2), allow_zero=True)
    accel = _number(p, (*path, "accel_mps2"), body["accel_mps2"], minimum=0.01, maximum=10.0) \
        if "accel_mps2" in body else None
    brake = _number(p, (*path, "brake_mps2"), body["brake_mps2"], minimum=0.01, maximum=10.0) \
        if "brake_mps2" in body else None
    align = _number(p, (*path, "alignment_factor"), body.get("alignment_factor", 1.1))
    if align is not None and align < 1:
        p.add((*path, "alignment_factor"), "must be at least 1 (track length / straight-line distance)")
    cost = _number(p, (*path, "cost_per_km_million"), body["cost_per_km_million"], allow_zero=True) \
        if "cost_per_km_million" in body else None
    deps = _departures(p, path, body)
    design = _number(p, (*path, "design_speed_kmh"), body["design_speed_kmh"], minimum=1.0, maximum=1000.0) \
        if "design_speed_kmh" in body else None
    n_seg = max(len(stops_raw) - 1, 1) if isinstance(stops_raw, list) else 1
    # buses, coaches and ferries use roads and waters that exist; other modes build track unless told
    default_track = "existing" if int(rt) in _ROAD_ROUTE_TYPES else "new"
    track = _track(p, (*path, "track"), body.get("track", default_track), n_seg)
    if "track" in body and any(t != "existing" for t in track) and design is None and speed is None and cost is None:
        p.add(path, "new or upgraded track needs a cost class: give 'design_speed_kmh' (or 'speed_class_kmh', "
                    "or 'cost_per_km_million')")
    return AddLine(lid, name, operator, int(rt), stops, run_times, speed, round((dwell or 0) * 60), deps,
                   bool(body.get("both_directions", True)), accel, brake, align or 1.1, cost, line,
                   track, "track" in body, design)


def _track(p: _Problems, path: tuple, value: Any, n_seg: int) -> tuple[str, ...]:
    """``track:`` of an add_line: one kind for the line or one per segment."""
    kinds = ", ".join(TRACK_KINDS)
    if isinstance(value, str):
        if value not in TRACK_KINDS:
            p.add(path, f"unknown track kind {_short(value)} (one of {kinds})")
            return ("new",) * n_seg
        return (value,) * n_seg
    if isinstance(value, list):
        if len(value) != n_seg:
            p.add(path, f"give one track kind per segment ({n_seg}: number of stops - 1), got {len(value)}")
            return ("new",) * n_seg
        out = []
        for k, v in enumerate(value):
            if not isinstance(v, str) or v not in TRACK_KINDS:
                p.add((*path, k), f"unknown track kind {_short(v)} (one of {kinds})")
                v = "new"
            out.append(v)
        return tuple(out)
    p.add(path, f"must be one of {kinds}, or a list of them (one per segment), got {_short(value)}")
    return ("new",) * n_seg


def _stop_ref(p: _Problems, path: tuple, s: Any) -> StopRef | None:
    line = p.line(path)
    if isinstance(s, str | int) and not isinstance(s, bool):
        text = str(s).strip()
        if not text:
            p.add(path, "empty stop name")
            return None
        return StopRef(text=text, name=text, line=line)
    if isinstance(s, dict):
        for k in s:
            if k not in {"lon", "lat", "name", "datum"}:
                p.add((*path, k), "unknown field (expected lon, lat, name, datum)")
        lon = _number(p, (*path, "lon"), s.get("lon"), positive=False)
        lat = _number(p, (*path, "lat"), s.get("lat"), positive=False)
        if lon is None or lat is None:
            return None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            p.add(path, f"({lon}, {lat}) is not a longitude/latitude pair")
            return None
        datum = str(s.get("datum", "wgs84")).lower()
        if datum != "wgs84":
            try:
                x, y = to_wgs84(np.array([lon]), np.array([lat]), datum)
            except InputError as err:
                p.add((*path, "datum"), err.message)
                return None
            lon, lat = float(x[0]), float(y[0])
        return StopRef(lon=lon, lat=lat, name=str(s.get("name", f"{lat:.5f},{lon:.5f}")), line=line, datum=datum)
    p.add(path, f"a stop is a station name, a stop id or {{lon, lat, name}}, got {_short(s)}")
    return None


def _departures(p: _Problems, path: tuple, body: dict) -> list[int]:
    if "departures" in body:
        if "headway_min" in body:
            p.add(path, "give either 'departures' or 'headway_min', not both")
        raw = body["departures"]
        if not isinstance(raw, list) or not raw:
            p.add((*path, "departures"), "must be a list of HH:MM times")
            return []
        out = []
        for k, v in enumerate(raw):
            t = _hhmm(v)
            if t is None:
                p.add((*path, "departures", k), f"not a time HH:MM: {v!r}")
            else:
                out.append(t)
        return sorted(set(out))
    hw = body.get("headway_min")
    if hw is None:
        p.add(path, "give 'headway_min' (with 'service') or 'departures'")
        return []
    periods: list[tuple[int, int, float]] = []
    if isinstance(hw, dict):
        if "service" in body:
            p.add((*path, "service"), "not used when headway_min gives periods")
        for key, minutes in hw.items():
            m = re.fullmatch(r"\s*(\d{1,2}:\d\d)\s*-\s*(\d{1,2}:\d\d)\s*", str(key))
            a, b = (_hhmm(m.group(1)), _hhmm(m.group(2))) if m else (None, None)
            if a is None or b is None or b <= a:
                p.add((*path, "headway_min", key), "period must be 'HH:MM-HH:MM' with the end after the start")
                continue
            v = _number(p, (*path, "headway_min", key), minutes)
            if v is not None:
                periods.append((a, b, v))
    else:
        v = _number(p, (*path, "headway_min"), hw)
        svc = body.get("service", {})
        if not isinstance(svc, dict):
            p.add((*path, "service"), "must be {start: HH:MM, end: HH:MM}")
            svc = {}
        a = _hhmm(svc.get("start", "06:00"))
        b = _hhmm(svc.get("end", "22:00"))
        if a is None or b is None or b <= a:
            p.add((*path, "service"), "start and end must be HH:MM with the end after the start")
        elif v is not None:
            periods.append((a, b, v))
    out: set[int] = set()
    for a, b, v in sorted(periods):
        step = round(v * 60)
        out.update(range(a, b, max(step, 60)))
    return sorted(out)


# ---------------------------------------------------------------------- applying

def scenario_digest(scenarios) -> str:
    """Digest of a list of scenarios (for cache keys)."""
    return hashlib.sha256(json.dumps([s.digest for s in scenarios]).encode()).hexdigest()
