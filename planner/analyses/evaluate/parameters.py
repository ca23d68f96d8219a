"""The appraisal's parameters: value of time, discounting, demand model, each with its source.

:class:`AppraisalParams` holds every economic input of ``plan evaluate``'s appraisal with its
default and, in :data:`SOURCES`, where the default comes from (or ``ASSUMED`` and why). A
user overrides any of them with a YAML file (``plan evaluate --appraisal FILE``)::

    value_of_time_cny_per_h: 25
    discount_rate: 0.06
    operating_years: 30
    gravity_gamma: 1.5
    calibration: {places: [harbin, changchun, shenyang], trips_per_year: 40000000}

and may give an observed origin-destination table instead of the gravity model
(``--od FILE``: CSV ``from_id,to_id,trips_per_day`` on the ids of the places). Errors name the
file, the line and the field.

The unit costs of track and trains are a scenario's matter: :mod:`planner.scenarios.costs`.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.common.safe_yaml import load_yaml_with_lines
from planner.errors import InputError

__all__ = ["SOURCES", "AppraisalParams", "load_od", "load_params"]

#: the places whose trips among themselves the Harbin-Dalian HSR's yearly passengers are
#: taken to be (the cities of the bundled sample with a station on the line)
HADA_CORRIDOR = ("harbin", "changchun", "siping", "tieling", "shenyang", "liaoyang", "anshan", "yingkou", "dalian")


@dataclass(frozen=True)
class AppraisalParams:
    """Economic inputs of the appraisal (defaults and sources in :data:`SOURCES`)."""

    #: value of travel time, CNY per passenger-hour
    value_of_time_cny_per_h: float = 20.0
    #: social discount rate per year (0.08 = 8 %)
    discount_rate: float = 0.08
    #: years of operation appraised after construction
    operating_years: int = 30
    #: days a year the service date stands for
    days_per_year: float = 365.0
    #: gravity model: trips_ij = k * P_i^a * P_j^a * t_ij^-gamma (t in minutes)
    gravity_gamma: float = 2.0
    #: gravity model: population exponent a
    population_exponent: float = 1.0
    #: calibration of k: the places whose trips among themselves sum to ``calibration_trips_per_year``
    calibration_places: tuple[str, ...] = HADA_CORRIDOR
    calibration_trips_per_year: float = 65e6
    #: track km of a train's run per straight-line km between its stops (train-km of timetables)
    rail_route_factor: float = 1.08
    #: swing of each input in the sensitivity table (0.3 = +-30 %)
    sensitivity: float = 0.3

    def scaled(self, **factors: float) -> AppraisalParams:
        """A copy with fields multiplied (``value_of_time_cny_per_h=1.3``)."""
        return replace(self, **{k: getattr(self, k) * v for k, v in factors.items()})


#: where each default comes from
SOURCES: dict[str, str] = {
    "value_of_time_cny_per_h": (
        "Derived, partly ASSUMED (2018 prices): value of time about 50 % of the traveller group's hourly "
        "disposable income (Hou & Yang 2016, Beijing-Taiyuan corridor survey, https://m.fx361.cc/news/2016/0423/"
        "13147060.html); urban disposable income CNY 39,251 a year in 2018 (NBS, 2019-01-21); ASSUMED: 2,000 "
        "working hours a year and rail travellers earning twice the urban mean: 39,251 / 2,000 x 2 x 50 % = 20"),
    "discount_rate": (
        "NDRC and Ministry of Construction, 建设项目经济评价方法与参数 (3rd ed., 2006): social discount rate 8 % "
        "(\"推荐社会折现率为8%\", quoted in https://m.qbook.qq.com/read/1037204902/18); the guide allows no "
        "less than 6 % for very long-lived projects"),
    "operating_years": "ASSUMED: 30 years of operation after construction (usual for railway appraisals in China)",
    "days_per_year": "ASSUMED: the service date (an ordinary weekday) stands for every day of the year",
    "gravity_gamma": (
        "ASSUMED: 2.0, inside the range of distance-decay coefficients of Chinese intercity flows (about 0 in "
        "'plateau' and 2.8 in 'decay' zones: Chu et al. 2023, 地理科学进展 42(1), doi:10.18306/dlkxjz.2023.01.001), "
        "applied to door-to-door time"),
    "population_exponent": "ASSUMED: 1.0, the standard gravity model",
    "calibration_places": (
        "ASSUMED: the trips among the cities with a station on the Harbin-Dalian HSR are the line's passengers"),
    "calibration_trips_per_year": (
        "Harbin-Dalian HSR: 300 million passengers in its first 5 years (Xinhua 2017-12-01) and 670 million in "
        "10 years (CNR 2022-12-01, https://www.163.com/dy/article/HNGCMS0O0514R9NP.html): about 65 million a "
        "year (our average)"),
    "rail_route_factor": "ASSUMED: the sample's Harbin-Dalian line runs about 1.07 track km per straight-line km",
    "sensitivity": "ASSUMED: +-30 % on each input (costs, demand, value of time), as issue 15 asks",
}

_LIMITS: dict[str, tuple[float, float]] = {
    "value_of_time_cny_per_h": (0.0, 10_000.0),
    "discount_rate": (0.0, 0.5),
    "operating_years": (1, 100),
    "days_per_year": (1.0, 366.0),
    "gravity_gamma": (0.0, 5.0),
    "population_exponent": (0.0, 3.0),
    "calibration_trips_per_year": (1.0, 1e11),
    "rail_route_factor": (1.0, 3.0),
    "sensitivity": (0.0, 0.9),
}


def _problem(path: Path | str, line: int, field: str, message: str, hint: str) -> InputError:
    return InputError(f"{path}:{line}: field '{field}': {message}", code="invalid_appraisal", hint=hint)


def load_params(path: str | Path | None, base: AppraisalParams | None = None) -> AppraisalParams:
    """``base`` (default: the defaults) with the fields a YAML file sets (module docstring).

    Raises :class:`~planner.errors.InputError` (exit code 2) naming the file, line and field.
    """
    params = base or AppraisalParams()
    if path is None:
        return params
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        msg = f"cannot read appraisal parameters {p}: {err}"
        raise InputError(msg, code="input_unreadable", hint="give a UTF-8 YAML file") from err
    data, lines = load_yaml_with_lines(text, p)
    hint = "see the parameters in the report's 'Appraisal inputs' table (planner.analyses.evaluate.parameters)"
    if data is None:
        return params
    if not isinstance(data, dict):
        raise _problem(p, 1, "", "the file is a mapping of parameter names to values", hint)
    known = {f.name for f in fields(AppraisalParams)} - {"calibration_places", "calibration_trips_per_year"}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        line = lines.get((key,), 0)
        if key == "calibration":
            changes.update(_calibration(p, lines, value, hint))
            continue
        if key not in known:
            raise _problem(p, line, str(key), f"unknown parameter (one of {', '.join(sorted(known | {'calibration'}))})",
                           hint)
        lo, hi = _LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _problem(p, line, key, f"must be a number, got {value!r}", hint)
        if not lo <= value <= hi:
            shown = f"{value:g}" + (f" ({value:.0%})" if key == "discount_rate" else "")
            raise _problem(p, line, key, f"must be between {lo:g} and {hi:g}, got {shown}", hint)
        if key == "operating_years" and value != int(value):
            raise _problem(p, line, key, f"must be a whole number of years, got {value!r}", hint)
        changes[key] = int(value) if key == "operating_years" else float(value)
    return replace(params, **changes)


def _calibration(p: Path, lines: dict, value: Any, hint: str) -> dict[str, Any]:
    line = lines.get(("calibration",), 0)
    if not isinstance(value, dict) or set(value) - {"places", "trips_per_year"}:
        raise _problem(p, line, "calibration", "must be {places: [id, ...], trips_per_year: N}", hint)
    out: dict[str, Any] = {}
    if "places" in value:
        ids = value["places"]
        if not isinstance(ids, list) or len(ids) < 2 or not all(isinstance(i, str | int) for i in ids):
            raise _problem(p, lines.get(("calibration", "places"), line), "calibration.places",
                           "must list at least two place ids", hint)
        out["calibration_places"] = tuple(str(i) for i in ids)
    if "trips_per_year" in value:
        v = value["trips_per_year"]
        lo, hi = _LIMITS["calibration_trips_per_year"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            raise _problem(p, lines.get(("calibration", "trips_per_year"), line), "calibration.trips_per_year",
                           f"must be a number of trips from {lo:g} to {hi:g}, got {v!r}", hint)
        out["calibration_trips_per_year"] = float(v)
    return out


def load_od(path: str | Path, place_ids) -> pd.DataFrame:
    """An observed origin-destination table: CSV ``from_id,to_id,trips_per_day`` (trips a day
    from one place to the other, one direction) on the ids of the places.

    Returns columns ``from_id``, ``to_id`` (str) and ``trips_per_day`` (float); pairs not listed
    have no trips. Raises :class:`~planner.errors.InputError` naming the file, line and field.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        msg = f"cannot read the OD table {p}: {err}"
        raise InputError(msg, code="input_unreadable", hint="give a UTF-8 CSV file") from err
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    need = ["from_id", "to_id", "trips_per_day"]
    if header is None or [h.strip() for h in header[:3]] != need:
        raise _od_error(p, 1, f"the header must start with {','.join(need)}, got {header!r}")
    known = {str(i) for i in place_ids}
    rows = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < 3:
            raise _od_error(p, line, f"expected 3 fields (from_id,to_id,trips_per_day), got {len(row)}")
        a, b, v = row[0].strip(), row[1].strip(), row[2].strip()
        for field, pid in (("from_id", a), ("to_id", b)):
            if pid not in known:
                shown = ", ".join(sorted(known)[:8]) + (", ..." if len(known) > 8 else "")
                raise _od_error(p, line, f"field '{field}': unknown place {pid!r} (places: {shown})")
        if a == b:
            raise _od_error(p, line, f"field 'to_id': a trip from {a!r} to itself")
        try:
            trips = float(v)
        except ValueError:
            trips = math.nan
        if not math.isfinite(trips) or trips < 0:
            raise _od_error(p, line, f"field 'trips_per_day': must be a number >= 0, got {v!r}")
        if (a, b) in rows:
            raise _od_error(p, line, f"the pair {a} -> {b} is listed twice")
        rows[(a, b)] = trips
    return pd.DataFrame({"from_id": [k[0] for k in rows], "to_id": [k[1] for k in rows],
                         "trips_per_day": np.array(list(rows.values()), dtype=float)})


def _od_error(path: Path, line: int, message: str) -> InputError:
    return InputError(f"{path}:{line}: {message}", code="invalid_od",
                      hint="the OD table is CSV with a header from_id,to_id,trips_per_day and the ids of --places")
