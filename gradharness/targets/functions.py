"""The functions each target looks for, as plain data: names, parameters, and what stays in the evaluator.

Read by the evaluator (to find and call a file's functions) and by the judge (to recognise which targets a file
implements, and to say what it looked for); nothing here imports numpy or Hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FunctionSpec:
    """One function a target calls: ``name(parameters...) -> returns``.

    ``hold``: the items of the returned tuple that stay in the evaluator (a cache: only a reference to it crosses
    to the judge, and comes back as an argument of the backward).
    """

    name: str
    parameters: tuple[str, ...]
    returns: str
    hold: tuple[int, ...] = ()

    def signature(self) -> str:
        """``name(a, b) -> returns``, as the README and messages show it."""
        return f"{self.name}({', '.join(self.parameters)}) -> {self.returns}"


@dataclass(frozen=True)
class Part:
    """Functions checked together: ``required`` must all be in the file; ``optional`` are used when they are.

    ``alone``: whether the part by itself makes a file implement the target (False for helpers other programs
    define too, such as a ``relu_backward``: checked when the file implements the target by another part).
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    alone: bool = True


@dataclass(frozen=True)
class TargetSpec:
    """A target's name, a line saying what it is, its functions and its parts."""

    name: str
    title: str
    functions: tuple[FunctionSpec, ...]
    parts: tuple[Part, ...] = field(default_factory=tuple)

    def function(self, name: str) -> FunctionSpec:
        """The spec of the function called ``name``."""
        return next(f for f in self.functions if f.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        """Every function name the target looks for."""
        return tuple(f.name for f in self.functions)

    def parts_in(self, defined: set[str] | frozenset[str]) -> list[Part]:
        """The parts whose required functions are all ``defined``, when one of them makes a file implement the
        target by itself (none otherwise)."""
        parts = [part for part in self.parts if set(part.required) <= defined]
        return parts if any(part.alone for part in parts) else []

    def looked_for(self) -> str:
        """What a file must define to implement this target, in words: ``A and B, C or D``."""
        parts = [" and ".join(part.required) for part in self.parts if part.alone]
        return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"
