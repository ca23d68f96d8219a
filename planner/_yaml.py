"""Safe YAML loading that remembers the line of every value (for error messages).

Only the safe loader is used (no Python objects, no arbitrary tags). Duplicate mapping keys
are errors, not silently overwritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from planner.errors import ScenarioError

__all__ = ["load_yaml_with_lines"]

Path_ = tuple


def load_yaml_with_lines(text: str, filename: str | Path) -> tuple[Any, dict[Path_, int]]:
    """Parse ``text``; return the data and ``{path: line}`` (1-based) for every node.

    Paths are tuples of keys and list indices, e.g. ``("changes", 0, "add_line", "stops")``.
    Raises :class:`ScenarioError` (``invalid_yaml``) naming the file and line.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        ctx = getattr(err, "context_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(err, "problem", None) or str(err)
        if ctx is not None and getattr(err, "context", None):
            # e.g. an unclosed bracket: the place it was opened is the useful one
            problem = f"{err.context} started here; {problem} at line {line}"
            line = ctx.line + 1
        msg = f"{filename}:{line}: not valid YAML ({problem})"
        raise ScenarioError(msg, code="invalid_yaml", hint="check indentation, colons and quotes") from err
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    return _convert(node, (), lines, filename, yaml.SafeLoader("")), lines


def _convert(node, path: Path_, lines: dict[Path_, int], filename, loader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k_node, v_node in node.value:
            key = _convert(k_node, (*path, "<key>"), {}, filename, loader)
            if not isinstance(key, str | int | float | bool) or key is None:
                msg = f"{filename}:{k_node.start_mark.line + 1}: mapping keys must be plain words"
                raise ScenarioError(msg, code="invalid_yaml")
            if key in out:
                msg = f"{filename}:{k_node.start_mark.line + 1}: key '{key}' appears twice"
                raise ScenarioError(msg, code="invalid_yaml", hint="remove one of them")
            out[key] = _convert(v_node, (*path, key), lines, filename, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, (*path, i), lines, filename, loader) for i, v in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as err:
        msg = f"{filename}:{node.start_mark.line + 1}: {err}"
        raise ScenarioError(msg, code="invalid_yaml") from err
