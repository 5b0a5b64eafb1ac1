"""Every target's functions, by target name (plain data: the evaluator reads it too)."""

from __future__ import annotations

from collections.abc import Sequence

from gradharness.targets.deep.functions import DEEP
from gradharness.targets.exercise.functions import EXERCISE
from gradharness.targets.functions import TargetSpec
from gradharness.targets.layers.functions import LAYERS_SPEC
from gradharness.targets.regularisation.functions import REGULARISATION_SPEC
from gradharness.targets.signature.functions import SIGNATURE, signature_spec, signed_layers

SPECS: dict[str, TargetSpec] = {spec.name: spec for spec in (EXERCISE, DEEP, REGULARISATION_SPEC, LAYERS_SPEC)}
"""The targets, in the order a file's are checked and reported."""


def looked_for(*, besides: str | None = None) -> str:
    """What gradharness looks for in a file, every target's functions (but ``besides``'s) in words:
    ``the deep target's L_model_forward and L_model_backward, linear_backward, ...``."""
    return "; or ".join(
        f"the {spec.name} target's {spec.looked_for()}" for spec in SPECS.values() if spec.name != besides
    )


def claimed(defined: set[str] | frozenset[str]) -> set[str]:
    """The functions (required or optional) of the parts of targets other than the exercise that the functions
    ``defined`` implement: names the exercise's discovery leaves to those targets (the regularisation part's
    ``forward_propagation(X, parameters)`` is not the exercise's 1-D model). Empty: no such part."""
    return {
        name
        for spec in SPECS.values()
        if spec.name != "exercise"
        for part in spec.parts_in(defined)
        for name in (*part.required, *part.optional)
    }


def specs_with(signatures: Sequence[tuple[str, str]]) -> dict[str, TargetSpec]:
    """The targets' functions with the ``signature`` target's for these (name, signature) layers (none: SPECS)."""
    if not signatures:
        return SPECS
    return {**SPECS, SIGNATURE: signature_spec(signed_layers(signatures))}
