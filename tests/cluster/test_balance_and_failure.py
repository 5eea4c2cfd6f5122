"""Placement of shards on a real Redis Cluster, and pops that survive a dead master."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis

from dynoq import DynoqError, Message, Queue, RedisUnavailable
from dynoq.testing import LocalRedisCluster

pytestmark = pytest.mark.cluster


def shards_on(server_port: int, namespace: str) -> set[int]:
    with redis.Redis(port=server_port) as node:
        keys = [k.decode() for k in node.scan_iter(match=f"{namespace}:*", count=1000)]
    return {int(re.match(rf"{namespace}:q:(\d+):", k).group(1)) for k in keys}


@pytest.mark.parametrize(("shards", "per_master"), [(6, 2), (3, 1), (12, 4)])
def test_k_shards_per_master_hold_their_data_on_k_masters(
    redis_cluster, namespace, shards, per_master
):
    with Queue.from_url(redis_cluster.url, "q", namespace=namespace, shards=shards) as q:
        q.push([Message(f"m{i}", i) for i in range(shards * 50)])
        assert all(s.ready > 0 for s in q.stats().shards)
        masters = redis_cluster.master_servers()
        assert len(masters) == 3
        placement = [shards_on(m.port, namespace) for m in masters]
        assert [len(p) for p in placement] == [per_master] * 3
        assert set().union(*placement) == set(range(shards))
        q.clear()


@pytest.fixture
def fragile_cluster() -> Iterator[LocalRedisCluster]:
    """No replicas, and masters that keep serving their slots when another master is gone."""
    extra = ("--cluster-require-full-coverage", "no")
    with LocalRedisCluster(masters=3, replicas=0, extra_args=extra) as cluster:
        yield cluster


def test_pop_keeps_serving_from_live_masters_when_one_master_dies(fragile_cluster, namespace):
    q = Queue.from_url(fragile_cluster.url, "q", namespace=namespace, shards=6)
    try:
        q.push([Message(f"m{i}", i) for i in range(600)])
        fragile_cluster.servers[0].kill()
        served = 0
        for _ in range(60):
            batch = q.pop(5)
            served += len(batch)
            for m in batch:
                assert q.ack(m)
        assert served > 0, "pops must keep coming from the masters that are alive"
        assert served >= 60 * 5 - 10, "a dead master must not make pops come back short"
    finally:
        q.close()


def test_pop_raises_only_when_every_shard_fails(fragile_cluster, namespace):
    q = Queue.from_url(fragile_cluster.url, "q", namespace=namespace, shards=3)
    try:
        q.push([Message(f"m{i}", i) for i in range(30)])
        for server in fragile_cluster.servers:
            server.kill()
        with pytest.raises(RedisUnavailable) as err:
            q.pop()
        assert isinstance(err.value, DynoqError)
    finally:
        q.close()
