"""Hypothesis strategies for the course's L-layer model and its building blocks.

The model is L-1 x [LINEAR->RELU] then LINEAR->SIGMOID with layer sizes n_0-n_1-...-n_L, as in
:mod:`gradharness.model.deep`. The course's own test cases have one or two layers, so the depth is
drawn too: a loop that hard-codes one layer's key passes them and fails here. Drawn cases are
informative by construction (:mod:`strategies._deep_draws`): live inputs, weights and hidden units,
every ReLU input clear of its kink but for a few planted exact zeros, and a finite cost whose sigmoid
does not saturate. This module validates the arguments.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gradharness.model.deep_case import BLOCK_ARRAYS, BlockCase, DeepCase
from gradharness.model.deep_sizes import DeepSizes
from strategies._deep_draws import batch_sizes, block_case_draws, deep_case_draws
from strategies._validation import check_at_least, check_integer, check_optional_size, check_order

__all__ = ["block_cases", "deep_cases", "deep_layer_sizes"]

DRAWN_OUTPUTS = 3
"""Without ``output_size``, the output layer has 1 to DRAWN_OUTPUTS units (at most ``max_units``)."""


def _checked_sizes(
    min_layers: object, max_layers: object, max_units: object, output_size: object
) -> tuple[int, int, int, int | None]:
    """The validated size arguments: min_layers, max_layers, max_units, output_size."""
    low = check_at_least("min_layers", min_layers, 1)
    high = check_integer("max_layers", max_layers)
    check_order("min_layers", low, "max_layers", high)
    units = check_at_least("max_units", max_units, 1)
    return low, high, units, check_optional_size("output_size", output_size)


def _sizes(low: int, high: int, units: int, outputs: SearchStrategy[int]) -> SearchStrategy[DeepSizes]:
    """n_0, the L - 1 hidden sizes as a list (which Hypothesis shrinks by deleting layers), then n_L."""
    size = st.integers(min_value=1, max_value=units)
    hidden = st.lists(size, min_size=low - 1, max_size=high - 1)
    return st.builds(lambda n0, between, nL: DeepSizes((n0, *between, nL)), size, hidden, outputs)


def deep_layer_sizes(
    *,
    min_layers: int = 2,
    max_layers: int = 5,
    max_units: int = 6,
    output_size: int | None = None,
) -> SearchStrategy[DeepSizes]:
    """Layer sizes n_0-n_1-...-n_L of an L-layer model, L (the weight layers) drawn too.

    - ``min_layers=2``: the smallest L; at least 1 (L = 1 is logistic regression, no ReLU layer).
    - ``max_layers=5``: the largest L; at least ``min_layers``.
    - ``max_units=6``: every input and hidden size is drawn in 1..max_units; at least 1.
    - ``output_size=None``: an integer >= 1 fixes n_L; by default it is drawn in 1..3 (at most ``max_units``).

    Example::

        @given(deep_layer_sizes(max_layers=3, output_size=1))
        def test_sizes(sizes): assert 2 <= sizes.L <= 3 and sizes.dims[-1] == 1

    Examples shrink towards L = ``min_layers`` and every size 1.
    """
    low, high, units, fixed = _checked_sizes(min_layers, max_layers, max_units, output_size)
    outputs = st.just(fixed) if fixed is not None else st.integers(min_value=1, max_value=min(DRAWN_OUTPUTS, units))
    return _sizes(low, high, units, outputs)


def deep_cases(
    *,
    min_layers: int = 2,
    max_layers: int = 5,
    max_units: int = 6,
    output_size: int | None = None,
    batch_size: int | None = None,
    max_batch: int = 8,
) -> SearchStrategy[DeepCase]:
    """Whole L-layer cases: sizes, then m, then X, Y and W1, b1, ..., WL, bL of those sizes.

    - ``min_layers=2``, ``max_layers=5``, ``max_units=6``, ``output_size=None``: the sizes, as in
      :func:`deep_layer_sizes`.
    - ``batch_size=None``: an integer >= 1 fixes m; by default m is drawn in 1..max_batch (m = 1 in
      about a fifth of the cases).
    - ``max_batch=8``: the largest drawn m; at least 1.

    Inputs lie in [-2, 2], weights in +-1.5/sqrt(fan_in) (rows capped at an absolute sum of 2) and
    biases in [-1, 1], then each case is repaired to be informative (:mod:`strategies._deep_draws`): no
    all-zero input column, every weight matrix non-zero on its wrapped diagonal, hidden |Z| <= 4 (up to
    8 after a bias repair) and |ZL| <= 8, every hidden unit on (Z > 0) at one example at least and every
    hidden |Z| above 1e-3, except in about 5% of cases one planted exact zero in a hidden Z.

    Example::

        @given(deep_cases(max_layers=3, output_size=1))
        def test_gradients(case):
            AL, caches = L_model_forward(case.X, case.parameters)

    Examples shrink towards the smallest live network: L = ``min_layers``, every size 1, m = 1, Y = 0,
    X = 1.0 in its first row, weights 0.75/sqrt(fan_in) on their wrapped diagonal, biases 0.0 except
    where a unit needs one to be live, no planted zero.
    """
    low, high, units, fixed = _checked_sizes(min_layers, max_layers, max_units, output_size)
    fixed_m = check_optional_size("batch_size", batch_size)
    most = check_at_least("max_batch", max_batch, 1)
    sizes = deep_layer_sizes(min_layers=low, max_layers=high, max_units=units, output_size=fixed)
    outputs = fixed if fixed is not None else min(DRAWN_OUTPUTS, units)
    largest = (units, high, outputs, fixed_m if fixed_m is not None else most)
    return deep_case_draws(sizes, batch_sizes(fixed_m, most), largest)


def block_cases(function: str, *, max_units: int = 6, max_batch: int = 8) -> SearchStrategy[BlockCase]:
    """One call of a building block: the arrays of its forward's inputs and a drawn upstream gradient.

    - ``function``: "linear_backward" (A_prev, W, b, dZ), "relu_backward" or "sigmoid_backward"
      (Z, dA), or "linear_activation_backward" (A_prev, W, b, dA, with the activation "relu" or
      "sigmoid" drawn).
    - ``max_units=6``: every size (units, units of the layer before) is drawn in 1..max_units; at least 1.
    - ``max_batch=8``: m is drawn in 1..max_batch (m = 1 in about a fifth of the cases); at least 1.

    The upstream gradient lies in [-1, 1] and is never 0.0 (a 0.0 reads as 1.0). A_prev and W are live
    as in :func:`deep_cases`; relu_backward's Z, and Z = W A_prev + b before a ReLU, are clear of the
    kink (|Z| > 1e-3) except for a planted exact zero in about 5% of cases; before a sigmoid |Z| <= 8.

    Example::

        @given(block_cases("linear_backward"))
        def test_linear_backward(case):
            dA_prev, dW, db = linear_backward(case.arrays["dZ"], (case.arrays["A_prev"], case.arrays["W"], case.arrays["b"]))

    Examples shrink towards 1x1 arrays, m = 1 and an upstream gradient of ones.
    """
    if not isinstance(function, str) or function not in BLOCK_ARRAYS:
        raise InvalidArgument(f"function={function!r}; building blocks are {', '.join(map(repr, BLOCK_ARRAYS))}")
    units = check_at_least("max_units", max_units, 1)
    most = check_at_least("max_batch", max_batch, 1)
    return block_case_draws(function, units, most)
