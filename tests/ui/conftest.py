"""The UI's browser tests: one ``dynoq server`` (with a decider) on a background event loop,
seeded once per session, and one headless Debian ``chromium`` driven by Playwright for the whole
package (never a browser download: ``executable_path`` is the system's). Every page a test opens
records console errors, failed requests and error responses; the test fails on any of them."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dynoq import AsyncQueue
from dynoq.runtime.settings import ServerConfig
from dynoq.services import server
from dynoq.services.decider import Decider
from dynoq.testing import RedisServer, wait_until
from dynoq.workflow.engine import WorkflowEngine
from tests.ui.seed import Seeded, seed_queue, seed_workflows

CHROMIUM = os.environ.get("DYNOQ_CHROMIUM", "/usr/bin/chromium")
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}
TOKEN = "ui-test-token"

playwright_api = pytest.importorskip("playwright.sync_api")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Loop:
    """An event loop on a thread: the server lives there, tests call into it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@dataclass
class Stack:
    url: str
    redis_url: str
    namespace: str
    loop: Loop
    engine: WorkflowEngine
    queue: AsyncQueue
    seeded: Seeded

    def call(self, coro: Any) -> Any:
        return self.loop.run(coro)


def start_server(loop: Loop, config: ServerConfig) -> tuple[asyncio.Event, Future[None]]:
    """Runs ``dynoq server`` on the loop; set the event, then wait for the future, to stop it."""
    stop: asyncio.Event = loop.run(_make_event())
    running = asyncio.run_coroutine_threadsafe(server.run(config, stop=stop), loop.loop)
    wait_until(lambda: _listening(config.port), timeout=20, message="dynoq server did not start")
    return stop, running


async def _make_event() -> asyncio.Event:
    return asyncio.Event()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def stack(redis_server: RedisServer) -> Iterator[Stack]:
    namespace = "ui" + uuid.uuid4().hex[:8]
    loop = Loop()
    port = free_port()
    config = ServerConfig(redis_url=redis_server.url, namespace=namespace, port=port)
    stop, serving = start_server(loop, config)

    jobs: list[asyncio.Task[None]] = []

    async def setup() -> tuple[WorkflowEngine, AsyncQueue, asyncio.Event]:
        engine = WorkflowEngine.from_url(redis_server.url, namespace)
        decider_stop = asyncio.Event()
        jobs.append(asyncio.create_task(Decider(engine, 8).run(decider_stop)))
        queue = AsyncQueue.from_url(
            redis_server.url, "emails", namespace=namespace, max_deliveries=1, unack_timeout=3600
        )
        return engine, queue, decider_stop

    engine, queue, decider_stop = loop.run(setup())
    running, paused, completed, failed = loop.run(seed_workflows(engine))
    loop.run(seed_queue(queue))
    seeded = Seeded(running, paused, completed, failed, "emails")
    stack = Stack(
        f"http://127.0.0.1:{port}", redis_server.url, namespace, loop, engine, queue, seeded
    )
    yield stack

    async def teardown() -> None:
        decider_stop.set()
        stop.set()
        await asyncio.gather(*jobs)
        await queue.aclose()
        await engine.aclose()

    loop.run(teardown())
    serving.result(10)
    loop.close()


# One browser for all of tests/ui, closed when the run leaves the package: while Playwright's
# sync API is active it holds an event loop on the main thread, which the asyncio tests of
# other packages need.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


class Watched:
    """A page whose console errors, failed requests and error responses are collected."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"failed: {r.method} {r.url} {r.failure}"),
        )
        page.on("response", self._response)
        page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.request.method} {response.url}")

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, (path, response and response.status)
        return self.page


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Watched]:
    context = browser.new_context(viewport=LAPTOP)
    watched = Watched(context.new_page(), stack.url)
    yield watched
    context.close()
    assert watched.problems == []


SHOTS = os.environ.get("DYNOQ_UI_SCREENSHOTS", "")


def screenshot(page: Any, name: str) -> None:
    """With DYNOQ_UI_SCREENSHOTS=dir set, saves the page at laptop and phone widths."""
    if not SHOTS:
        return
    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(out / f"{name}-phone.png"), full_page=False)
    page.set_viewport_size(size)
