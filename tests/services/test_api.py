"""The HTTP API through the aiohttp test client, against a real redis-server."""

from __future__ import annotations

import msgpack
import pytest

from dynoq.testing import async_wait_until

Q = "/v1/queues/jobs"


async def push(api, *messages, queue="jobs", **params):
    response = await api.post(
        f"/v1/queues/{queue}/messages", json={"messages": list(messages)}, params=params
    )
    assert response.status == 201, await response.text()
    return (await response.json())["ids"]


async def pop(api, count=1, wait=0.0, queue="jobs"):
    response = await api.post(f"/v1/queues/{queue}/pop", json={"count": count, "wait": wait})
    assert response.status == 200, await response.text()
    return (await response.json())["messages"]


async def test_push_pop_ack_round_trip(api):
    ids = await push(
        api, {"id": "a", "payload": {"n": 1}, "priority": 5}, {"id": "b", "payload": [2]}
    )
    assert ids == ["a", "b"]
    got = await pop(api, count=10)
    assert [(m["id"], m["payload"], m["priority"], m["attempts"]) for m in got] == [
        ("b", [2], 0, 1),
        ("a", {"n": 1}, 5, 1),
    ]
    response = await api.post(
        f"{Q}/ack", json={"messages": [{"id": m["id"], "receipt": m["receipt"]} for m in got]}
    )
    assert await response.json() == {"acked": 2}
    response = await api.post(
        f"{Q}/ack", json={"messages": [{"id": "a", "receipt": got[1]["receipt"]}]}
    )
    assert await response.json() == {"acked": 0}
    stats = await (await api.get(Q)).json()
    assert stats["ready"] == stats["in_flight"] == stats["delayed"] == 0


async def test_push_without_id_makes_one_and_ensure_skips_existing(api):
    [generated] = await push(api, {"payload": "x"})
    assert len(generated) == 32
    assert await push(api, {"id": generated, "payload": "y"}, {"id": "new"}, ensure="true") == [
        "new"
    ]
    message = await (await api.get(f"{Q}/messages/{generated}")).json()
    assert message["payload"] == "x" and message["state"] == "ready"


async def test_long_poll_wait_on_an_existing_queue(api):
    import asyncio

    await push(api, {"id": "first"})
    await pop(api)
    waiting = asyncio.ensure_future(pop(api, wait=10))
    await push(api, {"id": "second"})
    got = await asyncio.wait_for(waiting, 10)
    assert [m["id"] for m in got] == ["second"]


async def test_nack_lease_delay_get_delete(api):
    await push(api, {"id": "m", "payload": 1})
    [m] = await pop(api)
    lease = await api.post(f"{Q}/messages/m/lease", json={"timeout": 120})
    assert await lease.json() == {"updated": True}
    got = await (await api.get(f"{Q}/messages/m")).json()
    assert got["state"] == "in_flight" and got["lease_expires_at"] > 0
    nack = await api.post(f"{Q}/messages/m/nack", json={"receipt": m["receipt"], "delay": 60})
    assert await nack.json() == {"nacked": True}
    got = await (await api.get(f"{Q}/messages/m")).json()
    assert got["state"] == "delayed"
    delay = await api.post(f"{Q}/messages/m/delay", json={"delay": 0})
    assert await delay.json() == {"updated": True}
    assert (await (await api.get(f"{Q}/messages/m")).json())["state"] == "ready"
    assert (await api.delete(f"{Q}/messages/m")).status == 200
    missing = await api.get(f"{Q}/messages/m")
    assert missing.status == 404 and (await missing.json())["error"] == "message_not_found"


async def test_dead_letters_and_requeue(make_api):
    api = await make_api(queue_max_deliveries=1)
    await push(api, {"id": "d", "payload": "p"})
    [m] = await pop(api)
    await api.post(f"{Q}/messages/d/nack", json={"receipt": m["receipt"]})
    dead = await (await api.get(f"{Q}/dead")).json()
    assert [(x["id"], x["state"]) for x in dead["messages"]] == [("d", "dead")]
    requeued = await api.post(f"{Q}/dead/requeue", json={"ids": ["d"]})
    assert await requeued.json() == {"requeued": 1}
    assert (await pop(api))[0]["attempts"] == 1


async def test_list_queues_and_delete_with_confirm(api):
    await push(api, {"id": "1"}, queue="a")
    await push(api, {"id": "2", "delay": 30}, queue="b")
    listing = await (await api.get("/v1/queues")).json()
    assert [(q["name"], q["ready"], q["delayed"]) for q in listing["queues"]] == [
        ("a", 1, 0),
        ("b", 0, 1),
    ]
    assert (await api.delete("/v1/queues/a", params={"confirm": "a"})).status == 200
    listing = await (await api.get("/v1/queues")).json()
    assert [q["name"] for q in listing["queues"]] == ["b"]
    assert (await api.get("/v1/queues/a")).status == 404


async def test_msgpack_in_and_out_carries_bytes(api):
    body = msgpack.packb({"messages": [{"id": "bin", "payload": b"\x00\xff"}]})
    response = await api.post(
        f"{Q}/messages", data=body, headers={"Content-Type": "application/msgpack"}
    )
    assert response.status == 201
    response = await api.post(
        f"{Q}/pop",
        data=msgpack.packb({"count": 1}),
        headers={"Content-Type": "application/msgpack", "Accept": "application/msgpack"},
    )
    assert response.content_type == "application/msgpack"
    [m] = msgpack.unpackb(await response.read())["messages"]
    assert m["payload"] == b"\x00\xff"


async def test_health_ready_metrics_openapi(api):
    health = await (await api.get("/health")).json()
    assert health["status"] == "ok" and health["healthy"] is True
    assert await (await api.get("/ready")).json() == {"status": "ready"}
    assert "dynoq_http_request_duration_seconds" in await (await api.get("/metrics")).text()
    assert (await (await api.get("/openapi.json")).json())["openapi"].startswith("3.")


async def test_ready_is_503_when_redis_is_down(make_api):
    api = await make_api(redis_url="redis://127.0.0.1:1/0")
    response = await api.get("/ready")
    assert response.status == 503 and (await response.json())["error"] == "redis_unavailable"
    response = await api.post(f"{Q}/messages", json={"messages": [{"id": "x"}]})
    assert response.status == 503
    assert (await api.get("/health")).status == 200


async def test_bearer_tokens(make_api):
    api = await make_api(tokens=("s3cret", "other"))
    assert (await api.get("/health")).status == 200
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic s3cret"}):
        response = await api.get("/v1/queues", headers=headers)
        assert response.status == 401
        assert (await response.json())["error"] == "unauthorized"
    ok = await api.get("/v1/queues", headers={"Authorization": "Bearer other"})
    assert ok.status == 200


async def test_sweep_via_pop_after_lease_expiry(make_api):
    api = await make_api(queue_unack_timeout=0.2)
    await push(api, {"id": "e"})
    [first] = await pop(api)

    async def redelivered():
        got = await pop(api)
        return got and got[0]["attempts"] == 2

    await async_wait_until(redelivered, timeout=10)
    assert first["attempts"] == 1


BIG = "x" * 600_000
M = f"{Q}/messages/m"
# (method, path, body or raw bytes, query, status, error, field)
BAD_INPUT = [
    # push
    ("POST", f"{Q}/messages", None, {}, 400, "invalid_body", None),
    ("POST", f"{Q}/messages", b"{not json", {}, 400, "invalid_body", None),
    ("POST", f"{Q}/messages", [1, 2], {}, 400, "invalid_body", None),
    ("POST", f"{Q}/messages", {}, {}, 400, "invalid_argument", "messages"),
    ("POST", f"{Q}/messages", {"messages": []}, {}, 400, "invalid_argument", "messages"),
    ("POST", f"{Q}/messages", {"messages": [1]}, {}, 400, "invalid_argument", "messages[0]"),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": 5}]},
        {},
        400,
        "invalid_argument",
        "messages[0].id",
    ),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": ""}]},
        {},
        400,
        "invalid_argument",
        "messages[0].id",
    ),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": "a", "priority": 100}]},
        {},
        400,
        "invalid_argument",
        "messages[0].priority",
    ),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": "a", "priority": True}]},
        {},
        400,
        "invalid_argument",
        "messages[0].priority",
    ),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": "a"}, {"id": "b", "delay": -1}]},
        {},
        400,
        "invalid_argument",
        "messages[1].delay",
    ),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": "a", "colour": 1}]},
        {},
        400,
        "invalid_argument",
        "messages[0].colour",
    ),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": "a"}], "extra": 1},
        {},
        400,
        "invalid_argument",
        "extra",
    ),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": "a", "payload": BIG}]},
        {},
        413,
        "payload_too_large",
        "messages[0].payload",
    ),
    (
        "POST",
        f"{Q}/messages",
        {"messages": [{"id": "a"}]},
        {"ensure": "maybe"},
        400,
        "invalid_argument",
        "ensure",
    ),
    (
        "POST",
        "/v1/queues/bad name!/messages",
        {"messages": [{"id": "a"}]},
        {},
        400,
        "invalid_argument",
        "queue",
    ),
    # pop
    ("POST", f"{Q}/pop", {"count": 0}, {}, 400, "invalid_argument", "count"),
    ("POST", f"{Q}/pop", {"count": "3"}, {}, 400, "invalid_argument", "count"),
    ("POST", f"{Q}/pop", {"wait": -1}, {}, 400, "invalid_argument", "wait"),
    ("POST", f"{Q}/pop", {"wait": "soon"}, {}, 400, "invalid_argument", "wait"),
    ("POST", "/v1/queues/nosuch/pop", {}, {}, 404, "queue_not_found", "queue"),
    # ack
    ("POST", f"{Q}/ack", {}, {}, 400, "invalid_argument", "messages"),
    ("POST", f"{Q}/ack", {"messages": [{"id": "a"}]}, {}, 400, "invalid_argument", "receipt"),
    ("POST", f"{Q}/ack", {"messages": ["a"]}, {}, 400, "invalid_argument", "messages[0]"),
    (
        "POST",
        f"{Q}/ack",
        {"messages": [{"id": "", "receipt": "r"}]},
        {},
        400,
        "invalid_argument",
        "messages[0].id",
    ),
    # nack / lease / delay
    ("POST", f"{M}/nack", {"delay": "later"}, {}, 400, "invalid_argument", "delay"),
    ("POST", f"{M}/nack", {"receipt": 7}, {}, 400, "invalid_argument", "receipt"),
    ("POST", f"{M}/lease", {}, {}, 400, "invalid_argument", "timeout"),
    ("POST", f"{M}/lease", {"timeout": -3}, {}, 400, "invalid_argument", "timeout"),
    ("POST", f"{M}/delay", {"delay": None}, {}, 400, "invalid_argument", "delay"),
    ("POST", f"{M}/delay", {"delay": 1e12}, {}, 400, "invalid_argument", "delay"),
    # get / delete message
    ("GET", f"{Q}/messages/{'i' * 600}", None, {}, 400, "invalid_argument", "id"),
    ("GET", "/v1/queues/nosuch/messages/m", None, {}, 404, "queue_not_found", "queue"),
    ("DELETE", f"{Q}/messages/nosuch", None, {}, 404, "message_not_found", None),
    # queues
    ("GET", "/v1/queues/nosuch", None, {}, 404, "queue_not_found", "queue"),
    ("DELETE", Q, None, {}, 400, "invalid_argument", "confirm"),
    ("DELETE", Q, None, {"confirm": "other"}, 400, "invalid_argument", "confirm"),
    ("GET", f"{Q}/dead", None, {"count": "many"}, 400, "invalid_argument", "count"),
    ("GET", f"{Q}/dead", None, {"count": "0"}, 400, "invalid_argument", "count"),
    ("POST", f"{Q}/dead/requeue", {"ids": "a"}, {}, 400, "invalid_argument", "ids"),
    ("POST", f"{Q}/dead/requeue", {"ids": [""]}, {}, 400, "invalid_argument", "ids[0]"),
    # the router itself
    ("GET", "/v2/nothing", None, {}, 404, "not_found", None),
    ("PUT", f"{Q}/pop", {}, {}, 405, "method_not_allowed", None),
]


@pytest.mark.parametrize(("method", "path", "body", "query", "status", "error", "field"), BAD_INPUT)
async def test_bad_input_is_a_4xx_with_a_json_error(
    api, method, path, body, query, status, error, field
):
    await push(api, {"id": "seed"})  # the queue exists, so only the input is wrong
    kwargs = (
        {"data": body} if isinstance(body, bytes) else {"json": body} if body is not None else {}
    )
    response = await api.request(method, path, params=query, **kwargs)
    assert response.status == status, await response.text()
    got = await response.json()
    assert got["error"] == error
    assert isinstance(got["message"], str) and got["message"]
    assert got.get("field") == field
    assert "Traceback" not in got["message"]


async def test_body_over_the_size_limit_is_413(make_api):
    api = await make_api(max_body_bytes=1000)
    response = await api.post(
        f"{Q}/messages", json={"messages": [{"id": "a", "payload": "x" * 2000}]}
    )
    assert response.status == 413 and (await response.json())["error"] == "payload_too_large"


async def test_unsupported_content_type_is_415(api):
    response = await api.post(f"{Q}/messages", data=b"<xml/>", headers={"Content-Type": "text/xml"})
    assert response.status == 415 and (await response.json())["error"] == "unsupported_media_type"


async def test_ids_with_reserved_characters_are_percent_encoded_in_paths(api):
    from yarl import URL

    await push(api, {"id": "a/b c?d"})
    response = await api.get(URL(f"{Q}/messages/a%2Fb%20c%3Fd", encoded=True))
    assert (await response.json())["id"] == "a/b c?d"
