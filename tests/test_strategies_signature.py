"""The signature strategies: sizes per named dim, arrays of the shapes the signature gives, dout, validation, shrinking."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from gradharness.model.signature import SignatureCase, parse_signature, shapes_for
from strategies.signature import MAX_CASE_ENTRIES, _layout, dimension_sizes, signature_cases
from tests import strategy_support

SHRUNK = settings(database=None, deadline=None, max_examples=300, suppress_health_check=list(HealthCheck))
SIGNATURES = [
    "(N,D),(D,M),(M)->(N,M)",
    "(N,C),(N)->()",
    "()->()",
    "(N,3),(3)->(N)",
    "(N,N)->(N)",
    "(N,D,M)->(N,D,M)",  # at max_size=9 too large for one packed value: each array packed on its own
]


@cache
def drawn(text: str, max_size: int = 5) -> tuple[SignatureCase, ...]:
    return tuple(strategy_support.drawn(signature_cases(text, max_size=max_size), 60))


def cases() -> list[tuple[str, int]]:
    return [(text, 5) for text in SIGNATURES] + [("(N,D,M)->(N,D,M)", 9)]


# --- sizes -------------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, database=None)
@given(dimension_sizes("(N,D),(D,M,4),(M)->(N,M)", min_size=2, max_size=4))
def test_sizes_have_one_entry_per_named_dim_in_range(sizes):
    assert list(sizes) == ["N", "D", "M"]
    assert all(2 <= size <= 4 for size in sizes.values())


def test_a_signature_without_names_draws_no_sizes():
    found = strategy_support.drawn(dimension_sizes("(3)->(3)"), 3)
    assert found and all(sizes == {} for sizes in found)


def test_sizes_shrink_to_the_smallest_case_the_condition_allows():
    sizes = find(
        dimension_sizes("(N,D),(D,M),(M)->(N,M)", min_size=1, max_size=6), lambda s: s["N"] >= 2, settings=SHRUNK
    )
    assert sizes == {"N": 2, "D": 1, "M": 1}
    sizes = find(dimension_sizes("(N,D)->(N)", min_size=2, max_size=6), lambda s: s["D"] >= 4, settings=SHRUNK)
    assert sizes == {"N": 2, "D": 4}


# --- cases -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "max_size"), cases())
def test_arrays_match_the_shapes_and_are_finite_on_the_grid_and_not_all_zero(text, max_size):
    found = drawn(text, max_size)
    for case in found:
        inputs, output = shapes_for(case.signature, case.sizes)
        assert tuple(array.shape for array in case.arrays) == inputs
        assert all(1 <= size <= max_size for size in case.sizes.values())
        for array in case.arrays:
            assert array.dtype == np.float64
            assert np.isfinite(array).all() and np.abs(array).max() <= 2.0
            assert np.array_equal(np.rint(array * 10_000) / 10_000, array)  # printed values reproduce the case
            assert array.any()
        assert case.dout.shape == output and case.dout.dtype == np.float64
    assert len({case.describe() for case in found}) > 1 or not found[0].signature.dims


@pytest.mark.parametrize(("text", "max_size"), cases())
def test_dout_has_the_output_shape_and_is_never_zero(text, max_size):
    for case in drawn(text, max_size):
        if case.signature.is_loss:
            assert case.dout.shape == () and case.dout == 1.0
        else:
            assert (case.dout != 0.0).all() and np.abs(case.dout).max() <= 1.0
            assert np.array_equal(np.rint(case.dout * 10_000) / 10_000, case.dout)


def test_drawn_values_vary_within_and_across_arrays():
    found = drawn("(N,D),(D,M),(M)->(N,M)")
    values = np.concatenate([array.ravel() for case in found for array in case.arrays])
    assert np.isin(values, [0.0, 1.0]).mean() < 0.05
    assert values.min() < -1.5 and values.max() > 1.5
    larger = [array for case in found for array in (*case.arrays, case.dout) if array.size >= 4]
    assert np.mean([len(np.unique(array)) == array.size for array in larger]) > 0.7


def test_shared_names_have_one_size_in_every_array():
    for case in drawn("(N,D),(D,M),(M)->(N,M)"):
        x, w, b = case.arrays
        assert x.shape[1] == w.shape[0] and w.shape[1] == b.shape[0] and case.dout.shape == (x.shape[0], b.shape[0])


def test_a_drawn_case_survives_its_json():
    for case in drawn("(N,D),(D,M),(M)->(N,M)")[:10]:
        again = SignatureCase.from_json(case.to_json())
        assert again.sizes == case.sizes
        assert all(np.array_equal(a, b) for a, b in zip(again.arrays, case.arrays, strict=True))
        assert np.array_equal(again.dout, case.dout)


def test_both_packings_are_used():
    assert _layout(parse_signature("(N,D,M)->(N,D,M)"), 5).total is not None
    assert _layout(parse_signature("(N,D,M)->(N,D,M)"), 9).total is None


@settings(max_examples=15, deadline=None, database=None)
@given(signature_cases("(N,D,M),(M)->(N,D,M)", max_size=8))
def test_the_largest_packed_case_passes_the_health_checks(case):
    assert case.arrays[0].ndim == 3


@settings(max_examples=20, deadline=None, database=None)
@given(signature_cases("(N,D),(D)->(N)", max_size=3, elements=st.floats(allow_nan=True, allow_infinity=True, width=32)))
def test_custom_elements_are_used_and_kept_finite_and_not_all_zero(case):
    for array in case.arrays:
        assert array.dtype == np.float64 and np.isfinite(array).all() and array.any()
    assert (case.dout != 0.0).all()


def test_custom_elements_come_from_the_given_strategy():
    found = strategy_support.drawn(signature_cases("(N)->()", elements=st.sampled_from([0.25, 0.5])), 30)
    assert set(np.concatenate([case.arrays[0] for case in found])) == {0.25, 0.5}
    assert all(case.dout == 1.0 for case in found)


# --- shrinking ---------------------------------------------------------------------------------------------------


def test_cases_shrink_to_the_smallest_sizes_the_condition_allows():
    case = find(signature_cases("(N,D),(D,M),(M)->(N,M)"), lambda c: c.sizes["N"] >= 2, settings=SHRUNK)
    assert case.sizes == {"N": 2, "D": 1, "M": 1}
    x, w, b = case.arrays
    assert x.tolist() == [[1.0], [0.0]] and w.tolist() == [[1.0]] and b.tolist() == [1.0]
    assert case.dout.tolist() == [[1.0], [1.0]]
    case = find(signature_cases("(N,C),(N)->()", min_size=2), lambda c: c.sizes["C"] >= 3, settings=SHRUNK)
    assert case.sizes == {"N": 2, "C": 3}


def test_a_value_the_condition_needs_stays_while_the_sizes_shrink():
    def first_entry_above_1_5(case: SignatureCase) -> bool:
        return case.arrays[0][0, 0] > 1.5

    case = find(signature_cases("(N,D)->()"), first_entry_above_1_5, settings=SHRUNK)
    assert case.sizes == {"N": 1, "D": 1}
    assert 1.5 < case.arrays[0][0, 0] <= 1.51


# --- argument validation -----------------------------------------------------------------------------------------

BAD_ARGUMENTS = [
    ({"signature": 3}, "signature must be a LayerSignature or its text, got 3"),
    ({"signature": "(N)->(K)"}, "output dim 'K' appears in no input"),
    ({"signature": "(N)"}, "'->' is missing"),
    ({"min_size": 0}, "min_size=0 must be at least 1"),
    ({"min_size": 1.5}, "min_size must be an integer, got 1.5"),
    ({"min_size": True}, "min_size must be an integer"),
    ({"max_size": "5"}, "max_size must be an integer, got '5'"),
    ({"min_size": 4, "max_size": 3}, "min_size=4 is larger than max_size=3"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ARGUMENTS)
@pytest.mark.parametrize("strategy", [dimension_sizes, signature_cases])
def test_bad_arguments_raise_when_called(strategy, change, message):
    arguments = {"signature": "(N,D)->(N)", **change}
    with pytest.raises(InvalidArgument) as raised:
        strategy(arguments.pop("signature"), **arguments)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"elements": [1.0]}, "elements must be a strategy of floats or None, got [1.0]"),
        ({"elements": 0.5}, "elements must be a strategy"),
        (
            {"max_size": 10, "signature": "(A,B,C,D)->()"},
            f"has cases of up to 10000 entries; the most is {MAX_CASE_ENTRIES}",
        ),
    ],
)
def test_bad_case_arguments_raise_when_called(arguments, message):
    arguments = {"signature": "(N,D)->(N)", **arguments}
    with pytest.raises(InvalidArgument) as raised:
        signature_cases(arguments.pop("signature"), **arguments)
    assert message in str(raised.value)
