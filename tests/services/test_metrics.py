"""Metric values after a known workload through the HTTP API."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(api) -> dict:
    response = await api.get("/metrics")
    assert response.status == 200
    return samples(await response.text())


def q(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted({"queue": "jobs", **labels}.items()))


async def test_counters_and_gauges_after_a_known_workload(make_api):
    api = await make_api(gauge_ttl=0.0)
    messages = [{"id": f"m{i}"} for i in range(5)] + [{"id": "later", "delay": 600}]
    assert (await api.post("/v1/queues/jobs/messages", json={"messages": messages})).status == 201
    popped = (await (await api.post("/v1/queues/jobs/pop", json={"count": 3})).json())["messages"]
    ack = {"messages": [{"id": m["id"], "receipt": m["receipt"]} for m in popped[:2]]}
    await api.post("/v1/queues/jobs/ack", json=ack)
    third = popped[2]
    await api.post(
        f"/v1/queues/jobs/messages/{third['id']}/nack", json={"receipt": third["receipt"]}
    )

    got = await scrape(api)
    assert got[q("dynoq_messages_pushed_total")] == 6
    assert got[q("dynoq_messages_popped_total")] == 3
    assert got[q("dynoq_messages_acked_total")] == 2
    assert got[q("dynoq_messages_nacked_total")] == 1
    assert got[q("dynoq_queue_messages", state="ready")] == 3
    assert got[q("dynoq_queue_messages", state="delayed")] == 1
    assert got[q("dynoq_queue_messages", state="in_flight")] == 0
    assert got[q("dynoq_queue_messages", state="dead")] == 0
    pushes = (
        "dynoq_http_request_duration_seconds_count",
        (("method", "POST"), ("route", "/v1/queues/{queue}/messages"), ("status", "201")),
    )
    assert got[pushes] == 1
    assert got[q("dynoq_time_in_queue_seconds_count")] == 3
    waited = got[q("dynoq_time_in_queue_seconds_sum")]
    assert 0 <= waited < 60, "three messages popped right after being pushed waited little"


async def test_gauges_are_cached_between_scrapes(make_api):
    api = await make_api(gauge_ttl=3600)
    await api.post("/v1/queues/jobs/messages", json={"messages": [{"id": "a"}]})
    assert (await scrape(api))[q("dynoq_queue_messages", state="ready")] == 1
    await api.post("/v1/queues/jobs/messages", json={"messages": [{"id": "b"}]})
    # Within the ttl the scrape is answered from the cache, without asking Redis again.
    assert (await scrape(api))[q("dynoq_queue_messages", state="ready")] == 1


async def test_oldest_ready_age_and_redis_health(make_api, redis_url):
    api = await make_api(gauge_ttl=0.0)
    await api.post("/v1/queues/jobs/messages", json={"messages": [{"id": "a"}]})
    got = await scrape(api)
    assert 0 <= got[q("dynoq_queue_oldest_ready_age_seconds")] < 60
    assert got[("dynoq_redis_up", ())] == 1
    assert got[("dynoq_redis_used_memory_bytes", ())] > 0
    assert got[("dynoq_redis_evicting_policy", ())] == 0  # the fixtures run noeviction
    assert got[("dynoq_redis_evicted_keys_total", ())] == 0


async def test_a_scrape_while_redis_is_down_says_so_instead_of_failing(namespace):
    from aiohttp.test_utils import TestClient, TestServer
    from prometheus_client import CollectorRegistry

    from dynoq.runtime.settings import ServerConfig
    from dynoq.services.server import build_app
    from dynoq.testing import RedisServer

    server = RedisServer(port=0).start()
    config = ServerConfig(
        redis_url=server.url, namespace=namespace, system_tasks=False, gauge_ttl=0.0
    )
    client = TestClient(TestServer(build_app(config, CollectorRegistry())))
    await client.start_server()
    try:
        await client.post("/v1/queues/jobs/messages", json={"messages": [{"id": "a"}]})
        assert (await scrape(client))[("dynoq_redis_up", ())] == 1
        server.stop()
        got = await scrape(client)
        assert got[("dynoq_redis_up", ())] == 0
        assert q("dynoq_queue_messages", state="ready") not in got
    finally:
        await client.close()
        server.stop()
