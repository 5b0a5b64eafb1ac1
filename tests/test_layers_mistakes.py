"""The layers target's fixtures, proven against a centred-difference gradient of their own forwards.

The correct files (fixtures/user_code/layers/) agree with it on every case drawn here (N = 1, odd and non-square
sizes, pad 0 and 1, overlapping pools) and take their side at the kinks (ReLU at 0, tied maxima); the stubs are
stubs; each mistake of tests/layers_mistakes.py is valid Python that differs from its base and is wrong on at
least one of the cases, in the gradient its docstring names.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from layers_mistakes import LAYERS, MISTAKES
from mistakes import made_file

CORRECT = LAYERS / "correct_layers.py"
RELU_GE = LAYERS / "correct_relu_ge.py"
STUBS = LAYERS / "correct_with_stubs.py"

AGREES = 1e-7  # a correct backward's relative error: centred differences of float64 at h = 1e-5 reach ~1e-9
WRONG = 1e-5  # the error a mistake must exceed on some case


def load(path: Path) -> ModuleType:
    """The file ``path`` as a module of its own (not entered in sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"layers_fixture_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The centred difference of ``f`` (which reads ``x``) in each entry of ``x``, perturbed in place."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f()
        x[index] = old - h
        minus = f()
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def relative_error(analytic: Any, numerical: np.ndarray) -> float:
    """||a - n|| / (||a|| + ||n||), floored at 1e-6 below (true gradients of 0); inf for the wrong shape."""
    analytic = np.asarray(analytic, dtype=float)
    if analytic.shape != numerical.shape:
        return float("inf")
    scale = max(float(np.linalg.norm(analytic) + np.linalg.norm(numerical)), 1e-6)
    return float(np.linalg.norm(analytic - numerical)) / scale


@dataclass(frozen=True)
class Case:
    """One call of a layer pair: the arrays differentiated (in the order the backward returns their gradients)
    and the arguments after them. ``loss`` pairs are one function returning (loss, dx) of x and the labels."""

    pair: str
    label: str
    build: Callable[[np.random.Generator], tuple[dict[str, np.ndarray], tuple[Any, ...]]]


def _arrays(**shapes: tuple[int, ...]) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
    return lambda rng: {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def _layer(
    pair: str, label: str, rest: Callable[[np.random.Generator], tuple[Any, ...]], **shapes: tuple[int, ...]
) -> Case:
    arrays = _arrays(**shapes)
    return Case(pair, label, lambda rng: (arrays(rng), rest(rng)))


def _none(rng: np.random.Generator) -> tuple[Any, ...]:
    return ()


def _labels(n: int, c: int) -> Callable[[np.random.Generator], tuple[Any, ...]]:
    return lambda rng: (rng.integers(0, c, size=n),)


def _fixed(*rest: Any) -> Callable[[np.random.Generator], tuple[Any, ...]]:
    return lambda rng: tuple(dict(r) if isinstance(r, dict) else r for r in rest)  # a fresh param dict per case


def _bn(mode: str = "train") -> dict[str, Any]:
    return {"mode": mode, "eps": 1e-5, "momentum": 0.9}


def _pool(height: int, width: int, stride: int) -> dict[str, int]:
    return {"pool_height": height, "pool_width": width, "stride": stride}


CASES: list[Case] = [
    _layer("affine", "N=1", _none, x=(1, 5), w=(5, 3), b=(3,)),
    _layer("affine", "N=3, x (3, 2, 4)", _none, x=(3, 2, 4), w=(8, 5), b=(5,)),
    _layer("affine", "N=4, x (4, 3, 3)", _none, x=(4, 3, 3), w=(9, 2), b=(2,)),
    _layer("relu", "N=1", _none, x=(1, 7)),
    _layer("relu", "(3, 4, 5)", _none, x=(3, 4, 5)),
    _layer("affine_relu", "N=1", _none, x=(1, 4), w=(4, 3), b=(3,)),
    _layer("affine_relu", "N=5", _none, x=(5, 2, 3), w=(6, 7), b=(7,)),
    _layer("svm", "N=1", _labels(1, 4), x=(1, 4)),
    _layer("svm", "N=5, C=3", _labels(5, 3), x=(5, 3)),
    _layer("svm", "N=7, C=10", _labels(7, 10), x=(7, 10)),
    _layer("softmax", "N=1", _labels(1, 4), x=(1, 4)),
    _layer("softmax", "N=5, C=3", _labels(5, 3), x=(5, 3)),
    _layer("batchnorm", "N=1", _fixed(_bn()), x=(1, 4), gamma=(4,), beta=(4,)),
    _layer("batchnorm", "N=5, D=3", _fixed(_bn()), x=(5, 3), gamma=(3,), beta=(3,)),
    _layer("batchnorm", "N=7, D=1", _fixed(_bn()), x=(7, 1), gamma=(1,), beta=(1,)),
    _layer("batchnorm_alt", "N=1", _fixed(_bn()), x=(1, 4), gamma=(4,), beta=(4,)),
    _layer("batchnorm_alt", "N=5, D=3", _fixed(_bn()), x=(5, 3), gamma=(3,), beta=(3,)),
    _layer("layernorm", "N=1", _fixed({"eps": 1e-5}), x=(1, 5), gamma=(5,), beta=(5,)),
    _layer("layernorm", "N=4, D=3", _fixed({"eps": 1e-5}), x=(4, 3), gamma=(3,), beta=(3,)),
    _layer("dropout", "train, N=1", _fixed({"p": 0.6, "mode": "train", "seed": 3}), x=(1, 7)),
    _layer("dropout", "train, (4, 3, 5)", _fixed({"p": 0.3, "mode": "train", "seed": 7}), x=(4, 3, 5)),
    _layer("dropout", "test", _fixed({"p": 0.5, "mode": "test", "seed": 1}), x=(2, 3)),
    _layer("conv", "pad 1, stride 1", _fixed({"stride": 1, "pad": 1}), x=(1, 1, 4, 4), w=(2, 1, 3, 3), b=(2,)),
    _layer("conv", "pad 0, 3x2 kernel", _fixed({"stride": 1, "pad": 0}), x=(2, 3, 5, 6), w=(3, 3, 3, 2), b=(3,)),
    _layer("conv", "pad 1, stride 2", _fixed({"stride": 2, "pad": 1}), x=(3, 2, 7, 5), w=(2, 2, 3, 3), b=(2,)),
    _layer("max_pool", "2x2 stride 2", _fixed(_pool(2, 2, 2)), x=(1, 1, 4, 4)),
    _layer("max_pool", "3x3 stride 1 (overlap)", _fixed(_pool(3, 3, 1)), x=(2, 3, 5, 5)),
    _layer("max_pool", "2x3 stride 2 (overlap)", _fixed(_pool(2, 3, 2)), x=(1, 2, 5, 7)),
    _layer("spatial_batchnorm", "N=1", _fixed(_bn()), x=(1, 2, 3, 3), gamma=(2,), beta=(2,)),
    _layer("spatial_batchnorm", "N=2, C=3", _fixed(_bn()), x=(2, 3, 4, 5), gamma=(3,), beta=(3,)),
    _layer(
        "spatial_groupnorm", "N=1, G=2", _fixed(2, {"eps": 1e-5}), x=(1, 4, 2, 3), gamma=(1, 4, 1, 1), beta=(1, 4, 1, 1)
    ),
    _layer(
        "spatial_groupnorm", "N=2, G=3", _fixed(3, {"eps": 1e-5}), x=(2, 6, 3, 4), gamma=(1, 6, 1, 1), beta=(1, 6, 1, 1)
    ),
]

PAIRS: dict[str, tuple[str, str]] = {
    "affine": ("affine_forward", "affine_backward"),
    "relu": ("relu_forward", "relu_backward"),
    "affine_relu": ("affine_relu_forward", "affine_relu_backward"),
    "svm": ("svm_loss", ""),
    "softmax": ("softmax_loss", ""),
    "batchnorm": ("batchnorm_forward", "batchnorm_backward"),
    "batchnorm_alt": ("batchnorm_forward", "batchnorm_backward_alt"),
    "layernorm": ("layernorm_forward", "layernorm_backward"),
    "dropout": ("dropout_forward", "dropout_backward"),
    "conv": ("conv_forward_naive", "conv_backward_naive"),
    "max_pool": ("max_pool_forward_naive", "max_pool_backward_naive"),
    "spatial_batchnorm": ("spatial_batchnorm_forward", "spatial_batchnorm_backward"),
    "spatial_groupnorm": ("spatial_groupnorm_forward", "spatial_groupnorm_backward"),
}
"""Each pair's forward and backward (a loss is one function: its gradient comes with its value)."""

EXPOSED: dict[str, tuple[str, str]] = {
    "buggy_affine_db_mean.py": ("affine", "db"),
    "buggy_affine_dx_transposed.py": ("affine", "dx"),
    "buggy_relu_mask_dout.py": ("relu", "dx"),
    "buggy_svm_correct_class_missing.py": ("svm", "dx"),
    "buggy_softmax_not_over_n.py": ("softmax", "dx"),
    "buggy_batchnorm_mean_term_missing.py": ("batchnorm", "dx"),
    "buggy_batchnorm_alt_scalar_sum.py": ("batchnorm_alt", "dx"),
    "buggy_layernorm_wrong_axis.py": ("layernorm", "dx"),
    "buggy_dropout_mask_missing.py": ("dropout", "dx"),
    "buggy_conv_crop_negative_pad.py": ("conv", "dx"),
    "buggy_maxpool_assign.py": ("max_pool", "dx"),
    "buggy_groupnorm_dgamma_axes.py": ("spatial_groupnorm", "dgamma"),
}
"""Each mistake's pair and the gradient its docstring names as wrong."""


def gradients(module: ModuleType, case: Case, seed: int = 0) -> dict[str, tuple[Any, np.ndarray]]:
    """Each differentiated array's gradient on ``case``: (the file's backward, the centred difference of its forward)."""
    rng = np.random.default_rng(seed)
    arrays, rest = case.build(rng)
    forward_name, backward_name = PAIRS[case.pair]
    forward = getattr(module, forward_name)
    values = list(arrays.values())
    if not backward_name:  # a loss: (loss, dx) of the scores
        analytic: tuple[Any, ...] = (forward(*values, *rest)[1],)
        scalar = lambda: float(forward(*values, *rest)[0])  # noqa: E731
    else:
        out, cache = forward(*values, *rest)
        dout = rng.standard_normal(np.shape(out))
        returned = getattr(module, backward_name)(dout, cache)
        analytic = returned if isinstance(returned, tuple) else (returned,)
        scalar = lambda: float(np.sum(dout * forward(*values, *rest)[0]))  # noqa: E731
    assert len(analytic) == len(values), (case.pair, len(analytic))
    return {
        f"d{name}": (a, numerical_gradient(scalar, array))
        for (name, array), a in zip(arrays.items(), analytic, strict=True)
    }


def _id(case: Case) -> str:
    return f"{case.pair}: {case.label}"


@pytest.fixture(scope="module")
def correct() -> ModuleType:
    return load(CORRECT)


@pytest.fixture(scope="module")
def relu_ge() -> ModuleType:
    return load(RELU_GE)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layers_mistakes")
    return {name: made_file(name, mistake, folder) for name, mistake in MISTAKES.items()}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_correct_file_agrees_with_the_numerical_gradient(correct: ModuleType, case: Case) -> None:
    for name, (analytic, numerical) in gradients(correct, case).items():
        assert relative_error(analytic, numerical) < AGREES, (name, analytic, numerical)


@pytest.mark.parametrize("case", [c for c in CASES if c.pair in ("affine", "relu", "max_pool")], ids=_id)
def test_the_other_conventions_file_agrees_with_the_numerical_gradient(relu_ge: ModuleType, case: Case) -> None:
    for name, (analytic, numerical) in gradients(relu_ge, case).items():
        assert relative_error(analytic, numerical) < AGREES, (name, analytic, numerical)


def test_every_pair_and_mistake_is_covered() -> None:
    assert set(EXPOSED) == set(MISTAKES)
    assert {case.pair for case in CASES} == set(PAIRS)
    for name, (pair, _) in EXPOSED.items():
        assert (PAIRS[pair][1] or PAIRS[pair][0]) in MISTAKES[name].why, name


def _nudged_relu_gradient(module: ModuleType, up: bool) -> tuple[np.ndarray, np.ndarray]:
    """relu_backward at exact zeros of x, and the centred difference with those zeros moved off the kink."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4))
    x[0, 1] = x[2, 3] = x[1, 0] = 0.0
    dout = rng.standard_normal(x.shape)
    analytic = module.relu_backward(dout, module.relu_forward(x)[1])
    moved = np.where(x == 0, 1e-3 if up else -1e-3, x)
    numerical = numerical_gradient(lambda: float(np.sum(dout * module.relu_forward(moved)[0])), moved)
    return analytic, numerical


@pytest.mark.parametrize(("path", "up"), [(CORRECT, False), (RELU_GE, True)], ids=["x > 0", "x >= 0"])
def test_relu_takes_its_side_of_the_kink(path: Path, up: bool) -> None:
    analytic, numerical = _nudged_relu_gradient(load(path), up)
    assert relative_error(analytic, numerical) < AGREES
    analytic, numerical = _nudged_relu_gradient(load(path), not up)
    assert relative_error(analytic, numerical) > WRONG  # the zeros are really at the kink


def _tied_pool_gradient(module: ModuleType, last: bool) -> tuple[np.ndarray, np.ndarray]:
    """max_pool_backward_naive with two entries tied for the maximum of overlapping windows, and the centred
    difference with the tie broken towards the first or the last of them."""
    rng = np.random.default_rng(11)
    x = rng.uniform(0, 1, size=(1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = 5.0  # both in the windows at columns 1-2 (2x2, stride 1)
    param = _pool(2, 2, 1)
    out, cache = module.max_pool_forward_naive(x, param)
    dout = rng.standard_normal(out.shape)
    analytic = module.max_pool_backward_naive(dout, cache)
    broken = x.copy()
    broken[0, 0, 1, 2 if last else 1] += 1e-3
    numerical = numerical_gradient(
        lambda: float(np.sum(dout * module.max_pool_forward_naive(broken, param)[0])), broken
    )
    return analytic, numerical


@pytest.mark.parametrize(("path", "last"), [(CORRECT, False), (RELU_GE, True)], ids=["first argmax", "last argmax"])
def test_max_pool_gives_a_tie_to_one_maximum(path: Path, last: bool) -> None:
    analytic, numerical = _tied_pool_gradient(load(path), last)
    assert relative_error(analytic, numerical) < AGREES
    analytic, numerical = _tied_pool_gradient(load(path), not last)
    assert relative_error(analytic, numerical) > WRONG  # the tie is real


def test_the_stubs_file_implements_affine_and_relu_only() -> None:
    stubs = load(STUBS)
    for case in CASES:
        if case.pair in ("affine", "relu"):
            for name, (analytic, numerical) in gradients(stubs, case).items():
                assert relative_error(analytic, numerical) < AGREES, (case.label, name)
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert stubs.batchnorm_forward(x, np.ones(3), np.zeros(3), _bn()) == (None, None)
    assert stubs.batchnorm_backward(x, None) == (None, None, None)
    out, cache = stubs.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 0})
    assert out.shape == x.shape and stubs.dropout_backward(x, cache) is None
    with pytest.raises(NotImplementedError):
        stubs.conv_forward_naive(x.reshape(1, 1, 4, 3), np.ones((1, 1, 2, 2)), np.zeros(1), {"stride": 1, "pad": 0})
    assert stubs.conv_backward_naive(x, None) == (None, None, None)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_is_python_that_differs_from_its_base(made: dict[str, Path], name: str) -> None:
    text = made[name].read_text(encoding="utf-8")
    compile(text, str(made[name]), "exec")
    base = MISTAKES[name].base.read_text(encoding="utf-8")
    assert text.startswith(f'"""{MISTAKES[name].why}"""')
    assert text[len(MISTAKES[name].why) + 6 :] != base[base.index('"""', 3) + 3 :]  # the code, past the docstrings
    assert "Expected `gradharness check`: exit 1;" in MISTAKES[name].why


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_is_wrong_in_the_gradient_it_names(made: dict[str, Path], name: str) -> None:
    pair, gradient = EXPOSED[name]
    module = load(made[name])
    errors = {}
    for case in (c for c in CASES if c.pair == pair):
        found = gradients(module, case)
        errors[case.label] = {grad: relative_error(*found[grad]) for grad in found}
    assert any(error[gradient] > WRONG for error in errors.values()), errors
    # only the named gradient is wrong on these cases
    assert all(e < AGREES for error in errors.values() for grad, e in error.items() if grad != gradient), errors
