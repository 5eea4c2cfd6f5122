"""The system tasks that transform data without a worker: JSON_JQ_TRANSFORM (real jq, through
the ``jq`` package), and the naming rules of EVENT sinks. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jq

# The dynoq queue every ``conductor`` sink publishes to; event handlers consume it.
CONDUCTOR_EVENTS_QUEUE = "conductor-events"

# Sinks of Conductor's other event-queue modules: accepted by Conductor when its module is
# enabled; dynoq has none of them, so a definition using one is refused at registration.
_UNSUPPORTED_SINKS = ("sqs", "amqp", "amqp_queue", "amqp_exchange", "kafka", "nats", "jsm")


class JqError(ValueError):
    """A jq program that does not compile, or that failed on its input."""


@lru_cache(maxsize=1024)
def _compiled(query: str) -> Any:
    try:
        return jq.compile(query)
    except ValueError as exc:
        raise JqError(_jq_message(exc)) from None


def jq_problem(query: str) -> str | None:
    """Why the jq program does not compile, or None."""
    try:
        _compiled(query)
    except JqError as exc:
        return f"jq: {exc}"
    return None


def jq_transform(query: str, document: Any) -> tuple[Any, list[Any]]:
    """(first result or None, every result) of running the jq program on the document, as
    Conductor's JSON_JQ_TRANSFORM gives them in ``result`` and ``resultList``."""
    try:
        results = list(_compiled(query).input_value(document).all())
    except ValueError as exc:
        raise JqError(_jq_message(exc)) from None
    return (results[0] if results else None), results


def _jq_message(exc: ValueError) -> str:
    """The first line of jq's report (its compile errors span several lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else "jq failed"


@dataclass(frozen=True, slots=True)
class EventTarget:
    """Where an EVENT task publishes: the event's name and the dynoq queue it goes to."""

    event: str
    queue: str


def sink_problem(sink: str) -> str | None:
    """Why dynoq cannot publish to this sink, or None."""
    prefix = sink.split(":", 1)[0]
    if sink == "conductor" or sink.startswith("conductor:"):
        return None
    if prefix == "dynoq":
        return None if sink.removeprefix("dynoq:").strip() else "a dynoq sink names a queue"
    if prefix in _UNSUPPORTED_SINKS:
        return (
            f"sink {prefix!r} is not supported by dynoq (no {prefix} event queue); use"
            " 'conductor', 'conductor:<name>' or 'dynoq:<queue>'"
        )
    return f"unknown sink {sink!r}: use 'conductor', 'conductor:<name>' or 'dynoq:<queue>'"


def event_target(sink: str, workflow_type: str, reference_name: str) -> EventTarget:
    """The event name and queue of a sink (one sink_problem accepts)."""
    if sink == "conductor":
        return EventTarget(f"conductor:{workflow_type}:{reference_name}", CONDUCTOR_EVENTS_QUEUE)
    if sink.startswith("conductor:"):  # Conductor's expansion: the workflow's name goes in
        name = sink.removeprefix("conductor:")
        return EventTarget(f"conductor:{workflow_type}:{name}", CONDUCTOR_EVENTS_QUEUE)
    return EventTarget(sink, sink.removeprefix("dynoq:"))


def event_document(
    target: EventTarget,
    payload: dict[str, Any],
    workflow: dict[str, Any],
    task_id: str,
    reference_name: str,
    published_ms: int,
) -> dict[str, Any]:
    """The message an EVENT task publishes. ``workflow`` holds workflowInstanceId,
    workflowType, workflowVersion and correlationId."""
    return {
        "event": target.event,
        "payload": payload,
        **workflow,
        "taskId": task_id,
        "taskRefName": reference_name,
        "publishedTime": published_ms,
    }
