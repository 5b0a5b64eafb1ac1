"""Generated test cases of the regularisation exercise's 3-layer network: with an L2 ``lambd``, or with dropout.

A case is the L-layer model's :class:`~gradharness.model.deep_case.DeepCase` at L = 3 (sizes n0-n1-n2-n3, X, Y
and W1, b1, ..., b3) with the exercise's own argument: ``lambd`` for L2 regularisation, ``keep_prob`` and the
``seed`` of numpy's global generator (which draws the masks) for dropout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gradharness.model.deep_case import DeepCase
from gradharness.model.deep_sizes import DeepSizes

LAYERS = 3
"""The exercise's network has three weight layers."""
SEEDS = 2**32
"""numpy's global generator takes seeds 0 .. SEEDS - 1."""


def _check_layers(case: DeepCase) -> None:
    if case.sizes.L != LAYERS:
        raise ValueError(f"sizes {case.sizes} have L={case.sizes.L} layers; the exercise's network has {LAYERS}")


def _network(data: dict) -> dict:
    """The arguments of the network's part of a case, from its plain-data form."""
    return {
        "sizes": DeepSizes(tuple(data["sizes"])),
        "X": np.array(data["X"], dtype=np.float64),
        "Y": np.array(data["Y"], dtype=np.float64),
        "parameters": {name: np.array(value, dtype=np.float64) for name, value in data["parameters"].items()},
    }


@dataclass(frozen=True)
class RegularisationCase(DeepCase):
    """A 3-layer case and the L2 regularisation's ``lambd`` (a finite number >= 0)."""

    lambd: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_layers(self)
        lambd = self.lambd
        if isinstance(lambd, bool) or not isinstance(lambd, (int, float)) or not (math.isfinite(lambd) and lambd >= 0):
            raise ValueError(f"lambd={lambd!r} must be a finite number >= 0")
        object.__setattr__(self, "lambd", float(lambd))

    def describe(self) -> str:
        """Short description such as ``sizes 4-5-3-1, m=2, lambd=0.7``."""
        return f"sizes {self.sizes}, m={self.m}, lambd={self.lambd:g}"

    def to_json(self) -> dict:
        """Plain-data form (lists) for results files."""
        return {**super().to_json(), "lambd": self.lambd}

    @classmethod
    def from_json(cls, data: dict) -> RegularisationCase:
        """Inverse of :meth:`to_json`."""
        return cls(**_network(data), lambd=float(data["lambd"]))


@dataclass(frozen=True)
class DropoutCase(DeepCase):
    """A 3-layer case, dropout's ``keep_prob`` (in (0, 1]) and the ``seed`` numpy's global generator gets just
    before every call of the forward (the masks it draws)."""

    keep_prob: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_layers(self)
        keep = self.keep_prob
        if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not (0 < keep <= 1):
            raise ValueError(f"keep_prob={keep!r} must be a number in (0, 1]")
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < SEEDS:
            raise ValueError(f"seed={seed!r} must be a whole number in 0..{SEEDS - 1}")
        object.__setattr__(self, "keep_prob", float(keep))
        object.__setattr__(self, "seed", int(seed))

    def describe(self) -> str:
        """Short description such as ``sizes 4-5-3-1, m=2, keep_prob=0.8, seed 12``."""
        return f"sizes {self.sizes}, m={self.m}, keep_prob={self.keep_prob:g}, seed {self.seed}"

    def to_json(self) -> dict:
        """Plain-data form (lists) for results files."""
        return {**super().to_json(), "keep_prob": self.keep_prob, "seed": self.seed}

    @classmethod
    def from_json(cls, data: dict) -> DropoutCase:
        """Inverse of :meth:`to_json`."""
        return cls(**_network(data), keep_prob=float(data["keep_prob"]), seed=int(data["seed"]))
