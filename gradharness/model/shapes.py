"""The one check of a parameter dictionary against the shapes a network's sizes give its parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def check_parameter_shapes(parameters: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]]) -> None:
    """Raise ValueError naming the first parameter of ``shapes`` that ``parameters`` lacks or holds in another shape."""
    for name, shape in shapes.items():
        if name not in parameters:
            raise ValueError(f"parameter {name} is missing")
        actual = np.shape(parameters[name])
        if actual != shape:
            raise ValueError(f"parameter {name} has shape {actual}, expected {shape}")
