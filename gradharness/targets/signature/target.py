"""The ``signature`` target as the judge runs it: one property test per part of each layer a file implements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial

from gradharness.model.signature import SignatureCase
from gradharness.properties.runner import PropertyTest
from gradharness.settings import RunSettings
from gradharness.targets.signature.functions import SIGNATURE, SignedLayer, signature_spec
from gradharness.targets.signature.properties import check_signature_case, part_properties, signature_properties
from gradharness.targets.target import Target, TargetFunctions
from strategies.signature import fitting_max_size, signature_cases

SMALL = 3
"""A failing case whose every size is at most this stops shrinking early."""
CONTRACT = "_CONTRACT"


def small_case(case: SignatureCase) -> bool:
    """Whether a failing case is small enough to stop shrinking early."""
    return all(size <= SMALL for size in case.sizes.values())


def signature_target(layers: Sequence[SignedLayer]) -> Target:
    """The target for these layers: a test per part (a backward, a loss function), each agreement 1 point."""
    by_part = {part: layer for layer in layers for part in layer.parts()}
    properties = signature_properties(layers)

    def tests(functions: TargetFunctions, run: RunSettings) -> list[PropertyTest]:
        out = []
        for part in functions.parts:
            layer = by_part[part]
            largest = fitting_max_size(layer.signature, max(1, min(run.strategy.max_units, 5)))
            strategy = signature_cases(layer.signature, max_size=largest)
            both = part_properties(properties, part)
            check = partial(check_signature_case, functions, layer, part, both, options=run.check)
            out.append(PropertyTest(f"signature {part}", SIGNATURE, both, strategy, check, small_case))
        return out

    rubric = signature_rubric(prop.name for prop in properties)
    return Target(signature_spec(layers), tests, properties, rubric, operators=None)


def signature_rubric(properties: Iterable[str]) -> dict[str, float]:
    """The default points of a record's ``signature`` properties: 1 for each agreement, 0 for each contract."""
    return {name: 1.0 for name in properties if not name.endswith(CONTRACT)}
