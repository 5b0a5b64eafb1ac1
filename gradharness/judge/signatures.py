"""The layers the ``signature`` target checks in one file: the command line's and the file's own, read by the judge.

``--signature NAME=SIG`` gives the same layers to every file; a file may declare its own in a literal
``GRADHARNESS_SIGNATURES`` dict, read from the source (never from the file's run, which could say anything). The
command line's signature wins for a name both give. Each input is named as the forward's parameter is in the source
(``x``, ``w``: gradients ``dx``, ``dw``), else by its position.
"""

from __future__ import annotations

from pathlib import Path

from gradharness.errors import GradHarnessError
from gradharness.judge.expected import (
    SIGNATURES_NAME,
    declared_signatures,
    positional_parameters,
    required_parameters,
)
from gradharness.model.signature import LayerSignature, parse_signatures
from gradharness.settings import FunctionNames
from gradharness.targets.registry import property_descriptions
from gradharness.targets.signature.functions import SignedLayer, positional_names
from gradharness.targets.specs import SPECS


def _inputs(
    path: Path, layer: str, signature: LayerSignature, parameters: dict[str, tuple[str, ...] | None]
) -> tuple[str, ...]:
    """The inputs' names: the forward's (a loss function's) first positional parameters in the source."""
    count = len(signature.inputs)
    function = f"{layer}_forward" if f"{layer}_forward" in parameters else layer
    names = parameters.get(function)
    if names is None:  # not in the file (said elsewhere), or it takes *args
        return positional_names(count)
    required = required_parameters(path).get(function, len(names))
    if not required <= count <= len(names):
        takes = f"{required} to {len(names)}" if required < len(names) else f"{len(names)}"
        raise GradHarnessError(
            f"{path.name}: {function}({', '.join(names)}) takes {takes} positional argument"
            f"{'s' if len(names) != 1 else ''}; the signature {signature} of {layer!r} has {count} inputs"
        )
    chosen = names[:count]
    return chosen if "dout" not in chosen else positional_names(count)


def _taken(name: str) -> str | None:
    """The built-in function a layer's name would reuse (its properties would be named as the built-in's)."""
    known = property_descriptions()
    for function in (f"{name}_backward", name):
        if function.upper() in known or any(function in spec.names for spec in SPECS.values()):
            return function
    return None


def file_layers(path: Path, names: FunctionNames) -> tuple[tuple[SignedLayer, ...], list[str]]:
    """The layers to check in ``path`` and the notes to show (the command line's signature replacing the file's).

    GradHarnessError in one line for a bad ``GRADHARNESS_SIGNATURES``, a layer named as a built-in target's
    function, or a forward with fewer parameters than its signature has inputs.
    """
    notes = []
    try:
        declared = parse_signatures(declared_signatures(path))
    except ValueError as error:
        raise GradHarnessError(f"{path.name}: {SIGNATURES_NAME}: {error}") from None
    given = parse_signatures(dict(names.signatures))
    for name in sorted(set(declared) & set(given)):
        if str(declared[name]) != str(given[name]):
            notes.append(f"--signature {name}={given[name]} replaces the file's {SIGNATURES_NAME} {declared[name]}")
    signatures = {**declared, **given}
    parameters = positional_parameters(path)
    layers = []
    for name, signature in signatures.items():
        taken = _taken(name)
        if taken is not None:
            raise GradHarnessError(
                f"{path.name}: the signature layer {name!r} would check {taken}, which a built-in target checks "
                "already: give the layer a name of its own"
            )
        layers.append(SignedLayer(name, signature, _inputs(path, name, signature, parameters)))
    return tuple(layers), notes


def missing_layers(path: Path, layers: tuple[SignedLayer, ...]) -> list[str]:
    """One line for each layer whose functions the source does not define, for the record's ``not checked``."""
    defined = set(positional_parameters(path))
    lines = []
    for layer in layers:
        if any(set(part) <= defined for part in ((layer.forward, layer.backward), (layer.name,))[: len(layer.parts())]):
            continue
        pair = [name for name in (layer.forward, layer.backward) if name not in defined] or [layer.forward]
        wanted = " and ".join(pair) + (f" (or {layer.name})" if layer.signature.is_loss else "")
        lines.append(f"the signature target's {layer.name} ({layer.signature}): the file defines no {wanted}")
    return lines
