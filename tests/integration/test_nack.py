"""nack.lua: give a message back (now or later); the delivery counts."""

from __future__ import annotations

from dynoq import Message
from tests.integration.keyspace import ready_score, shard_state, timed_score


def test_nack_returns_the_message_to_the_back_of_its_priority(make_queue, raw, clock):
    q = make_queue(clock=clock)
    q.push([Message("a", 1, priority=2), Message("b", 2, priority=2), Message("c", 3, priority=5)])
    [a] = q.pop()
    assert q.nack(a) is True
    state = shard_state(raw, q)
    assert state["in_flight"] == []
    assert state["ready"] == [
        ("b", ready_score(2, 2)),
        ("a", ready_score(2, 4)),
        ("c", ready_score(5, 3)),
    ]
    assert state["messages"]["a"][:2] == (2, 1)
    assert [m.id for m in q.pop(3)] == ["b", "a", "c"]


def test_nack_with_delay_postpones(make_queue, raw, clock):
    q = make_queue(clock=clock)
    q.push(Message("a", 1, priority=4))
    [a] = q.pop()
    assert q.nack(a.id, delay=3, receipt=a.receipt) is True
    assert shard_state(raw, q)["delayed"] == [("a", timed_score(clock.now_ms() + 3000, 4))]
    assert q.pop() == []
    clock.advance(3)
    [again] = q.pop()
    assert again.attempts == 2


def test_nack_with_a_stale_receipt_or_not_in_flight_changes_nothing(make_queue, raw, clock):
    q = make_queue(clock=clock, unack_timeout=1)
    q.push(Message("a", 1))
    [first] = q.pop()
    clock.advance(1)
    q.pop()
    before = shard_state(raw, q)
    assert q.nack(first) is False
    assert q.nack("missing") is False
    assert shard_state(raw, q) == before


def test_nack_after_max_deliveries_dead_letters(make_queue, raw, clock):
    q = make_queue(clock=clock, max_deliveries=2)
    q.push(Message("a", 1))
    assert q.nack(q.pop()[0]) is True
    assert q.nack(q.pop()[0]) is True
    state = shard_state(raw, q)
    assert state["dead"] == [("a", clock.now_ms())] and state["ready"] == []
    [dead] = q.dead_letters()
    assert (dead.id, dead.attempts, dead.state.value) == ("a", 2, "dead")
