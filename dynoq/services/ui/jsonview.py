"""JSON laid out one value per line, with the line each JSON path starts on (pure), so a
definition's validation errors can be shown on the lines they are about."""

from __future__ import annotations

import json
import re
from typing import Any

_STEP = re.compile(r"\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[['\"](.*?)['\"]\]")


def dump_with_lines(value: Any) -> tuple[str, dict[str, int]]:
    """The text (2-space indent, like ``json.dumps(indent=2)``) and {path: 1-based line}, paths
    written as ``$.tasks[0].name``."""
    lines: list[str] = []
    where: dict[str, int] = {}

    def emit(v: Any, path: str, indent: str, prefix: str, suffix: str) -> None:
        where[path] = len(lines) + 1
        if isinstance(v, dict) and v:
            lines.append(f"{indent}{prefix}{{")
            items = list(v.items())
            for i, (k, item) in enumerate(items):
                key = json.dumps(str(k)) + ": "
                emit(item, f"{path}.{k}", indent + "  ", key, "," if i < len(items) - 1 else "")
            lines.append(f"{indent}}}{suffix}")
        elif isinstance(v, list) and v:
            lines.append(f"{indent}{prefix}[")
            for i, item in enumerate(v):
                emit(item, f"{path}[{i}]", indent + "  ", "", "," if i < len(v) - 1 else "")
            lines.append(f"{indent}]{suffix}")
        else:
            lines.append(f"{indent}{prefix}{json.dumps(v)}{suffix}")

    emit(value, "$", "", "", "")
    return "\n".join(lines), where


def line_of(path: str, where: dict[str, int]) -> int:
    """The line of ``path``, or of its nearest ancestor that exists (a missing field's error is
    shown on the object that lacks it)."""
    steps = [m.group(0) for m in _STEP.finditer(path.removeprefix("$"))]
    for n in range(len(steps), -1, -1):
        candidate = "$" + "".join(_normal(s) for s in steps[:n])
        if candidate in where:
            return where[candidate]
    return 1


def _normal(step: str) -> str:
    match = _STEP.fullmatch(step)
    if match and match.group(3) is not None:
        return "." + match.group(3)
    return step
