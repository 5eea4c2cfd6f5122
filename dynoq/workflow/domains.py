"""Task domains (Conductor's ``taskToDomain``): which queue a worker task waits on.

A workflow started with ``taskToDomain`` ``{"charge": "eu,us,NO_DOMAIN", "*": "test"}`` sends
each worker task to a domain: the entry for its task type, else the ``*`` entry, lists domains
in order of preference. The first one a worker polled within the last ACTIVE_WORKER_MS wins;
when none did, the last one in the list, or no domain when that is ``NO_DOMAIN``. A task with a
domain waits on the queue ``<domain>:<task type>``, which only pollers of that domain read; a
poller without a domain reads ``<task type>``. System tasks (HTTP, HTTP_POLL) have no domain.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

NO_DOMAIN = "NO_DOMAIN"
ANY_TASK = "*"
ACTIVE_WORKER_MS = 10_000  # Conductor's activeWorkerLastPollTimeout


def domain_choices(task_type: str, task_to_domain: Mapping[str, str]) -> list[str]:
    """The domains listed for a task type, in order (empty: the task has no domain)."""
    listed = task_to_domain.get(task_type)
    if listed is None:
        listed = task_to_domain.get(ANY_TASK)
    if not listed or not listed.strip():
        return []
    return [part.strip() for part in listed.split(",") if part.strip()]


def pick_domain(choices: list[str], active: Collection[str]) -> str:
    """The domain a task goes to: the first listed one with an active poller, else the last
    listed ("" for ``NO_DOMAIN``, and for an empty list)."""
    for domain in choices:
        if domain.upper() != NO_DOMAIN and domain in active:
            return domain
    if not choices or choices[-1].upper() == NO_DOMAIN:
        return ""
    return choices[-1]


def queue_name(task_type: str, domain: str) -> str:
    """The queue a task waits on: ``<domain>:<task type>``, or the task type alone."""
    return f"{domain}:{task_type}" if domain else task_type


def active_domains(poll_data: Sequence[Mapping[str, Any]], now_ms: int) -> frozenset[str]:
    """The domains of a task type that a worker polled within ACTIVE_WORKER_MS."""
    found = set()
    for entry in poll_data:
        domain, last = entry.get("domain"), entry.get("lastPollTime")
        fresh = isinstance(last, int) and now_ms - last <= ACTIVE_WORKER_MS
        if isinstance(domain, str) and domain and fresh:
            found.add(domain)
    return frozenset(found)
