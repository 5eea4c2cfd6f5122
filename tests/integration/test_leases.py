"""set_unack_timeout.lua and sweep.lua: heartbeats, expiry, redelivery, dead letters."""

from __future__ import annotations

import pytest

from dynoq import InvalidArgument, Message
from tests.integration.keyspace import shard_state, timed_score


def test_heartbeat_extends_the_lease(make_queue, raw, clock):
    q = make_queue(clock=clock, unack_timeout=10)
    q.push(Message("a", 1, priority=6))
    [m] = q.pop()
    clock.advance(8)
    assert q.set_unack_timeout(m, 10) is True
    assert shard_state(raw, q)["in_flight"] == [("a", timed_score(clock.now_ms() + 10_000, 6))]
    clock.advance(9)
    assert q.sweep() == 0 and q.pop() == []
    clock.advance(1)
    assert [x.id for x in q.pop()] == ["a"]


def test_zero_timeout_expires_the_lease_now(make_queue, clock):
    q = make_queue(clock=clock)
    q.push(Message("a", 1))
    q.pop()
    assert q.set_unack_timeout("a", 0) is True
    [again] = q.pop()
    assert again.attempts == 2


def test_set_unack_timeout_of_a_message_not_in_flight_is_false(make_queue, clock):
    q = make_queue(clock=clock)
    q.push(Message("a", 1))
    assert q.set_unack_timeout("a", 5) is False
    assert q.set_unack_timeout("nope", 5) is False


def test_sweep_returns_expired_leases_at_their_original_priority(make_queue, raw, clock):
    q = make_queue(clock=clock, unack_timeout=5)
    q.push([Message("high", 1, priority=1), Message("low", 2, priority=8)])
    q.pop(2)
    q.push(Message("mid", 3, priority=5))
    clock.advance(5)
    assert q.sweep() == 2
    state = shard_state(raw, q)
    assert state["in_flight"] == []
    assert [i for i, _ in state["ready"]] == ["high", "mid", "low"]
    assert state["ready"][0][1] // 2**46 == 1 and state["ready"][2][1] // 2**46 == 8
    assert [(m.id, m.attempts) for m in q.pop(3)] == [("high", 2), ("mid", 1), ("low", 2)]


def test_redelivery_counts_attempts(make_queue, clock):
    q = make_queue(clock=clock, unack_timeout=1)
    q.push(Message("a", 1))
    attempts = []
    for _ in range(3):
        [m] = q.pop()
        attempts.append(m.attempts)
        clock.advance(1)
    assert attempts == [1, 2, 3]


def test_pop_itself_redelivers_without_a_sweeper(make_queue, clock):
    q = make_queue(clock=clock, unack_timeout=2)
    q.push(Message("a", 1))
    q.pop()
    assert q.pop() == []
    clock.advance(2)
    assert [m.id for m in q.pop()] == ["a"]


def test_expired_lease_after_max_deliveries_goes_to_dead_letters(make_queue, raw, clock):
    q = make_queue(clock=clock, unack_timeout=1, max_deliveries=2)
    q.push(Message("a", "payload", priority=3))
    q.pop()
    clock.advance(1)
    q.pop()
    clock.advance(1)
    assert q.sweep() == 1
    state = shard_state(raw, q)
    assert state["dead"] == [("a", clock.now_ms())]
    assert state["in_flight"] == [] and state["ready"] == []
    assert q.pop() == []
    assert q.stats().dead == 1 and q.size() == 0


def test_sweep_works_in_batches_until_done(make_queue, raw, clock):
    q = make_queue(clock=clock, unack_timeout=1, shards=2)
    q.push([Message(f"m{i}", i) for i in range(2500)])
    assert len(q.pop(2500)) == 2500
    clock.advance(1)
    assert q.sweep() == 2500
    assert q.stats().ready == 2500 and q.stats().in_flight == 0


def test_a_popped_message_tells_when_it_became_due(make_queue, clock):
    """pop time minus due_at is how long a message waited: the time-in-queue metric."""
    q = make_queue(clock=clock, unack_timeout=5)
    start = clock.now_ms()
    q.push([Message("now", 1), Message("later", 2, delay=2)])
    clock.advance(3)
    first = {m.id: m.due_at for m in q.pop(2)}
    assert first == {"now": start / 1000, "later": (start + 2000) / 1000}
    clock.advance(5)  # both leases run out at start + 8 s
    q.sweep()
    assert {m.due_at for m in q.pop(2)} == {(start + 8000) / 1000}
    q.nack("now", delay=1)
    q.push(Message("moved", 3, delay=60))
    q.set_delay("moved", 2)
    clock.advance(2)
    got = {m.id: m.due_at for m in q.pop(2)}
    now = clock.now_ms()
    assert got == {"now": (now - 1000) / 1000, "moved": now / 1000}


def test_sweep_shard_sweeps_that_shard_only_and_says_what_it_did(make_queue, clock):
    q = make_queue(clock=clock, unack_timeout=1, shards=2)
    q.push([Message(f"m{i}", i) for i in range(40)])
    assert len(q.pop(40)) == 40
    clock.advance(1)
    in_flight = [shard.in_flight for shard in q.stats().shards]
    assert q.sweep_shard(0) == (in_flight[0], 0)
    shards = q.stats().shards
    assert (shards[0].ready, shards[0].in_flight) == (in_flight[0], 0)
    assert (shards[1].ready, shards[1].in_flight) == (0, in_flight[1])
    with pytest.raises(InvalidArgument):
        q.sweep_shard(2)


def test_sweep_shard_counts_dead_letters_apart(make_queue, clock):
    q = make_queue("once", clock=clock, unack_timeout=1, max_deliveries=1)
    q.push([Message(f"m{i}", i) for i in range(5)])
    assert len(q.pop(5)) == 5
    clock.advance(1)
    assert q.sweep_shard(0) == (0, 5)
    assert q.stats().dead == 5
