"""The rail net of the baseline and of each scenario, side by side (``plan net SCENARIO...``).

:func:`compare_nets` measures the baseline net and each scenario's on the same cities, date
and window (:func:`~planner.analyses.railnet.net.rail_net`); scenarios change the feeds
(:func:`~planner.scenarios.apply.apply_to_feeds`) and their ``add_transfer`` changes become
station links. :class:`NetComparison` holds the nets with their summary table and
:func:`changed_pairs` the city pairs a scenario changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.analyses.metrics import measures
from planner.analyses.railnet.net import COMPARED, MEASURES, RailNet, rail_net
from planner.config import Config
from planner.errors import NoServiceError, ScenarioError
from planner.scenarios.apply import apply_to_feeds, resolve_stop
from planner.scenarios.spec import AddTransfer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from planner.ingest.gtfs.feed import FeedSet
    from planner.scenarios.spec import Scenario

__all__ = ["NetComparison", "basis_column", "changed_pairs", "compare_nets"]


@dataclass
class NetComparison:
    """The baseline net and each scenario's, on the same cities, date and window."""

    places: pd.DataFrame
    baseline: RailNet
    scenarios: list[RailNet]
    date: str
    depart_s: int
    window_min: int
    basis: str
    settings: dict = field(default_factory=dict)

    @property
    def nets(self) -> list[RailNet]:
        """The baseline, then the scenarios."""
        return [self.baseline, *self.scenarios]

    def summary_table(self) -> pd.DataFrame:
        """Every measure side by side: ``measure``, ``unit``, ``baseline``, then per scenario
        its value and ``<scenario>_change``. For scenarios a row
        ``pop_weighted_mean_common_min`` compares the pairs reachable in both."""
        base = self.baseline.summary
        rows = []
        for k in [k for k in MEASURES if k in base] + sorted(k for k in base if k.startswith("pop_within_")):
            row = {"measure": k, "unit": MEASURES.get(k, "people"), "baseline": base[k]}
            for net in self.scenarios:
                row.update({net.name: net.summary[k], f"{net.name}_change": net.summary[k] - base[k]})
            rows.append(row)
        if self.scenarios:
            pop = self.places["population"].to_numpy(float)
            tb = self.baseline.matrix(basis_column(self.basis))
            row = {"measure": "pop_weighted_mean_common_min", "unit": "min (pairs reachable in both)",
                   "baseline": None}
            for net in self.scenarios:
                ts = net.matrix(basis_column(self.basis))
                both = np.isfinite(tb) & np.isfinite(ts)
                b, s = measures(tb, pop, both)["pop_weighted_mean_min"], measures(ts, pop, both)["pop_weighted_mean_min"]
                row[net.name] = s
                row[f"{net.name}_change"] = s - b
            rows.append(row)
        return pd.DataFrame(rows)

    def long(self, what: str) -> pd.DataFrame:
        """``pairs``, ``cities``, ``links`` or ``weak`` of every network, with a ``network`` column."""
        frames = [getattr(n, what).assign(network=n.name) for n in self.nets]
        df = pd.concat(frames, ignore_index=True)
        return df[["network", *[c for c in df.columns if c != "network"]]]


def basis_column(basis: str) -> str:
    return "fastest_min" if basis == "fastest" else "median_min"


def changed_pairs(base: RailNet, other: RailNet, columns: Sequence[str] = COMPARED) -> pd.DataFrame:
    """City pairs whose per-pair values differ between two nets (NaN equals NaN).

    Returns ``from_id``, ``to_id``, ``changed`` (the columns that differ, ``;``-separated)
    and each compared column before (``<col>_base``) and after.
    """
    a = base.pairs.set_index(["from_id", "to_id"])
    b = other.pairs.set_index(["from_id", "to_id"]).reindex(a.index)
    diff = pd.DataFrame(index=a.index)
    for c in columns:
        x, y = a[c].to_numpy(float), b[c].to_numpy(float)
        diff[c] = ~((x == y) | (np.isnan(x) & np.isnan(y)))
    mask = diff.any(axis=1).to_numpy()
    out = pd.DataFrame({"changed": [";".join(c for c in columns if diff[c].iloc[i]) for i in np.flatnonzero(mask)]},
                       index=a.index[mask])
    for c in columns:
        out[f"{c}_base"] = a.loc[mask, c].to_numpy()
        out[c] = b.loc[mask, c].to_numpy()
    return out.reset_index()


def compare_nets(feeds: FeedSet, scenarios: Sequence[Scenario], places: pd.DataFrame, *, date: str,
                 progress: bool = False, **options) -> NetComparison:
    """The baseline net and the net of each scenario (see :func:`rail_net` for ``options``).

    Scenarios are applied with :func:`planner.scenarios.apply.apply_to_feeds`; their
    ``add_transfer`` changes become station links.
    """
    config = options.get("config") or Config()
    base = rail_net(feeds, places, date=date, progress=progress, **options)
    nets = []
    for scn in scenarios:
        fs2, report = apply_to_feeds(feeds, scn)
        adds = scn.of_kind(AddTransfer)
        for ch in adds:
            for ref in (ch.from_stop, ch.to_stop):
                try:
                    resolve_stop(fs2, ref)
                except LookupError as err:
                    msg = f"{scn.path or scn.name}:{ch.line}: add_transfer: {err}"
                    raise ScenarioError(msg, code="unknown_stop", hint="use FEED:STOP_ID as in stops.txt") from None
        try:
            net = rail_net(fs2, places, date=date, name=scn.name, transfers=adds, progress=progress, **options)
        except NoServiceError as err:
            msg = f"scenario {scn.name}: {err.message}"
            raise ScenarioError(msg, code="scenario_no_service", hint="a scenario must leave some rail service") from err
        net.report = report
        nets.append(net)
    settings = {"cluster_km": options.get("cluster_km") or config.net_cluster_km,
                "reference_speed_kmh": options.get("reference_speed_kmh") or config.net_reference_speed_kmh,
                "change_time_s": config.change_time_s, "horizon_h": config.net_horizon_h,
                "weak_detour_factor": config.net_weak_detour_factor}
    return NetComparison(places, base, nets, str(date), int(options.get("depart_s", 0)),
                         int(options.get("window_min", 1440)), options.get("basis", "fastest"), settings)
