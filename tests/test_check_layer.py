"""check_layer / assert_layer: any hand-written layer checked on drawn cases of its gufunc signature."""

from __future__ import annotations

import numpy as np
import pytest

import gradharness
from gradharness.model.signature import SignatureCase, parse_signature
from gradharness.targets.signature import LayerCheck, assert_layer, check_case, check_layer

FEW = 30  # examples per run: the whole file stays within a few seconds

# --- layers under check: correct ones, and each with one planted mistake -------------------------------------


def scaled_tanh_forward(x, a):
    out = a * np.tanh(x)
    return out, (x, a)


def scaled_tanh_backward(dout, cache):
    x, a = cache
    dx = dout * a * (1.0 - np.tanh(x) ** 2)
    da = np.sum(dout * np.tanh(x), axis=0)
    return dx, da


def scaled_tanh_backward_da_twice(dout, cache):
    """da twice too large: the factor of a kept where it does not belong."""
    dx, da = scaled_tanh_backward(dout, cache)
    return dx, 2.0 * da


def scaled_tanh_backward_da_mean(dout, cache):
    """da averaged over N instead of summed: right only when N = 1."""
    x, _ = cache
    dx, _ = scaled_tanh_backward(dout, cache)
    return dx, np.mean(dout * np.tanh(x), axis=0)


def abs_forward(x):
    return np.abs(x), x


def abs_backward_sign(dout, x):
    return dout * np.sign(x)


def abs_backward_one_at_zero(dout, x):
    return dout * np.where(x >= 0, 1.0, -1.0)


def abs_backward_wrong(dout, x):
    return dout * 1.0  # the slope of x, not of |x|: wrong wherever x < 0


def relu_forward(x):
    return np.maximum(0.0, x), x


def relu_backward_open(dout, x):
    return dout * (x > 0)


def relu_backward_closed(dout, x):
    return dout * (x >= 0)


def hinge_loss(x):
    return np.sum(np.maximum(0.0, 1.0 - x)), -(x < 1).astype(np.float64)


def identity_forward(x):
    return x.copy(), None


SIG = "(N,D),(D)->(N,D)"


# --- agreement ----------------------------------------------------------------------------------------------


def test_a_correct_layer_that_is_not_affine_passes():
    result = check_layer(scaled_tanh_forward, scaled_tanh_backward, signature=SIG, max_examples=FEW)
    assert isinstance(result, LayerCheck)
    assert result.passed and result.failure is None and result.case is None
    assert result.examples == FEW


@pytest.mark.parametrize("backward", [scaled_tanh_backward_da_twice, scaled_tanh_backward_da_mean])
def test_a_planted_mistake_in_one_gradient_is_named_on_a_small_case(backward):
    result = check_layer(scaled_tanh_forward, backward, signature=SIG, max_examples=FEW)
    assert not result.passed
    assert result.case is not None and result.failure is not None
    assert "gradient check" in result.failure and "d1" in result.failure
    assert "d0" not in result.failure  # dx is right and is not blamed
    assert result.case.describe() in result.failure
    assert max(result.case.sizes.values()) <= 2  # shrunk
    if backward is scaled_tanh_backward_da_mean:
        assert result.case.sizes["N"] == 2  # the mean is the sum at N = 1: the smallest case that shows it


def test_names_give_the_gradients_their_names():
    result = check_layer(
        scaled_tanh_forward, scaled_tanh_backward_da_twice, signature=SIG, max_examples=FEW, names=("x", "a")
    )
    assert not result.passed and "da" in result.failure and "d1" not in result.failure


def test_the_same_seed_gives_the_same_finding_and_another_seed_runs():
    first = check_layer(scaled_tanh_forward, scaled_tanh_backward_da_twice, signature=SIG, max_examples=FEW, seed=3)
    again = check_layer(scaled_tanh_forward, scaled_tanh_backward_da_twice, signature=SIG, max_examples=FEW, seed=3)
    assert first.failure == again.failure and first.examples == again.examples
    assert first.case.to_json() == again.case.to_json()


# --- kinks: non-differentiable points found from the function's values ------------------------------------------


def _case(signature: str, sizes: dict, *arrays, dout=None) -> SignatureCase:
    parsed = parse_signature(signature)
    if dout is None:
        dout = np.ones(np.shape(arrays[0])) if not parsed.is_loss else np.array(1.0)
    return SignatureCase(parsed, sizes, tuple(np.asarray(a, dtype=float) for a in arrays), np.asarray(dout))


ZEROS = np.array([[0.0, -0.5, 0.0], [1.25, 0.0, -2.0]])  # three exact zeros


@pytest.mark.parametrize("backward", [abs_backward_sign, abs_backward_one_at_zero])
def test_abs_passes_with_its_kinks_set_aside(backward):
    result = check_layer(abs_forward, backward, signature="(N,D)->(N,D)", max_examples=FEW)
    assert result.passed, result.failure
    assert result.kinks > 0  # the draws shrink towards zeros, and the zeros were seen and set aside


@pytest.mark.parametrize("backward", [abs_backward_sign, abs_backward_one_at_zero])
def test_abs_at_hand_made_zeros_sets_exactly_those_aside(backward):
    dout = np.array([[0.5, -1.0, 2.0], [1.0, 0.25, -0.75]])
    result = check_case(abs_forward, backward, case=_case("(N,D)->(N,D)", {"N": 2, "D": 3}, ZEROS, dout=dout))
    assert result.passed, result.failure
    assert result.kinks == 3


def test_kinks_do_not_hide_a_wrong_gradient_away_from_them():
    result = check_case(abs_forward, abs_backward_wrong, case=_case("(N,D)->(N,D)", {"N": 2, "D": 3}, ZEROS))
    assert not result.passed and "gradient check" in result.failure and "d0" in result.failure
    drawn = check_layer(abs_forward, abs_backward_wrong, signature="(N,D)->(N,D)", max_examples=FEW)
    assert not drawn.passed and max(drawn.case.sizes.values()) == 1


@pytest.mark.parametrize("backward", [relu_backward_open, relu_backward_closed])
def test_relu_passes_with_either_convention_at_zero(backward):
    assert check_layer(relu_forward, backward, signature="(N,D)->(N,D)", max_examples=FEW).passed
    result = check_case(relu_forward, backward, case=_case("(N,D)->(N,D)", {"N": 2, "D": 3}, ZEROS))
    assert result.passed and result.kinks == 3


def test_a_smooth_layer_has_no_kinks_set_aside():
    assert check_layer(scaled_tanh_forward, scaled_tanh_backward, signature=SIG, max_examples=FEW).kinks == 0


# --- loss style ---------------------------------------------------------------------------------------------


def test_the_hinge_loss_passes_in_loss_style():
    result = check_layer(hinge_loss, signature="(N)->()", max_examples=FEW)
    assert result.passed, result.failure
    at_the_hinge = check_case(hinge_loss, case=_case("(N)->()", {"N": 3}, [1.0, 0.5, 1.0]))
    assert at_the_hinge.passed and at_the_hinge.kinks == 2


def test_a_wrong_loss_gradient_fails():
    def hinge_wrong(x):
        return np.sum(np.maximum(0.0, 1.0 - x)), -np.ones_like(x)  # -1 also where the hinge is flat

    result = check_layer(hinge_wrong, signature="(N)->()", max_examples=FEW, names=("scores",))
    assert not result.passed and "dscores" in result.failure and result.case.sizes["N"] <= 3


def test_a_loss_of_several_inputs_takes_a_tuple_of_gradients():
    def squared_error(x, y):
        return 0.5 * np.sum((x - y) ** 2), (x - y, y - x)

    assert check_layer(squared_error, signature="(N),(N)->()", max_examples=FEW).passed


# --- the contract -------------------------------------------------------------------------------------------


def test_a_gradient_that_is_a_view_of_dout_fails_the_contract():
    result = check_layer(identity_forward, lambda dout, cache: dout, signature="(N)->(N)", max_examples=FEW)
    assert not result.passed and "is a view of dout" in result.failure


def test_a_gradient_that_is_a_view_of_an_input_fails_the_contract():
    def square_forward(x):
        return x * x, x

    def square_backward(dout, x):
        x *= 2.0 * dout  # right values, but made in the caller's x
        return x

    result = check_layer(square_forward, square_backward, signature="(N)->(N)", max_examples=FEW)
    assert not result.passed and "input 0 was modified in place" in result.failure


def test_a_backward_that_changes_dout_fails_the_contract():
    def relu_backward_in_place(dout, x):
        dout[x <= 0] = 0.0
        return dout.copy()

    result = check_layer(relu_forward, relu_backward_in_place, signature="(N,D)->(N,D)", max_examples=FEW)
    assert not result.passed and "dout was modified in place" in result.failure


def test_a_backward_that_remembers_its_calls_fails_the_repeat():
    calls = []

    def drifting_backward(dout, x):
        calls.append(1)
        return dout * (x > 0) * (1.0 if len(calls) % 2 else 1.5)

    result = check_layer(relu_forward, drifting_backward, signature="(N,D)->(N,D)", max_examples=FEW)
    assert not result.passed and "called again on the same cache gives" in result.failure


def test_a_zero_dout_must_give_zero_gradients():
    def offset_backward(dout, x):
        return dout * (x > 0) + (0.0 if dout.any() else 1.0)

    result = check_layer(relu_forward, offset_backward, signature="(N,D)->(N,D)", max_examples=FEW)
    assert not result.passed and "for a zero dout" in result.failure


# --- what the callables return: clear findings, not tracebacks -------------------------------------------------


@pytest.mark.parametrize(
    ("forward", "backward", "signature", "words"),
    [
        (lambda x: (x.T.copy(), x), lambda dout, x: dout.T.copy(), "(N,D)->(N,D)", ("has shape (2, 1)", "is (1, 2)")),
        (lambda x: np.maximum(x, 0.0), relu_backward_open, "(N)->(N)", ("expected (out, cache)",)),
        (lambda x, a: (a * x, (x, a)), lambda dout, c: dout * c[1], SIG, ("expected (d0, d1)",)),
        (
            relu_forward,
            lambda dout, x: (dout * (x > 0),),
            "(N,D)->(N,D)",
            ("returned a tuple of 1 item; a backward of one input returns d0 itself",),
        ),
        (lambda x: (1 / 0, x), relu_backward_open, "(N)->(N)", ("raised ZeroDivisionError",)),
        (lambda x: x.sum(), None, "(N)->()", ("expected (loss, grads)",)),
        (lambda x: ((x, x), x.copy()), None, "(N)->()", ("has shape (2, 1), the signature's (N)->() is ()",)),
        (lambda x: ("loss", x.copy()), None, "(N)->()", ("not an array of real numbers",)),
    ],
)
def test_a_callable_that_breaks_the_conventions_is_a_clear_finding(forward, backward, signature, words):
    result = check_layer(forward, backward, signature=signature, max_examples=FEW)
    assert not result.passed
    for word in words:
        assert word in result.failure
    assert "\n" not in result.failure and "Traceback" not in result.failure


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"signature": "(N,D)->(N,D)", "backward": None}, ValueError, "loss style"),
        ({"signature": "(N,D)->"}, ValueError, "bad signature"),
        ({"signature": 3}, TypeError, "signature"),
        ({"signature": SIG, "names": ("x",)}, ValueError, "1 names for the 2 inputs"),
        ({"signature": SIG, "names": ("x", "x")}, ValueError, "repeat"),
        ({"signature": SIG, "max_examples": 0}, ValueError, "max_examples"),
        ({"signature": SIG, "threshold": -1.0}, ValueError, "threshold"),
    ],
)
def test_bad_arguments_raise_one_line_errors(options, error, words):
    backward = options.pop("backward", scaled_tanh_backward)
    with pytest.raises(error, match=words):
        check_layer(scaled_tanh_forward, backward, **options)


# --- assert_layer and the package's names -----------------------------------------------------------------------


def test_assert_layer_returns_on_a_correct_layer_and_raises_on_a_wrong_one():
    result = assert_layer(scaled_tanh_forward, scaled_tanh_backward, signature=SIG, max_examples=FEW)
    assert result.passed
    with pytest.raises(AssertionError, match=r"d1 wrong .* Smallest failing case: N=\d, D=\d"):
        assert_layer(scaled_tanh_forward, scaled_tanh_backward_da_twice, signature=SIG, max_examples=FEW)


def test_the_package_exports_the_checks():
    assert gradharness.check_layer is check_layer
    assert gradharness.assert_layer is assert_layer
    assert {"check_layer", "assert_layer"} <= set(gradharness.__all__)


def test_the_readmes_example_runs_and_its_wrong_variant_fails_as_the_readme_says() -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("```python\nimport numpy as np\nfrom gradharness import assert_layer, check_layer")
    block = readme[start + len("```python\n") : readme.index("```\n", start + 10)]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # the README's own example
    namespace["test_my_layer"]()
    wrong = block.replace("np.sum(dout * np.tanh(x), axis=0)", "np.mean(dout * np.tanh(x), axis=0)")
    wrong = wrong.replace("assert result.passed", "failure = result.failure")
    exec(compile(wrong, "README.md", "exec"), namespace)
    assert "da wrong" in namespace["failure"] and "Smallest failing case: N=2, D=1" in namespace["failure"]


def test_a_signature_that_leaves_out_an_input_is_the_callers_error():
    with pytest.raises(ValueError, match="forward cannot take the 1 inputs of '\\(N,D\\)->\\(N,D\\)'"):
        check_layer(lambda x, w: (x * w, (x, w)), lambda dout, c: (dout, dout), signature="(N,D)->(N,D)")


def test_a_case_too_large_to_draw_is_a_value_error():
    with pytest.raises(ValueError, match="lower max_size"):
        check_layer(lambda x: (x, x), lambda d, c: d.copy(), signature="(A,B,C,D,E)->(A,B,C,D,E)")
    assert check_layer(
        lambda x: (x * x, x), lambda d, x: 2 * x * d, signature="(A,B,C,D,E)->(A,B,C,D,E)", max_size=3, max_examples=5
    ).passed


def test_a_change_narrower_than_the_step_is_set_aside_not_failed():
    def l2_forward(x):  # x / sqrt(sum(x^2) + 1e-14): smooth, but at a zero row it changes on a scale of 1e-7
        norm = np.sqrt(np.sum(x * x, axis=1, keepdims=True) + 1e-14)
        return x / norm, (x, norm)

    def l2_backward(dout, cache):
        x, norm = cache
        y = x / norm
        return (dout - y * np.sum(dout * y, axis=1, keepdims=True)) / norm

    zero_row = SignatureCase(
        parse_signature("(N,D)->(N,D)"), {"N": 2, "D": 2}, (np.array([[0.0, 0.0], [1.0, 2.0]]),), np.ones((2, 2))
    )
    result = check_case(l2_forward, l2_backward, case=zero_row)
    assert result.passed and result.kinks >= 2, result.failure
