"""Worker functions for the Conductor SDK tests, importable by the SDK's worker processes
(they are spawned, so the functions must live in a module, not in a test).

No ``from __future__ import annotations`` here: the SDK maps input fields to parameters by
their annotations, and needs them as types, not strings."""

import os

from conductor.client.context.task_context import TaskInProgress
from conductor.client.http.models.task import Task
from conductor.client.worker.exception import NonRetryableException


def greet(who: str) -> dict[str, str]:
    return {"greeting": f"hello {who}"}


def double(n: int) -> dict[str, int]:
    return {"n": n * 2}


def shout(text: str) -> dict[str, str]:
    return {"text": text.upper() + "!"}


def call_me_back(task: Task) -> dict[str, int] | TaskInProgress:
    """IN_PROGRESS with callbackAfterSeconds=1 on the first poll, COMPLETED on the next."""
    if task.poll_count < 2:
        return TaskInProgress(callback_after_seconds=1, output={"polls": task.poll_count})
    return {"polls": task.poll_count}


def flaky(task: Task) -> dict[str, int]:
    """Raises on the first two attempts (retryCount 0 and 1), succeeds on the third."""
    if task.retry_count < 2:
        raise RuntimeError(f"flaky attempt {task.retry_count}")
    return {"attempts": task.retry_count + 1}


def broken(task: Task) -> dict[str, int]:
    raise RuntimeError("always broken")


def fatal(task: Task) -> dict[str, int]:
    raise NonRetryableException("no point in retrying")


def gated(gate: str) -> dict[str, bool]:
    """Fails for good until the file ``gate`` exists."""
    if not os.path.exists(gate):
        raise NonRetryableException(f"gate {gate} is closed")
    return {"passed": True}
