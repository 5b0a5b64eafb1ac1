"""The likely cause of a wrong gradient of the L-layer model, its building blocks, and the regularisation exercise.

The exercise's rule (:func:`gradharness.mutation.causes.ranked_causes`: closed-form fits block by block, and
mutants of the reference that change only blocks the user got wrong, and those exactly as the user's), with these
references and their operator tables (:mod:`gradharness.mutation.operators_deep`,
:mod:`gradharness.mutation.operators_regularised`), each mutant's functions built over one copy of its module's
globals (:func:`gradharness.mutation.reference_tasks.variant_functions`: a mutant of ``relu_backward`` is also what
``linear_activation_backward`` and ``L_model_backward`` call). Each failing property's case is called as its
check called the user's code, from the record alone (the user's code is not run again):

- ``MODEL_AGREES`` (a DeepCase): the reference ``L_model_forward``'s AL and caches, then ``L_model_backward``;
  blocks dW1 ... dbL and dA0 ... dA(L-1), the dA of the summed loss (m times the cost's), as the course's;
- a building block's property (a BlockCase): the block's backward on the drawn upstream gradient and the course's
  cache; blocks dA_prev, dW, db, or dZ;
- ``L2_AGREES`` (a RegularisationCase): the reference ``forward_propagation``'s cache, then
  ``backward_propagation_with_regularization`` with the case's lambd;
- ``DROPOUT_AGREES`` (a DropoutCase): the cache of the course's forward with the masks it draws after the case's
  seed or after the notebook's own ``np.random.seed(1)``, whichever gives the blocks the user got right, then
  ``backward_propagation_with_dropout`` with the case's keep_prob.

A mutant's line names the user's: the statement of the user's function of that name (else of the whole file) that
assigns the mutated line's variable, the same one of them as in the reference when both assign it as often (the
``current_cache = caches[l]`` inside the loop, not the one before it), else the one most like the mutated line.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from gradharness.model import deep
from gradharness.model import regularised as regularised_model
from gradharness.model.deep_blocks import block_cache
from gradharness.model.deep_case import BlockCase, DeepCase
from gradharness.model.keys import matching_key
from gradharness.model.parameters import Gradients
from gradharness.model.regularised_case import DropoutCase, RegularisationCase
from gradharness.mutation.causes import (
    Assignment,
    Explainer,
    Observation,
    UserLines,
    _agrees,
    assignments_in,
    one_line,
    ranked_causes,
)
from gradharness.mutation.mutants import Mutant, generate_mutants
from gradharness.mutation.reference_tasks import ReferenceVariant, variant_functions
from gradharness.mutation.references import REFERENCES, Reference, select_operators_of
from gradharness.records.check import FailureRecord, LikelyCause
from gradharness.records.status import FailureKind
from gradharness.targets.deep.properties import BLOCK_PROPERTY, DeepProperty
from gradharness.targets.regularisation.dropout import COURSE_SEED, course_cache, course_masks
from gradharness.targets.regularisation.properties import RegularisationProperty

MODEL, BLOCK, L2, DROPOUT = "model", "block", "L2", "dropout"

L2_BACKWARD = "backward_propagation_with_regularization"
DROPOUT_BACKWARD = "backward_propagation_with_dropout"

PARTS: dict[str, str] = {
    DeepProperty.MODEL_AGREES.name: MODEL,
    **{prop.name: BLOCK for prop in BLOCK_PROPERTY.values()},
    RegularisationProperty.L2_AGREES.name: L2,
    RegularisationProperty.DROPOUT_AGREES.name: DROPOUT,
}
"""The properties whose wrong gradients are explained, and the part of a reference each one's case calls."""

REFERENCE_OF = {MODEL: "deep", BLOCK: "deep", L2: "regularised", DROPOUT: "regularised"}
"""The reference (:data:`gradharness.mutation.references.REFERENCES`) whose mutants may make each part's mistakes."""

_CASES: dict[str, Callable[[dict], Any]] = {
    MODEL: DeepCase.from_json,
    BLOCK: BlockCase.from_json,
    L2: RegularisationCase.from_json,
    DROPOUT: DropoutCase.from_json,
}


class CalledCase(Protocol):
    """A failing case as its check called the user's code, for :func:`gradients_on`: the gradient blocks it compared,
    in order, each one's shape, and what given functions (a reference's, a mutant's) return on it."""

    @property
    def blocks(self) -> tuple[str, ...]:
        """The gradient blocks the check compared, in order."""
        ...

    def shape(self, block: str) -> tuple[int, ...] | None:
        """The shape of a gradient block (None for no block of the case)."""
        ...

    def returned(self, functions: Mapping[str, Callable]) -> object:
        """What the checked function of ``functions`` returns on the case, called as the check called the user's."""
        ...


@dataclass(frozen=True)
class Example:
    """A case of one part as its check called the user's code, the gradient blocks it compared, in order, and for
    dropout the seed numpy's generator had when the forward drew its masks."""

    part: str
    case: Any  # DeepCase, BlockCase, RegularisationCase or DropoutCase
    blocks: tuple[str, ...]
    seed: int | None = None

    @property
    def m(self) -> int:
        """The case's batch size."""
        return int(self.case.m)

    def shape(self, block: str) -> tuple[int, ...] | None:
        """The shape of a gradient block: its array's (dW1 of W1, dA_prev of A_prev, dA2 of A2); None for no block
        of the case."""
        name = block[1:]
        if self.part == BLOCK:
            return tuple(np.shape(self.case.arrays[name])) if name in self.case.arrays else None
        if name in self.case.parameters:
            return tuple(np.shape(self.case.parameters[name]))
        layer = name[1:]
        if name.startswith("A") and layer.isdigit() and int(layer) < self.case.sizes.L:
            return (self.case.sizes.dims[int(layer)], self.m)
        return None

    def returned(self, functions: Mapping[str, Callable]) -> object:
        """What the part's backward of ``functions`` returns on the example."""
        return _returned(functions, self)


def _returned(functions: Mapping[str, Callable], example: Example) -> object:
    """What the part's backward returns on the example, called as its check calls it (on copies of the case)."""
    case = example.case
    if example.part == MODEL:
        AL, caches = deep.L_model_forward(case.X.copy(), case.copy_parameters())
        return functions["L_model_backward"](AL, case.Y.copy(), caches)
    if example.part == BLOCK:
        fresh = BlockCase(case.function, case.copy_arrays(), case.activation)
        arguments: tuple[Any, ...] = (fresh.copy_arrays()[case.upstream], block_cache(fresh))
        if case.activation is not None:
            arguments += (case.activation,)
        returned = functions[case.function](*arguments)
        if len(case.inputs) == 1:
            return {"dZ": returned}
        return dict(zip(("dA_prev", "dW", "db"), returned, strict=True))
    if example.part == L2:
        _, cache = regularised_model.forward_propagation(case.X.copy(), case.copy_parameters())
        return functions[L2_BACKWARD](case.X.copy(), case.Y.copy(), cache, case.lambd)
    assert example.seed is not None
    return functions[DROPOUT_BACKWARD](case.X.copy(), case.Y.copy(), course_cache(case, example.seed), case.keep_prob)


def gradients_on(functions: Mapping[str, Callable], example: CalledCase) -> Gradients | None:
    """Every block of the example as ``functions`` give it, each with its shape (None when they fail on it)."""
    try:
        with np.errstate(all="ignore"):
            returned = example.returned(functions)
            if not isinstance(returned, Mapping):
                return None
            gradients = {}
            for name in example.blocks:
                key = matching_key(returned, name)
                if key is None:
                    return None
                gradients[name] = np.asarray(returned[key], dtype=np.float64)
    except Exception:  # a mutant may crash on a case, or return what is no array: it explains nothing there
        return None
    if any(gradients[name].shape != example.shape(name) for name in example.blocks):
        return None
    return gradients


@functools.cache
def _reference_functions(name: str) -> dict[str, Callable]:
    reference = REFERENCES[name]
    return variant_functions(reference, ReferenceVariant("reference", ()))


def true_gradients(example: Example) -> Gradients | None:
    """The example's gradients by the reference."""
    return gradients_on(_reference_functions(REFERENCE_OF[example.part]), example)


_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While, ast.If, ast.With, ast.Try)


def _statement_at(text: str, line: int) -> str:
    """The simple statement of ``text`` at ``line``, on one line (the whole of one spread over several lines; a
    loop's or a condition's head alone)."""
    lines = text.split("\n")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return lines[line - 1].strip()
    around = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt)
        and not isinstance(node, _COMPOUND)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    if not around:
        return lines[line - 1].strip()
    inner = min(around, key=lambda node: (node.end_lineno or node.lineno) - node.lineno)
    return one_line(ast.get_source_segment(text, inner) or lines[line - 1])


def _statements(assignments: Sequence[Assignment], function: str | None, name: str) -> list[Assignment]:
    """The statements of ``function`` (any, when None) that assign ``name`` (either letter case), one per statement."""
    found: dict[int, Assignment] = {}
    for assignment in assignments:
        if assignment.name.lower() == name.lower() and (function is None or assignment.function == function):
            found.setdefault(assignment.line, assignment)
    return [found[line] for line in sorted(found)]


@dataclass(frozen=True)
class DeepMutant:
    """A mutant of one function of a reference, as a likely cause: what it is (:class:`MutantCause`), which of its
    function's statements assigning ``variable`` it changes (``ordinal`` of ``assigning``), and its gradients."""

    reference: Reference
    function: str
    mutant: Mutant
    summary: str
    as_if: str
    original: str  # the reference's statement before the mutation
    variable: str | None
    ordinal: int | None
    assigning: int
    reaches: frozenset[str] | None = None  # unknown: tried on every failure of its part

    @property
    def operator(self) -> str:
        """The operator that made the mutant."""
        return self.mutant.operator

    @property
    def line(self) -> int:
        """The line of the reference the mutant changes."""
        return self.mutant.line

    @functools.cached_property
    def functions(self) -> dict[str, Callable]:
        """The target's functions with this mutant's, built on first use."""
        mutant = self.mutant
        variant = ReferenceVariant(mutant.id, (), self.function, mutant.function_source, mutant.function_line)
        return variant_functions(self.reference, variant)

    def gradients(self, case: CalledCase) -> Gradients | None:
        """The mutant's gradients on the example."""
        return gradients_on(self.functions, case)


@functools.cache
def deep_mutants(name: str) -> tuple[DeepMutant, ...]:
    """Every mutant of the reference ``name``'s backward functions by its operator table, once per process."""
    reference = REFERENCES[name]
    source = reference.source()
    assignments = assignments_in(source, ast.parse(source))
    operators = select_operators_of(reference, None)
    summaries = {operator.name: operator.summary for operator in operators}
    found = []
    for function in reference.functions:
        for mutant in generate_mutants(source, function, reference.label, operators, diffs=False):
            statement = next(
                (a for a in assignments if a.function == function and a.line <= mutant.line <= a.end_line), None
            )
            variable = statement.name if statement is not None else None
            same = _statements(assignments, function, variable) if variable is not None else []
            ordinal = next((i for i, a in enumerate(same) if statement is not None and a.line == statement.line), None)
            as_if = _statement_at(mutant.function_source, mutant.line - mutant.function_line + 1)
            original = _statement_at(source, mutant.line)
            found.append(
                DeepMutant(
                    reference, function, mutant, summaries[mutant.operator], as_if, original, variable, ordinal,
                    len(same),
                )
            )  # fmt: skip
    return tuple(found)


EXPLAINER = Explainer(
    true=true_gradients,
    blocks=lambda example: example.blocks,
    mutants=lambda example: deep_mutants(REFERENCE_OF[example.part]),
)
"""The rule's view of the deep target's and the regularisation exercise's references."""


def _user_gradients(
    grad: Sequence[float], blocks: Sequence[str], shapes: Sequence[Sequence[int] | None], example: CalledCase
) -> Gradients | None:
    """The user's blocks from a recorded flat gradient (in the order of ``blocks``, each of its recorded shape when
    there is one), when they fit the example's case."""
    vector = np.asarray(grad, dtype=np.float64).reshape(-1)
    fitted = []
    for name, recorded in zip(blocks, shapes, strict=True):
        shape = example.shape(name)
        if shape is None or (recorded is not None and tuple(recorded) != shape):
            return None
        fitted.append(shape)
    sizes = [int(np.prod(shape)) for shape in fitted]
    if sum(sizes) != vector.size or vector.size == 0:
        return None
    pieces = np.split(vector, np.cumsum(sizes)[:-1])
    return {name: piece.reshape(shape) for name, piece, shape in zip(blocks, pieces, fitted, strict=True)}


def _masks_seed(example: Example, user: Gradients, wrong: set[str], threshold: float) -> int | None:
    """The seed after which the course's forward draws the masks that give the blocks the user got right (the
    first candidate when every block is wrong); None when no candidate's do."""
    for seed, _ in course_masks(example.case):
        true = true_gradients(dataclasses.replace(example, seed=seed))
        if true is not None and all(_agrees(user[n], true[n], threshold) for n in example.blocks if n not in wrong):
            return seed
    return None


def _like(first: Example, case: Any) -> Example:
    """Another case of the first one's part, with its own blocks in the check's order (another depth has others),
    and for dropout the masks of the same rule: after the case's seed, or after the notebook's own."""
    blocks = first.blocks
    if first.part == MODEL:
        blocks = (*(f"d{name}" for name in case.parameters), *(f"dA{layer}" for layer in range(case.sizes.L)))
    seed = first.seed
    if first.part == DROPOUT:
        seed = case.seed if first.seed == first.case.seed else COURSE_SEED
    return Example(first.part, case, blocks, seed)


def _observations(failure: FailureRecord, part: str, wrong: set[str], threshold: float) -> list[Observation]:
    """The failing case, then each other case the record has the user's gradients of (``observed``, each flat in
    its case's block order); none when the failing case's gradients do not fit it."""
    check = failure.gradient_check
    assert check is not None and failure.case is not None
    parse = _CASES[part]
    first = Example(part, parse(failure.case), tuple(block.name for block in check.blocks))
    user = _user_gradients(check.grad, first.blocks, [block.shape for block in check.blocks], first)
    if user is None:
        return []
    if part == DROPOUT:
        seed = _masks_seed(first, user, wrong, threshold)
        if seed is None:
            return []  # masks the course would not draw: nothing to call the reference with
        first = dataclasses.replace(first, seed=seed)
    observations = [Observation(first, user)]
    for seen in failure.observed:
        if seen.case == failure.case:
            continue
        try:
            other = _like(first, parse(seen.case))
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        gradients = _user_gradients(seen.gradients, other.blocks, [None] * len(other.blocks), other)
        if gradients is not None:
            observations.append(Observation(other, gradients))
    return observations


def _user_line(mutant: DeepMutant, user: UserLines) -> Assignment | None:
    """The user's statement the mutant's changed one stands for (see the module's docstring)."""
    if mutant.variable is None:
        return None
    own = _statements(user.assignments, mutant.function, mutant.variable)
    if own and mutant.ordinal is not None and len(own) == mutant.assigning:
        return own[mutant.ordinal]
    candidates = own or _statements(user.assignments, None, mutant.variable)
    if not candidates:
        return None
    return max(candidates, key=lambda a: difflib.SequenceMatcher(None, a.text, mutant.as_if).ratio())


def _likeness(mutant: DeepMutant, user: UserLines) -> float:
    """How much more the user's statement of the mutant's looks like the mutated one than like the reference's
    (0 when the file has none): the mistake may be written in the file as the mutant makes it."""
    found = _user_line(mutant, user)
    if found is None:
        return 0.0
    like = difflib.SequenceMatcher(None, found.text, mutant.as_if).ratio()
    return like - difflib.SequenceMatcher(None, found.text, mutant.original).ratio()


def most_like_first(mutants: Sequence[DeepMutant], user: UserLines) -> tuple[DeepMutant, ...]:
    """The mutants, those most like the user's file first: of the mutants that explain the same blocks on as many
    cases, the first speaks for them (on a 1-1-1 network ``caches[l - 1]`` and a ReLU mask on dA can give the same
    numbers; the file's own line tells which it wrote)."""
    if not user.assignments:
        return tuple(mutants)
    return tuple(sorted(mutants, key=lambda mutant: -_likeness(mutant, user)))


def _explainer(part: str, user: UserLines) -> Explainer:
    """The rule's view of the part's reference, its mutants most like the user's file first."""
    mutants = most_like_first(deep_mutants(REFERENCE_OF[part]), user)
    return dataclasses.replace(EXPLAINER, mutants=lambda example: mutants)


def located(cause: LikelyCause, mutants: Sequence[DeepMutant], user: UserLines) -> LikelyCause:
    """The cause with the user's line of its mutant (one of ``mutants``), when the file has one."""
    if cause.operator is None or user.source is None:
        return cause
    mutant = next((m for m in mutants if m.operator == cause.operator and m.as_if == cause.as_if), None)
    found = _user_line(mutant, user) if mutant is not None else None
    if found is None:
        return cause
    line, where = user.place(found.line)
    return dataclasses.replace(cause, line=line, where=where)


def explain_deep_failure(failure: FailureRecord, user: UserLines) -> FailureRecord:
    """``failure`` with its likely causes, when it is a wrong gradient of a part whose reference has operators."""
    part = PARTS.get(failure.property)
    check = failure.gradient_check
    if part is None or failure.kind is not FailureKind.WRONG or check is None or failure.case is None:
        return failure
    wrong = {block.name for block in check.blocks if block.verdict.value == "wrong"}
    try:
        observations = _observations(failure, part, wrong, check.threshold)
    except (AttributeError, KeyError, TypeError, ValueError):
        return failure  # a case this gradharness cannot read
    if not observations:
        return failure
    wrong_blocks = [block.name for block in check.blocks if block.name in wrong]
    causes = ranked_causes(_explainer(part, user), observations, wrong_blocks, check.threshold)
    mutants = deep_mutants(REFERENCE_OF[part])
    return dataclasses.replace(failure, likely_causes=[located(cause, mutants, user) for cause in causes])
