"""The project's exceptions. The CLI catches GradHarnessError, prints its message, exits 2."""

from __future__ import annotations


class GradHarnessError(Exception):
    """A problem that stops gradharness from checking at all (not a finding about the code)."""


class UserCodeError(GradHarnessError):
    """The user's file cannot be loaded or used: missing, syntax error, no functions, import error."""


class ResultsFormatError(GradHarnessError):
    """A results file is not one this version can read."""


class Interrupt(BaseException):
    """Raised by gradharness itself into running user code (a time limit): never the code's own finding."""


class EvaluatorLost(Interrupt):
    """The evaluator process running the user's code ended, hung or broke the protocol: the file is not checked."""


class UserRaised(Exception):
    """An exception the user's code raised in the evaluator process, as the judge knows it: a name and a message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.message = message


def exception_name(exc: BaseException) -> str:
    """The name of the exception's type as the user's code raised it (also across the process boundary)."""
    return exc.type_name if isinstance(exc, UserRaised) else type(exc).__name__


def describe_exception(function: str, exc: BaseException) -> str:
    """One line: ``forward_propagation_n raised ValueError: shapes (3,4) and (5,1) not aligned``."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{function} raised {exception_name(exc)}" + (f": {text}" if text else "")


def raised_by_user_code(exc: BaseException) -> bool:
    """Whether ``exc``, raised while user code ran, is the code's own doing and so a finding.

    Any exception of the user's counts, ``BaseException`` subclasses of its own included; what the
    interpreter, the user at the keyboard, Hypothesis or gradharness raise to stop a run does not.
    """
    from hypothesis.errors import StopTest

    return not isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, Interrupt, StopTest))
