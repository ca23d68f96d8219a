"""Scenarios: candidate lines and other changes as YAML files, applied to copies of the inputs.

* :mod:`~planner.scenarios.spec`: the file format, checked on load (errors name the line);
* :mod:`~planner.scenarios.apply`: the changes on copies of the feeds and of a network;
* :mod:`~planner.scenarios.network`: :func:`~planner.scenarios.network.scenario_network`, the
  one way every command gets a scenario's network;
* :mod:`~planner.scenarios.runtimes`: kinematic run times of a new rail line;
* :mod:`~planner.scenarios.fare_policy`: the ``fare_policy`` change (a unified card).
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.scenarios import apply, fare_policy, network, runtimes, spec

__all__ = ["apply", "fare_policy", "network", "runtimes", "spec"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
