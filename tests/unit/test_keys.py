"""Key naming, hash tags and shard placement (no Redis needed)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from redis.crc import key_slot as redis_key_slot

from dynoq.core.keys import CLUSTER_SLOTS, key_slot, shard_keys, shard_of, shard_slot, slot_tag


def master_ranges(masters: int) -> list[range]:
    """Slot ranges as `redis-cli --cluster create` assigns them: equal, contiguous."""
    per = CLUSTER_SLOTS / masters
    bounds = [round(per * i) for i in range(masters)] + [CLUSTER_SLOTS]
    return [range(bounds[i], bounds[i + 1]) for i in range(masters)]


def test_key_slot_agrees_with_redis():
    for key in ["", "a", "dynoq", "orders:0", "123456", "\u00e9t\u00e9"]:
        assert key_slot(key) == redis_key_slot(key.encode())


@pytest.mark.parametrize("slot", [0, 1, 5460, 5461, 8191, 16383])
def test_slot_tag_lands_on_its_slot(slot):
    assert redis_key_slot(f"x:{{{slot_tag(slot)}}}:ready".encode()) == slot


def test_all_keys_of_a_shard_share_one_hash_tag():
    keys = shard_keys("dynoq", "orders", 2, 4)
    tags = {re.search(r"\{([^}]*)\}", k).group(1) for k in keys.all}
    assert len(tags) == 1
    assert len({redis_key_slot(k.encode()) for k in keys.all}) == 1
    assert keys.ready.startswith("dynoq:orders:2:{")


@pytest.mark.parametrize(
    ("masters", "per_master"), [(3, 1), (3, 2), (3, 4), (4, 3), (6, 2), (5, 5)]
)
def test_k_shards_per_master_land_k_on_each_master(masters, per_master):
    ranges = master_ranges(masters)
    for queue in [f"queue-{i}" for i in range(50)]:
        shards = masters * per_master
        slots = [shard_slot("dynoq", queue, i, shards) for i in range(shards)]
        owners = Counter(next(m for m, r in enumerate(ranges) if s in r) for s in slots)
        assert sorted(owners.values()) == [per_master] * masters, queue


def test_single_shard_queues_spread_over_the_slot_space():
    slots = [shard_slot("dynoq", f"q{i}", 0, 1) for i in range(300)]
    owners = Counter(next(m for m, r in enumerate(master_ranges(3)) if s in r) for s in slots)
    assert min(owners.values()) > 50


def test_shard_of_is_stable_and_spreads():
    assert shard_of("order-1", 1) == 0
    assert shard_of("order-1", 8) == shard_of("order-1", 8)
    assert shard_of("a", 4) == 0xE8B7BE43 % 4  # crc32(b"a"): fixed across processes and versions
    counts = Counter(shard_of(f"id-{i}", 4) for i in range(4000))
    assert min(counts.values()) > 800
