"""set_delay.lua: reschedule a waiting message."""

from __future__ import annotations

from dynoq import Message
from tests.integration.keyspace import ready_score, shard_state, timed_score


def test_set_delay_moves_a_ready_message_to_delayed(make_queue, raw, clock):
    q = make_queue(clock=clock)
    q.push(Message("a", 1, priority=7))
    assert q.set_delay("a", 4) is True
    state = shard_state(raw, q)
    assert state["ready"] == [] and state["seq"] is None
    assert state["delayed"] == [("a", timed_score(clock.now_ms() + 4000, 7))]


def test_set_delay_zero_makes_a_delayed_message_due_now(make_queue, raw, clock):
    q = make_queue(clock=clock)
    q.push([Message("first", 1, priority=7), Message("later", 2, priority=7, delay=3600)])
    assert q.set_delay("later", 0) is True
    assert shard_state(raw, q)["ready"] == [
        ("first", ready_score(7, 1)),
        ("later", ready_score(7, 2)),
    ]
    assert [m.id for m in q.pop(2)] == ["first", "later"]


def test_set_delay_zero_keeps_a_ready_message_in_place(make_queue, raw, clock):
    q = make_queue(clock=clock)
    q.push([Message("a", 1), Message("b", 2)])
    before = shard_state(raw, q)
    assert q.set_delay("a", 0) is True
    assert shard_state(raw, q) == before


def test_set_delay_ignores_in_flight_dead_and_missing(make_queue, raw, clock):
    q = make_queue(clock=clock, max_deliveries=1)
    q.push([Message("flying", 1), Message("dead", 2)])
    q.pop(2)
    q.nack("dead")  # delivered once = max: dead-lettered
    before = shard_state(raw, q)
    assert q.set_delay("flying", 1) is False
    assert q.set_delay("dead", 1) is False
    assert q.set_delay("missing", 1) is False
    assert shard_state(raw, q) == before
