"""The draws behind :mod:`strategies.layers`: each layer's sizes, hyper-parameters and arrays, made informative.

Every array is one packed ``binary`` value (:mod:`strategies._packing`), so shrinking a size keeps the other
entries' values. Repairs keep a case informative: a ReLU's input, the hinge's margins and each pooling window's
lead clear of their kinks, but for a planted exact zero or tie in a share :data:`PLANT_SHARE` of cases; batch
norms' features spread over at least GROUP entries; ``dout`` never 0.0.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from gradharness.model.layer_case import LayerCase
from gradharness.model.layer_table import pool_windows
from strategies._deep_draws import EDGE_BYTES, PLANT_SHARE, ZERO_CLEARANCE, clear_biases, nonzero
from strategies._draws import float_array

__all__ = ["PLANT_SHARE", "layer_case_draws"]

_PLANT_FROM = 256 - round(PLANT_SHARE * 256)
INPUT_BOUND = 2.0
UPSTREAM_BOUND = 1.0
_CLEAR = 1.5 * ZERO_CLEARANCE
GROUP = 3
"""The fewest entries a normalisation averages over: over two, x_hat is +-1 whatever x is, and the gradient
that is left comes from eps alone (nothing is exercised)."""


def _tensor(draw: st.DrawFn, shape: tuple[int, ...], bound: float) -> np.ndarray:
    """Floats in [-bound, bound] on the packing grid, of any shape; shrinks to zeros."""
    size = math.prod(shape)
    return np.asarray(draw(float_array((1, size), bound, False)), dtype=np.float64).reshape(shape)


def _upstream(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    return nonzero(_tensor(draw, shape, UPSTREAM_BOUND))


def _edge(draw: st.DrawFn) -> tuple[bool, int]:
    raw = draw(st.binary(min_size=EDGE_BYTES, max_size=EDGE_BYTES))
    return raw[0] >= _PLANT_FROM, raw[1]


def _clear(values: np.ndarray) -> np.ndarray:
    """Every entry within the clearance of 0 moved out to twice the clearance (sign kept, 0.0 read as +)."""
    near = np.abs(values) < _CLEAR
    return np.where(near, np.where(values < 0, -2 * ZERO_CLEARANCE, 2 * ZERO_CLEARANCE), values)


def _weights(draw: st.DrawFn, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """Weights in +-1.5/sqrt(fan_in), never all zero (a dead layer checks nothing)."""
    w = _tensor(draw, shape, 1.5 / math.sqrt(fan_in))
    flat = w.reshape(-1)
    if not flat.any():
        flat[:: max(1, shape[-1] + 1)] = 0.75 / math.sqrt(fan_in)
    return w


def _live(x: np.ndarray) -> np.ndarray:
    """x with every example non-zero somewhere (an all-zero example checks no weight)."""
    x = np.array(x, copy=True)
    rows = x.reshape(x.shape[0], -1)
    rows[~rows.any(axis=1), 0] = 1.0
    return x


def _sizes(draw: st.DrawFn, count: int, low: int, high: int) -> list[int]:
    return [draw(st.integers(min_value=low, max_value=high)) for _ in range(count)]


def _affine(draw: st.DrawFn, layer: str, most: int, batch: int) -> LayerCase:
    N = draw(st.integers(min_value=1, max_value=batch))
    dims = draw(st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=3))
    D, M = math.prod(dims), draw(st.integers(min_value=1, max_value=most))
    x = _live(_tensor(draw, (N, *dims), INPUT_BOUND))
    w, b = _weights(draw, (D, M), D), _tensor(draw, (M,), 1.0)
    plant, where = _edge(draw)
    if layer == "affine_relu":
        P = x.reshape(N, D) @ w
        b = clear_biases(P.T, b[:, None])[:, 0]
        if plant:
            unit, example = where % M, (where // M) % N
            b[unit] = -P[example, unit]  # an exact zero in one unit's input of the ReLU
    return LayerCase(layer, {"x": x, "w": w, "b": b, "dout": _upstream(draw, (N, M))})


def _relu(draw: st.DrawFn, most: int, batch: int) -> LayerCase:
    N = draw(st.integers(min_value=1, max_value=batch))
    dims = draw(st.lists(st.integers(min_value=1, max_value=most), min_size=1, max_size=3))
    x = _clear(_tensor(draw, (N, *dims), INPUT_BOUND))
    plant, where = _edge(draw)
    if plant:
        x.reshape(-1)[where % x.size] = 0.0
    return LayerCase("relu", {"x": x, "dout": _upstream(draw, x.shape)})


def _loss(draw: st.DrawFn, layer: str, most: int, batch: int) -> LayerCase:
    N = draw(st.integers(min_value=1, max_value=batch))
    C = draw(st.integers(min_value=2, max_value=max(2, most)))
    x = _tensor(draw, (N, C), INPUT_BOUND)
    y = np.array([draw(st.integers(min_value=0, max_value=C - 1)) for _ in range(N)], dtype=np.int64)
    plant, where = _edge(draw)
    if layer == "svm_loss":
        x = _clear_margins(x, y)
        if plant and C > 1:
            n, j = where % N, (y[where % N] + 1 + where // N % (C - 1)) % C
            x[n, j] = x[n, y[n]] - 1.0  # an exact zero margin: the hinge's kink
    return LayerCase(layer, {"x": x, "y": y})


def _clear_margins(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x with every wrong class's margin x_j - x_y + 1 clear of zero (the scores moved, not the labels)."""
    x = np.array(x, copy=True)
    for n in range(x.shape[0]):
        margins = x[n] - x[n, y[n]] + 1.0
        near = (np.abs(margins) < _CLEAR) & (np.arange(x.shape[1]) != y[n])
        x[n, near] += np.where(margins[near] < 0, -2 * ZERO_CLEARANCE, 2 * ZERO_CLEARANCE)
    return x


def _spread(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    """x with a spread of at least 0.1 over ``axis`` for every feature: a normalisation of a near-constant
    feature divides by sqrt(eps), which checks only eps."""
    x = np.array(x, copy=True)
    low = np.std(x, axis=axis, keepdims=True) < 0.1
    if low.any():
        ramp = np.linspace(-0.5, 0.5, num=math.prod(x.shape[a] for a in axis))
        shape = [x.shape[a] if a in axis else 1 for a in range(x.ndim)]
        x = np.where(low, x + ramp.reshape(shape), x)
    return x


def _norm(draw: st.DrawFn, layer: str, most: int, batch: int) -> LayerCase:
    spatial = layer.startswith("spatial")
    low = GROUP if layer == "batchnorm" else 1
    N = draw(st.integers(min_value=low, max_value=max(low, batch)))
    if spatial:
        C, H, W = _sizes(draw, 3, 1, min(most, 3))
        pooled = N * H if layer == "spatial_batchnorm" else H  # what a feature (a group: times C / G) spans
        shape: tuple[int, ...] = (N, C, H, max(W, -(-GROUP // pooled)))
    else:
        width = GROUP if layer == "layernorm" else 1
        shape = (N, draw(st.integers(min_value=width, max_value=max(width, most))))
    C = shape[1]
    x = _tensor(draw, shape, INPUT_BOUND)
    params: dict = {}
    features = shape[1] if layer != "spatial_groupnorm" else C
    gamma = 1.0 + _tensor(draw, (features,), 0.5)
    beta = _tensor(draw, (features,), 1.0)
    if layer == "batchnorm":
        x, params["bn_param"] = _spread(x, (0,)), {"mode": "train", "eps": 1e-5, "momentum": 0.9}
    elif layer == "spatial_batchnorm":
        x, params["bn_param"] = _spread(x, (0, 2, 3)), {"mode": "train", "eps": 1e-5, "momentum": 0.9}
    elif layer == "layernorm":
        x, params["ln_param"] = _spread(x, (1,)), {"eps": 1e-5}
    else:
        groups = [g for g in range(1, C + 1) if C % g == 0 and C // g * shape[2] * shape[3] >= GROUP] or [1]
        G = draw(st.sampled_from(groups))
        x = _spread(x.reshape(N, G, -1), (2,)).reshape(shape)
        params["G"], params["gn_param"] = G, {"eps": 1e-5}
        gamma, beta = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
    arrays = {"x": x, "gamma": gamma, "beta": beta, "dout": _upstream(draw, shape)}
    return LayerCase(layer, arrays, params)


def _dropout(draw: st.DrawFn, most: int, batch: int) -> LayerCase:
    N = draw(st.integers(min_value=1, max_value=batch))
    dims = draw(st.lists(st.integers(min_value=1, max_value=most), min_size=1, max_size=3))
    x = nonzero(_tensor(draw, (N, *dims), INPUT_BOUND))
    p = draw(st.sampled_from((0.5, 0.8, 0.3)))
    seed = draw(st.integers(min_value=0, max_value=2**16))
    params = {"dropout_param": {"mode": "train", "p": p, "seed": seed}}
    return LayerCase("dropout", {"x": x, "dout": _upstream(draw, x.shape)}, params)


def _windows(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    """A window height and width (1 to 3), a stride (1 to 3), and an input height and width the windows tile
    exactly, 1 to 3 windows each way (``(H - height) % stride == 0``): CS231n's layers assert it."""
    height, width = _sizes(draw, 2, 1, 3)
    stride = draw(st.integers(min_value=1, max_value=3))
    rows, cols = _sizes(draw, 2, 1, 3)
    return height, width, stride, height + stride * (rows - 1), width + stride * (cols - 1)


def _conv(draw: st.DrawFn, most: int, batch: int) -> LayerCase:
    N = draw(st.integers(min_value=1, max_value=min(batch, 2)))
    C, F = _sizes(draw, 2, 1, min(most, 3))
    HH, WW, stride, padded_H, padded_W = _windows(draw)
    pad = min(draw(st.integers(min_value=0, max_value=2)), (padded_H - 1) // 2, (padded_W - 1) // 2)
    H, W = padded_H - 2 * pad, padded_W - 2 * pad
    fan_in = C * HH * WW
    x = _live(_tensor(draw, (N, C, H, W), INPUT_BOUND))
    w, b = _weights(draw, (F, C, HH, WW), fan_in), _tensor(draw, (F,), 1.0)
    rows, cols = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    params = {"conv_param": {"stride": stride, "pad": pad}}
    return LayerCase("conv", {"x": x, "w": w, "b": b, "dout": _upstream(draw, (N, F, rows, cols))}, params)


def _max_pool(draw: st.DrawFn, most: int, batch: int) -> LayerCase:
    N = draw(st.integers(min_value=1, max_value=min(batch, 2)))
    C = draw(st.integers(min_value=1, max_value=min(most, 2)))
    height, width, stride, H, W = _windows(draw)
    pool_param = {"pool_height": height, "pool_width": width, "stride": stride}
    x = _untied(_tensor(draw, (N, C, H, W), INPUT_BOUND), pool_param)
    plant, where = _edge(draw)
    if plant and height * width > 1:
        _plant_tie(x, pool_param, where)
    rows, cols = 1 + (H - height) // stride, 1 + (W - width) // stride
    params = {"pool_param": pool_param}
    return LayerCase("max_pool", {"x": x, "dout": _upstream(draw, (N, C, rows, cols))}, params)


def _untied(x: np.ndarray, pool_param: dict) -> np.ndarray:
    """x with its entries made distinct (at least the clearance apart), so that no window has a near tie."""
    flat = x.reshape(-1)
    order = np.argsort(flat, kind="stable")
    spaced = np.array(flat, copy=True)
    for previous, current in zip(order[:-1], order[1:], strict=True):
        spaced[current] = max(spaced[current], spaced[previous] + 2 * ZERO_CLEARANCE)
    return spaced.reshape(x.shape)


def _plant_tie(x: np.ndarray, pool_param: dict, where: int) -> None:
    """Make one window's largest entry tied with another entry of that window (an exact tie: a kink)."""
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    windows = pool_windows(x, pool_param)
    N, C, rows, cols, _ = windows.shape
    n, c, i, j = np.unravel_index(where % (N * C * rows * cols), (N, C, rows, cols))
    window = x[n, c, i * stride : i * stride + height, j * stride : j * stride + width]
    first, second = np.argsort(window.reshape(-1))[::-1][:2]
    window.reshape(-1)[second] = window.reshape(-1)[first]


@st.composite
def layer_case_draws(draw: st.DrawFn, layer: str, max_size: int, max_batch: int) -> LayerCase:
    """One drawn call of ``layer`` (sizes, hyper-parameters, arrays, dout)."""
    if layer in ("affine", "affine_relu"):
        return _affine(draw, layer, max_size, max_batch)
    if layer == "relu":
        return _relu(draw, max_size, max_batch)
    if layer in ("svm_loss", "softmax_loss"):
        return _loss(draw, layer, max_size, max_batch)
    if layer == "dropout":
        return _dropout(draw, max_size, max_batch)
    if layer == "conv":
        return _conv(draw, max_size, max_batch)
    if layer == "max_pool":
        return _max_pool(draw, max_size, max_batch)
    return _norm(draw, layer, max_size, max_batch)
