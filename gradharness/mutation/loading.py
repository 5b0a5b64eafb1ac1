"""Worker side: turn a Target, a mutated function's source and a CheckerSpec into callables.

Runs only in worker processes: a user's module executes here. Each module is loaded
once per worker and its globals reused; a mutant only re-defines one function.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import io
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gradharness.check.checker import GradientCheckResult
from gradharness.check.verdict import Verdict
from gradharness.errors import UserCodeError
from gradharness.model import network
from gradharness.mutation.target import CheckerSpec, Target
from gradharness.settings import FunctionNames
from gradharness.usercode.discover import find_functions
from gradharness.usercode.loader import load_module
from gradharness.usercode.source import read_source

_MODULES: dict[str, types.ModuleType] = {}


def _quiet_load(path: Path, source: str) -> types.ModuleType:
    key = hashlib.sha256((str(path) + "\0" + source).encode()).hexdigest()
    if key not in _MODULES:
        # A user's module may print at import (the exercise's own test calls); that is not our output.
        with contextlib.redirect_stdout(io.StringIO()):
            _MODULES[key] = load_module(path, source)
    return _MODULES[key]


def target_module(target: Target) -> types.ModuleType:
    """The target's module, unmutated (gradharness.model.network for the reference)."""
    if target.builtin:
        return network
    assert target.path is not None
    module = _quiet_load(Path(target.path), target.source)
    names = FunctionNames(forward_n=target.forward, backward_n=target.backward)
    found = find_functions(module, names)
    if found.network is None:
        raise UserCodeError(f"{Path(target.path).name} defines no {target.forward} and {target.backward}")
    return module


def forward_of(target: Target) -> Callable:
    """The target's forward pass (never mutated)."""
    return getattr(target_module(target), target.forward)


def compile_function(target: Target, function_source: str, function_line: int, name: str) -> Callable:
    """Define ``name`` from ``function_source`` (its ``def`` at ``function_line``) in a copy of the target's globals."""
    module = target_module(target)
    tree = ast.parse(function_source)
    ast.increment_lineno(tree, function_line - 1)  # tracebacks point at the file's lines
    namespace = dict(vars(module))
    exec(compile(tree, target.path or target.label, "exec"), namespace)
    return namespace[name]


def seed_bugs(backward: Callable) -> Callable:
    """``backward`` with the exercise's planted bugs on top: dW2 doubled, db1 four times too big."""

    def buggy(X: np.ndarray, Y: np.ndarray, cache: object) -> object:
        gradients = backward(X, Y, cache)
        changed = dict(gradients)
        for key in gradients:
            if str(key).lower() == "dw2":
                changed[key] = np.asarray(gradients[key]) * 2
            elif str(key).lower() == "db1":
                changed[key] = np.asarray(gradients[key]) * 4
        return changed

    return buggy


def scaled(backward: Callable, block: str, factor: float) -> Callable:
    """``backward`` with one returned gradient (``block``, e.g. "dW2", either case) multiplied by ``factor``."""

    def wrong_by_factor(X: np.ndarray, Y: np.ndarray, cache: object) -> object:
        gradients = backward(X, Y, cache)
        return {k: np.asarray(v) * factor if str(k).lower() == block.lower() else v for k, v in gradients.items()}

    return wrong_by_factor


def reference_buggy_source() -> tuple[str, int]:
    """Source and first line of the seed's buggy backward pass in gradharness/model/network.py."""
    lines, first = inspect.getsourcelines(network.backward_propagation_n_buggy)
    return "".join(lines), first


class UserChecker:
    """A user's ``gradient_check_n(parameters, gradients, X, Y, epsilon)`` in the built-in checker's place.

    Their function returns the exercise's ``difference``; the gradients are called wrong when
    it exceeds the threshold, exactly as the exercise's ``if difference > threshold`` does
    (so a NaN difference lets the gradients pass, as it would for them).
    """

    def __init__(self, function: Callable, epsilon: float) -> None:
        self.function = function
        self.epsilon = epsilon
        self.crash: BaseException | None = None
        self.last: GradientCheckResult | None = None
        parameters = list(inspect.signature(function).parameters.values())
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.takes_epsilon = len(positional) >= 5 or any(p.kind is p.VAR_POSITIONAL for p in parameters)

    def difference(self, parameters: dict, gradients: dict, X: np.ndarray, Y: np.ndarray) -> float:
        """What their checker says for these gradients (its stdout silenced)."""
        arguments = (parameters, gradients, X, Y) + ((self.epsilon,) if self.takes_epsilon else ())
        with contextlib.redirect_stdout(io.StringIO()):
            value = self.function(*arguments)
        if isinstance(value, (tuple, list)) and value:
            value = value[0]
        return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])

    def __call__(self, parameters, gradients, X, Y, epsilon=None, *, threshold: float, forward=None):
        try:
            difference = self.difference(parameters, gradients, X, Y)
        except Exception as exc:  # their checker's crash is recorded, then reported as such
            self.crash = exc
            raise
        wrong = difference > threshold
        verdict = Verdict.WRONG if wrong else Verdict.PASS
        self.last = GradientCheckResult(
            difference=difference,
            verdict=verdict,
            reason=f"the checker under test returned difference {difference:.3g} "
            f"({'>' if wrong else '<='} threshold {threshold:g})",
            epsilon=self.epsilon,
            threshold=threshold,
            method="user",
            blocks=(),
            worst_entries=(),
        )
        return self.last


def load_checker(spec: CheckerSpec) -> Callable:
    """The user's checker function (loaded once per worker)."""
    assert spec.path is not None
    path = Path(spec.path)
    module = _quiet_load(path, read_source(path))
    function = getattr(module, spec.function, None)
    if not callable(function):
        raise UserCodeError(f"{path.name} defines no function {spec.function} (the checker under test)")
    return function
