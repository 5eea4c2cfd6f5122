"""ensure.lua: push only when the id is absent in every state."""

from __future__ import annotations

from dynoq import Message
from tests.integration.keyspace import shard_state


def test_ensure_pushes_an_absent_id(make_queue, raw):
    q = make_queue()
    assert q.ensure(Message("a", "v1", priority=4)) is True
    state = shard_state(raw, q)
    assert [i for i, _ in state["ready"]] == ["a"]
    assert state["messages"]["a"][:3] == (4, 0, "")


def test_ensure_leaves_an_id_alone_in_every_state(make_queue, raw, clock):
    q = make_queue(clock=clock, unack_timeout=1, max_deliveries=1)
    q.push(
        [
            Message("dead", 1),
            Message("flying", 2, priority=1),
            Message("ready", 3, priority=2),
            Message("delayed", 4, delay=60),
        ]
    )
    assert [m.id for m in q.pop(2)] == ["dead", "flying"]
    q.set_unack_timeout("flying", 60)
    clock.advance(1)
    assert q.sweep() == 1  # "dead" was delivered max_deliveries times: dead-lettered
    before = shard_state(raw, q)
    assert [i for i, _ in before["dead"]] == ["dead"]
    for message_id in ("ready", "delayed", "flying", "dead"):
        assert q.ensure(Message(message_id, "other", priority=9)) is False
    assert shard_state(raw, q) == before
