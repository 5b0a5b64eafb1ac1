"""Parameter and gradient names in either letter case: the exercise's ``dW1`` is a student's ``dw1``.

Every stage that reads a dictionary the user's code made or will read (gradients a backward
returned, parameters a forward or checker looks up) finds its keys through :func:`matching_key`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def matching_key(keys: Collection[Any], name: str) -> Any | None:
    """The key among ``keys`` (a dict, its keys) that stands for ``name``: ``name`` itself, else the
    first key equal to it ignoring letter case; None when none does.

    ``matching_key({"dw1": 0}, "dW1") -> "dw1"``
    """
    if name in keys:
        return name
    lower = name.lower()
    return next((key for key in keys if isinstance(key, str) and key.lower() == lower), None)


class KeyCaseDict(dict):
    """A dict whose string keys also match in another letter case (``"w1"`` finds ``"W1"``)."""

    def __missing__(self, key: Any) -> Any:
        found = matching_key(dict.keys(self), key) if isinstance(key, str) else None
        if found is None:
            raise KeyError(key)
        return dict.__getitem__(self, found)

    def get(self, key: Any, default: Any = None) -> Any:
        """``dict.get`` with the same case-insensitive fallback."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        return isinstance(key, str) and matching_key(dict.keys(self), key) is not None
