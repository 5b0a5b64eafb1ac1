"""The functions the ``deep`` target looks for, in the course's names and conventions
(deeplearning.ai, "Building your Deep Neural Network: Step by Step")."""

from __future__ import annotations

from gradharness.targets.functions import FunctionSpec, Part, TargetSpec

MODEL = "L-layer model"
"""The part that checks the whole model: L_model_forward, compute_cost and L_model_backward."""

BLOCKS = ("linear_backward", "relu_backward", "sigmoid_backward", "linear_activation_backward")
"""The building blocks' backward functions, each checked on its own part."""

DEEP = TargetSpec(
    name="deep",
    title="the course's L-layer model and its building blocks",
    functions=(
        FunctionSpec("L_model_forward", ("X", "parameters"), "(AL, caches)", hold=(1,)),
        FunctionSpec("compute_cost", ("AL", "Y"), "cost"),
        FunctionSpec("L_model_backward", ("AL", "Y", "caches"), "grads"),
        FunctionSpec("linear_forward", ("A", "W", "b"), "(Z, cache)", hold=(1,)),
        FunctionSpec("linear_backward", ("dZ", "cache"), "(dA_prev, dW, db)"),
        FunctionSpec("relu", ("Z",), "(A, cache)", hold=(1,)),
        FunctionSpec("relu_backward", ("dA", "cache"), "dZ"),
        FunctionSpec("sigmoid", ("Z",), "(A, cache)", hold=(1,)),
        FunctionSpec("sigmoid_backward", ("dA", "cache"), "dZ"),
        FunctionSpec("linear_activation_forward", ("A_prev", "W", "b", "activation"), "(A, cache)", hold=(1,)),
        FunctionSpec("linear_activation_backward", ("dA", "cache", "activation"), "(dA_prev, dW, db)"),
    ),
    parts=(
        Part(MODEL, ("L_model_forward", "L_model_backward"), ("compute_cost",)),
        Part("linear_backward", ("linear_backward",), ("linear_forward",)),
        Part("relu_backward", ("relu_backward",), ("relu",), alone=False),  # the exercise's files have one too
        Part("sigmoid_backward", ("sigmoid_backward",), ("sigmoid",), alone=False),
        Part("linear_activation_backward", ("linear_activation_backward",), ("linear_activation_forward",)),
    ),
)
