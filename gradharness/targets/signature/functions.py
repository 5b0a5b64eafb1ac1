"""The functions the ``signature`` target looks for: a user's layers, each named with its gufunc signature.

A layer ``NAME`` with signature ``(N,D),(D)->(N,D)`` is, as in CS231n, ``NAME_forward(x, w) -> (out, cache)`` and
``NAME_backward(dout, cache) -> (dx, dw)`` (the gradient itself for one input); a layer with a scalar output
``()`` may instead be one function ``NAME(x, w) -> (loss, (dx, dw))``, CS224n's ``gradcheck_naive`` convention.
The signatures come from the command line (``--signature NAME=SIG``) and from the file's own
``GRADHARNESS_SIGNATURES``, read by the judge from the source, never from the file's run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gradharness.model.signature import LayerSignature, parse_signature
from gradharness.targets.functions import FunctionSpec, Part, TargetSpec

SIGNATURE = "signature"
"""The target's name."""
TITLE = "hand-written layers, by their gufunc signatures"


@dataclass(frozen=True)
class SignedLayer:
    """A user's layer: its name, its signature and its inputs' names (``x``, ``w``: gradients ``dx``, ``dw``);
    its forward's and backward's names, ``NAME_forward`` and ``NAME_backward`` unless given."""

    name: str
    signature: LayerSignature
    inputs: tuple[str, ...]
    forward: str = ""
    backward: str = ""
    dtype: str = "float64"
    """The dtype the layer is given its inputs and ``dout`` in (the numerical side moves float64 copies)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "forward", self.forward or f"{self.name}_forward")
        object.__setattr__(self, "backward", self.backward or f"{self.name}_backward")

    @property
    def gradients(self) -> tuple[str, ...]:
        """The gradients' names, in the inputs' order."""
        return tuple(f"d{name}" for name in self.inputs)

    def parts(self) -> tuple[str, ...]:
        """The parts this layer may be checked as: its backward, and for a scalar output its loss function."""
        return (self.backward, self.name) if self.signature.is_loss else (self.backward,)


def positional_names(count: int) -> tuple[str, ...]:
    """Inputs named by position (``0``, ``1``: gradients ``d0``, ``d1``) when the forward's names are unknown."""
    return tuple(str(index) for index in range(count))


def signed_layers(signatures: Sequence[tuple[str, str]]) -> tuple[SignedLayer, ...]:
    """The layers of (name, signature text) pairs, inputs named by position (a ValueError for a bad signature)."""
    layers = []
    for name, text in signatures:
        signature = parse_signature(text)
        layers.append(SignedLayer(name, signature, positional_names(len(signature.inputs))))
    return tuple(layers)


def _functions(layer: SignedLayer) -> tuple[FunctionSpec, ...]:
    shapes = tuple(f"{name}: ({','.join(map(str, dims))})" for name, dims in zip(
        layer.inputs, layer.signature.inputs, strict=True
    ))  # fmt: skip
    returns = layer.gradients[0] if len(layer.gradients) == 1 else f"({', '.join(layer.gradients)})"
    functions: tuple[FunctionSpec, ...] = (
        FunctionSpec(layer.forward, shapes, "(out, cache)", hold=(1,)),
        FunctionSpec(layer.backward, ("dout", "cache"), returns),
    )
    if layer.signature.is_loss:
        functions += (FunctionSpec(layer.name, shapes, f"(loss, {returns})"),)
    return functions


def signature_spec(layers: Sequence[SignedLayer]) -> TargetSpec:
    """The target's functions and parts for these layers: one part per backward, and per loss function."""
    parts = []
    for layer in layers:
        parts.append(Part(layer.backward, (layer.forward, layer.backward)))
        if layer.signature.is_loss:
            parts.append(Part(layer.name, (layer.name,)))
    return TargetSpec(
        name=SIGNATURE,
        title=TITLE,
        functions=tuple(spec for layer in layers for spec in _functions(layer)),
        parts=tuple(parts),
    )
