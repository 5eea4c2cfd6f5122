"""Conductor's workflow search query, parsed into a :class:`SearchFilter`.

The grammar is the one Conductor's UI and SDKs send to ``GET /api/workflow/search``: clauses
joined by ``AND`` (any case), each ``field IN (v1, v2, ...)`` or ``field OP value`` with OP one
of ``= > >= < <=``; values may be quoted with ``'`` or ``"``. Fields: ``workflowType``,
``status``, ``correlationId``, ``workflowId`` (``IN`` or ``=``) and ``startTime`` (epoch
milliseconds, any comparison; ``>`` and ``<`` are strict). Anything else is an
:class:`InvalidArgument` naming what was not understood.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from dynoq.errors import InvalidArgument
from dynoq.workflow.model import SearchFilter, WorkflowStatus

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>'[^']*'|"[^"]*")
      | (?P<op>>=|<=|!=|=|>|<|\(|\)|,)
      | (?P<word>[^\s=<>!(),'"]+)
    )""",
    re.VERBOSE,
)

_LIST_FIELDS = {
    "workflowtype": "workflow_types",
    "status": "statuses",
    "correlationid": "correlation_ids",
    "workflowid": "workflow_ids",
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "quoted", "op" or "word"
    text: str

    @property
    def value(self) -> str:
        return self.text[1:-1] if self.kind == "quoted" else self.text


def _tokens(query: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    query = query.rstrip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            rest = query[position:].strip()
            raise InvalidArgument(f"query: cannot read {rest[:40]!r}", field="query")
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
            raise InvalidArgument(f"query: expected {what} at the end", field="query")
        self.position += 1
        return token

    def expect_op(self, text: str) -> None:
        token = self.take(repr(text))
        if token.kind != "op" or token.text != text:
            raise InvalidArgument(f"query: expected {text!r}, got {token.text!r}", field="query")

    def value(self) -> str:
        token = self.take("a value")
        if token.kind == "op":
            raise InvalidArgument(f"query: expected a value, got {token.text!r}", field="query")
        return token.value

    def clause(self) -> tuple[str, str, list[str]]:
        name = self.take("a field name")
        if name.kind != "word":
            raise InvalidArgument(f"query: expected a field, got {name.text!r}", field="query")
        operator = self.take("an operator")
        if operator.kind == "word" and operator.text.upper() == "IN":
            self.expect_op("(")
            values = [self.value()]
            while (token := self.peek()) is not None and token.text == ",":
                self.position += 1
                values.append(self.value())
            self.expect_op(")")
            return name.text, "IN", values
        if operator.kind != "op" or operator.text in ("(", ")", ","):
            raise InvalidArgument(
                f"query: expected IN or a comparison after {name.text}, got {operator.text!r}",
                field="query",
            )
        return name.text, operator.text, [self.value()]

    def clauses(self) -> list[tuple[str, str, list[str]]]:
        out = [self.clause()]
        while (token := self.peek()) is not None:
            if token.kind != "word" or token.text.upper() != "AND":
                raise InvalidArgument(
                    f"query: expected AND between clauses, got {token.text!r}", field="query"
                )
            self.position += 1
            out.append(self.clause())
        return out


def _millis(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise InvalidArgument(
            f"query: {name} takes epoch milliseconds, got {raw!r}", field="query"
        ) from None


def _list_values(attribute: str, values: list[str]) -> tuple[Any, ...]:
    if attribute != "statuses":
        return tuple(values)
    try:
        return tuple(WorkflowStatus(v.upper()) for v in values)
    except ValueError:
        known = ", ".join(WorkflowStatus)
        raise InvalidArgument(
            f"query: unknown status in {values!r} (one of {known})", field="query"
        ) from None


def parse_search_query(query: str, free_text: str = "*") -> SearchFilter:
    """The filter for a Conductor search ``query`` (empty: everything) and ``freeText``."""
    criteria: dict[str, Any] = {"free_text": free_text.strip() or "*"}
    if not query.strip():
        return SearchFilter(**criteria)
    for name, operator, values in _Parser(query).clauses():
        key = name.lower()
        if key in _LIST_FIELDS:
            attribute = _LIST_FIELDS[key]
            if operator not in ("IN", "="):
                raise InvalidArgument(f"query: {name} takes IN or =, not {operator}", field="query")
            if attribute in criteria:
                raise InvalidArgument(f"query: {name} is given twice", field="query")
            criteria[attribute] = _list_values(attribute, values)
        elif key == "starttime":
            if operator not in (">", ">=", "<", "<=", "="):
                raise InvalidArgument(
                    f"query: startTime takes a comparison, not {operator}", field="query"
                )
            millis = _millis(name, values[0])
            if operator in (">", ">=", "="):
                low = millis + 1 if operator == ">" else millis
                criteria["start_time_from"] = max(low, criteria.get("start_time_from", low))
            if operator in ("<", "<=", "="):
                high = millis - 1 if operator == "<" else millis
                criteria["start_time_to"] = min(high, criteria.get("start_time_to", high))
        else:
            known = "workflowType, status, correlationId, workflowId, startTime"
            raise InvalidArgument(
                f"query: cannot search by {name!r} (searchable: {known})", field="query"
            )
    return SearchFilter(**criteria)
