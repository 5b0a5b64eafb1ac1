"""The functions the ``deep`` target looks for, in the course's names and conventions
(deeplearning.ai, "Building your Deep Neural Network: Step by Step", and course 2's "Regularization")."""

from __future__ import annotations

from gradharness.targets.functions import FunctionSpec, Part, TargetSpec

MODEL = "L-layer model"
"""The part that checks the whole model: L_model_forward, compute_cost and L_model_backward."""

BLOCKS = ("linear_backward", "relu_backward", "sigmoid_backward", "linear_activation_backward")
"""The building blocks' backward functions, each checked on its own part."""

REGULARISATION = "L2 regularisation"
"""The part that checks the regularisation exercise's L2 regularisation (deeplearning.ai course 2, week 1):
compute_cost_with_regularization and backward_propagation_with_regularization, on the file's forward_propagation
when it has one (else reg_utils', the reference's)."""

DROPOUT = "dropout"
"""The part that checks the regularisation exercise's dropout: forward_propagation_with_dropout and
backward_propagation_with_dropout, with the file's compute_cost when it has one (else reg_utils', the reference's)."""

REGULARISATION_NOTEBOOK = (
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
    "forward_propagation_with_dropout",
    "backward_propagation_with_dropout",
)
"""The regularisation notebook's graded functions: a file that defines one of them gets the notebook's helper
modules (reg_utils, testCases) when it imports them without shipping them."""

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
        FunctionSpec("forward_propagation", ("X", "parameters"), "(A3, cache)", hold=(1,)),
        FunctionSpec("compute_cost_with_regularization", ("A3", "Y", "parameters", "lambd"), "cost"),
        FunctionSpec("backward_propagation_with_regularization", ("X", "Y", "cache", "lambd"), "gradients"),
        FunctionSpec("forward_propagation_with_dropout", ("X", "parameters", "keep_prob"), "(A3, cache)", hold=(1,)),
        FunctionSpec("backward_propagation_with_dropout", ("X", "Y", "cache", "keep_prob"), "gradients"),
    ),
    parts=(
        Part(MODEL, ("L_model_forward", "L_model_backward"), ("compute_cost",)),
        Part("linear_backward", ("linear_backward",), ("linear_forward",)),
        Part("relu_backward", ("relu_backward",), ("relu",), alone=False),  # the exercise's files have one too
        Part("sigmoid_backward", ("sigmoid_backward",), ("sigmoid",), alone=False),
        Part("linear_activation_backward", ("linear_activation_backward",), ("linear_activation_forward",)),
        Part(REGULARISATION, REGULARISATION_NOTEBOOK[:2], ("forward_propagation",)),
        Part(DROPOUT, REGULARISATION_NOTEBOOK[2:], ("compute_cost",)),
    ),
)
