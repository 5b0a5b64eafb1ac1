"""Dataclasses to plain JSON and back, driven by their type hints.

Every record (and the settings a worker is sent) is a dataclass whose fields are JSON
types, Enums, nested dataclasses, lists, tuples, dicts and Optionals of those.
:func:`to_json` turns one into plain data; :func:`decode` rebuilds it from the field
types, so what comes back has the types the hints promise or a ResultsFormatError
that names the field.

Encodings, kept stable:

- An Enum is its ``value`` (the statuses' strings: ``"pass"``, ``"killed"``, ...).
- A tuple is a list.
- Floats JSON has no literal for are strings: ``"inf"``, ``"-inf"`` and ``"nan"``.
  Files written before this encoding hold NaN as ``null``: in a float field that cannot
  be null, ``null`` is read as NaN; in an optional one it is read as None.
- Anything else (in fields typed ``Any``) is written with the same rules and read back as is.
"""

from __future__ import annotations

import functools
import math
import numbers
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from enum import Enum
from typing import Any, TypeVar

from gradharness.errors import ResultsFormatError

T = TypeVar("T")

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def encode_float(value: float) -> float | str:
    """``value``, or ``"inf"`` / ``"-inf"`` / ``"nan"`` where JSON has no number for it."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(value)


def to_json(value: Any) -> Any:
    """Plain JSON-ready data of a dataclass (or of any value a record holds), recursively."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return encode_float(float(value))
    if isinstance(value, dict):
        return {_key_to_json(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    raise TypeError(f"{type(value).__name__} has no JSON form in a results file")


def _key_to_json(key: Any) -> str:
    if isinstance(key, Enum):
        return str(key.value)
    if isinstance(key, str):
        return key
    raise TypeError(f"a dict key of type {type(key).__name__} has no JSON form in a results file")


def decode(kind: type[T], value: Any, where: str = "results") -> T:
    """``value`` (parsed JSON) as an instance of ``kind``; ``where`` names it in error messages."""
    return typing.cast(T, _decode(kind, value, where))


def json_type(value: Any) -> str:
    """How a parsed JSON value is named in error messages: 'a list', 'null', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _expected(where: str, what: str, value: Any) -> ResultsFormatError:
    shown = repr(value) if isinstance(value, (str, int, float)) else json_type(value)
    return ResultsFormatError(f"{where}: expected {what}, got {shown}")


def _decode(kind: Any, value: Any, where: str) -> Any:
    origin = kind if kind in (list, tuple, dict) else typing.get_origin(kind)
    if kind is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        return _decode_union(kind, value, where)
    if origin in (list, tuple, dict):
        return _decode_container(kind, origin, value, where)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return _decode_enum(kind, value, where)
    if is_dataclass(kind):
        return _decode_dataclass(typing.cast(type, kind), value, where)
    return _decode_scalar(kind, value, where)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_PLAIN: dict[Any, tuple[str, Callable[[Any], bool]]] = {
    int: ("an integer", _is_int),
    bool: ("true or false", lambda value: isinstance(value, bool)),
    str: ("a string", lambda value: isinstance(value, str)),
    type(None): ("null", lambda value: value is None),
}


def _decode_scalar(kind: Any, value: Any, where: str) -> Any:
    if kind is float:
        return _decode_float(value, where)
    if kind not in _PLAIN:
        raise TypeError(f"{where}: the type {kind!r} has no JSON form")
    what, fits = _PLAIN[kind]
    if not fits(value):
        raise _expected(where, what, value)
    return value


def _decode_float(value: Any, where: str) -> float:
    if value is None:
        return math.nan  # how NaN was written before it had a string
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, float) or _is_int(value):
        return float(value)
    raise _expected(where, "a number", value)


def _decode_union(kind: Any, value: Any, where: str) -> Any:
    options = typing.get_args(kind)
    if value is None and type(None) in options:
        return None
    errors = []
    for option in (o for o in options if o is not type(None)):
        try:
            return _decode(option, value, where)
        except ResultsFormatError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    raise ResultsFormatError(f"{where}: {json_type(value)} is none of the types this field holds")


def _decode_container(kind: Any, origin: type, value: Any, where: str) -> Any:
    args = typing.get_args(kind)
    if origin is dict:
        if not isinstance(value, dict):
            raise _expected(where, "an object", value)
        key_type, value_type = args or (str, Any)
        return {
            _decode(key_type, k, f"{where} key {k!r}"): _decode(value_type, v, f"{where}.{k}") for k, v in value.items()
        }
    if not isinstance(value, list):
        raise _expected(where, "a list", value)
    if origin is list:
        (item,) = args or (Any,)
        return [_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not args or args[-1] is Ellipsis:
        item = args[0] if args else Any
        return tuple(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if len(value) != len(args):
        raise ResultsFormatError(f"{where}: expected a list of {len(args)} items, got {len(value)}")
    return tuple(_decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))


def _decode_enum(kind: type[Enum], value: Any, where: str) -> Enum:
    try:
        return kind(value)
    except ValueError:
        valid = ", ".join(repr(member.value) for member in kind)
        raise ResultsFormatError(f"{where}: {value!r} is not a {kind.__name__} (one of {valid})") from None


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode_dataclass(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise _expected(where, "an object", data)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ResultsFormatError(f"{where}: unknown keys {', '.join(unknown)}")
    missing = [
        name
        for name, f in known.items()
        if name not in data and f.default is MISSING and f.default_factory is MISSING and f.init
    ]
    if missing:
        raise ResultsFormatError(f"{where}: missing {', '.join(missing)}")
    hints = _field_types(cls)
    values = {key: _decode(hints[key], value, f"{where}.{key}") for key, value in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a __post_init__ that rejects the values
        raise ResultsFormatError(f"{where}: {exc}") from None
