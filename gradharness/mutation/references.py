"""The targets' built-in references that ``gradharness mutate --target NAME`` mutates, as plain data.

A reference is a module of gradharness (the course's L-layer model for ``deep``), the backward functions
in it that mutants are made of, the operator table that makes them, and the planted bugs that prove the
harness. Here nothing is executed, only read: :mod:`gradharness.mutation.reference_tasks` loads the
variants in worker processes.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradharness.errors import GradHarnessError
from gradharness.mutation.operators import Operator
from gradharness.mutation.operators_deep import select_deep_operators
from gradharness.mutation.operators_layers import select_layers_operators
from gradharness.mutation.operators_regularised import select_regularised_operators
from gradharness.targets.registry import TARGETS


@dataclass(frozen=True)
class Planted:
    """The deliberately broken variant: the returned items (by position or key) of each of ``functions`` times
    their factors."""

    functions: tuple[str, ...]
    factors: tuple[tuple[int | str, float], ...]
    words: str  # what the bugs are, for the harness's message


@dataclass(frozen=True)
class Reference:
    """A target's reference to mutate: its module, the functions mutated, the table of operators, the planted bugs.

    The module defines some of the target's functions; the target's parts it implements are what judge a variant.
    """

    name: str  # how ``--reference`` names it (the module's own name)
    target: str  # the target's name in TARGETS, whose property tests judge every variant
    module: str  # the importable module the reference lives in
    functions: tuple[str, ...]  # the backward functions mutated (forward functions never are)
    operators: str  # the operator table's name
    planted: Planted
    mutmut_suite: str = "gradharness/mutation/mutmut_suite_reference.py"  # mutmut's test suite (--engine mutmut)

    @property
    def path(self) -> Path:
        """The module's file."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            raise GradHarnessError(f"the reference module {self.module} cannot be found")
        return Path(spec.origin)

    @property
    def label(self) -> str:
        """How the file is named in diffs and reports: ``gradharness/model/deep.py``."""
        return self.module.replace(".", "/") + ".py"

    def source(self) -> str:
        """The module's text."""
        return self.path.read_text(encoding="utf-8")

    def describe(self) -> dict[str, Any]:
        """Plain-data description for results files (``target`` names the target; the exercise's has none)."""
        return {"path": f"builtin:{self.label}", "sha256": None, "function": ", ".join(self.functions),
                "target": self.target, "reference": self.name}  # fmt: skip


@dataclass(frozen=True)
class ReferenceSet:
    """Several references of one target mutated in one campaign (``gradharness mutate --target layers``)."""

    references: tuple[Reference, ...]

    def describe(self) -> dict[str, Any]:
        """Reference.describe's fields over all of them: paths and names comma-separated, functions module-qualified."""
        return {
            "path": ", ".join(f"builtin:{r.label}" for r in self.references),
            "sha256": None,
            "function": ", ".join(f"{r.name}.{f}" for r in self.references for f in r.functions),
            "target": self.references[0].target,
            "reference": ", ".join(r.name for r in self.references),
        }


DEEP_REFERENCE = Reference(
    name="deep",
    target="deep",
    module="gradharness.model.deep",
    functions=(
        "L_model_backward",
        "linear_activation_backward",
        "linear_backward",
        "relu_backward",
        "sigmoid_backward",
    ),
    operators="deep",
    planted=Planted(("linear_backward",), ((1, 2.0), (2, 4.0)), "dW * 2 and db * 4 in linear_backward"),
)
"""The course's L-layer model and its building blocks (``gradharness mutate --target deep``)."""

REGULARISED_REFERENCE = Reference(
    name="regularised",
    target="regularisation",
    module="gradharness.model.regularised",
    functions=("backward_propagation_with_regularization", "backward_propagation_with_dropout"),
    operators="regularised",
    planted=Planted(
        ("backward_propagation_with_regularization", "backward_propagation_with_dropout"),
        (("dW2", 2.0), ("db1", 4.0)),
        "dW2 * 2 and db1 * 4 in both backward functions",
    ),
)
"""The regularisation exercise's L2 and dropout backward passes (``gradharness mutate --target regularisation``)."""

LAYERS_REFERENCE = Reference(
    name="layers",
    target="layers",
    module="gradharness.model.layers",
    functions=("affine_backward", "relu_backward", "affine_relu_backward", "svm_loss", "softmax_loss",
               "dropout_backward"),
    operators="layers",
    planted=Planted(("affine_backward",), ((2, 2.0),), "db * 2 in affine_backward"),
)  # fmt: skip
"""CS231n's fully connected layers, losses and dropout (``gradharness mutate --target layers``)."""

LAYERS_NORM_REFERENCE = Reference(
    name="layers_norm",
    target="layers",
    module="gradharness.model.layers_norm",
    functions=("batchnorm_backward", "batchnorm_backward_alt", "layernorm_backward", "spatial_batchnorm_backward",
               "spatial_groupnorm_backward"),
    operators="layers",
    planted=Planted(
        ("batchnorm_backward", "batchnorm_backward_alt", "layernorm_backward", "spatial_groupnorm_backward"),
        ((1, 2.0),),
        "dgamma * 2 in every normalisation's backward",
    ),
)  # fmt: skip
"""CS231n's normalisation layers (``gradharness mutate --target layers --reference layers_norm``)."""

LAYERS_CONV_REFERENCE = Reference(
    name="layers_conv",
    target="layers",
    module="gradharness.model.layers_conv",
    functions=("conv_backward_naive", "max_pool_backward_naive"),
    operators="layers",
    planted=Planted(("conv_backward_naive",), ((2, 2.0),), "db * 2 in conv_backward_naive"),
)
"""CS231n's naive convolution and max pooling (``gradharness mutate --target layers --reference layers_conv``)."""

REFERENCES: dict[str, Reference] = {
    reference.name: reference
    for reference in (
        DEEP_REFERENCE, REGULARISED_REFERENCE, LAYERS_REFERENCE, LAYERS_NORM_REFERENCE, LAYERS_CONV_REFERENCE
    )
}  # fmt: skip
"""The references ``--reference`` can name (the exercise's network is
:func:`~gradharness.mutation.target.reference_target`)."""


def references_of(target: str) -> list[Reference]:
    """The target's references, its default (the first) first."""
    return [reference for reference in REFERENCES.values() if reference.target == target]


def reference_of(target: str, name: str | None = None) -> Reference:
    """The reference ``name`` of ``target`` (None: the target's first); an unknown one lists the valid ones."""
    found = references_of(target)
    if not found:
        raise GradHarnessError(f"the target {target} has no reference to mutate")
    if name is None:
        return found[0]
    chosen = [reference for reference in found if reference.name == name]
    if not chosen:
        raise GradHarnessError(
            f"the target {target} has no reference {name}; its references are {', '.join(r.name for r in found)}"
        )
    return chosen[0]


def select_operators_of(reference: Reference, names: tuple[str, ...] | list[str] | None) -> list[Operator]:
    """The operators of the reference's table called ``names`` (all when None)."""
    if reference.operators == "deep":
        return select_deep_operators(names)
    if reference.operators == "regularised":
        return select_regularised_operators(names)
    if reference.operators == "layers":
        return select_layers_operators(names)
    raise GradHarnessError(f"no operator table {reference.operators}")


def defined_functions(reference: Reference, source: str | None = None) -> frozenset[str]:
    """The target's functions the reference's module defines (read from its source, not run)."""
    tree = ast.parse(source if source is not None else reference.source())
    top = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return frozenset(top & set(TARGETS[reference.target].spec.names))


def _calls(source: str) -> dict[str, set[str]]:
    """For every top-level function of the module, the module's functions it names."""
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    return {
        name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in functions and n.id != name}
        for name, node in functions.items()
    }


def reached_by(calls: dict[str, set[str]], start: str) -> set[str]:
    """``start`` and every function it calls, directly or through others."""
    seen, todo = {start}, [start]
    while todo:
        for callee in calls.get(todo.pop(), set()):
            if callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return seen


def _parts(reference: Reference, source: str | None, function: str | None) -> tuple[str, ...]:
    """The target's parts (those reaching ``function``, when one is named), the smallest programs first."""
    text = source if source is not None else reference.source()
    calls = _calls(text)
    reached = {
        part.name: set().union(*(reached_by(calls, name) for name in (*part.required, *part.optional)))
        for part in TARGETS[reference.target].spec.parts_in(defined_functions(reference, text))
    }
    kept = [name for name, functions in reached.items() if function is None or function in functions]
    return tuple(sorted(kept, key=lambda name: len(reached[name])))


def parts_reaching(reference: Reference, function: str, source: str | None = None) -> tuple[str, ...]:
    """The target's parts whose functions call ``function`` (or are it): the only ones a mutant of it can fail.

    The other parts run the reference's own code on the same drawn cases, so they pass as the reference does.
    The parts come smallest program first (the fewest functions reached): a variant's run stops at the first
    part that fails, so a mutant of a building block is mostly caught by the block's own test.
    """
    return _parts(reference, source, function)


def all_parts(reference: Reference, source: str | None = None) -> tuple[str, ...]:
    """Every part of the target the reference implements, smallest program first."""
    return _parts(reference, source, None)
