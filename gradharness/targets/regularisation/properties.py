"""The properties of the ``deep`` target's regularisation exercise (deeplearning.ai course 2, week 1,
"Regularization"), and the checks of its L2 part: the notebook's 3-layer network, one check per case.

Each part is checked as the L-layer model is (:mod:`gradharness.targets.deep.properties`, whose helpers these
reuse): its cost is the course's, its gradients dW1 ... db3 (and dA1, dA2 when it returns them) have their
shapes, it leaves its inputs alone, and the backward agrees with the numerical gradient of the file's own program,
through the evaluator; dA1 and dA2 with that of the reference network's cost as a function of the activation (the
course's dA are gradients of the summed loss: m times the cost's). The dropout part's checks are in
:mod:`gradharness.targets.regularisation.dropout`.

The L2 part's program is ``compute_cost_with_regularization(forward_propagation(X, parameters)[0], Y, parameters,
lambd)``, the parameters moved in both calls (:class:`~gradharness.check.program.Argument`);
``forward_propagation`` is the file's own when it defines one, else the reference's (reg_utils', which the
notebook imports), whose A3 at every perturbed point the judge computes and gives alongside
(:class:`~gradharness.check.program.Alongside`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any

import numpy as np

from gradharness.check.arrays import check_arrays
from gradharness.check.finite_diff import Perturbations, PerturbedCosts, cost_of
from gradharness.check.program import Alongside, Argument, Call, Output, Varied
from gradharness.check.result import GradientCheckResult
from gradharness.check.verdict import NOISE_SAFETY, Verdict
from gradharness.model import deep
from gradharness.model import regularised as reference
from gradharness.model.keys import matching_key
from gradharness.model.regularised_case import RegularisationCase
from gradharness.model.regularised_passes import (
    NAMES,
    Masks,
    activation_costs,
    activation_kink_flags,
    hidden_activations,
    l2_cost_roundoff,
    l2_term,
    perturbed_passes,
)
from gradharness.properties.properties import CaseOutcome, gradient_array
from gradharness.properties.reference import cost_hint
from gradharness.records.status import FailureKind
from gradharness.settings import CheckOptions
from gradharness.targets.findings import (
    FAILURES,
    UNIT_ROUNDOFF,
    called,
    fail,
    finite,
    pair,
    register_failures,
    returned_array,
    unchanged_inputs,
)
from gradharness.targets.model_checks import agreed, inputs_given
from gradharness.targets.target import TargetFunctions

ACTIVATION_LAYERS = (1, 2)
"""The hidden layers whose activations' gradients (the course's dA1, dA2) are checked when a backward returns them."""
HINT_TOLERANCE = 1e-7
"""How close (relative) a wrong gradient must be to a known mistake's for the message to name that mistake."""

FORWARD, COST, BACKWARD = (
    "forward_propagation",
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
)


class RegularisationProperty(Enum):
    """What the ``regularisation`` target asserts of the exercise's functions."""

    L2_COST = "compute_cost_with_regularization returns a finite scalar cost (forward_propagation (A3, cache))"
    L2_MATCHES = (
        "compute_cost_with_regularization returns the course's cross-entropy plus lambd / (2m) times the sum of the "
        "squared weights (forward_propagation the network's A3)"
    )
    L2_SHAPES = (
        "backward_propagation_with_regularization returns dW1 ... db3 (and dA1, dA2 when it returns them), each with "
        "its shape, in float64"
    )
    L2_UNCHANGED = (
        "forward_propagation, compute_cost_with_regularization and backward_propagation_with_regularization leave X, "
        "Y and the parameters unchanged"
    )
    L2_AGREES = (
        "backward_propagation_with_regularization agrees with the numerical gradient of "
        "compute_cost_with_regularization(forward_propagation(X, parameters)[0], Y, parameters, lambd)"
    )
    DROPOUT_FORWARD = "forward_propagation_with_dropout returns (A3, cache) and compute_cost a finite scalar cost"
    DROPOUT_DETERMINISTIC = (
        "forward_propagation_with_dropout is deterministic under a fixed RNG state (the same A3 when numpy's global "
        "generator is seeded alike)"
    )
    DROPOUT_MATCHES = (
        "forward_propagation_with_dropout returns the course's A3 for the masks np.random.rand draws, and "
        "compute_cost the course's cross-entropy"
    )
    DROPOUT_SHAPES = (
        "backward_propagation_with_dropout returns dW1 ... db3 (and dA1, dA2 when it returns them), each with its "
        "shape, in float64"
    )
    DROPOUT_UNCHANGED = (
        "forward_propagation_with_dropout, compute_cost and backward_propagation_with_dropout leave X, Y and the "
        "parameters unchanged"
    )
    DROPOUT_AGREES = (
        "backward_propagation_with_dropout agrees with the numerical gradient of "
        "compute_cost(forward_propagation_with_dropout(X, parameters, keep_prob)[0], Y), under the same masks"
    )


register_failures(RegularisationProperty)

P = RegularisationProperty
L2_ORDER = (P.L2_COST, P.L2_MATCHES, P.L2_SHAPES, P.L2_UNCHANGED, P.L2_AGREES)
"""The L2 part's properties in the order a case checks them."""
DROPOUT_ORDER = (
    P.DROPOUT_FORWARD, P.DROPOUT_DETERMINISTIC, P.DROPOUT_MATCHES, P.DROPOUT_SHAPES, P.DROPOUT_UNCHANGED,
    P.DROPOUT_AGREES,
)  # fmt: skip
"""The dropout part's properties in the order a case checks them."""
MATCHES = (P.L2_MATCHES, P.DROPOUT_MATCHES)
"""The properties that compare with the reference (left out with ``reference`` off)."""


# -- shared -------------------------------------------------------------------------------------------------


def scalar_cost(prop: Enum, case: Any, name: str, returned: object) -> float:
    try:
        return cost_of(returned)
    except (TypeError, ValueError) as exc:
        raise fail(prop, f"{name}: {str(exc).replace('forward', name)}", FailureKind.MALFORMED, case) from None


def output_A3(prop: Enum, case: Any, name: str, value: object) -> np.ndarray:
    shape = (case.sizes.dims[-1], case.m)
    return gradient_array("A3", value, shape, failure=FAILURES[prop], case=case, expected=f"for {case.describe()}")


def parameter_gradients(prop: Enum, function: str, returned: object, case: Any) -> dict[str, np.ndarray]:
    """dW1 ... db3 from what a backward returned (keys in either case), each with its parameter's shape, and dA1
    and dA2 when it returns them (the course's do), each with its activation's shape."""
    if not isinstance(returned, Mapping):
        message = f"{function} returned {type(returned).__name__}, expected a dict of gradients"
        raise fail(prop, message, FailureKind.MALFORMED, case)
    gradients = {}
    shapes = {f"d{name}": np.shape(case.parameters[name]) for name in NAMES}
    for layer in ACTIVATION_LAYERS:
        shapes[f"dA{layer}"] = (case.sizes.dims[layer], case.m)
    for name, shape in shapes.items():
        key = matching_key(returned, name)
        if key is None or returned[key] is None:
            if name.startswith("dA"):
                continue
            keys = ", ".join(sorted(map(str, returned))) or "none"
            raise fail(prop, f"{function} returned no {name} (keys: {keys})", FailureKind.MALFORMED, case)
        of = f"(the shape of {name[1:]}) for {case.describe()}"
        gradients[name] = gradient_array(name, returned[key], shape, failure=FAILURES[prop], case=case, expected=of)
    return gradients


@dataclass(frozen=True)
class BackwardChecks:
    """What a part's backward is checked for before its agreement: the shapes of its gradients, that the part's
    functions (named in ``functions``) leave their inputs alone, and that the gradients are finite (the first
    check of ``agrees``)."""

    backward: str
    functions: str
    shapes: Enum
    unchanged: Enum
    agrees: Enum


def checked_gradients(
    checks: BackwardChecks,
    fns: TargetFunctions,
    case: Any,
    ran: list[Enum],
    given: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]],
    cache: object,
    setting: float,
) -> dict[str, np.ndarray]:
    """The gradients the file's backward returns for ``given`` (X, Y and the parameters the part's functions were
    given), its ``cache`` and ``setting`` (lambd, keep_prob), each property appended to ``ran`` as it is checked;
    raise the first that fails."""
    X, Y, parameters = given
    ran.append(checks.shapes)
    returned = called(checks.shapes, case, checks.backward, fns.functions[checks.backward], X, Y, cache, setting)
    gradients = parameter_gradients(checks.shapes, checks.backward, returned, case)

    ran.append(checks.unchanged)
    arrays, pristine = inputs_given(case, X, Y, parameters)
    unchanged_inputs(checks.unchanged, case, arrays, pristine, checks.functions)

    ran.append(checks.agrees)
    finite(checks.agrees, gradients, case)
    return gradients


def scalar_results(results: np.ndarray) -> np.ndarray:
    """The costs a program returned, one per point (NaN where a result is not one number)."""
    flat = results.reshape(results.shape[0], -1) if results.ndim else results.reshape(1, 1)
    return flat[:, 0] if flat.shape[1] == 1 else np.full(flat.shape[0], np.nan)


def course_costs(results: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The reference compute_cost of each A3 a program returned (NaN where one is not finite)."""
    with np.errstate(all="ignore"):
        return np.array([reference.compute_cost(A3, Y) if np.all(np.isfinite(A3)) else np.nan for A3 in results])


@dataclass(frozen=True)
class Objective:
    """What a part's backward is checked against: the file's cost at perturbed parameters (``costs``), its round-off
    bound and kinks, and the masks and keep_prob of the network the activations' gradients are taken in."""

    costs: Callable[[Sequence[Perturbations]], PerturbedCosts]
    roundoff: float
    kinks: Callable[[np.ndarray], np.ndarray]
    masks: Masks | None = None
    keep_prob: float = 1.0


def agreement(
    prop: Enum,
    function: str,
    case: Any,
    gradients: Mapping[str, np.ndarray],
    objective: Objective,
    options: CheckOptions,
    hint: Callable[[GradientCheckResult], str],
) -> GradientCheckResult:
    """The backward's dW1 ... db3 against the centred differences of the objective's costs, and its dA1 and dA2
    (when it returns them) against those of the reference network's cost as a function of that activation before
    dropout; raise ``prop`` if they disagree."""
    point = {name: np.array(case.parameters[name], dtype=np.float64, copy=True) for name in NAMES}
    hidden = hidden_activations(case.X, case.parameters, objective.masks, objective.keep_prob)
    for layer in ACTIVATION_LAYERS:
        if f"dA{layer}" in gradients:
            point[f"A{layer}"] = hidden[layer - 1]
    backprop = {name: gradients[f"d{name}"] for name in point}
    # The activations' costs are scaled by m (see _costs): so is their rounding.
    roundoff = objective.roundoff * (case.m if len(point) > len(NAMES) else 1)
    check = partial(
        check_arrays, point, backprop, partial(_costs, objective, case, point), roundoff=roundoff,
        kinks=partial(_kinks, objective, case, point), gradient_names=[f"d{n}" for n in point],
        epsilon=options.epsilon, threshold=options.threshold,
    )  # fmt: skip
    return agreed(prop, function, case, check, hint)


def _costs(objective: Objective, case: Any, point: Mapping[str, np.ndarray], groups: Sequence[Perturbations]):
    """The parameters' costs from the objective (one round trip), the activations' from the reference network."""
    remote = [group for group in groups if group.block in NAMES]
    answered = iter(objective.costs(remote) if remote else [])
    out: PerturbedCosts = []
    for group in groups:
        if group.block in NAMES:
            out.append(next(answered))
            continue
        layer = int(group.block[1:])
        plus, minus = activation_costs(
            layer, point[group.block], case.parameters, case.Y, group.indices, group.steps,
            masks=objective.masks, keep_prob=objective.keep_prob,
        )  # fmt: skip
        # The course's dA are gradients of the loss summed over the examples: m times the cost's.
        out.append((case.m * plus, case.m * minus))
    return out


def _kinks(objective: Objective, case: Any, point: Mapping[str, np.ndarray], steps: np.ndarray) -> np.ndarray:
    sizes = [value.size for value in point.values()]
    parts = dict(zip(point, np.split(steps, np.cumsum(sizes)[:-1]), strict=True))
    flags = [objective.kinks(np.concatenate([parts[name] for name in NAMES]))]
    for name in point:
        if name not in NAMES:
            flags.append(
                activation_kink_flags(
                    int(name[1:]), point[name], case.X, case.parameters, parts[name],
                    masks=objective.masks, keep_prob=objective.keep_prob,
                )
            )  # fmt: skip
    return np.concatenate(flags)


def known_mistake(
    gradients: Mapping[str, np.ndarray], result: GradientCheckResult, mistakes: Mapping[str, Mapping[str, Any]]
) -> str:
    """`` (the mistake?)`` when every wrong block is what one known mistake makes of it, else ''."""
    wrong = list(result.wrong_blocks)
    for mistake, made in mistakes.items():
        if wrong and all(_near(gradients[block], made[block]) for block in wrong):
            return f" ({mistake}?)"
    return ""


def _near(value: np.ndarray, expected: object) -> bool:
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return value.shape == expected.shape and bool(np.all(np.abs(value - expected) <= HINT_TOLERANCE * scale))


# -- L2 regularisation --------------------------------------------------------------------------------------


def _l2_forward(fns: TargetFunctions, case: RegularisationCase, X: np.ndarray, parameters: dict[str, np.ndarray]):
    """A3 and the cache from the file's forward_propagation (None: the reference's, on the same arrays)."""
    if FORWARD not in fns.functions:
        A3, cache = reference.forward_propagation(X, parameters)
        return A3, cache
    returned = called(P.L2_COST, case, FORWARD, fns.functions[FORWARD], X, parameters)
    A3, cache = pair(P.L2_COST, case, FORWARD, returned, "(A3, cache)")
    return output_A3(P.L2_COST, case, FORWARD, A3), cache


def _l2_hint(case: RegularisationCase, expected: float, cost: float) -> str:
    """A likely reason why the regularised cost is off, in parentheses."""
    term = l2_term(case.Y, case.parameters, case.lambd)
    cross_entropy = expected - term
    if term > 0:
        biases = sum(float(np.sum(np.square(case.parameters[f"b{k}"]))) for k in (1, 2, 3))
        known = {
            "the L2 term lambd / (2m) * sum of squared weights missing": cross_entropy,
            "lambd / m where lambd / (2m) belongs": cross_entropy + 2 * term,
            "lambd / 2 without the 1 / m": cross_entropy + case.m * term,
            "the biases' squares summed too": expected + case.lambd / (2 * case.m) * biases,
        }
        for mistake, value in known.items():
            if math.isclose(cost, value, rel_tol=1e-9, abs_tol=1e-12):
                return f" ({mistake}?)"
    return cost_hint(cost, expected, case.m, case.sizes.dims[-1])


def _l2_matches(case: RegularisationCase, A3: np.ndarray, own_forward: bool, cost: float, saturated: bool) -> None:
    prop = P.L2_MATCHES
    reference_A3, _ = reference.forward_propagation(case.X, case.copy_parameters())
    if own_forward:
        returned_array(prop, case, FORWARD, A3, reference_A3, "the network's A3")
    if saturated:
        return
    expected = reference.compute_cost_with_regularization(reference_A3, case.Y, case.parameters, case.lambd)
    roundoff = l2_cost_roundoff(case.X, case.Y, case.parameters, case.lambd)
    tolerance = 2.0 * NOISE_SAFETY * roundoff + 64 * UNIT_ROUNDOFF * abs(expected)
    if not abs(cost - expected) <= tolerance:
        message = f"{COST} returns {cost:.6g} where the course's regularised cost is {expected:.6g}"
        raise fail(prop, message + _l2_hint(case, expected, cost), FailureKind.WRONG, case)


L2_BACKWARD = BackwardChecks(BACKWARD, f"{FORWARD}, {COST} or {BACKWARD}", P.L2_SHAPES, P.L2_UNCHANGED, P.L2_AGREES)
"""The L2 part's checks of its backward before its agreement."""


def check_l2_case(fns: TargetFunctions, case: RegularisationCase, options: CheckOptions) -> CaseOutcome:
    """Every property of the L2 part on one case; raise the first that fails."""
    X, Y = case.X.copy(), case.Y.copy()
    parameters = case.copy_parameters()
    ran: list[Enum] = [P.L2_COST]
    A3, cache = _l2_forward(fns, case, X, parameters)
    cost = scalar_cost(
        P.L2_COST, case, COST, called(P.L2_COST, case, COST, fns.functions[COST], A3, Y, parameters, case.lambd)
    )
    reference_A3, _ = reference.forward_propagation(case.X, case.copy_parameters())
    saturated = not np.all((reference_A3 > 0) & (reference_A3 < 1))
    if not math.isfinite(cost) and not saturated:
        message = f"{COST} returned {cost} for {case.describe()}, where the cost is finite"
        raise fail(P.L2_COST, message, FailureKind.NONFINITE, case)
    if options.reference:
        ran.append(P.L2_MATCHES)
        _l2_matches(case, A3, FORWARD in fns.functions, cost, saturated)

    gradients = checked_gradients(L2_BACKWARD, fns, case, ran, (X, Y, parameters), cache, case.lambd)
    if not math.isfinite(cost):
        return CaseOutcome(tuple(ran), Verdict.SATURATED)
    objective = Objective(
        partial(_l2_costs, fns, case),
        l2_cost_roundoff(case.X, case.Y, case.parameters, case.lambd),
        partial(deep.kink_flags, case.X, case.Y, case.parameters),
    )
    function = FORWARD if FORWARD in fns.functions else COST
    result = agreement(
        P.L2_AGREES, function, case, gradients, objective, options, partial(_l2_mistake, case, gradients)
    )
    return CaseOutcome(tuple(ran), result.verdict)


def _l2_costs(fns: TargetFunctions, case: RegularisationCase, groups: Sequence[Perturbations]) -> PerturbedCosts:
    """The file's regularised cost at every perturbed point, in one round trip: of its own forward's A3, or of the
    reference's A3 at each point, given alongside."""
    parameters = case.copy_parameters()
    varied = []
    if FORWARD in fns.functions:
        program = [
            Call(FORWARD, (case.X, parameters)),
            Call(COST, (Output(0, 0), case.Y, Argument(1), case.lambd)),
        ]
        varied = [Varied(1, g.block, np.asarray(g.indices), np.asarray(g.steps)) for g in groups]
        result = Output(1)
    else:
        A3, _ = reference.forward_propagation(case.X, parameters)
        program = [Call(COST, (A3, case.Y, parameters, case.lambd))]
        for group in groups:
            indices, steps = np.asarray(group.indices), np.asarray(group.steps)
            plus, minus = perturbed_passes(case.X, parameters, group.block, indices, steps)
            varied.append(Varied(2, group.block, indices, steps, (Alongside(0, plus.A3, minus.A3),)))
        result = Output(0)
    answered = fns.programs(program, varied, result) if varied else []
    return [(scalar_results(plus), scalar_results(minus)) for plus, minus in answered]


def _l2_mistake(case: RegularisationCase, gradients: Mapping[str, np.ndarray], result: GradientCheckResult) -> str:
    """What a known L2 mistake would make of the wrong gradients, named when it is what the backward returned."""
    _, cache = reference.forward_propagation(case.X, case.copy_parameters())
    lambd, m = case.lambd, case.m
    mistakes = {
        "the L2 term lambd / m * W missing": reference.backward_propagation_with_regularization(
            case.X, case.Y, cache, 0.0
        ),
        "lambd * W where lambd / m * W belongs": reference.backward_propagation_with_regularization(
            case.X, case.Y, cache, lambd * m
        ),
    }
    return known_mistake(gradients, result, mistakes) if lambd > 0 else ""
