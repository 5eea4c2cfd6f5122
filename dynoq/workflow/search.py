"""Workflow search over the indexes the store keeps (sorted sets by start time per type, status,
type and status, correlation id; a summary per workflow), with Conductor's query language.

A query the indexes answer alone (types, statuses, a start-time range, sorted by start time)
costs the size of its page: ``ZCOUNT`` per index key for the total, ``ZRANGEBYSCORE ... LIMIT``
for the page. Any other query reads the summaries of the narrowest index it can pick, at most
:data:`SCAN_LIMIT` of them, and filters and sorts those.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

from dynoq.backend.runner import translated_errors
from dynoq.workflow.model import WorkflowStatus
from dynoq.workflow.query import (
    Narrowing,
    Node,
    SortKey,
    check_values,
    matches,
    matches_text,
    narrowing,
    sortable,
)
from dynoq.workflow.store import WorkflowStore, unpack

SCAN_LIMIT = 10_000
SCAN_BATCH = 500
FREE_TEXT_FIELDS = (
    "workflowId", "correlationId", "workflowType", "input", "output", "reasonForIncompletion",
)  # fmt: skip
_INDEXED = ("workflowtype", "status", "correlationid")
_BY_START = SortKey("startTime", True)


def _index_keys(store: WorkflowStore, n: Narrowing) -> tuple[list[str], set[str]]:
    """The index keys whose union holds every match, and which fields they account for."""
    types = n.values.get("workflowtype")
    statuses = tuple(s.upper() for s in n.values.get("status", ()))
    correlations = n.values.get("correlationid")
    if types and statuses:
        pairs = itertools.product(types, statuses)
        keys = [store.index_key("type", t, "status", s) for t, s in pairs]
        return keys, {"workflowtype", "status"}
    if correlations:
        return [store.index_key("corr", c) for c in correlations], {"correlationid"}
    if types:
        return [store.index_key("type", t) for t in types], {"workflowtype"}
    if statuses:
        return [store.index_key("status", s) for s in statuses], {"status"}
    return [store.index_key("all")], set()


async def search_workflows(
    store: WorkflowStore,
    query: Node,
    free_text: str = "*",
    sort: tuple[SortKey, ...] = (),
    start: int = 0,
    size: int = 100,
) -> tuple[int, list[dict[str, Any]]]:
    """(total hits, the page's summaries) of the workflows matching ``query``."""
    check_values(query, "status", tuple(WorkflowStatus))
    n = narrowing(query, (*_INDEXED, "workflowid"), "starttime")
    if "workflowid" in n.values:  # the summaries of those ids are the only candidates
        return await _by_ids(
            store, list(n.values["workflowid"]), query, free_text, sort, start, size
        )
    keys, covered = _index_keys(store, n)
    order = sort or (_BY_START,)
    by_start = len(order) == 1 and order[0].field.lower() == "starttime"
    no_text = not [w for w in (free_text or "").split() if w != "*"]
    if n.exact and set(n.values) <= covered and by_start and no_text:
        return await _from_index(store, keys, n, order[0].descending, start, size)
    return await _scanned(store, keys, n, query, free_text, order, start, size)


def _bounds(n: Narrowing) -> tuple[float | str, float | str]:
    return ("-inf" if n.low is None else n.low), ("+inf" if n.high is None else n.high)


async def _from_index(
    store: WorkflowStore, keys: list[str], n: Narrowing, descending: bool, start: int, size: int
) -> tuple[int, list[dict[str, Any]]]:
    low, high = _bounds(n)
    client: Any = store.client
    with translated_errors():
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.zcount(key, low, high)
        for key in keys:
            if descending:
                pipe.zrevrangebyscore(key, high, low, start=0, num=start + size, withscores=True)
            else:
                pipe.zrangebyscore(key, low, high, start=0, num=start + size, withscores=True)
        replies = await pipe.execute()
    total = sum(int(c) for c in replies[: len(keys)])
    rows: list[tuple[float, bytes]] = [(float(s), m) for rs in replies[len(keys) :] for m, s in rs]
    rows = (heapq.nlargest if descending else heapq.nsmallest)(start + size, rows)
    ids = [m for _, m in rows[start : start + size]]
    if not ids:
        return total, []
    with translated_errors():
        raw = await client.hmget(store.summaries_key, ids)
    return total, [unpack(r) for r in raw if r is not None]


async def _scanned(
    store: WorkflowStore,
    keys: list[str],
    n: Narrowing,
    query: Node,
    free_text: str,
    order: tuple[SortKey, ...],
    start: int,
    size: int,
) -> tuple[int, list[dict[str, Any]]]:
    low, high = _bounds(n)
    client: Any = store.client
    found: list[dict[str, Any]] = []
    read = 0
    for key in keys:
        offset = 0
        while read < SCAN_LIMIT:
            with translated_errors():
                ids = await client.zrevrangebyscore(key, high, low, start=offset, num=SCAN_BATCH)
                if not ids:
                    break
                raw = await client.hmget(store.summaries_key, ids)
            offset += len(ids)
            read += len(ids)
            for data in raw:
                if data is None:
                    continue
                summary = unpack(data)
                if matches(query, summary) and matches_text(summary, free_text, FREE_TEXT_FIELDS):
                    found.append(summary)
    return _page(found, order, start, size)


async def _by_ids(
    store: WorkflowStore,
    ids: list[str],
    query: Node,
    free_text: str,
    sort: tuple[SortKey, ...],
    start: int,
    size: int,
) -> tuple[int, list[dict[str, Any]]]:
    client: Any = store.client
    with translated_errors():
        raw = await client.hmget(store.summaries_key, ids[:SCAN_LIMIT]) if ids else []
    found = [
        summary
        for summary in (unpack(r) for r in raw if r is not None)
        if matches(query, summary) and matches_text(summary, free_text, FREE_TEXT_FIELDS)
    ]
    return _page(found, sort or (_BY_START,), start, size)


def _page(
    found: list[dict[str, Any]], order: tuple[SortKey, ...], start: int, size: int
) -> tuple[int, list[dict[str, Any]]]:
    for sort_key in reversed(order):  # stable sorts, least significant key first
        name = sort_key.field
        found.sort(key=lambda doc: sortable(doc, name), reverse=sort_key.descending)
    return len(found), found[start : start + size]
