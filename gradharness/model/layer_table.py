"""The CS231n-style layers the ``layers`` target knows: each one's functions, arguments, reference and kinks.

A layer's forward ``f(inputs..., others...) -> (out, cache)`` and its backward ``g(dout, cache)`` returning the
gradients of ``sum(dout * out)`` with respect to ``inputs``, in their order (CS231n's convention); a loss
``f(x, y) -> (loss, dx)`` is its own backward. The references are :mod:`gradharness.model.layers`,
:mod:`~gradharness.model.layers_norm` and :mod:`~gradharness.model.layers_conv`.

Kinks are known here, not guessed: ``switches(case, inputs)`` gives the values whose sign picks the branch the
layer takes (ReLU's input, the hinge's margins, each pooling window's lead of an entry over the rest of its
window); a centred difference that moves one of them across zero straddles a kink.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from gradharness.model import layers, layers_conv, layers_norm
from gradharness.model.layer_case import LayerCase

Switches = Callable[[LayerCase, Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Layer:
    """One layer: its forward, its backward(s), the arrays differentiated and the forward's other arguments."""

    name: str
    forward: str
    backwards: tuple[str, ...]
    inputs: tuple[str, ...]
    """The arrays the gradients are taken with respect to, in the forward's order (dx, dw, db for x, w, b)."""
    others: tuple[str, ...] = ()
    """The forward's further arguments, after ``inputs``: labels (``y``, an array of the case) or parameters."""
    reference: Callable[..., tuple[Any, Any]] = layers.affine_forward
    switches: Switches | None = None
    loss: bool = False
    random: bool = False
    """The forward draws from numpy's generator (dropout: its seed is in its parameters)."""

    def arguments(self, case: LayerCase, inputs: Mapping[str, np.ndarray] | None = None) -> tuple[Any, ...]:
        """The forward's arguments: ``inputs`` (default: the case's) then the others, each a fresh copy."""
        arrays = {**case.arrays, **(inputs or {})}
        values = [np.array(arrays[name], copy=True) for name in self.inputs]
        for name in self.others:
            values.append(np.array(arrays[name], copy=True) if name in arrays else case.param(name))
        return tuple(values)

    def output(self, case: LayerCase, inputs: Mapping[str, np.ndarray] | None = None) -> Any:
        """The reference's output (a loss's value) at ``inputs``."""
        return self.reference(*self.arguments(case, inputs))[0]

    @property
    def gradients(self) -> tuple[str, ...]:
        """The gradients' names, as the backward returns them (``dx``, ``dw``, ``db``)."""
        return tuple(f"d{name}" for name in self.inputs)

    def call_text(self) -> str:
        """The forward's call as the reports show it: ``affine_forward(x, w, b)``."""
        return f"{self.forward}({', '.join((*self.inputs, *self.others))})"


def _relu_input(case: LayerCase, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.asarray(inputs["x"])


def _affine_relu_input(case: LayerCase, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    x = np.asarray(inputs["x"])
    return x.reshape(x.shape[0], -1) @ inputs["w"] + inputs["b"]


def _svm_margins(case: LayerCase, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each wrong class's margin ``x_j - x_y + 1``: the hinge bends where one crosses zero."""
    x = np.asarray(inputs["x"])
    y = np.asarray(case.arrays["y"], dtype=np.int64)
    margins = x - x[np.arange(x.shape[0]), y][:, None] + 1.0
    wrong = np.ones(x.shape, dtype=bool)
    wrong[np.arange(x.shape[0]), y] = False
    return margins[wrong]


def pool_windows(x: np.ndarray, pool_param: Mapping[str, int]) -> np.ndarray:
    """The pooling windows of x (N, C, H, W) as (N, C, H', W', pool_height * pool_width), copied."""
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    rows, cols = 1 + (H - height) // stride, 1 + (W - width) // stride
    out = np.empty((N, C, rows, cols, height * width))
    for i in range(rows):
        for j in range(cols):
            window = x[:, :, i * stride : i * stride + height, j * stride : j * stride + width]
            out[:, :, i, j, :] = window.reshape(N, C, -1)
    return out


def _pool_leads(case: LayerCase, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each window entry's lead over the largest other entry of its window: positive only for the window's max,
    so a tie (or a perturbation that changes which entry is the max) moves a lead across zero."""
    windows = pool_windows(np.asarray(inputs["x"]), case.params["pool_param"])
    size = windows.shape[-1]
    if size == 1:
        return np.ones(windows.shape)  # a 1x1 window takes its entry whatever it is: no kink
    leads = np.empty(windows.shape)
    for k in range(size):
        others = np.delete(windows, k, axis=-1)
        leads[..., k] = windows[..., k] - others.max(axis=-1)
    return leads


def _loss(function: Callable[..., tuple[Any, Any]]) -> Callable[..., tuple[Any, Any]]:
    """A loss as a layer's reference: labels as integers, whatever dtype the case stores them in."""

    def reference(x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        return function(x, np.asarray(y, dtype=np.int64))

    return reference


_NORM = ("x", "gamma", "beta")

LAYERS: Mapping[str, Layer] = MappingProxyType(
    {
        layer.name: layer
        for layer in (
            Layer("affine", "affine_forward", ("affine_backward",), ("x", "w", "b"), (), layers.affine_forward),
            Layer("relu", "relu_forward", ("relu_backward",), ("x",), (), layers.relu_forward, _relu_input),
            Layer(
                "affine_relu",
                "affine_relu_forward",
                ("affine_relu_backward",),
                ("x", "w", "b"),
                (),
                layers.affine_relu_forward,
                _affine_relu_input,
            ),
            Layer("svm_loss", "svm_loss", (), ("x",), ("y",), _loss(layers.svm_loss), _svm_margins, loss=True),
            Layer("softmax_loss", "softmax_loss", (), ("x",), ("y",), _loss(layers.softmax_loss), loss=True),
            Layer(
                "batchnorm",
                "batchnorm_forward",
                ("batchnorm_backward", "batchnorm_backward_alt"),
                _NORM,
                ("bn_param",),
                layers_norm.batchnorm_forward,
            ),
            Layer(
                "layernorm",
                "layernorm_forward",
                ("layernorm_backward",),
                _NORM,
                ("ln_param",),
                layers_norm.layernorm_forward,
            ),
            Layer(
                "dropout",
                "dropout_forward",
                ("dropout_backward",),
                ("x",),
                ("dropout_param",),
                layers.dropout_forward,
                random=True,
            ),
            Layer(
                "conv",
                "conv_forward_naive",
                ("conv_backward_naive",),
                ("x", "w", "b"),
                ("conv_param",),
                layers_conv.conv_forward_naive,
            ),
            Layer(
                "max_pool",
                "max_pool_forward_naive",
                ("max_pool_backward_naive",),
                ("x",),
                ("pool_param",),
                layers_conv.max_pool_forward_naive,
                _pool_leads,
            ),
            Layer(
                "spatial_batchnorm",
                "spatial_batchnorm_forward",
                ("spatial_batchnorm_backward",),
                _NORM,
                ("bn_param",),
                layers_norm.spatial_batchnorm_forward,
            ),
            Layer(
                "spatial_groupnorm",
                "spatial_groupnorm_forward",
                ("spatial_groupnorm_backward",),
                _NORM,
                ("G", "gn_param"),
                layers_norm.spatial_groupnorm_forward,
            ),
        )
    }  # fmt: skip
)
"""Every layer the target knows, by name, in the assignment's order."""

BACKWARD_OF: Mapping[str, Layer] = MappingProxyType(
    {name: layer for layer in LAYERS.values() for name in (layer.backwards or (layer.forward,))}
)
"""The layer each checked function belongs to: each backward (a loss: the loss itself), by name."""
