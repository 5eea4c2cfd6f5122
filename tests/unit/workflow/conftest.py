from __future__ import annotations

import pytest

from dynoq.workflow.javascript import JavaScript


@pytest.fixture(scope="module")
def js() -> JavaScript:
    """One V8 context per module: a context costs far more than an evaluation."""
    return JavaScript()
