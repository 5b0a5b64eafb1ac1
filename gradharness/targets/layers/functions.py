"""The functions the ``layers`` target looks for: CS231n's names and signatures (assignment 2's ``layers.py``)."""

from __future__ import annotations

from gradharness.model.layer_table import LAYERS, Layer
from gradharness.targets.functions import FunctionSpec, Part, TargetSpec


def _functions(layer: Layer) -> tuple[FunctionSpec, ...]:
    parameters = (*layer.inputs, *layer.others)
    if layer.loss:
        return (FunctionSpec(layer.forward, parameters, f"(loss, {', '.join(layer.gradients)})"),)
    forward = FunctionSpec(layer.forward, parameters, "(out, cache)", hold=(1,))
    returns = layer.gradients[0] if len(layer.gradients) == 1 else f"({', '.join(layer.gradients)})"
    return (forward, *(FunctionSpec(name, ("dout", "cache"), returns) for name in layer.backwards))


def _parts(layer: Layer) -> tuple[Part, ...]:
    if layer.loss:
        return (Part(layer.forward, (layer.forward,)),)
    return tuple(Part(name, (layer.forward, name)) for name in layer.backwards)


LAYERS_SPEC = TargetSpec(
    name="layers",
    title="CS231n-style layers: each forward/backward pair and each loss",
    functions=tuple(spec for layer in LAYERS.values() for spec in _functions(layer)),
    parts=tuple(part for layer in LAYERS.values() for part in _parts(layer)),
)
"""One part per backward (batch norm's two are judged apart) and per loss; a part needs its forward too."""
