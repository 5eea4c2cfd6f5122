"""pop.lua: strict priority, first ready first out, leases, receipts, rotation."""

from __future__ import annotations

import threading

import pytest

from dynoq import InvalidArgument, Message
from tests.integration.keyspace import shard_state, timed_score


def test_pop_leases_and_records_the_delivery(make_queue, raw, clock):
    q = make_queue(clock=clock, unack_timeout=30)
    q.push(Message("a", {"k": "v"}, priority=3))
    [m] = q.pop()
    assert (m.id, m.payload, m.priority, m.attempts) == ("a", {"k": "v"}, 3, 1)
    assert m.receipt and m.state.value == "in_flight"
    assert m.lease_expires_at == (clock.now_ms() + 30_000) / 1000
    state = shard_state(raw, q)
    assert state["ready"] == [] and state["seq"] is None
    assert state["in_flight"] == [("a", timed_score(clock.now_ms() + 30_000, 3))]
    assert state["messages"]["a"][:3] == (3, 1, m.receipt)


def test_a_large_pop_leases_exactly_what_it_returns(make_queue, raw, clock):
    # a batch this size goes through pop's skiplist path: nothing of it may stay behind
    q = make_queue(clock=clock, unack_timeout=30)
    q.push([Message(f"m{i}", i, priority=i % 3) for i in range(40)])
    got = q.pop(40)
    assert sorted(m.id for m in got) == sorted(f"m{i}" for i in range(40))
    state = shard_state(raw, q)
    lease = clock.now_ms() + 30_000
    assert sorted(state["in_flight"]) == sorted((m.id, timed_score(lease, m.priority)) for m in got)
    assert sorted(state["messages"]) == sorted(m.id for m in got)
    assert q.ack_many(got[:20]) == 20
    assert sorted(shard_state(raw, q)["in_flight"]) == sorted(
        (m.id, timed_score(lease, m.priority)) for m in got[20:]
    )


def test_priority_zero_first_then_first_in_first_out(make_queue):
    q = make_queue()
    q.push([Message(f"p{p}-{i}", None, priority=p) for i in range(5) for p in (9, 0, 4)])
    q.push(Message("late-0", None, priority=0))
    order = [m.id for m in q.pop(16)]
    assert order == [f"p0-{i}" for i in range(5)] + ["late-0"] + [f"p4-{i}" for i in range(5)] + [
        f"p9-{i}" for i in range(5)
    ]


def test_delayed_messages_wait_and_then_join_in_due_order(make_queue, clock):
    q = make_queue(clock=clock)
    q.push([Message("later", None, delay=2), Message("sooner", None, delay=1)])
    assert q.pop() == []
    clock.advance(1.5)
    q.push(Message("pushed-after-sooner-was-due", None))
    clock.advance(0.5)
    q.push(Message("pushed-after-later-was-due", None))
    assert [m.id for m in q.pop(4)] == [
        "sooner",
        "pushed-after-sooner-was-due",
        "later",
        "pushed-after-later-was-due",
    ]


def test_a_due_message_is_served_at_its_priority(make_queue, clock):
    q = make_queue(clock=clock)
    q.push([Message("low", None, priority=5), Message("urgent-later", None, priority=0, delay=1)])
    clock.advance(1)
    assert [m.id for m in q.pop(2)] == ["urgent-later", "low"]


def test_each_pop_gets_fresh_receipts(make_queue, clock):
    q = make_queue(clock=clock)
    q.push([Message(str(i), None) for i in range(3)])
    receipts = [m.receipt for m in q.pop(2)] + [m.receipt for m in q.pop(1)]
    assert len(set(receipts)) == 3


def test_receipts_are_unique_within_a_pop_of_a_thousand(make_queue):
    # the per-message part of a receipt is written in letters, not digits: none may repeat
    q = make_queue()
    q.push([Message(f"m{i}", None) for i in range(1000)])
    got = q.pop(1000)
    assert len({m.receipt for m in got}) == 1000
    assert all(m.receipt.isascii() for m in got)
    assert q.ack_many(got) == 1000


def test_pop_rotates_over_shards(make_queue):
    q = make_queue(shards=4)
    q.push([Message(f"m{i}", None) for i in range(200)])
    first_shards = [q.pop()[0].shard for _ in range(8)]
    assert sorted(set(first_shards)) == [0, 1, 2, 3]


def test_count_over_what_is_ready_returns_what_there_is(make_queue):
    q = make_queue(shards=3)
    q.push([Message(f"m{i}", None) for i in range(5)])
    assert len(q.pop(50)) == 5
    assert q.pop(50) == []


@pytest.mark.parametrize("count", [0, -1, 1.5, "3", True])
def test_bad_count_is_rejected(make_queue, count):
    with pytest.raises(InvalidArgument) as err:
        make_queue().pop(count)
    assert err.value.field == "count"


def test_concurrent_consumers_never_share_a_message(make_queue):
    q = make_queue(shards=2)
    total = 2000
    q.push([Message(f"m{i}", i) for i in range(total)])
    seen: list[str] = []
    lock = threading.Lock()

    def consume() -> None:
        while batch := q.pop(7):
            with lock:
                seen.extend(m.id for m in batch)
            q.ack_many(batch)

    threads = [threading.Thread(target=consume) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(seen) == total and len(set(seen)) == total
