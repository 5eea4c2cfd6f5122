"""Reads a queue's keys straight from Redis, so tests assert the whole stored state."""

from __future__ import annotations

from typing import Any

import redis
import redis.cluster

from dynoq.core.codec import parse_record

PRIORITY_SPAN = 2**46
TIME_SCALE = 128


def shard_state(raw: redis.Redis, queue: Any, shard: int = 0) -> dict[str, Any]:
    """Every key of one shard, decoded: zsets as [(id, score)], the record hash as
    {id: (priority, attempts, receipt, due_ms, payload bytes)}, seq as an int or None."""
    keys = queue.spec.keys[shard]

    def zset(key: str) -> list[tuple[str, int]]:
        return [(m.decode(), int(s)) for m, s in raw.zrange(key, 0, -1, withscores=True)]

    records = {}
    for field, value in raw.hgetall(keys.messages).items():
        records[field.decode()] = tuple(parse_record(value))
    seq = raw.get(keys.seq)
    return {
        "ready": zset(keys.ready),
        "delayed": zset(keys.delayed),
        "in_flight": zset(keys.in_flight),
        "dead": zset(keys.dead),
        "messages": records,
        "seq": int(seq) if seq is not None else None,
    }


def queue_keys(raw: redis.Redis, namespace: str) -> list[str]:
    """Every key in Redis under a namespace (tests use one namespace each)."""
    return sorted(k.decode() for k in raw.scan_iter(match=f"{namespace}:*", count=1000))


def ready_score(priority: int, seq: int) -> int:
    return priority * PRIORITY_SPAN + seq


def timed_score(at_ms: int, priority: int) -> int:
    return at_ms * TIME_SCALE + priority


def subscribers(raw: Any, channel: str) -> int:
    """How many clients listen on a pub/sub channel, summed over every node of a cluster."""
    if isinstance(raw, redis.cluster.RedisCluster):
        total = 0
        for node in raw.get_nodes():
            with redis.Redis(host=node.host, port=node.port) as client:
                total += subscribers(client, channel)
        return total
    return int(dict(raw.pubsub_numsub(channel))[channel.encode()])
