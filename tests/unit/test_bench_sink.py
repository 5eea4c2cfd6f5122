"""The benchmarks' sink: every job's start reaches the file, from any process, without the job
writing it."""

from __future__ import annotations

import os

from benchmarks import sink


def test_rows_of_a_process_and_its_forked_child_all_reach_the_file(tmp_path, monkeypatch):
    path = tmp_path / "sink.txt"
    monkeypatch.setenv(sink.SINK_ENV, str(path))
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
    tags = [tag for _, tag in sink.read(path)]
    assert sorted(tags) == sorted(["parent-1", "parent-2"] + [f"child-{i}" for i in range(100)])
    assert sink.count(path) == 102
