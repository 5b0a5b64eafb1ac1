"""Hypothesis strategies for the regularisation exercise's 3-layer network, with L2 regularisation or with dropout.

The network is the course's L-layer model at L = 3 (LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID, sizes
n0-n1-n2-n3), drawn by :func:`strategies.deep.deep_cases`: informative by construction (live inputs, weights and
hidden units, every ReLU input clear of its kink but for a few planted exact zeros, a sigmoid that does not
saturate), with one output unit unless ``output_size`` asks for more (the notebook's network has one).

A regularisation case adds ``lambd``; a dropout case ``keep_prob`` and the ``seed`` numpy's global generator gets
just before every call of the forward. A dropout case is then made informative for the masks that seed draws
(:func:`gradharness.model.regularised_passes.dropout_masks`): the seed moves on (seed + 1, ...) until each hidden
layer keeps a unit where it is on, and the second and third layers, whose inputs the masks change, are repaired
again as :mod:`strategies._deep_draws` repairs them (|Z| bounded, every hidden unit on at one example at least and
every hidden |Z| clear of the kink). ``lambd``, ``keep_prob`` and the seed come from packed bytes, which Hypothesis
draws about uniformly (its integers lean hard on their bounds).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gradharness.model.deep_case import DeepCase
from gradharness.model.regularised_case import LAYERS, SEEDS, DropoutCase, RegularisationCase
from gradharness.model.regularised_passes import dropout_masks
from strategies._deep_draws import HIDDEN_BOUND, OUTPUT_BOUND, _bounded, clear_biases
from strategies._validation import check_at_least, check_optional_size
from strategies.deep import deep_cases

__all__ = ["dropout_cases", "regularisation_cases"]

ZERO_LAMBDA_SHARE = 0.05
"""The top share of lambd's bytes that gives lambd = 0.0 (no regularisation: the plain network's gradients), a few
percent of the cases (Hypothesis draws all-zero bytes, which make the smallest lambd, in about a third of them)."""
FULL_KEEP_SHARE = 0.15
"""The top share of keep_prob's bytes that keeps every unit (keep_prob = 1.0: masks of ones), a few percent of the
cases."""
SMALLEST_LAMBDA = 0.01
"""The smallest non-zero lambd drawn; lambd and keep_prob are multiples of 0.01."""
SEED_TRIES = 64
"""How many seeds from the drawn one on are tried for masks that keep a live unit in each hidden layer."""

_FRACTION_BYTES = 2
_SEED_BYTES = 4
_LARGEST = 256**_FRACTION_BYTES - 1


def _check_positive(name: str, value: object, *, at_most: float | None = None) -> float:
    """A finite number > 0 (and <= ``at_most``), as a float; booleans and non-numbers are rejected."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidArgument(f"{name} must be a finite number, got {value!r}")
    if value <= 0:
        raise InvalidArgument(f"{name}={value!r} must be larger than 0")
    if at_most is not None and value > at_most:
        raise InvalidArgument(f"{name}={value!r} must be at most {at_most}")
    return float(value)


def _fraction(raw: bytes) -> float:
    """The packed bytes as a fraction in [0, 1]; 0 for the all-zero bytes shrinking ends at."""
    return int.from_bytes(raw, "big") / _LARGEST


def _hundredths(value: float) -> float:
    return round(value * 100) / 100


def _lambd_of(raw: bytes, largest: float) -> float:
    """lambd from packed bytes: a multiple of 0.01 in 0.01..largest, rising with the bytes, but 0.0 for the top
    ZERO_LAMBDA_SHARE of them (Hypothesis draws all-zero bytes often: they make the smallest lambd)."""
    u = _fraction(raw)
    if u > 1 - ZERO_LAMBDA_SHARE:
        return 0.0
    span = u / (1 - ZERO_LAMBDA_SHARE)
    return min(largest, max(SMALLEST_LAMBDA, _hundredths(SMALLEST_LAMBDA + span * (largest - SMALLEST_LAMBDA))))


def _keep_prob_of(raw: bytes, lowest: float) -> float:
    """keep_prob from packed bytes: a multiple of 0.01 from lowest (the all-zero bytes) up to 0.99, but 1.0 for the
    top FULL_KEEP_SHARE of them."""
    u = _fraction(raw)
    highest = max(lowest, 0.99)
    if u > 1 - FULL_KEEP_SHARE or lowest == 1.0:
        return 1.0
    span = u / (1 - FULL_KEEP_SHARE)
    return min(highest, max(lowest, _hundredths(lowest + span * (highest - lowest))))


def _networks(max_units: object, output_size: object, batch_size: object, max_batch: object):
    units = check_at_least("max_units", max_units, 1)
    outputs = check_optional_size("output_size", output_size)
    fixed_m = check_optional_size("batch_size", batch_size)
    most = check_at_least("max_batch", max_batch, 1)
    return deep_cases(
        min_layers=LAYERS, max_layers=LAYERS, max_units=units, output_size=outputs, batch_size=fixed_m, max_batch=most
    )


def regularisation_cases(
    *,
    max_units: int = 6,
    output_size: int | None = 1,
    batch_size: int | None = None,
    max_batch: int = 8,
    max_lambd: float = 5.0,
) -> SearchStrategy[RegularisationCase]:
    """3-layer cases with an L2 regularisation strength ``lambd``.

    - ``max_units=6``: every input and hidden size is drawn in 1..max_units; at least 1.
    - ``output_size=1``: the units of the output layer; None draws them in 1..3 (at most ``max_units``).
    - ``batch_size=None``: an integer >= 1 fixes m; by default m is drawn in 1..max_batch (m = 1 included).
    - ``max_batch=8``: the largest drawn m; at least 1.
    - ``max_lambd=5.0``: lambd is a multiple of 0.01 in 0.01..max_lambd (0.0 in a few percent of the cases);
      a finite number > 0.

    Example::

        @given(regularisation_cases(max_units=3))
        def test_cost(case):
            A3, cache = forward_propagation(case.X, case.parameters)
            compute_cost_with_regularization(A3, case.Y, case.parameters, case.lambd)

    Examples shrink towards the smallest live network of :func:`strategies.deep.deep_cases` (sizes 1-1-1-1,
    m = 1) and lambd = 0.01.
    """
    largest = _check_positive("max_lambd", max_lambd)
    if largest < SMALLEST_LAMBDA:
        raise InvalidArgument(f"max_lambd={max_lambd!r} must be at least {SMALLEST_LAMBDA}")
    networks = _networks(max_units, output_size, batch_size, max_batch)
    lambds = st.binary(min_size=_FRACTION_BYTES, max_size=_FRACTION_BYTES).map(lambda raw: _lambd_of(raw, largest))
    return st.builds(_regularised, networks, lambds)


def _regularised(case: DeepCase, lambd: float) -> RegularisationCase:
    return RegularisationCase(case.sizes, case.X, case.Y, case.parameters, lambd=lambd)


def dropout_cases(
    *,
    max_units: int = 6,
    output_size: int | None = 1,
    batch_size: int | None = None,
    max_batch: int = 8,
    min_keep_prob: float = 0.5,
) -> SearchStrategy[DropoutCase]:
    """3-layer cases with dropout: ``keep_prob`` and the seed of numpy's global generator (the masks).

    - ``max_units=6``, ``output_size=1``, ``batch_size=None``, ``max_batch=8``: the network, as in
      :func:`regularisation_cases`.
    - ``min_keep_prob=0.5`` (the course's default keep_prob): keep_prob is a multiple of 0.01 in
      min_keep_prob..1 (1.0, no unit dropped, in a few percent of the cases); a number in (0, 1].

    The seed is drawn in 0..2**32 - 1, then moved on until the masks keep a live unit in each hidden layer, and
    the layers after the first repaired for the masks (see the module's docstring).

    Example::

        @given(dropout_cases(max_units=3))
        def test_masks(case):
            np.random.seed(case.seed)
            A3, cache = forward_propagation_with_dropout(case.X, case.parameters, case.keep_prob)

    Examples shrink towards the smallest live network, keep_prob = ``min_keep_prob`` and seed 0 (or the first
    seed after it whose masks keep a live unit).
    """
    lowest = _check_positive("min_keep_prob", min_keep_prob, at_most=1.0)
    networks = _networks(max_units, output_size, batch_size, max_batch)
    keep_probs = st.binary(min_size=_FRACTION_BYTES, max_size=_FRACTION_BYTES).map(
        lambda raw: _keep_prob_of(raw, lowest)
    )
    seeds = st.binary(min_size=_SEED_BYTES, max_size=_SEED_BYTES).map(lambda raw: int.from_bytes(raw, "big"))
    return st.builds(_masked_case, networks, keep_probs, seeds)


def _masked_case(case: DeepCase, keep_prob: float, seed: int) -> DropoutCase:
    """The case made informative for the masks of ``seed`` or of the first seed after it that keeps a live unit in
    each hidden layer (the last one tried when none does)."""
    best = None
    n1, n2 = case.sizes.dims[1], case.sizes.dims[2]
    for tried in range(SEED_TRIES):
        candidate = (seed + tried) % SEEDS
        parameters, live = _repaired(case, dropout_masks(candidate, keep_prob, n1, n2, case.m), keep_prob)
        best = (candidate, parameters)
        if live:
            break
    assert best is not None
    return DropoutCase(case.sizes, case.X, case.Y, best[1], keep_prob=keep_prob, seed=best[0])


def _repaired(case: DeepCase, masks: tuple[np.ndarray, np.ndarray], keep_prob: float):
    """The parameters with layers 2 and 3 repaired for the masks, and whether each hidden layer keeps a unit on."""
    D1, D2 = masks
    parameters = dict(case.parameters)
    if D1.all() and D2.all():
        return parameters, True  # the deep case's own repairs hold
    Z1 = np.dot(parameters["W1"], case.X) + parameters["b1"]
    A1 = np.maximum(0, Z1) * D1 / keep_prob
    W2, b2 = _bounded(parameters["W2"], parameters["b2"], np.dot(parameters["W2"], A1) + parameters["b2"], HIDDEN_BOUND)
    b2 = clear_biases(np.dot(W2, A1), b2)
    Z2 = np.dot(W2, A1) + b2
    A2 = np.maximum(0, Z2) * D2 / keep_prob
    W3, b3 = _bounded(parameters["W3"], parameters["b3"], np.dot(parameters["W3"], A2) + parameters["b3"], OUTPUT_BOUND)
    parameters.update(W2=W2, b2=b2, W3=W3, b3=b3)
    live = bool(np.any(D1 & (Z1 > 0)) and np.any(D2 & (Z2 > 0)))
    return parameters, live
