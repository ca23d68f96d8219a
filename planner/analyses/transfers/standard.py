"""The transfer standard (walking-distance classes) and the delay model, with their sources.

:class:`TransferStandard` classifies a transfer by its walking distance on the street
network (platform to platform where entrances and pathways are known):

========== ================ ==========================================================
class      walk             where the threshold comes from
========== ================ ==========================================================
good       <= 200 m         Shanghai Pudong rail-bus hubs (2008): bus stops within
                            200 m of the rail exit ("2-3 minutes' walk"), typically
                            80 m (Xinmin Evening News, 2008-03-04, via 141ad.cn)
acceptable <= 400 m         the most cited walking standard, 400 m / 1/4 mi (Human
                            Transit, "basics: walking distance to transit", 2011);
                            also Beijing's interchange design target "3 minutes,
                            at most 5 minutes" (5 min x 1.33 m/s = 399 m; Beijing
                            Municipal Planning Commission, reported via soolun.net)
poor       <= 1000 m        R5/Conveyal generates no walking transfer beyond
                            ``TRANSFER_DISTANCE_LIMIT_METERS = 1000`` (anchors,
                            features.md): beyond it a transfer is not modelled at all
very_poor  > 1000 m         everything else
no_path    --               no walking path found on the street network
========== ================ ==========================================================

A transfer *fails* the standard when it is worse than ``acceptable``. Independently, a
*detour flag* marks pairs whose walk is at least ``detour_ratio_flag`` times the straight
line and at least ``detour_min_m`` long: OpenTripPlanner's ``DirectTransferAnalyzer``
reports exactly those (``MIN_RATIO_TO_LOG = 2``, ``MIN_STREET_DISTANCE_TO_LOG = 100``;
anchors, features.md).

:class:`DelayModel` gives the arrival delay of the vehicle a traveller changes from as an
exponential distribution with a mean per mode: ``P(delay > s) = exp(-s / mean)``. The
means are **assumptions** (no punctuality statistics are in the project's data); they only
rank pairs by how tight their scheduled slack is, and a standard file may replace them.

Both are read from a YAML file (``plan transfers --standard FILE``) with the fields of the
two classes, e.g.::

    good_max_m: 150
    acceptable_max_m: 300
    poor_max_m: 800
    detour_ratio_flag: 2.0
    detour_min_m: 100
    connector_max_m: 400
    connector_min_saving_min: 1.0
    data_detour_ratio: 3.0
    delay_mean_min: {bus: 4.0, metro: 0.5}
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planner.common.safe_yaml import load_yaml_with_lines
from planner.errors import ConfigError
from planner.ingest.gtfs.modes import MODES

__all__ = ["CLASSES", "DEFAULT_DELAY_MEAN_MIN", "DelayModel", "TransferStandard", "load_standard"]

#: classes from best to worst
CLASSES = ("good", "acceptable", "poor", "very_poor", "no_path")

#: assumed mean arrival delay per mode (minutes); see the module docstring
DEFAULT_DELAY_MEAN_MIN: dict[str, float] = {
    "high_speed_rail": 1.0, "intercity_rail": 3.0, "rail": 2.0, "metro": 0.5, "monorail": 0.5,
    "tram": 1.5, "bus": 3.0, "trolleybus": 3.0, "coach": 5.0, "ferry": 2.0, "cable_tram": 1.0,
    "aerial_lift": 1.0, "funicular": 1.0, "other": 2.0,
}


@dataclass(frozen=True)
class TransferStandard:
    """Walking-distance classes of a transfer and the connector search limit.

    Parameters
    ----------
    good_max_m, acceptable_max_m, poor_max_m
        Upper walking distances (metres) of the classes ``good``, ``acceptable`` and
        ``poor``; longer walks are ``very_poor``. Sources in the module docstring.
    detour_ratio_flag, detour_min_m
        Flag pairs with walk / straight line >= ``detour_ratio_flag`` and walk >=
        ``detour_min_m`` (OpenTripPlanner's transfer analyzer).
    connector_max_m
        Longest new entrance passage or connector the placement search considers
        (straight metres from the station's nearest platform to the new street-side
        point). An assumption: the acceptable walking distance.
    connector_min_saving_min
        A suggested entrance must shorten the failing pair's walk by at least this many
        minutes (an assumption: a passage that saves less is not worth building).
    data_detour_ratio
        A walk at least this many times the straight line (and ``detour_min_m`` long) is
        listed apart as "check the map data" (:mod:`planner.analyses.transfers.quality`). An
        assumption: 1.5 times the ratio OpenTripPlanner logs as a detour (2); transfers
        between stations a few hundred metres apart are seldom three times as long on foot.
    """

    good_max_m: float = 200.0
    acceptable_max_m: float = 400.0
    poor_max_m: float = 1000.0
    detour_ratio_flag: float = 2.0
    detour_min_m: float = 100.0
    connector_max_m: float = 400.0
    connector_min_saving_min: float = 1.0
    data_detour_ratio: float = 3.0

    def __post_init__(self) -> None:
        problems = []
        for name in ("good_max_m", "acceptable_max_m", "poor_max_m", "detour_ratio_flag", "detour_min_m",
                     "connector_max_m", "connector_min_saving_min", "data_detour_ratio"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                problems.append(f"{name} must be a non-negative number, got {v!r}")
        if not problems and not self.good_max_m <= self.acceptable_max_m <= self.poor_max_m:
            problems.append("the thresholds must grow: good_max_m <= acceptable_max_m <= poor_max_m")
        if problems:
            msg = "invalid transfer standard: " + "; ".join(problems)
            raise ConfigError(msg, code="invalid_standard")

    def classify(self, walk_m: float) -> str:
        """The class of a walk of ``walk_m`` metres (``no_path`` for NaN).

        >>> TransferStandard().classify(350.0)
        'acceptable'
        """
        if not math.isfinite(walk_m):
            return "no_path"
        if walk_m <= self.good_max_m:
            return "good"
        if walk_m <= self.acceptable_max_m:
            return "acceptable"
        if walk_m <= self.poor_max_m:
            return "poor"
        return "very_poor"

    @staticmethod
    def fails(cls: str) -> bool:
        """True for the classes worse than ``acceptable``."""
        return CLASSES.index(cls) > CLASSES.index("acceptable")

    def detour_flag(self, walk_m: float, straight_m: float) -> bool:
        """OpenTripPlanner's rule: walk >= ratio x straight line and walk >= the minimum."""
        if not (math.isfinite(walk_m) and math.isfinite(straight_m)) or straight_m <= 0:
            return False
        return walk_m >= self.detour_ratio_flag * straight_m and walk_m >= self.detour_min_m


@dataclass(frozen=True)
class DelayModel:
    """Arrival delay of a vehicle: exponential with ``mean_min[mode]`` minutes (assumed).

    ``P(miss) = P(delay > slack) = exp(-slack / mean)``; a slack of 0 misses whenever the
    vehicle is late at all. Modes not listed use ``DEFAULT_DELAY_MEAN_MIN``.
    """

    mean_min: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DELAY_MEAN_MIN))

    def __post_init__(self) -> None:
        problems = []
        for mode, v in self.mean_min.items():
            if mode not in MODES:
                problems.append(f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
            elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                problems.append(f"mean delay of {mode} must be a positive number of minutes, got {v!r}")
        if problems:
            msg = "invalid delay model: " + "; ".join(problems)
            raise ConfigError(msg, code="invalid_standard")

    def mean_s(self, mode: str) -> float:
        """Mean delay of ``mode`` in seconds."""
        return 60.0 * float(self.mean_min.get(mode, DEFAULT_DELAY_MEAN_MIN.get(mode, 2.0)))

    def p_miss(self, mode: str, slack_s: float) -> float:
        """Probability that a ``mode`` vehicle arrives more than ``slack_s`` seconds late.

        >>> round(DelayModel().p_miss("bus", 180.0), 4)
        0.3679
        """
        return math.exp(-max(float(slack_s), 0.0) / self.mean_s(mode))


def load_standard(path: str | Path) -> tuple[TransferStandard, DelayModel]:
    """Read a standard file (YAML, safe loader; fields as in the module docstring).

    Raises
    ------
    ConfigError
        Naming the file, the line and the field of every problem.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        msg = f"cannot read the transfer standard {p}: {err}"
        raise ConfigError(msg, code="input_unreadable", hint="give a UTF-8 YAML file") from err
    data, lines = load_yaml_with_lines(text, p)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"{p}:1: a transfer standard is a mapping of fields"
        raise ConfigError(msg, code="invalid_standard", hint="see 'plan transfers --help'")
    std_fields = {f for f in asdict(TransferStandard())}
    problems = []
    std: dict[str, Any] = {}
    delays: dict[str, float] = dict(DEFAULT_DELAY_MEAN_MIN)
    for key, value in data.items():
        where = f"{p}:{lines.get((key,), 0)}: field '{key}'"
        if key in std_fields:
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{where}: must be a number, got {value!r}")
            else:
                std[key] = float(value)
        elif key == "delay_mean_min":
            if not isinstance(value, dict):
                problems.append(f"{where}: must be a mapping of mode: minutes")
                continue
            for mode, v in value.items():
                w = f"{p}:{lines.get((key, mode), 0)}: field '{key}.{mode}'"
                if mode not in MODES:
                    problems.append(f"{w}: unknown mode (expected one of {', '.join(MODES)})")
                elif isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                    problems.append(f"{w}: must be a positive number of minutes, got {v!r}")
                else:
                    delays[mode] = float(v)
        else:
            allowed = ", ".join([*sorted(std_fields), "delay_mean_min"])
            problems.append(f"{where}: unknown field (expected one of {allowed})")
    if problems:
        msg = "invalid transfer standard:\n  " + "\n  ".join(problems)
        raise ConfigError(msg, code="invalid_standard", hint="see 'plan transfers --help' for the fields")
    try:
        standard = TransferStandard(**std)
    except ConfigError as err:
        msg = f"{p}: {err.message}"
        raise ConfigError(msg, code="invalid_standard") from None
    return standard, DelayModel(delays)


def standard_yaml(standard: TransferStandard, delay: DelayModel) -> str:
    """The standard and delay model as YAML (written beside the results)."""
    doc: dict[str, Any] = dict(asdict(standard))
    doc["delay_mean_min"] = {k: float(v) for k, v in sorted(delay.mean_min.items())}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
