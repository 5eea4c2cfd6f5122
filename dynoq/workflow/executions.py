"""Reading executions (Conductor's execution service): a workflow as it stands, with the events
not yet decided applied, and the searches over the summaries."""

from __future__ import annotations

from dynoq.errors import NotFound
from dynoq.workflow.decide import current_view
from dynoq.workflow.metadata import Metadata
from dynoq.workflow.model import SearchFilter, SearchPage, Workflow, WorkflowStatus
from dynoq.workflow.queues import now_ms
from dynoq.workflow.store import WorkflowStore


class Executions:
    def __init__(self, store: WorkflowStore, metadata: Metadata) -> None:
        self.store = store
        self.metadata = metadata

    async def view(self, workflow_id: str) -> Workflow:
        """The workflow with its pending events applied; ``NotFound`` if there is none."""
        state, events = await self.store.read(workflow_id)
        if state is None:
            raise NotFound(f"no workflow {workflow_id}")
        definition = await self.metadata.definition_of(state)
        if not events:
            return state
        return current_view(
            state,
            definition,
            await self.metadata.task_defs(),
            events,
            now_ms(),
            owned=True,
        )

    async def get_workflow(self, workflow_id: str, include_tasks: bool = True) -> Workflow:
        workflow = await self.view(workflow_id)
        if not include_tasks:
            workflow.tasks = []
        return workflow

    async def search(self, where: SearchFilter, start: int = 0, size: int = 100) -> SearchPage:
        """Newest first by start time."""
        total, summaries = await self.store.search(where, start, size)
        results = []
        for s in summaries:
            doc = dict(s)
            doc["workflowName"] = s.get("workflowType")
            doc["workflowVersion"] = s.get("version")
            results.append(Workflow.from_doc(doc))
        return SearchPage(total, results)

    async def running_workflow_ids(
        self,
        name: str,
        version: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[str]:
        page = await self.search(
            SearchFilter(
                workflow_types=(name,),
                statuses=(WorkflowStatus.RUNNING,),
                start_time_from=start_time,
                start_time_to=end_time,
            ),
            0,
            10_000,
        )
        return [
            w.workflow_id for w in page.results if version is None or w.workflow_version == version
        ]

    async def correlated(
        self,
        name: str,
        correlation_id: str,
        include_closed: bool = False,
        include_tasks: bool = False,
    ) -> list[Workflow]:
        page = await self.search(
            SearchFilter(workflow_types=(name,), correlation_ids=(correlation_id,)), 0, 1000
        )
        found = []
        for w in page.results:
            if not include_closed and w.status.terminal:
                continue
            try:
                found.append(await self.get_workflow(w.workflow_id, include_tasks))
            except NotFound:
                continue
        return found
