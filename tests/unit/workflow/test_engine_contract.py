"""The engine's public surface says what each call does, in one line."""

from __future__ import annotations

import inspect

from dynoq.workflow.engine import WorkflowEngine


def test_every_public_method_of_the_engine_has_a_one_line_docstring() -> None:
    missing = [
        name
        for name, member in inspect.getmembers(WorkflowEngine, inspect.isfunction)
        if not name.startswith("_")
        and (not member.__doc__ or len(member.__doc__.strip().splitlines()) != 1)
    ]
    assert missing == []
