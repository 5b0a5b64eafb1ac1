"""The ``regularisation`` target as the judge runs it: one property test per part of it the file implements."""

from __future__ import annotations

from functools import partial

from gradharness.properties.runner import PropertyTest
from gradharness.settings import RunSettings
from gradharness.targets.deep.target import COURSE_OUTPUTS, small_model
from gradharness.targets.regularisation.dropout import check_dropout_case
from gradharness.targets.regularisation.functions import DROPOUT, REGULARISATION, REGULARISATION_SPEC
from gradharness.targets.regularisation.properties import (
    DROPOUT_ORDER,
    L2_ORDER,
    MATCHES,
    RegularisationProperty,
    check_l2_case,
)
from gradharness.targets.target import Target, TargetFunctions
from strategies.regularised import dropout_cases, regularisation_cases


def regularisation_tests(functions: TargetFunctions, run: RunSettings) -> list[PropertyTest]:
    """The regularisation exercise's L2 and dropout tests, for the parts the file has: its 3-layer network drawn
    at any sizes (the depth options aside), one output unit unless ``--output-size`` says otherwise."""
    options = run.strategy
    parts = (
        (REGULARISATION, L2_ORDER, regularisation_cases, check_l2_case),
        (DROPOUT, DROPOUT_ORDER, dropout_cases, check_dropout_case),
    )
    tests = []
    for part, order, cases, check in parts:
        if part in functions.parts:
            properties = tuple(p for p in order if run.check.reference or p not in MATCHES)
            checked = partial(check, functions, options=run.check)
            strategy = cases(
                max_units=options.max_units, output_size=options.n3 or COURSE_OUTPUTS,
                batch_size=options.batch_size, max_batch=options.max_batch,
            )  # fmt: skip
            tests.append(
                PropertyTest(part, REGULARISATION_SPEC.name, properties, strategy, checked, small_model, f"{part}'s ")
            )
    return tests


TARGET = Target(
    REGULARISATION_SPEC,
    regularisation_tests,
    RegularisationProperty,
    {RegularisationProperty.L2_AGREES.name: 5.0, RegularisationProperty.DROPOUT_AGREES.name: 5.0},
    operators="regularised",
)
"""The notebook's graded backward passes: L2 regularisation 5 points, dropout 5."""
