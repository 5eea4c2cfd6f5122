"""A model-based test: Hypothesis drives random sequences of queue operations, with a
ManualClock, against a plain-Python model of README "What a queue promises", and checks every
answer and, after every step, every message's state. A failure shrinks to a minimal sequence.

The model is the contract read literally: priority then first-ready-first-out (a delayed message
or an expired lease that came due before a later push is served before it; ties in the same
millisecond by id, as Redis orders equal scores), leases that only end when a pop, a sweep or
a push notices them (so a late ack with the current receipt still counts until then), receipts,
dead letters after max_deliveries, replace on push, ensure, and the counts of stats()."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from dynoq import Message, MessageState, Queue
from dynoq.testing import ManualClock

IDS = st.sampled_from(["a", "b", "c", "d", "e"])
PRIORITIES = st.sampled_from([0, 1, 7])
DELAYS = st.sampled_from([0.0, 0.0, 0.5, 2.0])
UNACK_MS = 1000


@dataclass
class Entry:
    priority: int
    payload: Any
    state: str  # ready | delayed | in_flight | dead
    attempts: int = 0
    receipt: str = ""
    at_ms: int = 0  # delayed: due; in flight: lease deadline; dead: when
    seq: int = 0  # ready: arrival order
    old_receipts: list[str] = field(default_factory=list)


class QueueModel(RuleBasedStateMachine):
    redis_url = ""
    max_deliveries = 0

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(start_ms=1_800_000_000_000)
        self.queue = Queue.from_url(
            self.redis_url,
            "model",
            namespace="m" + uuid.uuid4().hex[:10],
            unack_timeout=UNACK_MS / 1000,
            max_deliveries=self.max_deliveries,
            clock=self.clock,
        )
        self.entries: dict[str, Entry] = {}
        self.seq = itertools.count()
        self.payloads = itertools.count()

    def teardown(self) -> None:
        self.queue.clear()
        self.queue.close()

    # -- the model ---------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.clock.now_ms()

    def enqueue(self, entry: Entry, delay_ms: int) -> None:
        entry.receipt = ""
        if delay_ms > 0:
            entry.state, entry.at_ms = "delayed", self.now + delay_ms
        else:
            entry.state, entry.seq = "ready", next(self.seq)

    def move(self, max_deliveries: int) -> tuple[int, int]:
        """What every script does first: due delayed messages and (unless ``max_deliveries``
        is -1) expired leases to ready, or expired leases to the dead letters, merged by the
        moment each became ready."""
        now = self.now

        def order(kind: str) -> list[tuple[int, int, str, str]]:
            return sorted(
                (e.at_ms, e.priority, i, kind)
                for i, e in self.entries.items()
                if e.state == kind and e.at_ms <= now
            )

        due = order("delayed")
        # pushes and the like are not told max_deliveries: they leave expired leases alone
        expired = order("in_flight") if max_deliveries >= 0 else []
        merged = []
        while due or expired:
            if not expired or (due and due[0][0] <= expired[0][0]):
                merged.append(due.pop(0))
            else:
                merged.append(expired.pop(0))
        requeued = dead = 0
        for _, _, message_id, kind in merged:
            entry = self.entries[message_id]
            if kind == "in_flight" and 0 < max_deliveries <= entry.attempts:
                entry.state, entry.receipt, entry.at_ms = "dead", "", now
                dead += 1
            else:
                requeued += kind == "in_flight"
                entry.receipt = ""
                entry.state, entry.seq = "ready", next(self.seq)
        return requeued, dead

    def ready_order(self) -> list[str]:
        ready = [(e.priority, e.seq, i) for i, e in self.entries.items() if e.state == "ready"]
        return [i for _, _, i in sorted(ready)]

    # -- rules -------------------------------------------------------------------------------
    @rule(batch=st.lists(st.tuples(IDS, PRIORITIES, DELAYS), min_size=1, max_size=3))
    def push(self, batch: list[tuple[str, int, float]]) -> None:
        messages = [Message(i, next(self.payloads), p, d) for i, p, d in batch]
        assert self.queue.push(messages) == [m.id for m in messages]
        self.move(-1)
        last = {m.id: n for n, m in enumerate(messages)}
        for n, message in enumerate(messages):
            if last[message.id] == n:
                entry = Entry(message.priority, message.payload, "ready")
                self.entries[message.id] = entry
                self.enqueue(entry, round(message.delay * 1000))

    @rule(message_id=IDS, priority=PRIORITIES, delay=DELAYS)
    def ensure(self, message_id: str, priority: int, delay: float) -> None:
        payload = next(self.payloads)
        pushed = self.queue.ensure(Message(message_id, payload, priority, delay))
        assert pushed == (message_id not in self.entries)
        if pushed:
            self.move(-1)
            entry = Entry(priority, payload, "ready")
            self.entries[message_id] = entry
            self.enqueue(entry, round(delay * 1000))

    @rule(count=st.integers(1, 4))
    def pop(self, count: int) -> None:
        got = self.queue.pop(count=count)
        self.move(self.max_deliveries)
        expected = self.ready_order()[:count]
        assert [m.id for m in got] == expected
        for message in got:
            entry = self.entries[message.id]
            assert (message.payload, message.priority) == (entry.payload, entry.priority)
            assert message.attempts == entry.attempts + 1
            assert message.receipt and message.receipt not in entry.old_receipts
            entry.attempts += 1
            entry.state, entry.at_ms = "in_flight", self.now + UNACK_MS
            entry.receipt = message.receipt
            entry.old_receipts.append(message.receipt)

    def pick_receipt(self, entry: Entry | None, which: str) -> str | None:
        if which == "none" or entry is None:
            return None
        if which == "stale":
            stale = [r for r in entry.old_receipts if r != entry.receipt]
            return stale[-1] if stale else "0-stale"
        return entry.receipt or "0-none"

    @rule(message_id=IDS, which=st.sampled_from(["current", "stale", "none"]))
    def ack(self, message_id: str, which: str) -> None:
        entry = self.entries.get(message_id)
        receipt = self.pick_receipt(entry, which)
        acked = self.queue.ack(message_id, receipt=receipt)
        expected = (
            entry is not None
            and entry.receipt != ""
            and (receipt is None or receipt == entry.receipt)
        )
        assert acked == expected
        if expected:
            del self.entries[message_id]

    @rule(message_id=IDS, delay=DELAYS, which=st.sampled_from(["current", "stale", "none"]))
    def nack(self, message_id: str, delay: float, which: str) -> None:
        entry = self.entries.get(message_id)
        receipt = self.pick_receipt(entry, which)
        nacked = self.queue.nack(message_id, delay=delay, receipt=receipt)
        expected = (
            entry is not None
            and entry.state == "in_flight"
            and (receipt is None or receipt == entry.receipt)
        )
        assert nacked == expected
        if not expected:
            return
        assert entry is not None
        entry.state = "nacked"  # out of in_flight before the move
        if 0 < self.max_deliveries <= entry.attempts:
            entry.state, entry.receipt, entry.at_ms = "dead", "", self.now
            return
        self.move(self.max_deliveries)
        self.enqueue(entry, round(delay * 1000))

    @rule(message_id=IDS, delay=DELAYS)
    def set_delay(self, message_id: str, delay: float) -> None:
        entry = self.entries.get(message_id)
        changed = self.queue.set_delay(message_id, delay)
        expected = entry is not None and entry.state in ("ready", "delayed")
        assert changed == expected
        if not expected or (entry.state == "ready" and delay == 0):
            return
        assert entry is not None
        entry.state = "moving"
        self.move(-1)
        self.enqueue(entry, round(delay * 1000))

    @rule(message_id=IDS, timeout=st.sampled_from([0.0, 0.5, 3.0]))
    def set_unack_timeout(self, message_id: str, timeout: float) -> None:
        entry = self.entries.get(message_id)
        changed = self.queue.set_unack_timeout(message_id, timeout)
        expected = entry is not None and entry.state == "in_flight"
        assert changed == expected
        if expected:
            assert entry is not None
            entry.at_ms = self.now + round(timeout * 1000)

    @rule(message_id=IDS)
    def remove(self, message_id: str) -> None:
        assert self.queue.remove(message_id) == (message_id in self.entries)
        self.entries.pop(message_id, None)

    @rule()
    def sweep(self) -> None:
        requeued, dead = self.move(self.max_deliveries)
        assert self.queue.sweep() == requeued + dead

    @precondition(lambda self: any(e.state == "dead" for e in self.entries.values()))
    @rule()
    def requeue_dead(self) -> None:
        requeued = self.queue.requeue_dead()
        self.move(-1)
        dead = sorted((e.at_ms, i) for i, e in self.entries.items() if e.state == "dead")
        assert requeued == len(dead)
        for _, message_id in dead:
            entry = self.entries[message_id]
            entry.attempts = 0
            entry.state, entry.seq = "ready", next(self.seq)

    @rule(seconds=st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.5]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # -- after every step --------------------------------------------------------------------
    @invariant()
    def every_message_is_where_the_model_says(self) -> None:
        for message_id in ["a", "b", "c", "d", "e"]:
            entry = self.entries.get(message_id)
            got = self.queue.get(message_id)
            if entry is None:
                assert got is None, message_id
                continue
            assert got is not None, message_id
            state = entry.state
            if state == "delayed" and entry.at_ms <= self.now:
                state = "ready"  # due: it moves on the next pop, and counts as ready
            assert got.state == MessageState(state), (message_id, got.state, state)
            assert (got.payload, got.priority, got.attempts) == (
                entry.payload,
                entry.priority,
                entry.attempts,
            ), message_id

    @invariant()
    def the_counts_add_up(self) -> None:
        stats = self.queue.stats()
        states = [e.state for e in self.entries.values()]
        due = sum(1 for e in self.entries.values() if e.state == "delayed" and e.at_ms <= self.now)
        assert (stats.ready, stats.delayed, stats.in_flight, stats.dead) == (
            states.count("ready") + due,
            states.count("delayed") - due,
            states.count("in_flight"),
            states.count("dead"),
        )


MODEL_SETTINGS = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.timeout(600)  # a failure's shrinking takes minutes; a pass, seconds
@pytest.mark.parametrize("max_deliveries", [0, 2])
def test_queue_contract_standalone(standalone_url: str, max_deliveries: int) -> None:
    model = type(
        "StandaloneModel",
        (QueueModel,),
        {"redis_url": standalone_url, "max_deliveries": max_deliveries},
    )
    run_state_machine_as_test(model, settings=MODEL_SETTINGS)


@pytest.mark.timeout(600)
def test_queue_contract_cluster(redis_cluster: Any) -> None:
    model = type("ClusterModel", (QueueModel,), {"redis_url": redis_cluster.url})
    run_state_machine_as_test(model, settings=settings(MODEL_SETTINGS, max_examples=20))


@pytest.mark.parametrize("operation", ["push", "ensure", "set_delay", "requeue_dead"])
def test_an_exhausted_lease_is_dead_lettered_even_when_a_push_notices_it_first(
    standalone_url: str, namespace: str, operation: str
) -> None:
    """What the model test found: push, ensure, set_delay and requeue_dead moved expired leases
    back to ready without knowing max_deliveries, so a message could be delivered
    max_deliveries + 1 times."""
    clock = ManualClock(start_ms=1_800_000_000_000)
    with Queue.from_url(
        standalone_url, "q", namespace=namespace, unack_timeout=1, max_deliveries=2, clock=clock
    ) as queue:
        queue.push([Message("a", 1), Message("other", 2, delay=60)])
        for attempt in (1, 2):
            [message] = queue.pop()
            assert (message.id, message.attempts) == ("a", attempt)
            clock.advance(2)
        if operation == "push":
            queue.push(Message("b", 3))
        elif operation == "ensure":
            assert queue.ensure(Message("b", 3))
        elif operation == "set_delay":
            assert queue.set_delay("other", 0)
        else:
            assert queue.requeue_dead() == 0
        assert all(m.id != "a" for m in queue.pop(count=5))
        assert [m.id for m in queue.dead_letters()] == ["a"]
