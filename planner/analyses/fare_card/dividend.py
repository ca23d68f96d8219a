"""The integration dividend of a unified fare card (``plan fares``).

For a network, its fare systems (:class:`~planner.network.fares.sample.FareSetup`) and a
:class:`~planner.network.fares.UnifiedCardPolicy`, every ordered pair of places is routed three
times, on the same departures of a window, with McRAPTOR over (arrival, fare, trips)
(:func:`planner.routing.fares.pareto_arrivals`, ticketing penalties included):

``separate``
    today: one fare system per operator, a ticketing penalty (ticket, ID/security check,
    gate; :class:`~planner.network.fares.TicketingPenalty`) at each boarding that enters a system
    the traveller holds no ticket for;
``ticketing``
    the card's *money-and-ticketing* effect alone: penalties between card systems removed,
    the card's tariff (integrated tickets, transfer discount, cap), connection times as
    today;
``card``
    the whole policy: also its *connection-time* effect (``change_s``, the minimum
    connection time at card stops; ``transfer_penalty_min``, the perceived transfer
    penalty in generalized cost).

So ``separate - ticketing`` is the money-and-ticketing effect and ``ticketing - card`` the
connection-time effect; they add up to the whole. Per (origin, destination, departure) and
variant the search gives the Pareto options at the destination (egress legs from stops,
or a direct walk); from them:

* the **fastest** journey (earliest arrival; fewest rides, then cheapest among equally
  early ones): its travel time, fare, transfers, the ticketing penalty it pays and the
  fare systems (operators) it rides;
* the **best** journey by generalized cost (``travel_time_min + fare * 60 /
  value_of_time_per_h + transfer_penalty_min * transfers``; the fastest when no value of
  time is given) and its operators: a journey *changes operator mix* when the set of
  systems its best route rides differs between ``separate`` and ``card``;
* the earliest arrival **within each fare budget** (the same value
  :func:`~planner.routing.fares.budget_arrivals_many` gives; the raster part uses that).

Place-to-place values are means over the departures on which both ``separate`` and
``card`` reach the destination (the mean, not the median: a penalty removed makes an
earlier train reachable on a share of the departures, and the mean counts that share).

Columns (:attr:`FareDividend.od`, one row per ordered place pair; money in currency units
of ``currency``, times in minutes)
------------------------------------------------------------------------------------------
``from_id``, ``to_id``, ``from_name``, ``to_name``; ``departures`` (counted);
``separate_time_min``, ``ticketing_time_min``, ``card_time_min`` (fastest journey);
``time_saved_min`` (separate - card), ``time_saved_ticketing_min`` (separate - ticketing),
``time_saved_connection_min`` (ticketing - card);
``separate_fare``, ``card_fare``, ``fare_change`` (card - separate, of the fastest journeys);
``separate_penalty_min``, ``card_penalty_min``, ``penalty_removed_min`` (ticketing penalty
paid on the fastest journey); ``separate_transfers``, ``card_transfers``;
``separate_generalized_min``, ``card_generalized_min``, ``generalized_change_min`` (card -
separate; NaN without a value of time); ``mix_changed_share`` (share of departures whose
best journey rides another set of fare systems with the card); ``separate_operators``,
``card_operators`` (the systems of the best journey, most frequent over departures,
joined with ``+``; ``walk`` for none); per budget ``B``: ``separate_time_at_B_min``,
``card_time_at_B_min``, ``time_saved_at_B_min``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.errors import InputError
from planner.network.fares.model import MINOR
from planner.network.fares.sample import fare_setup
from planner.network.links import access_csr
from planner.network.places import direct_walk_seconds, resolve_points
from planner.routing.batch import OriginChunk, origin_chunk
from planner.routing.card_variants import VARIANTS, DividendParams, fare_models
from planner.routing.execution import in_threads, run_in_chunks
from planner.routing.fares import card_change_s, pareto_arrivals, pool_journey, price_legs
from planner.routing.traveltime import number_label
from planner.scenarios.fare_policy import card_policy
from planner.scenarios.spec import FarePolicy

if TYPE_CHECKING:
    from planner.network.fares.policy import UnifiedCardPolicy
    from planner.network.fares.sample import FareSetup
    from planner.network.links import Access, Footpaths
    from planner.network.model import Network
    from planner.network.timetable import Timetable
    from planner.routing.fares import FareModel

__all__ = ["FIELDS", "DividendShared", "FareDividend", "dividend_chunk", "fare_dividend", "pattern_bits",
           "scenario_fare_dividend", "scenario_fares", "summarise"]

log = logging.getLogger(__name__)

#: per (origin, variant, departure, destination): these fields, then one per budget
FIELDS = ("time_s", "fare", "transfers", "penalty_s", "mix", "gen_min", "gen_time_s", "gen_fare", "gen_mix")
_BIG = np.int64(1) << np.int64(60)


# ---------------------------------------------------------------------- the work unit

@dataclass(frozen=True)
class DividendShared:
    """Per-run constants every chunk of origins needs (sent once to each worker).

    ``change``: per-stop change times per variant; ``models``: the fare models per
    variant; ``deps`` int32 departures; egress legs of the destinations as CSR (``eg_*``);
    ``budgets_minor`` int64 (``-1``: no limit); ``pattern_bit`` int64 per pattern: the
    bit of its fare system (operator mix); ``same_as``: per variant, an earlier variant it
    equals (``-1``: none; the card without connection-time changes is its own
    money-and-ticketing variant)."""

    tt: Timetable
    footpaths: Footpaths
    change: tuple[np.ndarray, ...]
    models: tuple[FareModel, ...]
    deps: np.ndarray
    eg_ptr: np.ndarray
    eg_stop: np.ndarray
    eg_s: np.ndarray
    budgets_minor: np.ndarray
    pattern_bit: np.ndarray
    max_rounds: int
    max_duration_s: int
    same_as: tuple[int, ...] = (-1, -1, -1)


def _journey_facts(legs, model: FareModel, tt: Timetable, pattern_bit: np.ndarray) -> tuple[int, int, float | None]:
    """(penalty seconds paid, operator bits, exact fare or None) of a journey's legs."""
    t = model.tariff
    held = -1
    pen = 0
    bits = 0
    for leg in legs:
        if leg.kind != "ride":
            continue
        p = leg.pattern
        g = int(t.pattern_gate[p])
        if g != held and (held != -1 or t.first_penalty):
            pen += int(t.pattern_penalty_s[p])
        held = g
        bits |= int(pattern_bit[p])
    fare = None
    if model.fares is not None and (not t.exact or (t.fare_cap_minor is not None and not t.cap_in_search)):
        fare = price_legs(tt, legs, model).fare
    return pen, bits, fare


def _one(shared: DividendShared, v: int, acc_stops, acc_s, dep: int, direct: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` (destinations, fields) for one origin, variant and departure."""
    tt, model = shared.tt, shared.models[v]
    res = pareto_arrivals(tt, shared.footpaths, shared.change[v], acc_stops, acc_s, int(dep), model,
                          max_rounds=shared.max_rounds, max_duration_s=shared.max_duration_s)
    n_dest = len(shared.eg_ptr) - 1
    # options at every destination: (dest, arrival, fare, trips, row) over its egress stops
    first = np.searchsorted(res.stop, shared.eg_stop, "left")
    last = np.searchsorted(res.stop, shared.eg_stop, "right")
    cnt = last - first
    k_dest = np.repeat(np.arange(n_dest), np.diff(shared.eg_ptr))
    rows = np.repeat(first - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())
    dest = np.repeat(k_dest, cnt)
    arr = res.arrival_s[rows].astype(np.int64) + np.repeat(shared.eg_s, cnt)
    fare = res.fare_minor[rows].astype(np.int64)
    trips = res.n_trips[rows].astype(np.int64)
    label = res.label[rows].astype(np.int64)
    walk = np.flatnonzero(direct >= 0)
    if len(walk):
        dest = np.r_[dest, walk]
        arr = np.r_[arr, dep + direct[walk]]
        fare = np.r_[fare, np.zeros(len(walk), np.int64)]
        trips = np.r_[trips, np.zeros(len(walk), np.int64)]
        label = np.r_[label, np.full(len(walk), -1, np.int64)]
    keep = arr - dep <= shared.max_duration_s
    dest, arr, fare, trips, label = dest[keep], arr[keep], fare[keep], trips[keep], label[keep]
    out[:] = np.nan
    if len(dest) == 0:
        return
    priced = fare >= 0
    fkey = np.where(priced, fare, _BIG)
    tt_min = (arr - dep) / 60.0
    # fastest per destination
    order = np.lexsort((fkey, trips, arr, dest))
    firsts = order[np.r_[True, dest[order][1:] != dest[order][:-1]]]
    vot = model.params.value_of_time_per_h
    tp = model.transfer_penalty_min
    gen = None
    if vot is not None:
        gen = tt_min + np.where(priced, fare / MINOR, np.nan) * 60.0 / vot + tp * np.maximum(trips - 1, 0)
        gkey = np.where(np.isfinite(gen), gen, np.inf)
        gorder = np.lexsort((trips, arr, gkey, dest))
        gfirsts = gorder[np.r_[True, dest[gorder][1:] != dest[gorder][:-1]]]
    else:
        gfirsts = firsts
    cache: dict[int, tuple[int, int, float | None]] = {}

    def facts(i: int) -> tuple[int, int, float | None]:
        lab = int(label[i])
        if lab < 0:
            return 0, 0, None
        if lab not in cache:
            legs = pool_journey(res.pool, lab, tt, shared.footpaths, acc_stops, acc_s)
            cache[lab] = _journey_facts(legs, model, tt, shared.pattern_bit)
        return cache[lab]

    for i in firsts:
        j = dest[i]
        pen, bits, exact = facts(i)
        f = exact if exact is not None else (fare[i] / MINOR if priced[i] else np.nan)
        out[j, 0:5] = (arr[i] - dep, f, max(int(trips[i]) - 1, 0), pen, bits)
    for i in gfirsts:
        j = dest[i]
        _pen, bits, exact = facts(i)
        f = exact if exact is not None else (fare[i] / MINOR if priced[i] else np.nan)
        out[j, 5:9] = (gen[i] if gen is not None else np.nan, arr[i] - dep, f, bits)
    for b, bm in enumerate(shared.budgets_minor):
        ok = priced & (fare <= bm) if bm >= 0 else np.ones(len(fare), bool)
        if not ok.any():
            continue
        best = np.full(n_dest, _BIG)
        np.minimum.at(best, dest[ok], arr[ok])
        reached = best < _BIG
        out[reached, len(FIELDS) + b] = best[reached] - dep


def dividend_chunk(shared: DividendShared, chunk: OriginChunk) -> np.ndarray:
    """The work unit: every variant and departure of a chunk of origins.

    A chunk function for :func:`planner.routing.execution.run_chunks` (local or Dask): returns
    float64 (origins, variants, departures, destinations, fields); fields are
    :data:`FIELDS` then one travel time per budget (seconds; NaN: not reached).
    """
    n_dest = len(shared.eg_ptr) - 1
    nf = len(FIELDS) + len(shared.budgets_minor)
    out = np.full((len(chunk), len(shared.models), len(shared.deps), n_dest, nf), np.nan)
    legs = [(*chunk.access(o), chunk.direct(o, n_dest)) for o in range(len(chunk))]
    live = [o for o, (stops, _s, direct) in enumerate(legs) if len(stops) or (direct >= 0).any()]
    own = [v for v in range(len(shared.models)) if shared.same_as[v] < 0]
    tasks = [(o, v, d) for o in live for v in own for d in range(len(shared.deps))]

    def task(i: int) -> None:
        o, v, d = tasks[i]
        stops, secs, direct = legs[o]
        _one(shared, v, stops, secs, int(shared.deps[d]), direct, out[o, v, d])

    # one McRAPTOR query per task, on the chunk's threads (the kernel releases the GIL)
    in_threads(task, len(tasks))
    for v in range(len(shared.models)):
        if shared.same_as[v] >= 0:
            out[live, v] = out[live, shared.same_as[v]]
    return out


# ---------------------------------------------------------------------- the driver

@dataclass
class FareDividend:
    """Results of :func:`fare_dividend` (columns in the module docstring).

    ``od``: one row per ordered place pair; ``places``: per place; ``summary``: the
    headline figures; ``distribution``: journeys by minutes saved; ``raw``: the work
    units' array (origins, variants, departures, destinations, fields); ``notes``: what
    was assumed or approximated."""

    places: pd.DataFrame
    od: pd.DataFrame
    per_place: pd.DataFrame
    summary: dict
    distribution: pd.DataFrame
    raw: np.ndarray
    policy: UnifiedCardPolicy
    params: DividendParams
    currency: str
    systems: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def _place_access(net: Network, places: pd.DataFrame) -> list[Access]:
    """Access legs of each place: its stop (``stop_id``), else walking, plus the local
    taxi/bus approximation for points off the street network (other cities' points)."""
    accs = resolve_points(net, places)
    for i, a in enumerate(accs):
        sid = str(places["stop_id"].iloc[i]) if "stop_id" in places else ""
        if not sid and not a.snapped:
            accs[i] = net.access(float(places["lon"].iloc[i]), float(places["lat"].iloc[i]), local=True)
    return accs


def pattern_bits(tt: Timetable, setup: FareSetup) -> tuple[np.ndarray, tuple[str, ...]]:
    """Bit of each pattern's fare system (int64) and the system ids in bit order (at most
    62 systems get a bit of their own; further ones share the last)."""
    ids = tuple(sorted(s.system_id for s in setup.fares))
    pos = {sid: min(i, 61) for i, sid in enumerate(ids)}
    routes = [str(r) for r in tt.route_ids[tt.pattern_route]]
    bits = np.array([(1 << pos[sid]) if (sid := setup.fares.system_of(r)) in pos else 0 for r in routes], np.int64)
    return bits, ids


def fare_dividend(net: Network, setup: FareSetup, policy: UnifiedCardPolicy, places: pd.DataFrame, *,
                  params: DividendParams | None = None, feeds=None, executor=None, chunk: int | None = None,
                  progress: bool = False) -> FareDividend:
    """The card's dividend between every ordered pair of ``places`` (module docstring).

    Parameters
    ----------
    net
        The network (baseline, or a scenario's).
    setup
        Its fare systems (:func:`planner.network.fares.sample.fare_setup`).
    policy
        The unified card.
    places
        ``id``, ``name``, ``lon``, ``lat``, ``population`` and optionally ``stop_id`` (a
        place at a stop), as :func:`planner.ingest.points.load_places` returns.
    params
        :class:`DividendParams`.
    feeds
        The feeds behind ``net`` (ride distances from a ``stop_times`` column; default
        ``net.load_feeds()`` when the setup names a column).
    executor, chunk
        Where the origins run (:mod:`planner.routing.execution`; default: here) and how many per
        work unit (default: sized from a pilot origin).
    progress
        Progress bar over the origins.
    """
    params = params or DividendParams()
    if len(places) < 2:
        msg = f"the fare analysis needs at least two places, got {len(places)}"
        raise InputError(msg, code="invalid_parameter", hint="give a places file with two or more rows")
    tt = net.timetable
    if feeds is None and setup.distance_column is not None:
        feeds = net.load_feeds()
    models = fare_models(tt, setup, policy, params, feeds)
    change = (np.asarray(net.change_s, np.int32), np.asarray(net.change_s, np.int32),
              card_change_s(tt, models[2], net.change_s))
    bits, sys_ids = pattern_bits(tt, setup)
    accs = _place_access(net, places)
    eg_ptr, eg_stop, eg_s = access_csr(accs)
    direct = direct_walk_seconds(net, places, places)
    np.fill_diagonal(direct, -1)
    deps = params.departures()
    budgets = np.array([round(b * MINOR) if np.isfinite(b) else -1 for b in params.budgets], np.int64)
    same = (-1, -1, 1 if policy.change_s is None and policy.transfer_penalty_min is None else -1)
    shared = DividendShared(tt, net.footpaths, change, models, deps, eg_ptr, eg_stop, eg_s, budgets, bits,
                            int(params.max_rounds), int(params.max_duration_s), same)
    n = len(places)
    nf = len(FIELDS) + len(budgets)
    raw = np.full((n, len(VARIANTS), len(deps), n, nf), np.nan)
    run_in_chunks(executor, dividend_chunk, shared, n, lambda a, b: origin_chunk(accs[a:b], direct[a:b]), raw,
                  chunk=chunk, progress=progress, desc="places")
    od, per_place, summary, dist = summarise(raw, places, params, sys_ids)
    notes = [*setup.notes,
             f"Places reach stops by walking on the street network (up to {net.config.access_max_s // 60} min); "
             "places off it "
             "(other cities' points) also by the urban taxi/bus approximation, which carries no fare or ticketing "
             "penalty in this analysis. A place given as a stop starts and ends there.",
             f"Ticketing penalties: {', '.join(f'{m} {v} s' for m, v in sorted(params.penalty.by_mode.items()))}, "
             f"otherwise {params.penalty.default_s} s (ASSUMED round figures); "
             + ("the first boarding pays too." if params.penalty.first_boarding else
                "charged at changes of operator, not at the first boarding (a ticket bought beforehand)."),
             *(f"fare search: {x}" for x in models[0].tariff.notes),
             *([f"fare search: ticket windows tracked up to {params.fare_horizon_min:g} min after each departure "
                "(fare horizon): a transfer on a later vehicle buys a new ticket, so fares of journeys continuing "
                "a ticket past it may be too high (never too low)."] if params.fare_horizon_min is not None else []),
             *(f"fare search with the card: {x}" for x in models[2].tariff.notes if x not in models[0].tariff.notes)]
    return FareDividend(places, od, per_place, summary, dist, raw, policy, params, models[0].currency, sys_ids,
                        notes)


# ---------------------------------------------------------------------- summaries

def _mix_name(bits: float, sys_ids: tuple[str, ...]) -> str:
    if not np.isfinite(bits):
        return ""
    b = int(bits)
    names = [s for i, s in enumerate(sys_ids) if b >> min(i, 61) & 1]
    return "+".join(names) if names else "walk"


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; NaN (without a warning) where all are NaN."""
    ok = np.isfinite(x)
    n = ok.sum(axis=axis)
    s = np.where(ok, x, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted mean over the finite values (plain mean when their weights sum to 0)."""
    ok = np.isfinite(x)
    if not ok.any():
        return float("nan")
    if w[ok].sum() > 0:
        return float((x[ok] * w[ok]).sum() / w[ok].sum())
    return float(x[ok].mean())


def summarise(raw: np.ndarray, places: pd.DataFrame, params: DividendParams,
              sys_ids: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame, dict, pd.DataFrame]:
    """OD table, per-place table, headline figures and the distribution of time saved from
    the raw array of :func:`dividend_chunk` rows (origins, variants, departures, dests, fields)."""
    n = len(places)
    F = {f: i for i, f in enumerate(FIELDS)}
    S, T, C = 0, 1, 2
    both = np.isfinite(raw[:, S, :, :, F["time_s"]]) & np.isfinite(raw[:, C, :, :, F["time_s"]])  # (o, d, j)
    cnt = both.sum(axis=1)

    def mean(v: int, f: str, scale: float = 1.0) -> np.ndarray:
        return _nanmean(np.where(both, raw[:, v, :, :, F[f]], np.nan) / scale, axis=1)

    ids = places["id"].astype(str).to_numpy()
    names = places["name"].astype(str).to_numpy() if "name" in places else ids
    oi, di = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    off = oi != di
    cols: dict[str, np.ndarray] = {
        "from_id": ids[oi], "to_id": ids[di], "from_name": names[oi], "to_name": names[di], "departures": cnt,
    }
    for v, name in ((S, "separate"), (T, "ticketing"), (C, "card")):
        cols[f"{name}_time_min"] = mean(v, "time_s", 60.0)
    cols["time_saved_min"] = cols["separate_time_min"] - cols["card_time_min"]
    cols["time_saved_ticketing_min"] = cols["separate_time_min"] - cols["ticketing_time_min"]
    cols["time_saved_connection_min"] = cols["ticketing_time_min"] - cols["card_time_min"]
    for v, name in ((S, "separate"), (C, "card")):
        cols[f"{name}_fare"] = mean(v, "fare")
    cols["fare_change"] = cols["card_fare"] - cols["separate_fare"]
    for v, name in ((S, "separate"), (C, "card")):
        cols[f"{name}_penalty_min"] = mean(v, "penalty_s", 60.0)
    cols["penalty_removed_min"] = cols["separate_penalty_min"] - cols["card_penalty_min"]
    for v, name in ((S, "separate"), (C, "card")):
        cols[f"{name}_transfers"] = mean(v, "transfers")
    for v, name in ((S, "separate"), (C, "card")):
        cols[f"{name}_generalized_min"] = mean(v, "gen_min")
    cols["generalized_change_min"] = cols["card_generalized_min"] - cols["separate_generalized_min"]
    ms, mc = raw[:, S, :, :, F["gen_mix"]], raw[:, C, :, :, F["gen_mix"]]
    changed = both & (ms != mc)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["mix_changed_share"] = np.where(cnt > 0, changed.sum(axis=1) / np.maximum(cnt, 1), np.nan)
    for v, name in ((S, "separate"), (C, "card")):
        mix = np.empty((n, n), dtype=object)
        m = raw[:, v, :, :, F["gen_mix"]]
        for o in range(n):
            for j in range(n):
                vals = [x for x, ok in zip(m[o, :, j], both[o, :, j], strict=True) if ok]
                mix[o, j] = _mix_name(Counter(vals).most_common(1)[0][0], sys_ids) if vals else ""
        cols[f"{name}_operators"] = mix
    for b, budget in enumerate(params.budgets):
        lab = number_label(budget)
        k = len(FIELDS) + b
        bs = np.isfinite(raw[:, S, :, :, k]) & np.isfinite(raw[:, C, :, :, k])
        for v, name in ((S, "separate"), (C, "card")):
            cols[f"{name}_time_at_{lab}_min"] = _nanmean(np.where(bs, raw[:, v, :, :, k], np.nan) / 60.0, axis=1)
        cols[f"time_saved_at_{lab}_min"] = cols[f"separate_time_at_{lab}_min"] - cols[f"card_time_at_{lab}_min"]
    od = pd.DataFrame({k: np.asarray(v)[off] for k, v in cols.items()})
    # per place: as origin and as destination, weighted by the other place's population
    pop = places["population"].to_numpy(dtype=float) if "population" in places else np.ones(n)
    w_other = np.where(pop > 0, pop, 0.0)
    if not (w_other > 0).any():
        w_other = np.ones(n)
    saved = cols["time_saved_min"]
    rows = []
    for i in range(n):
        vals, ws, fares, gens = [], [], [], []
        for j in range(n):
            if i == j:
                continue
            for val, fc, gc in ((saved[i, j], cols["fare_change"][i, j], cols["generalized_change_min"][i, j]),
                                (saved[j, i], cols["fare_change"][j, i], cols["generalized_change_min"][j, i])):
                if np.isfinite(val):
                    vals.append(val)
                    ws.append(w_other[j] if w_other[j] > 0 else 0.0)
                    fares.append(fc)
                    gens.append(gc)
        vals_a, ws_a = np.asarray(vals), np.asarray(ws)
        rows.append({
            "id": ids[i], "name": names[i], "population": pop[i], "pairs": len(vals),
            "mean_time_saved_min": _wmean(vals_a, ws_a),
            "max_time_saved_min": float(vals_a.max()) if len(vals_a) else float("nan"),
            "pairs_faster": int((vals_a > 0.05).sum()),
            "mean_fare_change": _wmean(np.asarray(fares, float), ws_a),
            "mean_generalized_change_min": _wmean(np.asarray(gens, float), ws_a),
        })
    per_place = pd.DataFrame(rows).sort_values(["mean_time_saved_min", "id"], ascending=[False, True],
                                               kind="stable", na_position="last").reset_index(drop=True)
    # journeys (pair x departure) by minutes saved
    d_all = ((raw[:, S, :, :, F["time_s"]] - raw[:, C, :, :, F["time_s"]]) / 60.0)[both & off[:, None, :]]
    edges = [0.0, 0.5, 2.0, 5.0, 10.0, 20.0, np.inf]
    labels = ["< 0.5", "0.5-2", "2-5", "5-10", "10-20", ">= 20"]
    hist = np.histogram(np.maximum(d_all, 0.0), bins=edges)[0] if d_all.size else np.zeros(len(labels), int)
    dist = pd.DataFrame({"minutes_saved": labels, "journeys": hist,
                         "share": hist / max(int(d_all.size), 1)})
    ok = od[np.isfinite(od["time_saved_min"])]
    pw = (pop[oi] * pop[di])[off][np.isfinite(od["time_saved_min"].to_numpy())]
    summary = {
        "pairs": int(off.sum()), "pairs_reached": len(ok), "journeys": int(d_all.size),
        "mean_time_saved_min": float(ok["time_saved_min"].mean()) if len(ok) else float("nan"),
        "pop_weighted_time_saved_min": _wmean(ok["time_saved_min"].to_numpy(), pw),
        "pop_weighted_time_saved_ticketing_min": _wmean(ok["time_saved_ticketing_min"].to_numpy(), pw),
        "pop_weighted_time_saved_connection_min": _wmean(ok["time_saved_connection_min"].to_numpy(), pw),
        "time_saved_ticketing_min": float(ok["time_saved_ticketing_min"].mean()) if len(ok) else float("nan"),
        "time_saved_connection_min": float(ok["time_saved_connection_min"].mean()) if len(ok) else float("nan"),
        "median_journey_saved_min": float(np.median(d_all)) if d_all.size else float("nan"),
        "p90_journey_saved_min": float(np.percentile(d_all, 90)) if d_all.size else float("nan"),
        "max_time_saved_min": float(ok["time_saved_min"].max()) if len(ok) else float("nan"),
        "share_pairs_faster": float((ok["time_saved_min"] > 0.05).mean()) if len(ok) else float("nan"),
        "mean_fare_change": float(ok["fare_change"].mean()) if len(ok) else float("nan"),
        "mean_generalized_change_min": float(ok["generalized_change_min"].mean()) if len(ok) else float("nan"),
        "share_journeys_mix_changed": float(changed[off[:, None, :] & both].mean()) if d_all.size else float("nan"),
    }
    for budget in params.budgets:
        lab = number_label(budget)
        col = ok[f"time_saved_at_{lab}_min"]
        summary[f"mean_time_saved_at_{lab}_min"] = float(col.mean()) if col.notna().any() else float("nan")
    return od, per_place, summary, dist


# ---------------------------------------------------------------------- scenarios

def scenario_fares(net: Network, scenario, *, sample: bool = True, flat=None, distance=None):
    """The fare setup of ``net``'s feeds (:func:`planner.network.fares.sample.fare_setup`) and the
    resolved card of the scenario's ``fare_policy``
    (:func:`planner.scenarios.fare_policy.card_policy`; errors name the file and line)."""
    fps = scenario.of_kind(FarePolicy)
    if not fps:
        msg = f"{scenario.path or scenario.name}: the scenario has no fare_policy change"
        raise InputError(msg, code="no_fare_policy",
                         hint="add '- fare_policy: {unified_card: true, operators: [...]}' to its changes")
    feeds = net.load_feeds()
    setup = fare_setup(feeds, sample=sample, flat=flat, distance=distance)
    return setup, card_policy(fps[0], setup.fares, feeds, default_name=scenario.name)


def scenario_fare_dividend(net: Network, scenario, places: pd.DataFrame, *, params: DividendParams | None = None,
                           sample: bool = True, flat=None, distance=None, executor=None,
                           progress: bool = False) -> tuple[FareDividend, dict[str, str]]:
    """:func:`fare_dividend` of a scenario's ``fare_policy`` on ``net`` (the network as the
    scenario leaves it), with :func:`scenario_fares`. Returns the result and which fare
    system each operator of the policy put on the card."""
    setup, spec = scenario_fares(net, scenario, sample=sample, flat=flat, distance=distance)
    res = fare_dividend(net, setup, spec.policy, places, params=params, feeds=net.load_feeds(), executor=executor,
                        progress=progress)
    res.notes.extend(spec.notes)
    return res, spec.operators
