"""The queue chart's samples live in Redis: every server replica adds to the same minute, and
each minute's hash expires, so the structure stays bounded."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry

from dynoq import AsyncQueue, Message
from dynoq.backend.connect import async_client
from dynoq.runtime.metrics import Metrics
from dynoq.services.directory import QueueDirectory
from dynoq.services.ui.sampler import KEEP_SECONDS, Sampler, minute_key

NOW = (time.time() // 60) * 60 + 5.0  # early in the current minute: later calls stay in it


async def test_two_replicas_share_one_hour_of_samples(standalone_url: str, namespace: str) -> None:
    client = async_client(standalone_url)
    queue = AsyncQueue(client, "mail", namespace=namespace)
    await queue.push([Message("a", 1), Message("b", 2, delay=600)])
    replicas = []
    for pushed in (5, 7):  # what each server counted through its own HTTP API
        metrics = Metrics(CollectorRegistry())
        metrics.pushed.labels("mail").inc(pushed)
        sampler = Sampler(metrics.registry)
        sampler.attach(QueueDirectory(client, namespace, {}))
        replicas.append(sampler)
    for sampler in replicas:
        await sampler.sample(NOW)
        await sampler.sample(NOW + 1)  # nothing new counted: adds nothing
    minutes, hour = await replicas[0].hour(["mail"], NOW + 1)
    assert len(minutes) == 60 and minutes[-1] == int(NOW // 60)
    mail = hour["mail"]
    assert (mail["ready"][-1], mail["delayed"][-1], mail["dead"][-1]) == (1, 1, 0)
    assert (mail["pushed"][-1], mail["acked"][-1]) == (12, 0)
    assert mail["ready"][:-1] == [None] * 59  # no sample then: no point drawn
    key = minute_key(namespace, int(NOW // 60))
    expires_at = await client.expiretime(key)
    assert expires_at == (int(NOW // 60) + 1) * 60 + KEEP_SECONDS
    await queue.aclose()
    await client.aclose()
