"""push.lua: enqueue, replace wherever the id is, all-or-nothing validation."""

from __future__ import annotations

import msgpack
import pytest

from dynoq import InvalidMessage, Message, PayloadTooLarge
from tests.integration.keyspace import queue_keys, ready_score, shard_state, timed_score


def packed(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def test_push_writes_ready_and_delayed_entries(make_queue, raw, clock):
    q = make_queue(clock=clock)
    now = clock.now_ms()
    ids = q.push(
        [
            Message("a", {"n": 1}),
            Message("b", "two", priority=7),
            Message("c", b"three", priority=3, delay=2.5),
        ]
    )
    assert ids == ["a", "b", "c"]
    assert shard_state(raw, q) == {
        "ready": [("a", ready_score(0, 1)), ("b", ready_score(7, 2))],
        "delayed": [("c", timed_score(now + 2500, 3))],
        "in_flight": [],
        "dead": [],
        "messages": {
            "a": (0, 0, "", now, packed({"n": 1})),
            "b": (7, 0, "", now, packed("two")),
            "c": (3, 0, "", now + 2500, packed(b"three")),
        },
        "seq": 2,
    }


def test_push_of_an_existing_id_replaces_it_and_cancels_its_lease(make_queue, raw, clock):
    q = make_queue(clock=clock)
    q.push(Message("a", "v1", priority=5))
    [leased] = q.pop()
    assert leased.attempts == 1

    q.push(Message("a", "v2", priority=2, delay=1))
    state = shard_state(raw, q)
    assert state["in_flight"] == []
    assert state["delayed"] == [("a", timed_score(clock.now_ms() + 1000, 2))]
    assert state["messages"] == {"a": (2, 0, "", clock.now_ms() + 1000, packed("v2"))}
    assert q.ack(leased) is False, "the old delivery's ack must not touch the new message"

    clock.advance(1)
    [again] = q.pop()
    assert (again.payload, again.priority, again.attempts) == ("v2", 2, 1)


def test_push_replaces_a_dead_letter(make_queue, raw, clock):
    q = make_queue(clock=clock, max_deliveries=1, unack_timeout=1)
    q.push(Message("a", "v1"))
    q.pop()
    clock.advance(1)
    assert q.sweep() == 1
    assert [m.id for m in q.dead_letters()] == ["a"]
    q.push(Message("a", "v2"))
    state = shard_state(raw, q)
    assert state["dead"] == [] and [i for i, _ in state["ready"]] == ["a"]


def test_batch_with_one_bad_message_changes_nothing(make_queue, raw, namespace):
    q = make_queue(max_payload_bytes=100)
    q.push(Message("keep", 1))
    before = shard_state(raw, q)
    with pytest.raises(PayloadTooLarge) as err:
        q.push([Message("x", 1), Message("y", "z" * 200)])
    assert err.value.field == "payload" and err.value.index == 1
    with pytest.raises(InvalidMessage) as err:
        q.push([Message("x", 1), Message("y", object())])
    assert err.value.field == "payload"
    with pytest.raises(InvalidMessage):
        q.push([Message("x", 1), {"id": "dict"}])
    assert shard_state(raw, q) == before


def test_push_nothing_is_a_no_op(make_queue, raw, namespace):
    q = make_queue()
    assert q.push([]) == []
    assert queue_keys(raw, namespace) == []


def test_payloads_round_trip_exactly(make_queue):
    q = make_queue()
    payloads = [
        b"\x00\xffbytes",
        "str \u00e9\U0001f600",
        {"nested": [1, 2.5, None, True]},
        {1: "int key"},
        None,
        2**63 - 1,
    ]
    q.push([Message(f"m{i}", p) for i, p in enumerate(payloads)])
    got = {m.id: m.payload for m in q.pop(len(payloads))}
    assert [got[f"m{i}"] for i in range(len(payloads))] == payloads
    assert type(got["m0"]) is bytes and type(got["m1"]) is str


def test_large_batches_keep_push_order_across_script_calls(make_queue):
    q = make_queue()
    q.push([Message(f"m{i:05}", i) for i in range(2500)])  # three calls of at most 1000
    assert [m.payload for m in q.pop(2500)] == list(range(2500))


def test_an_id_twice_in_one_batch_ends_as_its_last_occurrence(make_queue, raw, clock):
    q = make_queue(clock=clock)
    assert q.push([Message("a", 1), Message("b", 0), Message("a", 2, delay=5)]) == ["a", "b", "a"]
    state = shard_state(raw, q)
    assert [i for i, _ in state["ready"]] == ["b"]
    assert [i for i, _ in state["delayed"]] == ["a"]
    assert state["messages"]["a"][4] == packed(2)
    q.push([Message("c", 1, delay=5), Message("c", 3)])
    state = shard_state(raw, q)
    assert [i for i, _ in state["ready"]] == ["b", "c"] and [i for i, _ in state["delayed"]] == [
        "a"
    ]


@pytest.mark.parametrize("how", ["push", "push a batch", "ensure"])
def test_messages_due_before_a_push_go_ahead_of_it_in_due_order(make_queue, raw, clock, how):
    q = make_queue(clock=clock)
    q.push([Message("late", 1, delay=2), Message("early", 2, delay=1), Message("far", 3, delay=60)])
    clock.advance(3)
    if how == "push":
        q.push(Message("new", 4))
    elif how == "push a batch":
        q.push([Message("new", 4), Message("newer", 5)])
    else:
        assert q.ensure(Message("new", 4)) is True
    state = shard_state(raw, q)
    arrived = ["new", "newer"] if how == "push a batch" else ["new"]
    order = ["early", "late", *arrived]
    assert state["ready"] == [(mid, ready_score(0, n)) for n, mid in enumerate(order, 1)]
    assert [mid for mid, _ in state["delayed"]] == ["far"]
    assert [m.id for m in q.pop(len(order))] == order
