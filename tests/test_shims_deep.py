"""The course's week-4 helper modules supplied as shims: dnn_utils, dnn_utils_v2 and testCases_v4a.

The expected numbers are the course notebook's published "Expected output" cells: a test case with the
wrong seed, shape or draw order gives different ones.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from user_files import FIXTURES

from gradharness.isolation.evaluator import _PRELOADED
from gradharness.usercode import loader
from gradharness.usercode.loader import load_module, load_user_file
from gradharness.usercode.shims import dnn_utils, dnn_utils_v2
from gradharness.usercode.shims import testCases_v4a as cases

DEEP = FIXTURES / "deep"


@pytest.fixture(autouse=True)
def isolated_imports():
    """Loading a user file registers modules and a sys.path entry; undo that after each test."""
    modules, path = dict(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - set(modules):
        del sys.modules[name]
    sys.modules.update(modules)
    sys.path[:] = path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- dnn_utils -------------------------------------------------------------------------------------


Z = np.array([[-2.0, -0.5, 0.0], [0.0, 0.5, 3.0]])
DA = np.array([[0.3, -1.2, 0.7], [-0.4, 2.0, -0.9]])


def test_sigmoid_and_relu_return_the_activation_and_z_as_the_cache() -> None:
    A, cache = dnn_utils.sigmoid(Z)
    np.testing.assert_allclose(A, 1 / (1 + np.exp(-Z)))
    assert A[0, 2] == 0.5 and cache is Z
    A, cache = dnn_utils.relu(Z)
    np.testing.assert_array_equal(A, [[0.0, 0.0, 0.0], [0.0, 0.5, 3.0]])
    assert cache is Z


def test_relu_backward_zeroes_the_gradient_where_z_is_at_most_zero_in_a_copy() -> None:
    dA = DA.copy()
    dZ = dnn_utils.relu_backward(dA, Z)
    np.testing.assert_array_equal(dZ, [[0.0, 0.0, 0.0], [0.0, 2.0, -0.9]])  # Z == 0 gets slope 0
    np.testing.assert_array_equal(dA, DA)
    assert dZ is not dA


def test_sigmoid_backward_is_da_times_s_times_one_minus_s() -> None:
    s = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(dnn_utils.sigmoid_backward(DA, Z), DA * s * (1 - s), rtol=1e-15)
    assert dnn_utils.sigmoid_backward(DA, Z)[0, 2] == pytest.approx(DA[0, 2] * 0.25)


@pytest.mark.parametrize("name", ["relu", "sigmoid"])
def test_the_backward_functions_agree_with_centred_differences_of_their_forward(name: str) -> None:
    forward, backward = getattr(dnn_utils, name), getattr(dnn_utils, f"{name}_backward")
    rng = np.random.default_rng(4)
    z, dout = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    step = 1e-6
    # the functions are elementwise: moving every entry at once moves each output by its own entry only
    numerical = dout * (forward(z + step)[0] - forward(z - step)[0]) / (2 * step)
    np.testing.assert_allclose(backward(dout, z), numerical, rtol=1e-6, atol=1e-9)


def test_mismatched_shapes_are_a_one_line_error_naming_both() -> None:
    with pytest.raises(ValueError, match=r"^relu_backward: dA has shape \(3, 2\) but the cache Z has \(2, 3\)$"):
        dnn_utils.relu_backward(np.ones((3, 2)), Z)
    with pytest.raises(ValueError, match=r"^sigmoid_backward: dZ has shape \(4, 2, 3\) but the cache Z has \(2, 3\)$"):
        dnn_utils.sigmoid_backward(np.ones((4, 1, 1)), Z)


def test_dnn_utils_v2_has_the_same_four_functions() -> None:
    assert dnn_utils_v2.__all__ == dnn_utils.__all__
    for name in dnn_utils.__all__:
        assert getattr(dnn_utils_v2, name) is getattr(dnn_utils, name)


# --- testCases_v4a ---------------------------------------------------------------------------------


def _shapes(value) -> object:
    if isinstance(value, dict):
        return {key: _shapes(v) for key, v in value.items()}
    if isinstance(value, tuple | list):
        return tuple(_shapes(v) for v in value)
    return np.shape(value)


SHAPES = {
    "linear_forward_test_case": ((3, 2), (1, 3), (1, 1)),
    "linear_activation_forward_test_case": ((3, 2), (1, 3), (1, 1)),
    "L_model_forward_test_case": ((4, 2), {"W1": (3, 4), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}),
    "L_model_forward_test_case_2hidden": (
        (5, 4),
        {"W1": (4, 5), "b1": (4, 1), "W2": (3, 4), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)},
    ),
    "compute_cost_test_case": ((1, 3), (1, 3)),
    "linear_backward_test_case": ((3, 4), ((5, 4), (3, 5), (3, 1))),
    "linear_activation_backward_test_case": ((1, 2), (((3, 2), (1, 3), (1, 1)), (1, 2))),
    "L_model_backward_test_case": (
        (1, 2),
        (1, 2),
        ((((4, 2), (3, 4), (3, 1)), (3, 2)), (((3, 2), (1, 3), (1, 1)), (1, 2))),
    ),
    "update_parameters_test_case": (
        {"W1": (3, 4), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)},
        {"dW1": (3, 4), "db1": (3, 1), "dW2": (1, 3), "db2": (1, 1)},
    ),
}


def test_every_test_case_the_notebook_calls_is_there() -> None:
    assert set(cases.__all__) == set(SHAPES) | {"print_grads"}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_test_case_has_the_courses_shapes_and_is_deterministic(name: str) -> None:
    function = getattr(cases, name)
    first = function()
    np.random.seed(12345)  # whatever state the global RNG is in, the case reseeds it
    second = function()
    assert _shapes(first) == SHAPES[name]
    for a, b in zip(_flat(first), _flat(second), strict=True):
        np.testing.assert_array_equal(a, b)


def _flat(value) -> list:
    if isinstance(value, dict):
        return [v for key in sorted(value) for v in _flat(value[key])]
    if isinstance(value, tuple | list):
        return [v for item in value for v in _flat(item)]
    return [value]


def test_a_test_case_leaves_the_global_rng_where_the_course_leaves_it() -> None:
    cases.linear_forward_test_case()  # seed 1, then 6 + 3 + 1 draws
    assert np.random.randn() == np.random.RandomState(1).randn(11)[10]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_the_forward_cases_give_the_courses_expected_output() -> None:
    A, W, b = cases.linear_forward_test_case()
    np.testing.assert_allclose(W @ A + b, [[3.26295337, -1.23429987]], atol=1e-8)
    A_prev, W, b = cases.linear_activation_forward_test_case()
    np.testing.assert_allclose(_sigmoid(W @ A_prev + b), [[0.96890023, 0.11013289]], atol=1e-8)
    np.testing.assert_allclose(np.maximum(0, W @ A_prev + b), [[3.43896131, 0.0]], atol=1e-8)
    X, parameters = cases.L_model_forward_test_case_2hidden()
    A = X
    for layer in (1, 2):
        A = np.maximum(0, parameters[f"W{layer}"] @ A + parameters[f"b{layer}"])
    AL = _sigmoid(parameters["W3"] @ A + parameters["b3"])
    np.testing.assert_allclose(AL, [[0.03921668, 0.70498921, 0.19734387, 0.04728177]], atol=1e-8)
    Y, aL = cases.compute_cost_test_case()
    assert -np.sum(Y * np.log(aL) + (1 - Y) * np.log(1 - aL)) / 3 == pytest.approx(0.2797765635793422)


def test_the_backward_cases_give_the_courses_expected_output() -> None:
    dZ, (A_prev, W, b) = cases.linear_backward_test_case()
    np.testing.assert_allclose((W.T @ dZ)[0], [-1.15171336, 0.06718465, -0.3204696, 2.09812712], atol=1e-8)
    np.testing.assert_allclose((dZ @ A_prev.T / 4)[:, 0], [0.07313866, 0.85508818, 0.97913304], atol=1e-8)
    np.testing.assert_allclose(dZ.sum(axis=1) / 4, [-0.14713786, -0.11313155, -0.13209101], atol=1e-8)
    dA, ((A_prev, W, b), Z) = cases.linear_activation_backward_test_case()
    dZ = dnn_utils.sigmoid_backward(dA, Z)
    np.testing.assert_allclose(dZ @ A_prev.T / 2, [[0.10266786, 0.09778551, -0.01968084]], atol=1e-8)
    dZ = dnn_utils.relu_backward(dA, Z)
    np.testing.assert_allclose(dZ @ A_prev.T / 2, [[0.44513824, 0.37371418, -0.10478989]], atol=1e-8)
    AL, Y, ((cache1, Z1), (cache2, Z2)) = cases.L_model_backward_test_case()
    dA1 = cache2[1].T @ dnn_utils.sigmoid_backward(-(Y / AL - (1 - Y) / (1 - AL)), Z2)
    dZ1 = dnn_utils.relu_backward(dA1, Z1)
    np.testing.assert_allclose(dA1[:, 0], [0.12913162, -0.14175655, 0.01663708], atol=1e-8)
    np.testing.assert_allclose(dZ1 @ cache1[0].T / 2, [[0.41010002, 0.07807203, 0.13798444, 0.10502167],
                                                       [0.0, 0.0, 0.0, 0.0],
                                                       [0.05283652, 0.01005865, 0.01777766, 0.0135308]], atol=1e-8)  # fmt: skip
    parameters, grads = cases.update_parameters_test_case()
    W1 = parameters["W1"] - 0.1 * grads["dW1"]
    np.testing.assert_allclose(W1[0], [-0.59562069, -0.09991781, -2.14584584, 1.82662008], atol=1e-8)
    np.testing.assert_allclose(parameters["b2"] - 0.1 * grads["db2"], [[-0.84610769]], atol=1e-8)


def test_print_grads_prints_dw1_db1_da1(capsys: pytest.CaptureFixture[str]) -> None:
    cases.print_grads({"dW1": np.array([[1.5]]), "db1": np.array([[0.0]]), "dA1": np.array([[-2.0]]), "dW2": 9})
    assert capsys.readouterr().out == "dW1 = [[1.5]]\ndb1 = [[0.]]\ndA1 = [[-2.]]\n"


# --- supplied to user files ------------------------------------------------------------------------


def test_the_course_structured_file_loads_with_the_shims_and_prints_the_courses_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    loaded = load_user_file(DEEP / "correct_course.py")
    assert sys.modules["dnn_utils"] is dnn_utils and sys.modules["testCases_v4a"] is cases
    assert loaded.module.sigmoid is dnn_utils.sigmoid and loaded.skipped == []
    assert (
        "dnn_utils.py is not beside the file: using gradharness's compatible dnn_utils "
        "(the course's sigmoid, relu, sigmoid_backward, relu_backward)" in loaded.notes
    )
    assert (
        "testCases_v4a.py is not beside the file: using gradharness's compatible testCases_v4a "
        "(the course's seeded test cases)" in loaded.notes
    )
    printed = capsys.readouterr().out
    assert "Z = [[ 3.26295337 -1.23429987]]" in printed
    assert "AL = [[0.03921668 0.70498921 0.19734387 0.04728177]]" in printed
    assert "cost = 0.27977656357934" in printed
    assert "db1 = [[-0.22007063]\n [ 0.        ]\n [-0.02835349]]" in printed


def test_a_file_importing_dnn_utils_v2_gets_that_shim_and_its_note(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "step_by_step.py",
        """
        import numpy as np
        from dnn_utils_v2 import relu_backward

        def L_model_forward(X, parameters):
            return X, [X]

        def L_model_backward(AL, Y, caches):
            return {"dA0": relu_backward(AL - Y, caches[0])}
        """,
    )
    loaded = load_user_file(path)
    assert loaded.module.relu_backward is dnn_utils.relu_backward
    assert any(n.startswith("dnn_utils_v2.py is not beside the file: using gradharness's compatible dnn_utils_v2 (")
               for n in loaded.notes)  # fmt: skip
    assert not any("compatible dnn_utils " in n or "testCases_v4a" in n for n in loaded.notes)


def test_the_courses_own_modules_beside_the_file_win_over_the_shims(tmp_path: Path) -> None:
    (tmp_path / "dnn_utils.py").write_text("def relu(Z):\n    return 'mine', Z\n")
    (tmp_path / "testCases_v4a.py").write_text("def linear_forward_test_case():\n    return 1, 2, 3\n")
    path = write(
        tmp_path,
        "student.py",
        """
        from dnn_utils import relu
        from testCases_v4a import linear_forward_test_case
        FIRST = relu(0)[0]
        A, W, b = linear_forward_test_case()
        """,
    )
    module = load_module(path, path.read_text())
    assert module.FIRST == "mine" and (module.A, module.W, module.b) == (1, 2, 3)
    assert Path(sys.modules["dnn_utils"].__file__) == tmp_path / "dnn_utils.py"


def test_every_shim_is_imported_before_the_evaluator_drops_its_privileges() -> None:
    assert {shim for shim, _ in loader._SHIMS.values()} <= set(_PRELOADED)
