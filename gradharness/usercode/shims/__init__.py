"""Stand-ins for the exercise's helper modules, supplied to user files that import them.

:class:`KeyCaseDict` lets code written for ``parameters["w1"]`` read ``parameters["W1"]``.
"""

from __future__ import annotations

from typing import Any


class KeyCaseDict(dict):
    """A dict whose string keys also match in another letter case (``"w1"`` finds ``"W1"``)."""

    def __missing__(self, key: Any) -> Any:
        if isinstance(key, str):
            lower = key.lower()
            for existing in self:
                if isinstance(existing, str) and existing.lower() == lower:
                    return dict.__getitem__(self, existing)
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:
        """``dict.get`` with the same case-insensitive fallback."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        return isinstance(key, str) and any(isinstance(k, str) and k.lower() == key.lower() for k in self)
