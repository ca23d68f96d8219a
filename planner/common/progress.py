"""Progress bars (tqdm) that the caller can silence; written to stderr only."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

if TYPE_CHECKING:
    from collections.abc import Iterable


def progress(iterable: Iterable | None = None, *, enabled: bool = True, **kwargs: Any):
    """A tqdm bar over ``iterable`` (or a manual bar with ``total=``), or a silent stand-in.

    Bars only show on an interactive stderr unless ``enabled`` is forced by the caller,
    and never when ``enabled`` is False (``-q``).
    """
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("leave", False)
    kwargs.setdefault("dynamic_ncols", True)
    out = kwargs["file"]
    interactive = bool(getattr(out, "isatty", lambda: False)())
    return tqdm(iterable, disable=not (enabled and interactive), **kwargs)
