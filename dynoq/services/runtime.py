"""Running a service: the event loop (uvloop when installed), SIGTERM/SIGINT, the Redis URL."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from dynoq.services.config import EMBEDDED_URL

log = logging.getLogger("dynoq")

EMBEDDED_WARNING = (
    "WARNING: no Redis URL given (--redis-url or DYNOQ_REDIS_URL): running on a private, "
    "embedded redis-server. NOTHING IS PERSISTED and no other process can see these queues."
)

Service = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def warn_if_embedded(url: str) -> None:
    """Says loudly, on stderr and in the log, that an embedded Redis keeps nothing."""
    if url.lower().startswith(EMBEDDED_URL):
        banner = "!" * 78
        print(f"{banner}\n{EMBEDDED_WARNING}\n{banner}", file=sys.stderr, flush=True)
        log.warning(EMBEDDED_WARNING)


async def _until_signalled(service: Service) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await service(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def serve(service: Service) -> None:
    """Runs ``service(stop)`` until it returns; SIGTERM or SIGINT sets ``stop``."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(_until_signalled(service))
    else:
        uvloop.run(_until_signalled(service))
