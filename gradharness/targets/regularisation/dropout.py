"""The properties of the ``deep`` target's dropout part (deeplearning.ai course 2, week 1, "Regularization"): the
notebook's 3-layer network with dropout, one check per case.

Checked as the L2 part is (:mod:`gradharness.targets.regularisation.properties`, whose properties and helpers these are),
against the numerical gradient of ``compute_cost(forward_propagation_with_dropout(X, parameters, keep_prob)[0],
Y)`` (the reference's reg_utils ``compute_cost`` unless the file defines one), numpy's global generator seeded
with the case's seed just before every call of the forward, so every perturbed point draws the same masks. A
forward that is not deterministic under a fixed seed fails a property of its own, never a gradient one: two calls
seeded alike must return the same A3, and before an A3 that is not the course's or gradients that disagree are
reported, more calls must too (masks drawn elsewhere can agree on a few calls by chance).

The kinks set aside are those of the ReLUs the masks keep, and dA1, dA2 are compared with the gradients of the
reference network's cost under those masks: the masks are known once the file's A3 is the course's for the masks
``np.random.rand`` draws after the case's seed, or after the course's own ``np.random.seed(1)``, which the
notebook's ``forward_propagation_with_dropout`` calls first. Where both give the file's A3 and differ (only in
units that are off), the kinks of both are set aside and dA1, dA2 are not compared on that case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import Enum
from functools import partial

import numpy as np

from gradharness.check.finite_diff import Perturbations, PerturbedCosts
from gradharness.check.program import Call, Output, Varied
from gradharness.check.result import GradientCheckResult
from gradharness.check.verdict import NOISE_SAFETY, Verdict
from gradharness.model import regularised as reference
from gradharness.model.regularised_case import DropoutCase
from gradharness.model.regularised_passes import (
    Masks,
    dropout_cost_roundoff,
    dropout_masks,
    kink_flags,
    masked_forward,
)
from gradharness.properties.failures import PropertyFailure
from gradharness.properties.properties import CaseOutcome
from gradharness.properties.reference import cost_hint
from gradharness.records.status import FailureKind
from gradharness.settings import CheckOptions
from gradharness.targets.findings import (
    UNIT_ROUNDOFF,
    called,
    close,
    fail,
    pair,
    returned_array,
)
from gradharness.targets.regularisation.properties import (
    BackwardChecks,
    Objective,
    RegularisationProperty,
    agreement,
    checked_gradients,
    course_costs,
    known_mistake,
    output_A3,
    scalar_cost,
    scalar_results,
)
from gradharness.targets.target import TargetFunctions

P = RegularisationProperty
FORWARD, BACKWARD = "forward_propagation_with_dropout", "backward_propagation_with_dropout"
COURSE_SEED = 1
"""The seed the notebook's forward_propagation_with_dropout gives numpy's global generator before its masks."""
DROPOUT_BACKWARD = BackwardChecks(
    BACKWARD, f"{FORWARD}, compute_cost or {BACKWARD}", P.DROPOUT_SHAPES, P.DROPOUT_UNCHANGED, P.DROPOUT_AGREES
)
"""The dropout part's checks of its backward before its agreement."""
RECHECKS = 16
"""More calls of the forward, seeded alike, before an A3 that is not the course's, or gradients that disagree, are
said to be so (a forward drawing its masks from elsewhere then returns another A3 on one of them)."""


def _seeded_forward(fns: TargetFunctions, case: DropoutCase, prop: Enum, X: np.ndarray, parameters: dict):
    """A3 and the cache of the file's forward, numpy's global generator seeded with the case's seed first."""
    call = partial(fns.call, FORWARD, seed=case.seed)
    returned = called(prop, case, FORWARD, call, X, parameters, case.keep_prob)
    A3, cache = pair(prop, case, FORWARD, returned, "(A3, cache)")
    return output_A3(prop, case, FORWARD, A3), cache


def _dropout_cost(fns: TargetFunctions, case: DropoutCase, A3: np.ndarray, Y: np.ndarray) -> float:
    if "compute_cost" not in fns.functions:
        with np.errstate(all="ignore"):
            return reference.compute_cost(A3, Y)
    returned = called(P.DROPOUT_FORWARD, case, "compute_cost", fns.functions["compute_cost"], A3, Y)
    return scalar_cost(P.DROPOUT_FORWARD, case, "compute_cost", returned)


def _deterministic(fns: TargetFunctions, case: DropoutCase, A3: np.ndarray, calls: int = 1) -> None:
    """Raise DROPOUT_DETERMINISTIC when one of ``calls`` more calls, seeded alike, returns another A3."""
    prop = P.DROPOUT_DETERMINISTIC
    for _ in range(calls):
        again, _ = _seeded_forward(fns, case, prop, case.X.copy(), case.copy_parameters())
        if np.array_equal(A3, again, equal_nan=True):
            continue
        where = np.unravel_index(int(np.argmax(np.abs(A3 - again))), A3.shape)
        message = (
            f"{FORWARD} returned A3{list(map(int, where))} = {A3[where]:.6g}, then {again[where]:.6g}, on "
            f"two calls with numpy's global generator seeded with {case.seed} for {case.describe()}: its masks do "
            "not come from np.random (a generator of its own, np.random.default_rng()?)"
        )
        raise fail(prop, message, FailureKind.WRONG, case)


def course_masks(case: DropoutCase) -> list[tuple[int, Masks]]:
    """The masks the course's forward would draw: after the case's seed, and after the notebook's own seed."""
    n1, n2 = case.sizes.dims[1:3]
    seeds = [case.seed] + ([COURSE_SEED] if case.seed != COURSE_SEED else [])
    return [(seed, dropout_masks(seed, case.keep_prob, n1, n2, case.m)) for seed in seeds]


def _masks_of(case: DropoutCase, A3: np.ndarray) -> list[tuple[int, Masks]]:
    """The seeds and masks the file's forward may have drawn, as far as its A3 tells: those of the course's whose
    A3 it returned (several where they differ only in units that are off; none: neither)."""
    matched = []
    for seed, masks in course_masks(case):
        expected = masked_forward(case.X, case.parameters, masks, case.keep_prob).A3
        if close(A3, expected, float(np.max(np.abs(expected), initial=0.0))):
            matched.append((seed, masks))
    return matched


def _known(matched: Sequence[tuple[int, Masks]]) -> tuple[int, Masks] | None:
    """The one seed and masks the file drew, when its A3 leaves one possibility (or several with the same masks)."""
    if not matched:
        return None
    first = matched[0][1]
    same = all(all(np.array_equal(a, b) for a, b in zip(first, masks, strict=True)) for _, masks in matched)
    return matched[0] if same else None


def _dropout_matches(fns: TargetFunctions, case: DropoutCase, A3: np.ndarray, cost: float) -> None:
    prop = P.DROPOUT_MATCHES
    matched = _masks_of(case, A3)
    if not matched:
        # Masks from elsewhere may have drawn alike twice (few units, few examples): more calls tell.
        _deterministic(fns, case, A3, RECHECKS)
        seed, masks = course_masks(case)[0]
        expected = masked_forward(case.X, case.parameters, masks, case.keep_prob).A3
        what = f"the course's A3 (masks np.random.rand draws after np.random.seed({seed}))"
        returned_array(prop, case, FORWARD, A3, expected, what)
        return  # unreachable: _activation_output raises when A3 is not the expected one
    if "compute_cost" not in fns.functions:
        return
    masks = matched[0][1]  # any of them: they give the same A3
    expected_cost = reference.compute_cost(masked_forward(case.X, case.parameters, masks, case.keep_prob).A3, case.Y)
    roundoff = dropout_cost_roundoff(case.X, case.Y, case.parameters, masks, case.keep_prob)
    if not abs(cost - expected_cost) <= 2.0 * NOISE_SAFETY * roundoff + 64 * UNIT_ROUNDOFF * abs(expected_cost):
        hint = cost_hint(cost, expected_cost, case.m, case.sizes.dims[-1])
        message = f"compute_cost returns {cost:.6g} where the course's cost is {expected_cost:.6g}{hint}"
        raise fail(prop, message, FailureKind.WRONG, case)


def check_dropout_case(fns: TargetFunctions, case: DropoutCase, options: CheckOptions) -> CaseOutcome:
    """Every property of the dropout part on one case; raise the first that fails."""
    X, Y = case.X.copy(), case.Y.copy()
    parameters = case.copy_parameters()
    ran: list[Enum] = [P.DROPOUT_FORWARD]
    A3, cache = _seeded_forward(fns, case, P.DROPOUT_FORWARD, X, parameters)
    cost = _dropout_cost(fns, case, A3, Y)
    saturated = not np.all((A3 > 0) & (A3 < 1))
    if not math.isfinite(cost) and not saturated:
        message = f"compute_cost returned {cost} for {case.describe()}, where the cost is finite"
        raise fail(P.DROPOUT_FORWARD, message, FailureKind.NONFINITE, case)

    ran.append(P.DROPOUT_DETERMINISTIC)
    _deterministic(fns, case, A3)
    if options.reference:
        ran.append(P.DROPOUT_MATCHES)
        _dropout_matches(fns, case, A3, cost)

    gradients = checked_gradients(DROPOUT_BACKWARD, fns, case, ran, (X, Y, parameters), cache, case.keep_prob)
    if not math.isfinite(cost):
        return CaseOutcome(tuple(ran), Verdict.SATURATED)
    matched = _masks_of(case, A3)
    drawn = _known(matched)
    # Masks A3 does not tell apart: the kinks of each set aside, the activations' gradients (whose masks the
    # backward applies) not checked. Masks the course would not draw (only with the reference comparison off):
    # every unit taken as kept.
    possible = [masks for _, masks in matched] or [_every_unit(case)]
    objective = Objective(
        partial(_dropout_costs, fns, case),
        max(dropout_cost_roundoff(case.X, case.Y, case.parameters, masks, case.keep_prob) for masks in possible),
        partial(_any_kink, case, possible),
        drawn[1] if drawn is not None else None,
        case.keep_prob,
    )
    checked = gradients if drawn is not None else {k: v for k, v in gradients.items() if not k.startswith("dA")}
    hint = partial(_dropout_mistake, case, gradients, drawn)
    try:
        result = agreement(P.DROPOUT_AGREES, FORWARD, case, checked, objective, options, hint)
    except PropertyFailure as failure:
        disagreement = failure
    else:
        return CaseOutcome(tuple(ran), result.verdict)
    # A forward whose masks come from elsewhere can return the same A3 on a few calls by chance, and then other
    # masks at the perturbed points: that is its failure, not the backward's (raised outside the except, so that
    # Hypothesis takes it for the same failure as the one the first calls show).
    _deterministic(fns, case, A3, RECHECKS)
    raise disagreement


def _dropout_costs(fns: TargetFunctions, case: DropoutCase, groups: Sequence[Perturbations]) -> PerturbedCosts:
    """The cost at every perturbed point, in one round trip, the forward seeded alike before each call."""
    program = [Call(FORWARD, (case.X, case.copy_parameters(), case.keep_prob), seed=case.seed)]
    own_cost = "compute_cost" in fns.functions
    if own_cost:
        program.append(Call("compute_cost", (Output(0, 0), case.Y)))
    varied = [Varied(1, g.block, np.asarray(g.indices), np.asarray(g.steps)) for g in groups]
    answered = fns.programs(program, varied, Output(1) if own_cost else Output(0, 0)) if varied else []
    if own_cost:
        return [(scalar_results(plus), scalar_results(minus)) for plus, minus in answered]
    return [(course_costs(plus, case.Y), course_costs(minus, case.Y)) for plus, minus in answered]


def _any_kink(case: DropoutCase, possible: Sequence[Masks], steps: np.ndarray) -> np.ndarray:
    """The entries at a kink under any of the possible masks."""
    flags = [kink_flags(case.X, case.parameters, steps, masks=masks, keep_prob=case.keep_prob) for masks in possible]
    return np.logical_or.reduce(flags)


def _every_unit(case: DropoutCase) -> Masks:
    n1, n2 = case.sizes.dims[1:3]
    return np.ones((n1, case.m), dtype=bool), np.ones((n2, case.m), dtype=bool)


def course_cache(case: DropoutCase, seed: int) -> tuple:
    """The cache of the reference's forward with its masks drawn after ``np.random.seed(seed)`` (numpy's global
    state restored after)."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        return reference.forward_propagation_with_dropout(case.X, case.copy_parameters(), case.keep_prob)[1]
    finally:
        np.random.set_state(state)


def _dropout_mistake(
    case: DropoutCase, gradients: Mapping[str, np.ndarray], drawn: tuple[int, Masks] | None, result: GradientCheckResult
) -> str:
    """What a known dropout mistake would make of the wrong gradients, named when it is what the backward returned."""
    if drawn is None or case.keep_prob == 1.0:
        return ""
    cache = course_cache(case, drawn[0])
    unmasked = (*cache[:1], np.ones_like(cache[1]), *cache[2:6], np.ones_like(cache[6]), *cache[7:])
    backward = reference.backward_propagation_with_dropout
    mistakes = {
        "the mask D missing from dA": backward(case.X, case.Y, unmasked, case.keep_prob),
        "the / keep_prob missing from dA": backward(case.X, case.Y, cache, 1.0),
    }
    return known_mistake(gradients, result, mistakes)
