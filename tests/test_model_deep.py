"""The L-layer reference: the course's functions against plain centred differences, its cases, and the checker's helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from gradharness.check.perturbed import perturbed_passes
from gradharness.model import deep
from gradharness.model.deep_blocks import GRADIENT_OF, block_cache, block_gradients, block_objective, block_output
from gradharness.model.deep_passes import UNIT_ROUNDOFF, gamma
from gradharness.model.parameters import dictionary_to_vector as dictionary_to_vector_3
from strategies import block_cases, deep_cases

RNG = np.random.default_rng(20)
QUICK = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
DRAWN = settings(max_examples=60, phases=[Phase.generate], database=None, deadline=None)


def random_network(dims: tuple[int, ...], m: int, scale: float = 1.0, rng=RNG):
    """X, Y and parameters of a network of these sizes, N(0, scale^2 / fan_in) weights."""
    X = rng.normal(size=(dims[0], m))
    Y = (rng.random((dims[-1], m)) < 0.5).astype(np.float64)
    parameters = {}
    for layer in range(1, len(dims)):
        parameters[f"W{layer}"] = rng.normal(size=(dims[layer], dims[layer - 1])) * scale / np.sqrt(dims[layer - 1])
        parameters[f"b{layer}"] = rng.normal(size=(dims[layer], 1)) * 0.5
    return X, Y, parameters


def course_cost(X, Y, parameters) -> float:
    return deep.compute_cost(deep.L_model_forward(X, parameters)[0], Y)


def rest_of_network_cost(layer: int, A: np.ndarray, parameters, Y) -> float:
    """The course's cost of layers layer+1 .. L given A{layer}, through the course's own functions."""
    L = len(parameters) // 2
    for k in range(layer + 1, L + 1):
        A, _ = deep.linear_activation_forward(
            A, parameters[f"W{k}"], parameters[f"b{k}"], "relu" if k < L else "sigmoid"
        )
    return deep.compute_cost(A, Y)


def loop_gradient(f, array: np.ndarray, epsilon: float = 1e-6) -> np.ndarray:
    """Centred differences of f with respect to every entry of ``array`` (moved in place, then restored)."""
    out = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        kept = array[index]
        array[index] = kept + epsilon
        plus = f()
        array[index] = kept - epsilon
        minus = f()
        array[index] = kept
        out[index] = (plus - minus) / (2 * epsilon)
    return out


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def hidden_Z(X, parameters) -> list[np.ndarray]:
    """The ReLU inputs of the course's forward."""
    _, caches = deep.L_model_forward(X, parameters)
    return [cache[1] for cache in caches[:-1]]


# --- the course's functions against centred differences ------------------------------------------------------


@pytest.mark.parametrize(
    "dims", [(3, 1), (4, 2), (3, 4, 1), (4, 5, 3, 1), (2, 3, 4, 2, 3), (5, 4, 3, 4, 2, 2), (3, 1, 1, 1, 1, 1)]
)
def test_the_backward_agrees_with_a_plain_centred_difference_loop(dims):
    X, Y, parameters = random_network(dims, m=3)
    assert not deep.kink_flags(X, Y, parameters, 1e-6).any()  # the loop below is valid: no kink within a step
    AL, caches = deep.L_model_forward(X, parameters)
    grads = deep.L_model_backward(AL, Y, caches)
    for name, value in parameters.items():
        numerical = loop_gradient(lambda: course_cost(X, Y, parameters), value)
        assert relative_error(grads["d" + name], numerical) < 1e-7, name
    # dA{l} is the gradient of the summed loss (m times the mean cost) with respect to A{l}
    for layer in range(len(dims) - 1):
        A = np.array(X if layer == 0 else caches[layer][0][0], copy=True)
        numerical = loop_gradient(lambda: rest_of_network_cost(layer, A, parameters, Y), A)  # noqa: B023
        assert relative_error(grads[f"dA{layer}"], X.shape[1] * numerical) < 1e-7, f"dA{layer}"


@pytest.mark.parametrize("L", [1, 2, 3, 5])
def test_the_backward_returns_the_course_keys_with_the_shapes_of_what_they_differentiate(L):
    dims = (3, *([4] * (L - 1)), 2)
    X, Y, parameters = random_network(dims, m=2)
    AL, caches = deep.L_model_forward(X, parameters)
    assert AL.shape == (2, 2) and len(caches) == L
    grads = deep.L_model_backward(AL, Y, caches)
    assert set(grads) == set(deep.gradient_keys(L))
    assert deep.gradient_keys(L)[:3] == ("dA0", "dW1", "db1")
    for layer in range(1, L + 1):
        assert grads[f"dW{layer}"].shape == parameters[f"W{layer}"].shape
        assert grads[f"db{layer}"].shape == parameters[f"b{layer}"].shape
        assert grads[f"dA{layer - 1}"].shape == (dims[layer - 1], 2)
    (linear_cache, activation_cache) = caches[-1]
    assert linear_cache[1] is parameters[f"W{L}"] and activation_cache.shape == (2, 2)


def test_the_caches_follow_the_course():
    X, Y, parameters = random_network((3, 4, 2), m=5)
    Z, linear_cache = deep.linear_forward(X, parameters["W1"], parameters["b1"])
    assert linear_cache[0] is X and linear_cache[1] is parameters["W1"] and linear_cache[2] is parameters["b1"]
    np.testing.assert_array_equal(Z, np.dot(parameters["W1"], X) + parameters["b1"])
    A, cache = deep.linear_activation_forward(X, parameters["W1"], parameters["b1"], "relu")
    np.testing.assert_array_equal(A, np.maximum(0, Z))
    np.testing.assert_array_equal(cache[1], Z)
    A, activation_cache = deep.sigmoid(Z)
    np.testing.assert_array_equal(activation_cache, Z)
    with pytest.raises(ValueError, match="activation='tanh'"):
        deep.linear_activation_forward(X, parameters["W1"], parameters["b1"], "tanh")
    with pytest.raises(ValueError, match="activation='tanh'"):
        deep.linear_activation_backward(Z, cache, "tanh")


def test_relu_backward_masks_where_Z_is_not_positive_and_leaves_dA_alone():
    Z = np.array([[-1.0, 0.0, 2.0]])
    dA = np.array([[3.0, 4.0, 5.0]])
    np.testing.assert_array_equal(deep.relu_backward(dA, Z), [[0.0, 0.0, 5.0]])
    np.testing.assert_array_equal(dA, [[3.0, 4.0, 5.0]])


def test_compute_cost_sums_over_every_output_unit_and_divides_by_m():
    AL = np.array([[0.8, 0.4], [0.3, 0.9]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    expected = -(np.log(0.8) + np.log(0.6) + np.log(0.7) + np.log(0.9)) / 2
    assert deep.compute_cost(AL, Y) == pytest.approx(expected, rel=1e-15)
    assert isinstance(deep.compute_cost(AL, Y), float)


@QUICK
@given(block_cases("linear_backward"))
def test_linear_backward_agrees_with_the_centred_difference_of_the_weighted_output(case):
    check_block(case)


@QUICK
@given(block_cases("relu_backward"))
def test_relu_backward_agrees_with_the_centred_difference_of_the_weighted_output(case):
    check_block(case)


@QUICK
@given(block_cases("sigmoid_backward"))
def test_sigmoid_backward_agrees_with_the_centred_difference_of_the_weighted_output(case):
    check_block(case)


@QUICK
@given(block_cases("linear_activation_backward"))
def test_linear_activation_backward_agrees_with_the_centred_difference_of_the_weighted_output(case):
    check_block(case)


def check_block(case: deep.BlockCase) -> None:
    """The reference backward against d/d(input) of sum(dout * f(inputs)), dW and db divided by m."""
    gradients = block_gradients(case)
    arrays = case.copy_arrays()
    if case.function == "relu_backward" or case.activation == "relu":
        Z = arrays["Z"] if "Z" in arrays else np.dot(arrays["W"], arrays["A_prev"]) + arrays["b"]
        # a planted zero in Z: the centred difference sees half the slope there, the course's backward none
        assume_clear = not np.any(Z == 0.0)
    else:
        assume_clear = True
    checked = 0
    for name in case.inputs:
        numerical = loop_gradient(lambda: block_objective(case, arrays), arrays[name])
        gradient_name, mean = GRADIENT_OF[name]
        expected = numerical / case.m if mean else numerical
        if assume_clear:
            np.testing.assert_allclose(gradients[gradient_name], expected, rtol=1e-6, atol=1e-8, err_msg=name)
            checked += 1
    assert checked == len(case.inputs) or not assume_clear


def test_block_cache_and_output_follow_the_course():
    A_prev, W, b = RNG.normal(size=(3, 2)), RNG.normal(size=(4, 3)), RNG.normal(size=(4, 1))
    arrays = {"A_prev": A_prev, "W": W, "b": b, "dA": np.ones((4, 2))}
    case = deep.BlockCase("linear_activation_backward", arrays, "relu")
    (cached_A, cached_W, cached_b), Z = block_cache(case)
    assert cached_A is A_prev and cached_W is W and cached_b is b
    np.testing.assert_array_equal(Z, np.dot(W, A_prev) + b)
    np.testing.assert_array_equal(block_output(case), np.maximum(0, Z))
    assert block_objective(case) == pytest.approx(float(np.sum(np.maximum(0, Z))))
    assert block_cache(deep.BlockCase("relu_backward", {"Z": Z, "dA": np.ones((4, 2))})) is Z
    linear = deep.BlockCase("linear_backward", {"A_prev": A_prev, "W": W, "b": b, "dZ": np.ones((4, 2))})
    assert block_cache(linear)[0] is A_prev and len(block_cache(linear)) == 3


# --- sizes and cases -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dims, message",
    [
        ((), "at least 2"),
        ((3,), "at least 2"),
        ((3, 0), r"dims\[1\]=0"),
        ((2.5, 1), r"dims\[0\]=2.5"),
        ((True, 1), r"dims\[0\]=True"),
        ("41", "at least 2"),
    ],
)
def test_deep_sizes_reject_what_is_not_a_list_of_sizes(dims, message):
    with pytest.raises(ValueError, match=message):
        deep.DeepSizes(dims)


def test_deep_sizes_print_read_and_shape():
    sizes = deep.DeepSizes((4, 5, 3, 1))
    assert str(sizes) == "4-5-3-1" and sizes.L == 3
    shapes = deep.parameter_shapes(sizes)
    assert list(shapes) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert shapes["W2"] == (3, 5) and shapes["b3"] == (1, 1)
    assert deep.parameter_count(sizes) == 20 + 5 + 15 + 3 + 3 + 1
    parameters = {name: np.zeros(shape) for name, shape in shapes.items()}
    assert deep.DeepSizes.of(parameters) == sizes
    assert deep.DeepSizes.of({**parameters, "note": "ignored"}) == sizes
    theta = np.arange(deep.parameter_count(sizes), dtype=float)
    again = deep.vector_to_dictionary(theta, sizes)
    np.testing.assert_array_equal(deep.dictionary_to_vector(again, sizes), theta)
    assert again["W1"][0, 1] == 1.0 and again["b1"][0, 0] == 20.0


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({}, "no W1"),
        ({"W1": np.zeros((2, 3))}, "b1 is missing"),
        ({"W1": np.zeros((2, 3)), "b1": np.zeros((2, 1)), "W3": np.zeros((1, 2))}, "W2 is missing"),
        ({"W1": np.zeros((2, 3)), "b1": np.zeros((3, 1))}, r"b1 has shape \(3, 1\), expected \(2, 1\)"),
        (
            {"W1": np.zeros((2, 3)), "b1": np.zeros((2, 1)), "W2": np.zeros((1, 3)), "b2": np.zeros((1, 1))},
            r"W2 has shape \(1, 3\), expected \(1, 2\)",
        ),
        ({"W1": np.zeros(3), "b1": np.zeros((3, 1))}, "expected a matrix"),
    ],
)
def test_sizes_of_a_parameter_dictionary_name_the_first_misfit_in_one_line(parameters, message):
    with pytest.raises(ValueError, match=message) as raised:
        deep.DeepSizes.of(parameters)
    assert "\n" not in str(raised.value)


def test_deep_case_describes_copies_and_round_trips_through_json():
    X, Y, parameters = random_network((4, 5, 3, 1), m=2)
    case = deep.DeepCase(deep.DeepSizes((4, 5, 3, 1)), X, Y, parameters)
    assert case.describe() == "sizes 4-5-3-1 (L=3), m=2" and case.m == 2
    copied = case.copy_parameters()
    copied["W1"][0, 0] += 1.0
    assert parameters["W1"][0, 0] != copied["W1"][0, 0]
    data = case.to_json()
    assert set(data) == {"sizes", "m", "X", "Y", "parameters"} and data["sizes"] == [4, 5, 3, 1]
    again = deep.DeepCase.from_json(data)
    assert again.sizes == case.sizes
    np.testing.assert_array_equal(again.X, X)
    for name, value in parameters.items():
        np.testing.assert_array_equal(again.parameters[name], value)


@pytest.mark.parametrize(
    "X, Y, message",
    [
        (np.zeros((3, 2)), np.zeros((1, 2)), r"X has shape \(3, 2\)"),
        (np.zeros((4, 2)), np.zeros((1, 3)), "Y has shape"),
    ],
)
def test_deep_case_rejects_arrays_that_do_not_fit_its_sizes(X, Y, message):
    _, _, parameters = random_network((4, 5, 3, 1), m=2)
    with pytest.raises(ValueError, match=message):
        deep.DeepCase(deep.DeepSizes((4, 5, 3, 1)), X, Y, parameters)
    with pytest.raises(ValueError, match="W2 has shape"):
        deep.DeepCase(deep.DeepSizes((4, 5, 2, 1)), np.zeros((4, 2)), np.zeros((1, 2)), parameters)


def test_block_case_describes_and_round_trips_through_json():
    arrays = {"A_prev": np.ones((3, 2)), "W": np.ones((4, 3)), "b": np.ones((4, 1)), "dZ": np.ones((4, 2))}
    case = deep.BlockCase("linear_backward", arrays)
    assert case.describe() == "linear_backward: A_prev 3x2, W 4x3, m=2"
    assert case.upstream == "dZ" and case.inputs == ("A_prev", "W", "b")
    relu = deep.BlockCase("relu_backward", {"Z": np.ones((4, 1)), "dA": np.ones((4, 1))})
    assert relu.describe() == "relu_backward: Z 4x1, m=1"
    layer_arrays = {"A_prev": arrays["A_prev"], "W": arrays["W"], "b": arrays["b"], "dA": arrays["dZ"]}
    layer = deep.BlockCase("linear_activation_backward", layer_arrays, "sigmoid")
    assert layer.describe() == "linear_activation_backward (sigmoid): A_prev 3x2, W 4x3, m=2"
    for original in (case, relu, layer):
        again = deep.BlockCase.from_json(original.to_json())
        assert again.function == original.function and again.activation == original.activation
        for name, value in original.arrays.items():
            np.testing.assert_array_equal(again.arrays[name], value)


@pytest.mark.parametrize(
    "function, arrays, activation, message",
    [
        ("tanh_backward", {"Z": np.ones((1, 1)), "dA": np.ones((1, 1))}, None, "unknown block 'tanh_backward'"),
        ("relu_backward", {"Z": np.ones((1, 1))}, None, "takes the arrays Z, dA"),
        ("relu_backward", {"Z": np.ones((1, 1)), "dA": np.ones((1, 1))}, "relu", "takes activation None"),
        (
            "linear_activation_backward",
            {"A_prev": np.ones((2, 1)), "W": np.ones((1, 2)), "b": np.ones((1, 1)), "dA": np.ones((1, 1))},
            None,
            "'relu' or 'sigmoid'",
        ),  # fmt: skip
        ("relu_backward", {"Z": np.ones((2, 1)), "dA": np.ones((1, 1))}, None, r"Z has shape \(2, 1\)"),
        (
            "linear_backward",
            {"A_prev": np.ones((2, 3)), "W": np.ones((1, 3)), "b": np.ones((1, 1)), "dZ": np.ones((1, 3))},
            None,
            r"W has shape \(1, 3\), expected \(1, 2\)",
        ),  # fmt: skip
        ("relu_backward", {"Z": np.ones(2), "dA": np.ones((1, 2))}, None, "must be a matrix"),
    ],
)
def test_block_case_rejects_what_does_not_fit_its_block(function, arrays, activation, message):
    with pytest.raises(ValueError, match=message):
        deep.BlockCase(function, arrays, activation)


# --- the checker's helpers -----------------------------------------------------------------------------------


@seed(3)
@DRAWN
@given(deep_cases(min_layers=1, max_layers=5))
def test_stable_cost_is_the_course_cost_where_that_is_finite(case):
    course = course_cost(case.X, case.Y, case.parameters)
    assert np.isfinite(course)
    assert deep.stable_cost(case.X, case.Y, case.parameters) == pytest.approx(course, rel=1e-12, abs=1e-14)


def test_stable_cost_stays_finite_where_the_course_formula_overflows():
    X = np.ones((1, 2))
    parameters = {"W1": np.array([[40.0]]), "b1": np.zeros((1, 1)), "W2": np.array([[1.0]]), "b2": np.array([[0.5]])}
    Y = np.array([[0.0, 1.0]])
    with np.errstate(divide="ignore", invalid="ignore"):
        assert not np.isfinite(course_cost(X, Y, parameters))
    assert deep.stable_cost(X, Y, parameters) == pytest.approx((40.5 + np.log1p(np.exp(-40.5))) / 2, rel=1e-14)
    assert deep.cost_roundoff(X, Y, parameters) == float("inf")
    assert np.isfinite(deep.activation_cost_roundoff(0, X, parameters, Y))


def exact_cost(layer: int, A: np.ndarray, parameters, Y) -> np.longdouble:
    """The cost of the rest of the network in extended precision (64-bit significand), softplus form."""
    L = len(parameters) // 2
    A = A.astype(np.longdouble)
    for k in range(layer + 1, L + 1):
        Z = parameters[f"W{k}"].astype(np.longdouble) @ A + parameters[f"b{k}"].astype(np.longdouble)
        A = np.maximum(Z, 0) if k < L else Z
    loss = np.logaddexp(np.longdouble(0), A) - Y.astype(np.longdouble) * A
    return np.sum(loss) / np.longdouble(Y.shape[1])


needs_extended = pytest.mark.skipif(
    np.finfo(np.longdouble).eps > 1e-18, reason="needs a long double more precise than float64"
)


@needs_extended
@pytest.mark.parametrize("scale", [1.0, 3.0, 8.0])
def test_cost_roundoff_bounds_the_course_formulas_rounding_error(scale):
    rng = np.random.default_rng(int(scale * 10))
    ratios, sizes = [], []
    for trial in range(120):
        L = 1 + trial % 5
        dims = tuple(int(n) for n in rng.integers(1, 7, size=L + 1))
        X, Y, parameters = random_network(dims, m=int(rng.integers(1, 9)), scale=scale, rng=rng)
        bound = deep.cost_roundoff(X, Y, parameters)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            course = course_cost(X, Y, parameters)
        if not np.isfinite(course):
            assert bound == float("inf")
            continue
        error = abs(np.longdouble(course) - exact_cost(0, X, parameters, Y))
        assert error <= bound, (dims, float(error), bound)
        ratios.append(float(error) / bound)
        sizes.append(bound / (UNIT_ROUNDOFF * max(1.0, abs(course))))
    assert len(ratios) > 50
    # a bound, not a shrug: within a few dozen u of the cost on a typical case, and close to some actual errors
    assert np.median(sizes) < 200 and max(ratios) > 0.05


@needs_extended
def test_cost_roundoff_covers_the_amplification_of_log_one_minus_AL_near_saturation():
    X = np.ones((1, 1))
    Y = np.zeros((1, 1))
    for z in (10.0, 20.0, 30.0, 35.0):
        parameters = {
            "W1": np.array([[z / 3]]),
            "b1": np.zeros((1, 1)),
            "W2": np.array([[3.0]]),
            "b2": np.zeros((1, 1)),
        }
        error = abs(np.longdouble(course_cost(X, Y, parameters)) - exact_cost(0, X, parameters, Y))
        bound = deep.cost_roundoff(X, Y, parameters)
        assert error <= bound
        # the bound grows like exp(z) u, as the error of log(1 - AL) does
        assert bound > np.exp(z) * UNIT_ROUNDOFF


@needs_extended
def test_activation_cost_roundoff_bounds_the_stable_costs_rounding_error():
    rng = np.random.default_rng(7)
    for trial in range(80):
        L = 1 + trial % 5
        dims = tuple(int(n) for n in rng.integers(1, 7, size=L + 1))
        X, Y, parameters = random_network(dims, m=int(rng.integers(1, 9)), scale=4.0, rng=rng)
        with np.errstate(over="ignore"):
            _, caches = deep.L_model_forward(X, parameters)
        layer = int(rng.integers(0, L))
        A = X if layer == 0 else caches[layer][0][0]
        error = abs(np.longdouble(deep.activation_cost(layer, A, parameters, Y)) - exact_cost(layer, A, parameters, Y))
        assert error <= deep.activation_cost_roundoff(layer, A, parameters, Y)


def test_gamma_is_the_classic_bound():
    assert gamma(1) == pytest.approx(UNIT_ROUNDOFF, rel=1e-15)
    assert gamma(10) > 10 * UNIT_ROUNDOFF


def test_gradapprox_is_the_centred_difference_of_the_stable_cost():
    X, Y, parameters = random_network((3, 4, 3, 2), m=4)
    sizes = deep.DeepSizes.of(parameters)
    steps = np.linspace(1e-6, 3e-6, deep.parameter_count(sizes))
    theta = deep.dictionary_to_vector(parameters, sizes)
    expected = np.empty(theta.size)
    for index in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[index] += steps[index]
        minus[index] -= steps[index]
        J_plus = deep.stable_cost(X, Y, deep.vector_to_dictionary(plus, sizes))
        J_minus = deep.stable_cost(X, Y, deep.vector_to_dictionary(minus, sizes))
        expected[index] = (J_plus - J_minus) / (2 * steps[index])
    np.testing.assert_allclose(deep.gradapprox(X, Y, parameters, steps), expected, rtol=1e-6, atol=1e-9)


@seed(4)
@DRAWN
@given(deep_cases(min_layers=3, max_layers=3))
def test_on_three_layers_the_passes_are_the_exercise_checkers(case):
    steps = np.full(deep.parameter_count(case.sizes), 1e-7)
    reference = perturbed_passes(case.X, case.Y, case.parameters, steps)
    assert dictionary_to_vector_3(case.parameters)[0].size == steps.size
    np.testing.assert_array_equal(deep.kink_flags(case.X, case.Y, case.parameters, steps), reference.kink)
    np.testing.assert_allclose(
        deep.gradapprox(case.X, case.Y, case.parameters, steps), reference.gradapprox, rtol=1e-6, atol=1e-10
    )


def loop_kinks(X, parameters, steps) -> np.ndarray:
    """Per entry: does the +step or -step forward flip a hidden ReLU's sign, or move a Z that is exactly 0?"""
    sizes = deep.DeepSizes.of(parameters)
    theta = deep.dictionary_to_vector(parameters, sizes)
    base = hidden_Z(X, parameters)
    flags = np.zeros(theta.size, dtype=bool)
    for index in range(theta.size):
        for sign in (1.0, -1.0):
            moved = theta.copy()
            moved[index] += sign * steps[index]
            for Z0, Z in zip(base, hidden_Z(X, deep.vector_to_dictionary(moved, sizes)), strict=True):
                if np.any((Z > 0) != (Z0 > 0)) or np.any((Z0 == 0) & (Z != Z0)):
                    flags[index] = True
    return flags


def planted_zero_network(rng, dims, m, layer: int, unit: int, example: int):
    """A random network whose hidden Z{layer}[unit, example] is exactly 0.0 in the course's forward."""
    X, Y, parameters = random_network(dims, m, rng=rng)
    A = X
    for k in range(1, layer):
        A = np.maximum(0, np.dot(parameters[f"W{k}"], A) + parameters[f"b{k}"])
    parameters[f"b{layer}"][unit, 0] = -np.dot(parameters[f"W{layer}"], A)[unit, example]
    assert hidden_Z(X, parameters)[layer - 1][unit, example] == 0.0
    return X, Y, parameters


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_kink_flags_are_exactly_the_entries_whose_passes_cross_a_planted_zero(layer):
    rng = np.random.default_rng(layer)
    X, Y, parameters = planted_zero_network(rng, (3, 4, 3, 4, 2), m=3, layer=layer, unit=1, example=2)
    steps = np.full(deep.parameter_count(deep.DeepSizes.of(parameters)), 1e-6)
    flags = deep.kink_flags(X, Y, parameters, steps)
    np.testing.assert_array_equal(flags, loop_kinks(X, parameters, steps))
    assert flags.any()
    # no entry of the planted layer's other units, nor of any later layer, reaches that zero
    names = [
        name
        for name, shape in deep.parameter_shapes(deep.DeepSizes.of(parameters)).items()
        for _ in range(np.prod(shape))
    ]
    later = np.array([int(name[1:]) > layer for name in names])
    assert not flags[later].any()


@seed(6)
@DRAWN
@given(deep_cases(max_layers=4, max_units=4, max_batch=4))
def test_kink_flags_match_a_forward_loop_at_steps_that_cross_kinks(case):
    steps = np.full(deep.parameter_count(case.sizes), 0.3)
    np.testing.assert_array_equal(
        deep.kink_flags(case.X, case.Y, case.parameters, steps), loop_kinks(case.X, case.parameters, steps)
    )


def test_a_Z_within_its_rounding_margin_is_a_kink_when_a_pass_moves_it():
    X = np.array([[1.0, 3.0]])
    parameters = {
        "W1": np.array([[0.1], [1.0]]),
        "b1": np.array([[-0.1 + 1e-17], [0.5]]),
        "W2": np.array([[1.0, 1.0]]),
        "b2": np.zeros((1, 1)),
    }
    Z1 = hidden_Z(X, parameters)[0]
    assert 0 < abs(Z1[0, 0]) < 1e-15  # on the kink in any implementation's eyes
    flags = deep.kink_flags(X, None, parameters, 1e-9)
    # W1[0, 0] and b1[0] move it; W1[1, 0], b1[1] and the output layer do not
    np.testing.assert_array_equal(flags, [True, False, True, False, False, False, False])


def test_activation_kink_flags_and_costs_match_loops():
    rng = np.random.default_rng(12)
    X, Y, parameters = planted_zero_network(rng, (3, 4, 3, 2), m=3, layer=2, unit=0, example=1)
    _, caches = deep.L_model_forward(X, parameters)
    A1 = caches[1][0][0]
    assert np.all(np.abs(hidden_Z(X, parameters)[1][:, [0, 2]]) > 1e-3)  # the other examples are clear of the kink
    steps = np.full(A1.size, 1e-6)
    flags = deep.activation_kink_flags(1, A1, parameters, steps)
    expected = np.zeros(A1.size, dtype=bool)
    Z0 = np.dot(parameters["W2"], A1) + parameters["b2"]
    for index in range(A1.size):
        for sign in (1.0, -1.0):
            moved = A1.copy()
            moved.reshape(-1)[index] += sign * steps[index]
            Z = np.dot(parameters["W2"], moved) + parameters["b2"]
            expected[index] |= bool(np.any((Z > 0) != (Z0 > 0)) or np.any((Z0 == 0) & (Z != Z0)))
    np.testing.assert_array_equal(flags, expected)
    assert flags.reshape(A1.shape)[:, 1].all() and not flags.reshape(A1.shape)[:, [0, 2]].any()
    assert not deep.activation_kink_flags(2, caches[2][0][0], parameters, 1e-6).any()  # no ReLU after layer 2

    indices = np.array([0, 5, 7])
    plus, minus = deep.activation_costs(1, A1, parameters, Y, indices, [1e-3, 2e-3, 3e-3])
    for k, (index, step) in enumerate(zip(indices, [1e-3, 2e-3, 3e-3], strict=True)):
        for value, sign in ((plus[k], 1.0), (minus[k], -1.0)):
            moved = A1.copy()
            moved.reshape(-1)[index] += sign * step
            assert value == pytest.approx(deep.activation_cost(1, moved, parameters, Y), rel=1e-13)


def test_activation_gradapprox_times_m_is_the_course_dA():
    X, Y, parameters = random_network((3, 5, 4, 2), m=4)
    AL, caches = deep.L_model_forward(X, parameters)
    grads = deep.L_model_backward(AL, Y, caches)
    for layer in range(3):
        A = X if layer == 0 else caches[layer][0][0]
        numerical = 4 * deep.activation_gradapprox(layer, A, parameters, Y, 1e-6).reshape(A.shape)
        assert relative_error(grads[f"dA{layer}"], numerical) < 1e-7


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda X, Y, p: deep.kink_flags(X, Y, p, [1e-6, 1e-6]), "steps has 2 entries"),
        (lambda X, Y, p: deep.kink_flags(X, Y, p, 0.0), "positive finite"),
        (
            lambda X, Y, p: deep.activation_cost(2, X, p, Y),
            r"layer=2: the layers of an L=2 network read the activations of 0\.\.1",
        ),
        (lambda X, Y, p: deep.activation_cost(1, X, p, Y), r"A1 has shape \(3, 2\), expected \(4, m\)"),
        (lambda X, Y, p: deep.stable_cost(X, Y[:, :1], p), r"Y has shape \(1, 1\), expected \(1, 2\)"),
        (lambda X, Y, p: deep.activation_costs(0, X, p, Y, [6], 1e-3), "indices must lie in 0..5"),
    ],
)
def test_the_checker_helpers_reject_bad_arguments_in_one_line(call, message):
    X, Y, parameters = random_network((3, 4, 1), m=2)
    with pytest.raises(ValueError, match=message):
        call(X, Y, parameters)
