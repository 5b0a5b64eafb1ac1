"""The judge <-> evaluator message protocol: JSON headers and numpy arrays as raw bytes, never pickles.

A frame on the wire is::

    b"GHv1" | u32 header length | header (UTF-8 JSON object) | u32 array count |
    for each array: u32 length | its dtype and shape (JSON) | u64 length | its bytes in C order

Arrays are referred to from the header as ``{"$array": i}``. The reader enforces a byte budget per
frame, so a hostile evaluator cannot make the judge allocate more than that; it accepts only
real-valued dtypes (bool, integers, floats): a complex, object, string or structured array is a
:class:`ProtocolError`, never a value.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"GHv1"
DEFAULT_FRAME_BYTES = 256 * 1024 * 1024
"""The most a single frame may carry (headers and arrays together)."""

MAX_HEADER_BYTES = 1024 * 1024
MAX_ARRAYS = 4096
MAX_DIMENSIONS = 32
_META_BYTES = 4096
_REAL_DTYPE = re.compile(r"[<>|]([iu][1248]|f[248]|b1)")


class ProtocolError(Exception):
    """A frame that breaks the protocol: cut short, too large, badly formed, or with a forbidden dtype."""


def _pack_arrays(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"$array": len(arrays) - 1}
    if isinstance(value, dict):
        return {str(k): _pack_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pack_arrays(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _unpack_arrays(value: Any, arrays: list[np.ndarray], used: set[int]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$array"}:
            index = value["$array"]
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(arrays):
                raise ProtocolError(f"array reference {str(index)[:20]!r} out of range")
            if index in used:  # one array many times over would multiply what the frame costs the reader
                raise ProtocolError(f"array {index} referred to more than once")
            used.add(index)
            return arrays[index]
        return {k: _unpack_arrays(v, arrays, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack_arrays(v, arrays, used) for v in value]
    return value


_KEPT_DESCRIPTIONS = 1024
"""Array descriptions remembered (a frame carries the same few dtypes and shapes over and over)."""

_described: dict[tuple[str, tuple[int, ...]], bytes] = {}
_understood: dict[bytes, tuple[np.dtype, tuple[int, ...]]] = {}


def _description(array: np.ndarray) -> bytes:
    """The length-prefixed JSON dtype and shape of ``array``."""
    key = (array.dtype.str, array.shape)
    found = _described.get(key)
    if found is None:
        meta = json.dumps({"dtype": array.dtype.str, "shape": list(array.shape)}).encode()
        found = struct.pack(">I", len(meta)) + meta
        if len(_described) < _KEPT_DESCRIPTIONS:
            _described[key] = found
    return found


def encode(message: dict[str, Any]) -> bytes:
    """One frame for ``message`` (a JSON-able dict whose values may include numpy arrays)."""
    arrays: list[np.ndarray] = []
    header = json.dumps(_pack_arrays(message, arrays), allow_nan=True, separators=(",", ":")).encode()
    parts = [MAGIC, struct.pack(">I", len(header)), header, struct.pack(">I", len(arrays))]
    for array in arrays:
        array = np.asarray(array)
        data = np.ascontiguousarray(array).tobytes() if array.ndim else array.tobytes()
        parts += [_description(array), struct.pack(">Q", len(data)), data]
    return b"".join(parts)


def _read_exact(read: Callable[[int], bytes], size: int) -> bytes:
    first = read(size) if size <= 1 << 20 else b""
    if len(first) == size:
        return first
    chunks, left = [first], size - len(first)
    while left:
        chunk = read(min(left, 1 << 20))
        if not chunk:
            raise ProtocolError(f"the stream ended {left} bytes short of a frame")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _array_meta(data: bytes) -> tuple[np.dtype, tuple[int, ...]]:
    """The dtype and shape an array announces; only real dtypes, sensible shapes."""
    found = _understood.get(data)
    if found is None:
        found = _parsed_meta(data)
        if len(_understood) < _KEPT_DESCRIPTIONS:
            _understood[data] = found
    return found


def _parsed_meta(data: bytes) -> tuple[np.dtype, tuple[int, ...]]:
    try:
        meta = json.loads(data)
        dtype_text, shape = meta["dtype"], meta["shape"]
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError):
        raise ProtocolError("an array without a readable dtype and shape") from None
    if not isinstance(dtype_text, str) or not _REAL_DTYPE.fullmatch(dtype_text):
        try:
            name = np.dtype(dtype_text).name if isinstance(dtype_text, str) and len(dtype_text) < 16 else "?"
        except (TypeError, ValueError):
            name = "?"
        raise ProtocolError(f"an array of dtype {str(dtype_text)[:20]} ({name}; only real numbers cross the protocol)")
    valid = isinstance(shape, list) and len(shape) <= MAX_DIMENSIONS
    if not valid or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**40 for n in shape):
        raise ProtocolError(f"an array of shape {str(shape)[:60]}")
    return np.dtype(dtype_text), tuple(shape)


def _read_header(read: Callable[[int], bytes], budget: int) -> tuple[dict[str, Any], int]:
    """The frame's JSON header (after the magic bytes), and the bytes it took."""
    (header_size,) = struct.unpack(">I", _read_exact(read, 4))
    if header_size > min(MAX_HEADER_BYTES, budget):
        raise ProtocolError(f"a header of {header_size} bytes (at most {min(MAX_HEADER_BYTES, budget)})")
    try:
        header = json.loads(_read_exact(read, header_size))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"a header that is not JSON ({str(exc)[:120]})") from None
    except (RecursionError, ValueError, OverflowError, MemoryError) as exc:  # nested too deep, huge numbers
        raise ProtocolError(f"a header that cannot be read ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise ProtocolError("a header that is not a JSON object")
    return header, header_size


def _read_arrays(read: Callable[[int], bytes], budget: int, spent: int) -> list[np.ndarray]:
    """The frame's arrays, each within what is left of the budget and exactly the size it announces."""
    (count,) = struct.unpack(">I", _read_exact(read, 4))
    if count > MAX_ARRAYS:
        raise ProtocolError(f"{count} arrays in one frame (at most {MAX_ARRAYS})")
    arrays = []
    for _ in range(count):
        (meta_size,) = struct.unpack(">I", _read_exact(read, 4))
        if meta_size > _META_BYTES:
            raise ProtocolError(f"an array description of {meta_size} bytes")
        dtype, shape = _array_meta(_read_exact(read, meta_size))
        (size,) = struct.unpack(">Q", _read_exact(read, 8))
        spent += size + meta_size
        if spent > budget:
            raise ProtocolError(f"a frame over {budget} bytes")
        if size != dtype.itemsize * math.prod(shape):
            raise ProtocolError(f"an array of {size} bytes for shape {shape} of {dtype.name}")
        arrays.append(np.frombuffer(_read_exact(read, size), dtype=dtype).reshape(shape).copy())
    return arrays


def read_frame(stream: BinaryIO, *, budget: int = DEFAULT_FRAME_BYTES) -> dict[str, Any] | None:
    """The next message from ``stream``; ``None`` at a clean end of stream (before any byte of a frame)."""
    first = stream.read(1)
    if not first:
        return None
    read = stream.read
    if first + _read_exact(read, len(MAGIC) - 1) != MAGIC:
        raise ProtocolError("a frame without the protocol's magic bytes")
    header, spent = _read_header(read, budget)
    arrays = _read_arrays(read, budget, spent)
    try:
        message = _unpack_arrays(header, arrays, set())
    except RecursionError:
        raise ProtocolError("a header nested too deeply") from None
    assert isinstance(message, dict)
    return message


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    """Write one frame and flush it."""
    stream.write(encode(message))
    stream.flush()
