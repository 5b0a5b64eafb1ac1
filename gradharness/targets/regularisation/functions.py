"""The functions the ``regularisation`` target looks for, in the notebook's names and conventions
(deeplearning.ai course 2, week 1, "Regularization")."""

from __future__ import annotations

from gradharness.targets.functions import FunctionSpec, Part, TargetSpec

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

REGULARISATION_SPEC = TargetSpec(
    name="regularisation",
    title="the course's regularisation exercise: L2 regularisation and dropout on its 3-layer network",
    functions=(
        FunctionSpec("forward_propagation", ("X", "parameters"), "(A3, cache)", hold=(1,)),
        FunctionSpec("compute_cost", ("AL", "Y"), "cost"),
        FunctionSpec("compute_cost_with_regularization", ("A3", "Y", "parameters", "lambd"), "cost"),
        FunctionSpec("backward_propagation_with_regularization", ("X", "Y", "cache", "lambd"), "gradients"),
        FunctionSpec("forward_propagation_with_dropout", ("X", "parameters", "keep_prob"), "(A3, cache)", hold=(1,)),
        FunctionSpec("backward_propagation_with_dropout", ("X", "Y", "cache", "keep_prob"), "gradients"),
    ),
    parts=(
        Part(REGULARISATION, REGULARISATION_NOTEBOOK[:2], ("forward_propagation",)),
        Part(DROPOUT, REGULARISATION_NOTEBOOK[2:], ("compute_cost",)),
    ),
)
