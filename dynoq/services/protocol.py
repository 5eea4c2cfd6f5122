"""The API's JSON error document for requests aiohttp cannot parse.

A request line or header over the parser's limit (a 20,000-character URL), a byte that is not
allowed in a URL, a malformed header: aiohttp answers these itself, as plain text, before any
middleware runs. aiohttp offers no hook for that answer, so :class:`JsonErrorRunner` gives each
connection a protocol whose ``handle_error`` answers ``{"error": ..., "message": ...}`` instead
(a test in tests/faults keeps this working across aiohttp upgrades).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from aiohttp import web

log = logging.getLogger("dynoq.server")


class JsonErrorProtocol(web.RequestHandler):
    __slots__ = ()

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            log.error("error handling a request", exc_info=exc)
            code, text = "internal", "internal error (see the server log)"
        else:
            # The parser's message quotes the start of the offending line: a bounded excerpt.
            code = "bad_request"
            text = " ".join((message or HTTPStatus(status).phrase).split())[:300]
            log.warning("refused a request that cannot be parsed: %s", text)
        if request.writer.output_size > 0:
            raise ConnectionError("a response was sent already, the error cannot follow it")
        response = web.json_response({"error": code, "message": text}, status=status)
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        protocol = super().__call__()
        protocol.__class__ = JsonErrorProtocol  # same slots: only handle_error differs
        return protocol


class JsonErrorRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections answer unparseable requests with
    the JSON error document."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server
