"""Fare-aware routing on a :class:`~planner.network.timetable.Timetable`: the wrappers that own the
boundary around :mod:`planner.kernels.fare_raptor`.

Two searches, both with the RAPTOR semantics of :mod:`planner.routing.raptor`:

* :func:`penalised_earliest_arrival`: the earliest arrival when every boarding that enters
  a ticketing group (a fare system, or the card) the traveller holds no ticket for costs a
  penalty in seconds (exact: labels per stop and group held). With no penalty it equals
  :func:`planner.routing.raptor.earliest_arrival`.
* :func:`pareto_arrivals`: McRAPTOR, the Pareto set over (arrival time, fare, transfers) at
  every stop, for itineraries and fare-versus-time trade-offs; :func:`budget_arrivals_many`
  reduces it, for many origins in parallel, to the earliest arrival within fare budgets
  (the integration dividend at a fixed budget, accessibility at (time, fare) cutoffs).

A :class:`FareModel` (from :func:`build_fare_model`) holds the compiled tariff, the
ticketing penalties and the fare parameters. Output columns, units:

``stop``/``stop_id``
    timetable stop index / namespaced id;
``arrival_s``
    seconds after midnight of the service date;
``travel_time_min``
    minutes from the departure;
``fare``
    currency units (NaN when a leg has no fare), ``currency`` its ISO 4217 code;
``n_trips``, ``n_transfers``
    vehicles ridden, and that minus one (0 for walking only);
``generalized_min``
    ``travel_time_min + fare * 60 / value_of_time_per_h + transfer_penalty_min *
    n_transfers`` (NaN without a value of time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.errors import ConfigError, PlannerError
from planner.kernels import fare_raptor as _k
from planner.kernels.raptor import PARENT_ACCESS, PARENT_WALK
from planner.network.fares.model import MINOR, FareParams, JourneyPrice, RideLeg
from planner.network.fares.policy import price_journey
from planner.routing.itinerary import Leg
from planner.routing.raptor import access_arrays, check_limits, footpath_arrays, timetable_arrays
from planner.routing.tariff import KernelTariff, compile_tariff, pattern_distances_m

if TYPE_CHECKING:
    from planner.network.fares.build import FareSystems
    from planner.network.fares.policy import UnifiedCardPolicy
    from planner.network.links import Footpaths
    from planner.network.timetable import Timetable

__all__ = [
    "OVERFLOW_HINT",
    "FareModel",
    "ParetoResult",
    "PenalisedResult",
    "budget_arrivals_many",
    "build_fare_model",
    "card_change_s",
    "generalized_minutes",
    "pareto_arrivals",
    "penalised_earliest_arrival",
    "penalised_earliest_arrival_many",
    "pool_journey",
    "price_legs",
    "ride_legs",
]

INF = int(_k.INF)


@dataclass(frozen=True)
class FareModel:
    """What the fare-aware searches need besides the timetable and the footpaths.

    Attributes
    ----------
    tariff
        The compiled kernel tariff (:class:`~planner.routing.tariff.KernelTariff`); its
        ``exact`` and ``notes`` say what the search approximates.
    params
        :class:`~planner.network.fares.FareParams` (penalties, value of time, label limit).
    fares
        The fare systems (``None`` for a model built from arrays).
    policy
        The unified card, or ``None`` for separate systems.
    """

    tariff: KernelTariff
    params: FareParams
    fares: FareSystems | None = None
    policy: UnifiedCardPolicy | None = None

    @property
    def currency(self) -> str:
        return self.tariff.currency

    @property
    def cum_m(self) -> np.ndarray:
        return self.tariff.pattern_cum_m

    @property
    def transfer_penalty_min(self) -> float:
        if self.policy is not None and self.policy.transfer_penalty_min is not None:
            return self.policy.transfer_penalty_min
        return self.params.transfer_penalty_min


def build_fare_model(tt: Timetable, fares: FareSystems, *, params: FareParams | None = None,
                     policy: UnifiedCardPolicy | None = None, feeds=None, distance_column: str | None = None,
                     distance_unit_m: float = 1.0) -> FareModel:
    """Compile ``fares`` (and a card ``policy``) for the timetable ``tt``.

    Parameters
    ----------
    tt
        The timetable.
    fares
        The fare systems (:func:`~planner.network.fares.fare_systems_from_feeds`).
    params
        Penalties, value of time and limits (defaults: :class:`~planner.network.fares.FareParams`).
    policy
        A :class:`~planner.network.fares.UnifiedCardPolicy`, or ``None`` for separate systems.
    feeds, distance_column, distance_unit_m
        Where ride distances come from (see
        :func:`~planner.routing.tariff.pattern_distances_m`; default: great-circle distances
        between consecutive stops). The bundled rail feed has km marks:
        ``distance_column="km", distance_unit_m=1000``.
    """
    params = params or FareParams()
    cum = pattern_distances_m(tt, feeds, distance_column, distance_unit_m)
    tariff = compile_tariff(tt, fares, cum, penalty=params.penalty, policy=policy)
    return FareModel(tariff, params, fares, policy)


def card_change_s(tt: Timetable, model: FareModel, change_s) -> np.ndarray:
    """The change time per stop under the model's card: ``policy.change_s`` at stops
    served by card systems, ``change_s`` elsewhere (int32 (S)). Unchanged without a
    card or without ``change_s`` in it."""
    base = np.broadcast_to(np.asarray(change_s, dtype=np.int32), (tt.n_stops,)).copy()
    pol = model.policy
    if pol is None or pol.change_s is None or model.fares is None:
        return base
    card = pol.card_systems(model.fares)
    on_card = np.array([model.fares.system_of(str(r)) in card for r in tt.route_ids[tt.pattern_route]], bool)
    served = np.zeros(tt.n_stops, bool)
    for p in np.flatnonzero(on_card):
        served[tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]] = True
    base[served] = pol.change_s
    return base


def _check_model(tt: Timetable, model: FareModel) -> KernelTariff:
    t = model.tariff
    if len(t.pattern_system) != tt.n_patterns or len(t.stop_zone) != tt.n_stops:
        msg = (f"the fare model is for {len(t.pattern_system)} patterns and {len(t.stop_zone)} stops, "
               f"the timetable has {tt.n_patterns} and {tt.n_stops}")
        raise ConfigError(msg, code="fare_model_mismatch", hint="build the fare model from this timetable")
    return t


# --------------------------------------------------------------------------------------
# penalised time-optimal routing
# --------------------------------------------------------------------------------------


@dataclass
class PenalisedResult:
    """Labels of one penalised RAPTOR run (arrays of the kernel, see
    :func:`planner.kernels.fare_raptor.penalised_raptor`); ``gate_ids`` names the groups
    (the last one, ``None``, is "no ticket yet")."""

    departure: int
    tau_v: np.ndarray
    tau_w: np.ndarray
    pv: np.ndarray
    pw: np.ndarray
    gate_ids: tuple[str, ...]

    @property
    def at_stop(self) -> np.ndarray:
        """int32 (K, S): earliest time at each stop with at most ``k`` trips."""
        return np.minimum(np.minimum(self.tau_v, self.tau_w), self.tau_w[0][None]).min(axis=2)

    @property
    def best(self) -> np.ndarray:
        """int32 (S): earliest time at each stop."""
        return self.at_stop[-1]

    def journey(self, tt: Timetable, fp: Footpaths, change_s, model: FareModel, stop: int,
                access_stops, access_s) -> list[Leg]:
        """Legs of the earliest journey to ``stop`` (fewest trips among equally early).
        Needs a run with ``record=True``."""
        return _penalised_journey(self, tt, fp, change_s, model, stop, access_stops, access_s)


def penalised_earliest_arrival(tt: Timetable, footpaths: Footpaths, change_s, access_stops, access_s,
                               departure: int, model: FareModel, *, max_rounds: int = 8,
                               max_duration_s: int = 48 * 3600, record: bool = False) -> PenalisedResult:
    """One penalised RAPTOR query.

    Parameters are those of :func:`planner.routing.raptor.earliest_arrival` plus ``model`` (its
    ticketing groups and penalties are used; fares are not).
    """
    check_limits(max_rounds, max_duration_s)
    t = _check_model(tt, model)
    a, s = access_arrays(access_stops, access_s, tt.n_stops)
    tau_v, tau_w, pv, pw = _k.penalised_raptor(
        *timetable_arrays(tt), *footpath_arrays(footpaths, change_s, tt.n_stops), *t.gate_args(),
        a, s, np.int32(departure), np.int32(max_rounds), np.int32(max_duration_s), bool(record))
    return PenalisedResult(int(departure), tau_v, tau_w, pv, pw, t.gate_ids)


def penalised_earliest_arrival_many(tt: Timetable, footpaths: Footpaths, change_s, access_ptr, access_stops,
                                    access_s, departures, model: FareModel, *, max_rounds: int = 8,
                                    max_duration_s: int = 48 * 3600) -> np.ndarray:
    """Penalised RAPTOR for many origins in parallel threads.

    Origin ``o`` has the access legs ``access_stops[access_ptr[o]:access_ptr[o + 1]]`` and
    departs at ``departures[o]`` (one value for all is broadcast). Returns int32
    (n_origins, S), ``INF`` when unreachable.
    """
    check_limits(max_rounds, max_duration_s)
    t = _check_model(tt, model)
    a, s = access_arrays(access_stops, access_s, tt.n_stops)
    ptr = np.ascontiguousarray(access_ptr, dtype=np.int64)
    deps = np.ascontiguousarray(np.broadcast_to(np.asarray(departures, np.int32), (len(ptr) - 1,)))
    return _k.penalised_best_many(*timetable_arrays(tt), *footpath_arrays(footpaths, change_s, tt.n_stops), *t.gate_args(),
                                  ptr, a, s, deps, np.int32(max_rounds), np.int32(max_duration_s))


def _penalised_journey(res: PenalisedResult, tt, fp, change_s, model, stop, access_stops, access_s) -> list[Leg]:
    change = np.broadcast_to(np.asarray(change_s, dtype=np.int64), (tt.n_stops,))
    pen = model.tariff.pattern_penalty_s
    first = model.tariff.first_penalty
    G1 = res.tau_v.shape[2]
    NONE = G1 - 1
    at = res.at_stop[:, stop]
    if at.min() >= INF:
        msg = "the stop is not reachable"
        raise ValueError(msg)
    k = int(np.flatnonzero(at == at.min())[0])
    best = int(at.min())
    s = stop
    # which group and label give the best time
    g = -1
    on_foot = False
    for gg in range(G1):
        if min(res.tau_w[k, s, gg], res.tau_w[0, s, gg]) == best:
            g, on_foot = gg, True
            break
    if g < 0:
        g = int(np.flatnonzero(res.tau_v[k, s] == best)[0])
    legs: list[Leg] = []
    for _guard in range(4 * (res.tau_v.shape[0] + 2)):
        if on_foot:
            if k > 0 and res.tau_w[0, s, g] <= res.tau_w[k, s, g]:
                k = 0
            kind, a, f = (int(x) for x in res.pw[:, k, s, g])
            t = int(res.tau_w[k, s, g])
            if kind == PARENT_ACCESS:
                acc_stop = int(access_stops[a])
                acc_t = t - (int(fp.seconds[f]) if f >= 0 else 0)
                if f >= 0:
                    legs.append(Leg("walk", acc_t, t, acc_stop, s, walk_m=float(fp.metres[f])))
                legs.append(Leg("access", acc_t - int(access_s[a]), acc_t, -1, acc_stop))
                legs.reverse()
                return legs
            if kind != PARENT_WALK:
                msg = f"no parent for stop {s} in round {k} (internal error)"
                raise RuntimeError(msg)
            legs.append(Leg("walk", t - int(fp.seconds[f]), t, a, s, walk_m=float(fp.metres[f])))
            s = a
            on_foot = False
            continue
        p, trip_k, board_pos, g_from = (int(x) for x in res.pv[:, k, s, g])
        a0 = tt.pattern_stops_ptr[p]
        L = tt.pattern_stops_ptr[p + 1] - a0
        A, D = tt.pattern_trip_times(p)
        arr_t = int(res.tau_v[k, s, g])
        stops = tt.pattern_stops[a0:a0 + L]
        alight = next(i for i in range(board_pos + 1, L) if stops[i] == s and A[trip_k, i] == arr_t)
        b = int(stops[board_pos])
        dep_t = int(D[trip_k, board_pos])
        legs.append(Leg("ride", dep_t, arr_t, b, s, route=int(tt.pattern_route[p]), pattern=p,
                        trip=int(tt.pattern_trips_ptr[p] + trip_k), board_pos=board_pos, alight_pos=alight))
        k -= 1
        s = b
        extra = int(pen[p]) if g_from != g and (g_from != NONE or first) else 0
        g = g_from
        walk_t = min(res.tau_w[k, s, g], res.tau_w[0, s, g])
        if walk_t + extra <= dep_t:
            on_foot = True
        elif res.tau_v[k, s, g] + change[s] + extra <= dep_t:
            on_foot = False
        else:  # pragma: no cover - the labels guarantee one of the two
            msg = "inconsistent labels while rebuilding the journey"
            raise RuntimeError(msg)
    msg = "parent chain does not end (internal error)"
    raise RuntimeError(msg)


# --------------------------------------------------------------------------------------
# McRAPTOR
# --------------------------------------------------------------------------------------


@dataclass
class ParetoResult:
    """The Pareto sets of one McRAPTOR run: one row per (stop, option), sorted by stop then
    arrival. ``fare_minor`` is in minor units (``-1``: unpriced); ``label`` indexes
    ``pool`` (the kernel's labels, for journeys)."""

    departure: int
    stop: np.ndarray
    arrival_s: np.ndarray
    fare_minor: np.ndarray
    n_trips: np.ndarray
    label: np.ndarray
    pool: np.ndarray
    currency: str
    transfer_penalty_min: float
    value_of_time_per_h: float | None

    def __len__(self) -> int:
        return len(self.stop)

    def table(self, tt: Timetable | None = None) -> pd.DataFrame:
        """The options as a DataFrame with the module's documented columns."""
        fare = np.where(self.fare_minor >= 0, self.fare_minor / MINOR, np.nan)
        tt_min = (self.arrival_s.astype(np.int64) - self.departure) / 60.0
        n_tr = np.maximum(self.n_trips - 1, 0)
        df = pd.DataFrame({
            "stop": self.stop, "arrival_s": self.arrival_s, "travel_time_min": tt_min, "fare": fare,
            "currency": self.currency, "n_trips": self.n_trips, "n_transfers": n_tr,
            "generalized_min": generalized_minutes(tt_min, fare, n_tr, self.value_of_time_per_h,
                                                   self.transfer_penalty_min),
        })
        if tt is not None:
            df.insert(1, "stop_id", tt.stop_ids[self.stop])
        return df

    def options(self, stop: int) -> np.ndarray:
        """Row indices of the options at ``stop``."""
        return np.flatnonzero(self.stop == stop)

    def journey(self, i: int, tt: Timetable, fp: Footpaths, access_stops, access_s) -> list[Leg]:
        """Legs of option ``i`` (a row of :meth:`table`)."""
        return pool_journey(self.pool, int(self.label[i]), tt, fp, access_stops, access_s)


def _pareto_filter(stop, arr, fare, trips, label):
    """Value-level Pareto set per stop over (arrival, fare, trips), sorted by stop, arrival."""
    order = np.lexsort((label, trips, fare, arr, stop))
    keep = []
    cur = -1
    kept: list[tuple[int, int, int]] = []
    for i in order:
        if stop[i] != cur:
            cur = stop[i]
            kept = []
        a, f, t = arr[i], fare[i], trips[i]
        if any(ka <= a and kf <= f and kt <= t for ka, kf, kt in kept):
            continue
        kept.append((a, f, t))
        keep.append(i)
    return np.asarray(keep, dtype=np.int64)


#: what to do when a fare search runs out of labels (the hint of ``fare_label_overflow``)
OVERFLOW_HINT = ("set a fare horizon (plan fares --fare-horizon MIN, FareParams.fare_horizon_min: ticket windows "
                 "tracked that long after departure, a later transfer buys a new ticket; an approximation), "
                 "or raise the limit (--max-labels, FareParams.max_labels), or search shorter journeys "
                 "(--horizon, max_duration_s) or fewer vehicles (--max-rides, max_rounds)")


def _horizon_s(model: FareModel, max_duration_s: int) -> np.int64:
    """The kernels' ``fare_horizon``: ``max_duration_s`` (exact) unless the model sets a shorter one."""
    h = model.params.fare_horizon_min
    return np.int64(max_duration_s if h is None else min(max_duration_s, round(h * 60)))


def pareto_arrivals(tt: Timetable, footpaths: Footpaths, change_s, access_stops, access_s, departure: int,
                    model: FareModel, *, max_rounds: int = 6, max_duration_s: int = 48 * 3600,
                    prune: bool = True) -> ParetoResult:
    """McRAPTOR from one departure: the Pareto set over (arrival, fare, trips) at every stop.

    Parameters are those of :func:`planner.routing.raptor.earliest_arrival` plus the fare
    ``model`` (its ``params.fare_horizon_min``, when set, is an approximation: see
    :class:`~planner.network.fares.FareParams`). ``prune=False`` switches off the search's
    exact pruning rules (same result, slower; for tests). Raises
    :class:`~planner.errors.PlannerError` (``fare_label_overflow``) when the search needs
    more than ``model.params.max_labels`` labels; its hint names the fare horizon.
    """
    check_limits(max_rounds, max_duration_s)
    t = _check_model(tt, model)
    a, s = access_arrays(access_stops, access_s, tt.n_stops)
    arch, pool, overflow = _k.mc_raptor(
        *timetable_arrays(tt), *footpath_arrays(footpaths, change_s, tt.n_stops), *t.gate_args(), *t.fare_args(),
        model.params.windows == "exact", a, s, np.int32(departure), np.int32(max_rounds), np.int32(max_duration_s),
        np.int64(model.params.max_labels), _horizon_s(model, max_duration_s), bool(prune))
    if overflow:
        msg = f"the fare search needed more than {model.params.max_labels:,} labels"
        raise PlannerError(msg, code="fare_label_overflow", hint=OVERFLOW_HINT)
    alive = arch[:, _k.A_ALIVE] == 1
    arch = arch[alive]
    stop = arch[:, _k.A_STOP]
    arr = arch[:, _k.A_ARR]
    fare = arch[:, _k.A_FARE].copy()
    trips = arch[:, _k.A_TRIPS]
    label = arch[:, _k.A_LABEL]
    if t.cap_in_search and t.fare_cap_minor is not None:
        priced = fare < _k.FARE_NA
        fare[priced] = np.minimum(fare[priced], t.fare_cap_minor)
        idx = _pareto_filter(stop, arr, fare, trips, label)  # capping can tie options
    else:  # the archive holds the Pareto set already
        idx = np.lexsort((label, trips, fare, arr, stop))
    fare_out = np.where(fare[idx] >= _k.FARE_NA, -1, fare[idx])
    return ParetoResult(int(departure), stop[idx].astype(np.int32), arr[idx].astype(np.int32), fare_out.astype(np.int64),
                        trips[idx].astype(np.int32), label[idx], pool, t.currency, model.transfer_penalty_min,
                        model.params.value_of_time_per_h)


def budget_arrivals_many(tt: Timetable, footpaths: Footpaths, change_s, access_ptr, access_stops, access_s,
                         departures, model: FareModel, budgets, *, max_rounds: int = 6,
                         max_duration_s: int = 48 * 3600) -> np.ndarray:
    """Earliest arrival within each fare budget, for many origins in parallel threads.

    ``budgets`` in currency units (``inf`` for no limit). Returns int32
    (n_origins, len(budgets), S), ``INF`` when no journey within the budget reaches the
    stop. Applies the card's cap only when it is exact in the search (see
    :class:`~planner.routing.tariff.KernelTariff`). Accessibility at a (time, fare) cutoff
    is ``arrival - departure <= time`` on the row of that fare.
    """
    check_limits(max_rounds, max_duration_s)
    t = _check_model(tt, model)
    a, s = access_arrays(access_stops, access_s, tt.n_stops)
    ptr = np.ascontiguousarray(access_ptr, dtype=np.int64)
    deps = np.ascontiguousarray(np.broadcast_to(np.asarray(departures, np.int32), (len(ptr) - 1,)))
    b = np.asarray(budgets, dtype=np.float64)
    bm = np.where(np.isfinite(b), np.floor(b * MINOR + 0.5), _k.FARE_NA - 1).astype(np.int64)
    if t.cap_in_search and t.fare_cap_minor is not None:
        bm = np.where(bm >= t.fare_cap_minor, _k.FARE_NA - 1, bm)  # the cap makes any priced fare fit
    out, over = _k.mc_budget_arrival_many(
        *timetable_arrays(tt), *footpath_arrays(footpaths, change_s, tt.n_stops), *t.gate_args(), *t.fare_args(),
        model.params.windows == "exact", ptr, a, s, deps, np.int32(max_rounds), np.int32(max_duration_s), np.int64(model.params.max_labels),
        np.ascontiguousarray(bm), _horizon_s(model, max_duration_s), True)
    if over.any():
        msg = f"the fare search of {int(over.sum())} origin(s) needed more than {model.params.max_labels:,} labels"
        raise PlannerError(msg, code="fare_label_overflow", hint=OVERFLOW_HINT)
    return out


def pool_journey(pool, lid, tt, fp, access_stops, access_s) -> list[Leg]:
    """The legs of label ``lid`` of a McRAPTOR label pool (the journey behind a Pareto option)."""
    legs: list[Leg] = []
    while True:
        s = int(pool[lid, _k.L_STOP])
        t = int(pool[lid, _k.L_ARR])
        parent = int(pool[lid, _k.L_PARENT])
        if pool[lid, _k.L_VEH] == 1:
            p = int(pool[lid, _k.L_P])
            trip_k = int(pool[lid, _k.L_TRIP])
            bpos = int(pool[lid, _k.L_BPOS])
            a0 = tt.pattern_stops_ptr[p]
            L = tt.pattern_stops_ptr[p + 1] - a0
            A, D = tt.pattern_trip_times(p)
            stops = tt.pattern_stops[a0:a0 + L]
            alight = next(i for i in range(bpos + 1, L) if stops[i] == s and A[trip_k, i] == t)
            legs.append(Leg("ride", int(D[trip_k, bpos]), t, int(stops[bpos]), s, route=int(tt.pattern_route[p]),
                            pattern=p, trip=int(tt.pattern_trips_ptr[p] + trip_k), board_pos=bpos, alight_pos=alight))
        elif parent >= 0:
            f = int(pool[lid, _k.L_FP])
            legs.append(Leg("walk", t - int(fp.seconds[f]), t, int(pool[parent, _k.L_STOP]), s,
                            walk_m=float(fp.metres[f])))
        else:
            j = int(pool[lid, _k.L_P])
            f = int(pool[lid, _k.L_FP])
            acc_stop = int(access_stops[j])
            acc_t = t - (int(fp.seconds[f]) if f >= 0 else 0)
            if f >= 0:
                legs.append(Leg("walk", acc_t, t, acc_stop, s, walk_m=float(fp.metres[f])))
            legs.append(Leg("access", acc_t - int(access_s[j]), acc_t, -1, acc_stop))
            break
        lid = parent
    legs.reverse()
    return legs


# --------------------------------------------------------------------------------------
# fares of journeys
# --------------------------------------------------------------------------------------


def ride_legs(tt: Timetable, legs: list[Leg], cum_m: np.ndarray | None = None) -> list[RideLeg]:
    """The ride legs of an itinerary as :class:`~planner.network.fares.RideLeg` (walks dropped).

    ``cum_m``: metres along each pattern (``FareModel.cum_m``, or
    :func:`~planner.routing.tariff.pattern_distances_m`); ``None`` leaves distances NaN.
    """
    modes = tt.mode_names()
    out = []
    for leg in legs:
        if leg.kind != "ride":
            continue
        p = leg.pattern
        a0 = int(tt.pattern_stops_ptr[p])
        stops = tt.pattern_stops[a0 + leg.board_pos:a0 + leg.alight_pos + 1]
        dist = float("nan") if cum_m is None else float(cum_m[a0 + leg.alight_pos] - cum_m[a0 + leg.board_pos])
        out.append(RideLeg(str(tt.route_ids[leg.route]), str(tt.stop_ids[leg.from_stop]), str(tt.stop_ids[leg.to_stop]),
                           int(leg.dep_s), int(leg.arr_s), tuple(str(x) for x in tt.stop_ids[stops]), dist,
                           str(modes[p])))
    return out


def price_legs(tt: Timetable, legs: list[Leg], model: FareModel,
               policy: UnifiedCardPolicy | str | None = "model") -> JourneyPrice:
    """The exact fare of an itinerary (:func:`~planner.network.fares.price_journey`) with the
    model's fare systems and distances; ``policy="model"`` uses the model's card."""
    if model.fares is None:
        msg = "this fare model has no fare systems (built from arrays)"
        raise ConfigError(msg, code="invalid_parameter")
    pol = model.policy if policy == "model" else policy
    return price_journey(ride_legs(tt, legs, model.cum_m), model.fares, pol)  # type: ignore[arg-type]


def generalized_minutes(travel_time_min, fare, n_transfers, value_of_time_per_h: float | None,
                        transfer_penalty_min: float = 0.0) -> np.ndarray:
    """``travel_time_min + fare * 60 / value_of_time_per_h + transfer_penalty_min *
    n_transfers`` (NaN without a value of time or a fare)."""
    tt_min = np.asarray(travel_time_min, dtype=np.float64)
    if value_of_time_per_h is None:
        return np.full(tt_min.shape, np.nan)
    return (tt_min + np.asarray(fare, dtype=np.float64) * 60.0 / value_of_time_per_h
            + transfer_penalty_min * np.asarray(n_transfers, dtype=np.float64))
