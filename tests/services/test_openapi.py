"""``/openapi.json`` is a valid OpenAPI 3 document that describes exactly the served routes."""

from __future__ import annotations

from openapi_spec_validator import validate

from dynoq.runtime.settings import ServerConfig
from dynoq.services import ui
from dynoq.services.server import build_app


def served_routes() -> set[tuple[str, str]]:
    """The API's routes: not the web UI's pages (``/ui/...``, and ``/`` redirecting there)."""
    app = build_app(ServerConfig())
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and route.resource.canonical != "/"
        and not ui.serves(route.resource.canonical)
    }


async def test_the_document_is_valid_and_matches_the_routes(api):
    document = await (await api.get("/openapi.json")).json()
    validate(document)
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == served_routes()


async def test_documented_bodies_reject_unknown_fields_like_the_server(api):
    document = await (await api.get("/openapi.json")).json()
    await api.post("/v1/queues/jobs/messages", json={"messages": [{"id": "m"}]})
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            schema = operation.get("requestBody", {}).get("content", {})
            schema = schema.get("application/json", {}).get("schema", {})
            if schema.get("additionalProperties") is not False:
                continue
            url = path.replace("{queue}", "jobs").replace("{id}", "m")
            response = await api.request(method, url, json={"unknown_field": 1})
            assert response.status == 400, (method, path)
            assert (await response.json())["field"] == "unknown_field"
            checked += 1
    assert checked == 7
