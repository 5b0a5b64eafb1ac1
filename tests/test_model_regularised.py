"""The regularisation exercise's reference (gradharness/model/regularised.py) and what the checker needs of it
(gradharness/model/regularised_passes.py, regularised_case.py).

The reference's gradients agree with centred differences of its own costs; its values are the course's printed
ones on the course's test cases; the masks a seed draws are the forward's; the perturbed passes are the
reference's forward at the moved parameters, their kink flags those a pass-by-pass search finds, and the
round-off bounds cover what another correct evaluation of the costs gives.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from gradharness.model import deep
from gradharness.model import regularised as reference
from gradharness.model import regularised_passes as passes
from gradharness.model.deep_sizes import DeepSizes
from gradharness.model.regularised_case import DropoutCase, RegularisationCase
from gradharness.usercode.shims import testCases as course
from strategies import dropout_cases, regularisation_cases

STEP = 1e-6
FAST = settings(max_examples=20, deadline=None, database=None)


def _network(seed: int, dims: tuple[int, ...] = (3, 4, 3, 1), m: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(dims[0], m))
    Y = (rng.random((dims[-1], m)) < 0.5).astype(float)
    parameters = {}
    for layer in range(1, 4):
        parameters[f"W{layer}"] = rng.normal(size=(dims[layer], dims[layer - 1])) / np.sqrt(dims[layer - 1])
        parameters[f"b{layer}"] = rng.normal(size=(dims[layer], 1)) * 0.5
    return X, Y, parameters


def _centred(cost, parameters: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Centred differences of cost(parameters) with respect to parameters[name], entry by entry."""
    out = np.zeros(parameters[name].size)
    for index in range(out.size):
        sides = []
        for sign in (1.0, -1.0):
            moved = {k: v.copy() for k, v in parameters.items()}
            moved[name].reshape(-1)[index] += sign * STEP
            sides.append(cost(moved))
        out[index] = (sides[0] - sides[1]) / (2 * STEP)
    return out.reshape(parameters[name].shape)


def _kinked(X, parameters, masks=None, keep_prob=1.0) -> np.ndarray:
    """The kink flags at STEP, by block, as the parameters' shapes."""
    flags = passes.kink_flags(X, parameters, STEP, masks=masks, keep_prob=keep_prob)
    sizes = [parameters[name].size for name in passes.NAMES]
    return dict(zip(passes.NAMES, np.split(flags, np.cumsum(sizes)[:-1]), strict=True))


@FAST
@given(regularisation_cases(max_units=4, max_batch=4))
def test_the_l2_backward_is_the_gradient_of_the_regularised_cost(case: RegularisationCase) -> None:
    def cost(parameters):
        A3, _ = reference.forward_propagation(case.X, parameters)
        return reference.compute_cost_with_regularization(A3, case.Y, parameters, case.lambd)

    _, cache = reference.forward_propagation(case.X, case.copy_parameters())
    gradients = reference.backward_propagation_with_regularization(case.X, case.Y, cache, case.lambd)
    kinks = _kinked(case.X, case.parameters)
    for name in passes.NAMES:
        numerical = _centred(cost, case.copy_parameters(), name)
        clear = ~kinks[name].reshape(numerical.shape)
        np.testing.assert_allclose(gradients[f"d{name}"][clear], numerical[clear], rtol=1e-5, atol=1e-8)


@FAST
@given(dropout_cases(max_units=4, max_batch=4))
def test_the_dropout_backward_is_the_gradient_of_the_cost_under_the_same_masks(case: DropoutCase) -> None:
    def forward(parameters):
        np.random.seed(case.seed)
        return reference.forward_propagation_with_dropout(case.X, parameters, case.keep_prob)

    def cost(parameters):
        return reference.compute_cost(forward(parameters)[0], case.Y)

    _, cache = forward(case.copy_parameters())
    gradients = reference.backward_propagation_with_dropout(case.X, case.Y, cache, case.keep_prob)
    masks = (cache[1], cache[6])
    kinks = _kinked(case.X, case.parameters, masks, case.keep_prob)
    for name in passes.NAMES:
        numerical = _centred(cost, case.copy_parameters(), name)
        clear = ~kinks[name].reshape(numerical.shape)
        np.testing.assert_allclose(gradients[f"d{name}"][clear], numerical[clear], rtol=1e-5, atol=1e-8)
    # dA1, dA2: m times the cost's gradient with respect to the activations before dropout
    hidden = passes.hidden_activations(case.X, case.parameters, masks, case.keep_prob)
    for layer, A in enumerate(hidden, start=1):
        plus, minus = passes.activation_costs(
            layer, A, case.parameters, case.Y, np.arange(A.size), np.full(A.size, STEP), masks=masks,
            keep_prob=case.keep_prob,
        )  # fmt: skip
        numerical = case.m * (plus - minus) / (2 * STEP)
        np.testing.assert_allclose(gradients[f"dA{layer}"].ravel(), numerical, rtol=1e-5, atol=1e-8)


def test_the_course_test_cases_give_the_courses_printed_values() -> None:
    a3, Y, parameters = course.compute_cost_with_regularization_test_case()
    assert reference.compute_cost_with_regularization(a3, Y, parameters, lambd=0.1) == pytest.approx(
        1.78648594516, abs=1e-10
    )
    X, Y, cache = course.backward_propagation_with_regularization_test_case()
    grads = reference.backward_propagation_with_regularization(X, Y, cache, lambd=0.7)
    np.testing.assert_allclose(grads["dW1"], [[-0.25604646, 0.12298827, -0.28297129], [-0.17706303, 0.34536094, -0.4410571]], atol=1e-8)  # fmt: skip
    np.testing.assert_allclose(grads["dW3"], [[-1.77691347, -0.11832879, -0.09397446]], atol=1e-8)
    X, parameters = course.forward_propagation_with_dropout_test_case()
    np.random.seed(1)
    A3, _ = reference.forward_propagation_with_dropout(X, parameters, keep_prob=0.7)
    np.testing.assert_allclose(A3, [[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]], atol=1e-8)
    X, Y, cache = course.backward_propagation_with_dropout_test_case()
    assert cache[1].tolist() == [[True, False, True, True, True], [True, True, True, True, False]]
    grads = reference.backward_propagation_with_dropout(X, Y, cache, keep_prob=0.8)
    np.testing.assert_allclose(grads["dA1"], [[0.36544439, 0, -0.00188233, 0, -0.17408748], [0.65515713, 0, -0.00337459, 0, 0]], atol=1e-8)  # fmt: skip


@pytest.mark.parametrize(("seed", "keep_prob"), [(0, 0.5), (3, 0.8), (2**32 - 1, 0.99), (7, 1.0)])
def test_the_masks_a_seed_draws_are_the_forwards(seed: int, keep_prob: float) -> None:
    X, _, parameters = _network(1, (2, 5, 3, 1), m=6)
    state = np.random.get_state()
    D1, D2 = passes.dropout_masks(seed, keep_prob, 5, 3, 6)
    assert np.array_equal(np.random.get_state()[1], state[1])  # the global generator is left alone
    np.random.seed(seed)
    _, cache = reference.forward_propagation_with_dropout(X, parameters, keep_prob)
    assert np.array_equal(cache[1], D1) and np.array_equal(cache[6], D2)
    assert D1.dtype == bool and (keep_prob < 1.0 or (D1.all() and D2.all()))


def _brute_force_kinks(X, parameters, steps, masks=None, keep_prob=1.0) -> np.ndarray:
    """Per entry: does its +-step pass move a kept hidden unit's Z across 0 (or onto it), one forward at a time?"""
    D1, D2 = masks if masks is not None else (None, None)

    def hidden(p):
        Z1 = p["W1"] @ X + p["b1"]
        A1 = np.maximum(0, Z1) if D1 is None else np.maximum(0, Z1) * D1 / keep_prob
        return Z1, p["W2"] @ A1 + p["b2"]

    base = hidden(parameters)
    kept = (np.ones_like(base[0], bool) if D1 is None else D1, np.ones_like(base[1], bool) if D2 is None else D2)
    flags, k = [], 0
    for name in passes.NAMES:
        for index in range(parameters[name].size):
            flagged = False
            for sign in (1.0, -1.0):
                moved = {n: v.copy() for n, v in parameters.items()}
                moved[name].reshape(-1)[index] += sign * steps[k]
                for Z, Z0, keep in zip(hidden(moved), base, kept, strict=True):
                    changed = keep & (Z != Z0)
                    flagged |= bool(np.any(changed & (((Z > 0) != (Z0 > 0)) | (Z == 0) | (Z0 == 0))))
            flags.append(flagged)
            k += 1
    return np.array(flags)


@pytest.mark.parametrize("dropout", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_kink_flags_are_those_a_pass_by_pass_search_finds(seed: int, dropout: bool) -> None:
    X, _, parameters = _network(seed, (3, 4, 3, 1), m=3)
    parameters["b1"][0, 0] = -(parameters["W1"][0] @ X[:, 0])  # an exact zero in Z1
    masks = passes.dropout_masks(seed, 0.6, 4, 3, 3) if dropout else None
    count = sum(v.size for v in parameters.values())
    steps = np.full(count, 0.05)  # large: some passes cross
    flags = passes.kink_flags(X, parameters, steps, masks=masks, keep_prob=0.6 if dropout else 1.0)
    expected = _brute_force_kinks(X, parameters, steps, masks, 0.6)
    assert np.array_equal(flags, expected)
    assert flags.any() and not flags.all()
    if not dropout:  # the unmasked network is the L-layer model at L = 3
        assert np.array_equal(flags, deep.kink_flags(X, None, parameters, steps))


def test_a_dropped_units_kink_is_no_kink() -> None:
    X, _, parameters = _network(2, (2, 1, 1, 1), m=1)
    parameters["b1"][0, 0] = -(parameters["W1"][0] @ X[:, 0])  # Z1 exactly 0: a kink when the unit is kept
    kept = (np.ones((1, 1), bool), np.ones((1, 1), bool))
    dropped = (np.zeros((1, 1), bool), np.ones((1, 1), bool))
    assert passes.kink_flags(X, parameters, 1e-6, masks=kept, keep_prob=0.5)[:3].all()
    assert not passes.kink_flags(X, parameters, 1e-6, masks=dropped, keep_prob=0.5).any()


def _moved(parameters: dict[str, np.ndarray], name: str, index: int, delta: float) -> dict[str, np.ndarray]:
    moved = {n: v.copy() for n, v in parameters.items()}
    moved[name].reshape(-1)[index] += delta
    return moved


def test_perturbed_passes_are_the_forward_at_the_moved_parameters() -> None:
    X, _, parameters = _network(4)
    masks = passes.dropout_masks(5, 0.7, 4, 3, 4)
    for name in passes.NAMES:
        indices = np.arange(parameters[name].size)
        steps = np.linspace(1e-4, 1e-3, indices.size)
        plus, minus = passes.perturbed_passes(X, parameters, name, indices, steps)
        dropped, _ = passes.perturbed_passes(X, parameters, name, indices, steps, masks=masks, keep_prob=0.7)
        for k, index in enumerate(indices):
            for side, sign in ((plus, 1.0), (minus, -1.0)):
                A3, _ = reference.forward_propagation(X, _moved(parameters, name, index, sign * steps[k]))
                np.testing.assert_allclose(side.A3[k], A3, rtol=1e-14)
            np.random.seed(5)
            A3, _ = reference.forward_propagation_with_dropout(X, _moved(parameters, name, index, steps[k]), 0.7)
            np.testing.assert_allclose(dropped.A3[k], A3, rtol=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_the_roundoff_bounds_cover_another_evaluation_of_the_costs(seed: int) -> None:
    X, Y, parameters = _network(seed, (5, 6, 4, 1), m=7)
    lambd = 0.7
    A3, _ = reference.forward_propagation(X, parameters)
    course = reference.compute_cost_with_regularization(A3, Y, parameters, lambd)
    # in float128 where the platform has it, else the stable form in float64: another correct evaluation
    wide = {k: v.astype(np.longdouble) for k, v in parameters.items()}
    Z1 = wide["W1"] @ X.astype(np.longdouble) + wide["b1"]
    Z2 = wide["W2"] @ np.maximum(0, Z1) + wide["b2"]
    Z3 = wide["W3"] @ np.maximum(0, Z2) + wide["b3"]
    loss = np.logaddexp(0, Z3) - Y * Z3
    exact = float(loss.sum() / 7 + lambd / 14 * sum((wide[f"W{k}"] ** 2).sum() for k in (1, 2, 3)))
    bound = passes.l2_cost_roundoff(X, Y, parameters, lambd)
    assert abs(course - exact) <= bound
    assert bound < 1e-12 * max(1.0, abs(exact))
    masks = passes.dropout_masks(seed, 0.6, 6, 4, 7)
    np.random.seed(seed)
    A3, _ = reference.forward_propagation_with_dropout(X, parameters, 0.6)
    course = reference.compute_cost(A3, Y)
    A1 = np.maximum(0, Z1) * masks[0] / np.longdouble(0.6)
    A2 = np.maximum(0, wide["W2"] @ A1 + wide["b2"]) * masks[1] / np.longdouble(0.6)
    Z3 = wide["W3"] @ A2 + wide["b3"]
    exact = float((np.logaddexp(0, Z3) - Y * Z3).sum() / 7)
    bound = passes.dropout_cost_roundoff(X, Y, parameters, masks, 0.6)
    assert abs(course - exact) <= bound < 1e-12 * max(1.0, abs(exact))


def test_the_l2_term_is_the_courses() -> None:
    _, Y, parameters = _network(3)
    squares = sum(float(np.sum(parameters[f"W{k}"] ** 2)) for k in (1, 2, 3))
    assert passes.l2_term(Y, parameters, 0.5) == pytest.approx(0.5 / 8 * squares, rel=1e-15)


def _sizes() -> DeepSizes:
    return DeepSizes((2, 3, 2, 1))


def _arrays():
    X, Y, parameters = _network(0, (2, 3, 2, 1), m=3)
    return X, Y, parameters


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda X, Y, p: RegularisationCase(_sizes(), X, Y, p, lambd=-0.1), "lambd=-0.1 must be a finite number >= 0"),
        (lambda X, Y, p: RegularisationCase(_sizes(), X, Y, p, lambd=float("nan")), "lambd=nan"),
        (lambda X, Y, p: RegularisationCase(_sizes(), X, Y, p, lambd=True), "lambd=True"),
        (lambda X, Y, p: DropoutCase(_sizes(), X, Y, p, keep_prob=0.0), r"keep_prob=0.0 must be a number in \(0, 1\]"),
        (lambda X, Y, p: DropoutCase(_sizes(), X, Y, p, keep_prob=1.5), "keep_prob=1.5"),
        (lambda X, Y, p: DropoutCase(_sizes(), X, Y, p, seed=2**32), "seed=4294967296 must be a whole number"),
        (lambda X, Y, p: DropoutCase(_sizes(), X, Y, p, seed=-1), "seed=-1"),
        (
            lambda X, Y, p: RegularisationCase(DeepSizes((2, 3, 1)), X, Y, {k: v for k, v in p.items() if k[1] != "3"} | {"W2": np.ones((1, 3)), "b2": np.ones((1, 1))}),
            "L=2 layers; the exercise's network has 3",
        ),
    ],
)  # fmt: skip
def test_cases_reject_what_the_exercise_cannot_have(make, message: str) -> None:
    X, Y, parameters = _arrays()
    with pytest.raises(ValueError, match=message):
        make(X, Y, parameters)


def test_cases_round_trip_through_json() -> None:
    X, Y, parameters = _arrays()
    case = RegularisationCase(_sizes(), X, Y, parameters, lambd=0.7)
    again = RegularisationCase.from_json(case.to_json())
    assert again.lambd == 0.7 and again.describe() == case.describe() == "sizes 2-3-2-1, m=3, lambd=0.7"
    assert all(np.array_equal(again.parameters[k], v) for k, v in parameters.items())
    dropped = DropoutCase(_sizes(), X, Y, parameters, keep_prob=0.8, seed=12)
    back = DropoutCase.from_json(dropped.to_json())
    assert (back.keep_prob, back.seed) == (0.8, 12) and back.describe() == "sizes 2-3-2-1, m=3, keep_prob=0.8, seed 12"
