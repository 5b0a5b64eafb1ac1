"""The numerical side of a gradient check: centred differences, their round-off, and their error at need.

The numerical gradient depends only on the forward pass, so :func:`numerical_gradient`
computes it once for every backward pass checked on a case; :func:`numerical_side` is
what one check compares backprop against, with the large blocks first screened by
random directional probes when that is cheaper than one perturbation per entry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from gradharness.check.error_model import CostFormula, cost_roundoff
from gradharness.check.finite_diff import ForwardN, check_epsilon, cost_of, epsilon_vector, gradapprox_loop
from gradharness.check.layout import BlockLayout
from gradharness.check.perturbed import UNIT_ROUNDOFF, BasePass, base_pass, perturbed_passes
from gradharness.check.screening import SCREEN_MIN_ENTRIES, BlockScreen, screen_blocks
from gradharness.check.step_error import EntryErrors, step_error
from gradharness.model import network
from gradharness.model.parameters import PARAMETER_NAMES, LayerSizes, Parameters

METHODS = ("auto", "batched", "loop")


def resolve_method(forward: Callable | None, method: str) -> tuple[str, ForwardN]:
    """The method ("batched" or "loop") for ``method`` (also "auto"), and the forward pass it evaluates."""
    builtin = forward is None or forward is network.forward_propagation_n
    if method == "auto":
        method = "batched" if builtin else "loop"
    if method not in METHODS[1:]:
        raise ValueError(f"method={method!r}; valid methods are {', '.join(map(repr, METHODS))}")
    if method == "batched" and not builtin:
        raise ValueError("method='batched' evaluates the built-in network; a custom forward needs method='loop'")
    return method, network.forward_propagation_n if forward is None else forward


def method_roundoff(
    X: np.ndarray, Y: np.ndarray, parameters: Parameters, method: str, forward_n: ForwardN, base: BasePass
) -> float:
    """The error model's bound on the rounding error of J for the way ``method`` evaluates J."""
    with np.errstate(all="ignore"):
        if method == "batched":
            return cost_roundoff(X, Y, parameters, CostFormula.STABLE, base=base)
        roundoff = cost_roundoff(X, Y, parameters, CostFormula.SEED, base=base)
        # Copies: whatever the forward does to its inputs stays with them.
        J0 = cost_of(forward_n(X.copy(), Y.copy(), {k: np.array(v, dtype=np.float64) for k, v in parameters.items()}))
    # A forward whose cost is not finite here, where the reference's is (the cost property fails
    # such a forward on its first call), never makes every difference look like round-off.
    return max(roundoff, 8 * UNIT_ROUNDOFF * abs(J0)) if np.isfinite(J0) else roundoff


def centred_differences(
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    steps: np.ndarray,
    method: str,
    forward_n: ForwardN,
    *,
    blocks: Collection[str] | None = None,
    base: BasePass | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """gradapprox at ``steps`` (``blocks``: only those, the rest NaN) and the reference network's kink flags."""
    reference = perturbed_passes(X, Y, parameters, steps, blocks=blocks, base=base)
    if method == "batched":
        return reference.gradapprox, reference.kink
    indices = None if blocks is None else np.flatnonzero(~np.isnan(reference.gradapprox))
    with np.errstate(all="ignore"):
        return gradapprox_loop(forward_n, X, Y, parameters, steps, indices), reference.kink


class ErrorEstimate:
    """Per-entry numerical error of the centred differences, worked out only for the blocks that need it.

    Round-off of J over the step, plus how far the estimate moves when the step doubles
    (truncation, and any round-off the model misses). The round-off and the passes at
    twice the step cost extra forward passes, so each is computed on first need and kept.
    """

    def __init__(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        parameters: Parameters,
        steps: np.ndarray,
        gradapprox: np.ndarray,
        method: str,
        forward_n: ForwardN | None = None,
        base: BasePass | None = None,
        roundoff: float | None = None,
        doubled: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """``forward_n`` None: ``doubled`` (gradapprox and kink flags at twice the step) is complete, or batched."""
        self._X, self._Y, self._parameters, self._steps = X, Y, parameters, steps
        self._gradapprox, self._method, self._forward_n, self._base = gradapprox, method, forward_n, base
        self._roundoff = roundoff
        self._doubled = doubled

    def roundoff(self) -> float:
        """The bound on the rounding error of J."""
        if self._roundoff is None:
            base = base_pass(self._X, self._Y, self._parameters) if self._base is None else self._base
            forward_n = network.forward_propagation_n if self._forward_n is None else self._forward_n
            self._roundoff = method_roundoff(self._X, self._Y, self._parameters, self._method, forward_n, base)
        return self._roundoff

    def of(self, block: slice) -> np.ndarray:
        """The error estimate of each entry of ``block``."""
        doubled, kink = self._doubled_step(block)
        return step_error(self.roundoff(), self._steps[block], self._gradapprox[block], doubled[block], kink[block])

    def _doubled_step(self, block: slice) -> tuple[np.ndarray, np.ndarray]:
        """gradapprox and kink flags at twice the step, with at least ``block`` filled in."""
        twice = 2 * self._steps
        if self._doubled is None:
            passes = perturbed_passes(self._X, self._Y, self._parameters, twice, base=self._base)
            # a user's forward is called below, block by block, only where needed
            values = passes.gradapprox if self._method == "batched" else np.full(twice.size, np.nan)
            self._doubled = (values, passes.kink)
        values, kink = self._doubled
        if self._method == "loop" and self._forward_n is not None and np.isnan(values[block]).any():
            # A forward in another process answers all perturbations in one round trip: ask for every
            # block still missing at once (the round trip costs more than the extra forward calls).
            wanted = (
                np.flatnonzero(np.isnan(values)) if _batched(self._forward_n) else np.arange(block.start, block.stop)
            )
            with np.errstate(all="ignore"):
                looped = gradapprox_loop(self._forward_n, self._X, self._Y, self._parameters, twice, wanted)
            values[wanted] = looped[wanted]
        return values, kink


def _batched(forward_n: ForwardN) -> bool:
    """Whether the forward answers many perturbations in one round trip (``one_round_trip``, see judge/remote.py).

    Then a round trip costs more than the extra forward calls; a forward in this process is not asked for more.
    """
    return bool(getattr(forward_n, "one_round_trip", False))


@dataclass(frozen=True)
class NumericalGradient:
    """The numerical side of a check (it depends only on the forward pass), at eps and at 2 eps."""

    epsilon: float | None
    steps: np.ndarray
    method: str
    gradapprox: np.ndarray
    kink: np.ndarray
    roundoff: float
    doubled: np.ndarray
    doubled_kink: np.ndarray


def numerical_gradient(
    parameters: Parameters,
    X: np.ndarray,
    Y: np.ndarray,
    epsilon: float | None = None,
    *,
    forward: Callable | None = None,
    method: str = "auto",
) -> NumericalGradient:
    """Everything :func:`gradient_check_n` needs from the forward pass, computed once (pass it as ``numerical``)."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    LayerSizes.of(parameters)
    base = base_pass(X, Y, parameters)
    steps = epsilon_vector(base.theta(), epsilon, base.output_sensitivity())
    method, forward_n = resolve_method(forward, method)
    gradapprox, kink = centred_differences(X, Y, parameters, steps, method, forward_n, base=base)
    roundoff = method_roundoff(X, Y, parameters, method, forward_n, base)
    doubled = perturbed_passes(X, Y, parameters, 2 * steps, base=base)
    doubled_gradapprox = doubled.gradapprox
    if method == "loop":
        with np.errstate(all="ignore"):
            doubled_gradapprox = gradapprox_loop(forward_n, X, Y, parameters, 2 * steps)
    return NumericalGradient(epsilon, steps, method, gradapprox, kink, roundoff, doubled_gradapprox, doubled.kink)


class NumericalSide(NamedTuple):
    """What one check compares backprop against.

    ``gradapprox`` is NaN in the blocks the probes settled (``screened``, by block name W1 ... b3).
    """

    epsilon: float | None
    method: str
    gradapprox: np.ndarray
    kink: np.ndarray
    error: EntryErrors
    screened: Mapping[str, BlockScreen] = MappingProxyType({})


def numerical_side(
    parameters: Parameters,
    grad: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    layout: BlockLayout,
    *,
    epsilon: float | None,
    forward: Callable | None,
    method: str,
    numerical: NumericalGradient | None,
    screen: bool | None,
    probes: int,
    threshold: float,
) -> NumericalSide:
    """The numerical gradient for :func:`gradient_check_n`'s arguments: ``numerical`` if given, else computed.

    ``screen`` None screens when the forward is called once per perturbation ("loop").
    """
    if numerical is not None:
        return _precomputed_side(numerical, parameters, X, Y, layout)
    check_epsilon(epsilon)
    method, forward_n = resolve_method(forward, method)
    base = base_pass(X, Y, parameters)
    steps = epsilon_vector(base.theta(), epsilon, base.output_sensitivity())
    screened: dict[str, BlockScreen] = {}
    roundoff = None
    large = _screened_candidates(layout) if (method == "loop" if screen is None else screen) else []
    if large:
        roundoff = method_roundoff(X, Y, parameters, method, forward_n, base)
        outcomes = screen_blocks(
            parameters, grad, X, Y, base, roundoff, names=large, forward=forward_n if method == "loop" else None,
            epsilon=epsilon, threshold=threshold, probes=probes,
        )  # fmt: skip
        screened = {name: outcome for name, outcome in outcomes.items() if outcome.verdict is not None}
    rest = [name for name in PARAMETER_NAMES if name not in screened] if screened else None
    gradapprox, kink = centred_differences(X, Y, parameters, steps, method, forward_n, blocks=rest, base=base)
    error = ErrorEstimate(
        X, Y, parameters, steps, gradapprox, method, forward_n=forward_n, base=base, roundoff=roundoff
    )
    return NumericalSide(epsilon, method, gradapprox, kink, error, screened)


def _screened_candidates(layout: BlockLayout) -> list[str]:
    """The blocks large enough for the probes to be cheaper than one perturbation per entry."""
    return [name for name, s in zip(layout.names, layout.slices, strict=True) if s.stop - s.start > SCREEN_MIN_ENTRIES]


def _precomputed_side(
    numerical: NumericalGradient, parameters: Parameters, X: np.ndarray, Y: np.ndarray, layout: BlockLayout
) -> NumericalSide:
    if numerical.gradapprox.size != layout.total:
        raise ValueError(f"numerical gradient has {numerical.gradapprox.size} entries, parameters {layout.total}")
    error = ErrorEstimate(
        X, Y, parameters, numerical.steps, numerical.gradapprox, numerical.method,
        roundoff=numerical.roundoff, doubled=(numerical.doubled, numerical.doubled_kink),
    )  # fmt: skip
    return NumericalSide(numerical.epsilon, numerical.method, numerical.gradapprox, numerical.kink, error)
