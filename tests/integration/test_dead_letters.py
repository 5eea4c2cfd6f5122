"""dead_letters.lua and requeue_dead.lua: inspect and replay."""

from __future__ import annotations

from dynoq import Message
from tests.integration.keyspace import shard_state


def kill(q, ids):
    for message_id in ids:
        q.push(Message(message_id, message_id, priority=3))
        [m] = q.pop()
        q.nack(m)


def test_dead_letters_oldest_first(make_queue, clock):
    q = make_queue(clock=clock, max_deliveries=1, shards=2)
    for message_id in ("a", "b", "c"):
        kill(q, [message_id])
        clock.advance(1)
    assert [m.id for m in q.dead_letters()] == ["a", "b", "c"]
    assert [m.id for m in q.dead_letters(2)] == ["a", "b"]


def test_requeue_dead_by_id_restarts_attempts(make_queue, raw, clock):
    q = make_queue(clock=clock, max_deliveries=1)
    kill(q, ["a", "b"])
    assert q.requeue_dead(["a", "not-dead"]) == 1
    state = shard_state(raw, q)
    assert [i for i, _ in state["dead"]] == ["b"]
    assert state["messages"]["a"][:2] == (3, 0)
    [m] = q.pop()
    assert (m.id, m.attempts, m.priority) == ("a", 1, 3)


def test_requeue_all_dead(make_queue, clock):
    q = make_queue(clock=clock, max_deliveries=1, shards=3)
    kill(q, [f"m{i}" for i in range(20)])
    assert q.stats().dead == 20
    assert q.requeue_dead() == 20
    stats = q.stats()
    assert (stats.dead, stats.ready) == (0, 20)
