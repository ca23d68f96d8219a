"""Where the bundled default data lives (the Northeast China sample).

The data sits at the top of the source tree (``gtfs/``, ``osm_cache/``). It is found from
the current directory first (running inside a clone), then beside the installed package
(an editable install).
"""

from __future__ import annotations

from pathlib import Path

import planner


def data_root() -> Path | None:
    """The folder holding ``gtfs/`` and ``osm_cache/``, or None when not found."""
    candidates = [Path.cwd(), Path(planner.__file__).resolve().parent.parent]
    for c in candidates:
        if (c / "gtfs").is_dir() and any((c / "gtfs").iterdir()):
            return c
    return None


def default_gtfs_paths() -> list[Path]:
    """The bundled GTFS feeds (zip files and feed folders under ``gtfs/``), sorted."""
    root = data_root()
    if root is None:
        return []
    out = []
    for p in sorted((root / "gtfs").iterdir()):
        if p.suffix.lower() == ".zip" or (p.is_dir() and (p / "stops.txt").exists()):
            out.append(p)
    return out
