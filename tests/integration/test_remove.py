"""remove.lua: delete in any state, record included (Dyno-Queues leaked it for in-flight)."""

from __future__ import annotations

import pytest

from dynoq import Message
from tests.integration.keyspace import queue_keys


@pytest.mark.parametrize("state", ["ready", "delayed", "in_flight", "dead"])
def test_remove_deletes_from_every_state(make_queue, raw, namespace, clock, state):
    q = make_queue(clock=clock, max_deliveries=1)
    q.push(Message("a", 1, delay=10 if state == "delayed" else 0))
    if state in ("in_flight", "dead"):
        q.pop()
    if state == "dead":
        q.nack("a")
    assert q.get("a").state.value == state
    assert q.remove("a") is True
    assert queue_keys(raw, namespace) == []
    assert q.remove("a") is False
    assert q.get("a") is None and q.contains("a") is False
