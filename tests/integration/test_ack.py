"""ack.lua: delete in-flight messages; receipts protect against late acks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dynoq import InvalidArgument, Message
from tests.integration.keyspace import queue_keys, shard_state


def test_ack_deletes_the_message_everywhere(make_queue, raw, namespace):
    q = make_queue()
    q.push(Message("a", "x"))
    [m] = q.pop()
    assert q.ack(m.id) is True
    assert queue_keys(raw, namespace) == []
    assert q.ack(m.id) is False


def test_ack_of_a_message_not_in_flight_is_false_and_changes_nothing(make_queue, raw, clock):
    q = make_queue(clock=clock)
    q.push([Message("ready", 1), Message("delayed", 2, delay=5)])
    before = shard_state(raw, q)
    assert q.ack("ready") is False
    assert q.ack("delayed") is False
    assert q.ack("never-pushed") is False
    assert shard_state(raw, q) == before


def test_late_ack_with_an_old_receipt_changes_nothing(make_queue, raw, clock):
    q = make_queue(clock=clock, unack_timeout=5)
    q.push(Message("a", "x"))
    [first] = q.pop()
    clock.advance(5)
    [second] = q.pop()  # lease expired: redelivered
    assert second.attempts == 2 and second.receipt != first.receipt
    before = shard_state(raw, q)
    assert q.ack(first) is False
    assert q.ack("a", receipt=first.receipt) is False
    assert shard_state(raw, q) == before
    assert q.ack(second) is True


def test_ack_many_acks_per_shard_and_counts(make_queue, raw, namespace):
    q = make_queue(shards=3)
    q.push([Message(f"m{i}", i) for i in range(30)])
    popped = q.pop(30)
    stale = popped[0].id
    assert q.ack_many(popped[:20]) == 20
    assert q.ack_many([stale, *(m.id for m in popped[20:])]) == 10
    assert queue_keys(raw, namespace) == []
    assert q.ack_many([]) == 0


def test_ack_many_counts_an_id_given_twice_once(make_queue, raw, namespace):
    q = make_queue(shards=2)
    q.push([Message("a"), Message("b 🙂é")])
    a, b = sorted(q.pop(2), key=lambda m: m.id)
    assert q.ack_many([a, a, b, "b 🙂é"]) == 2
    assert queue_keys(raw, namespace) == []


def test_ack_many_of_messages_popped_from_another_queue_acks_nothing(make_queue, raw):
    # ack_many trusts a popped message's shard: one from a queue with more shards, or whose
    # shard points elsewhere, must still only miss (and a message without one still acks)
    here, there = make_queue("here", shards=2), make_queue("there", shards=5)
    ids = [f"m{i}" for i in range(20)]
    here.push([Message(i) for i in ids])
    there.push([Message(i) for i in ids])
    mine, theirs = here.pop(20), there.pop(20)
    before = [shard_state(raw, here, shard) for shard in (0, 1)]
    assert here.ack_many(theirs) == 0
    assert here.ack_many([replace(m, shard=1 - m.shard) for m in mine]) == 0
    assert [shard_state(raw, here, shard) for shard in (0, 1)] == before
    assert here.ack_many([Message(m.id, receipt=m.receipt) for m in mine[:5]]) == 5
    assert here.ack_many(mine) == 15


def test_ack_many_rejects_a_bare_string(make_queue):
    with pytest.raises(InvalidArgument):
        make_queue().ack_many("abc")


def test_every_way_out_of_flight_drops_the_receipt_so_no_ack_matches(make_queue, raw, clock):
    # ack trusts the record: it holds a receipt exactly while the message is in flight
    q = make_queue(clock=clock, unack_timeout=5, max_deliveries=2)
    q.push([Message(m, m) for m in ("expired", "nacked", "dead", "replaced")])
    flying = {m.id: m for m in q.pop(4)}
    assert q.nack(flying["nacked"]) is True
    q.push(Message("replaced", "new"))
    clock.advance(5)
    q.sweep()  # "expired" and "dead" back to ready, "nacked" and "replaced" stay ready
    second = {m.id: m for m in q.pop(4)}
    assert second["dead"].attempts == 2
    clock.advance(5)
    q.sweep()  # "dead" (and the others delivered twice) go to the dead letters
    state = shard_state(raw, q)
    assert state["in_flight"] == [] and {r[2] for r in state["messages"].values()} == {""}
    for m in [*flying.values(), *second.values()]:
        assert q.ack(m.id) is False
        assert q.ack(m) is False
    assert shard_state(raw, q) == state
