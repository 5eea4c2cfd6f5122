"""Conductor's search query language: parsed into a tree, evaluated on documents; sort and
free text; what the indexes can narrow a query to."""

from __future__ import annotations

import re

import pytest

from dynoq.errors import InvalidArgument
from dynoq.workflow.query import (
    EVERYTHING,
    All,
    Any_,
    Clause,
    SortKey,
    matches,
    matches_text,
    narrowing,
    parse_query,
    parse_sort,
)

DOC = {"workflowType": "orders", "status": "RUNNING", "startTime": 1500, "correlationId": "c 1"}


def test_the_query_conductors_ui_builds():
    query = (
        "workflowType IN (orders,refunds) AND status IN (RUNNING,FAILED) "
        "AND startTime>1000 AND startTime<2000"
    )
    node = parse_query(query)
    assert node == All(
        (
            Clause("workflowtype", "IN", ("orders", "refunds")),
            Clause("status", "IN", ("RUNNING", "FAILED")),
            Clause("starttime", ">", ("1000",)),
            Clause("starttime", "<", ("2000",)),
        )
    )
    assert matches(node, DOC)
    assert not matches(node, {**DOC, "startTime": 2000})


def test_or_binds_looser_than_and_and_parentheses_group():
    node = parse_query("status = FAILED AND workflowType = x OR workflowType = orders")
    assert isinstance(node, Any_) and matches(node, DOC)
    grouped = parse_query("status = FAILED AND (workflowType = x OR workflowType = orders)")
    assert isinstance(grouped, All) and not matches(grouped, DOC)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("workflowType = 'orders'  and correlationId=\"c 1\"", True),
        ("status in ( 'running' )", True),  # statuses in any case
        ("startTime BETWEEN 1000 AND 1500", True),
        ("startTime >= 1501", False),
        ("workflowType != orders", False),
        ("priority = 3", False),  # a field the document lacks
    ],
)
def test_clauses(query, expected):
    assert matches(parse_query(query), DOC) is expected


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_matches_everything(query):
    assert parse_query(query) is EVERYTHING and matches(EVERYTHING, DOC)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("workflowType IN (a,b", "expected ')'"),
        ("status = RUNNING OR", "at the end"),
        ("status = RUNNING status = FAILED", "expected AND or OR"),
        ("(status = RUNNING", "expected ')'"),
        ("status LIKE x", "expected IN, BETWEEN or a comparison"),
        ("startTime BETWEEN 1 OR 2", "BETWEEN takes two values"),
    ],
)
def test_malformed_queries_say_what_is_wrong(query, says):
    with pytest.raises(InvalidArgument, match=re.escape(says)) as raised:
        parse_query(query)
    assert raised.value.field == "query"


def test_sort():
    assert parse_sort("startTime:DESC, workflowType") == (
        SortKey("startTime", True),
        SortKey("workflowType", False),
    )
    assert parse_sort("") == ()
    with pytest.raises(InvalidArgument, match="field:ASC"):
        parse_sort("startTime:UP")


def test_free_text_looks_in_the_named_fields_only():
    doc = {"workflowId": "w-1", "input": {"sku": "blue-shoe"}, "secret": "hidden"}
    fields = ("workflowId", "input")
    assert matches_text(doc, "*", fields) and matches_text(doc, "", fields)
    assert matches_text(doc, "blue-shoe", fields)
    assert matches_text(doc, "w-1 blue", fields)  # every word
    assert not matches_text(doc, "hidden", fields)


def test_narrowing_reads_the_top_level_and():
    node = parse_query("workflowType = a AND status IN (X, Y) AND startTime > 5 AND startTime <= 9")
    n = narrowing(node, ("workflowtype", "status"), "starttime")
    assert n.values == {"workflowtype": ("a",), "status": ("X", "Y")}
    assert (n.low, n.high, n.exact) == (6, 9, True)
    loose = narrowing(
        parse_query("workflowType = a AND (status = X OR status = Y)"),
        ("workflowtype",),
        "starttime",
    )
    assert loose.values == {"workflowtype": ("a",)} and loose.exact is False


def test_an_or_over_one_field_becomes_one_in_so_an_index_answers_it():
    node = parse_query("(workflowType = a OR workflowType IN (b, a)) AND status = FAILED")
    assert node == All(
        (Clause("workflowtype", "IN", ("a", "b")), Clause("status", "=", ("FAILED",)))
    )
    n = narrowing(node, ("workflowtype", "status"), "starttime")
    assert n.exact and n.values == {"workflowtype": ("a", "b"), "status": ("FAILED",)}
    mixed = parse_query("workflowType = a OR status = FAILED")
    assert isinstance(mixed, Any_)
