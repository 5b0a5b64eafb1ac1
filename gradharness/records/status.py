"""The statuses records carry: how a property failed, what became of a mutant. Enums, never bare strings."""

from __future__ import annotations

from enum import Enum


class MutantStatus(Enum):
    """The outcome of running the properties against one mutant."""

    KILLED = "killed"  # a property (the gradient check, a NaN, a side effect) found it wrong
    CRASHED = "crashed"  # it raised or returned malformed output: a kill, but not the checker's
    TIMED_OUT = "timed_out"  # it did not finish within the per-mutant time limit
    SURVIVED = "survived"  # every property held on every case
    EQUIVALENT = "equivalent"  # survived, and is believed to compute the same gradients (a candidate)

    @property
    def detected(self) -> bool:
        """Counted as a kill in the mutation score (a crash or a hang is noticed too)."""
        return self in (MutantStatus.KILLED, MutantStatus.CRASHED, MutantStatus.TIMED_OUT)


class KillKind(Enum):
    """How a detected mutant showed itself."""

    WRONG = "wrong"  # the checker: gradients disagree with the numerical gradient
    NONFINITE = "nonfinite"  # a NaN or inf gradient
    SIDE_EFFECT = "side_effect"  # modified X, Y or the parameters
    CRASHED = "crashed"  # raised an exception
    MALFORMED = "malformed"  # returned the wrong type, keys or shapes
    TIMEOUT = "timeout"  # exceeded the time limit
    WORKER_EXIT = "worker_exit"  # ended its worker process
    TEST_FAILED = "test_failed"  # mutmut: the property test failed (how is not recorded)


class FailureKind(Enum):
    """How a property failed."""

    WRONG = "wrong"  # a wrong value (the checker's finding)
    CRASHED = "crashed"  # the user's function raised
    MALFORMED = "malformed"  # returned something of the wrong type or shape
    NONFINITE = "nonfinite"  # returned NaN or inf where the math is finite
    SIDE_EFFECT = "side_effect"  # modified its inputs
