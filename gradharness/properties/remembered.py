"""What the network computed on a case, remembered: a batch checks every file on the same drawn cases.

Only pure functions of judge-side data (the case, the perturbations) are remembered, never anything a
user's code returned; a value is the same whether computed again or looked up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

from gradharness.model.case import NetworkCase

KEPT = 4096
"""Values remembered at most (then forgotten all at once)."""

_T = TypeVar("_T")
_seen: dict[Hashable, Any] = {}


def digest(*parts: np.ndarray | str | bytes | float) -> bytes:
    """A digest of arrays (dtype, shape and bytes), texts and numbers, in order."""
    hashed = hashlib.blake2b(digest_size=20)
    for part in parts:
        if isinstance(part, bytes):
            hashed.update(part)
        elif isinstance(part, (str, float, int)):
            hashed.update(repr(part).encode())
        else:
            array = np.ascontiguousarray(part)
            hashed.update(f"{array.dtype.str}{array.shape}".encode())
            hashed.update(array.tobytes())
        hashed.update(b"|")
    return hashed.digest()


def case_digest(case: NetworkCase) -> bytes:
    """The digest of a case: its inputs, labels and parameters by name."""
    names = sorted(case.parameters)
    return digest(case.X, case.Y, *names, *(case.parameters[name] for name in names))


def exactly(array: np.ndarray | None) -> tuple[str, tuple[int, ...], bytes] | None:
    """An array as a part of a key: its dtype, shape and bytes (None stays None)."""
    if array is None:
        return None
    array = np.ascontiguousarray(array)
    return array.dtype.str, array.shape, array.tobytes()


def remembered(key: Hashable, compute: Callable[[], _T]) -> _T:
    """``compute()``, or what it returned before for ``key``."""
    found = _seen.get(key)
    if found is None:
        found = compute()
        if len(_seen) >= KEPT:
            _seen.clear()
        _seen[key] = found
    return found
