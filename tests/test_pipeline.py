"""The layout follows the pipeline: each stage imports only the stages before it (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import gradharness

PACKAGE = Path(gradharness.__file__).parent

# Stages in pipeline order; a module may import its own stage and any earlier one.
STAGES: tuple[tuple[str, ...], ...] = (
    ("settings", "errors"),
    ("model",),
    ("check",),
    ("records",),
    ("properties",),
    ("targets",),
    ("usercode",),
    ("isolation",),
    ("judge",),
    ("mutation", "batch"),
    ("render",),
    ("cli", "pytest_plugin", "bench", "__main__", "__init__"),
)
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "errors.py", "settings.py", "pytest_plugin.py"}


def _stage(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _imported_stages(path: Path) -> set[str]:
    stages = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "gradharness" and len(parts) > 1:
                stages.add(parts[1])
    return stages


def test_every_stage_is_ranked() -> None:
    found = {_stage(path) for path in PACKAGE.rglob("*.py")}
    assert found <= set(RANK), f"modules outside the pipeline's stages: {sorted(found - set(RANK))}"


def test_no_stage_imports_a_later_one() -> None:
    backwards = []
    for path in sorted(PACKAGE.rglob("*.py")):
        stage = _stage(path)
        for imported in _imported_stages(path):
            if imported in RANK and RANK[imported] > RANK[stage]:
                backwards.append(f"{path.relative_to(PACKAGE)} imports gradharness.{imported}")
    assert not backwards, "upstream code imports downstream code:\n" + "\n".join(backwards)


def test_only_the_entry_points_sit_at_the_top() -> None:
    top = {path.name for path in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL_MODULES
