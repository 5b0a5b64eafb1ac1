"""The project's exceptions. The CLI catches GradHarnessError, prints its message, exits 2."""

from __future__ import annotations


class GradHarnessError(Exception):
    """A problem that stops gradharness from checking at all (not a finding about the code)."""


class UserCodeError(GradHarnessError):
    """The user's file cannot be loaded or used: missing, syntax error, no functions, import error."""


class UserCodeTimeout(GradHarnessError):
    """The user's code did not finish within the wall-clock limit."""


class ResultsFormatError(GradHarnessError):
    """A results file is not one this version can read."""


class Interrupt(BaseException):
    """Raised by gradharness itself into running user code (a time limit): never the code's own finding."""


def raised_by_user_code(exc: BaseException) -> bool:
    """Whether ``exc``, raised while user code ran, is the code's own doing and so a finding.

    Any exception of the user's counts, ``BaseException`` subclasses of its own included; what the
    interpreter, the user at the keyboard, Hypothesis or gradharness raise to stop a run does not.
    """
    from hypothesis.errors import StopTest

    return not isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, Interrupt, StopTest))
