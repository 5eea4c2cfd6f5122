"""``dynoq demo --serve`` ends by printing the web UI's URL and serves it until Ctrl-C."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest
from playwright.sync_api import expect

from dynoq.testing import RedisServer


@pytest.mark.processes
def test_demo_ends_serving_the_ui_until_interrupted(
    browser: Any, redis_server: RedisServer
) -> None:
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dynoq",
            "demo",
            "--messages",
            "100",
            "--serve",
            "--redis-url",
            redis_server.url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in demo.stdout], daemon=True).start()
    try:
        url = ""
        while not url:
            line = lines.get(timeout=60)
            found = re.search(r"the web UI: (http://127\.0\.0\.1:\d+/ui/)", line)
            url = found.group(1) if found else ""
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#workflow-types")).to_contain_text("order")
        page.get_by_role("link", name="order").first.click()
        expect(page.locator("#diagram svg")).to_be_attached()
        context.close()
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=20) == 0, demo.stderr.read() if demo.stderr else ""
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
