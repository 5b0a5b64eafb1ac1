"""The check stage's shape: modules import each other one way (no cycles, no lazy imports), functions are short."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import gradharness.check

PACKAGE = Path(gradharness.check.__file__).parent


def check_imports(path: Path) -> tuple[set[str], set[str]]:
    """Module-level and function-level imports of gradharness.check modules in ``path``."""
    tree = ast.parse(path.read_text())
    top, nested = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gradharness.check."):
            (top if node in tree.body else nested).add(node.module.rsplit(".", 1)[1])
    return top, nested


def test_check_modules_import_without_cycles_or_lazy_imports():
    graph = {}
    for path in PACKAGE.glob("*.py"):
        top, nested = check_imports(path)
        assert not nested, f"{path.name} imports {sorted(nested)} inside a function"
        graph[path.stem] = top
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        raise AssertionError(f"import cycle in gradharness.check: {cycle.args[1]}") from None
    assert order.index("verdict") < order.index("screening") < order.index("checker")


def test_check_functions_stay_short():
    # One job per function: the longest (docstring included) fits on a screen.
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno < 60, (
                    f"{path.name}: {node.name} is {node.end_lineno - node.lineno + 1} lines"
                )
