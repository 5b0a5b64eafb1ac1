"""Per operator family: a user's file that makes the mistake gets that mistake named as its likely cause."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from gradharness.judge.checks import check_file
from gradharness.model import network
from gradharness.mutation.causes import explain, reference_mutants
from gradharness.settings import RunSettings

pytestmark = pytest.mark.slow


def _file_with(backward_source: str) -> str:
    """The seed's network with ``backward_source`` as its backward pass, as a user's file has it."""
    forward = "\n\n".join(inspect.getsource(f) for f in (network.relu, network.sigmoid, network.forward_propagation_n))
    return "from __future__ import annotations\n\nimport numpy as np\n\n" + forward + "\n\n" + backward_source + "\n"


def _one_mutant_per_operator() -> list:
    seen: dict[str, object] = {}
    for reference in reference_mutants():
        seen.setdefault(reference.mutant.operator, reference)
    return list(seen.values())


def test_each_operator_familys_mistake_is_named_in_the_users_file(tmp_path: Path) -> None:
    named, wrong_gradient = [], []
    for reference in _one_mutant_per_operator():
        mutant = reference.mutant
        path = tmp_path / f"{mutant.id}.py"
        path.write_text(_file_with(mutant.function_source))
        # Seed 0 draws a wrong gradient from 21 of the families (seed 1: 18), and shrinks their cases quicker.
        record = explain(check_file(path, RunSettings(seed=0, max_examples=40)))
        failures = [f for f in record.failures if f.property == "GRADIENT_AGREES" and f.kind.value == "wrong"]
        if not failures:
            continue  # a shape or dtype finding (lost keepdims, float32), or equivalent on every case drawn
        [failure] = failures
        wrong = {b.name for b in failure.gradient_check.blocks if b.verdict.value == "wrong"}
        wrong_gradient.append(mutant.operator)
        causes = failure.likely_causes
        assert causes, f"{mutant.id} ({reference.as_if}): no likely cause for {failure.message}"
        assert wrong <= {b for c in causes for b in c.blocks}, f"{mutant.id}: {wrong} not all explained by {causes}"
        if any(c.operator == mutant.operator for c in causes):
            named.append(mutant.operator)
            located = [c for c in causes if c.operator == mutant.operator]
            assert any(c.where for c in located), f"{mutant.id}: the line is not found in the file"
    print(f"\n{len(named)} of {len(wrong_gradient)} operator families named by their own operator")
    assert len(wrong_gradient) >= 15
    # Another operator may make the same mistake on these cases (scale_gradient and wrong_constant_over_m on one line).
    assert len(named) >= 0.8 * len(wrong_gradient), sorted(set(wrong_gradient) - set(named))
