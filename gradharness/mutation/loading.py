"""Worker side: turn a Target, a mutated function's source and a CheckerSpec into callables.

Runs only in worker processes: a user's module executes here. Each module is loaded
once per worker and its globals reused; a mutant only re-defines one function.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import types
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from gradharness.check.checker import GradientCheckResult
from gradharness.check.verdict import Verdict
from gradharness.errors import UserCodeError
from gradharness.model import network
from gradharness.model.network import scale_blocks
from gradharness.mutation.target import CheckerSpec, Target
from gradharness.properties.student_checker import rejects, student_difference
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


def scaled(backward: Callable, factors: Mapping[str, float]) -> Callable:
    """``backward`` with each returned gradient named in ``factors`` (e.g. "dW2", either case) times its factor.

    ``scaled(backward, SEED_BUGS)`` plants the exercise's bugs on top of any backward pass.
    """

    def wrong_by_factors(X: np.ndarray, Y: np.ndarray, cache: object) -> object:
        return scale_blocks(backward(X, Y, cache), factors)

    return wrong_by_factors


class UserChecker:
    """A user's ``gradient_check_n(parameters, gradients, X, Y, epsilon)`` in the built-in checker's place.

    Called and judged as in ``gradharness check`` (:func:`~gradharness.properties.student_checker.student_difference`,
    :func:`~gradharness.properties.student_checker.rejects`). Whatever it raises (also for a return
    that is no number) is kept in ``crash``, then raised.
    """

    def __init__(self, function: Callable, epsilon: float) -> None:
        self.function = function
        self.epsilon = epsilon
        self.crash: BaseException | None = None
        self.last: GradientCheckResult | None = None

    def __call__(self, parameters, gradients, X, Y, epsilon=None, *, threshold: float, forward=None):
        try:
            difference = student_difference(self.function, parameters, gradients, X, Y, self.epsilon)
        except Exception as exc:  # their checker's crash is recorded, then reported as such
            self.crash = exc
            raise
        wrong = rejects(difference, threshold)
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
