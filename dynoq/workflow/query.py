"""Conductor's search query language, parsed into a tree and evaluated on summaries (pure).

The grammar is what Conductor's UI and SDKs send to the search routes::

    query   := or
    or      := and ("OR" and)*
    and     := factor ("AND" factor)*
    factor  := "(" or ")" | clause
    clause  := field "IN" "(" value ("," value)* ")"
             | field ("=" | "!=" | ">" | ">=" | "<" | "<=") value
             | field "BETWEEN" value "AND" value

Keywords are case-insensitive; values may be quoted with ``'`` or ``"``. Any field of the
searched document may be named (case-insensitive); numbers compare as numbers. ``sort`` is
``field:ASC|DESC`` (several, comma or semicolon separated), ``freeText`` a word looked for in
the document's ids, correlation id, input and output (``*`` or empty: anything). Anything not
understood is an :class:`InvalidArgument` naming what.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from dynoq.errors import InvalidArgument

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>'[^']*'|"[^"]*")
      | (?P<op>>=|<=|!=|=|>|<|\(|\)|,)
      | (?P<word>[^\s=<>!(),'"]+)
    )""",
    re.VERBOSE,
)
_COMPARISONS = ("=", "!=", ">", ">=", "<", "<=")


@dataclasses.dataclass(frozen=True, slots=True)
class Clause:
    field: str  # lower case
    op: str  # IN, BETWEEN or a comparison
    values: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Any_:
    parts: tuple[Node, ...]


Node = Clause | All | Any_
EVERYTHING = All(())


@dataclasses.dataclass(frozen=True, slots=True)
class SortKey:
    field: str  # as given
    descending: bool


def _bad(message: str) -> InvalidArgument:
    return InvalidArgument(f"query: {message}", field="query")


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str

    @property
    def value(self) -> str:
        return self.text[1:-1] if self.kind == "quoted" else self.text

    def keyword(self, word: str) -> bool:
        return self.kind == "word" and self.text.upper() == word


def _tokens(query: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    query = query.rstrip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            raise _bad(f"cannot read {query[position:].strip()[:40]!r}")
        kind = match.lastgroup or "word"
        out.append(_Token(kind, match.group(kind)))
        position = match.end()
    return out


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = _tokens(query)
        self.position = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, what: str) -> _Token:
        token = self.peek()
        if token is None:
            raise _bad(f"expected {what} at the end")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take(repr(text))
        if token.kind != "op" or token.text != text:
            raise _bad(f"expected {text!r}, got {token.text!r}")

    def value(self) -> str:
        token = self.take("a value")
        if token.kind == "op":
            raise _bad(f"expected a value, got {token.text!r}")
        return token.value

    def any_of(self) -> Node:
        parts = [self.all_of()]
        while (token := self.peek()) is not None and token.keyword("OR"):
            self.position += 1
            parts.append(self.all_of())
        return parts[0] if len(parts) == 1 else Any_(tuple(parts))

    def all_of(self) -> Node:
        parts = [self.factor()]
        while (token := self.peek()) is not None and token.keyword("AND"):
            self.position += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def factor(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "op" and token.text == "(":
            self.position += 1
            node = self.any_of()
            self.expect(")")
            return node
        return self.clause()

    def clause(self) -> Clause:
        name = self.take("a field name")
        if name.kind != "word":
            raise _bad(f"expected a field, got {name.text!r}")
        field = name.text.lower()
        operator = self.take("an operator")
        if operator.keyword("IN"):
            self.expect("(")
            values = [self.value()]
            while (token := self.peek()) is not None and token.text == ",":
                self.position += 1
                values.append(self.value())
            self.expect(")")
            return Clause(field, "IN", tuple(values))
        if operator.keyword("BETWEEN"):
            low = self.value()
            if not self.take("AND").keyword("AND"):
                raise _bad(f"{name.text} BETWEEN takes two values joined by AND")
            return Clause(field, "BETWEEN", (low, self.value()))
        if operator.kind != "op" or operator.text not in _COMPARISONS:
            raise _bad(
                f"expected IN, BETWEEN or a comparison after {name.text}, got {operator.text!r}"
            )
        return Clause(field, operator.text, (self.value(),))


def parse_query(query: str) -> Node:
    """The tree of a query; an empty query matches everything."""
    if not query.strip():
        return EVERYTHING
    parser = _Parser(query)
    node = parser.any_of()
    extra = parser.peek()
    if extra is not None:
        raise _bad(f"expected AND or OR between clauses, got {extra.text!r}")
    return _simplified(node)


def _simplified(node: Node) -> Node:
    """``a = x OR a = y`` (or ``a IN (...)``) as one ``a IN (x, y)``, at any depth, so an
    index on ``a`` can answer it."""
    if isinstance(node, Clause):
        return node
    parts = tuple(_simplified(part) for part in node.parts)
    if isinstance(node, All):
        return All(parts)
    fields = {p.field for p in parts if isinstance(p, Clause) and p.op in ("=", "IN")}
    if len(fields) == 1 and all(isinstance(p, Clause) and p.op in ("=", "IN") for p in parts):
        values = tuple(dict.fromkeys(v for p in parts if isinstance(p, Clause) for v in p.values))
        return Clause(fields.pop(), "IN", values)
    return Any_(parts)


def parse_sort(sort: str) -> tuple[SortKey, ...]:
    """``startTime:DESC,workflowType`` (ASC when no direction is given)."""
    keys = []
    for part in re.split(r"[,;]", sort or ""):
        if not part.strip():
            continue
        name, _, direction = part.strip().partition(":")
        direction = direction.strip().upper() or "ASC"
        if direction not in ("ASC", "DESC") or not name.strip():
            raise InvalidArgument(
                f"sort: expected field:ASC or field:DESC, got {part!r}", field="sort"
            )
        keys.append(SortKey(name.strip(), direction == "DESC"))
    return tuple(keys)


def _field(doc: Mapping[str, Any], field: str) -> Any:
    for key, value in doc.items():
        if key.lower() == field:
            return value
    return None


def _compare(actual: Any, op: str, wanted: str) -> bool:
    if actual is None:
        return op == "!=" and wanted.lower() not in ("null", "")
    if isinstance(actual, bool):
        actual = str(actual).lower()
    if isinstance(actual, int | float):
        try:
            number = float(wanted)
        except ValueError:
            return op == "!="
        left: Any = actual
        right: Any = number
    else:
        left, right = str(actual), wanted
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


def matches(node: Node, doc: Mapping[str, Any]) -> bool:
    if isinstance(node, All):
        return all(matches(part, doc) for part in node.parts)
    if isinstance(node, Any_):
        return any(matches(part, doc) for part in node.parts)
    actual = _field(doc, node.field)
    if node.field == "status" and isinstance(actual, str):  # statuses are names: any case
        actual = actual.upper()
        node = Clause(node.field, node.op, tuple(v.upper() for v in node.values))
    if node.op == "IN":
        return any(_compare(actual, "=", value) for value in node.values)
    if node.op == "BETWEEN":
        return _compare(actual, ">=", node.values[0]) and _compare(actual, "<=", node.values[1])
    return _compare(actual, node.op, node.values[0])


def matches_text(doc: Mapping[str, Any], free_text: str, fields: tuple[str, ...]) -> bool:
    """Whether every word of ``free_text`` occurs in one of ``fields`` (``*``: anything)."""
    words = [w for w in (free_text or "").split() if w != "*"]
    if not words:
        return True
    texts = []
    for name in fields:
        value = doc.get(name)
        if value is not None:
            texts.append(value if isinstance(value, str) else json.dumps(value, default=str))
    haystack = "\n".join(texts)
    return all(w.strip('"') in haystack for w in words)


@dataclasses.dataclass(frozen=True, slots=True)
class Narrowing:
    """What every match must have, read off the top-level AND: where an index can start."""

    values: dict[str, tuple[str, ...]]  # field -> one of these values (from = or IN)
    low: float | None  # bounds on the range field, inclusive
    high: float | None
    exact: bool  # every clause is one of these: the index alone answers the query


def narrowing(node: Node, indexed: tuple[str, ...], range_field: str) -> Narrowing:
    parts = node.parts if isinstance(node, All) else (node,)
    values: dict[str, tuple[str, ...]] = {}
    low: float | None = None
    high: float | None = None
    exact = True
    for part in parts:
        if not isinstance(part, Clause):
            exact = False
            continue
        if part.field in indexed and part.op in ("=", "IN") and part.field not in values:
            values[part.field] = part.values
            continue
        if part.field == range_field and part.op != "!=" and part.op != "IN":
            try:
                numbers = [float(v) for v in part.values]
            except ValueError:
                raise _bad(f"{part.field} takes epoch milliseconds, got {part.values}") from None
            if part.op in (">", ">=", "=", "BETWEEN"):
                bound = numbers[0] + (1 if part.op == ">" else 0)
                low = bound if low is None else max(low, bound)
            if part.op in ("<", "<=", "=", "BETWEEN"):
                bound = numbers[-1] - (1 if part.op == "<" else 0)
                high = bound if high is None else min(high, bound)
            continue
        exact = False
    return Narrowing(values, low, high, exact)


def sortable(doc: Mapping[str, Any], field: str) -> tuple[int, Any]:
    """A sort key for ``doc[field]`` (any case): missing first, then numbers, then text."""
    value = _field(doc, field.lower())
    if value is None:
        return (0, 0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))


def clauses(node: Node) -> list[Clause]:
    """Every clause of the tree."""
    if isinstance(node, Clause):
        return [node]
    return [c for part in node.parts for c in clauses(part)]


def check_values(node: Node, field: str, allowed: tuple[str, ...]) -> None:
    """InvalidArgument when a clause on ``field`` names a value not in ``allowed`` (any case)."""
    for clause in clauses(node):
        if clause.field != field.lower() or clause.op not in ("=", "!=", "IN"):
            continue
        unknown = [v for v in clause.values if v.upper() not in allowed]
        if unknown:
            raise _bad(f"unknown {field} {unknown[0]!r} (one of {', '.join(allowed)})")
