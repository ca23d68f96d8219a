"""The fare card's dividend as a measure of ``plan evaluate``'s scenarios.

:class:`CardMeasure` is a :class:`planner.analyses.evaluate.compare.ScenarioMeasure`: for a
scenario holding a ``fare_policy`` it runs :func:`~planner.analyses.fare_card.dividend.
scenario_fare_dividend` on the scenario's network and gives the ranking columns
(:data:`RANKING_COLUMNS`), the per-pair table ``fares_<scenario>_od.csv`` and a report
section. ``plan evaluate`` hands it to the evaluation; the two rooms stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from planner.analyses.fare_card.dividend import DividendParams, FareDividend, scenario_fare_dividend
from planner.analyses.fare_card.outputs import report_section
from planner.common.atomic import write_text
from planner.scenarios.spec import FarePolicy

if TYPE_CHECKING:
    import pandas as pd

    from planner.common.atomic import OutputStage
    from planner.network.model import Network
    from planner.network.timetable import Timetable
    from planner.outputs.report import Report
    from planner.scenarios.spec import Scenario

__all__ = ["RANKING_COLUMNS", "CardMeasure", "CardMeasurement"]

#: ranking columns of a fare_policy scenario <- the dividend's summary keys
RANKING_COLUMNS = {"card_time_saved_min": "pop_weighted_time_saved_min",
                   "card_time_saved_ticketing_min": "pop_weighted_time_saved_ticketing_min",
                   "card_time_saved_connection_min": "pop_weighted_time_saved_connection_min",
                   "card_fare_change": "mean_fare_change", "card_generalized_change_min": "mean_generalized_change_min",
                   "card_mix_changed_share": "share_journeys_mix_changed"}


@dataclass
class CardMeasurement:
    """The card's dividend of one scenario (:class:`FareDividend`) and the fare system each
    operator of its policy put on the card."""

    result: FareDividend
    operators: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> dict[str, float]:
        s = self.result.summary
        return {col: s.get(key, float("nan")) for col, key in RANKING_COLUMNS.items()}

    def write(self, stage: OutputStage, scenario: str) -> None:
        write_text(stage.path(f"fares_{scenario}_od.csv"),
                   self.result.od.to_csv(index=False, float_format="%.3f", lineterminator="\n"))

    def report_section(self, report: Report, tt: Timetable, scenario: str) -> None:
        report_section(report, self.result, tt, title=f"Scenario {scenario}: the unified fare card",
                       operators=self.operators, pairs=10)


@dataclass(frozen=True)
class CardMeasure:
    """The card's dividend of a scenario's ``fare_policy``, with ``params`` (departures from
    the evaluation's first departure; default: a 60-minute window every 15 minutes)."""

    params: DividendParams = field(default_factory=lambda: DividendParams(window_min=60, step_min=15))

    def applies(self, scn: Scenario) -> bool:
        return bool(scn.of_kind(FarePolicy))

    def measure(self, net: Network, scn: Scenario, places: pd.DataFrame, *, departure_s: int, executor=None,
                progress: bool = False) -> CardMeasurement:
        params = replace(self.params, departure_s=departure_s)
        res, operators = scenario_fare_dividend(net, scn, places, params=params, executor=executor,
                                                progress=progress)
        return CardMeasurement(res, operators)
