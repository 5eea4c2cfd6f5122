"""Conductor's search query syntax into a SearchFilter."""

from __future__ import annotations

import re

import pytest

from dynoq.errors import InvalidArgument
from dynoq.services.conductor.query import parse_search_query
from dynoq.workflow.model import SearchFilter, WorkflowStatus


def test_the_query_conductors_ui_builds():
    query = (
        "workflowType IN (orders,refunds) AND status IN (RUNNING,FAILED) "
        "AND startTime>1700000000000 AND startTime<1800000000000"
    )
    assert parse_search_query(query) == SearchFilter(
        workflow_types=("orders", "refunds"),
        statuses=(WorkflowStatus.RUNNING, WorkflowStatus.FAILED),
        start_time_from=1700000000001,
        start_time_to=1799999999999,
    )


def test_equals_forms_quotes_spaces_and_case():
    query = "workflowType = 'orders'  and correlationId=\"c 1\" AND status in ( 'completed' )"
    assert parse_search_query(query) == SearchFilter(
        workflow_types=("orders",),
        correlation_ids=("c 1",),
        statuses=(WorkflowStatus.COMPLETED,),
    )


def test_inclusive_and_exact_start_times():
    assert parse_search_query("startTime>=5 AND startTime<=9") == SearchFilter(
        start_time_from=5, start_time_to=9
    )
    assert parse_search_query("startTime=7") == SearchFilter(start_time_from=7, start_time_to=7)


def test_workflow_ids():
    assert parse_search_query("workflowId IN (a, b)").workflow_ids == ("a", "b")


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_matches_everything(query):
    assert parse_search_query(query) == SearchFilter()


def test_free_text_is_passed_on():
    assert parse_search_query("", "refund").free_text == "refund"
    assert parse_search_query("", "").free_text == "*"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("workflowType IN (a,b", "expected ')'"),
        ("workflowType IN a", "expected '('"),
        ("workflowType", "expected an operator"),
        ("status IN (SLEEPING)", "unknown status"),
        ("priority > 3", "cannot search by 'priority'"),
        ("startTime > yesterday", "epoch milliseconds"),
        ("workflowType = a OR workflowType = b", "expected AND"),
        ("workflowType > a", "takes IN or ="),
        ("startTime IN (1,2)", "takes a comparison"),
        ("status = RUNNING AND status = FAILED", "given twice"),
        ("workflowType = 'unterminated", "cannot read"),
        ("= a", "expected a field"),
        ("workflowType = )", "expected a value"),
    ],
)
def test_unparsable_queries_say_what_is_wrong(query, says):
    with pytest.raises(InvalidArgument, match=re.escape(says)) as caught:
        parse_search_query(query)
    assert caught.value.field == "query"
