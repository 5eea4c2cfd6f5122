"""``${...}`` parameter expressions, resolved against a workflow's context document.

A string that is exactly one expression, such as ``"${ref.output.items}"``, resolves to the typed
value at that path (a dict, list, number, bool or None). Any other string has each expression
replaced by text: strings as they are, every other value as compact JSON, so None becomes
``null`` and True becomes ``true``. ``$${`` stands for a literal ``${``.

Paths read the context dict the caller builds (``workflow.input.x``, ``ref.output.a.b[0].c``,
``workflow.variables.z``), with an optional leading ``$.``, bracket keys (``a['b']``, ``a["b"]``)
and list indices (``[0]``). A missing segment anywhere gives None; resolution never raises.
Any other JSONPath (deep scan ``..``, wildcards ``[*]``, filters ``[?(@.a > 1)]``, negative
indices, slices, unions) is evaluated by python-jsonpath, giving what Jayway JsonPath (Conductor's)
gives: the value for a path that names one place, a list of the matches for any other.
Unclosed or malformed expressions are reported by :func:`expression_problems`; at resolution an
unclosed ``${`` stays literal text and a malformed path resolves to None.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonpath

Segment = str | int

_BARE_NAME = re.compile(r"[^.\[\]\s'\"]+")
_INDEX = re.compile(r"\[(\d+)\]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FUNCTION_CALL = re.compile(r"\.[A-Za-z_]\w*\(\)$")  # Jayway's functions end a path


@dataclass(frozen=True, slots=True)
class _Expr:
    """One ``${...}``: its source text and either its path or why the path is malformed."""

    source: str
    path: tuple[Segment, ...] | None
    error: str | None
    query: jsonpath.JSONPath | None = None  # a JSONPath beyond plain keys and indices
    length: bool = False  # Jayway's ``.length()`` (or ``.size()``) ends the path


_Part = str | _Expr


class _PathError(ValueError):
    pass


def resolve(template: Any, context: Mapping[str, Any]) -> Any:
    """The template with every ``${...}`` replaced; dicts and lists are rebuilt, not mutated."""
    if isinstance(template, str):
        return _resolve_string(template, context)
    if isinstance(template, Mapping):
        return {key: resolve(value, context) for key, value in template.items()}
    if isinstance(template, list | tuple):
        return [resolve(item, context) for item in template]
    return template


def expression_problems(template: Any) -> list[tuple[str, str]]:
    """(sub-path, message) for each malformed expression in the template.

    The sub-path is relative to the template and ready to append to its own JSON path:
    ``""`` for the template itself, ``".key"``, ``"['odd key']"`` or ``"[3]"`` below it.
    """
    problems: list[tuple[str, str]] = []
    for sub_path, text in _strings(template, ""):
        problems.extend((sub_path, message) for message in _string_problems(text))
    return problems


def with_placeholders(text: str, placeholder: str = "null") -> str:
    """The string with ``$${`` unescaped and each ``${...}`` replaced by ``placeholder``.

    Used to syntax-check a script that will only be complete once its expressions are resolved.
    """
    return "".join(part if isinstance(part, str) else placeholder for part in _parse_string(text))


def lookup(context: Any, path: tuple[Segment, ...]) -> Any:
    """The value at ``path`` in ``context``, or None when any segment is missing."""
    value = context
    for segment in path:
        if isinstance(segment, int):
            if not isinstance(value, list | tuple) or segment >= len(value):
                return None
            value = value[segment]
        elif isinstance(value, Mapping):
            value = value.get(segment)
        else:
            return None
    return value


def _resolve_string(text: str, context: Mapping[str, Any]) -> Any:
    if "$" not in text:
        return text
    parts = _parse_string(text)
    if len(parts) == 1 and isinstance(parts[0], _Expr) and not _deferred(parts[0]):
        return copy.deepcopy(_evaluate(parts[0], context))
    return "".join(
        part if isinstance(part, str) else _deferred_or_text(part, context) for part in parts
    )


# ${workflow.env.X} and ${workflow.secrets.X} stay as they are: they are filled in when the
# task is handed to its worker (dynoq.workflow.variables), so no stored document holds them
_DEFERRED = ("env", "secrets")


def _deferred(expr: _Expr) -> bool:
    path = expr.path
    return path is not None and len(path) > 2 and path[0] == "workflow" and path[1] in _DEFERRED


def _deferred_or_text(expr: _Expr, context: Mapping[str, Any]) -> str:
    if _deferred(expr):
        return "${" + expr.source + "}"
    return _as_text(_evaluate(expr, context))


def _evaluate(expr: _Expr, context: Mapping[str, Any]) -> Any:
    if expr.length:
        inner = _evaluate(_Expr(expr.source, expr.path, None, expr.query), context)
        return len(inner) if isinstance(inner, list | dict | str) else None
    if expr.path is not None:
        return lookup(context, expr.path)
    if expr.query is not None:
        try:
            found = expr.query.findall(context)
        except jsonpath.JSONPathError:
            return None
        if expr.query.singular_query():
            return found[0] if found else None
        return found
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _strings(template: Any, sub_path: str) -> Iterator[tuple[str, str]]:
    if isinstance(template, str):
        yield sub_path, template
    elif isinstance(template, Mapping):
        for key, value in template.items():
            yield from _strings(value, sub_path + key_path(key))
    elif isinstance(template, list | tuple):
        for index, item in enumerate(template):
            yield from _strings(item, f"{sub_path}[{index}]")


def key_path(key: Any) -> str:
    """The JSON path step for a map key: ``.name``, or ``["odd key"]`` when it is not a name."""
    text = str(key)
    return f".{text}" if _IDENTIFIER.fullmatch(text) else f"[{json.dumps(text)}]"


def _string_problems(text: str) -> list[str]:
    if "${" not in text:
        return []
    problems = [
        f"bad expression '${{{part.source}}}': {part.error}"
        for part in _parse_string(text)
        if isinstance(part, _Expr) and part.error is not None
    ]
    if _unclosed_at(text) is not None:
        problems.append(f"unclosed '${{' in {text!r}")
    return problems


@lru_cache(maxsize=4096)
def _parse_string(text: str) -> tuple[_Part, ...]:
    """The string split into literal text and expressions, escapes already applied."""
    parts: list[_Part] = []
    literal: list[str] = []
    pos = 0
    while pos < len(text):
        if text.startswith("$${", pos):
            literal.append("${")
            pos += 3
        elif text.startswith("${", pos) and (end := _closing_brace(text, pos + 2)) is not None:
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_parse_expr(text[pos + 2 : end]))
            pos = end + 1
        else:
            literal.append(text[pos])
            pos += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def _unclosed_at(text: str) -> int | None:
    """Where the first ``${`` without its closing brace starts, if any."""
    pos = 0
    while (start := text.find("$", pos)) != -1:
        if text.startswith("$${", start):
            pos = start + 3
        elif text.startswith("${", start):
            end = _closing_brace(text, start + 2)
            if end is None:
                return start
            pos = end + 1
        else:
            pos = start + 1
    return None


def _closing_brace(text: str, pos: int) -> int | None:
    """The index of the ``}`` closing an expression whose body starts at ``pos``.

    Quoted bracket keys may hold ``}``, so quotes are skipped over.
    """
    quote = ""
    while pos < len(text):
        char = text[pos]
        if quote:
            if char == "\\":
                pos += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "}":
            return pos
        pos += 1
    return None


def _parse_expr(source: str) -> _Expr:
    body = source.strip()
    for function in (".length()", ".size()"):
        if body.endswith(function):
            inner = _parse_expr(body.removesuffix(function))
            return _Expr(source, inner.path, inner.error, inner.query, length=True)
    if _FUNCTION_CALL.search(body):
        return _Expr(source, None, "JSONPath functions other than length() are not supported")
    try:
        return _Expr(source, parse_path(source), None)
    except _PathError as exc:
        simple_error = str(exc)
    text = source.strip()
    if text in ("", "$", "$."):
        return _Expr(source, None, simple_error)
    if not text.startswith("$"):
        text = "$." + text  # as Jayway reads a path without its root
    try:
        query = jsonpath.compile(text)
        if not isinstance(query, jsonpath.JSONPath):  # a union of paths: not Jayway's
            return _Expr(source, None, "a union of JSONPaths ('|', '&') is not supported")
        return _Expr(source, None, None, query)
    except jsonpath.JSONPathError as exc:
        message = str(exc).splitlines()[0] if str(exc) else simple_error
        return _Expr(source, None, f"not a JSONPath dynoq reads ({message})")


@lru_cache(maxsize=4096)
def parse_path(source: str) -> tuple[Segment, ...]:
    """The segments of a path such as ``$.ref.output['a'][0].b``; raises ValueError if malformed."""
    text = source.strip()
    if text.startswith("$."):
        text = text[2:]
    if not text:
        raise _PathError("empty path")
    segments: list[Segment] = []
    pos = 0
    while pos < len(text):
        pos = _next_segment(text, pos, segments)
    return tuple(segments)


def _next_segment(text: str, pos: int, segments: list[Segment]) -> int:
    """Appends the segment starting at ``pos`` and returns where the next one starts."""
    if text[pos] == "[":
        return _bracket_segment(text, pos, segments)
    if segments:
        if text[pos] != ".":
            raise _PathError(f"unexpected {text[pos]!r} at {pos}")
        pos += 1
    name = _BARE_NAME.match(text, pos)
    if name is None:
        raise _PathError(f"expected a name at {pos}")
    segments.append(name.group())
    return name.end()


def _bracket_segment(text: str, pos: int, segments: list[Segment]) -> int:
    if not segments:
        raise _PathError("a path must start with a name")
    index = _INDEX.match(text, pos)
    if index is not None:
        segments.append(int(index.group(1)))
        return index.end()
    quote = text[pos + 1 : pos + 2]
    if quote not in ("'", '"'):
        raise _PathError(f"expected an index or a quoted key at {pos}")
    key: list[str] = []
    cursor = pos + 2
    while cursor < len(text) and text[cursor] != quote:
        if text[cursor] == "\\" and cursor + 1 < len(text):
            cursor += 1
        key.append(text[cursor])
        cursor += 1
    if not text.startswith(quote + "]", cursor):
        raise _PathError(f"unclosed bracket key at {pos}")
    segments.append("".join(key))
    return cursor + 2
