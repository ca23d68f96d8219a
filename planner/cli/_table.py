"""Plain-text tables for the terminal (no dependency, aligned columns, numbers right)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def render(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
           max_width: int = 60) -> str:
    """Rows of dicts as an aligned text table with a header rule."""
    if not rows:
        return "(none)"
    cols = list(columns or rows[0].keys())
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    numeric = [all((isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool)) or r.get(c) is None
                   for r in rows) for c in cols]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(cols)]
    def line(vals):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric, strict=True)).rstrip()
    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)
