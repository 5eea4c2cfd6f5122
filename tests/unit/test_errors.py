"""The exception tree drawn in dynoq/errors.py is the one the classes form."""

from __future__ import annotations

import inspect
import re

from dynoq import errors


def drawn_parents() -> dict[str, str | None]:
    """Each class named in the drawing, with the class drawn above it (by indentation)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"^([\s│├└─]*)([A-Z]\w+)\s", line + " ")
        if not found or not inspect.isclass(getattr(errors, found.group(2), None)):
            continue
        depth = len(found.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[found.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, found.group(2)))
    return parents


def test_the_drawing_names_every_class_under_its_dynoq_parent():
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, Exception) and cls.__name__ == name
    }
    parents = drawn_parents()
    assert set(parents) == set(classes)
    for name, cls in classes.items():
        dynoq_bases = [b.__name__ for b in cls.__bases__ if issubclass(b, errors.DynoqError)]
        assert dynoq_bases == ([parents[name]] if parents[name] else []), name


def test_every_error_a_caller_can_catch_is_a_dynoq_error():
    assert issubclass(errors.QueueNotFound, errors.NotFound)
    assert issubclass(errors.QueueNotFound, LookupError)
    assert errors.ScriptError is errors.JavaScriptError  # the earlier name still catches it
    assert not issubclass(errors.JavaScriptError, errors.ScriptFailed)
