"""Safe YAML loading that remembers the line of every value (for error messages).

Only the safe loader is used (no Python objects, no arbitrary tags). Duplicate mapping keys
are errors, not silently overwritten. Untrusted text cannot exhaust the process: nesting is
limited to :data:`MAX_DEPTH` levels (PyYAML's composer recurses, so a deeply nested document
would otherwise end in a ``RecursionError``), an alias may not refer to a value that contains
it (a cycle), and aliases may not expand the document past :data:`MAX_VALUES` values (the
YAML "billion laughs"). Every problem is a :class:`~planner.errors.ScenarioError` naming the
file and line (issue 11, found by ``tests/test_fuzz.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from planner.errors import ScenarioError

__all__ = ["load_yaml_with_lines"]

Path_ = tuple

#: deepest nesting of lists and mappings accepted (a scenario needs about 6)
MAX_DEPTH = 64
#: most values after expanding aliases (a scenario has a few hundred)
MAX_VALUES = 100_000


def load_yaml_with_lines(text: str, filename: str | Path) -> tuple[Any, dict[Path_, int]]:
    """Parse ``text``; return the data and ``{path: line}`` (1-based) for every node.

    Paths are tuples of keys and list indices, e.g. ``("changes", 0, "add_line", "stops")``.
    Raises :class:`ScenarioError` (``invalid_yaml``) naming the file and line.
    """
    try:
        _check_structure(text, filename)
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
    except ScenarioError:
        raise
    except (ValueError, OverflowError, TypeError, IndexError, KeyError, AttributeError) as err:
        # PyYAML's scanner itself can fail this way, e.g. int() of a '%YAML 1.<5,000 digits>'
        # directive; the scanner's position is not available, so name the file only
        reason = str(err).split("; use sys.", 1)[0]
        msg = f"{filename}: not valid YAML ({type(err).__name__}: {reason[:200]})"
        raise ScenarioError(msg, code="invalid_yaml", hint="check the '%' directives and very long numbers") from err
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    return _convert(node, (), lines, filename, yaml.SafeLoader(""), [0]), lines


def _check_structure(text: str, filename) -> None:
    """Refuse deep nesting and recursive aliases from the event stream (which does not recurse).

    Syntax errors are left to :func:`yaml.compose`, which reports them with their line.
    """
    depth = 0
    open_anchors: list[str | None] = []
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                depth += 1
                open_anchors.append(event.anchor)
                if depth > MAX_DEPTH:
                    msg = f"{filename}:{event.start_mark.line + 1}: lists and mappings nested more than {MAX_DEPTH} levels deep"
                    raise ScenarioError(msg, code="invalid_yaml", hint="a scenario needs only a few levels of nesting")
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                depth -= 1
                open_anchors.pop()
            elif isinstance(event, yaml.AliasEvent) and event.anchor in open_anchors:
                msg = f"{filename}:{event.start_mark.line + 1}: alias *{event.anchor} refers to a value that contains it"
                raise ScenarioError(msg, code="invalid_yaml", hint="a recursive alias has no finite value; remove it")
    except yaml.YAMLError:
        return


def _convert(node, path: Path_, lines: dict[Path_, int], filename, loader, count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_VALUES:
        msg = f"{filename}: the document expands to more than {MAX_VALUES:,} values (aliases repeated many times?)"
        raise ScenarioError(msg, code="invalid_yaml", hint="write the values out; do not nest aliases")
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k_node, v_node in node.value:
            key = _convert(k_node, (*path, "<key>"), {}, filename, loader, count)
            if not isinstance(key, str | int | float | bool) or key is None:
                msg = f"{filename}:{k_node.start_mark.line + 1}: mapping keys must be plain words"
                raise ScenarioError(msg, code="invalid_yaml")
            if key in out:
                msg = f"{filename}:{k_node.start_mark.line + 1}: key '{key}' appears twice"
                raise ScenarioError(msg, code="invalid_yaml", hint="remove one of them")
            out[key] = _convert(v_node, (*path, key), lines, filename, loader, count)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, (*path, i), lines, filename, loader, count) for i, v in enumerate(node.value)]
    try:
        value = loader.construct_object(node, deep=True)
        if isinstance(value, str):
            value.encode("utf-8")  # a lone surrogate from a "\ud800" escape cannot be written anywhere
        return value
    except UnicodeEncodeError as err:
        msg = f"{filename}:{node.start_mark.line + 1}: text with an invalid character (a lone surrogate \\u{ord(err.object[err.start]):04x})"
        raise ScenarioError(msg, code="invalid_yaml", hint="write the character itself, or a complete surrogate pair") from err
    except yaml.YAMLError as err:
        msg = f"{filename}:{node.start_mark.line + 1}: {err}"
        raise ScenarioError(msg, code="invalid_yaml") from err
    except (ValueError, OverflowError, TypeError, IndexError, KeyError, AttributeError) as err:
        # PyYAML's scalar constructors raise these: a date 2024-13-45 (datetime refuses it),
        # an integer of 5,000 digits (int's digit limit), an empty '!!int' (IndexError)
        kind = str(node.tag).rsplit(":", 1)[-1]
        shown = str(node.value)
        shown = shown if len(shown) <= 40 else shown[:40] + "..."
        reason = str(err).split("; use sys.", 1)[0]
        msg = f"{filename}:{node.start_mark.line + 1}: {shown!r} is not a valid {kind} ({reason})"
        raise ScenarioError(msg, code="invalid_yaml", hint="quote the value to keep it as text") from err
