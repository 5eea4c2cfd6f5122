"""browse.lua: a page of the messages in one state, nothing changed."""

from __future__ import annotations

import pytest

from dynoq import InvalidArgument, Message
from tests.integration.keyspace import shard_state


def test_browse_pages_each_state_in_its_order_across_shards(make_queue, raw, clock):
    q = make_queue(clock=clock, max_deliveries=1, shards=3)
    q.push([Message(f"r{i}", i, priority=9 - i) for i in range(6)])
    q.push([Message(f"d{i}", i, delay=10 + i) for i in range(4)])
    [leased] = q.pop()
    q.push(Message("dead", "x"))
    [dying] = q.pop()
    q.nack(dying)
    before = [shard_state(raw, q, shard) for shard in range(3)]

    ready = [f"r{i}" for i in range(5, -1, -1) if f"r{i}" != leased.id]  # best priority first
    assert [m.id for m in q.browse("ready", 0, 3)] == ready[:3]
    assert [m.id for m in q.browse("ready", 3, 3)] == ready[3:]
    assert [m.id for m in q.browse("delayed", 1, 2)] == ["d1", "d2"]
    [flying] = q.browse("in_flight")
    assert (flying.id, flying.state, flying.attempts) == (leased.id, "in_flight", 1)
    assert flying.lease_expires_at == leased.lease_expires_at
    [dead] = q.browse("dead")
    assert (dead.id, dead.payload, dead.state) == ("dead", "x", "dead")
    assert [shard_state(raw, q, shard) for shard in range(3)] == before


def test_browse_rejects_bad_arguments(make_queue):
    q = make_queue()
    with pytest.raises(InvalidArgument) as bad_state:
        q.browse("gone")
    assert bad_state.value.field == "state"
    with pytest.raises(InvalidArgument) as bad_offset:
        q.browse("ready", -1)
    assert bad_offset.value.field == "offset"
