"""What each scenario costs and brings: demand, benefits, discounting, sensitivity.

All money in million CNY unless a name says otherwise; time in minutes (travel times) and
hours (savings); trips one direction per day.

* **Costs** (:func:`scenario_costs`): track of the new lines by kind (``track: new |
  upgraded | existing``; :mod:`planner.scenarios.costs`) times the unit cost of its design
  speed, plus the scenario's fixed ``costs:``; yearly: maintenance of new track, the change of
  train-km (scenario timetable minus baseline on the service date, straight-line km between
  stops times ``rail_route_factor``, times ``days_per_year``) times the cost per train-km of the
  mode, plus fixed operating costs.
* **Demand** (:func:`baseline_demand`): trips a day between places, ``T_ij = k P_i^a P_j^a
  t_ij^-gamma`` on the baseline door-to-door time ``t_ij`` (minutes), ``k`` calibrated so
  that the trips among ``calibration_places`` sum to ``calibration_trips_per_year /
  days_per_year``; or an observed OD table. With a scenario's time ``s_ij`` the trips become
  ``T_ij (s_ij / t_ij)^-gamma`` (the same model, pivoting on the observed table when given).
* **Benefit**: travel-time savings valued by the rule of a half, per pair
  ``(t_ij - s_ij) / 60 * (T_ij + T'_ij) / 2 * value_of_time``, times ``days_per_year``; pairs
  reachable in only one of the two networks are not valued (they are listed in the coverage
  table).
* **Discounting** at ``discount_rate``: capital spread evenly over the construction years
  ``0 .. C-1`` (at year 0 when ``C`` is 0), benefits and operating costs at the end of the
  operating years ``C+1 .. C+N``; ``annuity = sum((1 + r)^-y, y = C+1 .. C+N)``.
  ``pv_benefit = benefit * annuity``; ``pv_cost = pv_capital + operating * annuity``;
  ``npv = pv_benefit - pv_cost``; ``bcr = pv_benefit / pv_cost`` (undefined when the
  scenario costs nothing or saves money); ``cost_per_hour_saved_cny = pv_cost /
  (hours_saved * annuity)``.
* **Sensitivity**: the same with capital, operating costs, demand and the value of time each
  swung by ``sensitivity`` up and down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.analyses.evaluate.parameters import AppraisalParams
from planner.common.geodesy import haversine_m
from planner.errors import InputError
from planner.ingest.gtfs.modes import MODES
from planner.network.timetable import Timetable
from planner.scenarios.costs import (
    DEFAULT_CONSTRUCTION_YEARS,
    UNIT_COSTS,
    speed_class,
    train_km_key,
    unit_cost,
)
from planner.scenarios.spec import AddLine, Scenario

__all__ = ["Demand", "ScenarioCosts", "annuity", "appraise", "baseline_demand", "scenario_costs",
           "scenario_trips", "sensitivity", "train_km_per_day"]


# ------------------------------------------------------------------------------ costs
@dataclass
class ScenarioCosts:
    """What a scenario costs (module docstring); ``items`` are the cost lines for the report."""

    new_track_km: float = 0.0
    upgraded_track_km: float = 0.0
    existing_track_km: float = 0.0
    capital_million: float = 0.0
    operating_million_per_year: float = 0.0
    train_km_per_day_change: float = 0.0
    construction_years: int = 0
    #: capital of each new line's track (line id -> million CNY)
    line_capital: dict[str, float] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def train_km_per_day(tt: Timetable, route_factor: float) -> dict[str, float]:
    """Train-km a day by mode of the trips of the service date (``trip_day_offset`` 0):
    straight-line km between consecutive stops times ``route_factor``."""
    ptr = tt.pattern_stops_ptr.astype(np.int64)
    stops = tt.pattern_stops
    if len(stops) < 2:
        return {}
    lat, lon = tt.stop_lat[stops], tt.stop_lon[stops]
    seg = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]) / 1000.0 * route_factor
    cum = np.r_[0.0, np.cumsum(seg)]
    # a pattern's length: from its first to its last stop (segments across patterns excluded)
    length = cum[ptr[1:] - 1] - cum[ptr[:-1]]
    today = tt.trip_day_offset == 0
    trips = np.bincount(tt.trip_pattern[today], minlength=len(length))[:len(length)]
    out: dict[str, float] = {}
    for m in np.unique(tt.pattern_mode):
        sel = tt.pattern_mode == m
        out[MODES[int(m)]] = float((length[sel] * trips[sel]).sum())
    return out


def scenario_costs(scn: Scenario, lines: list[dict], base_train_km: dict[str, float], scn_tt: Timetable | None,
                   params: AppraisalParams) -> ScenarioCosts:
    """The costs of ``scn`` (``lines``: its new lines with ``segment_km`` and the ``AddLine``;
    ``base_train_km``: the baseline's :func:`train_km_per_day`)."""
    c = ScenarioCosts()
    over = scn.costs.overrides
    for line in lines:
        ch: AddLine = line["change"]
        if not ch.track_declared:
            c.notes.append(f"{scn.name}: line {ch.id} does not say its track (track: new | upgraded | existing); "
                           "every segment is counted as new track")
        for kind in ("new", "upgraded", "existing"):
            km = float(sum(s for s, t in zip(line["segment_km"], ch.track, strict=True) if t == kind))
            if km <= 0:
                continue
            setattr(c, f"{kind}_track_km", getattr(c, f"{kind}_track_km") + km)
            if kind == "existing":
                continue
            if ch.cost_per_km_million is not None:
                unit, name, source = ch.cost_per_km_million, "cost_per_km_million", f"scenario line {ch.id}"
            else:
                cls = speed_class(float(ch.cost_speed_kmh or 0.0))
                if ch.cost_speed_kmh is None:
                    c.notes.append(f"{scn.name}: line {ch.id} gives no design speed; its {kind} track is costed at "
                                   f"the {cls} km/h class (give design_speed_kmh or cost_per_km_million)")
                name = f"{kind}_track_{cls}"
                unit = unit_cost(name, over)
                source = "scenario override" if name in over else UNIT_COSTS[name].source
            c.items.append(_item(f"{kind} track, line {ch.id}", km, "route-km", unit, "million CNY per route-km",
                                 unit * km, 0.0, name, source))
            c.line_capital[ch.id] = c.line_capital.get(ch.id, 0.0) + unit * km
            if kind == "new":
                mname = ("maintenance_new_track_hsr" if (ch.cost_speed_kmh or 0) >= 200
                         else "maintenance_new_track_conventional")
                munit = unit_cost(mname, over)
                c.items.append(_item(f"maintenance of new track, line {ch.id}", km, "route-km", munit,
                                     "million CNY per route-km per year", 0.0, munit * km, mname,
                                     UNIT_COSTS[mname].source))
    if scn_tt is not None:
        before = base_train_km
        after = train_km_per_day(scn_tt, params.rail_route_factor)
        for mode in sorted(set(before) | set(after)):
            d = after.get(mode, 0.0) - before.get(mode, 0.0)
            if abs(d) < 0.5:
                continue
            name = train_km_key(mode)
            unit = unit_cost(name, over)
            yearly = d * params.days_per_year * unit / 1e6
            c.train_km_per_day_change += d
            c.items.append(_item(f"{'added' if d > 0 else 'removed'} {mode} train-km", d, "train-km a day",
                                 unit, UNIT_COSTS[name].unit, 0.0, yearly, name,
                                 "scenario override" if name in over else UNIT_COSTS[name].source))
    if scn.costs.capital_million or scn.costs.operating_million_per_year:
        c.items.append(_item("fixed costs of the scenario", 1, "", 0.0, "", scn.costs.capital_million,
                             scn.costs.operating_million_per_year, "costs", scn.costs.note or "scenario file"))
    c.capital_million = float(sum(i["capital_million"] for i in c.items))
    c.operating_million_per_year = float(sum(i["operating_million_per_year"] for i in c.items))
    years = scn.costs.construction_years
    c.construction_years = years if years is not None else (DEFAULT_CONSTRUCTION_YEARS if c.capital_million > 0
                                                            and (c.new_track_km or c.upgraded_track_km) else 0)
    return c


def _item(what, quantity, qunit, unit, uunit, capital, operating, name, source) -> dict:
    return {"item": what, "quantity": round(float(quantity), 1), "quantity_unit": qunit, "unit_cost": unit,
            "unit": uunit, "capital_million": float(capital), "operating_million_per_year": float(operating),
            "table_entry": name, "source": source}


# ------------------------------------------------------------------------------ demand
@dataclass
class Demand:
    """Baseline trips a day between places (``trips[i, j]``, one direction) and how they were made
    (all NaN when the model could not be calibrated: benefits are then unknown, not zero)."""

    trips: np.ndarray
    basis: str
    k: float | None = None


def baseline_demand(base_T: np.ndarray, pop: np.ndarray, ids, params: AppraisalParams,
                    od: pd.DataFrame | None = None) -> Demand:
    """Trips a day on the baseline: the observed ``od`` table, else the calibrated gravity
    model (module docstring). Unreachable pairs get no trips. When the calibration places are
    not among the places, the trips are unknown (NaN) and ``basis`` says what to give."""
    n = len(pop)
    ids = [str(i) for i in ids]
    finite = np.isfinite(base_T) & ~np.eye(n, dtype=bool) & (base_T > 0)
    if od is not None:
        trips = np.zeros((n, n))
        where = {pid: k for k, pid in enumerate(ids)}
        unknown = sorted(({str(x) for x in od["from_id"]} | {str(x) for x in od["to_id"]}) - set(where))
        if unknown:
            msg = f"the OD table names places that are not among the places: {', '.join(unknown[:10])}"
            raise InputError(msg, code="invalid_od", hint="use the ids of the places (planner.ingest.points)")
        for a, b, v in zip(od["from_id"], od["to_id"], od["trips_per_day"], strict=True):
            trips[where[str(a)], where[str(b)]] = float(v)
        return Demand(trips, f"observed OD table ({int((trips > 0).sum())} pairs, {trips.sum():,.0f} trips a day)")
    a = params.population_exponent
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = np.where(finite, np.outer(pop ** a, pop ** a) * np.where(finite, base_T, 1.0) ** -params.gravity_gamma,
                         0.0)
    cal = [ids.index(p) for p in params.calibration_places if p in ids]
    total = shape[np.ix_(cal, cal)].sum() if len(cal) >= 2 else 0.0
    if total <= 0:
        # no basis for the number of trips: the benefits stay unknown (NaN), and every output says why
        why = ("are not among the places" if len(cal) < 2 else "are not connected to each other on the baseline")
        return Demand(np.full((n, n), np.nan),
                      f"not calibrated: the calibration places ({', '.join(params.calibration_places)}) {why}; "
                      "give calibration places and their trips a year in an --appraisal file, or observed trips "
                      "with --od", None)
    k = params.calibration_trips_per_year / params.days_per_year / total
    missing = [p for p in params.calibration_places if p not in ids]
    basis = (f"gravity model T = k P_i^{a:g} P_j^{a:g} t^-{params.gravity_gamma:g} calibrated to "
             f"{params.calibration_trips_per_year / 1e6:,.0f} million trips a year among "
             f"{len(cal)} places ({', '.join(ids[i] for i in cal)})"
             + (f"; not among the places: {', '.join(missing)}" if missing else ""))
    return Demand(shape * k, basis, k)


def scenario_trips(base_trips: np.ndarray, base_T: np.ndarray, T: np.ndarray, gamma: float) -> np.ndarray:
    """Trips with the scenario's times: ``T (s / t)^-gamma`` where both times are known, else unchanged."""
    both = np.isfinite(base_T) & np.isfinite(T) & (base_T > 0) & (T > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(both, T / np.where(both, base_T, 1.0), 1.0)
    return base_trips * ratio ** -gamma


# ------------------------------------------------------------------------------ appraisal
def annuity(rate: float, construction_years: int, operating_years: int) -> float:
    """Present value of 1 a year over the operating years ``C+1 .. C+N``."""
    y = np.arange(construction_years + 1, construction_years + operating_years + 1)
    return float(((1.0 + rate) ** -y.astype(float)).sum())


def pv_capital(capital: float, rate: float, construction_years: int) -> float:
    """Present value of ``capital`` spread evenly over years ``0 .. C-1`` (year 0 when C is 0)."""
    c = max(int(construction_years), 1)
    return float(capital * ((1.0 + rate) ** -np.arange(c, dtype=float)).mean())


def appraise(base_T: np.ndarray, T: np.ndarray, demand: Demand, costs: ScenarioCosts,
             params: AppraisalParams) -> tuple[dict, pd.DataFrame]:
    """The appraisal columns of one scenario and its per-pair benefits (module docstring)."""
    both = np.isfinite(base_T) & np.isfinite(T)
    np.fill_diagonal(both, False)
    after = scenario_trips(demand.trips, base_T, T, params.gravity_gamma)
    with np.errstate(invalid="ignore"):
        saved_min = np.where(both, base_T - T, 0.0)
    half = (demand.trips + after) / 2.0
    hours_day = saved_min / 60.0 * half
    benefit_day = hours_day * params.value_of_time_cny_per_h
    days = params.days_per_year
    benefit = float(benefit_day.sum()) * days / 1e6
    hours = float(hours_day.sum()) * days
    row = _money(benefit, hours, costs, params)
    row["trips_per_day"] = float(after[both].sum())
    row["new_trips_per_day"] = float((after - demand.trips)[both].sum())
    i, j = np.nonzero(both & (np.abs(saved_min) > 1e-9))
    pairs = pd.DataFrame({"i": i, "j": j, "minutes_saved": saved_min[i, j], "trips_per_day": demand.trips[i, j],
                          "trips_per_day_after": after[i, j],
                          "benefit_million_cny_per_year": benefit_day[i, j] * days / 1e6})
    return row, pairs.sort_values("benefit_million_cny_per_year", ascending=False, kind="stable")


def _money(benefit: float, hours: float, costs: ScenarioCosts, params: AppraisalParams) -> dict:
    r = params.discount_rate
    a = annuity(r, costs.construction_years, params.operating_years)
    capital = pv_capital(costs.capital_million, r, costs.construction_years)
    pv_cost = capital + costs.operating_million_per_year * a
    pv_benefit = benefit * a
    return {
        "capital_million_cny": round(costs.capital_million, 3),
        "operating_million_cny_per_year": round(costs.operating_million_per_year, 3),
        "hours_saved_per_year": round(hours, 1),
        "benefit_million_cny_per_year": round(benefit, 3),
        "pv_benefit_million_cny": round(pv_benefit, 3),
        "pv_cost_million_cny": round(pv_cost, 3),
        "npv_million_cny": round(pv_benefit - pv_cost, 3),
        "bcr": round(pv_benefit / pv_cost, 3) if pv_cost > 1e-9 else float("nan"),
        "cost_per_hour_saved_cny": round(pv_cost * 1e6 / (hours * a), 2) if hours > 1e-9 and pv_cost > 1e-9
        else float("nan"),
    }


#: sensitivity cases: name -> (capital, operating, demand, value of time) factors' signs
_CASES = {"central": (0, 0, 0, 0), "capital +": (1, 0, 0, 0), "capital -": (-1, 0, 0, 0),
          "operating +": (0, 1, 0, 0), "operating -": (0, -1, 0, 0), "demand +": (0, 0, 1, 0),
          "demand -": (0, 0, -1, 0), "value of time +": (0, 0, 0, 1), "value of time -": (0, 0, 0, -1)}


def sensitivity(results: list[tuple[str, dict, ScenarioCosts]], params: AppraisalParams) -> pd.DataFrame:
    """BCR, NPV and rank of every scenario in every case (``results``: name, central row, costs).

    Benefits scale with demand and the value of time (the rule of a half is linear in both);
    costs with the capital and operating factors."""
    s = params.sensitivity
    rows = []
    for case, (fc, fo, fd, fv) in _CASES.items():
        for name, row, costs in results:
            scaled = ScenarioCosts(capital_million=costs.capital_million * (1 + fc * s),
                                   operating_million_per_year=costs.operating_million_per_year * (1 + fo * s),
                                   construction_years=costs.construction_years)
            benefit = row["benefit_million_cny_per_year"] * (1 + fd * s) * (1 + fv * s)
            hours = row["hours_saved_per_year"] * (1 + fd * s)
            m = _money(benefit, hours, scaled, params)
            rows.append({"case": case, "scenario": name, "bcr": m["bcr"], "npv_million_cny": m["npv_million_cny"]})
    df = pd.DataFrame(rows)
    if len(df):
        df["rank"] = (df.assign(key=df["bcr"].fillna(-np.inf)).groupby("case", sort=False)["key"]
                      .rank(ascending=False, method="first").astype(int))
    return df
