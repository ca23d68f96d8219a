"""The network a scenario leaves: the one place every command applies a scenario.

:func:`scenario_network` takes a baseline :class:`~planner.network.model.Network` and a
:class:`~planner.scenarios.spec.Scenario` and returns the scenario's network on the same
service date, departure window, configuration and streets (and drive network) as the
baseline:

1. the feed-level changes (``add_line``, ``adjust_headway``, ``remove_route``) are applied to
   copies of the baseline's feeds (:func:`~planner.scenarios.apply.apply_to_feeds`) and the
   network is built again from them; without such changes the baseline network is reused;
2. the network-level changes (``add_transfer``) are applied to a copy of it
   (:func:`~planner.scenarios.apply.apply_to_network`).

The rebuilt network goes through the same content-addressed cache as the baseline's, or
through none with ``use_cache=False`` (``--no-cache``): nothing is read from or written to
the cache folder then. The baseline is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.network.build import attach_drive, build_network
from planner.scenarios.apply import apply_to_feeds, apply_to_network
from planner.scenarios.spec import AddLine, AdjustHeadway, RemoveRoute

if TYPE_CHECKING:
    from pathlib import Path

    from planner.ingest.gtfs.feed import FeedSet
    from planner.network.model import Network
    from planner.scenarios.spec import Scenario

__all__ = ["FEED_CHANGES", "ScenarioNetwork", "scenario_network"]

#: the changes that alter the timetable (the network is built again from changed feeds)
FEED_CHANGES = (AddLine, AdjustHeadway, RemoveRoute)


@dataclass
class ScenarioNetwork:
    """What :func:`scenario_network` returns: the scenario's ``network``, its ``feeds`` (the
    baseline's with the feed-level changes), the ``report`` of every change (one dict per
    change, :func:`~planner.scenarios.apply.apply_to_feeds`) and whether the network was
    ``rebuilt`` from changed feeds."""

    network: Network
    feeds: FeedSet
    report: list[dict]
    rebuilt: bool


def scenario_network(base: Network, scn: Scenario, *, cache_dir: str | Path | None = None, use_cache: bool = True,
                     progress: bool | None = None) -> ScenarioNetwork:
    """The network of ``scn`` on the baseline ``base`` (module docstring).

    Parameters
    ----------
    base
        The baseline network; its date, window, configuration, walk and drive networks are
        the scenario's too.
    scn
        The scenario.
    cache_dir, use_cache
        The network cache (default folder ``osm_cache/``); ``use_cache=False`` neither reads
        nor writes it.
    progress
        Progress bars while rebuilding (default: the configuration's).

    Raises :class:`~planner.errors.NoServiceError` when the scenario leaves no trip on the date.
    """
    feeds, report = apply_to_feeds(base.load_feeds(), scn)
    rebuilt = any(isinstance(c, FEED_CHANGES) for c in scn.changes)
    net = base
    if rebuilt:
        tt = base.timetable
        net = build_network(feeds, str(tt.service_date), window=tuple(tt.window), walk=base.walk,
                            config=base.config, cache_dir=cache_dir, use_cache=use_cache, progress=progress)
        if base.drive is not None:
            attach_drive(net, base.drive, base.config)
    return ScenarioNetwork(apply_to_network(net, scn), feeds, report, rebuilt)
