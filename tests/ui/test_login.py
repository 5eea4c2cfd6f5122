"""With ``--token``, the UI asks for a token once, keeps it in an HttpOnly SameSite=Strict
cookie, and refuses state changes that do not come from its own forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from dynoq.runtime.settings import ServerConfig
from tests.ui.conftest import LAPTOP, TOKEN, Stack, Watched, free_port, start_server


@pytest.fixture(scope="module")
def guarded(stack: Stack) -> Iterator[str]:
    """A second server on the same Redis and namespace, with a token."""
    port = free_port()
    config = ServerConfig(
        redis_url=stack.redis_url, namespace=stack.namespace, port=port, tokens=(TOKEN,)
    )
    stop, serving = start_server(stack.loop, config)
    yield f"http://127.0.0.1:{port}"
    stack.loop.loop.call_soon_threadsafe(stop.set)
    serving.result(10)


def test_login_once_then_the_cookie_carries_the_token(browser: Any, guarded: str) -> None:
    context = browser.new_context(viewport=LAPTOP)
    page = Watched(context.new_page(), guarded)
    p = page.page
    p.goto(guarded + "/ui/queues/emails?state=dead&offset=0")
    assert "/ui/login" in p.url
    p.get_by_label("Token").fill("wrong")
    p.get_by_role("button", name="Log in").click()
    expect(p.get_by_role("alert")).to_have_text("That token is not accepted.")
    page.problems.clear()  # the refused login answers 401, as it should
    p.get_by_label("Token").fill(TOKEN)
    p.get_by_role("button", name="Log in").click()
    expect(p.locator("h1")).to_contain_text("emails")  # back where it was going
    assert p.url.endswith("/ui/queues/emails?state=dead&offset=0")
    [cookie] = [c for c in context.cookies() if c["name"] == "dynoq_ui_token"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/ui")
    p.goto(guarded + "/ui/workflows")  # no second login
    expect(p.locator("h1")).to_have_text("Workflows")
    # the API itself still wants the bearer token, cookie or not
    assert context.request.get(guarded + "/v1/queues").status == 401
    context.close()
    assert page.problems == []


def test_a_form_from_elsewhere_changes_nothing(browser: Any, guarded: str, stack: Stack) -> None:
    context = browser.new_context()
    # a login posted from elsewhere (no CSRF cookie) does not log this browser in
    assert context.request.post(guarded + "/ui/login", form={"token": TOKEN}).status == 403
    login = context.new_page()
    login.goto(guarded + "/ui/login")
    login.get_by_label("Token").fill(TOKEN)
    login.get_by_role("button", name="Log in").click()
    workflow_id = stack.seeded.paused
    action = f"{guarded}/ui/workflows/{workflow_id}/action"
    forged = context.request.post(action, form={"action": "terminate"}, max_redirects=0)
    assert forged.status == 403
    wrong = context.request.post(
        action, form={"action": "terminate", "csrf": "guessed"}, max_redirects=0
    )
    assert wrong.status == 403
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "dynoq_ui_csrf")
    other_site = context.request.post(
        action,
        form={"action": "terminate", "csrf": csrf},
        headers={"Origin": "http://evil.example"},
        max_redirects=0,
    )
    assert other_site.status == 403
    assert stack.call(stack.engine.get_workflow(workflow_id)).status.value == "PAUSED"
    context.close()
