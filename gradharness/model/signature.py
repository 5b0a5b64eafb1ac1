"""Gufunc-style signatures of hand-written layers, such as ``(N,D),(D,M),(M)->(N,M)``.

A signature names the core dims of each input and of the one output, in numpy's gufunc notation
(``np.vectorize(signature=...)``, ``hypothesis.extra.numpy.mutually_broadcastable_shapes``): a dim is
a name, shared names have one size, or a fixed positive integer. ``()`` is a scalar; a scalar output
is a loss. Optional dims (``?``) and broadcast dims (``...``) are not supported, and every named dim of
the output appears in an input, so that the inputs' shapes fix the output's. :class:`SignatureCase` is
one drawn call: the dim sizes, the input arrays and the upstream gradient ``dout``.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Dim = str | int
Shape = tuple[int, ...]

EXAMPLE = "(N,D),(D,M),(M)->(N,M)"
"""A signature shown in error messages: the expected form."""
_EXPECTED = f"expected a form such as '{EXAMPLE}' ('()' is a scalar; exactly one output)"
_OPTION_EXAMPLE = f"affine={EXAMPLE}"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"-?[0-9]+")
_ARGUMENT = re.compile(r"\(([^()]*)\)")
_ARGUMENT_LIST = re.compile(r"\s*\([^()]*\)\s*(?:,\s*\([^()]*\)\s*)*")
_SHOWN = 80  # longer texts are cut in messages, which stay one line


def _shown(text: str) -> str:
    """``text`` quoted for a one-line message (repr escapes newlines), cut if long."""
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "...")


def _dim_problem(dim: object, where: str = "") -> str | None:
    """What is wrong with one dim (``where`` says where it is), or None: a dim is a name or an integer >= 1."""
    if isinstance(dim, bool) or not isinstance(dim, (str, int, np.integer)):
        return f"dim {dim!r}{where} is neither a name nor a positive integer"
    if isinstance(dim, str):
        hint = "a name is a letter or '_', then letters, digits or '_'"
        return None if _NAME.fullmatch(dim) else f"bad dim name {dim!r}{where} ({hint})"
    return None if dim > 0 else f"dim {int(dim)}{where} is not a positive size (a fixed dim is an integer >= 1)"


def _unbound_output(inputs: tuple[tuple[Dim, ...], ...], output: tuple[Dim, ...]) -> str | None:
    """The problem with an output dim that no input names, or None."""
    named = {dim for shape in inputs for dim in shape}
    missing = [dim for dim in output if isinstance(dim, str) and dim not in named]
    if not missing:
        return None
    return f"output dim {missing[0]!r} appears in no input (the output's sizes must follow from the inputs)"


def _text(shape: tuple[Dim, ...]) -> str:
    return "(" + ",".join(str(dim) for dim in shape) + ")"


@dataclass(frozen=True)
class LayerSignature:
    """The core dims of a layer's inputs and of its one output; ``str()`` is the canonical text."""

    inputs: tuple[tuple[Dim, ...], ...]
    output: tuple[Dim, ...]

    def __post_init__(self) -> None:
        inputs = tuple(tuple(shape) for shape in self.inputs)
        output = tuple(self.output)
        if not inputs:
            raise ValueError(f"a signature has at least one input; {_EXPECTED}")
        for dim in (*(dim for shape in inputs for dim in shape), *output):
            problem = _dim_problem(dim)
            if problem is not None:
                raise ValueError(f"bad signature: {problem}; {_EXPECTED}")
        problem = _unbound_output(inputs, output)
        if problem is not None:
            raise ValueError(f"bad signature: {problem}; {_EXPECTED}")
        as_ints = [tuple(dim if isinstance(dim, str) else int(dim) for dim in shape) for shape in (*inputs, output)]
        object.__setattr__(self, "inputs", tuple(as_ints[:-1]))
        object.__setattr__(self, "output", as_ints[-1])

    def __str__(self) -> str:
        return ",".join(_text(shape) for shape in self.inputs) + "->" + _text(self.output)

    @property
    def dims(self) -> tuple[str, ...]:
        """The dim names in order of first appearance (fixed integer dims are not names)."""
        seen: dict[str, None] = {}
        for shape in self.inputs:
            seen.update((dim, None) for dim in shape if isinstance(dim, str))
        return tuple(seen)

    @property
    def is_loss(self) -> bool:
        """Whether the output is a scalar, as a loss is (its upstream gradient is 1.0)."""
        return self.output == ()


def _invalid(text: str, problem: str) -> ValueError:
    return ValueError(f"bad signature {_shown(text)}: {problem}; {_EXPECTED}")


def _parse_dim(text: str, argument: str, piece: str) -> Dim:
    """One dim of ``(argument)``: a name, or an integer checked to be positive."""
    dim: Dim = int(piece) if _INTEGER.fullmatch(piece) else piece
    where = f" in '({argument})'"
    problem = f"an empty dim{where}" if not piece else _dim_problem(dim, where)
    if problem is not None:
        raise _invalid(text, problem)
    return dim


def _parse_side(text: str, side: str, what: str) -> tuple[tuple[Dim, ...], ...]:
    """The parenthesised dim lists of one side of the arrow."""
    if not side.strip():
        raise _invalid(text, f"no {what}")
    if not _ARGUMENT_LIST.fullmatch(side):
        raise _invalid(text, f"the {what} {side.strip()!r} are not parenthesised dim lists separated by commas")
    shapes = []
    for argument in _ARGUMENT.findall(side):
        pieces = argument.split(",") if argument.strip() else []
        shapes.append(tuple(_parse_dim(text, argument.strip(), piece.strip()) for piece in pieces))
    return tuple(shapes)


def parse_signature(text: str) -> LayerSignature:
    """The signature written in gufunc notation, e.g. ``"(N,D),(D,M),(M)->(N,M)"`` or ``"(N,C),(N)->()"``.

    Whitespace around dims and brackets is ignored. A ValueError with a one-line message says what is
    wrong otherwise: empty text, no ``->`` or more than one, no inputs, not exactly one output, a bad
    dim name, a fixed dim that is not a positive integer, ``?`` or ``...`` dims, an output dim that no
    input has.
    """
    if not isinstance(text, str):
        raise TypeError(f"a signature is text such as '{EXAMPLE}', got {text!r}")
    if not text.strip():
        raise _invalid(text, "it is empty")
    if "..." in text:
        raise _invalid(text, "broadcast dims '...' are not supported")
    if "?" in text:
        raise _invalid(text, "optional dims '?' are not supported")
    arrows = text.count("->")
    if arrows != 1:
        raise _invalid(text, "'->' is missing" if arrows == 0 else "more than one '->'")
    left, right = text.split("->")
    inputs = _parse_side(text, left, "inputs")
    outputs = _parse_side(text, right, "output")
    if len(outputs) != 1:
        raise _invalid(text, f"{len(outputs)} outputs; exactly one is supported")
    problem = _unbound_output(inputs, outputs[0])
    if problem is not None:
        raise _invalid(text, problem)
    return LayerSignature(inputs, outputs[0])


def _size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"size {name}={value!r} is not an integer >= 1")
    return int(value)


def checked_sizes(signature: LayerSignature, sizes: Mapping[str, Any]) -> dict[str, int]:
    """``sizes`` as a dict in the order of ``signature.dims``: exactly its dim names, each an integer >= 1."""
    names = signature.dims
    missing = [name for name in names if name not in sizes]
    if missing:
        raise ValueError(f"no size for dim {missing[0]!r} of {str(signature)!r}")
    unknown = [name for name in sizes if name not in names]
    if unknown:
        raise ValueError(f"size {unknown[0]!r} is not a dim of {str(signature)!r} (its dims: {', '.join(names)})")
    return {name: _size(name, sizes[name]) for name in names}


def shapes_for(signature: LayerSignature, sizes: Mapping[str, int]) -> tuple[tuple[Shape, ...], Shape]:
    """The input shapes and the output shape when each named dim has its size in ``sizes``.

    ``sizes`` has exactly the signature's dim names; fixed integer dims are kept as they are.
    """
    known = checked_sizes(signature, sizes)

    def shape(dims: tuple[Dim, ...]) -> Shape:
        return tuple(known[dim] if isinstance(dim, str) else dim for dim in dims)

    return tuple(shape(dims) for dims in signature.inputs), shape(signature.output)


def _layer_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        shown = _shown(name) if isinstance(name, str) else repr(name)
        problem = (
            "is a Python keyword" if isinstance(name, str) and keyword.iskeyword(name) else "is not a Python identifier"
        )
        raise ValueError(f"layer name {shown} {problem}; expected NAME=SIG such as {_OPTION_EXAMPLE}")
    return name


def parse_signatures(items: Mapping[str, str]) -> dict[str, LayerSignature]:
    """Each layer's signature by name; a name must be a Python identifier (a one-line ValueError names it)."""
    parsed = {}
    for name, text in items.items():
        checked = _layer_name(name)
        try:
            parsed[checked] = parse_signature(text)
        except (TypeError, ValueError) as error:
            raise ValueError(f"layer {checked!r}: {error}") from error
    return parsed


def parse_option(text: str) -> tuple[str, LayerSignature]:
    """The command line's ``NAME=SIG``, e.g. ``affine=(N,D),(D,M),(M)->(N,M)``: the name and its signature."""
    if not isinstance(text, str) or "=" not in text:
        shown = _shown(text) if isinstance(text, str) else repr(text)
        raise ValueError(f"{shown} is not NAME=SIG; expected e.g. {_OPTION_EXAMPLE}")
    name, signature = text.split("=", 1)
    [(checked, parsed)] = parse_signatures({name.strip(): signature}).items()
    return checked, parsed


def _floats(value: object) -> np.ndarray:
    return np.array(value, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class SignatureCase:
    """One call of a layer: its dim sizes, its input arrays and the upstream gradient ``dout``.

    Arrays are float64 of the shapes :func:`shapes_for` gives; for a loss ``dout`` is 0-d.
    """

    signature: LayerSignature
    sizes: dict[str, int]
    arrays: tuple[np.ndarray, ...]
    dout: np.ndarray

    def __post_init__(self) -> None:
        input_shapes, output_shape = shapes_for(self.signature, self.sizes)
        arrays = tuple(_floats(array) for array in self.arrays)
        if len(arrays) != len(input_shapes):
            raise ValueError(f"{len(arrays)} arrays for the {len(input_shapes)} inputs of {str(self.signature)!r}")
        for index, (array, shape) in enumerate(zip(arrays, input_shapes, strict=True)):
            if array.shape != shape:
                raise ValueError(f"input {index} has shape {array.shape}, expected {shape}")
        dout = _floats(self.dout)
        if dout.shape != output_shape:
            raise ValueError(f"dout has shape {dout.shape}, expected {output_shape}")
        object.__setattr__(self, "sizes", checked_sizes(self.signature, self.sizes))
        object.__setattr__(self, "arrays", arrays)
        object.__setattr__(self, "dout", dout)

    def describe(self) -> str:
        """Short description such as ``N=2, D=3, M=1; shapes (2, 3), (3, 1), (1,) -> (2, 1)``."""
        sizes = ", ".join(f"{name}={size}" for name, size in self.sizes.items()) or "no named dims"
        shapes = ", ".join(str(array.shape) for array in self.arrays)
        return f"{sizes}; shapes {shapes} -> {self.dout.shape}"

    def copy_arrays(self) -> tuple[np.ndarray, ...]:
        """Fresh copies of the input arrays, safe to hand to user code."""
        return tuple(array.copy() for array in self.arrays)

    def to_json(self) -> dict:
        """Plain-data form (lists; a 0-d array is a float) for results files."""
        return {
            "signature": str(self.signature),
            "sizes": dict(self.sizes),
            "arrays": [array.tolist() for array in self.arrays],
            "dout": self.dout.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> SignatureCase:
        """Inverse of :meth:`to_json`."""
        return cls(
            signature=parse_signature(data["signature"]),
            sizes=dict(data["sizes"]),
            arrays=tuple(_floats(array) for array in data["arrays"]),
            dout=_floats(data["dout"]),
        )
