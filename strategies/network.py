"""Hypothesis strategies for the 3-layer network: sizes, batch sizes, X, Y and parameters.

The network is LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID with layer sizes
n0-n1-n2-n3 and m examples, as in :mod:`gradharness.model.network`. Default draws are
realistic, well-scaled networks whose reference cost is always finite and whose every gradient
block is exercised, with the masks' edge cases planted on purpose in a known share;
``adversarial=True`` draws stress cases (exact zeros, tiny and large values).

This module validates the arguments; :mod:`strategies._draws` draws the arrays (small ones as
one packed Hypothesis choice each, see :mod:`strategies._packing`, so default values are
multiples of 1e-4).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from gradharness.model.case import NetworkCase
from gradharness.model.parameters import LayerSizes, Parameters
from strategies._draws import INPUT_BOUND, case_layout, cases, float_array, label_array, parameter_set
from strategies._validation import (
    check_at_least,
    check_flag,
    check_instance,
    check_integer,
    check_optional_size,
    check_order,
)

__all__ = [
    "batch_sizes",
    "inputs",
    "labels",
    "layer_sizes",
    "network_cases",
    "parameters",
]


def _size(fixed: int | None, low: int, high: int) -> SearchStrategy[int]:
    """A fixed size, or a drawn one in [low, high]."""
    return st.just(fixed) if fixed is not None else st.integers(min_value=low, max_value=high)


def layer_sizes(
    *,
    min_units: int = 1,
    max_units: int = 6,
    n0: int | None = None,
    n1: int | None = None,
    n2: int | None = None,
    n3: int | None = None,
    max_output_units: int | None = None,
) -> SearchStrategy[LayerSizes]:
    """Layer sizes n0-n1-n2-n3, each drawn independently (the output layer included).

    - ``min_units=1``: smallest drawn size of every layer; at least 1.
    - ``max_units=6``: largest drawn size of n0, n1, n2 (and of n3 unless
      ``max_output_units`` is given); at least ``min_units``.
    - ``n0=None``, ``n1=None``, ``n2=None``, ``n3=None``: an integer fixes that
      size. A fixed size overrides the ``min_units``..``max_units`` range but
      must be at least 1.
    - ``max_output_units=None``: largest drawn n3; ``None`` means ``max_units``.
      At least ``min_units`` when n3 is drawn.

    Example::

        @given(layer_sizes(n0=4, max_units=3))
        def test_sizes(sizes): assert sizes.n0 == 4 and sizes.n1 <= 3

    Examples shrink towards ``min_units`` in every drawn layer: 1-1-1-1 by default.
    """
    low = check_at_least("min_units", min_units, 1)
    high = check_integer("max_units", max_units)
    check_order("min_units", low, "max_units", high)
    fixed = {name: check_optional_size(name, value) for name, value in (("n0", n0), ("n1", n1), ("n2", n2), ("n3", n3))}
    output_high = high
    if max_output_units is not None:
        output_high = check_at_least("max_output_units", max_output_units, 1)
        if fixed["n3"] is None:
            check_order("min_units", low, "max_output_units", output_high)
    return st.builds(
        LayerSizes,
        n0=_size(fixed["n0"], low, high),
        n1=_size(fixed["n1"], low, high),
        n2=_size(fixed["n2"], low, high),
        n3=_size(fixed["n3"], low, output_high),
    )


def batch_sizes(*, min_size: int = 1, max_size: int = 8) -> SearchStrategy[int]:
    """The batch size m (number of examples, the columns of X and Y).

    - ``min_size=1``: smallest m; at least 1, so m = 1 is reachable by default.
    - ``max_size=8``: largest m; at least ``min_size``.

    Example::

        @given(batch_sizes(max_size=3))
        def test_m(m): assert 1 <= m <= 3

    Examples shrink towards ``min_size``.
    """
    low = check_at_least("min_size", min_size, 1)
    high = check_integer("max_size", max_size)
    check_order("min_size", low, "max_size", high)
    return st.integers(min_value=low, max_value=high)


def inputs(n0: int, m: int, *, adversarial: bool = False) -> SearchStrategy[np.ndarray]:
    """Inputs X, a float64 array of shape (n0, m).

    - ``n0``: number of input units (rows); at least 1.
    - ``m``: number of examples (columns); at least 1.
    - ``adversarial=False``: by default finite floats in [-2, 2], no subnormals.
      With ``True`` the entries mix exact 0.0, +-1.0, +-1e-8, floats in [-2, 2]
      and floats in [-100, 100] (still finite, no subnormals).

    Example::

        @given(inputs(4, 3))
        def test_x(X): assert X.shape == (4, 3)

    Examples shrink towards all zeros.
    """
    rows = check_at_least("n0", n0, 1)
    cols = check_at_least("m", m, 1)
    adversarial = check_flag("adversarial", adversarial)
    return float_array((rows, cols), INPUT_BOUND, adversarial)


def labels(n3: int, m: int) -> SearchStrategy[np.ndarray]:
    """Labels Y, a float64 array of shape (n3, m) holding exactly 0.0 or 1.0.

    - ``n3``: number of output units (rows); at least 1.
    - ``m``: number of examples (columns); at least 1.

    Example::

        @given(labels(2, 5))
        def test_y(Y): assert set(Y.ravel()) <= {0.0, 1.0}

    Examples shrink towards all zeros.
    """
    rows = check_at_least("n3", n3, 1)
    cols = check_at_least("m", m, 1)
    return label_array((rows, cols))


def parameters(sizes: LayerSizes, *, adversarial: bool = False) -> SearchStrategy[Parameters]:
    """Parameters W1 (n1, n0), b1 (n1, 1), W2 (n2, n1), b2 (n2, 1), W3 (n3, n2), b3 (n3, 1).

    - ``sizes``: the :class:`~gradharness.model.parameters.LayerSizes` to draw for.
    - ``adversarial=False``: by default a realistic, well-scaled network: each
      weight lies in +-1.5/sqrt(fan_in) and any row whose absolute sum exceeds 2
      is scaled down to 2; biases lie in [-1, 1]. With inputs in [-2, 2] this
      bounds |Z1| <= 5, |Z2| <= 11 and |Z3| <= 23, so the reference cost
      (:func:`gradharness.model.network.forward_propagation_n`) is always finite and
      the sigmoid seldom saturates. No unit is cut off: a 0.0 on a weight
      matrix's wrapped diagonal, (i, i mod fan_in) and (j mod rows, j), reads as
      0.75/sqrt(fan_in) (see :mod:`strategies._liveness`). With ``True`` every entry mixes exact 0.0,
      +-1.0, +-1e-8, ordinary values and values up to +-100: ReLU kinks (Z = 0)
      and sigmoid outputs that round to exactly 0.0 or 1.0.

    Example::

        @given(parameters(LayerSizes(4, 5, 3, 1)))
        def test_w(p): assert p["W2"].shape == (3, 5)

    Examples shrink towards all-zero biases and weights that are zero off the wrapped diagonal
    (all-zero parameters with ``adversarial=True``).
    """
    check_instance("sizes", sizes, LayerSizes)
    adversarial = check_flag("adversarial", adversarial)
    return parameter_set(sizes, adversarial)


def network_cases(
    *,
    min_units: int = 1,
    max_units: int = 6,
    n0: int | None = None,
    n1: int | None = None,
    n2: int | None = None,
    n3: int | None = None,
    max_output_units: int | None = None,
    min_batch: int = 1,
    max_batch: int = 8,
    batch_size: int | None = None,
    adversarial: bool = False,
) -> SearchStrategy[NetworkCase]:
    """Whole test cases: sizes, then m, then X, Y and parameters of those sizes.

    - ``min_units=1``, ``max_units=6``, ``n0=None``, ``n1=None``, ``n2=None``,
      ``n3=None``, ``max_output_units=None``: the layer sizes, as in
      :func:`layer_sizes`.
    - ``min_batch=1``: smallest batch size m; at least 1.
    - ``max_batch=8``: largest batch size m; at least ``min_batch``.
    - ``batch_size=None``: an integer >= 1 fixes m (overriding the range).
    - ``adversarial=False``: stress draws for X and the parameters, as in
      :func:`inputs` and :func:`parameters`. Y is always exact 0/1.

    Default cases exercise every gradient block by construction (:mod:`strategies._liveness`):
    besides the live weights of :func:`parameters`, an example whose inputs are all 0.0 gets
    X[0, k] = 1.0, and a hidden unit that its drawn bias leaves off on every example gets the
    bias that turns it on (Z = 0.25) at its best example; such a bias may lie outside [-1, 1]
    (within 4.25 in layer 1, 10.25 in layer 2), Z1 <= 5, Z2 <= 11 and |Z3| <= 23 still hold.
    About 16% of drawn cases then get an edge case planted on purpose: one dead unit (off on
    every example, in a hidden layer of at least two units) or an exact zero in Z1 or Z2.

    Example::

        @given(network_cases(n3=1, max_batch=4))
        def test_gradients(case):
            cost, cache = forward_propagation_n(case.X, case.Y, case.parameters)

    Examples shrink towards the 1-1-1-1 network (``min_units`` everywhere) with
    m = ``min_batch``, Y = 0 and the smallest live values: X = 1.0 in its first row, weights
    0.75/sqrt(fan_in) on their wrapped diagonal, biases 0.0, no edge case. With ``adversarial=True``
    X and the parameters shrink to all zeros.
    """
    sizes = layer_sizes(
        min_units=min_units,
        max_units=max_units,
        n0=n0,
        n1=n1,
        n2=n2,
        n3=n3,
        max_output_units=max_output_units,
    )
    low = check_at_least("min_batch", min_batch, 1)
    high = check_integer("max_batch", max_batch)
    check_order("min_batch", low, "max_batch", high)
    fixed_m = check_optional_size("batch_size", batch_size)
    batches = st.just(fixed_m) if fixed_m is not None else batch_sizes(min_size=low, max_size=high)
    adversarial = check_flag("adversarial", adversarial)
    largest = (
        n0 if n0 is not None else max_units,
        n1 if n1 is not None else max_units,
        n2 if n2 is not None else max_units,
        n3 if n3 is not None else (max_output_units if max_output_units is not None else max_units),
        fixed_m if fixed_m is not None else high,
    )
    return cases(sizes, batches, adversarial, case_layout(largest, adversarial))
