"""Validation notices, modelled on the canonical GTFS validator.

A :class:`Notice` is one problem found in an input: a snake_case ``code`` (the MobilityData
gtfs-validator's code where one exists, ``planner_...`` for our own), a :class:`Severity`,
and where it was found (``feed``, ``file``, 1-based ``line`` counting the header as line 1,
``field``, ``value``). :class:`Notices` collects them, keeps a bounded sample per code
(every notice is still counted) and renders them as a table, CSV or JSON in a
deterministic order.

What happens to the data is stated in ``action``: ``"fatal"`` (the input is unusable and
loading stops after the current stage), ``"dropped"`` (the row or entity was removed),
``"fixed"`` (a value was repaired, e.g. a missing departure copied from the arrival),
``"kept"`` (reported only).
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import pandas as pd

__all__ = ["Notice", "Notices", "Severity"]

#: Longest value echoed into a notice; longer values are cut with an ellipsis.
MAX_VALUE_CHARS = 80


class Severity(enum.IntEnum):
    """How serious a notice is (ordered: ``INFO < WARNING < ERROR``)."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name


def _cut(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\x00", "\\x00").replace("\n", "\\n").replace("\r", "\\r")
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 1] + "…"
    return text


@dataclass(frozen=True)
class Notice:
    """One problem found in an input.

    Attributes
    ----------
    code
        Stable snake_case code.
    severity
        ``ERROR``, ``WARNING`` or ``INFO``.
    message
        One readable sentence.
    feed
        Feed id (GTFS) or input name.
    file
        File inside the feed (``stops.txt``) or the input path.
    line
        1-based line number, the header being line 1; 0 when not row-level.
    field
        Column name, empty when not field-level.
    value
        Offending value, cut to :data:`MAX_VALUE_CHARS`.
    action
        ``fatal``, ``dropped``, ``fixed`` or ``kept``.
    """

    code: str
    severity: Severity
    message: str
    feed: str = ""
    file: str = ""
    line: int = 0
    field: str = ""
    value: str = ""
    action: str = "kept"

    def location(self) -> str:
        """``feed/file:line field`` as far as known."""
        parts = []
        where = "/".join(p for p in (self.feed, self.file) if p)
        if where:
            parts.append(where + (f":{self.line}" if self.line else ""))
        if self.field:
            parts.append(f"field '{self.field}'")
        if self.value:
            parts.append(f"value '{self.value}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        return f"[{self.severity}] {self.code}: {self.message}" + (f" ({loc})" if loc else "")


_SORT_FIELDS = ("severity_rank", "code", "feed", "file", "line", "field", "value")


@dataclass
class Notices:
    """A bounded collection of :class:`Notice` objects.

    Every notice is counted; at most ``max_samples_per_code`` are kept per (code, feed) so
    that a feed with a million bad rows does not use a million objects.
    """

    max_samples_per_code: int = 1000
    _kept: list[Notice] = field(default_factory=list)
    _counts: Counter = field(default_factory=Counter)
    _severity: dict = field(default_factory=dict)
    _per_key: Counter = field(default_factory=Counter)

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        *,
        feed: str = "",
        file: str = "",
        line: int = 0,
        field: str = "",
        value: object = "",
        action: str = "kept",
        count: int = 1,
    ) -> Notice:
        """Record a notice (``count`` > 1 records several identical ones at once)."""
        notice = Notice(
            code=code,
            severity=Severity(severity),
            message=message,
            feed=feed,
            file=file,
            line=int(line),
            field=field,
            value=_cut(value),
            action=action,
        )
        self._counts[(code, feed)] += count
        self._severity[code] = max(self._severity.get(code, Severity.INFO), notice.severity)
        if self._per_key[(code, feed)] < self.max_samples_per_code:
            self._per_key[(code, feed)] += 1
            self._kept.append(notice)
        return notice

    def extend(self, other: Notices) -> None:
        """Merge another collection into this one."""
        for (code, feed), n in other._counts.items():
            self._counts[(code, feed)] += n
            self._severity[code] = max(self._severity.get(code, Severity.INFO), other._severity[code])
        for notice in other._kept:
            key = (notice.code, notice.feed)
            if self._per_key[key] < self.max_samples_per_code:
                self._per_key[key] += 1
                self._kept.append(notice)

    def __iter__(self) -> Iterator[Notice]:
        return iter(self.sorted())

    def __len__(self) -> int:
        return sum(self._counts.values())

    def __bool__(self) -> bool:
        return bool(self._counts)

    def sorted(self) -> list[Notice]:
        """Kept notices, most severe first, then by code, feed, file, line, field, value."""
        return sorted(
            self._kept,
            key=lambda n: (-int(n.severity), n.code, n.feed, n.file, n.line, n.field, n.value),
        )

    def count(self, code: str | None = None, *, severity: Severity | None = None) -> int:
        """Number of notices recorded (all, of one code, or of one severity)."""
        total = 0
        for (c, _feed), n in self._counts.items():
            if code is not None and c != code:
                continue
            if severity is not None and self._severity[c] != severity:
                continue
            total += n
        return total

    def codes(self) -> set[str]:
        """Codes seen at least once."""
        return {c for (c, _f) in self._counts}

    def fatal(self) -> list[Notice]:
        """Kept notices whose action is ``fatal``."""
        return [n for n in self.sorted() if n.action == "fatal"]

    def has_errors(self) -> bool:
        """True when any ERROR notice was recorded."""
        return any(s == Severity.ERROR for s in self._severity.values())

    def summary(self) -> list[dict[str, Any]]:
        """One row per (code, feed): severity, count and the first sample's location."""
        first: dict[tuple[str, str], Notice] = {}
        for n in sorted(self.sorted(), key=lambda n: n.line == 0):  # prefer a located sample
            first.setdefault((n.code, n.feed), n)
        rows = []
        for (code, feed), count in self._counts.items():
            sample = first.get((code, feed))
            rows.append(
                {
                    "severity": str(self._severity[code]),
                    "code": code,
                    "feed": feed,
                    "count": count,
                    "example": sample.location() if sample else "",
                    "message": sample.message if sample else "",
                }
            )
        rank = {"ERROR": 0, "WARNING": 1, "INFO": 2}
        rows.sort(key=lambda r: (rank[r["severity"]], r["code"], r["feed"]))
        return rows

    def to_frame(self) -> pd.DataFrame:
        """Kept notices as a DataFrame (columns as the :class:`Notice` attributes)."""
        import pandas as pd  # slow (0.5 s): notices are on the command line's start-up path, tables are not

        cols = [f for f in Notice.__dataclass_fields__]
        rows = [dict(asdict(n), severity=str(n.severity)) for n in self.sorted()]
        return pd.DataFrame(rows, columns=cols)

    def to_csv(self) -> str:
        """Kept notices as CSV text (one row per notice)."""
        buf = io.StringIO()
        cols = list(Notice.__dataclass_fields__)
        writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        for n in self.sorted():
            writer.writerow(dict(asdict(n), severity=str(n.severity)))
        return buf.getvalue()

    def to_json(self) -> str:
        """Counts per code and the kept notices as JSON (sorted, stable)."""
        doc = {
            "summary": self.summary(),
            "notices": [dict(asdict(n), severity=str(n.severity)) for n in self.sorted()],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True)


def merge(collections: Iterable[Notices]) -> Notices:
    """One :class:`Notices` holding everything in ``collections``."""
    out = Notices()
    for c in collections:
        out.extend(c)
    return out
