"""gradharness: stress-test hand-written backpropagation with numerical gradient checks."""

from gradharness.check.checker import gradient_check_n
from gradharness.check.finite_diff import DEFAULT_EPSILON
from gradharness.check.result import BlockResult, EntryReport, GradientCheckResult, relative_difference
from gradharness.check.scalar import gradient_check
from gradharness.check.verdict import Verdict
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.network import (
    backward_propagation,
    backward_propagation_n,
    forward_propagation,
    forward_propagation_n,
    relu,
    sigmoid,
)
from gradharness.model.parameters import (
    LayerSizes,
    dictionary_to_vector,
    gradients_to_vector,
    vector_to_dictionary,
)
from gradharness.settings import DEFAULT_THRESHOLD, SEED_EPSILON

__all__ = [
    "DEFAULT_EPSILON",
    "DEFAULT_THRESHOLD",
    "SEED_EPSILON",
    "BlockResult",
    "EntryReport",
    "GradientCheckResult",
    "LayerSizes",
    "NetworkCase",
    "Verdict",
    "backward_propagation",
    "backward_propagation_n",
    "dictionary_to_vector",
    "forward_propagation",
    "forward_propagation_n",
    "gradient_check",
    "gradient_check_n",
    "gradients_to_vector",
    "relative_difference",
    "relu",
    "seed_test_case",
    "sigmoid",
    "vector_to_dictionary",
]
