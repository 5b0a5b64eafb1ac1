"""The judge <-> evaluator message protocol: JSON headers and numpy arrays as raw bytes, never pickles.

A frame on the wire is::

    b"GHv1" | u32 header length | header (UTF-8 JSON object) | u32 array count |
    for each array: u64 length | the array in .npy format (``np.save``, ``allow_pickle=False``)

Arrays are referred to from the header as ``{"$array": i}``. The reader enforces a byte budget per
frame, so a hostile evaluator cannot make the judge allocate more than that; it accepts only
real-valued dtypes (bool, integers, floats): a complex, object, string or structured array is a
:class:`ProtocolError`, never a value.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"GHv1"
DEFAULT_FRAME_BYTES = 256 * 1024 * 1024
"""The most a single frame may carry (headers and arrays together)."""

MAX_HEADER_BYTES = 1024 * 1024
MAX_ARRAYS = 4096
_REAL_KINDS = frozenset("biuf")


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


def _unpack_arrays(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$array"}:
            index = value["$array"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise ProtocolError(f"array reference {index!r} out of range")
            return arrays[index]
        return {k: _unpack_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack_arrays(v, arrays) for v in value]
    return value


def encode(message: dict[str, Any]) -> bytes:
    """One frame for ``message`` (a JSON-able dict whose values may include numpy arrays)."""
    arrays: list[np.ndarray] = []
    header = json.dumps(_pack_arrays(message, arrays), allow_nan=True, separators=(",", ":")).encode()
    parts = [MAGIC, struct.pack(">I", len(header)), header, struct.pack(">I", len(arrays))]
    for array in arrays:
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        data = buffer.getvalue()
        parts += [struct.pack(">Q", len(data)), data]
    return b"".join(parts)


def _read_exact(read: Callable[[int], bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = read(min(left, 1 << 20))
        if not chunk:
            raise ProtocolError(f"the stream ended {left} bytes short of a frame")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _load_array(data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ProtocolError(f"an array that is not a plain .npy array ({str(exc)[:120]})") from None
    if not isinstance(array, np.ndarray):
        raise ProtocolError("an array that is not a plain .npy array")
    if array.dtype.kind not in _REAL_KINDS or array.dtype.fields is not None:
        raise ProtocolError(f"an array of dtype {array.dtype} (only real numbers cross the protocol)")
    return array


def read_frame(stream: BinaryIO, *, budget: int = DEFAULT_FRAME_BYTES) -> dict[str, Any] | None:
    """The next message from ``stream``; ``None`` at a clean end of stream (before any byte of a frame)."""
    magic = stream.read(len(MAGIC))
    if not magic:
        return None
    read = stream.read
    if magic != MAGIC:
        raise ProtocolError("a frame without the protocol's magic bytes")
    (header_size,) = struct.unpack(">I", _read_exact(read, 4))
    if header_size > min(MAX_HEADER_BYTES, budget):
        raise ProtocolError(f"a header of {header_size} bytes (at most {min(MAX_HEADER_BYTES, budget)})")
    spent = header_size
    try:
        header = json.loads(_read_exact(read, header_size))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"a header that is not JSON ({str(exc)[:120]})") from None
    if not isinstance(header, dict):
        raise ProtocolError("a header that is not a JSON object")
    (count,) = struct.unpack(">I", _read_exact(read, 4))
    if count > MAX_ARRAYS:
        raise ProtocolError(f"{count} arrays in one frame (at most {MAX_ARRAYS})")
    arrays = []
    for _ in range(count):
        (size,) = struct.unpack(">Q", _read_exact(read, 8))
        spent += size
        if spent > budget:
            raise ProtocolError(f"a frame over {budget} bytes")
        arrays.append(_load_array(_read_exact(read, size)))
    message = _unpack_arrays(header, arrays)
    assert isinstance(message, dict)
    return message


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    """Write one frame and flush it."""
    stream.write(encode(message))
    stream.flush()
