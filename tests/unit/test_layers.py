"""Imports run one way: a module imports only its own layer or those below, and no private
(``_``-prefixed) name of another package. Every import counts, also those inside functions and
under ``TYPE_CHECKING``: a lazy import of a higher layer is still a cycle in the design."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dynoq"  # read, never imported

# The README's "Layout" section draws the same order.
LAYERS = {
    "dynoq.errors": 0,
    "dynoq.core": 0,
    "dynoq.backend": 1,
    "dynoq.testing": 1,  # test helpers for users: a redis-server, a cluster, a clock
    "dynoq": 2,  # the top-level facade re-exports the queue, the worker and the producer
    "dynoq.runtime": 2,
    "dynoq.workflow": 2,
    "dynoq.loadtest": 2,
    "dynoq.services": 3,
    "dynoq.cli": 4,
    "dynoq.demo": 4,
    "dynoq.__main__": 4,
}

# The queue's machinery: the layers above the workflow store use the queue, the registry and
# connect instead (e.g. ``AsyncQueue.sweep_shard``, ``aping``, ``atake_lease``).
MACHINERY = {"dynoq.core.ops": 2, "dynoq.backend.runner": 2, "dynoq.backend.scripts": 2}


def package_of(module: str) -> str:
    """The entry of LAYERS a module belongs to: its longest prefix there."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in LAYERS:
            return ".".join(parts[:end])
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS and the README")


@functools.cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(module: str, path: Path) -> list[tuple[int, str, str | None]]:
    """(line, imported module, imported name or None) for every dynoq import in the file."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names if a.name.startswith("dynoq")]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, target] if target else base)
            if target == "dynoq" or target.startswith("dynoq."):
                found += [(node.lineno, target, a.name) for a in node.names]
    return found


def test_every_module_belongs_to_a_layer():
    for module in modules():
        package_of(module)


def imported_module(target: str, name: str | None) -> str:
    """``from a import b`` imports the module a.b when there is one, else a name of a."""
    return f"{target}.{name}" if name and f"{target}.{name}" in modules() else target


def test_no_module_imports_a_layer_above_its_own():
    wrong = []
    for module, path in modules().items():
        own = LAYERS[package_of(module)]
        for line, target, name in imports(module, path):
            full = imported_module(target, name)
            if LAYERS[package_of(full)] > own:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {full}")
    assert wrong == []


def test_no_module_imports_private_names_of_another_package():
    wrong = []
    for module, path in modules().items():
        own = package_of(module)
        for line, target, name in imports(module, path):
            if package_of(target) == own:
                continue
            private = [p for p in [*target.split("."), name or ""] if p.startswith("_")]
            if [p for p in private if p not in ("__version__", "__main__")]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} {name}")
    assert wrong == []


def test_only_the_lower_layers_use_the_queue_machinery():
    wrong = []
    for module, path in modules().items():
        own = LAYERS[package_of(module)]
        for line, target, name in imports(module, path):
            full = imported_module(target, name)
            if own > MACHINERY.get(full, 4):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {full}")
    assert wrong == []
