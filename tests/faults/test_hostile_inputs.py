"""Hostile input, through the library and through ``dynoq server``: lone surrogates, deep
nesting, huge bodies and URLs, bad msgpack, odd ids. Every answer is a typed error or a 4xx
with the JSON error document, and a refused batch writes nothing."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import msgpack
import pytest
import redis

from dynoq import AsyncQueue, Message, Queue
from dynoq.errors import InvalidArgument, InvalidMessage
from dynoq.testing import RedisServer
from dynoq.workflow.engine import WorkflowEngine
from dynoq.workflow.model import TaskResult, TaskStatus
from tests.faults.support import call, keys, processes, start_server

SURROGATE = "\ud800"
GOOD = [Message(f"m{i}", {"n": i}) for i in range(20)]


@pytest.fixture(scope="module")
def server(redis_server: RedisServer) -> Iterator[str]:
    with processes() as running:
        yield start_server(running, redis_server.url, "hostile")


def test_a_lone_surrogate_id_is_refused_before_anything_is_written(standalone_url, namespace):
    with pytest.raises(InvalidMessage) as refused:
        Message(SURROGATE, 1)
    assert refused.value.field == "id"

    async def batch() -> None:
        queue = AsyncQueue.from_url(standalone_url, "q", namespace=namespace, shards=4)
        try:
            # a Message cannot hold such an id; a str id in ack/get/remove is checked the same
            for call_with_bad_id in (queue.get, queue.remove, queue.ack):
                with pytest.raises(InvalidMessage):
                    await call_with_bad_id(SURROGATE)
            with pytest.raises(InvalidArgument):
                await queue.ack_many([*[m.id for m in GOOD], "x" + SURROGATE])
            with pytest.raises(InvalidMessage):
                await queue.push([*GOOD, Message("late", "text" + SURROGATE)])
            assert await queue.size() == 0
        finally:
            await queue.aclose()

    asyncio.run(batch())


def test_a_bad_receipt_acks_nothing(standalone_url, namespace):
    with Queue.from_url(standalone_url, "q", namespace=namespace, shards=4) as queue:
        queue.push(GOOD)
        popped = queue.pop(count=20)
        with pytest.raises(InvalidArgument) as refused:
            queue.ack(popped[0].id, receipt=SURROGATE)
        assert refused.value.field == "receipt"
        assert queue.stats().in_flight == 20


def test_workflow_fields_with_a_lone_surrogate_write_nothing(standalone_url, namespace):
    raw = redis.Redis.from_url(standalone_url)

    async def run() -> None:
        engine = WorkflowEngine.from_url(standalone_url, namespace)
        try:
            definition = {
                "name": "wf",
                "version": 1,
                "tasks": [{"name": "t", "taskReferenceName": "t", "type": "SIMPLE"}],
            }
            with pytest.raises(InvalidArgument):
                await engine.register_workflow_def({**definition, "description": SURROGATE})
            with pytest.raises(InvalidArgument):
                await engine.register_task_defs([{"name": "ok"}, {"name": SURROGATE}])
            assert keys(raw, namespace) == []
            await engine.register_workflow_def(definition)
            before = keys(raw, namespace)
            with pytest.raises(InvalidArgument) as refused:
                await engine.start_workflow("wf", {"a": [1, {"b": SURROGATE}]}, idempotency_key="k")
            assert refused.value.field == "input.a[1].b"
            with pytest.raises(InvalidArgument):
                await engine.start_workflow("wf", {}, correlation_id=SURROGATE)
            with pytest.raises(InvalidArgument):
                await engine.update_task(
                    TaskResult("x", "y", TaskStatus.COMPLETED, {"out": SURROGATE})
                )
            assert keys(raw, namespace) == before
        finally:
            await engine.aclose()
            raw.close()

    asyncio.run(run())


def surrogate_batch() -> bytes:
    good = ",".join(f'{{"id":"m{i}","payload":{i}}}' for i in range(20))
    return f'{{"messages":[{good},{{"id":"\\ud800","payload":1}}]}}'.encode()


def test_http_a_batch_with_a_lone_surrogate_is_a_400_and_writes_nothing(server):
    status, body = call(server, "POST", "/v1/queues/sur/messages", raw=surrogate_batch())
    assert status == 400 and body["error"] == "invalid_body"
    assert body["field"] == "messages[20].id"
    payload = b'{"messages":[{"id":"a","payload":1},{"id":"b","payload":{"k":"\\udfff"}}]}'
    status, body = call(server, "POST", "/v1/queues/sur/messages", raw=payload)
    assert status == 400 and body["field"] == "messages[1].payload.k"
    # nothing was written: the queue was not even created
    assert call(server, "GET", "/v1/queues/sur")[0] == 404


def test_http_conductor_fields_with_a_lone_surrogate_are_a_400(server):
    definition = {"name": "w\ud800", "tasks": [{"name": "t", "taskReferenceName": "t"}]}
    for method, path, body in [
        ("POST", "/api/metadata/workflow", definition),
        ("POST", "/api/metadata/taskdefs", [{"name": "ok"}, {"name": "\udc00"}]),
        ("POST", "/api/workflow", {"name": "w", "input": {"x": "\ud83d"}}),
        ("POST", "/api/workflow/w", {"x": "\ud83d"}),
        ("POST", "/api/tasks", {"taskId": "\ud800", "status": "COMPLETED"}),
    ]:
        status, answer = call(server, method, path, raw=json.dumps(body).encode())
        assert status == 400, (path, answer)
        assert answer["code"] == "INVALID_INPUT", (path, answer)
    assert call(server, "GET", "/api/metadata/taskdefs") == (200, [])


@pytest.mark.parametrize("prefix", ["/v1/queues/deep/messages", "/api/workflow/deep"])
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_http_deeply_nested_json_is_a_400(server, prefix, depth):
    status, body = call(server, "POST", prefix, raw=b"[" * depth + b"]" * depth)
    assert status == 400, body
    message = body["message"]
    assert "nested" in message or "must be" in message


def test_http_deeply_nested_msgpack_is_a_400(server):
    data = b"\x91" * 100_000 + b"\xc0"  # fixarray of one element, 100,000 deep
    status, body = call(
        server,
        "POST",
        "/v1/queues/deep/messages",
        raw=data,
        headers={"Content-Type": "application/msgpack"},
    )
    assert (status, body["error"]) == (400, "invalid_body")


@pytest.mark.parametrize(
    "data",
    [b"\xc1", b"\x81\xa8messages", b"\xdd\xff\xff\xff\xff", b"\x82\xa1a\x01", b"\x93\x01\x02"],
)
def test_http_bad_msgpack_is_a_400(server, data):
    status, body = call(
        server,
        "POST",
        "/v1/queues/mp/messages",
        raw=data,
        headers={"Content-Type": "application/msgpack"},
    )
    assert status == 400 and body["error"] in ("invalid_body", "invalid_argument"), body


def test_http_a_20000_character_url_gets_the_json_error(server):
    for path in ["/v1/queues/" + "a" * 20_000, "/api/workflow/" + "b" * 20_000 + "?x=1"]:
        status, body = call(server, "GET", path)
        assert 400 <= status < 500
        assert isinstance(body, dict) and body["error"] == "bad_request", body


def test_http_bytes_not_allowed_in_a_url_get_the_json_error(server):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /v1/queues/q/messages/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        while b"}" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0]
    assert json.loads(body)["error"] == "bad_request"


def test_http_a_body_over_the_limit_is_a_413(server):
    data = b'{"messages":[{"id":"big","payload":"' + b"x" * (9 * 1024 * 1024) + b'"}]}'
    status, body = call(server, "POST", "/v1/queues/big/messages", raw=data)
    assert status == 413 and body["error"] == "payload_too_large"
    assert call(server, "GET", "/v1/queues/big")[0] == 404


@pytest.mark.parametrize(
    "message_id",
    ["", "x" * 513, 7, None, ["a"], "é" * 257],
)
def test_http_odd_ids_are_a_400_and_write_nothing(server, message_id):
    body = {"messages": [{"id": "fine", "payload": 1}, {"id": message_id, "payload": 1}]}
    if message_id is None:
        body["messages"][1]["id"] = None
    status, answer = call(server, "POST", "/v1/queues/odd/messages", body)
    assert status == 400 and answer["field"].startswith("messages[1]"), answer
    assert call(server, "GET", "/v1/queues/odd")[0] == 404


@pytest.mark.parametrize(
    "message_id", ["a/b", "%2F", " spaced ", "\u00e9\u4e2d\U0001f600", "..", "x" * 512]
)
def test_http_ids_that_are_fine_round_trip(server, message_id):
    from urllib.parse import quote

    status, answer = call(
        server, "POST", "/v1/queues/fine/messages", {"messages": [{"id": message_id}]}
    )
    assert (status, answer) == (201, {"ids": [message_id]})
    status, answer = call(server, "GET", f"/v1/queues/fine/messages/{quote(message_id, safe='')}")
    assert status == 200 and answer["id"] == message_id
    assert call(server, "DELETE", f"/v1/queues/fine/messages/{quote(message_id, safe='')}")[0] in (
        200,
        204,
    )


def test_http_msgpack_batch_with_a_surrogate_writes_nothing(server):
    # msgpack cannot carry a lone surrogate in a str (it is UTF-8), but it can carry bytes ids
    data = msgpack.packb({"messages": [{"id": "ok", "payload": 1}, {"id": b"\xff", "payload": 1}]})
    status, body = call(
        server,
        "POST",
        "/v1/queues/mpb/messages",
        raw=data,
        headers={"Content-Type": "application/msgpack"},
    )
    assert status == 400, body
    assert call(server, "GET", "/v1/queues/mpb")[0] == 404
