"""Running a benchmark against another checkout's dynoq, side by side with this one.

``python_path(tree)`` is a ``PYTHONPATH`` under which ``import dynoq`` loads ``tree``'s package
(and, through it, ``tree``'s Lua scripts) while ``import benchmarks`` still loads this checkout's
benchmarks: the old and the new code run the same workload against the same redis-server, in
the same run, so their ratio holds however busy the machine is.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_path(tree: str | Path | None) -> str:
    """This checkout's root, or a directory linking ``tree``'s dynoq next to these benchmarks."""
    if tree is None or Path(tree).resolve() == ROOT:
        return str(ROOT)
    source = Path(tree).resolve()
    if not (source / "dynoq" / "__init__.py").is_file():
        raise SystemExit(f"{tree}: not a dynoq checkout (no dynoq/__init__.py)")
    links = Path(tempfile.mkdtemp(prefix="dynoq-tree-"))
    atexit.register(shutil.rmtree, links, True)
    (links / "dynoq").symlink_to(source / "dynoq")
    (links / "benchmarks").symlink_to(ROOT / "benchmarks")
    return str(links)


def label(tree: str | Path | None) -> str:
    return "this checkout" if tree is None else str(tree)
