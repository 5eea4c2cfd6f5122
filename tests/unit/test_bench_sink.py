"""The benchmarks' sink: every job's start reaches the file, from any process, without the job
writing it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from benchmarks import sink

# Forked from a fresh interpreter: forking the test process itself, whose other threads (V8's,
# earlier tests') may hold locks at the fork, can hang the child; the sink's users fork workers
# that have only the sink's own thread.
FORKING_SCRIPT = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[1])
    from benchmarks import sink
    sink.record(sink.pad("parent-1"))
    pid = os.fork()
    if pid == 0:  # the child's rows are its own; the parent's unwritten row is not written twice
        try:
            for i in range(100):
                sink.record(sink.pad(f"child-{i}"))
            sink.flush()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    sink.record(sink.pad("parent-2"))
    sink.flush()
    """
)


def test_rows_of_a_process_and_its_forked_child_all_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sink.txt"
    root = str(Path(__file__).parents[2])
    subprocess.run(
        [sys.executable, "-c", FORKING_SCRIPT, root],
        env={sink.SINK_ENV: str(path)},
        check=True,
        timeout=30,
    )
    tags = [tag for _, tag in sink.read(path)]
    assert sorted(tags) == sorted(["parent-1", "parent-2"] + [f"child-{i}" for i in range(100)])
    assert sink.count(path) == 102
