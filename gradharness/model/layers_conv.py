"""The CS231n assignments' naive convolution and max-pooling layers: the reference of gradharness's ``layers`` target.

x is (N, C, H, W). ``conv_forward_naive`` caches (x, w, b, conv_param), ``max_pool_forward_naive``
caches (x, pool_param). Loops over every output entry (the cases are tiny), one equation per line, so
that it is also the source the mutation harness plants mistakes in. Both work for any stride, the
convolution for any zero padding (pad 0 included), the pooling for overlapping windows (stride smaller
than the window); the pooling's backward routes each window's gradient to its first maximum.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "conv_backward_naive",
    "conv_forward_naive",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
]

ConvCache = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]
PoolCache = tuple[np.ndarray, dict[str, Any]]


def _window(i: int, j: int, stride: int, height: int, width: int) -> tuple[slice, slice]:
    """The rows and columns of the input window under output entry (i, j)."""
    rows = slice(i * stride, i * stride + height)
    cols = slice(j * stride, j * stride + width)
    return rows, cols


def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict[str, Any]
) -> tuple[np.ndarray, ConvCache]:
    """out (N, F, H', W') of F filters w (F, C, HH, WW) with biases b (F,) over x zero-padded by conv_param["pad"]."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n, f, i, j in np.ndindex(out.shape):
        rows, cols = _window(i, j, stride, HH, WW)
        out[n, f, i, j] = np.sum(x_pad[n, :, rows, cols] * w[f]) + b[f]

    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout: np.ndarray, cache: ConvCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx, dw, db of the naive convolution, from dout (N, F, H', W') and the cache (x, w, b, conv_param)."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    H, W = x.shape[2], x.shape[3]
    HH, WW = w.shape[2], w.shape[3]

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2, 3))
    for n, f, i, j in np.ndindex(dout.shape):
        rows, cols = _window(i, j, stride, HH, WW)
        dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
        dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]

    # Explicit bounds, not [pad:-pad], which would be empty for pad 0.
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W]
    return dx, dw, db


def max_pool_forward_naive(x: np.ndarray, pool_param: dict[str, Any]) -> tuple[np.ndarray, PoolCache]:
    """out (N, C, H', W'), the maximum of each pool_height x pool_width window of x, windows stride apart."""
    pool_height, pool_width = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - pool_height) // stride
    W_out = 1 + (W - pool_width) // stride

    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n, c, i, j in np.ndindex(out.shape):
        rows, cols = _window(i, j, stride, pool_height, pool_width)
        out[n, c, i, j] = np.max(x[n, c, rows, cols])

    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """dx of max pooling: each window's dout added at its first maximum (windows may overlap)."""
    x, pool_param = cache
    pool_height, pool_width = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]

    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        rows, cols = _window(i, j, stride, pool_height, pool_width)
        window = x[n, c, rows, cols]
        r, s = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, rows.start + r, cols.start + s] += dout[n, c, i, j]
    return dx
