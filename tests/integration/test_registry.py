"""The queue registry: queues record themselves on first use; the shard count is fixed."""

from __future__ import annotations

import pytest

from dynoq import ConfigError, InvalidMessage, Message
from dynoq.backend.registry import QueueEntry, list_queues, lookup, registry_key


def test_a_queue_registers_on_first_use(make_queue, raw, namespace):
    q = make_queue("orders", shards=3, unack_timeout=7, max_deliveries=4)
    assert lookup(raw, namespace, "orders") is None
    q.push(Message("a"))
    assert lookup(raw, namespace, "orders") == QueueEntry("orders", namespace, 3, 7, 4)
    assert [e.name for e in list_queues(raw, namespace)] == ["orders"]


def test_bad_input_does_not_register(make_queue, raw, namespace):
    q = make_queue("orders")
    with pytest.raises(InvalidMessage):
        q.push("not a message")
    assert not raw.exists(registry_key(namespace))


def test_opening_with_other_shards_is_a_clear_config_error(make_queue):
    make_queue("orders", shards=4).push(Message("a"))
    other = make_queue("orders", shards=2)
    with pytest.raises(ConfigError, match=r"registered with shards=4, opened with shards=2"):
        other.push(Message("b"))


def test_other_options_follow_the_latest_opener(make_queue, raw, namespace):
    make_queue("orders", max_deliveries=2).size()
    make_queue("orders", max_deliveries=9, unack_timeout=3).size()
    entry = lookup(raw, namespace, "orders")
    assert entry is not None and (entry.max_deliveries, entry.unack_timeout) == (9, 3)
