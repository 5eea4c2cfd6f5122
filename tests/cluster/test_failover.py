"""A master dies under load: its replica takes over and producers and consumers carry on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from dynoq import DynoqError, Message, Queue
from dynoq.testing import LocalRedisCluster, wait_until

pytestmark = pytest.mark.cluster


@pytest.fixture
def cluster() -> Iterator[LocalRedisCluster]:
    with LocalRedisCluster(masters=3, replicas=1, node_timeout_ms=1000) as cluster:
        yield cluster


class Load:
    """Producers pushing unique ids and consumers acking them, each on its own Queue object,
    recording what Redis acknowledged and what was delivered."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url, self.namespace = url, namespace
        self.stop_producing = threading.Event()
        self.stop_consuming = threading.Event()
        self.pushed: dict[str, float] = {}  # id -> when Redis acknowledged the push
        self.delivered: set[str] = set()
        self.errors = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.produce, args=(p,)) for p in range(2)]
        self.threads += [threading.Thread(target=self.consume) for _ in range(2)]

    def queue(self) -> Queue:
        return Queue.from_url(self.url, "q", namespace=self.namespace, shards=6, unack_timeout=2)

    def produce(self, producer: int) -> None:
        with self.queue() as q:
            n = 0
            while not self.stop_producing.is_set():
                message_id = f"p{producer}-{n}"
                try:
                    q.push(Message(message_id, n))
                except DynoqError:
                    with self.lock:
                        self.errors += 1
                    time.sleep(0.05)
                    continue  # the same id again: a push is a replace, so retrying is safe
                with self.lock:
                    self.pushed[message_id] = time.monotonic()
                n += 1

    def consume(self) -> None:
        with self.queue() as q:
            while not self.stop_consuming.is_set():
                try:
                    batch = q.pop(10, wait=0.2)
                    for m in batch:
                        with self.lock:
                            self.delivered.add(m.id)
                        q.ack(m)
                except DynoqError:
                    with self.lock:
                        self.errors += 1
                    time.sleep(0.05)


@pytest.mark.timeout(180)
def test_kill_a_master_under_load_and_carry_on(cluster, namespace):
    load = Load(cluster.url, namespace)
    for t in load.threads:
        t.start()
    try:
        wait_until(lambda: len(load.delivered) > 300, timeout=30)
        victim = cluster.master_servers()[0]
        killed_at = time.monotonic()
        victim.kill()
        cluster.wait_healthy(timeout=30)
        healed_at = time.monotonic()
        pushed_at_heal = len(load.pushed)
        wait_until(lambda: len(load.pushed) > pushed_at_heal + 300, timeout=60)
        load.stop_producing.set()
        # Drain: everything acknowledged is delivered, except what the dead master had not
        # yet replicated when it died; wait until nothing more comes.
        last = -1
        while last != len(load.delivered):
            last = len(load.delivered)
            time.sleep(3)  # longer than a lease, so orphaned leases come back meanwhile
    finally:
        load.stop_producing.set()
        load.stop_consuming.set()
        for t in load.threads:
            t.join(timeout=30)

    lost = {i: at for i, at in load.pushed.items() if i not in load.delivered}
    after_heal = [i for i, at in lost.items() if at > healed_at]
    print(
        f"\nfailover: {len(load.pushed)} pushes acknowledged, {len(load.delivered)} delivered,"
        f" {len(lost)} lost to asynchronous replication"
        f" ({', '.join(sorted(lost)[:10])}), {load.errors} client errors during failover,"
        f" failover took {healed_at - killed_at:.1f} s"
    )
    assert after_heal == [], "nothing acknowledged after the failover may be lost"
    assert all(killed_at - 1.0 <= at <= healed_at for at in lost.values()), (
        "only writes acknowledged just before the kill can be lost"
    )
    assert len(lost) <= 0.05 * len(load.pushed)
