"""The worker ``tests/deploy/test_prometheus.py`` runs as ``dynoq worker``: messages whose
payload says ``fail`` raise, and with one delivery allowed they go to the dead letters."""

from __future__ import annotations

from typing import Any

import dynoq

worker = dynoq.Worker()


@worker.handler("jobs", unack_timeout=5, max_deliveries=1, backoff=dynoq.Constant(0))
async def handle(message: Any) -> None:
    if isinstance(message.payload, dict) and message.payload.get("fail"):
        raise RuntimeError("told to fail")
