"""The CS231n assignments' fully connected layers, losses and dropout: the reference of gradharness's ``layers`` target.

With the assignments' names, signatures, (N, D) layout and caches: ``affine_forward`` caches (x, w, b),
``relu_forward`` caches x, ``affine_relu_forward`` caches (fc_cache, relu_cache), ``dropout_forward``
caches (dropout_param, mask). Unlike the deep-learning course's blocks, no gradient here is divided by N
except the losses' dx (their loss is the mean over the N examples).

Written as the assignments' solutions are written (one equation per line), so that it is also the source
the mutation harness plants mistakes in. The dropout masks come from numpy's global random generator
(``np.random.rand``), seeded inside the forward when ``dropout_param`` has a "seed".
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "affine_backward",
    "affine_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "dropout_backward",
    "dropout_forward",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "svm_loss",
]

AffineCache = tuple[np.ndarray, np.ndarray, np.ndarray]
AffineReluCache = tuple[AffineCache, np.ndarray]
DropoutCache = tuple[dict[str, Any], np.ndarray | None]


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, AffineCache]:
    """out = x.reshape(N, D) w + b, and the cache (x, w, b)."""
    x_rows = x.reshape(x.shape[0], -1)
    out = x_rows.dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout: np.ndarray, cache: AffineCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx (in x's shape), dw, db of an affine layer, from dout (N, M) and the cache (x, w, b)."""
    x, w, b = cache
    x_rows = x.reshape(x.shape[0], -1)
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x_rows.T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = max(0, x), and x as the cache."""
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout where x > 0, else 0 (0 at x == 0 too)."""
    x = cache
    dx = dout * (x > 0)
    return dx


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, AffineReluCache]:
    """out = max(0, x w + b), and the cache (fc_cache, relu_cache)."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout: np.ndarray, cache: AffineReluCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx, dw, db of an affine layer followed by a ReLU, from dout and the cache (fc_cache, relu_cache)."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db


def svm_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The multiclass hinge loss (margin 1) of scores x (N, C) for labels y (N,), averaged over N, and its dx."""
    N = x.shape[0]
    correct_scores = x[np.arange(N), y][:, np.newaxis]
    margins = np.maximum(0, x - correct_scores + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    num_pos = np.sum(margins > 0, axis=1)
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx[np.arange(N), y] -= num_pos
    dx /= N
    return float(loss), dx


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The softmax cross-entropy of scores x (N, C) for labels y (N,), averaged over N, and its dx."""
    N = x.shape[0]
    # Shifting each row by its maximum leaves the softmax unchanged and keeps exp from overflowing.
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return float(loss), dx


def dropout_forward(x: np.ndarray, dropout_param: dict[str, Any]) -> tuple[np.ndarray, DropoutCache]:
    """Inverted dropout (keep probability p) in "train" mode, the identity in "test" mode; cache (dropout_param, mask)."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    elif mode == "test":
        out = x
    else:
        raise ValueError(f'mode={mode!r}; dropout modes are "train" and "test"')

    cache = (dropout_param, mask)
    return out, cache


def dropout_backward(dout: np.ndarray, cache: DropoutCache) -> np.ndarray:
    """dx = dout * mask in "train" mode, dout in "test" mode."""
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    if mode == "train":
        assert mask is not None
        dx = dout * mask
    elif mode == "test":
        dx = dout
    else:
        raise ValueError(f'mode={mode!r}; dropout modes are "train" and "test"')
    return dx
