"""The sans-I/O operations: what they send, before any Redis is involved."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from dynoq import InvalidMessage, Message, PayloadTooLarge
from dynoq.core.codec import Record, pack_record, parse_record, popped_messages
from dynoq.core.models import MessageState, stored_message
from dynoq.core.ops import LISTEN, QueueOps, ScriptCall, Tolerant, Wait
from dynoq.core.spec import QueueSpec
from dynoq.testing import ManualClock


def ops(**options) -> QueueOps:
    return QueueOps(QueueSpec("q", **options), ManualClock(start_ms=1000))


def test_push_sends_one_call_per_shard():
    op = ops(shards=4).push([Message(f"m{i}", i) for i in range(40)])
    calls = next(op)
    assert all(isinstance(c, ScriptCall) and c.script == "push" for c in calls)
    assert len(calls) == 4 and sum((len(c.args) - 3) // 4 for c in calls) == 40
    with pytest.raises(StopIteration) as done:
        op.send([10] * 4)
    assert done.value.value == [f"m{i}" for i in range(40)]


def test_push_validates_the_whole_batch_before_sending():
    op = ops(max_payload_bytes=10).push([Message("a", 1), Message("b", "x" * 50)])
    with pytest.raises(PayloadTooLarge):
        next(op)


def test_a_non_message_in_a_batch_names_its_index():
    with pytest.raises(InvalidMessage) as err:
        next(ops().push([Message("a"), ("b", 1)]))
    assert err.value.index == 1


def test_a_waiting_pop_listens_first_then_sleeps_until_the_next_due_time():
    op = ops().pop(count=1, wait=30)
    assert next(op) == LISTEN
    step = op.send(0)
    assert isinstance(step, Tolerant), "a failing shard must not fail the whole pop"
    [call] = step.calls
    assert call.script == "pop"
    step = op.send([[1000, 1250]])  # nothing popped; something comes due in 250 ms
    assert isinstance(step, Wait) and step.since == 0
    assert 0.25 <= step.seconds <= 0.26


def drive_pop(op, shard_sizes: list[int]) -> tuple[int, int]:
    """Runs a pop against shards holding ``shard_sizes`` messages (answering as pop.lua would);
    returns (messages popped, round trips)."""
    sizes = list(shard_sizes)
    keys = QueueSpec("q", shards=len(sizes)).keys
    step, trips = next(op), 0
    try:
        while True:
            trips += 1
            replies = []
            for call in step.calls:
                shard = next(i for i, k in enumerate(keys) if k.all == call.keys)
                asked = call.args[1]
                n = min(asked, sizes[shard])
                sizes[shard] -= n
                record = pack_record(Record(0, 1, "r", 900, b"\xc0"))
                replies.append(
                    [1000, -1, *[x for i in range(n) for x in (f"s{shard}-{i}".encode(), record)]]
                )
            step = op.send(replies)
    except StopIteration as done:
        return len(done.value), trips


@pytest.mark.parametrize(
    "sizes", [[1, 2, 3, 2], [8, 0, 0, 0], [0, 0, 0, 8], [2, 2, 2, 2], [0, 1, 0, 0], [5, 5, 5, 5]]
)
@pytest.mark.parametrize("count", [1, 3, 8, 30])
def test_pop_gets_everything_available_up_to_count(sizes, count):
    q = ops(shards=4)
    got, trips = drive_pop(q.pop(count), sizes)
    assert got == min(count, sum(sizes))
    assert trips <= 4 + count  # one round trip fans out to every shard at once


def test_a_large_pop_over_evenly_filled_shards_is_one_round_trip():
    got, trips = drive_pop(ops(shards=8).pop(80), [10] * 8)
    assert (got, trips) == (80, 1)


@pytest.mark.parametrize(
    "record",
    [
        Record(0, 0, "", 0, b""),
        Record(99, 0, "", 2**47 + 2**45, b"\x82\xa1a\x01"),
        Record(7, 1, "0123456789abcdef-1", 1_764_085_620_000, b"|x|"),
        Record(3, 2**31, "r" * 255, 900, b"\xc0"),
    ],
)
def test_records_round_trip(record):
    assert parse_record(pack_record(record)) == record


def test_popped_messages_decode_what_parse_record_reads():
    record = Record(5, 3, "abc-7", 1_764_085_620_000, b"\x82\xa1a\x01\xa1b\xc0")
    [m] = popped_messages(2, [b"id-\xc3\xa9", pack_record(record)], 1_764_085_680_000)
    assert (m.id, m.payload, m.priority, m.attempts, m.receipt) == (
        "id-é",
        {"a": 1, "b": None},
        5,
        3,
        "abc-7",
    )
    assert (m.state.value, m.shard, m.due_at, m.lease_expires_at, m.delay) == (
        "in_flight", 2, 1_764_085_620.0, 1_764_085_680.0, 0.0,
    )  # fmt: skip


def test_messages_read_back_are_ordinary_frozen_messages():
    # built in a twin class whose __class__ then becomes Message: nothing of that may show
    m = stored_message("a", {"k": [1]}, 3, 2, "r-abc", MessageState.IN_FLIGHT, 1, 5.0, 6.0)
    assert type(m) is Message
    assert dataclasses.asdict(m) == {
        "id": "a", "payload": {"k": [1]}, "priority": 3, "delay": 0.0, "attempts": 2,
        "receipt": "r-abc", "state": MessageState.IN_FLIGHT, "shard": 1, "due_at": 5.0,
        "lease_expires_at": 6.0,
    }  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.priority = 0  # type: ignore[misc]
    assert m == Message("a", {"k": [1]}, priority=3)
    assert pickle.loads(pickle.dumps(m)) == m
    assert dataclasses.replace(m, priority=4).priority == 4
    record = Record(5, 1, "x-aab", 7000, b"\x01")
    [popped] = popped_messages(0, [b"a", pack_record(record)], 9000)
    assert type(popped) is Message and dataclasses.asdict(popped)["receipt"] == "x-aab"
