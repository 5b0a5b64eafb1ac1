"""A target as the judge runs it: its functions' spec, and the property tests it makes for a file's functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial

import numpy as np

from gradharness.check.program import Call, Output, Varied, perturbed_results
from gradharness.properties.runner import PropertyTest
from gradharness.settings import RunSettings
from gradharness.targets.functions import TargetSpec

Programs = Callable[[Sequence[Call], Sequence[Varied], Output], list[tuple[np.ndarray, np.ndarray]]]
"""Runs a program of the target's functions at perturbed points (:func:`~gradharness.check.program.perturbed_results`),
in this process or in the evaluator, in one round trip."""


@dataclass(frozen=True)
class TargetFunctions:
    """A file's functions of one target as the judge calls them (the evaluator's stand-ins, or the functions
    themselves for trusted code), the parts they make up, and how programs of them run at perturbed points."""

    functions: Mapping[str, Callable]
    parts: tuple[str, ...]
    programs: Programs

    def call(self, name: str, *arguments: object, seed: int | None = None) -> object:
        """The function ``name`` on ``arguments``; with ``seed``, numpy's global random generator is seeded with it
        just before the call, where the function runs (the evaluator, for a file's function)."""
        function = self.functions[name]
        if seed is None:
            return function(*arguments)
        seeded = getattr(function, "seeded", None)
        if callable(seeded):
            return seeded(seed)(*arguments)
        np.random.seed(seed)
        return function(*arguments)

    @classmethod
    def in_process(cls, functions: Mapping[str, Callable], parts: Sequence[str]) -> TargetFunctions:
        """Functions of this process (trusted code: the built-in reference, ``--isolation none``)."""
        return cls(dict(functions), tuple(parts), partial(perturbed_results, dict(functions)))


@dataclass(frozen=True)
class Target:
    """What is being checked: the functions looked for (``spec``), the property tests for a file's functions
    (``tests``: one per part it implements, each with its strategy, the calls, the reference and the properties),
    and the mutation operators' table that names its likely causes (``operators``, read by ``mutation/``)."""

    spec: TargetSpec
    tests: Callable[[TargetFunctions, RunSettings], list[PropertyTest]] | None
    """None for the exercise, whose network, 1-D model and own checker ``judge.checks.judge`` runs."""
    properties: type[Enum]
    """What the target asserts: each member's name is the property's, its value the description."""
    rubric: Mapping[str, float]
    """The default points of its properties, by property name (10 in all for a file with every part)."""
    operators: str | None = None

    @property
    def name(self) -> str:
        """The target's name (``deep``)."""
        return self.spec.name
