"""Every settings dataclass: what decides a check, a run, a campaign, and which functions are checked.

Plain frozen data, shared by every stage; nothing here computes. The defaults that more than
one stage needs (the threshold, the step handed to a user's checker) are defined once, here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_THRESHOLD = 1e-7
"""The exercise's threshold on the relative difference."""

SEED_EPSILON = 1e-7
"""The exercise's centred-difference step."""

USER_CHECKER_EPSILON = 1e-6
"""Step handed to a user's ``gradient_check_n`` unless one is given: the exercise's 1e-7 sits in round-off."""

DEFAULT_TIMEOUT = 120.0
"""Wall-clock seconds a check of one file may take."""


@dataclass(frozen=True)
class CheckOptions:
    """Numerical settings of the checker."""

    epsilon: float | None = None
    threshold: float = DEFAULT_THRESHOLD
    reference: bool = True
    """Compare the forward pass's cost with the network's (off: code that changes the network on purpose)."""


@dataclass(frozen=True)
class StrategyOptions:
    """Which networks to draw: fixed sizes (None = free), bounds, adversarial draws."""

    n0: int | None = None
    n1: int | None = None
    n2: int | None = None
    n3: int | None = None
    max_units: int = 6
    max_output_units: int | None = None
    min_batch: int = 1
    max_batch: int = 8
    batch_size: int | None = None
    adversarial: bool = False
    min_layers: int = 2  # the deep target's depth L (weight layers), drawn from min_layers to max_layers
    max_layers: int = 5


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides a run, so a seed reproduces it."""

    seed: int
    max_examples: int = 100
    check: CheckOptions = field(default_factory=CheckOptions)
    strategy: StrategyOptions = field(default_factory=StrategyOptions)
    target: str | None = None
    """The one target to check (``--target``); None: every target the file implements."""


@dataclass(frozen=True)
class FunctionNames:
    """Names of the functions under test (the exercise's by default)."""

    forward_n: str = "forward_propagation_n"
    backward_n: str = "backward_propagation_n"
    forward_1d: str = "forward_propagation"
    backward_1d: str = "backward_propagation"
    checker_n: str = "gradient_check_n"
    signatures: tuple[tuple[str, str], ...] = ()
    """Layers the ``signature`` target checks: (name, gufunc signature) pairs, from ``--signature NAME=SIG`` and
    the file's own ``GRADHARNESS_SIGNATURES``; each looks for ``NAME_forward`` and ``NAME_backward`` (a scalar
    output: ``NAME`` returning ``(loss, grads)`` too)."""


@dataclass(frozen=True)
class CampaignSettings:
    """Everything that decides a mutation campaign, so a seed repeats it."""

    seed: int
    max_examples: int = 100
    check: CheckOptions = field(default_factory=CheckOptions)
    strategy: StrategyOptions = field(default_factory=StrategyOptions)
    jobs: int | None = None
    timeout: float = 30.0
    shrink: bool = False
    operators: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain-data form for results files."""
        return {
            "seed": self.seed,
            "max_examples": self.max_examples,
            "epsilon": self.check.epsilon,
            "threshold": self.check.threshold,
            "jobs": self.jobs,
            "timeout": self.timeout,
            "shrink": self.shrink,
            "operators": list(self.operators) if self.operators is not None else None,
            "strategy": asdict(self.strategy),
        }


ISOLATION_LEVELS = ("namespace", "process", "none")
"""From strongest to weakest: bubblewrap's namespaces, a limited process, in-process (trusted code only)."""

DEFAULT_MEMORY_MB = 2048
"""Address-space limit of an evaluator process."""


@dataclass(frozen=True)
class IsolationSettings:
    """How the code under test is jailed: the level (None: the strongest available) and its limits."""

    level: str | None = None
    memory_mb: int = DEFAULT_MEMORY_MB
    helpers: str | None = None
    """A folder of trusted helper modules (``--helpers``) every evaluator may import."""
