"""The functions the ``exercise`` target looks for (its names can be changed with --forward and the like)."""

from __future__ import annotations

from gradharness.targets.functions import FunctionSpec, Part, TargetSpec

EXERCISE = TargetSpec(
    name="exercise",
    title="the gradient-checking exercise's 3-layer network and 1-D model",
    functions=(
        FunctionSpec("forward_propagation_n", ("X", "Y", "parameters"), "(cost, cache)", hold=(1,)),
        FunctionSpec("backward_propagation_n", ("X", "Y", "cache"), "gradients"),
        FunctionSpec("gradient_check_n", ("parameters", "gradients", "X", "Y", "epsilon"), "difference"),
        FunctionSpec("forward_propagation", ("x", "theta"), "J"),
        FunctionSpec("backward_propagation", ("x", "theta"), "dtheta"),
    ),
    parts=(
        Part("network", ("forward_propagation_n", "backward_propagation_n"), ("gradient_check_n",)),
        Part("1-D model", ("forward_propagation", "backward_propagation")),
    ),
)
