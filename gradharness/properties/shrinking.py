"""A budget for Hypothesis's shrinking: a failing case stops shrinking once it is small.

Each shrink step of a failing check is a full check, and Hypothesis shrinks until no smaller
failing case turns up (up to 500 successful shrinks or five minutes). Once the network is small
the steps mostly simplify values (towards X = 0 and dead units), which makes the reported case
less informative, not more. Hypothesis has no public setting for this (its maintainers keep the
shrinker's limits internal: HypothesisWorks/hypothesis#3243 and #3400), but its engine reads two
module constants, which it documents as open to monkeypatching, while it runs:

- ``MAX_SHRINKS``: after every failing call, the engine stops (and reports the smallest failing
  case so far) once it has made that many successful shrinks;
- ``MAX_SHRINKING_SECONDS``: the engine stops shrinking that long after its shrink phase began.

:func:`shrink_budget` lowers both for the Hypothesis runs inside it and restores them after. A
property test calls :meth:`ShrinkControl.failing` just before it raises, saying whether its
failing case is small: the engine then stops at the first small failing case once it has made
``small_shrinks`` successful shrinks, and after ``shrinks`` whatever the case. Both count
Hypothesis's own successful shrinks, so the reported case depends only on the seed; the drawing
of cases is untouched (successful shrinks while drawing, a drawn failing case smaller than the
one before, are rare, a handful in a run). The seconds are a safety net for a pathological
shrink, which would otherwise run into the check's time limit and lose its verdict. Where the
engine or either name is missing (another Hypothesis), the budget does nothing and Hypothesis
shrinks as it always does. The constants are process-wide: not for Hypothesis runs in threads.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

_ENGINE = "hypothesis.internal.conjecture.engine"
_SHRINKS, _SECONDS = "MAX_SHRINKS", "MAX_SHRINKING_SECONDS"
_LIMITS = (_SHRINKS, _SECONDS)


@dataclass(frozen=True)
class ShrinkBudget:
    """How much shrinking a failure gets.

    - ``shrinks``: successful shrinks at most (Hypothesis's own limit, 500: a case that is not yet
      small keeps shrinking, or a bug that shows only on larger networks is reported on one).
    - ``small_shrinks``: successful shrinks after which a small failing case ends the shrinking.
    - ``seconds``: wall-clock limit of the shrink phase (Hypothesis's is 300).
    - ``max_units``, ``max_batch``: a case is small when no layer has more units and m is no larger.
    """

    shrinks: int = 500
    small_shrinks: int = 20
    seconds: float = 30.0
    max_units: int = 3
    max_batch: int = 3

    def __post_init__(self) -> None:
        for name in ("shrinks", "small_shrinks", "max_units", "max_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a whole number >= 1")
        if self.small_shrinks > self.shrinks:
            raise ValueError(f"small_shrinks={self.small_shrinks} is larger than shrinks={self.shrinks}")
        if not self.seconds > 0:
            raise ValueError(f"seconds={self.seconds!r} must be a positive number of seconds")

    def is_small(self, sizes: tuple[int, ...], m: int) -> bool:
        """Whether a network of these layer sizes and ``m`` examples is small enough to stop at."""
        return max(sizes) <= self.max_units and m <= self.max_batch


DEFAULT_SHRINK_BUDGET = ShrinkBudget()


def hypothesis_engine() -> ModuleType | None:
    """Hypothesis's engine module, if it has both limits as numbers (None: the budget cannot apply)."""
    try:
        engine = importlib.import_module(_ENGINE)
    except ImportError:
        return None
    for name in _LIMITS:
        value = getattr(engine, name, None)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
    return engine


class ShrinkControl:
    """What a property test tells the budget about each failing case."""

    def __init__(self, budget: ShrinkBudget, engine: ModuleType | None, max_shrinks: int = 0) -> None:
        self.budget = budget
        self._engine = engine
        self._max_shrinks = max_shrinks  # the engine's own limit: never raised

    @property
    def active(self) -> bool:
        """Whether the budget reaches Hypothesis's engine."""
        return self._engine is not None

    def restart(self) -> None:
        """Before each Hypothesis run: the ``shrinks`` limit again, whatever the last failing case of the one before."""
        self.failing(small=False)

    def failing(self, small: bool) -> None:
        """Before a property test raises: a small failing case may end the shrinking, a larger one not yet."""
        if self._engine is not None:
            limit = self.budget.small_shrinks if small else self.budget.shrinks
            setattr(self._engine, _SHRINKS, min(self._max_shrinks, limit))


@contextmanager
def shrink_budget(budget: ShrinkBudget = DEFAULT_SHRINK_BUDGET) -> Iterator[ShrinkControl]:
    """Apply ``budget`` to the Hypothesis runs inside the block; the engine's limits are restored after."""
    engine = hypothesis_engine()
    if engine is None:
        yield ShrinkControl(budget, None)
        return
    saved = {name: getattr(engine, name) for name in _LIMITS}
    limits = {_SHRINKS: budget.shrinks, _SECONDS: budget.seconds}
    for name, limit in limits.items():
        setattr(engine, name, min(saved[name], limit))  # never more than the engine allowed already
    try:
        yield ShrinkControl(budget, engine, saved[_SHRINKS])
    finally:
        for name, value in saved.items():
            setattr(engine, name, value)
