"""``dynoq workflow-sweeper``: the safety net under the deciders.

Timers need no sweeper: every deadline is the due time of the workflow's decider-queue entry.
What a crash can leave behind is repaired here, a batch of running workflows per interval, round
robin: a running workflow without a decider entry gets one; a SCHEDULED task whose queue message
is missing gets it back; a running workflow with no unfinished task is decided again. Several
sweepers may run; repairs are made under the workflow's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from prometheus_client import CollectorRegistry, Counter

from dynoq.errors import DynoqError
from dynoq.runtime.serving import workflow_service
from dynoq.runtime.settings import WorkflowSweeperConfig
from dynoq.services.workflow_metrics import WorkflowMetrics
from dynoq.workflow.engine import REPAIR_GRACE_MS, WorkflowEngine
from dynoq.workflow.model import WorkflowStatus

log = logging.getLogger("dynoq.workflow_sweeper")

REPAIR_KINDS = ("decider_entry", "redecide", "task_message")


class WorkflowSweeper:
    def __init__(
        self, engine: WorkflowEngine, batch: int, registry: CollectorRegistry | None = None
    ) -> None:
        self.engine = engine
        self.batch = batch
        self._cursor = 0.0
        registry = registry if registry is not None else CollectorRegistry()
        self.repairs = Counter(
            "dynoq_workflow_repairs",
            "Repairs made by the workflow sweeper, by kind",
            ["kind"],
            registry=registry,
        )
        for kind in REPAIR_KINDS:  # every series exists from the first scrape, at 0
            self.repairs.labels(kind)

    async def sweep_once(self) -> dict[str, int]:
        """Checks the next batch of running workflows; the repairs made, by kind."""
        # a workflow younger than the repair grace cannot need a repair yet: skip the young
        youngest = time.time() * 1000 - REPAIR_GRACE_MS
        rows = await self.engine.store.ids_by_status(
            WorkflowStatus.RUNNING, self.batch, self._cursor, youngest
        )
        self._cursor = rows[-1][1] + 1 if len(rows) == self.batch else 0.0
        made: dict[str, int] = {}
        for workflow_id, _ in rows:
            for kind in await self.engine.repair(workflow_id):
                made[kind] = made.get(kind, 0) + 1
                self.repairs.labels(kind).inc()
        return made


async def run(
    config: WorkflowSweeperConfig,
    *,
    registry: CollectorRegistry | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    stop = stop or asyncio.Event()
    async with workflow_service(
        config.redis_url, config.namespace, config.metrics_port, registry
    ) as (engine, metrics):
        engine.observe(WorkflowMetrics(metrics))
        sweeper = WorkflowSweeper(engine, config.batch, metrics)
        log.info("dynoq workflow-sweeper checking namespace %r", config.namespace)
        while not stop.is_set():
            try:
                made = await sweeper.sweep_once()
            except DynoqError as exc:
                log.warning("workflow sweep failed: %s", exc)
            else:
                if made:
                    log.info("repaired %s", made)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), config.interval)
