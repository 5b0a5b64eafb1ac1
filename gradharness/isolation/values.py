"""What the user's functions return, carried from the evaluator to the judge as plain data.

The evaluator turns any returned value into a tree the protocol can carry: real arrays and
numbers as they are, complex ones as their real and imaginary parts, strings cut short, dicts,
lists and tuples item by item, and anything else as an :class:`Opaque` stand-in that has the
type's name and nothing more. The judge rebuilds the value from the tree, so the properties see
the same Python types the user's code returned (a ``str`` cost, a complex gradient, a dict with
a missing key) and judge them as they would in-process. Nothing in a tree is executed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradharness.isolation.protocol import ProtocolError

MAX_TEXT = 200
"""Characters of a returned string that cross (the judge only needs to say what it was)."""

MAX_ITEMS = 4096
"""Items of the containers in one returned value; beyond, the rest is opaque."""

MAX_DEPTH = 8
_REAL_KINDS = frozenset("biuf")


def cut(value: object, limit: int) -> str:
    """A text from the evaluator as the judge keeps it: at most ``limit`` characters, saying what was cut."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … [{len(text) - limit} more characters cut]"


class Opaque:
    """A value the judge does not receive, only the name of its type (``type(value).__name__`` gives it)."""

    __slots__ = ()


_OPAQUE_TYPES: dict[str, type[Opaque]] = {}


def opaque(type_name: str) -> Opaque:
    """A stand-in whose type is named ``type_name`` (so messages name the user's type, e.g. ``generator``)."""
    name = str(type_name)[:60] or "object"
    kind = _OPAQUE_TYPES.get(name)
    if kind is None:
        kind = _OPAQUE_TYPES.setdefault(name, type(name, (Opaque,), {"__slots__": ()}))
    return kind()


def _array_tree(value: np.ndarray) -> Any:
    if value.dtype.fields is None and value.dtype.kind == "f" and value.dtype.itemsize > 8:
        value = value.astype(np.float64)  # long double: the protocol carries float64 at most
    if value.dtype.fields is None and value.dtype.kind in _REAL_KINDS:
        return value.astype(value.dtype.newbyteorder("="), copy=False)
    if value.dtype.kind == "c":
        if value.dtype.itemsize > 16:
            value = value.astype(np.complex128)
        return {"$complex": [np.ascontiguousarray(value.real), np.ascontiguousarray(value.imag)]}
    return {"$opaque": "ndarray", "dtype": str(value.dtype)[:40]}


def encode_value(value: Any, *, budget: list[int] | None = None, depth: int = 0) -> Any:
    """The tree for ``value`` (run in the evaluator, on whatever the user's code returned)."""
    budget = [MAX_ITEMS] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return {"$opaque": type(value).__name__}
    if value is None or isinstance(value, (bool, int, float)) and type(value) in (bool, int, float):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            return float(value)
        return value
    if isinstance(value, np.ndarray):
        return _array_tree(value)
    if isinstance(value, np.generic):
        return {"$scalar": _array_tree(np.asarray(value))}
    if isinstance(value, complex) and type(value) is complex:
        return {"$complex": [value.real, value.imag]}
    if isinstance(value, str) and type(value) is str:
        return {"$str": value[:MAX_TEXT]}
    if type(value) in (list, tuple):
        return {"$" + type(value).__name__: [encode_value(v, budget=budget, depth=depth + 1) for v in value]}
    if isinstance(value, dict):
        return {
            "$dict": [[str(k)[:MAX_TEXT], encode_value(v, budget=budget, depth=depth + 1)] for k, v in value.items()]
        }
    return {"$opaque": type(value).__name__}


def _complex(real: Any, imag: Any) -> Any:
    if isinstance(real, np.ndarray) and isinstance(imag, np.ndarray) and real.shape == imag.shape:
        return real + 1j * imag
    if isinstance(real, (int, float)) and isinstance(imag, (int, float)):
        return complex(real, imag)
    raise ProtocolError("a complex value whose parts do not match")


def decode_value(tree: Any, *, depth: int = 0) -> Any:
    """The value a tree describes (run in the judge, on what the evaluator sent); ProtocolError if malformed."""
    if depth > MAX_DEPTH + 2:
        raise ProtocolError("a returned value nested too deeply")
    if tree is None or isinstance(tree, (bool, int, float, np.ndarray)):
        return tree
    if not isinstance(tree, dict) or len(tree) not in (1, 2):
        raise ProtocolError(f"a returned value of unknown form {type(tree).__name__}")
    (tag, item), *_ = tree.items()
    if tag == "$str" and isinstance(item, str):
        return item[:MAX_TEXT]
    if tag in ("$list", "$tuple") and isinstance(item, list):
        items = [decode_value(v, depth=depth + 1) for v in item]
        return items if tag == "$list" else tuple(items)
    if tag == "$dict" and isinstance(item, list):
        if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in item):
            raise ProtocolError("a returned dict of unknown form")
        return {k: decode_value(v, depth=depth + 1) for k, v in item}
    if tag == "$complex" and isinstance(item, list) and len(item) == 2:
        return _complex(*(decode_value(v, depth=depth + 1) for v in item))
    if tag == "$scalar" and isinstance(item, np.ndarray) and item.ndim == 0:
        return item[()]
    if tag == "$opaque" and isinstance(item, str):
        return opaque(item if "dtype" not in tree else f"{item} of {str(tree['dtype'])[:40]}")
    raise ProtocolError(f"a returned value tagged {str(tag)[:40]!r}")
