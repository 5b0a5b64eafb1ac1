"""Call-time argument checks for the public strategies.

Modelled on ``hypothesis/extra/_array_helpers.py`` (``order_check``): every
failure raises :class:`hypothesis.errors.InvalidArgument` with a message that
names the offending argument.
"""

from __future__ import annotations

import numpy as np
from hypothesis.errors import InvalidArgument


def check_integer(name: str, value: object) -> int:
    """Return ``value`` as an int; booleans and non-integers are rejected."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name} must be an integer, got {value!r}")
    return int(value)


def check_at_least(name: str, value: object, floor: int) -> int:
    """Return ``value`` as an int after checking it is an integer >= ``floor``."""
    number = check_integer(name, value)
    if number < floor:
        raise InvalidArgument(f"{name}={number} must be at least {floor}")
    return number


def check_order(low_name: str, low: int, high_name: str, high: int) -> None:
    """Reject an empty range, e.g. ``min_units=5 is larger than max_units=3``."""
    if low > high:
        raise InvalidArgument(f"{low_name}={low} is larger than {high_name}={high}")


def check_optional_size(name: str, value: object) -> int | None:
    """A fixed size is ``None`` (drawn) or an integer >= 1, whatever the drawn range is."""
    if value is None:
        return None
    return check_at_least(name, value, 1)


def check_flag(name: str, value: object) -> bool:
    """Return ``value`` after checking it is a real bool (not 0/1 or a string)."""
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be a bool, got {value!r}")
    return value


def check_instance(name: str, value: object, expected: type) -> None:
    """Reject a value that is not an instance of ``expected``."""
    if not isinstance(value, expected):
        raise InvalidArgument(f"{name} must be a {expected.__name__}, got {value!r}")
