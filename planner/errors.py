"""The one exception tree of ``planner``.

Every error the library raises on purpose is a :class:`PlannerError`. Each subclass also
inherits the matching built-in category (``ValueError`` for bad input, ``OSError`` for
files), so callers may catch either the specific class or the generic one.

The command line turns any :class:`PlannerError` into a short message on stderr in one
place (``planner.cli.main``): exit code 2 for :class:`InputError` and its subclasses (the
user can fix it), exit code 1 for everything else. Messages name the offending file, line
and field where there is one, and end with the fix when one is known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from planner.common.notices import Notice

__all__ = [
    "CacheError",
    "ConfigError",
    "FeedError",
    "InputError",
    "NoServiceError",
    "OSMError",
    "OutputError",
    "PlannerError",
    "ScenarioError",
]


class PlannerError(Exception):
    """Base class of every error ``planner`` raises on purpose.

    Parameters
    ----------
    message
        What went wrong, naming the file, line and field when known.
    code
        A stable snake_case code (the GTFS validator's code where one exists).
    hint
        How to fix it, if known.
    """

    exit_code = 1

    def __init__(self, message: str, *, code: str = "planner_error", hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  fix: {self.hint}"
        return self.message


class InputError(PlannerError, ValueError):
    """The user's input (a file, a parameter, a scenario) cannot be used as given."""

    exit_code = 2


class ConfigError(InputError):
    """A configuration value or command-line parameter is out of range or inconsistent."""


class FeedError(InputError):
    """A GTFS feed is unusable. ``notices`` lists every fatal problem found at once."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "feed_unusable",
        hint: str | None = None,
        notices: Iterable[Notice] = (),
    ):
        super().__init__(message, code=code, hint=hint)
        self.notices = list(notices)


class NoServiceError(InputError):
    """The requested date or departure window has no active trips."""


class OSMError(InputError):
    """An OpenStreetMap file or request cannot be used."""


class ScenarioError(InputError):
    """A scenario file is malformed or refers to something that does not exist."""


class OutputError(PlannerError, OSError):
    """An output cannot be written (path not writable, exists without ``--overwrite``...)."""

    exit_code = 2


class CacheError(PlannerError, OSError):
    """A cache entry cannot be read or written. Corrupt entries are treated as misses."""
