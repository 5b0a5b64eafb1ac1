"""The CS231n layers' reference: every backward against a plain centred-difference loop, and the forwards' conventions."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.model import layers, layers_conv, layers_norm

STEP = 1e-6
TOLERANCE = 1e-6


def loop_gradient(f, array: np.ndarray, step: float = STEP) -> np.ndarray:
    """Centred differences of the scalar f() with respect to every entry of ``array`` (moved in place, then restored)."""
    out = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        kept = array[index]
        array[index] = kept + step
        plus = f()
        array[index] = kept - step
        minus = f()
        array[index] = kept
        out[index] = (plus - minus) / (2 * step)
    return out


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||), the error of one whole gradient."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def assert_backward_matches(
    forward, backward, inputs: dict[str, np.ndarray], rng: np.random.Generator, dead: tuple[str, ...] = ()
) -> None:
    """backward(dout, cache) against the centred differences of sum(dout * forward(**inputs)) for each input, in order.

    Every gradient must be live (the comparison says nothing otherwise) except those named in ``dead``, which
    must be zero on both sides.
    """
    out, cache = forward(**inputs)
    dout = rng.normal(size=out.shape)
    analytic = backward(dout, cache)
    analytic = analytic if isinstance(analytic, tuple) else (analytic,)
    assert len(analytic) == len(inputs)

    def objective() -> float:
        return float(np.sum(dout * forward(**inputs)[0]))

    for (name, array), gradient in zip(inputs.items(), analytic, strict=True):
        assert gradient.shape == array.shape, name
        numerical = loop_gradient(objective, array)
        if name in dead:
            np.testing.assert_allclose(gradient, 0.0, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(numerical, 0.0, atol=1e-9, err_msg=name)
            continue
        assert np.linalg.norm(numerical) > 1e-3, name
        assert relative_error(gradient, numerical) < TOLERANCE, (name, relative_error(gradient, numerical))


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries at least 0.1 apart (a shuffled grid, lightly jittered): no step of 1e-6 reorders any two."""
    size = int(np.prod(shape))
    grid = (rng.permutation(size) - size / 2) * 0.1
    return (grid + rng.uniform(0, 0.01, size=size)).reshape(shape)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal entries moved at least 0.05 away from 0, the ReLU's kink."""
    x = rng.normal(size=shape)
    return x + 0.05 * np.sign(x)


# --- fully connected layers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("x_shape, M", [((3, 4), 5), ((1, 6), 2), ((2, 3, 2), 4), ((4, 2, 1, 3), 3)])
def test_affine_backward(x_shape, M):
    rng = np.random.default_rng(1)
    D = int(np.prod(x_shape[1:]))
    inputs = {"x": rng.normal(size=x_shape), "w": rng.normal(size=(D, M)), "b": rng.normal(size=M)}
    assert_backward_matches(layers.affine_forward, layers.affine_backward, inputs, rng)


def test_affine_forward_reshapes_each_example_to_a_row():
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(12, 5)), rng.normal(size=5)
    out, cache = layers.affine_forward(x, w, b)
    expected = np.array(
        [[sum(x[n].ravel()[d] * w[d, m] for d in range(12)) + b[m] for m in range(5)] for n in range(2)]
    )
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert cache[0] is x and cache[1] is w and cache[2] is b


@pytest.mark.parametrize("shape", [(3, 5), (1, 4), (2, 3, 2)])
def test_relu_backward(shape):
    rng = np.random.default_rng(3)
    x = away_from_zero(rng, shape)
    assert (x > 0).any() and (x < 0).any()
    assert_backward_matches(layers.relu_forward, layers.relu_backward, {"x": x}, rng)


def test_relu_gradient_is_zero_at_zero():
    x = np.array([[-1.0, 0.0, 2.0]])
    out, cache = layers.relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(layers.relu_backward(np.array([[5.0, 6.0, 7.0]]), cache), [[0.0, 0.0, 7.0]])


@pytest.mark.parametrize("x_shape, M", [((4, 3), 5), ((1, 2, 3), 4)])
def test_affine_relu_backward(x_shape, M):
    rng = np.random.default_rng(4)
    D = int(np.prod(x_shape[1:]))
    inputs = {"x": rng.normal(size=x_shape), "w": rng.normal(size=(D, M)), "b": rng.normal(size=M)}
    a = inputs["x"].reshape(x_shape[0], -1) @ inputs["w"] + inputs["b"]
    assert np.abs(a).min() > 1e-3 and (a > 0).any() and (a < 0).any()  # no unit within a step of its kink
    assert_backward_matches(layers.affine_relu_forward, layers.affine_relu_backward, inputs, rng)


# --- losses --------------------------------------------------------------------------------------------------


def loss_cases():
    rng = np.random.default_rng(5)
    for N, C in ((5, 4), (1, 3), (3, 2), (8, 6)):
        yield rng.normal(size=(N, C)), rng.integers(0, C, size=N)


def hinge_loss_by_loops(x: np.ndarray, y: np.ndarray) -> float:
    N, C = x.shape
    total = 0.0
    for n in range(N):
        for c in range(C):
            if c != y[n]:
                total += max(0.0, x[n, c] - x[n, y[n]] + 1.0)
    return total / N


@pytest.mark.parametrize("x, y", list(loss_cases()))
def test_svm_loss(x, y):
    N = x.shape[0]
    margins = x - x[np.arange(N), y][:, None] + 1.0
    margins[np.arange(N), y] = 5.0  # not a kink: the correct class has no margin
    assert np.abs(margins).min() > 1e-3  # no margin within a step of the hinge
    loss, dx = layers.svm_loss(x, y)
    assert loss == pytest.approx(hinge_loss_by_loops(x, y), rel=1e-12)
    numerical = loop_gradient(lambda: layers.svm_loss(x, y)[0], x)
    assert relative_error(dx, numerical) < TOLERANCE


def softmax_loss_directly(x: np.ndarray, y: np.ndarray) -> float:
    probs = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
    return float(-np.mean(np.log(probs[np.arange(x.shape[0]), y])))


@pytest.mark.parametrize("x, y", list(loss_cases()))
def test_softmax_loss(x, y):
    loss, dx = layers.softmax_loss(x, y)
    assert loss == pytest.approx(softmax_loss_directly(x, y), rel=1e-12)
    numerical = loop_gradient(lambda: layers.softmax_loss(x, y)[0], x)
    assert relative_error(dx, numerical) < TOLERANCE


def test_softmax_loss_is_stable_for_large_scores():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(3, 4)), np.array([0, 3, 1])
    loss, dx = layers.softmax_loss(x, y)
    with np.errstate(over="raise"):
        shifted_loss, shifted_dx = layers.softmax_loss(x + 1000.0, y)
    assert shifted_loss == pytest.approx(loss, rel=1e-9)
    np.testing.assert_allclose(shifted_dx, dx, atol=1e-12)


# --- dropout -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, p", [((50, 40), 0.3), ((1, 7), 0.8), ((4, 3, 5), 0.5)])
def test_dropout_keeps_entries_scaled_by_one_over_p(shape, p):
    x = np.random.default_rng(7).uniform(1.0, 2.0, size=shape)
    out, (_, mask) = layers.dropout_forward(x, {"p": p, "mode": "train", "seed": 3})
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / p, rtol=1e-12)
    np.testing.assert_array_equal(mask, kept / p)
    if x.size > 1000:
        assert abs(kept.mean() - p) < 0.05  # p is the probability of keeping, not of dropping


def test_dropout_the_same_seed_gives_the_same_mask():
    x = np.ones((6, 8))
    _, (_, first) = layers.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 11})
    np.random.rand(10)  # the global generator moves on in between
    _, (_, again) = layers.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 11})
    _, (_, other) = layers.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 12})
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_dropout_backward_is_dout_times_the_mask():
    rng = np.random.default_rng(8)
    x, dout = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    _, cache = layers.dropout_forward(x, {"p": 0.6, "mode": "train", "seed": 0})
    np.testing.assert_array_equal(layers.dropout_backward(dout, cache), dout * cache[1])
    out, cache = layers.dropout_forward(x, {"p": 0.6, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(layers.dropout_backward(dout, cache), dout)


@pytest.mark.parametrize("mode", ["train", "test"])
def test_dropout_backward(mode):
    rng = np.random.default_rng(9)
    param = {"p": 0.7, "mode": mode, "seed": 4}  # the seed makes every forward of the loop draw the same mask
    assert_backward_matches(
        lambda x: layers.dropout_forward(x, param), layers.dropout_backward, {"x": rng.normal(size=(4, 5))}, rng
    )


# --- normalisation -------------------------------------------------------------------------------------------


def norm_inputs(
    rng: np.random.Generator, x_shape: tuple[int, ...], param_shape: tuple[int, ...]
) -> dict[str, np.ndarray]:
    return {
        "x": rng.normal(2.0, 3.0, size=x_shape),
        "gamma": rng.normal(1.0, 0.5, size=param_shape),
        "beta": rng.normal(size=param_shape),
    }


# N >= 3 (and D >= 3 for layernorm): two entries normalise to -1 and +1 whatever x is (their gradient is eps's).
@pytest.mark.parametrize("backward", [layers_norm.batchnorm_backward, layers_norm.batchnorm_backward_alt])
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (7, 1)])
def test_batchnorm_backward(backward, shape):
    rng = np.random.default_rng(10)
    forward = lambda x, gamma, beta: layers_norm.batchnorm_forward(x, gamma, beta, {"mode": "train"})  # noqa: E731
    assert_backward_matches(forward, backward, norm_inputs(rng, shape, shape[1:]), rng)


@pytest.mark.parametrize("backward", [layers_norm.batchnorm_backward, layers_norm.batchnorm_backward_alt])
def test_batchnorm_backward_of_one_example(backward):
    # N = 1: x_hat is 0 whatever x is, so only beta moves the output; dx and dgamma are exactly 0.
    rng = np.random.default_rng(24)
    forward = lambda x, gamma, beta: layers_norm.batchnorm_forward(x, gamma, beta, {"mode": "train"})  # noqa: E731
    assert_backward_matches(forward, backward, norm_inputs(rng, (1, 4), (4,)), rng, dead=("x", "gamma"))


@pytest.mark.parametrize("shape", [(4, 3), (2, 5), (9, 6)])
def test_batchnorm_backward_alt_equals_the_graph_version(shape):
    rng = np.random.default_rng(11)
    inputs = norm_inputs(rng, shape, shape[1:])
    out, cache = layers_norm.batchnorm_forward(**inputs, bn_param={"mode": "train"})
    dout = rng.normal(size=out.shape)
    for graph, alt in zip(
        layers_norm.batchnorm_backward(dout, cache), layers_norm.batchnorm_backward_alt(dout, cache), strict=True
    ):
        np.testing.assert_allclose(alt, graph, rtol=0, atol=1e-10)


def test_batchnorm_forward_normalises_each_column_and_updates_the_running_statistics():
    rng = np.random.default_rng(12)
    x = rng.normal(3.0, 2.0, size=(200, 3))
    bn_param = {"mode": "train", "momentum": 0.8}
    out, _ = layers_norm.batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), np.sqrt(x.var(axis=0) / (x.var(axis=0) + 1e-5)), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], 0.2 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.2 * x.var(axis=0), rtol=1e-12)
    layers_norm.batchnorm_forward(2 * x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(
        bn_param["running_mean"], 0.8 * 0.2 * x.mean(axis=0) + 0.2 * 2 * x.mean(axis=0), rtol=1e-12
    )


def test_batchnorm_test_mode_uses_the_running_statistics():
    rng = np.random.default_rng(13)
    x, gamma, beta = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3)
    running_mean, running_var = rng.normal(size=3), rng.uniform(0.5, 2.0, size=3)
    bn_param = {"mode": "test", "eps": 1e-3, "running_mean": running_mean, "running_var": running_var}
    out, cache = layers_norm.batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - running_mean) / np.sqrt(running_var + 1e-3) + beta, rtol=1e-12)
    one_row, _ = layers_norm.batchnorm_forward(x[2:3], gamma, beta, bn_param)
    np.testing.assert_allclose(one_row, out[2:3], rtol=1e-12)  # no batch statistics: a row's output is its own
    assert cache is None
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)


def test_batchnorm_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        layers_norm.batchnorm_forward(np.ones((2, 2)), np.ones(2), np.zeros(2), {"mode": "eval"})


@pytest.mark.parametrize("shape", [(4, 3), (1, 5), (3, 3)])
def test_layernorm_backward(shape):
    rng = np.random.default_rng(14)
    forward = lambda x, gamma, beta: layers_norm.layernorm_forward(x, gamma, beta, {"eps": 1e-5})  # noqa: E731
    assert_backward_matches(forward, layers_norm.layernorm_backward, norm_inputs(rng, shape, shape[1:]), rng)


def test_layernorm_normalises_each_row():
    rng = np.random.default_rng(15)
    x = rng.normal(-1.0, 4.0, size=(3, 50))
    out, _ = layers_norm.layernorm_forward(x, np.ones(50), np.zeros(50), {})
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=1), x.var(axis=1) / (x.var(axis=1) + 1e-5), rtol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3), (3, 1, 2, 1)])
def test_spatial_batchnorm_backward(shape):
    rng = np.random.default_rng(16)
    forward = lambda x, gamma, beta: layers_norm.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})  # noqa: E731
    assert_backward_matches(forward, layers_norm.spatial_batchnorm_backward, norm_inputs(rng, shape, shape[1:2]), rng)


def test_spatial_batchnorm_normalises_each_channel_over_n_h_w():
    rng = np.random.default_rng(17)
    x = rng.normal(size=(4, 3, 5, 6)) * np.array([1.0, 3.0, 0.5])[None, :, None, None]
    out, _ = layers_norm.spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train", "eps": 0.0})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1.0, rtol=1e-12)


# Each group holds at least 3 entries: a group of 2 normalises to -1 and +1 whatever x is (its gradient is eps's).
GROUP_CASES = [((2, 4, 3, 3), 2), ((2, 4, 3, 3), 1), ((2, 4, 3, 3), 4), ((1, 6, 2, 3), 3), ((3, 3, 1, 3), 3)]


@pytest.mark.parametrize("shape, G", GROUP_CASES)
def test_spatial_groupnorm_backward(shape, G):
    rng = np.random.default_rng(18)
    forward = lambda x, gamma, beta: layers_norm.spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 1e-5})  # noqa: E731
    inputs = norm_inputs(rng, shape, (1, shape[1], 1, 1))
    assert_backward_matches(forward, layers_norm.spatial_groupnorm_backward, inputs, rng)


@pytest.mark.parametrize("shape, G", GROUP_CASES)
def test_spatial_groupnorm_normalises_each_group_of_each_example(shape, G):
    rng = np.random.default_rng(19)
    N, C, H, W = shape
    x = rng.normal(1.0, 2.0, size=shape)
    gamma, beta = rng.normal(size=(1, C, 1, 1)), rng.normal(size=(1, C, 1, 1))
    out, _ = layers_norm.spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 0.5})
    x_hat = ((out - beta) / gamma).reshape(N, G, -1)
    group_var = x.reshape(N, G, -1).var(axis=2)
    np.testing.assert_allclose(x_hat.mean(axis=2), 0.0, atol=1e-12)
    np.testing.assert_allclose(x_hat.var(axis=2), group_var / (group_var + 0.5), rtol=1e-12)


def test_spatial_groupnorm_rejects_groups_that_do_not_divide_c():
    with pytest.raises(ValueError, match="divide"):
        layers_norm.spatial_groupnorm_forward(
            np.ones((1, 4, 2, 2)), np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), 3, {}
        )


# --- convolution and pooling ---------------------------------------------------------------------------------

CONV_CASES = [
    # x shape, w shape, stride, pad
    ((2, 3, 5, 5), (2, 3, 3, 3), 1, 1),
    ((2, 2, 5, 7), (3, 2, 3, 3), 2, 0),
    ((1, 2, 6, 5), (2, 2, 2, 3), 2, 1),
    ((1, 1, 4, 4), (1, 1, 4, 4), 1, 0),
    ((2, 1, 3, 4), (2, 1, 1, 2), 3, 2),
]


def conv_by_sliding_windows(x, w, b, stride, pad):
    """The same convolution through numpy's sliding windows, another way to write it."""
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(x_pad, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_forward(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(20)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    out, _ = layers_conv.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    H_out = 1 + (x_shape[2] + 2 * pad - w_shape[2]) // stride
    W_out = 1 + (x_shape[3] + 2 * pad - w_shape[3]) // stride
    assert out.shape == (x_shape[0], w_shape[0], H_out, W_out)
    np.testing.assert_allclose(out, conv_by_sliding_windows(x, w, b, stride, pad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_backward(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(21)
    inputs = {"x": rng.normal(size=x_shape), "w": rng.normal(size=w_shape), "b": rng.normal(size=w_shape[0])}
    forward = lambda x, w, b: layers_conv.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})  # noqa: E731
    assert_backward_matches(forward, layers_conv.conv_backward_naive, inputs, rng)


POOL_CASES = [
    # x shape, pool height, pool width, stride
    ((2, 3, 4, 4), 2, 2, 2),
    ((1, 2, 5, 3), 2, 2, 1),
    ((2, 1, 5, 5), 3, 3, 2),
    ((1, 2, 3, 5), 1, 3, 1),
    ((1, 1, 7, 5), 3, 2, 2),
]


@pytest.mark.parametrize("x_shape, pool_height, pool_width, stride", POOL_CASES)
def test_max_pool_forward(x_shape, pool_height, pool_width, stride):
    x = distinct(np.random.default_rng(22), x_shape)
    out, _ = layers_conv.max_pool_forward_naive(
        x, {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
    )
    windows = np.lib.stride_tricks.sliding_window_view(x, (pool_height, pool_width), axis=(2, 3))[
        :, :, ::stride, ::stride
    ]
    np.testing.assert_array_equal(out, windows.max(axis=(4, 5)))


@pytest.mark.parametrize("x_shape, pool_height, pool_width, stride", POOL_CASES)
def test_max_pool_backward(x_shape, pool_height, pool_width, stride):
    rng = np.random.default_rng(23)
    pool_param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
    forward = lambda x: layers_conv.max_pool_forward_naive(x, pool_param)  # noqa: E731
    assert_backward_matches(forward, layers_conv.max_pool_backward_naive, {"x": distinct(rng, x_shape)}, rng)


def test_max_pool_backward_adds_overlapping_windows_and_takes_the_first_maximum():
    x = np.array([[[[0.0, 5.0, 1.0], [2.0, 5.0, 3.0]]]])  # windows 2x2, stride 1: columns 0-1 and 1-2
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 1}
    out, cache = layers_conv.max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, [[[[5.0, 5.0]]]])
    dx = layers_conv.max_pool_backward_naive(np.array([[[[1.5, 2.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 3.5, 0.0], [0.0, 0.0, 0.0]]]])
