"""Compile fare systems (and a unified card) into the kernel tariff of
:mod:`planner.kernels.fare_raptor` for one timetable.

What the kernel prices exactly, and what is approximated during the search (and priced
exactly afterwards by :func:`~planner.network.fares.price_journey` on the journeys found):

======================  =====================================================================
GTFS Fares v1           exact: fares by route when no fare allows transfers (one ride, one
                        ticket); origin/destination zone fares for any route, with
                        ``transfers`` and ``transfer_duration`` when every fare has the same
                        ones. Approximated: ``contains_id`` (zones passed between the first
                        boarding and the last alighting are not tracked: the rule is checked
                        on those two zones), route-specific rules next to zone rules that
                        allow transfers (left out of the search), fares with different
                        transfer limits (the strictest is used).
GTFS Fares v2           exact: leg prices by network and from/to area; transfer rules that
                        are the same for every leg-group pair, of type 0 or 1, measured from
                        the first departure (duration type 1 or none). Approximated:
                        timeframes (ignored: the cheapest rule), stops in several areas (the
                        first area), other transfer rules (no transfers in the search).
distance, flat, OD      exact.
unified card            exact, with the members' own fares compiled as above; a fare cap is
                        applied to the search results only when every priced system is on
                        the card.
======================  =====================================================================

:attr:`KernelTariff.exact` is true when nothing was approximated; ``notes`` says what was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.kernels.fare_raptor import FARE_NA, UNLIMITED
from planner.network.fares.gtfs_v2 import GtfsV2Fares
from planner.network.fares.model import TicketingPenalty
from planner.network.fares.policy import CARD, UnifiedCardPolicy
from planner.network.fares.systems import (
    DistanceFares,
    FareSystem,
    FlatFares,
    GtfsV1Fares,
    OdTableFares,
)

__all__ = ["KernelTariff", "compile_tariff", "pattern_distances_m", "tariff_from_arrays"]

_FREE = 1 << 50
_UNPRICED = "(unpriced)"


@dataclass(frozen=True)
class KernelTariff:
    """The arrays the fare-aware kernels take, with their labels.

    Attributes
    ----------
    system_ids, gate_ids, zone_ids
        Labels of the kernel's fare systems, ticketing groups and zones (zone 0: none).
    currency
        ISO 4217 code of the fares.
    pattern_system, pattern_gate, pattern_penalty_s
        int32 per pattern.
    first_penalty
        Whether the first boarding pays the penalty.
    stop_zone
        int32 per stop.
    ticket_od
        int64 (C, Z, Z): price of an open ticket by origin and current zone (minor units).
    pattern_ride_table, ride_od
        int32 per pattern; int64 (T, Z, Z): ride-part tables.
    pattern_rate, pattern_min, pattern_round
        Distance part per pattern: minor units per km (float64), minimum and rounding step
        (int64 minor units).
    pattern_cum_m
        float64 aligned with ``pattern_stops``: metres along the pattern.
    pattern_const_rp
        int64 per pattern: the ride part when it does not depend on the stops, else -1.
    sys_window, sys_max_transfers, sys_fee, sys_discount
        int64 per system (see :mod:`planner.kernels.fare_raptor`).
    sys_dep_ptr, sys_deps
        Every boardable departure of each system, sorted (CSR by system).
    stop_dep_ptr, stop_deps
        The same by stop and system (CSR by ``stop * n_systems + system``): the McRAPTOR
        drops or rounds down a walking label's ticket expiry with them.
    fare_cap_minor
        The card's cap, applied to search results when ``cap_in_search``.
    cap_in_search
        True when every priced system is on the card (the cap is then exact in the search).
    exact
        True when the kernel prices every journey as :func:`~planner.network.fares.price_journey`.
    notes
        What was approximated, one line each.
    """

    system_ids: tuple[str, ...]
    gate_ids: tuple[str, ...]
    zone_ids: tuple[str, ...]
    currency: str
    pattern_system: np.ndarray
    pattern_gate: np.ndarray
    pattern_penalty_s: np.ndarray
    first_penalty: bool
    stop_zone: np.ndarray
    ticket_od: np.ndarray
    pattern_ride_table: np.ndarray
    ride_od: np.ndarray
    pattern_rate: np.ndarray
    pattern_min: np.ndarray
    pattern_round: np.ndarray
    pattern_cum_m: np.ndarray
    pattern_const_rp: np.ndarray
    sys_window: np.ndarray
    sys_max_transfers: np.ndarray
    sys_fee: np.ndarray
    sys_discount: np.ndarray
    sys_dep_ptr: np.ndarray
    sys_deps: np.ndarray
    stop_dep_ptr: np.ndarray
    stop_deps: np.ndarray
    fare_cap_minor: int | None
    cap_in_search: bool
    exact: bool
    notes: tuple[str, ...]

    @property
    def n_gates(self) -> int:
        return len(self.gate_ids)

    def gate_args(self) -> tuple:
        """(pattern_gate, pattern_penalty_s, n_gates, first_penalty) for the kernels."""
        return (self.pattern_gate, self.pattern_penalty_s, np.int32(self.n_gates), bool(self.first_penalty))

    def fare_args(self) -> tuple:
        """The tariff arguments of :func:`~planner.kernels.fare_raptor.mc_raptor`."""
        return (self.pattern_system, self.stop_zone, self.ticket_od, self.pattern_ride_table, self.ride_od,
                self.pattern_rate, self.pattern_min, self.pattern_round, self.pattern_cum_m,
                self.pattern_const_rp, self.sys_window, self.sys_max_transfers, self.sys_fee, self.sys_discount,
                self.sys_dep_ptr, self.sys_deps, self.stop_dep_ptr, self.stop_deps)


def pattern_distances_m(tt, feeds=None, column: str | None = None, unit_m: float = 1.0) -> np.ndarray:
    """Metres along each pattern from its first stop, aligned with ``tt.pattern_stops``.

    By default the sum of great-circle distances between consecutive stops (shorter than
    the track by the route's detour; a per-km rate then undercharges by that factor). With
    ``feeds`` and ``column`` (a ``stop_times`` column such as ``shape_dist_traveled`` or the
    bundled rail feed's ``km``, times ``unit_m`` metres per unit), the values of each
    pattern's first trip are used where the feed has them for every stop of the trip.
    """
    out = np.zeros(len(tt.pattern_stops), dtype=np.float64)
    lat = np.radians(tt.stop_lat)
    lon = np.radians(tt.stop_lon)
    marks: dict[str, np.ndarray] = {}
    if feeds is not None and column is not None:
        flist = [feeds] if hasattr(feeds, "feed_id") else list(feeds)
        for f in flist:
            st = f.stop_times
            if column not in st:
                continue
            st = st.sort_values(["trip_id", "stop_sequence"], kind="stable")
            vals = st[column].to_numpy(dtype=np.float64, na_value=np.nan)
            for tid, idx in st.groupby("trip_id", sort=False).indices.items():
                marks[f"{f.feed_id}:{tid}"] = vals[idx]
    for p in range(tt.n_patterns):
        a, b = int(tt.pattern_stops_ptr[p]), int(tt.pattern_stops_ptr[p + 1])
        if marks:
            tid = str(tt.trip_ids[tt.pattern_trips_ptr[p]]).split("@")[0]
            m = marks.get(tid)
            if m is not None and len(m) == b - a and np.isfinite(m).all():
                out[a:b] = (m - m[0]) * unit_m
                continue
        s = tt.pattern_stops[a:b]
        p1, p2 = lat[s[:-1]], lat[s[1:]]
        dl = lon[s[1:]] - lon[s[:-1]]
        h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
        seg = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
        out[a + 1:b] = np.cumsum(seg)
    return out


class _Part:
    """One system compiled: zone tables, per-pattern ride tables and distance parts."""

    def __init__(self, Z: int):
        self.od = np.zeros((Z, Z), np.int64)
        self.ride: dict[int, np.ndarray] = {}      # pattern -> (Z, Z)
        self.dist: dict[int, tuple[float, int, int]] = {}
        self.window = -1
        self.maxtr = 0
        self.fee = 0
        self.disc = _FREE
        self.notes: list[str] = []


def _zone_ok(contains_mode: str, rule, zo: str, zd: str) -> bool:
    if rule.origin and rule.origin != zo:
        return False
    if rule.destination and rule.destination != zd:
        return False
    if rule.contains:
        zones = frozenset({zo, zd} - {""})
        return zones == rule.contains if contains_mode == "exact" else zones <= rule.contains
    return True


def _v1(system: GtfsV1Fares, pats: list[int], pat_route: list[str], zone_ids, Z: int) -> _Part:
    part = _Part(Z)
    fares = system.fares
    running = frozenset(pat_route[p] for p in pats)
    if any(r.contains for rules in system.rules.values() for r in rules):
        part.notes.append(f"{system.system_id}: contains_id checked on the first boarding and last alighting "
                          "zones only during the search")
    if fares and all(f.transfers == 0 for f in fares.values()):
        tables: dict[str, np.ndarray] = {}
        for r in sorted(running):
            tab = np.full((Z, Z), FARE_NA, np.int64)
            for zo_i, zo in enumerate(zone_ids):
                for zd_i, zd in enumerate(zone_ids):
                    best = FARE_NA
                    for fid, f in fares.items():
                        if f.price_minor >= best:
                            continue
                        if f.agency_id and system.route_agency.get(r, "") != f.agency_id:
                            continue
                        rules = system.rules.get(fid, ())
                        if not rules or any((ru.routes is None or r in ru.routes)
                                            and _zone_ok(system.contains_mode, ru, zo, zd) for ru in rules):
                            best = f.price_minor
                    tab[zo_i, zd_i] = best
            tables[r] = tab
        for p in pats:
            part.ride[p] = tables[pat_route[p]]
        return part
    partial = set()
    for fid, rules in system.rules.items():
        for ru in rules:
            if ru.routes is not None and not running <= ru.routes:
                partial.add(fid)
    for fid, f in fares.items():
        if f.agency_id and any(system.route_agency.get(r, "") != f.agency_id for r in running):
            partial.add(fid)
    if partial:
        part.notes.append(f"{system.system_id}: route- or agency-specific fares {sorted(partial)} are left out "
                          "of the search (applied when itineraries are priced)")
    used: dict[str, object] = {}
    for zo_i, zo in enumerate(zone_ids):
        for zd_i, zd in enumerate(zone_ids):
            best, best_f = FARE_NA, None
            for fid, f in fares.items():
                if f.price_minor >= best or (f.agency_id and fid in partial):
                    continue
                rules = [ru for ru in system.rules.get(fid, ()) if ru.routes is None or running <= ru.routes]
                if system.rules.get(fid) and not rules:
                    continue
                if not rules or any(_zone_ok(system.contains_mode, ru, zo, zd) for ru in rules):
                    best, best_f = f.price_minor, f
            part.od[zo_i, zd_i] = best
            if best_f is not None:
                used[best_f.fare_id] = best_f
    limits = {(f.transfers, f.transfer_duration) for f in used.values()}  # type: ignore[attr-defined]
    if len(limits) > 1:
        part.notes.append(f"{system.system_id}: fares differ in transfers/transfer_duration "
                          f"{sorted(limits, key=str)}; the search uses the strictest")
    durations = [d for _t, d in limits]
    transfers = [t for t, _d in limits]
    window = min((UNLIMITED if d is None else d) for d in durations) if limits else -1
    maxtr = min((1 << 30 if t is None else t) for t in transfers) if limits else 0
    part.window = int(window)
    part.maxtr = -1 if maxtr == 1 << 30 else int(maxtr)
    for p in pats:
        part.ride[p] = np.zeros((Z, Z), np.int64)
    return part


def _v2(system: GtfsV2Fares, pats: list[int], pat_route: list[str], zone_ids, Z: int) -> _Part:
    part = _Part(Z)
    if system.timeframes or any(r.from_timeframe or r.to_timeframe for r in system.leg_rules):
        part.notes.append(f"{system.system_id}: fare timeframes ignored during the search (cheapest rule)")
    tables: dict[str, np.ndarray] = {}
    groups = set()
    for p in pats:
        net = system.route_network.get(pat_route[p], "")
        if net not in tables:
            tab = np.full((Z, Z), FARE_NA, np.int64)
            for zb_i, zb in enumerate(zone_ids):
                for za_i, za in enumerate(zone_ids):
                    res = system.price_for(net, frozenset({zb} - {""}), frozenset({za} - {""}), None, None)
                    if res is not None:
                        tab[zb_i, za_i] = res[0]
                        groups.add(res[1])
            tables[net] = tab
        part.ride[p] = tables[net]
    rules = {(r.fare_transfer_type, r.duration_limit, r.duration_limit_type or 0, r.transfer_count, r.product)
             for g1 in groups for g2 in groups for r in system.transfer_rule(g1, g2)[:1]}
    pairs_ok = all(system.transfer_rule(g1, g2) for g1 in groups for g2 in groups)
    if not system.transfer_rules:
        return part
    if len(rules) == 1 and pairs_ok:
        ty, dur, dty, count, product = next(iter(rules))
        if ty in (0, 1) and (count is None or count < 0 or len(groups) == 1):
            part.window = UNLIMITED if dur is None else int(dur)
            part.maxtr = -1 if count is None or count < 0 else int(count)
            part.fee = system.product_price.get(product, 0) if product else 0
            part.disc = _FREE if ty == 0 else 0
            if dur is not None and dty != 1:
                part.notes.append(f"{system.system_id}: transfer duration_limit_type {dty} measured "
                                  "from the first departure to the next departure during the search")
            return part
    part.notes.append(f"{system.system_id}: transfer rules not expressible in the search (no transfers "
                      "there; applied when itineraries are priced)")
    return part


def _other(system: FareSystem, pats: list[int], pat_route: list[str], Z: int, zone_ids=()) -> _Part:
    part = _Part(Z)
    zero = np.zeros((Z, Z), np.int64)
    na = np.full((Z, Z), FARE_NA, np.int64)
    if isinstance(system, DistanceFares):
        for p in pats:
            rate = system.rate_for(pat_route[p])
            if rate is None:
                part.ride[p] = na
            else:
                part.ride[p] = zero
                part.dist[p] = (rate.rate_minor_per_km, rate.min_minor, rate.step_minor)
    elif isinstance(system, OdTableFares):
        zindex = {z: i for i, z in enumerate(zone_ids)}
        part.od[:] = FARE_NA
        for (zo, zd), price in system.prices_minor.items():
            if zo in zindex and zd in zindex:
                part.od[zindex[zo], zindex[zd]] = price
        for p in pats:
            part.ride[p] = zero
        part.window = UNLIMITED if system.transfer_window_s is None else int(system.transfer_window_s)
        part.maxtr = -1
    elif isinstance(system, FlatFares):
        part.od[:] = system.price_minor
        for p in pats:
            part.ride[p] = zero
        if system.transfer_window_s is not None:
            part.window = int(system.transfer_window_s)
            part.maxtr = -1 if system.max_transfers is None else int(system.max_transfers)
    else:
        for p in pats:
            part.ride[p] = na
    return part


def compile_tariff(tt, fares, cum_m: np.ndarray, *, penalty: TicketingPenalty,
                   policy: UnifiedCardPolicy | None = None) -> KernelTariff:
    """Compile ``fares`` (a :class:`~planner.network.fares.FareSystems`) for ``tt``.

    ``cum_m``: :func:`pattern_distances_m` of the timetable. One ticketing group per fare
    system; the card puts its systems in one group (modes in ``penalty_modes_kept`` in a
    group of their own per mode).
    """
    P = tt.n_patterns
    pat_route = [str(r) for r in tt.route_ids[tt.pattern_route]]
    modes = [str(m) for m in tt.mode_names()]
    pat_sys = [fares.system_of(r) or _UNPRICED for r in pat_route]
    # zones: v1 zone ids and v2 areas of the stops
    labels = {}
    multi_area = False
    for system in fares:
        if isinstance(system, GtfsV1Fares | OdTableFares):
            for s, z in system.stop_zone.items():
                if z:
                    labels.setdefault(s, z)
        elif isinstance(system, GtfsV2Fares):
            for s, areas in system.stop_areas.items():
                if areas:
                    labels.setdefault(s, sorted(areas)[0])
                    multi_area |= len(areas) > 1
    stop_label = [labels.get(str(s), "") for s in tt.stop_ids]
    zone_ids = ("", *sorted(set(stop_label) - {""}))
    zindex = {z: i for i, z in enumerate(zone_ids)}
    Z = len(zone_ids)
    stop_zone = np.array([zindex[z] for z in stop_label], dtype=np.int32)
    notes: list[str] = []
    if multi_area:
        notes.append("stops in several fare areas take their first area during the search")
    # compile every system present
    present = sorted(set(pat_sys))
    by_sys: dict[str, list[int]] = {}
    for p, sid in enumerate(pat_sys):
        by_sys.setdefault(sid, []).append(p)
    parts: dict[str, _Part] = {}
    for sid in present:
        system = fares.systems.get(sid)
        if isinstance(system, GtfsV1Fares):
            parts[sid] = _v1(system, by_sys[sid], pat_route, zone_ids, Z)
        elif isinstance(system, GtfsV2Fares):
            parts[sid] = _v2(system, by_sys[sid], pat_route, zone_ids, Z)
        elif system is not None:
            parts[sid] = _other(system, by_sys[sid], pat_route, Z, zone_ids)
        else:
            parts[sid] = _other(FareSystem(_UNPRICED, _UNPRICED, "", frozenset()), by_sys[sid], pat_route, Z)
            notes.append(f"{len(by_sys[sid])} patterns have routes no fare system prices (fares NaN)")
        notes.extend(parts[sid].notes)
    card_ids = policy.card_systems(fares) if policy is not None else frozenset()
    integrated = policy is not None and policy.tariff == "integrated"
    kept = set(policy.penalty_modes_kept) if policy is not None else set()
    # kernel systems
    ksys = [sid for sid in present if not (integrated and sid in card_ids)]
    if integrated and any(sid in card_ids for sid in present):
        ksys.append(CARD)
    kindex = {sid: i for i, sid in enumerate(ksys)}
    C = len(ksys)
    ticket_od = np.zeros((C, Z, Z), np.int64)
    sys_window = np.full(C, -1, np.int64)
    sys_maxtr = np.zeros(C, np.int64)
    sys_fee = np.zeros(C, np.int64)
    sys_disc = np.full(C, _FREE, np.int64)
    for sid, q in kindex.items():
        if sid == CARD and policy is not None:
            if policy.transfer_window_s is not None:
                sys_window[q] = policy.transfer_window_s
                sys_maxtr[q] = -1 if policy.max_transfers is None else policy.max_transfers
            sys_fee[q] = policy.fee_minor
            sys_disc[q] = policy.discount_minor
            continue
        part = parts[sid]
        ticket_od[q] = part.od
        sys_window[q], sys_maxtr[q], sys_fee[q], sys_disc[q] = part.window, part.maxtr, part.fee, part.disc
    # per pattern
    pattern_system = np.empty(P, np.int32)
    pattern_gate = np.empty(P, np.int32)
    pattern_penalty = np.empty(P, np.int32)
    pattern_rate = np.zeros(P, np.float64)
    pattern_min = np.zeros(P, np.int64)
    pattern_round = np.ones(P, np.int64)
    tables: dict[bytes, int] = {}
    table_list: list[np.ndarray] = []
    pattern_table = np.empty(P, np.int32)
    gate_ids: list[str] = []
    gindex: dict[str, int] = {}
    for p in range(P):
        sid = pat_sys[p]
        part = parts[sid]
        on_card = sid in card_ids
        tab = part.ride[p]
        if integrated and on_card:
            tab = np.minimum(tab + part.od, FARE_NA)  # the member's single-ride fare
            pattern_system[p] = kindex[CARD]
        else:
            pattern_system[p] = kindex[sid]
        if on_card:
            gate = f"{CARD}:{modes[p]}" if modes[p] in kept else CARD
            pattern_penalty[p] = penalty.seconds(modes[p]) if modes[p] in kept else 0
        else:
            gate = sid
            pattern_penalty[p] = penalty.seconds(modes[p])
        if gate not in gindex:
            gindex[gate] = len(gate_ids)
            gate_ids.append(gate)
        pattern_gate[p] = gindex[gate]
        key = tab.tobytes()
        if key not in tables:
            tables[key] = len(table_list)
            table_list.append(tab)
        pattern_table[p] = tables[key]
        if p in part.dist:
            pattern_rate[p], pattern_min[p], pattern_round[p] = part.dist[p]
    ride_od = np.stack(table_list) if table_list else np.zeros((1, Z, Z), np.int64)
    const = np.full(P, -1, np.int64)
    for p in range(P):
        if pattern_rate[p] > 0 or pattern_min[p] > 0:
            continue
        zs = stop_zone[tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]]
        sub = ride_od[pattern_table[p]][np.ix_(zs, zs)]
        if (sub == sub.flat[0]).all():
            const[p] = sub.flat[0]
    cap = policy.cap_minor if policy is not None else None
    priced = {sid for sid in present if sid != _UNPRICED and fares.systems[sid].currency}
    cap_in_search = cap is not None and priced <= card_ids
    if cap is not None and not cap_in_search:
        notes.append("the fare cap covers only some systems: applied when itineraries are priced, not in the search")
    return KernelTariff(
        system_ids=tuple(ksys), gate_ids=tuple(gate_ids), zone_ids=zone_ids, currency=fares.currency,
        pattern_system=pattern_system, pattern_gate=pattern_gate, pattern_penalty_s=pattern_penalty,
        first_penalty=bool(penalty.first_boarding), stop_zone=stop_zone, ticket_od=ticket_od,
        pattern_ride_table=pattern_table, ride_od=np.ascontiguousarray(ride_od, np.int64),
        pattern_rate=pattern_rate, pattern_min=pattern_min, pattern_round=pattern_round,
        pattern_cum_m=np.ascontiguousarray(cum_m, np.float64), pattern_const_rp=const,
        sys_window=sys_window, sys_max_transfers=sys_maxtr, sys_fee=sys_fee, sys_discount=sys_disc,
        **_system_departures(tt, pattern_system, C), fare_cap_minor=cap, cap_in_search=cap_in_search, exact=not notes, notes=tuple(notes))


def _system_departures(tt, pattern_system: np.ndarray, C: int) -> dict[str, np.ndarray]:
    """Boardable departures of each kernel system, sorted: CSR (ptr int64 (C+1), int32);
    and by stop and system (CSR by ``stop * C + system``)."""
    sys_of, deps, stop_of = [], [], []
    for p in range(tt.n_patterns):
        a, b = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        _arr, D = tt.pattern_trip_times(p)
        board = tt.pattern_board[a:b]
        d = D[:, board]
        deps.append(d.ravel())
        sys_of.append(np.full(d.size, pattern_system[p], np.int64))
        stop_of.append(np.broadcast_to(tt.pattern_stops[a:b][board].astype(np.int64), d.shape).ravel())
    s = np.concatenate(sys_of) if sys_of else np.zeros(0, np.int64)
    d = np.concatenate(deps) if deps else np.zeros(0, np.int32)
    st = np.concatenate(stop_of) if stop_of else np.zeros(0, np.int64)
    order = np.lexsort((d, s))
    ptr = np.zeros(C + 1, np.int64)
    np.add.at(ptr, s + 1, 1)
    key = st * C + s
    korder = np.lexsort((d, key))
    kptr = np.zeros(tt.n_stops * C + 1, np.int64)
    np.add.at(kptr, key + 1, 1)
    return {"sys_dep_ptr": np.cumsum(ptr), "sys_deps": np.ascontiguousarray(d[order], np.int32),
            "stop_dep_ptr": np.cumsum(kptr), "stop_deps": np.ascontiguousarray(d[korder], np.int32)}


def tariff_from_arrays(tt, **arrays) -> KernelTariff:
    """A :class:`KernelTariff` from explicit arrays (tests, experiments); missing ones get
    neutral values (one system, no zones, no fares, no penalty)."""
    P, S = tt.n_patterns, tt.n_stops
    C = int(arrays.get("n_systems", 1))
    Z = int(arrays.get("n_zones", 1))
    defaults = {
        "pattern_system": np.zeros(P, np.int32), "pattern_gate": np.zeros(P, np.int32),
        "pattern_penalty_s": np.zeros(P, np.int32), "stop_zone": np.zeros(S, np.int32),
        "ticket_od": np.zeros((C, Z, Z), np.int64), "pattern_ride_table": np.zeros(P, np.int32),
        "ride_od": np.zeros((1, Z, Z), np.int64), "pattern_rate": np.zeros(P, np.float64),
        "pattern_min": np.zeros(P, np.int64), "pattern_round": np.ones(P, np.int64),
        "pattern_cum_m": np.zeros(len(tt.pattern_stops), np.float64), "sys_window": np.full(C, -1, np.int64),
        "sys_max_transfers": np.zeros(C, np.int64), "sys_fee": np.zeros(C, np.int64),
        "sys_discount": np.full(C, _FREE, np.int64),
    }
    a = {k: np.ascontiguousarray(arrays.get(k, v), dtype=v.dtype) for k, v in defaults.items()}
    n_gates = int(arrays.get("n_gates", int(a["pattern_gate"].max(initial=0)) + 1))
    const = np.full(P, -1, np.int64)
    for p in range(P):
        if a["pattern_rate"][p] > 0 or a["pattern_min"][p] > 0:
            continue
        zs = a["stop_zone"][tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]]
        sub = a["ride_od"][a["pattern_ride_table"][p]][np.ix_(zs, zs)]
        if (sub == sub.flat[0]).all():
            const[p] = sub.flat[0]
    return KernelTariff(
        system_ids=tuple(f"s{i}" for i in range(C)), gate_ids=tuple(f"g{i}" for i in range(n_gates)),
        zone_ids=tuple(f"z{i}" for i in range(Z)), currency=str(arrays.get("currency", "")),
        pattern_system=a["pattern_system"], pattern_gate=a["pattern_gate"], pattern_penalty_s=a["pattern_penalty_s"],
        first_penalty=bool(arrays.get("first_penalty", True)), stop_zone=a["stop_zone"], ticket_od=a["ticket_od"],
        pattern_ride_table=a["pattern_ride_table"], ride_od=a["ride_od"], pattern_rate=a["pattern_rate"],
        pattern_min=a["pattern_min"], pattern_round=a["pattern_round"], pattern_cum_m=a["pattern_cum_m"],
        pattern_const_rp=const, sys_window=a["sys_window"], sys_max_transfers=a["sys_max_transfers"],
        sys_fee=a["sys_fee"], sys_discount=a["sys_discount"],
        **_system_departures(tt, a["pattern_system"], C), fare_cap_minor=None, cap_in_search=False,
        exact=True, notes=())
