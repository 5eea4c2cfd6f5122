"""The orchestrator: Conductor's workflow language (:mod:`.definitions`, :mod:`.expressions`,
:mod:`.javascript`), the pure decider (:mod:`.decide`, :mod:`.tasks`, :mod:`.operations`,
:mod:`.structure`, sharing :mod:`.effects`), and the Redis side: :mod:`.store`, :mod:`.queues`, and
the parts Conductor keeps apart (definitions in :mod:`.metadata`, reads in :mod:`.executions`, the
:mod:`.executor`, the worker-facing :mod:`.worker_api`) behind one facade, :mod:`.engine`; HTTP
tasks in :mod:`.system_tasks`.

Layer 2, beside :mod:`dynoq.runtime`. May import the Redis layer and the core."""

from __future__ import annotations

import importlib

MISSING_EXTRA = "workflows need the workflow extra: pip install 'dynoq[workflow]'"


def installed() -> bool:
    """Whether the workflow extra (JavaScript through mini-racer's V8) can be imported."""
    try:
        importlib.import_module("py_mini_racer")
    except ImportError:
        return False
    return True
