"""A program of calls run at perturbed copies of one argument: the numerical side of a target's functions.

The same loop runs in the judge (functions in this process) and in the evaluator (a file's functions, asked for in
one round trip), so a numerical gradient is computed one way. A program is a few calls in order; an argument of a
call may be an earlier call's output (``Output``), e.g. ``compute_cost(L_model_forward(X, parameters)[0], Y)``, or
the first call's argument as moved (``Argument``), e.g. the parameters in
``compute_cost_with_regularization(forward_propagation(X, parameters)[0], Y, parameters, lambd)``. Where the first
call's other arguments follow from the moved one by a computation done elsewhere (a reference forward the file does
not have), the judge gives their values at every perturbed point (``Alongside``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Output:
    """An earlier call's output (``item`` of the tuple it returned; None for the whole value)."""

    call: int
    item: int | None = None


@dataclass(frozen=True)
class Call:
    """One call of a program: a function by name and its arguments (values, or ``Output`` of an earlier call).

    ``seed``: numpy's global random generator is seeded with it just before the call, so that code drawing from
    it (the dropout exercise's masks) draws the same numbers at every perturbed point (None: left as it is).
    """

    function: str
    arguments: tuple[Any, ...]
    seed: int | None = None


@dataclass(frozen=True)
class Argument:
    """The program's first call's argument at ``position``, as moved at each perturbed point (for a later call that
    takes it too: both calls see the same moved array)."""

    position: int


@dataclass(frozen=True)
class Alongside:
    """An argument of the program's first call that takes given values where a group's entries move.

    ``plus[k]`` and ``minus[k]``: its value when the k-th entry moves by +step and by -step (stacked along the
    leading axis), e.g. a reference forward's output at those parameters, for a file that has no forward.
    """

    argument: int
    plus: np.ndarray
    minus: np.ndarray


@dataclass(frozen=True)
class Varied:
    """Which entries of which argument of the program's first call are moved, each by its step, both ways.

    ``argument``: the argument's position; ``key``: the array at that key of a dict argument (None: the argument).
    ``indices``: flat indices into that array; ``steps``: one step each. ``alongside``: other arguments of the
    first call that take given values at each of these points.
    """

    argument: int
    key: str | None
    indices: np.ndarray
    steps: np.ndarray
    alongside: tuple[Alongside, ...] = ()


def copied(value: Any) -> Any:
    """A copy of every array in ``value`` (arrays in dicts, lists and tuples too); anything else as it is."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) in (list, tuple):
        return type(value)(copied(v) for v in value)
    if type(value) is dict:
        return {k: copied(v) for k, v in value.items()}
    return value


def arrays_in(value: Any, depth: int = 0) -> list[np.ndarray]:
    """Every array in ``value``: nested lists, tuples and dicts, a few levels deep (a value from a user's function
    may nest without end)."""
    if isinstance(value, np.ndarray):
        return [value]
    if depth > 8:
        return []
    if type(value) in (list, tuple):
        return [a for item in value for a in arrays_in(item, depth + 1)]
    if type(value) is dict:
        return [a for item in value.values() for a in arrays_in(item, depth + 1)]
    return []


def run_program(functions: Mapping[str, Callable], program: Sequence[Call]) -> list[Any]:
    """Every call's output, in order; each call gets fresh copies of its arrays."""
    outputs: list[Any] = []
    for call in program:
        arguments = [_resolved(a, outputs, program[0].arguments) for a in copied(list(call.arguments))]
        if call.seed is not None:
            np.random.seed(call.seed)
        outputs.append(functions[call.function](*arguments))
    return outputs


def perturbed_results(
    functions: Mapping[str, Callable], program: Sequence[Call], groups: Sequence[Varied], result: Output
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The program's ``result`` at each perturbation of each group, (plus, minus) stacked as float64 arrays.

    A result that is not real numbers is NaN (what the base call returned is judged on its own).
    """
    first, rest = program[0], list(program[1:])
    out = []
    for group in groups:
        sides: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        for k, (index, step) in enumerate(zip(group.indices.tolist(), group.steps.tolist(), strict=True)):
            for side, sign in zip(sides, (1.0, -1.0), strict=True):
                arguments = list(first.arguments)
                _move(arguments, group.argument, group.key, int(index), sign * float(step))
                for other in group.alongside:
                    arguments[other.argument] = (other.plus if sign > 0 else other.minus)[k]
                outputs = run_program(functions, [Call(first.function, tuple(arguments), first.seed), *rest])
                side.append(_real(_item(outputs[result.call], result.item)))
        out.append((_stacked(sides[0]), _stacked(sides[1])))
    return out


def _resolved(argument: Any, outputs: list[Any], first: Sequence[Any]) -> Any:
    if isinstance(argument, Argument):
        return copied(first[argument.position])
    return _item(outputs[argument.call], argument.item) if isinstance(argument, Output) else argument


def _item(value: Any, item: int | None) -> Any:
    return value if item is None else value[item]


def _move(arguments: list[Any], argument: int, key: str | None, index: int, delta: float) -> None:
    """Move one entry of an argument (or of a dict argument's array at ``key``) by ``delta``, on a float64 copy."""
    if key is None:
        holder: Any = arguments
        slot: Any = argument
    else:
        holder = dict(arguments[argument])  # the caller's dict is left as it was
        arguments[argument] = holder
        slot = key
    array = np.array(holder[slot], dtype=np.float64, copy=True)
    array.reshape(-1)[index] += delta
    holder[slot] = array


def _real(value: Any) -> np.ndarray:
    try:
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return array.astype(np.float64)
    except (TypeError, ValueError):
        pass
    return np.array(np.nan)


def _stacked(values: list[np.ndarray]) -> np.ndarray:
    """The results of one side, stacked (NaN in place of one whose shape is not the first's)."""
    if not values:
        return np.zeros(0)
    shape = values[0].shape
    return np.stack([v if v.shape == shape else np.full(shape, np.nan) for v in values])
