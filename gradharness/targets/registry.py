"""Every target the judge can run, by name, in the order a file's are checked and reported."""

from __future__ import annotations

from collections.abc import Sequence

from gradharness.properties.failures import Property
from gradharness.targets.deep.target import TARGET as DEEP
from gradharness.targets.exercise.functions import EXERCISE as EXERCISE_SPEC
from gradharness.targets.layers.target import TARGET as LAYERS
from gradharness.targets.regularisation.target import TARGET as REGULARISATION
from gradharness.targets.signature.functions import SIGNATURE, SignedLayer
from gradharness.targets.signature.target import signature_target
from gradharness.targets.target import Target

EXERCISE = Target(
    EXERCISE_SPEC,
    None,
    Property,
    {Property.GRADIENT_AGREES.name: 6.0, Property.STUDENT_CHECKER.name: 2.0, Property.DERIVATIVE_1D.name: 2.0},
    operators="exercise",
)
"""The exercise's network and 1-D model (run by ``judge.checks.judge``, which predates targets): backprop 6, the
file's own checker 2, the 1-D pair 2."""

TARGETS: dict[str, Target] = {target.name: target for target in (EXERCISE, DEEP, REGULARISATION, LAYERS)}


def property_descriptions() -> dict[str, str]:
    """Every target's properties, by name, in the targets' order: what each asserts."""
    return {prop.name: str(prop.value) for target in TARGETS.values() for prop in target.properties}


def targets_with(layers: Sequence[SignedLayer]) -> dict[str, Target]:
    """TARGETS, and the ``signature`` target for these layers (none: TARGETS itself)."""
    return {**TARGETS, SIGNATURE: signature_target(layers)} if layers else TARGETS


TARGET_NAMES = (*TARGETS, SIGNATURE)
"""Every target's name, the ``signature`` target's too (its layers are given at run time)."""
