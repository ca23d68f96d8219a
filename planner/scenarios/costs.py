"""What a scenario costs: the unit-cost table, track kinds and a scenario's ``costs:`` block.

Every figure of :data:`UNIT_COSTS` carries its unit and its source, or ``ASSUMED`` with the
reasoning; ``plan evaluate`` prints the table in its report and a scenario may override any
entry (``costs: {unit_costs: {new_track_350: 150}}``). Money is in million CNY (capital) or
CNY (per train-km), at the prices of the sources (about 2015; no deflator is applied).

Track kinds of an ``add_line`` (``track:``, for the whole line or one per segment):

* ``new``: new track is built; counted in ``new_line_km`` and costed at ``new_track_<speed>``
  per route-km, where ``<speed>`` is the design-speed class at or above the line's speed
  (``design_speed_kmh``, else ``speed_class_kmh``); maintenance of the new track per year;
* ``upgraded``: existing track raised to the design speed, costed at ``upgraded_track_<speed>``;
* ``existing``: trains run on track that is already there: no track cost.

Every added train-km (the scenario's timetable against the baseline's, on the service date,
times 365) costs ``train_km_<mode>`` (energy, crew, maintenance and rolling-stock capital of
the trains); a scenario that removes trains saves it.

A scenario's ``costs:`` block (all optional)::

    costs:
      capital_million: 30            # fixed capital not tied to track (a connector, a card system)
      operating_million_per_year: 2  # fixed yearly operating cost
      construction_years: 2          # years before the benefits start (default: 4 with track work)
      unit_costs: {new_track_350: 150}
      note: "connector: ASSUMED, 250 m underground passage with gates"
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["DESIGN_SPEEDS", "TRACK_KINDS", "UNIT_COSTS", "CostSpec", "UnitCost", "check_costs", "speed_class",
           "unit_cost"]

TRACK_KINDS = ("new", "upgraded", "existing")
#: design-speed classes of the track cost table (km/h)
DESIGN_SPEEDS = (120, 160, 200, 250, 350)
#: years of construction before the benefits start, when a scenario builds track (ASSUMED)
DEFAULT_CONSTRUCTION_YEARS = 4


@dataclass(frozen=True)
class UnitCost:
    """One entry of the unit-cost table."""

    value: float
    unit: str
    source: str

    @property
    def assumed(self) -> bool:
        return self.source.startswith("ASSUMED")


_WB2019 = ("World Bank (Lawrence, Bullock, Liu), China's High-Speed Rail Development, 2019, "
           "doi:10.1596/978-1-4648-1425-9, average cost incl. signalling, electrification and facilities, "
           "read via the reprint http://tech.jiangsulong.com/a/2019/0712/1562935551_10.html "
           "(\"时速350公里高速铁路的平均造价…约1.39亿元, 时速250公里…1.14亿元, 时速200公里…1.04亿元\"); "
           "cross-check: World Bank 2014 (Ollivier, Sondhi, Zhou), USD 17-21 M/km for 350 km/h = CNY 104-129 M/km at 6.14")
_UPGRADE = ("ASSUMED: derived from an electrification and capacity upgrade at CNY 8.3 M/km "
            "(CCTV 2010-01-28, Fu-Huai lines) and the World Bank Liupanshui-Zhanyi realignment and "
            "double-tracking at CNY 35 M/km (2007)")

#: the unit-cost table: name -> value, unit, source (see the module docstring)
UNIT_COSTS: dict[str, UnitCost] = {
    "new_track_350": UnitCost(139.0, "million CNY per route-km", _WB2019),
    "new_track_250": UnitCost(114.0, "million CNY per route-km", _WB2019),
    "new_track_200": UnitCost(104.0, "million CNY per route-km", _WB2019),
    "new_track_160": UnitCost(70.0, "million CNY per route-km",
                              "ASSUMED: about 2/3 of the 200 km/h figure; one 160 km/h line, Jingzhou-Yueyang, "
                              "CNY 11.4 bn for 168 km = 68 M/km (Railway Gazette)"),
    "new_track_120": UnitCost(50.0, "million CNY per route-km", "ASSUMED: conventional double track, below 160 km/h"),
    "upgraded_track_350": UnitCost(83.0, "million CNY per route-km",
                                   "ASSUMED: 60 % of a new 350 km/h line (350 km/h needs a largely new alignment)"),
    "upgraded_track_250": UnitCost(68.0, "million CNY per route-km",
                                   "ASSUMED: 60 % of a new 250 km/h line (curve easing and realignment of most of it)"),
    "upgraded_track_200": UnitCost(40.0, "million CNY per route-km", _UPGRADE + ": 200 km/h on the old alignment"),
    "upgraded_track_160": UnitCost(20.0, "million CNY per route-km", _UPGRADE + ": 160 km/h"),
    "upgraded_track_120": UnitCost(10.0, "million CNY per route-km", _UPGRADE + ": electrification only"),
    "maintenance_new_track_hsr": UnitCost(0.6, "million CNY per route-km per year",
                                          "ASSUMED: about 0.5 % of the construction cost a year (slab-track HSR), "
                                          "for design speeds of 200 km/h and more"),
    "maintenance_new_track_conventional": UnitCost(0.3, "million CNY per route-km per year",
                                                   "ASSUMED: conventional double track, below 200 km/h"),
    "train_km_high_speed_rail": UnitCost(60.0, "CNY per train-km",
                                         "ASSUMED: build-up for an 8-car EMU: energy 20-27 kWh x CNY 0.6, "
                                         "maintenance 12, crew 5, rolling stock (CNY 172 M a set over 20 years "
                                         "at 0.5 M train-km a year) 17, overheads 10"),
    "train_km_intercity_rail": UnitCost(60.0, "CNY per train-km", "ASSUMED: as high_speed_rail (EMU)"),
    "train_km_rail": UnitCost(45.0, "CNY per train-km", "ASSUMED: loco-hauled conventional train"),
    "train_km_metro": UnitCost(40.0, "CNY per train-km", "ASSUMED: 6-car metro train"),
    "train_km_other": UnitCost(10.0, "CNY per vehicle-km", "ASSUMED: bus, tram and other road-based modes"),
}

#: modes whose vehicles cost train_km_<mode>; every other mode costs train_km_other
_TRAIN_MODES = ("high_speed_rail", "intercity_rail", "rail", "metro")


def speed_class(speed_kmh: float) -> int:
    """The cost table's design-speed class for a line of ``speed_kmh``: the smallest class at
    or above it (a 300 km/h line is costed as 350 km/h), the top class above."""
    for s in DESIGN_SPEEDS:
        if speed_kmh <= s + 1e-9:
            return s
    return DESIGN_SPEEDS[-1]


def unit_cost(name: str, overrides: dict[str, float] | None = None) -> float:
    """A unit cost by name, a scenario's override first."""
    if overrides and name in overrides:
        return float(overrides[name])
    return UNIT_COSTS[name].value


def train_km_key(mode: str) -> str:
    """The unit-cost name of a train-km of ``mode`` (``planner.ingest.gtfs.modes.MODES``)."""
    return f"train_km_{mode}" if mode in _TRAIN_MODES else "train_km_other"


@dataclass(frozen=True)
class CostSpec:
    """A scenario's ``costs:`` block, checked."""

    capital_million: float = 0.0
    operating_million_per_year: float = 0.0
    construction_years: int | None = None
    unit_costs: tuple[tuple[str, float], ...] = ()
    note: str = ""

    @property
    def overrides(self) -> dict[str, float]:
        return dict(self.unit_costs)


_COST_KEYS = {"capital_million", "operating_million_per_year", "construction_years", "unit_costs", "note"}


def check_costs(body: Any, add) -> CostSpec:
    """Check a ``costs:`` block; every problem goes to ``add(key_path, message)``."""
    if not isinstance(body, dict):
        add((), "must be a mapping (capital_million, operating_million_per_year, construction_years, "
                "unit_costs, note)")
        return CostSpec()
    for k in body:
        if k not in _COST_KEYS:
            add((k,), f"unknown field (expected one of {', '.join(sorted(_COST_KEYS))})")
    capital = _money(body, "capital_million", add)
    operating = _money(body, "operating_million_per_year", add)
    years = body.get("construction_years")
    if years is not None and (isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 30):
        add(("construction_years",), f"must be a whole number of years from 0 to 30, got {years!r}")
        years = None
    units: list[tuple[str, float]] = []
    raw = body.get("unit_costs", {})
    if not isinstance(raw, dict):
        add(("unit_costs",), "must be a mapping of unit-cost names to values")
        raw = {}
    for name, value in raw.items():
        if name not in UNIT_COSTS:
            add(("unit_costs", name), f"unknown unit cost (one of {', '.join(UNIT_COSTS)})")
            continue
        v = _nonneg(value, ("unit_costs", name), add)
        if v is not None:
            units.append((str(name), v))
    note = body.get("note", "")
    return CostSpec(capital or 0.0, operating or 0.0, years, tuple(units), str(note or ""))


def _money(body: dict, key: str, add) -> float | None:
    if key not in body:
        return None
    return _nonneg(body[key], (key,), add)


def _nonneg(value: Any, path: tuple, add) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        add(path, f"must be a finite number, got {value!r}")
        return None
    if value < 0:
        add(path, f"a cost cannot be negative, got {value!r}")
        return None
    if value > 1e9:
        add(path, f"must be at most 1e9, got {value!r}")
        return None
    return float(value)
