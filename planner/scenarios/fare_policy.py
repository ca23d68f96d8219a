"""The ``fare_policy`` change of a scenario file and how it maps to :class:`UnifiedCardPolicy`.

A scenario (:mod:`planner.scenarios.spec`) may hold one ``fare_policy`` change::

    - fare_policy:
        unified_card: true
        operators: [中国铁路哈尔滨局集团有限公司, 哈尔滨地铁]
        tariff: integrated
        transfer_window_min: 240
        transfer_discount: 3

Keys (every one optional except ``unified_card``; units in the key names):

========================  ===========================  ==================================================
scenario key              UnifiedCardPolicy field      value
========================  ===========================  ==================================================
``unified_card``          (the policy kind)            ``true`` (the only kind there is)
``name``                  ``name``                     label in outputs (default: the scenario's name)
``operators``             ``systems``                  list of operators on the card: agency names,
                                                       agency ids (``FEED:AGENCY`` or bare), feed ids or
                                                       fare-system ids; ``all`` or left out: every system
                                                       with fares. An operator whose fare system also
                                                       prices other operators puts that whole system on
                                                       the card (the two China Railway groups share one).
``tariff``                ``tariff``                   ``integrated`` (card tickets) or ``keep`` (own fares)
``transfer_window_min``   ``transfer_window_s`` / 60   minutes from a card ticket's first departure;
                                                       ``unlimited``: no time limit (also the fastest
                                                       to search); ``null``: no transfers
``max_transfers``         ``max_transfers``            integer >= 0, ``null``: unlimited
``transfer_fee``          ``transfer_fee``             currency units per transfer
``transfer_discount``     ``transfer_discount``        currency units off a connecting ride; ``full``
                                                       or ``null``: the connecting ride is free
``fare_cap``              ``fare_cap``                 currency units; ``null``: no cap
``keep_penalty_modes``    ``penalty_modes_kept``       modes whose ticketing penalty stays (e.g.
                                                       ``[high_speed_rail]`` for a security check)
``min_connection_min``    ``change_s`` / 60            minimum connection time at card stops (minutes)
``transfer_penalty_min``  ``transfer_penalty_min``     perceived minutes per transfer with the card
========================  ===========================  ==================================================

Defaults are those of :class:`UnifiedCardPolicy` (``integrated``, a 90-minute window, the
connecting ride free). Keys and value types are checked when the scenario is loaded
(:func:`check_spec`, errors name the file and line); operators are resolved against the
feeds when the policy is used (:func:`card_policy`), with the same kind of error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner.errors import ConfigError, ScenarioError
from planner.ingest.gtfs.modes import MODES
from planner.network.fares.model import UNLIMITED
from planner.network.fares.policy import UnifiedCardPolicy

if TYPE_CHECKING:
    from planner.ingest.gtfs.feed import FeedSet
    from planner.network.fares.build import FareSystems
    from planner.scenarios.spec import FarePolicy

__all__ = ["SPEC_KEYS", "CardSpec", "card_policy", "check_spec"]


@dataclass(frozen=True)
class _Key:
    field: str
    kind: str        # bool, str, number, int, list, minutes
    nullable: bool = False
    choices: tuple[str, ...] = ()


#: scenario key -> how it maps onto :class:`UnifiedCardPolicy`
SPEC_KEYS: dict[str, _Key] = {
    "unified_card": _Key("", "bool"),
    "name": _Key("name", "str"),
    "operators": _Key("systems", "operators", nullable=True),
    "tariff": _Key("tariff", "str", choices=("integrated", "keep")),
    "transfer_window_min": _Key("transfer_window_s", "minutes", nullable=True),
    "max_transfers": _Key("max_transfers", "int", nullable=True),
    "transfer_fee": _Key("transfer_fee", "number"),
    "transfer_discount": _Key("transfer_discount", "discount", nullable=True),
    "fare_cap": _Key("fare_cap", "number", nullable=True),
    "keep_penalty_modes": _Key("penalty_modes_kept", "modes"),
    "min_connection_min": _Key("change_s", "minutes", nullable=True),
    "transfer_penalty_min": _Key("transfer_penalty_min", "number", nullable=True),
}


#: largest number a fare policy accepts (currency units, minutes): amounts become int64 minor units
MAX_VALUE = 1e7


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= MAX_VALUE


def _short(v: Any, limit: int = 60) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[:limit] + "..."


def check_spec(spec: Any) -> list[tuple[str | None, str]]:
    """Problems of a ``fare_policy`` mapping as ``(key or None, message)``; empty when valid."""
    if not isinstance(spec, dict):
        return [(None, "must be a mapping of fields")]
    out: list[tuple[str | None, str]] = []
    for key, value in spec.items():
        k = SPEC_KEYS.get(key)
        if k is None:
            out.append((key, f"unknown field (expected one of {', '.join(SPEC_KEYS)})"))
            continue
        if value is None:
            if not k.nullable:
                out.append((key, "must not be empty"))
            continue
        if k.kind == "bool":
            if value is not True:
                out.append((key, f"must be true (the unified card is the only fare policy), got {_short(value)}"))
        elif k.kind == "str":
            if not isinstance(value, str) or not value.strip():
                out.append((key, f"must be a text, got {_short(value)}"))
            elif k.choices and value not in k.choices:
                out.append((key, f"must be one of {', '.join(k.choices)}, got {_short(value)}"))
        elif k.kind == "operators":
            if value != "all" and (not isinstance(value, list) or not value
                                   or not all(isinstance(x, str | int) and str(x).strip() for x in value)):
                out.append((key, f"must be a list of operator names or ids, or 'all', got {_short(value)}"))
        elif k.kind in ("number", "minutes"):
            if key == "transfer_window_min" and value == "unlimited":
                continue
            if not _num(value) or value < 0:
                out.append((key, f"must be a number between 0 and {MAX_VALUE:g}, got {_short(value)}"))
            elif k.kind == "minutes" and value * 60 >= 86_400 * (30 if key == "transfer_window_min" else 1):
                out.append((key, f"must be less than {'30 days' if key == 'transfer_window_min' else '24 hours'}, "
                                 f"got {_short(value)}"))
        elif k.kind == "int":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_VALUE:
                out.append((key, f"must be a whole number >= 0, got {_short(value)}"))
        elif k.kind == "discount":
            if value != "full" and (not _num(value) or value < 0):
                out.append((key, f"must be a number between 0 and {MAX_VALUE:g}, or 'full', got {_short(value)}"))
        elif k.kind == "modes":
            if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
                out.append((key, f"must be a list of mode names, got {_short(value)}"))
            else:
                bad = [m for m in value if m not in MODES]
                if bad:
                    out.append((key, f"unknown mode(s) {bad} (known: {', '.join(MODES)})"))
    if "unified_card" not in spec and not out:
        out.append((None, "give 'unified_card: true' (the unified card is the only fare policy)"))
    return out


@dataclass(frozen=True)
class CardSpec:
    """A resolved fare policy: the card and which operators put which systems on it."""

    policy: UnifiedCardPolicy
    operators: dict[str, str]     # operator as written -> fare-system id
    notes: tuple[str, ...] = ()


def _where(fp: FarePolicy, key: str | None) -> str:
    line = fp.key_lines.get(key, fp.line) if key else fp.line
    path = fp.path or "<scenario>"
    field = "fare_policy" + (f".{key}" if key else "")
    return f"{path}:{line}: field '{field}'"


def _operator_index(fares: FareSystems, feeds: FeedSet | None) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Operator key (system id, feed id, agency id with and without its feed prefix, agency
    name) -> the fare systems pricing its routes; and system id -> the agency names it prices."""
    index: dict[str, set[str]] = {s.system_id: {s.system_id} for s in fares}
    names: dict[str, set[str]] = {}
    for feed in feeds or ():
        routes = feed.namespaced("routes")
        agencies = feed.namespaced("agency")
        sole = str(agencies["agency_id"].iloc[0]) if len(agencies) == 1 else ""
        by_agency: dict[str, set[str]] = {}
        for r, a in zip(routes["route_id"], routes["agency_id"], strict=True):
            sid = fares.system_of(str(r))
            if sid is not None:
                by_agency.setdefault(str(a) or sole, set()).add(sid)
        index.setdefault(feed.feed_id, set()).update(*by_agency.values())
        for a, name in zip(agencies["agency_id"], agencies["agency_name"], strict=True):
            sids = by_agency.get(str(a), set())
            for sid in sids:
                names.setdefault(sid, set()).add(str(name).strip() or str(a))
            for key in {str(a), str(a).split(":", 1)[-1], str(name).strip()}:
                if key:
                    index.setdefault(key, set()).update(sids)
    return index, names


def card_policy(fp: FarePolicy, fares: FareSystems, feeds: FeedSet | None = None, *,
                default_name: str = "unified_card") -> CardSpec:
    """The :class:`UnifiedCardPolicy` of a scenario's ``fare_policy`` change.

    Raises :class:`~planner.errors.ScenarioError` naming the file, the line and the field
    for an operator no feed has, an operator without fares, or values the policy refuses.
    """
    spec = fp.spec
    problems = check_spec(spec)
    if problems:
        msg = "invalid fare policy:\n  " + "\n  ".join(f"{_where(fp, k)}: {m}" for k, m in problems)
        raise ScenarioError(msg, code="invalid_fare_policy", hint="see the keys in planner.scenarios.fare_policy")
    kw: dict[str, Any] = {"name": str(spec.get("name") or default_name)}
    notes: list[str] = []
    operators: dict[str, str] = {}
    ops = spec.get("operators")
    if ops is not None and ops != "all":
        index, names = _operator_index(fares, feeds)
        systems: set[str] = set()
        unknown, unpriced = [], []
        for op in ops:
            key = str(op).strip()
            sids = index.get(key)
            if not sids:
                (unpriced if key in index else unknown).append(key)
                continue
            operators[key] = ", ".join(sorted(sids))
            systems |= sids
            for sid in sorted(sids):
                others = sorted(names.get(sid, set()) - {key})
                if others and key not in (sid, *(f.feed_id for f in feeds or ())):
                    notes.append(f"operator {key!r} shares fare system {sid} with {', '.join(others)}: "
                                 "the whole system is on the card")
        if unknown or unpriced:
            parts = []
            if unknown:
                parts.append(f"unknown operator(s) {unknown} (known: {', '.join(sorted(index))})")
            if unpriced:
                parts.append(f"operator(s) {unpriced} have no priced fare system")
            msg = f"{_where(fp, 'operators')}: " + "; ".join(parts)
            raise ScenarioError(msg, code="unknown_operator",
                                hint="name operators by agency_name or agency_id, feeds by id")
        kw["systems"] = tuple(sorted(systems))
    for key, k in SPEC_KEYS.items():
        if key in ("unified_card", "name", "operators") or key not in spec:
            continue
        v = spec[key]
        if k.kind == "minutes":
            v = UNLIMITED if v == "unlimited" else None if v is None else round(float(v) * 60)
        elif k.kind == "discount":
            v = None if v in (None, "full") else float(v)
        elif k.kind == "modes":
            v = tuple(v)
        elif k.kind == "number" and v is not None:
            v = float(v)
        kw[k.field] = v
    try:
        policy = UnifiedCardPolicy(**kw)
    except ConfigError as err:
        msg = f"{_where(fp, None)}: {err.message}"
        raise ScenarioError(msg, code="invalid_fare_policy") from err
    return CardSpec(policy, operators, tuple(dict.fromkeys(notes)))
