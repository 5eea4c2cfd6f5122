"""A delayed message is never handed out before the moment asked for, and is due less than a
millisecond after it, on the server's clock: push (one and a batch), ensure, nack and set_delay
with a delay of a fraction of a millisecond more than a whole one (5.4 ms), each followed by pops
as fast as the client can send them. The call's send and return times bound when Redis saw it
(the server's clock is this machine's), so a pop that returns before the send time + delay
caught a message handed out early, and a due time past the return time + delay + 1 ms one made
later than needed."""

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


def delayed_by(call: Callable[[], Any]) -> tuple[float, float]:
    """Runs ``call``, which delays a message by DELAY; the earliest and latest moment asked for."""
    sent = time.time()
    assert call() is not False
    return sent + DELAY, time.time() + DELAY


def assert_due_on_time(q: Any, delay_one: Callable[[str], tuple[float, float]]) -> None:
    for i in range(ROUNDS):
        earliest, latest = delay_one(f"m{i}")
        message, returned = popped_at(q)
        assert message.id == f"m{i}"
        assert returned >= earliest, f"handed out {(earliest - returned) * 1000:.2f} ms early"
        assert message.due_at is not None and message.due_at < latest + 0.001
        q.ack(message)


def test_a_pushed_message_is_due_on_time(make_queue):
    q = make_queue()
    assert_due_on_time(q, lambda mid: delayed_by(lambda: q.push(Message(mid, 1, delay=DELAY))))


def test_a_message_pushed_in_a_batch_is_due_on_time(make_queue):
    q = make_queue()

    def push(mid: str) -> tuple[float, float]:
        batch = [Message(mid, 1, delay=DELAY), Message(f"{mid}-later", 2, delay=3600)]
        return delayed_by(lambda: q.push(batch))

    assert_due_on_time(q, push)


def test_an_ensured_message_is_due_on_time(make_queue):
    q = make_queue()
    assert_due_on_time(q, lambda mid: delayed_by(lambda: q.ensure(Message(mid, 1, delay=DELAY))))


def test_a_nacked_message_is_due_on_time(make_queue):
    q = make_queue()

    def nack(mid: str) -> tuple[float, float]:
        q.push(Message(mid, 1))
        [message] = q.pop()
        return delayed_by(lambda: q.nack(message, delay=DELAY))

    assert_due_on_time(q, nack)


def test_a_rescheduled_message_is_due_on_time(make_queue):
    q = make_queue()

    def reschedule(mid: str) -> tuple[float, float]:
        q.push(Message(mid, 1, delay=3600))
        return delayed_by(lambda: q.set_delay(mid, DELAY))

    assert_due_on_time(q, reschedule)
