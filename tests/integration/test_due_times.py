"""A delayed message is never handed out before the moment asked for, on the server's clock:
push, ensure, nack and set_delay with a delay of a fraction of a millisecond more than a whole
one (5.4 ms), each followed by pops as fast as the client can send them. The asked-for moment
is taken before the call is sent, and a pop's return after it, so a message popped early is
caught whenever the pop returns before that moment (the server's clock is this machine's)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dynoq import Message
from dynoq.testing import wait_until

DELAY = 0.0054
ROUNDS = 10


def popped_at(q: Any) -> tuple[Message, float]:
    """Pops until a message comes; it and the time the pop that got it returned."""

    def pop() -> tuple[Message, float] | None:
        got = q.pop()
        return (got[0], time.time()) if got else None

    result: tuple[Message, float] = wait_until(pop, timeout=10, interval=0)
    return result


def asked() -> float:
    """The moment a delay of DELAY asked for, taken right before the call is sent."""
    return time.time() + DELAY


def assert_never_early(q: Any, delay_one: Callable[[str], float]) -> None:
    """``delay_one(id)`` delays a message by DELAY and returns the moment it asked for."""
    for i in range(ROUNDS):
        due = delay_one(f"m{i}")
        message, returned = popped_at(q)
        assert message.id == f"m{i}"
        assert returned >= due, f"handed out {(due - returned) * 1000:.2f} ms early"
        q.ack(message)


def test_a_pushed_message_is_never_due_early(make_queue):
    q = make_queue()

    def push(mid: str) -> float:
        due = asked()
        q.push(Message(mid, 1, delay=DELAY))
        return due

    assert_never_early(q, push)


def test_an_ensured_message_is_never_due_early(make_queue):
    q = make_queue()

    def ensure(mid: str) -> float:
        due = asked()
        assert q.ensure(Message(mid, 1, delay=DELAY)) is True
        return due

    assert_never_early(q, ensure)


def test_a_nacked_message_is_never_due_early(make_queue):
    q = make_queue()

    def nack(mid: str) -> float:
        q.push(Message(mid, 1))
        [message] = q.pop()
        due = asked()
        assert q.nack(message, delay=DELAY) is True
        return due

    assert_never_early(q, nack)


def test_a_rescheduled_message_is_never_due_early(make_queue):
    q = make_queue()

    def reschedule(mid: str) -> float:
        q.push(Message(mid, 1, delay=3600))
        due = asked()
        assert q.set_delay(mid, DELAY) is True
        return due

    assert_never_early(q, reschedule)
