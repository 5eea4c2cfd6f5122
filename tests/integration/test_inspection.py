"""get.lua, peek.lua, stats.lua: look without changing."""

from __future__ import annotations

from dynoq import Message, MessageState
from tests.integration.keyspace import shard_state


def test_get_reports_state_and_times(make_queue, clock):
    q = make_queue(clock=clock, unack_timeout=9)
    q.push([Message("r", "x", priority=4), Message("d", "y", delay=2)])
    r, d = q.get("r"), q.get("d")
    assert (r.state, r.payload, r.priority, r.attempts) == (MessageState.READY, "x", 4, 0)
    assert d.state is MessageState.DELAYED and d.due_at == (clock.now_ms() + 2000) / 1000
    clock.advance(2)
    assert q.get("d").state is MessageState.READY, "a due message is ready even before it moves"
    assert [m.id for m in q.pop(2)] == ["d", "r"]
    flying = q.get("r")
    assert flying.state is MessageState.IN_FLIGHT and flying.attempts == 1
    assert flying.lease_expires_at == (clock.now_ms() + 9000) / 1000
    assert flying.receipt is None, "get does not hand out the receipt of someone else's lease"
    assert q.get("missing") is None
    assert q.contains("r") and not q.contains("missing")


def test_peek_shows_what_pop_would_return_without_leasing(make_queue, raw, clock):
    q = make_queue(clock=clock)
    q.push([Message(f"p{p}-{i}", i, priority=p) for i in range(3) for p in (5, 1)])
    q.push(Message("soon", 0, priority=0, delay=1))
    clock.advance(1)
    peeked = [m.id for m in q.peek(10)]
    before = shard_state(raw, q)
    assert [m.id for m in q.peek(10)] == peeked
    assert shard_state(raw, q) == before and before["in_flight"] == []
    assert peeked == [m.id for m in q.pop(10)]
    assert peeked[0] == "soon"


def test_peek_across_shards_is_in_priority_order(make_queue):
    q = make_queue(shards=4)
    q.push([Message(f"m{i}", i, priority=i % 10) for i in range(100)])
    priorities = [m.priority for m in q.peek(100)]
    assert priorities == sorted(priorities) and len(priorities) == 100


def test_stats_and_size_count_each_state_per_shard(make_queue, clock):
    q = make_queue(clock=clock, shards=2, max_deliveries=1)
    q.push([Message(f"r{i}", i) for i in range(6)])
    q.push([Message(f"d{i}", i, delay=5) for i in range(3)])
    popped = q.pop(2)
    q.nack(popped[0])  # delivered once = max: dead
    stats = q.stats()
    assert (stats.ready, stats.delayed, stats.in_flight, stats.dead) == (4, 3, 1, 1)
    assert len(stats.shards) == 2 and [s.shard for s in stats.shards] == [0, 1]
    assert sum(s.ready for s in stats.shards) == 4 and sum(s.delayed for s in stats.shards) == 3
    assert q.size() == 7
    clock.advance(5)
    assert (q.stats().ready, q.stats().delayed) == (7, 0)


def test_stats_tell_how_long_the_oldest_ready_message_has_waited(make_queue, clock):
    q = make_queue(clock=clock, shards=2)
    assert q.stats().oldest_ready_age == 0.0, "nothing ready: no age"
    q.push(Message("low-old", 1, priority=9))
    clock.advance(3)
    q.push([Message("high-new", 2, priority=0), Message("later", 3, priority=9, delay=1)])
    clock.advance(2)
    # the priority-9 head has waited 5 s although a priority-0 message is served first,
    # and a delayed message that came due 1 s ago counts as ready
    stats = q.stats()
    assert stats.oldest_ready_age == 5.0
    assert sorted(s.oldest_ready_age for s in stats.shards)[-1] == 5.0
    [first, second] = q.pop(2)
    assert {first.id, second.id} == {"high-new", "low-old"}
    assert q.stats().oldest_ready_age == 1.0  # "later": due for 1 s
    q.ack(first)
    q.ack(second)
    assert q.pop()[0].id == "later"
    assert q.stats().oldest_ready_age == 0.0
