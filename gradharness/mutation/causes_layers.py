"""The likely cause of a wrong gradient of the ``layers`` target: CS231n's layers, each backward and each loss.

The exercise's rule (:func:`gradharness.mutation.causes.ranked_causes`: closed-form fits block by block, and
mutants of the reference that change only blocks the user got wrong, and those exactly as the user's), with the
layers' references (``layers``, ``layers_norm``, ``layers_conv`` of :data:`gradharness.mutation.references.REFERENCES`:
the one that defines the failing function) and their mutants by :mod:`gradharness.mutation.operators_layers`, each
built over one copy of its module's globals as :func:`gradharness.mutation.causes_deep.deep_mutants` builds them (a
mutant of ``relu_backward`` is also what ``affine_relu_backward`` calls). The failing case (a LayerCase) is called as
its check called the user's code, from the record alone: the reference module's forward on the case's arrays and
hyper-parameters, then the backward on the case's ``dout`` and that cache; a loss on ``x`` and ``y``, its dx.

Only the mutants of functions the failing function reaches are tried: in the reference, and when the file is read,
in the file too (a file's ``spatial_batchnorm_backward`` may call ``batchnorm_backward_alt`` where the reference's
calls the graph one; a mutant of a function the file's does not call is no mistake of the file's). Dropout's check
holds the backward to the file's own mask: the reference draws its mask after the case's seed, and a dropout failure
is explained only when the reference's gradient on that mask is the numerical gradient the check found.

A mutant's line names the user's as :func:`gradharness.mutation.causes_deep.located` names it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from gradharness.check.verdict import Verdict
from gradharness.model.layer_case import LayerCase
from gradharness.model.layer_table import BACKWARD_OF, Layer
from gradharness.model.parameters import Gradients
from gradharness.mutation.causes import Explainer, Observation, UserLines, _agrees, ranked_causes
from gradharness.mutation.causes_deep import (
    DeepMutant,
    _reference_functions,
    _user_gradients,
    deep_mutants,
    gradients_on,
    located,
    most_like_first,
)
from gradharness.mutation.references import REFERENCES, Reference, _calls, parts_reaching, reached_by, references_of
from gradharness.records.check import FailureRecord, GradientRecord
from gradharness.records.status import FailureKind


@dataclass(frozen=True)
class LayerExample:
    """A layer's failing case as its check called the user's code: the function checked (a backward, or a loss),
    the case, and the gradient blocks the check compared, in order (``dx``, ``dw``, ``db``)."""

    function: str
    case: LayerCase
    blocks: tuple[str, ...]

    @property
    def layer(self) -> Layer:
        """The layer the checked function belongs to."""
        return BACKWARD_OF[self.function]

    @property
    def m(self) -> int:
        """The case's batch size N (x's first axis): the m of the closed-form fits."""
        return int(np.shape(self.case.arrays["x"])[0])

    def shape(self, block: str) -> tuple[int, ...] | None:
        """The shape of a gradient block: its input's (dw of w); None for no block of the layer."""
        name = block[1:]
        return tuple(np.shape(self.case.arrays[name])) if name in self.layer.inputs else None

    def returned(self, functions: Mapping[str, Callable]) -> object:
        """The gradients ``functions`` give on the case, by name: the forward's cache, then the backward on dout (a
        loss: its dx), each call on fresh copies of the case's arrays."""
        layer = self.layer
        arguments = layer.arguments(self.case)
        if layer.loss:
            x, y = arguments
            _, dx = functions[self.function](x, np.asarray(y, dtype=np.int64))
            return {"dx": dx}
        state = np.random.get_state()  # dropout's forward seeds numpy's generator: the caller's draws are its own
        try:
            _, cache = functions[layer.forward](*arguments)
        finally:
            np.random.set_state(state)
        returned = functions[self.function](np.array(self.case.arrays["dout"], copy=True), cache)
        items = (returned,) if len(layer.gradients) == 1 else tuple(returned)
        return dict(zip(layer.gradients, items, strict=True))


def reference_defining(function: str) -> Reference | None:
    """The ``layers`` reference whose module defines (and mutates) ``function``."""
    return next((r for r in references_of("layers") if function in r.functions), None)


@functools.cache
def _reaching(reference: str, function: str) -> tuple[str, ...]:
    """The reference's parts whose functions call ``function`` (or are it)."""
    return parts_reaching(REFERENCES[reference], function)


def _called_by_file(function: str, user: UserLines) -> set[str] | None:
    """The functions the file's ``function`` calls, directly or through others, itself included (None when the
    file is not read)."""
    if user.source is None:
        return None
    try:
        return reached_by(_calls(user.source.text), function)
    except (SyntaxError, ValueError, RecursionError):
        return None


def layer_mutants(reference: Reference, function: str, user: UserLines) -> tuple[DeepMutant, ...]:
    """The reference's mutants that can make a mistake of the checked ``function`` in this file, those most like
    the file first: of functions ``function`` reaches in the reference, and in the file when it is read."""
    in_file = _called_by_file(function, user)
    mutants = [
        mutant
        for mutant in deep_mutants(reference.name)
        if function in _reaching(reference.name, mutant.function) and (in_file is None or mutant.function in in_file)
    ]
    return most_like_first(mutants, user)


_COMPARED = (Verdict.PASS, Verdict.WRONG)
"""The entries whose numerical gradient the check compared (not a kink's, a saturated or an imprecise one)."""


def _same_masks(example: LayerExample, true: Gradients, check: GradientRecord) -> bool:
    """Whether the reference's gradients are the check's numerical gradient on the entries it compared: for
    dropout, whether the reference drew the file's masks."""
    status = check.entry_status
    approx = check.gradapprox
    values = np.concatenate([true[name].reshape(-1) for name in example.blocks])
    if not (len(status) == len(approx) == values.size):
        return False
    compared = [i for i, (v, a) in enumerate(zip(status, approx, strict=True)) if a is not None and v in _COMPARED]
    if not compared:
        return False
    return _agrees(values[compared], np.asarray([approx[i] for i in compared], dtype=np.float64), check.threshold)


def explain_layers_failure(failure: FailureRecord, user: UserLines) -> FailureRecord:
    """``failure`` with its likely causes, when it is a wrong gradient of a layer's backward (or loss) that a
    layers reference defines."""
    check = failure.gradient_check
    function = failure.property.lower()
    if failure.kind is not FailureKind.WRONG or check is None or failure.case is None or function not in BACKWARD_OF:
        return failure
    reference = reference_defining(function)
    if reference is None:
        return failure
    try:
        example = LayerExample(function, LayerCase.from_json(failure.case), tuple(block.name for block in check.blocks))
        user_gradients = _user_gradients(check.grad, example.blocks, [block.shape for block in check.blocks], example)
    except (AttributeError, KeyError, TypeError, ValueError):
        return failure  # a case this gradharness cannot read
    true = gradients_on(_reference_functions(reference.name), example)
    if user_gradients is None or true is None:
        return failure
    if example.layer.random and not _same_masks(example, true, check):
        return failure  # the file drew other masks than the reference's: nothing to call the reference with
    mutants = layer_mutants(reference, function, user)
    explainer = Explainer(
        true=functools.partial(gradients_on, _reference_functions(reference.name)),
        blocks=lambda seen: seen.blocks,
        mutants=lambda seen: mutants,
    )
    wrong = [block.name for block in check.blocks if block.verdict is Verdict.WRONG]
    causes = ranked_causes(explainer, [Observation(example, user_gradients)], wrong, check.threshold)
    return replace(failure, likely_causes=[located(cause, mutants, user) for cause in causes])
