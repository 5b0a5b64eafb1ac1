"""gradharness: stress-test hand-written backpropagation with numerical gradient checks."""

from __future__ import annotations

import os
import sys

if sys.argv[:1] == ["-m"]:
    # ``python -m gradharness`` puts the current folder first on sys.path, and that folder may hold
    # a submission's numpy.py or typing.py: gradharness's own imports must never find those.
    sys.path[:] = [entry for entry in sys.path if entry not in ("", os.getcwd())]

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from gradharness.targets.signature import LayerCheck, assert_layer, check_layer

# The public names are imported on first use: the evaluator process, which only loads a user's file,
# starts without the checker (a tenth of a second per checked file).
_HOMES = {
    "gradient_check_n": "gradharness.check.checker",
    "DEFAULT_EPSILON": "gradharness.check.finite_diff",
    "BlockResult": "gradharness.check.result",
    "EntryReport": "gradharness.check.result",
    "GradientCheckResult": "gradharness.check.result",
    "relative_difference": "gradharness.check.result",
    "gradient_check": "gradharness.check.scalar",
    "Verdict": "gradharness.check.verdict",
    "NetworkCase": "gradharness.model.case",
    "seed_test_case": "gradharness.model.case",
    "backward_propagation": "gradharness.model.network",
    "backward_propagation_n": "gradharness.model.network",
    "forward_propagation": "gradharness.model.network",
    "forward_propagation_n": "gradharness.model.network",
    "relu": "gradharness.model.network",
    "sigmoid": "gradharness.model.network",
    "LayerSizes": "gradharness.model.parameters",
    "dictionary_to_vector": "gradharness.model.parameters",
    "gradients_to_vector": "gradharness.model.parameters",
    "vector_to_dictionary": "gradharness.model.parameters",
    "DEFAULT_THRESHOLD": "gradharness.settings",
    "SEED_EPSILON": "gradharness.settings",
    "LayerCheck": "gradharness.targets.signature",
    "assert_layer": "gradharness.targets.signature",
    "check_layer": "gradharness.targets.signature",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gradharness' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_EPSILON",
    "DEFAULT_THRESHOLD",
    "SEED_EPSILON",
    "BlockResult",
    "EntryReport",
    "GradientCheckResult",
    "LayerCheck",
    "LayerSizes",
    "NetworkCase",
    "Verdict",
    "assert_layer",
    "backward_propagation",
    "backward_propagation_n",
    "check_layer",
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
