"""The ``layers`` target as the judge runs it: one property test per backward (and per loss) the file implements."""

from __future__ import annotations

from functools import partial

import numpy as np

from gradharness.model.layer_case import LayerCase
from gradharness.model.layer_table import BACKWARD_OF
from gradharness.properties.runner import PropertyTest
from gradharness.settings import RunSettings
from gradharness.targets.layers.functions import LAYERS_SPEC
from gradharness.targets.layers.properties import LayerProperty, check_layer_case, properties_of
from gradharness.targets.target import Target, TargetFunctions
from strategies.layers import layer_cases

SMALL = 3
"""A failing case whose every dimension is at most this stops shrinking early."""


def small_case(case: LayerCase) -> bool:
    """Whether a failing case is small enough to stop shrinking early."""
    return all(max(np.shape(value), default=1) <= SMALL for value in case.arrays.values())


def layer_tests(functions: TargetFunctions, run: RunSettings) -> list[PropertyTest]:
    """One test per part the file implements: its backward (or loss) on drawn calls of its layer."""
    options = run.strategy
    tests = []
    for part in functions.parts:
        layer = BACKWARD_OF[part]
        strategy = layer_cases(layer.name, max_size=min(options.max_units, 4), max_batch=min(options.max_batch, 4))
        check = partial(check_layer_case, functions, part, options=run.check)
        tests.append(PropertyTest(f"layers {part}", LAYERS_SPEC.name, properties_of(part), strategy, check, small_case))
    return tests


def _rubric() -> dict[str, float]:
    """One point for each backward's (each loss's) agreement."""
    parts = [part.name for part in LAYERS_SPEC.parts]
    return {properties_of(part)[0].name: 1.0 for part in parts}


TARGET = Target(LAYERS_SPEC, layer_tests, LayerProperty, _rubric(), operators="layers")
"""CS231n's layers: each backward's (each loss's) agreement is worth 1 point; the contract
properties are checked and reported, worth 0."""
