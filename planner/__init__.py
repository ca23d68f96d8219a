"""plan: a transport-network integration planner.

``import planner as pl`` gives the library API; every name loads its module on first use, so
the import itself costs nothing (the stages are SciPy-style lazy packages,
:mod:`planner.common.lazy`)::

    import planner as pl

    feeds = pl.read_feeds(["gtfs/northeast_rail.zip", "gtfs/harbin_metro.zip"])
    net = pl.build_network(feeds, "2025-01-01", osm="osm_cache/harbin_central.osm.pbf")
    places = pl.load_places()                       # the bundled cities with populations
    tt = pl.travel_time_matrix(net, places, places, departure_s=7 * 3600, window_min=60,
                               step_min=10, local_access=True)

The pipeline, one stage per subpackage (``docs/architecture.md``): :mod:`planner.ingest`
(GTFS, OSM, points) -> :mod:`planner.network` (streets + timetable + links) ->
:mod:`planner.routing` (the numba kernels' wrappers) -> :mod:`planner.scenarios` (candidate
changes) -> :mod:`planner.analyses` (one room per question) with :mod:`planner.outputs`
(report, maps, rasters). :class:`Config` holds every parameter; every error is a
:class:`PlannerError`. Importing ``planner`` changes nothing outside ``planner`` (no logging
setup, no global numba or numpy settings); only the ``plan`` command line configures logging.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from planner.common.lazy import attach

try:
    __version__ = version("planner")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from planner import analyses, common, ingest, kernels, network, outputs, routing, scenarios
    from planner.analyses.access.accessibility import accessibility, travel_time_surface
    from planner.analyses.access.grid import census_opportunities, make_grid, read_opportunities
    from planner.analyses.access.problem import Decay
    from planner.analyses.evaluate.compare import evaluate
    from planner.analyses.fare_card.dividend import fare_dividend, scenario_fare_dividend
    from planner.analyses.fare_card.measure import CardMeasure
    from planner.analyses.matrix import travel_time_matrix
    from planner.analyses.railnet.compare import compare_nets
    from planner.analyses.railnet.net import rail_net
    from planner.analyses.route import plan_route
    from planner.analyses.transfers.analysis import analyse_transfers
    from planner.config import Config
    from planner.errors import InputError, PlannerError
    from planner.ingest.gtfs.feed import read_feed, read_feeds
    from planner.ingest.osm import read_osm
    from planner.ingest.points import load_places, read_points
    from planner.network.build import build_network
    from planner.network.fares.sample import fare_setup
    from planner.network.model import Network
    from planner.network.streets import build_street_network
    from planner.routing.card_variants import DividendParams
    from planner.routing.execution import executor
    from planner.scenarios.network import scenario_network
    from planner.scenarios.spec import load_scenario

#: the stages (subpackages), loaded on first use
STAGES = ["analyses", "common", "ingest", "kernels", "network", "outputs", "routing", "scenarios"]
#: the library API: module (relative to ``planner``) -> names
API = {
    "config": ["Config"],
    "errors": ["InputError", "PlannerError"],
    "ingest.gtfs.feed": ["read_feed", "read_feeds"],
    "ingest.osm": ["read_osm"],
    "ingest.points": ["load_places", "read_points"],
    "network.streets": ["build_street_network"],
    "network.build": ["build_network"],
    "network.model": ["Network"],
    "network.fares.sample": ["fare_setup"],
    "routing.execution": ["executor"],
    "routing.card_variants": ["DividendParams"],
    "scenarios.spec": ["load_scenario"],
    "scenarios.network": ["scenario_network"],
    "analyses.matrix": ["travel_time_matrix"],
    "analyses.route": ["plan_route"],
    "analyses.access.accessibility": ["accessibility", "travel_time_surface"],
    "analyses.access.grid": ["census_opportunities", "make_grid", "read_opportunities"],
    "analyses.access.problem": ["Decay"],
    "analyses.evaluate.compare": ["evaluate"],
    "analyses.fare_card.dividend": ["fare_dividend", "scenario_fare_dividend"],
    "analyses.fare_card.measure": ["CardMeasure"],
    "analyses.transfers.analysis": ["analyse_transfers"],
    "analyses.railnet.net": ["rail_net"],
    "analyses.railnet.compare": ["compare_nets"],
}
__all__ = [
    "API", "STAGES", "CardMeasure", "Config", "Decay", "DividendParams", "InputError", "Network", "PlannerError",
    "__version__", "accessibility", "analyse_transfers", "analyses", "build_network", "build_street_network",
    "census_opportunities", "common", "compare_nets", "evaluate", "executor", "fare_dividend", "fare_setup",
    "ingest", "kernels", "load_places", "load_scenario", "make_grid", "network", "outputs", "plan_route",
    "rail_net", "read_feed", "read_feeds", "read_opportunities", "read_osm", "read_points", "routing",
    "scenario_fare_dividend", "scenario_network", "scenarios", "travel_time_matrix", "travel_time_surface",
]
__getattr__, __dir__ = attach(__name__, submodules=STAGES, names=API)
