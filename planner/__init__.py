"""plan: a transport-network integration planner.

Importing ``planner`` changes nothing outside ``planner`` (no logging setup, no global
numba or numpy settings); only the ``plan`` command line configures logging.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("planner")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
