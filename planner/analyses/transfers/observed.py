"""Observed transfer times: walks a planner measured on the ground replace computed ones (issue 19).

``plan transfers --observed FILE`` reads a CSV (UTF-8, header row) with the columns

================ ===========================================================================
``from_stop_id`` a stop of one station: the namespaced id (``feed:stop``), the feed's own id
                 when exactly one feed has it, or a station id of ``stations`` in the outputs
``to_stop_id``   a stop of the other station (same forms)
``walk_s``       the walk in seconds, platform to platform (a positive number)
``source``       where the figure comes from (a survey, a date); free text, may be empty
================ ===========================================================================

A row overrides the computed walk of the pair of stations its two stops belong to (the walks
are symmetric: either direction names the pair; several rows for one pair are averaged). The
pair's ``walk_method`` becomes ``observed``, its ``walk_m`` the walk at walking speed, and it is
never flagged "check the map data". Any bad row stops the run (exit 2) naming the file, the row
(as a spreadsheet numbers it: the header is row 1) and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.errors import InputError

__all__ = ["COLUMNS", "ObservedWalk", "read_observed"]

COLUMNS = ("from_stop_id", "to_stop_id", "walk_s", "source")


@dataclass(frozen=True)
class ObservedWalk:
    """One observed walk between station units ``a`` and ``b``."""

    a: int
    b: int
    walk_s: float
    source: str


def _fail(msg: str, hint: str | None = None) -> InputError:
    return InputError(msg, code="invalid_observed_walks",
                      hint=hint or "columns: from_stop_id, to_stop_id, walk_s, source (see plan transfers --help)")


def _unit_of(st, tt, text: str, where: str) -> int:
    ids = {str(s): i for i, s in enumerate(tt.stop_ids)}
    k = ids.get(text)
    if k is None:
        hits = [i for s, i in ids.items() if s.split(":", 1)[-1] == text]
        if len(hits) > 1:
            msg = f"{where}: stop id {text!r} is in several feeds; write it as feed:stop"
            raise _fail(msg)
        k = hits[0] if hits else None
    if k is not None:
        u = int(st.stop_unit[k])
        if u < 0:
            msg = f"{where}: stop {text!r} has no service in the timetable, so it belongs to no station"
            raise _fail(msg)
        return u
    for u, sid in enumerate(st.ids):
        if str(sid) == text:
            return u
    msg = f"{where}: unknown stop or station id {text!r}"
    raise _fail(msg, "use a stop_id of the feeds (feed:stop) or a station id of stations in the outputs")


def read_observed(path: str | Path, st, tt) -> dict[tuple[int, int], ObservedWalk]:
    """{(a, b) with a < b: ObservedWalk} from the CSV at ``path`` (module docstring)."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        msg = f"{p}: cannot read the observed walks as CSV ({err})"
        raise _fail(msg, "save the file as UTF-8 CSV with a header row") from err
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in COLUMNS[:3] if c not in df.columns]
    if missing:
        msg = f"{p}: row 1: missing column(s) {', '.join(missing)}"
        raise _fail(msg)
    sums: dict[tuple[int, int], list] = {}
    for i, r in enumerate(df.itertuples(index=False)):
        row = i + 2
        a = _unit_of(st, tt, str(r.from_stop_id).strip(), f"{p}: row {row}: field 'from_stop_id'")
        b = _unit_of(st, tt, str(r.to_stop_id).strip(), f"{p}: row {row}: field 'to_stop_id'")
        if a == b:
            msg = f"{p}: row {row}: field 'to_stop_id': both stops belong to station {st.ids[a]}"
            raise _fail(msg, "an observed transfer joins two different stations")
        try:
            walk_s = float(str(r.walk_s).strip())
        except ValueError:
            walk_s = math.nan
        if not (math.isfinite(walk_s) and walk_s > 0):
            msg = f"{p}: row {row}: field 'walk_s': {r.walk_s!r} is not a positive number of seconds"
            raise _fail(msg)
        source = str(getattr(r, "source", "")).strip()
        key = (min(a, b), max(a, b))
        acc = sums.setdefault(key, [0.0, 0, []])
        acc[0] += walk_s
        acc[1] += 1
        if source and source not in acc[2]:
            acc[2].append(source)
    return {k: ObservedWalk(k[0], k[1], v[0] / v[1], "; ".join(v[2])) for k, v in sums.items()}
