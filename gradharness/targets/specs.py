"""Every target's functions, by target name (plain data: the evaluator reads it too)."""

from __future__ import annotations

from gradharness.targets.deep.functions import DEEP
from gradharness.targets.exercise.functions import EXERCISE
from gradharness.targets.functions import TargetSpec

SPECS: dict[str, TargetSpec] = {spec.name: spec for spec in (EXERCISE, DEEP)}
"""The targets, in the order a file's are checked and reported."""


def looked_for(*, besides: str | None = None) -> str:
    """What gradharness looks for in a file, every target's functions (but ``besides``'s) in words:
    ``the deep target's L_model_forward and L_model_backward, linear_backward, ...``."""
    return "; or ".join(
        f"the {spec.name} target's {spec.looked_for()}" for spec in SPECS.values() if spec.name != besides
    )
