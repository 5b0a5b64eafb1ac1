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
