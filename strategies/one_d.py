"""Hypothesis strategies for the 1-D model J = theta * x: points (x, theta) that exercise dJ/dtheta.

dJ/dtheta = x, so at x = 0 every backward that returns a multiple of x, or of anything that
vanishes there, "agrees". A drawn x is therefore never 0: its magnitude lies in
[:data:`MIN_INPUT`, :data:`POINT_BOUND`], and theta anywhere in [-POINT_BOUND, POINT_BOUND].
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

POINT_BOUND = 10.0
"""x and theta lie in [-POINT_BOUND, POINT_BOUND]."""
MIN_INPUT = 0.5
"""The smallest drawn |x|: far enough from 0 for dJ/dtheta = x to stand out of the round-off."""


def _signed(magnitude: float, negative: bool) -> float:
    return -magnitude if negative else magnitude


def inputs_1d() -> SearchStrategy[float]:
    """x with MIN_INPUT <= |x| <= POINT_BOUND; shrinks towards 1.0 (Hypothesis's simplest float there)."""
    magnitudes = st.floats(MIN_INPUT, POINT_BOUND, allow_nan=False, allow_subnormal=False)
    return st.builds(_signed, magnitudes, st.booleans())


def thetas() -> SearchStrategy[float]:
    """theta in [-POINT_BOUND, POINT_BOUND], no subnormals; shrinks towards 0.0."""
    return st.floats(-POINT_BOUND, POINT_BOUND, allow_nan=False, allow_subnormal=False)


def points_1d() -> SearchStrategy[tuple[float, float]]:
    """(x, theta) points of the 1-D model, every one with dJ/dtheta = x != 0.

    Example::

        @given(points_1d())
        def test_derivative(point):
            x, theta = point
            assert backward_propagation(x, theta) == x
    """
    return st.tuples(inputs_1d(), thetas())
