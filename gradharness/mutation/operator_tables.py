"""A target's own table of mutation operators: the decorator that fills it and the selection by name.

The exercise's table is :data:`gradharness.mutation.operators.OPERATORS`; each other reference's operators
(:mod:`gradharness.mutation.operators_deep`, :mod:`gradharness.mutation.operators_regularised`) sit in a table of
their own, filled and read the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from gradharness.errors import GradHarnessError
from gradharness.mutation.operators import Operator, OperatorFunction


def table_operator(
    table: dict[str, Operator], *, may_be_equivalent: bool = False
) -> Callable[[OperatorFunction], OperatorFunction]:
    """A decorator that adds the decorated function to ``table`` under its own name (its summary: the first line
    of its docstring)."""

    def wrap(function: OperatorFunction) -> OperatorFunction:
        summary = (function.__doc__ or "").strip().splitlines()[0]
        table[function.__name__] = Operator(function.__name__, function, summary, may_be_equivalent)
        return function

    return wrap


def select_from(table: dict[str, Operator], names: list[str] | tuple[str, ...] | None, scope: str) -> list[Operator]:
    """The operators of ``table`` called ``names`` (all when None); an unknown name lists the valid ones, those
    ``for {scope}`` (``--target deep``)."""
    if names is None:
        return list(table.values())
    unknown = [n for n in names if n not in table]
    if unknown:
        raise GradHarnessError(
            f"unknown mutation operator {', '.join(unknown)}; valid operators for {scope} are {', '.join(table)}"
        )
    return [table[n] for n in names]
