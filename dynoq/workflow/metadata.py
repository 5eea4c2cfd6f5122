"""Definitions (Conductor's metadata service): workflow and task definitions, validated, stamped
and stored, read through short caches; and the snapshot of the definition each execution runs."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from typing import Any

from dynoq.errors import Conflict, InvalidDefinition, NotFound
from dynoq.workflow.definitions import (
    TaskDef,
    TaskType,
    WorkflowDef,
    iter_workflow_tasks,
    parse_task_def,
    parse_workflow_def,
    task_def_to_doc,
    workflow_def_to_doc,
)
from dynoq.workflow.model import Workflow
from dynoq.workflow.queues import now_ms
from dynoq.workflow.store import WorkflowStore

DEFINITIONS_TTL_SECONDS = 1.0  # other processes' definition changes show within this
MAX_CACHED_SNAPSHOTS = 1000
MISS_REFRESH_SECONDS = 0.05  # a missing TaskDef is looked for again at most this often


def task_def_names(definition: WorkflowDef, workflow: Workflow | None = None) -> set[str]:
    """The TaskDefs a workflow may need: its worker tasks' names (dynamic ones included)."""
    names = {
        t.name
        for t in iter_workflow_tasks(definition.tasks)
        if t.type is TaskType.SIMPLE and t.task_definition is None
    }
    if workflow is not None:
        names.update(
            t.task_def_name for t in workflow.tasks if t.dynamic or t.status.terminal is False
        )
    return names


class Metadata:
    def __init__(self, store: WorkflowStore) -> None:
        self.store = store
        self._snapshots: dict[str, tuple[dict[str, Any], WorkflowDef]] = {}
        self._snapshot_keys: dict[tuple[str, int, int], str] = {}
        self._task_defs: tuple[float, dict[str, TaskDef]] = (0.0, {})
        self._looked_for: dict[str, float] = {}  # missing TaskDef name -> when last read for it
        self._workflow_defs: dict[str, tuple[float, dict[int, WorkflowDef]]] = {}

    # -- workflow definitions ---------------------------------------------------------------
    async def register_workflow_def(
        self, definition: dict[str, Any] | WorkflowDef, *, overwrite: bool = True
    ) -> WorkflowDef:
        """Conflict when that name+version exists and overwrite is False."""
        doc = workflow_def_to_doc(definition) if isinstance(definition, WorkflowDef) else definition
        parsed = parse_workflow_def(doc)
        exists = await self.store.workflow_def_exists(parsed.name, parsed.version)
        if exists and not overwrite:
            raise Conflict(f"workflow definition {parsed.name} version {parsed.version} exists")
        stamped = workflow_def_to_doc(parsed)
        now = now_ms()
        stamped["createTime"] = parsed.create_time or now
        stamped["updateTime"] = now
        await self.store.put_workflow_def(parsed.name, parsed.version, stamped)
        self._workflow_defs.pop(parsed.name, None)
        return parse_workflow_def(stamped)

    async def get_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef:
        """The latest version when version is None (read through a one-second cache)."""
        fetched_at, versions = self._workflow_defs.get(name, (0.0, {}))
        if time.monotonic() - fetched_at > DEFINITIONS_TTL_SECONDS:
            docs = await self.store.workflow_defs(name)
            # parsing is most of a start's CPU: an unchanged version keeps its parsed form
            versions = self._workflow_defs.get(name, (0.0, {}))[1]
            versions = {
                v: versions[v] if v in versions and versions[v].raw == d else parse_workflow_def(d)
                for v, d in docs.items()
            }
            self._workflow_defs[name] = (time.monotonic(), versions)
        if not versions or (version is not None and version not in versions):
            which = f" version {version}" if version is not None else ""
            raise NotFound(f"no workflow definition {name}{which}")
        return versions[version if version is not None else max(versions)]

    async def list_workflow_defs(self) -> list[WorkflowDef]:
        """Every version of every workflow definition."""
        found: list[WorkflowDef] = []
        for name in await self.store.workflow_def_names():
            versions = await self.store.workflow_defs(name)
            found.extend(parse_workflow_def(versions[v]) for v in sorted(versions))
        return found

    async def delete_workflow_def(self, name: str, version: int) -> None:
        self._workflow_defs.pop(name, None)
        if not await self.store.delete_workflow_def(name, version):
            raise NotFound(f"no workflow definition {name} version {version}")

    # -- task definitions -------------------------------------------------------------------
    async def register_task_defs(
        self, definitions: Iterable[dict[str, Any] | TaskDef]
    ) -> list[TaskDef]:
        """Creates or replaces each, all validated before any is stored."""
        parsed: list[TaskDef] = []
        problems: list[tuple[str, str]] = []
        for i, d in enumerate(definitions):
            try:
                parsed.append(d if isinstance(d, TaskDef) else parse_task_def(d))
            except InvalidDefinition as exc:
                problems.extend((f"$[{i}]{path.removeprefix('$')}", m) for path, m in exc.problems)
        if problems:
            raise InvalidDefinition(problems)
        now = now_ms()
        docs = []
        for d in parsed:
            doc = task_def_to_doc(d)
            doc["createTime"] = d.create_time or now
            doc["updateTime"] = now
            docs.append((d.name, doc))
        await self.store.put_task_defs(docs)
        self._task_defs = (0.0, {})
        return [parse_task_def(doc) for _, doc in docs]

    async def get_task_def(self, name: str) -> TaskDef:
        found = (await self.store.task_defs()).get(name)
        if found is None:
            raise NotFound(f"no task definition {name}")
        return parse_task_def(found)

    async def list_task_defs(self) -> list[TaskDef]:
        docs = await self.store.task_defs()
        return [parse_task_def(docs[n]) for n in sorted(docs)]

    async def delete_task_def(self, name: str) -> None:
        if not await self.store.delete_task_def(name):
            raise NotFound(f"no task definition {name}")
        self._task_defs = (0.0, {})

    async def task_defs(self, needed: Iterable[str] = ()) -> dict[str, TaskDef]:
        """The task definitions, cached for a second; read again at once (at most every
        MISS_REFRESH_SECONDS) when one of the ``needed`` names is missing, so a TaskDef
        registered by another process just before a workflow starts is the one it runs with."""
        fetched_at, defs = self._task_defs
        now = time.monotonic()
        missing = [name for name in needed if name not in defs]
        # a missing name is looked for at once the first time, then at most every
        # MISS_REFRESH_SECONDS (a task type that never gets a TaskDef costs little)
        looked = [self._looked_for.get(name, 0.0) for name in missing]
        if now - fetched_at > DEFINITIONS_TTL_SECONDS or any(
            now - at > MISS_REFRESH_SECONDS for at in looked
        ):
            for name in missing:
                self._looked_for[name] = now
            if len(self._looked_for) > MAX_CACHED_SNAPSHOTS:
                self._looked_for.clear()
            defs = {n: parse_task_def(d) for n, d in (await self.store.task_defs()).items()}
            self._task_defs = (time.monotonic(), defs)
        return defs

    # -- what an execution runs -------------------------------------------------------------
    async def definition_of(self, workflow: Workflow) -> WorkflowDef:
        """The definition a workflow runs, by its snapshot key (cached: snapshots never change);
        fills in ``workflow.workflow_definition``."""
        key = workflow.definition_key
        found = self._snapshots.get(key)
        if found is None:
            doc = workflow.workflow_definition or await self.store.snapshot(key)
            if doc is None:
                raise NotFound(f"workflow {workflow.workflow_id} lost its definition {key}")
            if len(self._snapshots) > MAX_CACHED_SNAPSHOTS:
                self._snapshots.clear()
            found = self._snapshots[key] = (doc, parse_workflow_def(doc))
        workflow.workflow_definition = found[0]
        return found[1]

    async def snapshot_key(self, definition: WorkflowDef, doc: dict[str, Any]) -> str:
        """Stores the definition a new workflow runs (once) and gives its key."""
        stamp = (definition.name, definition.version, definition.update_time)
        key = self._snapshot_keys.get(stamp, "") if definition.update_time else ""
        if not key:
            body = json.dumps(doc, sort_keys=True, separators=(",", ":"))
            key = hashlib.sha1(body.encode()).hexdigest()[:24]
            if definition.update_time:  # a registered definition: its stamp names it
                self._snapshot_keys[stamp] = key
        if key not in self._snapshots:
            await self.store.put_snapshot(key, doc)
            self._snapshots[key] = (doc, definition)
        return key
