"""The CS231n assignments' normalisation layers: the reference of gradharness's ``layers`` target.

Batch normalisation (over the N rows of x (N, D), its computational-graph backward and the simplified
closed form), layer normalisation (over the D columns of each row), and their spatial versions for
x (N, C, H, W): spatial batch normalisation (over N, H, W for each channel) and group normalisation
(over the C // G channels of each group and H, W, for each example).

Every forward keeps the biased variance (``np.var``) and x_hat = (x - mean) / sqrt(var + eps). The
batchnorm cache is (x_hat, xmu, std, inv_std, gamma) in "train" mode and None in "test" mode (there is
no backward through the running statistics). Written one equation per line, so that it is also the
source the mutation harness plants mistakes in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
]

NormCache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
GroupnormCache = tuple[np.ndarray, np.ndarray, np.ndarray, int]
Gradients = tuple[np.ndarray, np.ndarray, np.ndarray]


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict[str, Any]
) -> tuple[np.ndarray, NormCache | None]:
    """gamma * x_hat + beta, x normalised over the batch ("train") or by the running statistics ("test")."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    cache: NormCache | None = None
    if mode == "train":
        mu = np.mean(x, axis=0)
        xmu = x - mu
        var = np.var(x, axis=0)
        std = np.sqrt(var + eps)
        inv_std = 1.0 / std
        x_hat = xmu * inv_std
        out = gamma * x_hat + beta
        cache = (x_hat, xmu, std, inv_std, gamma)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
    else:
        raise ValueError(f'mode={mode!r}; batchnorm modes are "train" and "test"')

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout: np.ndarray, cache: NormCache) -> Gradients:
    """dx, dgamma, dbeta of batchnorm ("train" mode), back through its computational graph one node at a time."""
    x_hat, xmu, std, inv_std, gamma = cache
    N = dout.shape[0]

    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    # x_hat = xmu * inv_std
    dinv_std = np.sum(dx_hat * xmu, axis=0)
    dxmu_direct = dx_hat * inv_std
    # inv_std = 1 / std, std = sqrt(var + eps)
    dstd = -dinv_std / std**2
    dvar = 0.5 * dstd / std
    # var = mean(xmu**2): the second path to xmu
    dxmu_var = 2.0 * xmu * dvar / N
    dxmu = dxmu_direct + dxmu_var
    # xmu = x - mu, mu = mean(x)
    dmu = -np.sum(dxmu, axis=0)
    dx = dxmu + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout: np.ndarray, cache: NormCache) -> Gradients:
    """dx, dgamma, dbeta of batchnorm ("train" mode), dx by the simplified closed form."""
    x_hat, _, _, inv_std, gamma = cache
    N = dout.shape[0]

    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx_hat_sum = np.sum(dx_hat, axis=0)
    dx_hat_dot = np.sum(dx_hat * x_hat, axis=0)
    dx = (1.0 / N) * inv_std * (N * dx_hat - dx_hat_sum - x_hat * dx_hat_dot)
    return dx, dgamma, dbeta


def layernorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ln_param: dict[str, Any]
) -> tuple[np.ndarray, NormCache]:
    """gamma * x_hat + beta, each row of x (N, D) normalised over its D entries."""
    eps = ln_param.get("eps", 1e-5)
    mu = np.mean(x, axis=1, keepdims=True)
    xmu = x - mu
    var = np.var(x, axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    inv_std = 1.0 / std
    x_hat = xmu * inv_std
    out = gamma * x_hat + beta
    cache = (x_hat, xmu, std, inv_std, gamma)
    return out, cache


def layernorm_backward(dout: np.ndarray, cache: NormCache) -> Gradients:
    """dx, dgamma, dbeta of layer normalisation, dx by the closed form over each row."""
    x_hat, _, _, inv_std, gamma = cache
    D = dout.shape[1]

    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx_hat_sum = np.sum(dx_hat, axis=1, keepdims=True)
    dx_hat_dot = np.sum(dx_hat * x_hat, axis=1, keepdims=True)
    dx = (1.0 / D) * inv_std * (D * dx_hat - dx_hat_sum - x_hat * dx_hat_dot)
    return dx, dgamma, dbeta


def _channels_last(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N*H*W, C): one row per pixel, one column per channel."""
    N, C, H, W = x.shape
    return x.transpose(0, 2, 3, 1).reshape(N * H * W, C)


def _channels_first(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(N*H*W, C) -> (N, C, H, W), the inverse of :func:`_channels_last`."""
    N, C, H, W = shape
    return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict[str, Any]
) -> tuple[np.ndarray, NormCache | None]:
    """Batchnorm of x (N, C, H, W) per channel, over N, H and W; gamma and beta of shape (C,)."""
    out_rows, cache = batchnorm_forward(_channels_last(x), gamma, beta, bn_param)
    out = _channels_first(out_rows, x.shape)
    return out, cache


def spatial_batchnorm_backward(dout: np.ndarray, cache: NormCache) -> Gradients:
    """dx (N, C, H, W), dgamma (C,), dbeta (C,) of spatial batchnorm."""
    dx_rows, dgamma, dbeta = batchnorm_backward(_channels_last(dout), cache)
    dx = _channels_first(dx_rows, dout.shape)
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: int, gn_param: dict[str, Any]
) -> tuple[np.ndarray, GroupnormCache]:
    """gamma * x_hat + beta, x (N, C, H, W) normalised over each example's G groups of C // G channels."""
    N, C, H, W = x.shape
    if C % G != 0:
        raise ValueError(f"G={G} groups do not divide C={C} channels")
    eps = gn_param.get("eps", 1e-5)
    x_groups = x.reshape(N, G, C // G, H, W)
    mu = np.mean(x_groups, axis=(2, 3, 4), keepdims=True)
    xmu = x_groups - mu
    var = np.var(x_groups, axis=(2, 3, 4), keepdims=True)
    std = np.sqrt(var + eps)
    inv_std = 1.0 / std
    x_hat = (xmu * inv_std).reshape(N, C, H, W)
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma, G)
    return out, cache


def spatial_groupnorm_backward(dout: np.ndarray, cache: GroupnormCache) -> Gradients:
    """dx (N, C, H, W), dgamma and dbeta (1, C, 1, 1) of group normalisation, dx by the closed form per group."""
    x_hat, inv_std, gamma, G = cache
    N, C, H, W = dout.shape
    M = C // G * H * W

    dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)
    dgamma = np.sum(dout * x_hat, axis=(0, 2, 3), keepdims=True)
    dx_hat = (dout * gamma).reshape(N, G, C // G, H, W)
    x_hat_groups = x_hat.reshape(N, G, C // G, H, W)
    dx_hat_sum = np.sum(dx_hat, axis=(2, 3, 4), keepdims=True)
    dx_hat_dot = np.sum(dx_hat * x_hat_groups, axis=(2, 3, 4), keepdims=True)
    dx_groups = (1.0 / M) * inv_std * (M * dx_hat - dx_hat_sum - x_hat_groups * dx_hat_dot)
    dx = dx_groups.reshape(N, C, H, W)
    return dx, dgamma, dbeta
