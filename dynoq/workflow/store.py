"""Where workflows live in Redis.

Per workflow, under one hash tag so every script runs on Redis Cluster:
``<ns>:wf:{<id>}:state`` (msgpack document), ``:inbox`` (events not yet applied), ``:lock`` and
``:log:<task id>`` (task logs). Definitions: ``<ns>:wfdef:<name>`` (hash version -> JSON) with
``<ns>:wfdefs`` (names), ``<ns>:taskdefs`` (hash name -> JSON). Search: sorted sets by start time
``<ns>:wfidx:all``, ``:type:<name>``, ``:status:<status>``, ``:type:<name>:status:<status>``,
``:corr:<correlation id>``, and ``<ns>:wfsummary`` (hash id -> msgpack summary).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgpack

from dynoq.backend.connect import AsyncClient
from dynoq.backend.runner import AsyncScripts, translated_errors
from dynoq.core.ops import ScriptCall
from dynoq.workflow.model import SearchFilter, Workflow, WorkflowStatus

SUMMARY_FIELDS = (
    "workflowType", "version", "workflowId", "correlationId", "startTime", "updateTime",
    "endTime", "status", "input", "output", "reasonForIncompletion", "priority",
    "failedReferenceTaskNames", "failedTaskNames", "createdBy", "parentWorkflowId",
)  # fmt: skip
SEARCH_SCAN_LIMIT = 10_000  # summaries read at most per search


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


@dataclass(frozen=True, slots=True)
class WorkflowKeys:
    state: str
    inbox: str
    lock: str
    tasks: str
    tag: str

    def log(self, task_id: str) -> str:
        return f"{self.tag}:log:{task_id}"


class WorkflowStore:
    def __init__(self, client: AsyncClient, namespace: str) -> None:
        self.client: Any = client
        self.ns = namespace
        self._scripts = AsyncScripts(client)

    # -- keys -------------------------------------------------------------------------------
    def keys(self, workflow_id: str) -> WorkflowKeys:
        tag = f"{self.ns}:wf:{{{workflow_id}}}"
        return WorkflowKeys(f"{tag}:state", f"{tag}:inbox", f"{tag}:lock", f"{tag}:tasks", tag)

    def _index(self, *parts: str) -> str:
        return ":".join((self.ns, "wfidx", *parts))

    def index_key(self, *parts: str) -> str:
        """A search index (see the module docstring): ``index_key("type", name)``."""
        return self._index(*parts)

    @property
    def summaries_key(self) -> str:
        return f"{self.ns}:wfsummary"

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Runs ``lua/workflow/<name>.lua`` through the queue's runner (EVALSHA, EVAL on
        NOSCRIPT), so a SCRIPT FLUSH never fails a call."""
        return await self._scripts.run(ScriptCall(f"workflow/{name}", tuple(keys), tuple(args)))

    # -- one workflow -----------------------------------------------------------------------
    async def create(self, workflow: Workflow) -> bool:
        k = self.keys(workflow.workflow_id)
        args = [pack(workflow.to_stored()), *summaries(workflow, None)]
        created = await self._script("create", [k.state, k.tasks], args)
        if created:
            await self.index(workflow, None, new=True)
        return bool(created)

    async def read(self, workflow_id: str) -> tuple[Workflow | None, list[dict[str, Any]]]:
        k = self.keys(workflow_id)
        reply = await self._script("read", [k.state, k.inbox], [])
        return _decoded(reply)

    async def acquire(
        self, workflow_id: str, token: str, lease_ms: int
    ) -> tuple[Workflow | None, list[dict[str, Any]]] | None:
        k = self.keys(workflow_id)
        reply = await self._script("acquire", [k.state, k.inbox, k.lock], [token, lease_ms])
        if not reply[0]:
            return None
        return _decoded(reply[1:])

    async def save(
        self,
        workflow: Workflow,
        workflow_id: str,
        token: str,
        applied: int,
        *,
        release: bool = False,
        before: dict[str, str] | None = None,
        dropped: list[str] | None = None,
    ) -> int | None:
        """Saves under the lock (and releases it with ``release``): None when the lock was
        lost; else the number of events still pending. ``before`` (from :func:`statuses`)
        limits the task summaries written to those that changed; the summaries and logs of
        ``dropped`` tasks (no longer in the workflow) are deleted."""
        k = self.keys(workflow_id)
        args = [token, pack(workflow.to_stored()), applied, "1" if release else "0"]
        args.extend(summaries(workflow, before))
        for task_id in dropped or ():
            args += [task_id, ""]
        reply = await self._script("save", [k.state, k.inbox, k.lock, k.tasks], args)
        if not reply[0]:
            return None
        if dropped:
            with translated_errors():
                await self.client.delete(*(k.log(task_id) for task_id in dropped))
        return int(reply[1])

    async def release(self, workflow_id: str, token: str) -> int:
        """Releases the lock; the number of events that arrived meanwhile."""
        k = self.keys(workflow_id)
        return int(await self._script("release", [k.lock, k.inbox], [token]))

    async def pending_events(self, workflow_id: str) -> int:
        with translated_errors():
            return int(await self.client.llen(self.keys(workflow_id).inbox))

    async def post_result(
        self, workflow_id: str, task_id: str, event: dict[str, Any]
    ) -> tuple[int, list[str]]:
        """(outcome, [status, task type, task def name]); outcome 0: no workflow, 1: no task,
        2: ended (not posted), 3: posted."""
        k = self.keys(workflow_id)
        reply = await self._script(
            "post_result", [k.state, k.inbox, k.tasks], [task_id, pack(event)]
        )
        summary = reply[1].decode().split("\t") if len(reply) > 1 else []
        return int(reply[0]), summary

    async def claim_task(self, workflow_id: str, task_id: str, event: dict[str, Any]) -> bool:
        k = self.keys(workflow_id)
        return bool(
            await self._script("claim_task", [k.state, k.inbox, k.tasks], [task_id, pack(event)])
        )

    async def post(self, workflow_id: str, event: dict[str, Any]) -> bool:
        k = self.keys(workflow_id)
        return bool(await self._script("post", [k.state, k.inbox], [pack(event)]))

    async def delete(self, workflow: Workflow) -> None:
        k = self.keys(workflow.workflow_id)
        with translated_errors():
            await self.client.delete(
                k.state, k.inbox, k.lock, k.tasks, *(k.log(t.task_id) for t in workflow.tasks)
            )
            await self._unindex(workflow)

    # -- logs -------------------------------------------------------------------------------
    async def add_logs(self, workflow_id: str, task_id: str, entries: list[dict[str, Any]]) -> None:
        if entries:
            with translated_errors():
                await self.client.rpush(
                    self.keys(workflow_id).log(task_id), *(json.dumps(e) for e in entries)
                )

    async def logs(self, workflow_id: str, task_id: str) -> list[dict[str, Any]]:
        with translated_errors():
            raw = await self.client.lrange(self.keys(workflow_id).log(task_id), 0, -1)
        return [json.loads(r) for r in raw]

    # -- indexes ----------------------------------------------------------------------------
    def _index_keys(self, wf: Workflow, status: WorkflowStatus) -> list[str]:
        keys = [
            self._index("all"),
            self._index("type", wf.workflow_name),
            self._index("status", str(status)),
            self._index("type", wf.workflow_name, "status", str(status)),
        ]
        if wf.correlation_id:
            keys.append(self._index("corr", wf.correlation_id))
        return keys

    async def index(
        self, wf: Workflow, previous: WorkflowStatus | None, *, new: bool = False
    ) -> None:
        """Records the workflow's summary; moves it between status indexes when that changed.
        ``new``: just created, so it cannot have been removed meanwhile."""
        score = wf.start_time or wf.create_time
        doc = wf.to_doc(include_tasks=False)
        summary = {name: doc.get(name) for name in SUMMARY_FIELDS}
        with translated_errors():
            pipe = self.client.pipeline(transaction=False)
            if previous is not None and previous is not wf.status:
                pipe.zrem(self._index("status", str(previous)), wf.workflow_id)
                pipe.zrem(
                    self._index("type", wf.workflow_name, "status", str(previous)), wf.workflow_id
                )
            for key in self._index_keys(wf, wf.status):
                pipe.zadd(key, {wf.workflow_id: score})
            pipe.hset(f"{self.ns}:wfsummary", wf.workflow_id, pack(summary))
            await pipe.execute()
            # A removal deletes the state before the indexes, so a write that lands after the
            # removal's index delete finds the state gone here, and takes itself back.
            if not new and not await self.client.exists(self.keys(wf.workflow_id).state):
                await self._unindex(wf)

    async def _unindex(self, wf: Workflow) -> None:
        """Drops the workflow from the indexes of every status (a late write of an older
        status may have landed after the newest one) and its summary."""
        keys = {key for status in WorkflowStatus for key in self._index_keys(wf, status)}
        pipe = self.client.pipeline(transaction=False)
        for key in sorted(keys):
            pipe.zrem(key, wf.workflow_id)
        pipe.hdel(f"{self.ns}:wfsummary", wf.workflow_id)
        await pipe.execute()

    async def count_by_type_and_status(self, pairs: list[tuple[str, WorkflowStatus]]) -> list[int]:
        """How many workflows of each (type, status), from the indexes (no summary is read)."""
        with translated_errors():
            pipe = self.client.pipeline(transaction=False)
            for workflow_type, status in pairs:
                pipe.zcard(self._index("type", workflow_type, "status", str(status)))
            return [int(n) for n in await pipe.execute()]

    async def ids_by_status(
        self, status: WorkflowStatus, count: int, after: float = 0, before: float | None = None
    ) -> list[tuple[str, float]]:
        """Up to count (id, start time) in one status, oldest first, started from ``after``
        (and up to ``before``)."""
        high: float | str = "+inf" if before is None else before
        with translated_errors():
            rows = await self.client.zrangebyscore(
                self._index("status", str(status)),
                after,
                high,
                start=0,
                num=count,
                withscores=True,
            )
        return [(r[0].decode(), float(r[1])) for r in rows]

    async def search(
        self, where: SearchFilter, start: int, size: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total hits, summaries of the page), newest first."""
        key = self._search_index(where)
        high = "+inf" if where.start_time_to is None else where.start_time_to
        low = "-inf" if where.start_time_from is None else where.start_time_from
        if self._index_is_exact(where):  # the index holds exactly the hits: no summary scan
            with translated_errors():
                total = await self.client.zcount(key, low, high)
                ids = await self.client.zrevrangebyscore(key, high, low, start=start, num=size)
                raw = await self.client.hmget(f"{self.ns}:wfsummary", ids) if ids else []
            return int(total), [unpack(data) for data in raw if data is not None]
        hits: list[dict[str, Any]] = []
        total = 0
        offset = 0
        while offset < SEARCH_SCAN_LIMIT:
            with translated_errors():
                ids = await self.client.zrevrangebyscore(key, high, low, start=offset, num=500)
                if not ids:
                    break
                offset += len(ids)
                raw = await self.client.hmget(f"{self.ns}:wfsummary", ids)
            for data in raw:
                if data is None:
                    continue
                summary = unpack(data)
                if _matches(summary, where):
                    if start <= total < start + size:
                        hits.append(summary)
                    total += 1
        return total, hits

    @staticmethod
    def _index_is_exact(where: SearchFilter) -> bool:
        """Whether the index ``_search_index`` picks holds the hits and nothing else."""
        text = where.free_text.strip()
        if (text and text != "*") or where.workflow_ids:
            return False
        types, statuses, corrs = (
            len(where.workflow_types),
            len(where.statuses),
            len(where.correlation_ids),
        )
        if corrs:
            return corrs == 1 and not types and not statuses
        return types <= 1 and statuses <= 1

    def _search_index(self, where: SearchFilter) -> str:
        if len(where.workflow_types) == 1 and len(where.statuses) == 1:
            return self._index("type", where.workflow_types[0], "status", str(where.statuses[0]))
        if len(where.correlation_ids) == 1:
            return self._index("corr", where.correlation_ids[0])
        if len(where.workflow_types) == 1:
            return self._index("type", where.workflow_types[0])
        if len(where.statuses) == 1:
            return self._index("status", str(where.statuses[0]))
        return self._index("all")

    # -- definitions ------------------------------------------------------------------------
    async def put_snapshot(self, key: str, doc: dict[str, Any]) -> None:
        """Stores a definition as workflows run it, once per distinct definition."""
        with translated_errors():
            await self.client.set(f"{self.ns}:wfsnapshot:{key}", json.dumps(doc), nx=True)

    async def snapshot(self, key: str) -> dict[str, Any] | None:
        with translated_errors():
            raw = await self.client.get(f"{self.ns}:wfsnapshot:{key}")
        return json.loads(raw) if raw else None

    async def put_workflow_def(self, name: str, version: int, doc: dict[str, Any]) -> None:
        with translated_errors():
            pipe = self.client.pipeline(transaction=False)
            pipe.hset(f"{self.ns}:wfdef:{name}", str(version), json.dumps(doc))
            pipe.sadd(f"{self.ns}:wfdefs", name)
            await pipe.execute()

    async def workflow_def_exists(self, name: str, version: int) -> bool:
        with translated_errors():
            return bool(await self.client.hexists(f"{self.ns}:wfdef:{name}", str(version)))

    async def workflow_defs(self, name: str) -> dict[int, dict[str, Any]]:
        with translated_errors():
            raw = await self.client.hgetall(f"{self.ns}:wfdef:{name}")
        return {int(v): json.loads(d) for v, d in raw.items()}

    async def workflow_def_names(self) -> list[str]:
        with translated_errors():
            return sorted(n.decode() for n in await self.client.smembers(f"{self.ns}:wfdefs"))

    async def delete_workflow_def(self, name: str, version: int) -> bool:
        with translated_errors():
            removed = await self.client.hdel(f"{self.ns}:wfdef:{name}", str(version))
            if not await self.client.exists(f"{self.ns}:wfdef:{name}"):
                await self.client.srem(f"{self.ns}:wfdefs", name)
        return bool(removed)

    async def put_task_defs(self, docs: Iterable[tuple[str, dict[str, Any]]]) -> None:
        mapping = {name: json.dumps(doc) for name, doc in docs}
        if mapping:
            with translated_errors():
                await self.client.hset(f"{self.ns}:taskdefs", mapping=mapping)

    async def task_defs(self) -> dict[str, dict[str, Any]]:
        with translated_errors():
            raw = await self.client.hgetall(f"{self.ns}:taskdefs")
        return {n.decode(): json.loads(d) for n, d in raw.items()}

    async def delete_task_def(self, name: str) -> bool:
        with translated_errors():
            return bool(await self.client.hdel(f"{self.ns}:taskdefs", name))

    # -- idempotency, poll data, limits -----------------------------------------------------
    async def claim_idempotency_key(self, name: str, key: str, workflow_id: str) -> str | None:
        """None when claimed for ``workflow_id``; else the id of the workflow holding it."""
        k = f"{self.ns}:wfidem:{name}:{key}"
        with translated_errors():
            if await self.client.set(k, workflow_id, nx=True):
                return None
            held = await self.client.get(k)
        return held.decode() if held else None

    async def record_poll(self, task_type: str, worker_id: str, domain: str, now_ms: int) -> None:
        entry = {
            "queueName": task_type,
            "domain": domain or None,
            "workerId": worker_id,
            "lastPollTime": now_ms,
        }
        with translated_errors():
            # one entry per worker and domain: a worker may poll several domains
            field = f"{worker_id or '-'}\t{domain}" if domain else worker_id or "-"
            await self.client.hset(f"{self.ns}:wfpolls:{task_type}", field, json.dumps(entry))

    async def poll_data(self, task_type: str) -> list[dict[str, Any]]:
        with translated_errors():
            raw = await self.client.hgetall(f"{self.ns}:wfpolls:{task_type}")
        return [json.loads(v) for v in raw.values()]

    def _limit_keys(self, task_def: str) -> list[str]:
        tag = f"{self.ns}:wflimit:{{{task_def}}}"
        return [f"{tag}:running", f"{tag}:window"]

    async def claim_slot(
        self, task_def: str, task_id: str, limit: int, rate: int, window_ms: int
    ) -> int:
        """0 when the task may start now; else ms to wait."""
        return int(
            await self._script(
                "claim", self._limit_keys(task_def), [task_id, limit, rate, window_ms]
            )
        )

    async def release_slots(self, slots: list[tuple[str, str]]) -> None:
        if slots:
            with translated_errors():
                for task_def, task_id in slots:
                    await self.client.srem(self._limit_keys(task_def)[0], task_id)


def statuses(workflow: Workflow) -> dict[str, str]:
    """What the task summaries depend on, to find those a decide changed."""
    found = {t.task_id: str(t.status) for t in workflow.tasks}
    found[""] = str(workflow.status)
    return found


def dropped_tasks(read: dict[str, str], workflow: Workflow) -> list[str]:
    """The tasks of ``read`` (from :func:`statuses`) that ``workflow`` no longer holds."""
    kept = {t.task_id for t in workflow.tasks}
    return [task_id for task_id in read if task_id and task_id not in kept]


def summaries(workflow: Workflow, before: dict[str, str] | None) -> list[str]:
    """(key, summary) pairs, flattened, of the workflow and the tasks whose status changed."""
    pairs: list[str] = []
    if before is None or before.get("") != workflow.status:
        pairs += ["", f"{workflow.status}\t{workflow.priority}"]
    for t in workflow.tasks:
        if before is None or before.get(t.task_id) != t.status:
            summary = f"{t.status}\t{t.task_type}\t{t.task_def_name}"
            pairs += [t.task_id, f"{summary}\t{t.domain}" if t.domain else summary]
    return pairs


def _decoded(reply: list[Any]) -> tuple[Workflow | None, list[dict[str, Any]]]:
    state = Workflow.from_doc(unpack(reply[0])) if reply[0] else None
    return state, [unpack(e) for e in reply[1:]]


def _matches(summary: dict[str, Any], where: SearchFilter) -> bool:
    if where.workflow_types and summary.get("workflowType") not in where.workflow_types:
        return False
    if where.statuses and summary.get("status") not in where.statuses:
        return False
    if where.correlation_ids and summary.get("correlationId") not in where.correlation_ids:
        return False
    if where.workflow_ids and summary.get("workflowId") not in where.workflow_ids:
        return False
    text = where.free_text.strip()
    if text and text != "*":
        haystack = json.dumps(summary, default=str)
        return text in haystack
    return True
