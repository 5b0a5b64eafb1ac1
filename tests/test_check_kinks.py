"""Kinks of a black-box cost from its values at +-step and +-2 step: flagged at kinks, never on smooth costs."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import cache
from typing import NamedTuple

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradharness.check.kinks import detected_kinks, kinks_from_costs

EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
CBRT64 = float(np.cbrt(EPS64))
CBRT32 = float(np.cbrt(EPS32))

Batched = Callable[[np.ndarray], np.ndarray]
"""A cost over the last axis: rows of thetas (..., n) -> costs (...)."""


class Cost(NamedTuple):
    """A cost J and a magnitude m of its values: 64 eps (m + 1) bounds J's rounding (m = |J| for most)."""

    name: str
    J: Batched
    magnitude: Callable[[np.ndarray], float]


def summed(name: str, term: Batched, inner: Batched | None = None) -> Cost:
    """sum(term(x)): its rounding is bounded by the terms' magnitudes, not by |J| (the terms may cancel).

    ``inner``: the size of each term's rounding where it is not the term's own (1 for log(1 + x^2)).
    """
    size = term if inner is None else (lambda X: np.abs(term(X)) + inner(X))
    return Cost(name, lambda X: np.sum(term(X), axis=-1), lambda x: float(np.sum(np.abs(size(x)))))


def scaled(cost: Cost, scale: float) -> Cost:
    return Cost(f"{scale:g} {cost.name}", lambda X: scale * cost.J(X), lambda x: abs(scale) * cost.magnitude(x))


def in_float32(cost: Cost) -> Cost:
    """The same J, computed in float32 (the values handed on as float64)."""
    return Cost(cost.name, lambda X: np.asarray(cost.J(np.asarray(X, dtype=np.float32)), np.float64), cost.magnitude)


def five_costs(
    J: Batched, theta: np.ndarray, steps: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """J0 and, per entry, J at theta + steps e_i, - steps e_i, + 2 steps e_i, - 2 steps e_i (one batch of rows)."""
    moves = np.diag(steps)  # the other entries of each row are theta's own, exactly
    rows = np.concatenate([theta + m * moves for m in (1.0, -1.0, 2.0, -2.0)])
    plus, minus, plus2, minus2 = np.asarray(J(rows), dtype=np.float64).reshape(4, theta.size)
    J0 = float(np.asarray(J(theta[None, :]), dtype=np.float64)[0])
    return J0, plus, minus, plus2, minus2


def roundoff_of(cost: Cost, theta: np.ndarray, steps: np.ndarray, costs: tuple, eps: float) -> float:
    """64 eps (magnitude + 1), plus what rounding theta +- 2 step to ``eps`` moves J by (the largest slope seen)."""
    J0, plus, minus, plus2, minus2 = costs
    slopes = np.abs([(plus - J0) / steps, (J0 - minus) / steps, (plus2 - J0) / steps / 2, (J0 - minus2) / steps / 2])
    moved = 2 * eps * float(np.max((np.abs(theta) + 2 * steps) * np.max(slopes, axis=0)))
    return 64 * eps * (max(abs(J0), cost.magnitude(theta)) + 1.0) + moved


def flags(cost: Cost, theta, *, cbrt: float = CBRT64, eps: float = EPS64) -> np.ndarray:
    """detected_kinks at the default steps cbrt(eps) max(1, |theta|), with the roundoff of :func:`roundoff_of`."""
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    steps = cbrt * np.maximum(1.0, np.abs(theta))
    costs = five_costs(cost.J, theta, steps)
    return detected_kinks(*costs, steps, roundoff_of(cost, theta, steps, costs, eps))


def of_entries(name: str, J: Batched) -> Cost:
    return Cost(name, J, lambda x: float(np.sum(np.abs(x))) + abs(float(J(x[None, :])[0])))


# --- smooth costs -------------------------------------------------------------------------------------------------


def softmax_cross_entropy(X: np.ndarray) -> np.ndarray:
    """-log softmax(x)[0], by the stable log-sum-exp."""
    top = np.max(X, axis=-1, keepdims=True)
    return np.log(np.sum(np.exp(X - top), axis=-1)) + top[..., 0] - X[..., 0]


@cache
def badly_scaled(n: int) -> np.ndarray:
    """S M S: M symmetric positive definite and well conditioned, S from 1e-3 to 1e3 (condition about 1e12)."""
    B = np.random.default_rng(n).standard_normal((n, n))
    S = np.logspace(-3, 3, n)
    return S[:, None] * (B @ B.T / n + np.eye(n)) * S[None, :]


def quadratic_form(X: np.ndarray) -> np.ndarray:
    A = badly_scaled(X.shape[-1]).astype(X.dtype)
    return 0.5 * np.einsum("...i,ij,...j->...", X, A, X)


def quartic(c: float) -> Cost:
    """c sum(x^4): J'' = 12 c x^2 large, but 0 at x = 0, where J'''' = 24 c is all that is left."""
    return summed(f"{c:g} x**4", lambda X: c * X**4)


QUADRATIC = Cost(
    "quadratic form",
    quadratic_form,
    lambda x: float(0.5 * np.abs(x) @ np.abs(badly_scaled(x.size)) @ np.abs(x)),
)
SOFTMAX = Cost(
    "softmax cross-entropy",
    softmax_cross_entropy,
    lambda x: abs(float(softmax_cross_entropy(x))) + float(np.max(np.abs(x))) + np.log(x.size),
)
SMOOTH = [
    summed("sin", np.sin),
    summed("exp", np.exp),
    summed("x**3", lambda X: X**3),
    summed("tanh", np.tanh),
    # as users write it: 1 + x^2 rounds to within eps of 1, which log passes on as eps, whatever x^2 is
    summed("log(1 + x**2)", lambda X: np.log(1 + X**2), inner=np.ones_like),
    SOFTMAX,
    QUADRATIC,
]
SCALES = [1.0, 1e6, 1e-6]

thetas = hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-5, 5))


# Each drawn theta is checked on every cost at every scale (Hypothesis's drawing costs more than these checks).
# c x**4 is not scaled further: 1e12 x**4 at 0 (1e8 in float32) is past the documented limit, see
# test_the_documented_limits_hold.
SCALED = [scaled(cost, scale) for cost in SMOOTH for scale in SCALES]
SMOOTH64 = [*SCALED, quartic(1e6), quartic(1.0)]
SMOOTH32 = [in_float32(cost) for cost in [*SCALED, quartic(1e2)]]


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True)
@given(theta=thetas)
def test_a_smooth_cost_is_never_flagged(theta):
    flagged = [cost.name for cost in SMOOTH64 if flags(cost, theta).any()]
    assert not flagged


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True)
@given(theta=thetas)
def test_a_smooth_cost_in_float32_is_never_flagged(theta):
    flagged = [cost.name for cost in SMOOTH32 if flags(cost, theta, cbrt=CBRT32, eps=EPS32).any()]
    assert not flagged


# --- kinks --------------------------------------------------------------------------------------------------------

ABS = of_entries("abs", lambda X: np.sum(np.abs(X), axis=-1))
# Where the kink is, in steps from theta: all of (-2, 2) but the two blind spots the docstring names.
NEAR = [f for f in np.round(np.arange(-1.95, 1.96, 0.05), 2) if abs(abs(f) - 2 / 3) > 0.02]


@pytest.mark.parametrize("fraction", [0.0, *NEAR])
def test_abs_is_flagged_within_twice_the_step_of_its_kink(fraction):
    assert flags(ABS, [fraction * CBRT64]).tolist() == [True]


@pytest.mark.parametrize("fraction", [0.0, 0.3, 1.0, 1.5, -1.2])
def test_a_kink_away_from_zero_is_flagged_near_it(fraction):
    """|x - 3| near 3, where the step is 3 cbrt(eps): the kink is at ``fraction`` steps of the point."""
    cost = of_entries("abs(x - 3)", lambda X: np.sum(np.abs(X - 3.0), axis=-1))
    h = 3 * CBRT64
    assert flags(cost, [3.0 + fraction * h]).tolist() == [True]


@pytest.mark.parametrize("theta", [2.0 * CBRT64, -2.0 * CBRT64, 2.5 * CBRT64, -3 * CBRT64, 10 * CBRT64, 1.0, -3.7])
def test_abs_is_not_flagged_twice_the_step_or_more_from_its_kink(theta):
    assert flags(ABS, [theta]).tolist() == [False]


def relu_sum(X):
    return np.sum(np.maximum(X, 0.0), axis=-1)


def hinge_sum(X):
    return np.sum(np.maximum(0.0, 1.0 - X), axis=-1)


def pair_maxima(X):
    k = X.shape[-1] // 2
    return np.sum(np.maximum(X[..., :k], X[..., k:]), axis=-1)


H = CBRT64
KINKED = [
    # (cost, theta, flagged)
    (relu_sum, [0, 1.5, -0.7, 0, 0.4 * H, -1.3 * H, 2.5 * H, 5], [1, 0, 0, 1, 1, 1, 0, 0]),
    (hinge_sum, [1, 0.5, 2, 1 + 0.5 * H, 1 - 1.7 * H, 3, -4], [1, 0, 0, 1, 1, 0, 0]),
    (lambda X: np.max(X, axis=-1), [3, 1, 3, -2], [1, 0, 1, 0]),
    (lambda X: np.max(X, axis=-1), [3, 1, -2], [0, 0, 0]),
    (lambda X: np.max(X, axis=-1), [3, 3 - 1.5 * 3 * H, 1], [1, 1, 0]),  # a near tie, 1.5 steps apart
    (lambda X: np.maximum(X[..., 0], X[..., 1]), [0.25, 0.25], [1, 1]),
    (lambda X: np.maximum(X[..., 0], X[..., 1]), [0.25, -0.25], [0, 0]),
    (pair_maxima, [1, -2, 0.5, 1, 3, -0.5], [1, 0, 0, 1, 0, 0]),
    (lambda X: np.sum(np.exp(X), axis=-1) + 3 * np.maximum(X[..., 0] - 2, 0), [2, 2, 0.5], [1, 0, 0]),
]


@pytest.mark.parametrize(("J", "theta", "expected"), KINKED)
def test_exactly_the_entries_at_kinks_are_flagged(J, theta, expected):
    assert flags(of_entries("kinked", J), theta).tolist() == [bool(e) for e in expected]


# A kink's place, in steps from theta: within 2 steps away from the blind spots at 2/3 (flagged), or beyond 2.
offsets = st.one_of(
    st.floats(-1.9, 1.9).filter(lambda f: abs(abs(f) - 2 / 3) > 0.03), st.floats(2.1, 50), st.floats(-50, -2.1)
)


@st.composite
def kinked_vectors(draw):
    """theta in [-5, 5]^n, each entry's kink (its place and slope jump), and the smooth background's weight."""
    theta = draw(thetas)
    offset = draw(hnp.arrays(np.float64, theta.shape, elements=offsets))
    jump = draw(hnp.arrays(np.float64, theta.shape, elements=st.floats(0.5, 5)))
    weight = draw(st.floats(-3, 3))
    corners = theta + offset * CBRT64 * np.maximum(1.0, np.abs(theta))
    return theta, np.abs(offset) < 2, corners, jump / 2, weight


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True)
@given(kinked_vectors())
def test_on_a_smooth_background_exactly_the_entries_near_kinks_are_flagged(drawn):
    theta, at_kink, corners, half_jump, weight = drawn
    cost = Cost(
        "w sin + s |x - c|",
        lambda X: np.sum(weight * np.sin(X) + half_jump * np.abs(X - corners), axis=-1),
        lambda x: float(np.sum(np.abs(weight * np.sin(x)) + half_jump * np.abs(x - corners))),
    )
    np.testing.assert_array_equal(flags(cost, theta), at_kink)


def test_in_float32_abs_and_relu_are_flagged_at_their_kinks_only():
    found = flags(in_float32(ABS), [0.0, 1.0, -2.0, 0.5 * CBRT32], cbrt=CBRT32, eps=EPS32)
    assert found.tolist() == [True, False, False, True]
    relu = in_float32(of_entries("relu", relu_sum))
    assert flags(relu, [0.0, 3.0, -1.0, 0.0], cbrt=CBRT32, eps=EPS32).tolist() == [True, False, False, True]


def test_the_documented_limits_hold():
    """The kink 2/3 of a step away lies on a cubic, but its centred difference halves as the step doubles (the
    jump test sees it); c x^4 at 0 is flagged once 24 c passes 1.7e8 (|J| + 1)."""
    assert flags(ABS, [2 / 3 * CBRT64]).tolist() == [True]
    assert flags(ABS, [0.64 * CBRT64, 0.69 * CBRT64]).tolist() == [True, True]
    assert flags(quartic(1e6), [0.0]).tolist() == [False]
    assert flags(quartic(1e8), [0.0]).tolist() == [True]
    assert flags(quartic(1e8), [1e-2]).tolist() == [False]  # there J'' = 12 c x^2 explains the defect


def rounded_cubics(count: int, seed: int):
    """Costs at -2h .. 2h of random cubics, exact and then rounded to the nearest float, and their largest error.

    The constant term is at most 100 steps' worth of the slope (mostly far less): the slopes r1 ... l2 dwarf the
    costs, where this module's own arithmetic counts.
    """
    rng = np.random.default_rng(seed)
    for _ in range(count):
        h = CBRT64 * rng.uniform(0.5, 8)
        g, c, t = (float(rng.choice([-1, 1]) * 10 ** rng.uniform(-3, 8)) * int(rng.integers(0, 2)) for _ in range(3))
        a = float(rng.choice([-1, 1]) * (abs(g) * h + 1e-300) * 10 ** rng.uniform(-14, 2))
        exact = [sum(Fraction(k) * (m * Fraction(h)) ** p for p, k in enumerate((a, g, c, t))) for m in range(-2, 3)]
        costs = [float(value) for value in exact]
        yield costs, h, float(max(abs(Fraction(cost) - value) for cost, value in zip(costs, exact, strict=True)))


def test_a_correctly_rounded_cubic_is_never_flagged_at_its_exact_roundoff():
    """Roundoff as tight as it gets: the bound's worst case and the term for the module's own arithmetic must hold."""
    flagged = []
    for (minus2, minus, J0, plus, plus2), h, roundoff in rounded_cubics(1000, seed=1):
        one = [np.array([cost]) for cost in (plus, minus, plus2, minus2)]
        if detected_kinks(J0, *one, np.array([h]), roundoff)[0]:
            flagged.append((J0, plus, minus, plus2, minus2, h, roundoff))
    assert not flagged


# --- the inputs ---------------------------------------------------------------------------------------------------


def test_a_non_finite_cost_is_not_flagged_and_leaves_the_others_alone():
    theta = np.zeros(4)
    steps = np.full(4, CBRT64)
    J0, plus, minus, plus2, minus2 = five_costs(ABS.J, theta, steps)
    plus[0], minus2[1], plus2[2] = np.nan, np.inf, 1e308
    minus2[2] = -1e308  # finite, but the slopes overflow
    assert detected_kinks(J0, plus, minus, plus2, minus2, steps, 64 * EPS64).tolist() == [False, False, False, True]
    assert not detected_kinks(np.nan, plus, minus, plus2, minus2, steps, 64 * EPS64).any()
    assert not detected_kinks(np.inf, *five_costs(ABS.J, theta, steps)[1:], steps, 64 * EPS64).any()


def test_a_defect_that_overflows_is_not_flagged():
    """Finite slopes (step 1) whose defect d2 - 2 d1 = 0.8e308 + 1.8e308 overflows: not known, so not flagged."""
    one = np.ones(1)
    assert not detected_kinks(0.0, -0.9e308 * one, 0 * one, 1.6e308 * one, 0 * one, one, 0.0).any()
    assert detected_kinks(0.0, -0.9e300 * one, 0 * one, 1.6e300 * one, 0 * one, one, 0.0).all()  # the same, smaller


def test_costs_of_any_shape_are_read_flat():
    theta = np.array([0.0, 1.0, 0.0, -1.0])
    steps = np.full(4, CBRT64)
    J0, *costs = five_costs(ABS.J, theta, steps)
    flat = detected_kinks(J0, *costs, steps, 64 * EPS64)
    shaped = detected_kinks(J0, *(c.reshape(2, 2) for c in costs), steps.reshape(2, 2), 64 * EPS64)
    assert flat.dtype == np.bool_ and flat.shape == (4,)
    assert shaped.tolist() == flat.tolist() == [True, False, True, False]


ONE = np.ones(2)
BAD_ARGUMENTS = [
    (dict(steps=np.array([1e-5, 0.0])), "steps must all be positive"),
    (dict(steps=np.array([1e-5, -1e-5])), "steps must all be positive"),
    (dict(steps=np.array([1e-5, np.nan])), "steps must all be positive"),
    (dict(steps=np.array([1e-5, np.inf])), "steps must all be positive"),
    (dict(roundoff=-1e-16), "roundoff=-1e-16 must be a finite number >= 0"),
    (dict(roundoff=float("nan")), "roundoff=nan must be"),
    (dict(plus=np.ones(3)), "plus has 3 costs, expected 2"),
    (dict(minus2=np.ones(1)), "minus2 has 1 costs, expected 2"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ARGUMENTS)
def test_bad_arguments_raise_value_error_naming_them(change, message):
    arguments = dict(J0=1.0, plus=ONE, minus=ONE, plus2=ONE, minus2=ONE, steps=np.full(2, 1e-5), roundoff=1e-16)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        detected_kinks(**{**arguments, **change})


def test_kinks_from_costs_asks_at_the_step_and_twice_it():
    theta = np.array([0.0, 2.0, 0.4 * CBRT64])
    steps = CBRT64 * np.maximum(1.0, np.abs(theta))
    asked = []

    def costs_at(s):
        asked.append(np.array(s))
        moves = np.diag(s)
        return ABS.J(theta + moves), ABS.J(theta - moves)

    J0 = float(ABS.J(theta))
    found = kinks_from_costs(costs_at, theta.size, steps, J0, 64 * EPS64 * (J0 + 1))
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(asked[0], steps)
    np.testing.assert_array_equal(asked[1], 2 * steps)
    assert len(asked) == 2
    with pytest.raises(ValueError, match="steps has 3 entries, the point 4"):
        kinks_from_costs(costs_at, 4, steps, J0, 1e-16)


def test_a_jump_is_flagged_though_it_moves_both_slopes_alike():
    h = np.full(3, 1e-5)
    x = np.array([0.0, 1e-3, -0.5])  # a jump at the first entry; the others far from it

    def J(t: np.ndarray) -> np.ndarray:
        return np.tanh(1e9 * t) + t  # odd about 0: the slopes' defect is 0 there, the centred difference halves

    base = J(x)
    flagged = detected_kinks(
        0.0, J(x + h) - base, J(x - h) - base, J(x + 2 * h) - base, J(x - 2 * h) - base, h, 1e-15
    )  # each entry's costs relative to its own J0 = 0
    assert flagged.tolist() == [True, False, False]


def test_a_cubic_through_a_zero_slope_is_not_a_jump():
    h = np.array([1e-3])
    flagged = detected_kinks(0.0, h**3, -(h**3), (2 * h) ** 3, -((2 * h) ** 3), h, 0.0)  # x**3 at 0
    assert not flagged.any()
