"""The ``deep`` target as the judge runs it: one property test per part of it the file implements."""

from __future__ import annotations

from functools import partial

from gradharness.properties.runner import PropertyTest
from gradharness.settings import RunSettings
from gradharness.targets.deep.functions import BLOCKS, DEEP, MODEL
from gradharness.targets.deep.properties import (
    BLOCK_PROPERTY,
    MODEL_ORDER,
    DeepProperty,
    check_block_case,
    check_model_case,
)
from gradharness.targets.target import Target, TargetFunctions
from strategies.deep import block_cases, deep_cases

COURSE_OUTPUTS = 1
"""Output units unless ``--output-size`` says otherwise: the course's L_model_forward asserts AL.shape == (1, m)."""

SMALL_UNITS = 3
"""A failing case with at most this many units per layer and examples stops shrinking early."""


def small_model(case) -> bool:
    """Whether a failing network case is small enough to stop shrinking early."""
    return max(case.sizes.dims) <= SMALL_UNITS and case.m <= SMALL_UNITS


def _small_block(case) -> bool:
    return all(max(value.shape) <= SMALL_UNITS for value in case.arrays.values())


def deep_tests(functions: TargetFunctions, run: RunSettings) -> list[PropertyTest]:
    """The model's test when the file has the model, and one test per building block it defines."""
    options = run.strategy
    tests = []
    if MODEL in functions.parts:
        model = [p for p in MODEL_ORDER if run.check.reference or p.name != "MODEL_MATCHES"]
        strategy = deep_cases(
            min_layers=options.min_layers, max_layers=options.max_layers, max_units=options.max_units,
            output_size=options.n3 or COURSE_OUTPUTS, batch_size=options.batch_size, max_batch=options.max_batch,
        )  # fmt: skip
        check = partial(check_model_case, functions, options=run.check)
        tests.append(PropertyTest(MODEL, DEEP.name, tuple(model), strategy, check, small_model))
    for block in BLOCKS:
        if block in functions.parts:
            blocks = block_cases(block, max_units=options.max_units, max_batch=options.max_batch)
            check_block = partial(check_block_case, functions, options=run.check)
            prop = (BLOCK_PROPERTY[block],)
            tests.append(PropertyTest(block, DEEP.name, prop, blocks, check_block, _small_block, f"{block}'s "))
    return tests


TARGET = Target(
    DEEP,
    deep_tests,
    DeepProperty,
    {
        DeepProperty.MODEL_AGREES.name: 6.0,
        DeepProperty.LINEAR_BACKWARD.name: 2.0,
        DeepProperty.LINEAR_ACTIVATION_BACKWARD.name: 2.0,
    },
    operators="deep",
)
"""The course's graded functions: the L-layer model 6 points, linear_backward 2, linear_activation_backward 2
(relu_backward and sigmoid_backward come with the course's dnn_utils: checked when a file defines them, worth 0)."""
