"""Bad input changes nothing; lost connections and flushed scripts are handled."""

from __future__ import annotations

import math
import threading

import pytest
import redis

from dynoq import (
    AsyncQueue,
    ConfigError,
    DynoqError,
    InvalidArgument,
    InvalidMessage,
    Message,
    Queue,
    RedisUnavailable,
)
from dynoq.testing import RedisServer
from tests.integration.keyspace import queue_keys, shard_state


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": 7}, "id"),
        ({"id": "x" * 513}, "id"),
        ({"id": "\u00e9" * 257}, "id"),
        ({"id": "a", "priority": 100}, "priority"),
        ({"id": "a", "priority": -1}, "priority"),
        ({"id": "a", "priority": "1"}, "priority"),
        ({"id": "a", "priority": True}, "priority"),
        ({"id": "a", "priority": 1.0}, "priority"),
        ({"id": "a", "delay": -1}, "delay"),
        ({"id": "a", "delay": math.nan}, "delay"),
        ({"id": "a", "delay": math.inf}, "delay"),
        ({"id": "a", "delay": "5"}, "delay"),
    ],
)
def test_a_bad_message_is_a_typed_error_naming_the_field(kwargs, field):
    with pytest.raises(InvalidMessage) as err:
        Message(**kwargs)
    assert err.value.field == field
    assert isinstance(err.value, DynoqError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.nack("a", delay=-1),
        lambda q: q.nack("a", delay=math.nan),
        lambda q: q.set_unack_timeout("a", math.inf),
        lambda q: q.set_unack_timeout("a", -0.5),
        lambda q: q.set_delay("a", -1),
        lambda q: q.pop(wait=-1),
        lambda q: q.pop(wait=math.inf),
        lambda q: q.peek(0),
        lambda q: q.dead_letters(0),
        lambda q: q.ack(""),
        lambda q: q.ack(None),
        lambda q: q.remove(b"bytes-id"),
        lambda q: q.get(""),
        lambda q: q.requeue_dead("a-string"),
        lambda q: q.push("not a message"),
        lambda q: q.ensure("not a message"),
    ],
)
def test_bad_arguments_raise_and_change_nothing(make_queue, raw, clock, call):
    q = make_queue(clock=clock)
    q.push([Message("a", 1), Message("b", 2, delay=5)])
    q.pop()
    before = shard_state(raw, q)
    with pytest.raises(InvalidArgument):
        call(q)
    assert shard_state(raw, q) == before


@pytest.mark.parametrize(
    "options",
    [
        {"name": "has space"},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "brace{tag}"},
        {"name": "ok", "namespace": "bad/ns"},
        {"name": "ok", "shards": 0},
        {"name": "ok", "shards": "4"},
        {"name": "ok", "unack_timeout": 0},
        {"name": "ok", "unack_timeout": math.nan},
        {"name": "ok", "max_deliveries": -1},
        {"name": "ok", "max_payload_bytes": 0},
    ],
)
def test_bad_queue_options_are_config_errors(standalone_url, options):
    name = options.pop("name")
    with pytest.raises(ConfigError):
        Queue.from_url(standalone_url, name, **options)
    with pytest.raises(ConfigError):
        AsyncQueue.from_url(standalone_url, name, **options)


@pytest.mark.parametrize("url", ["localhost:6379", "http://x", "redis+bogus://h", 42])
def test_bad_urls_are_config_errors(url):
    with pytest.raises(ConfigError):
        Queue.from_url(url, "q")


def test_a_client_that_decodes_responses_is_refused(standalone_url):
    with pytest.raises(ConfigError):
        Queue(redis.Redis.from_url(standalone_url, decode_responses=True), "q")


def test_a_lost_connection_is_redis_unavailable_with_the_cause():
    server = RedisServer(port=0).start()
    q = Queue.from_url(server.url, "q")
    q.push(Message("a", 1))
    server.kill()
    try:
        with pytest.raises(RedisUnavailable) as err:
            q.push(Message("b", 2))
        assert isinstance(err.value.__cause__, redis.exceptions.ConnectionError)
        with pytest.raises(RedisUnavailable):
            q.pop()
    finally:
        q.close()
        server.stop()


async def test_a_lost_connection_is_redis_unavailable_for_async_too():
    server = RedisServer(port=0).start()
    q = AsyncQueue.from_url(server.url, "q")
    await q.push(Message("a", 1))
    server.kill()
    try:
        with pytest.raises(RedisUnavailable):
            await q.pop(wait=0.2)
    finally:
        await q.aclose()
        server.stop()


def test_script_flush_mid_run_causes_no_error(make_queue, raw, namespace):
    q = make_queue(shards=2)
    stop = threading.Event()

    def flush_repeatedly() -> None:
        while not stop.is_set():
            raw.script_flush()

    flusher = threading.Thread(target=flush_repeatedly)
    flusher.start()
    try:
        for i in range(300):
            q.push(Message(f"m{i}", i))
            [m] = q.pop()
            assert q.ack(m)
    finally:
        stop.set()
        flusher.join()
    assert queue_keys(raw, namespace) == []


def test_every_path_through_the_life_cycle_leaves_no_keys(make_queue, raw, namespace, clock):
    q = make_queue(clock=clock, shards=3, unack_timeout=1, max_deliveries=2)
    q.push([Message(f"m{i}", {"i": i}, priority=i % 4, delay=(i % 3) * 0.5) for i in range(60)])
    q.ensure(Message("extra", 1))
    clock.advance(1)
    first = q.pop(30)
    q.ack_many(first[:10])
    for m in first[10:20]:
        q.nack(m, delay=0.5)
    clock.advance(1)  # first[20:] lease expires
    q.sweep()
    q.set_delay(q.peek(1)[0].id, 2)
    clock.advance(2)
    while batch := q.pop(7):
        for m in batch:
            q.nack(m)  # nacked until dead-lettered
    assert q.stats().dead == q.stats().dead > 0
    q.requeue_dead()
    for m in q.pop(100):
        q.ack(m)
    for m in q.peek(100):
        q.remove(m.id)
    assert q.stats().ready == 0
    assert queue_keys(raw, namespace) == []


def test_clear_deletes_every_key(make_queue, raw, namespace, clock):
    q = make_queue(clock=clock, shards=2, max_deliveries=1)
    q.push([Message(f"m{i}", i, delay=i % 2) for i in range(10)])
    q.nack(q.pop()[0])
    q.pop()
    q.clear()
    assert queue_keys(raw, namespace) == []
    assert q.size() == 0
