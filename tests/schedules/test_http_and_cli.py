"""``/v1/schedules`` over the aiohttp test server, and ``dynoq schedules`` in this process:
what they store, and how they reject bad expressions, zones and fields."""

from __future__ import annotations

import itertools

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from dynoq.cli.main import main
from dynoq.runtime.settings import ServerConfig
from dynoq.services.server import build_app


@pytest.fixture
async def api(redis_url, namespace):
    config = ServerConfig(redis_url=redis_url, namespace=namespace, system_tasks=False)
    client = TestClient(TestServer(build_app(config, CollectorRegistry())))
    await client.start_server()
    yield client
    await client.close()


NIGHTLY = {
    "name": "nightly",
    "cron": "30 2 * * *",
    "zone": "Europe/Berlin",
    "message": {"queue": "reports", "payload": {"kind": "daily"}, "priority": 2},
}


async def test_create_read_pause_resume_delete(api):
    response = await api.post("/v1/schedules", json=NIGHTLY)
    assert response.status == 201
    body = await response.json()
    assert body["cron"] == "30 2 * * *" and body["zone"] == "Europe/Berlin"
    assert body["next_fire"] is not None and body["last_fire"] is None
    assert (await api.post("/v1/schedules", json=NIGHTLY)).status == 409
    listed = await (await api.get("/v1/schedules")).json()
    assert [s["name"] for s in listed["schedules"]] == ["nightly"]
    fires = (await (await api.get("/v1/schedules/nightly/next?count=3")).json())["fires"]
    assert len(fires) == 3 and fires == sorted(fires)
    assert all(round(b - a) in (82800, 86400, 90000) for a, b in itertools.pairwise(fires))
    paused = await api.post("/v1/schedules/nightly/pause", json={"reason": "holiday"})
    assert (await paused.json())["paused"] is True
    assert (await paused.json())["next_fire"] is None
    resumed = await (await api.post("/v1/schedules/nightly/resume")).json()
    assert resumed["paused"] is False and resumed["next_fire"] == fires[0]
    replaced = await api.put("/v1/schedules/nightly", json={**NIGHTLY, "cron": "0 4 * * *"})
    assert (await replaced.json())["cron"] == "0 4 * * *"
    executions = await (await api.get("/v1/schedules/nightly/executions")).json()
    assert executions == {"total": 0, "executions": []}
    assert (await api.delete("/v1/schedules/nightly")).status == 200
    assert (await api.get("/v1/schedules/nightly")).status == 404


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"cron": "61 * * * *"}, "cron", "Bad minute"),
        ({"cron": "* * *"}, "cron", "has 3 fields"),
        ({"zone": "Mars/Olympus"}, "zone", "unknown time zone"),
        ({"interval": 5}, "cron", "either a cron expression or an interval"),
        ({"catch_up": "sometimes"}, "catch_up", "skip"),
        ({"name": "has space"}, "name", "schedule name"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"message": {"queue": "q", "id": "{oops}"}}, "message.id", "template"),
    ],
)
async def test_bad_schedules_are_400s_that_say_what_is_wrong(api, change, field, says):
    response = await api.post("/v1/schedules", json={**NIGHTLY, **change})
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "invalid_argument" and body["field"] == field
    assert says in body["message"]


def test_cli_add_ls_next_pause_resume_rm(redis_url, namespace, capsys):
    base = ["--redis-url", redis_url, "--namespace", namespace, "schedules"]
    assert main([*base, "add", "beat", "--cron", "*/5 * * * * *", "--queue", "ticks",
                 "--payload", '{"n": 1}']) == 0  # fmt: skip
    assert "schedule 'beat' saved, next fire" in capsys.readouterr().out
    assert main([*base, "ls"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["NAME", "WHEN", "ZONE"]
    assert table[1].split()[:6] == ["beat", "*/5", "*", "*", "*", "*"]
    assert main([*base, "next", "beat", "--count", "3"]) == 0
    times = capsys.readouterr().out.split()
    assert len(times) == 3 and all(t.endswith("Z") for t in times)
    assert all(int(t[17:19]) % 5 == 0 for t in times)
    assert main([*base, "pause", "beat"]) == 0
    assert main([*base, "resume", "beat"]) == 0
    assert main([*base, "rm", "beat"]) == 0
    capsys.readouterr()
    assert main([*base, "rm", "beat"]) == 2
    assert capsys.readouterr().err.strip() == "dynoq: error: no schedule 'beat'"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--cron", "* * 32 * *", "--queue", "q"], "cron '* * 32 * *': Bad day-of-month"),
        (["--cron", "* * * * *", "--zone", "Nowhere/City", "--queue", "q"], "unknown time zone"),
        (["--every", "-1", "--queue", "q"], "interval must be a number of seconds"),
    ],
)
def test_cli_rejects_bad_input_in_one_line(redis_url, namespace, capsys, args, says):
    code = main(
        ["--redis-url", redis_url, "--namespace", namespace, "schedules", "add", "x", *args]
    )
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
