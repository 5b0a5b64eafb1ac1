"""Tests for the packed-array codec: layout, round trips, bounds, edge values, what shrinks to what, budgets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck

from strategies import network_cases
from strategies._draws import CASE_BYTES, case_bytes, case_layout, float_array, label_array
from strategies._packing import (
    ADVERSARIAL,
    BOUNDED,
    LABELS,
    LARGE_BOUND,
    RESOLUTION,
    TINY,
    Codec,
    blocks,
    decode_adversarial,
    decode_bounded,
    decode_labels,
    encode_adversarial,
    encode_bounded,
    grid_size,
    slot_indices,
)

QUICK = settings(max_examples=50, deadline=None, database=None)
SHRINK = settings(max_examples=300, deadline=None, database=None)
EVERY_16_BIT_FIELD = np.arange(1 << 16, dtype=np.int64)
GRIDS = [0, 1, 7, grid_size(1.5 / math.sqrt(6)), 10_000, 20_000, (1 << 15) - 1]
LARGE_GRID = grid_size(LARGE_BOUND)


def magnitudes(values: np.ndarray) -> np.ndarray:
    """|values| in units of RESOLUTION, as integers."""
    return np.rint(np.abs(values) / RESOLUTION).astype(np.int64)


# --- layout: bytes <-> fields ---------------------------------------------------------------


@QUICK
@given(st.sampled_from([BOUNDED, ADVERSARIAL, LABELS]), st.integers(0, 12), st.data())
def test_the_bytes_are_one_big_endian_integer_with_entry_0_in_the_lowest_field(codec: Codec, count: int, data):
    raw = data.draw(codec.strategy(count))
    assert len(raw) == count * codec.width
    fields = codec.fields(raw)
    bits = 8 * codec.width
    assert int.from_bytes(raw, "big") == sum(int(f) << (bits * i) for i, f in enumerate(fields))
    assert codec.pack(fields) == raw


def test_all_zero_bytes_are_all_zero_values():
    for codec in (BOUNDED, ADVERSARIAL, LABELS):
        values = codec.decode(codec.fields(bytes(8 * codec.width)), 100)
        assert np.array_equal(values, np.zeros(8)) and not np.any(np.signbit(values))


# --- bounded fields ---------------------------------------------------------------------------


@pytest.mark.parametrize("grid", GRIDS)
def test_bounded_fields_are_grid_multiples_within_the_bound(grid):
    values = decode_bounded(EVERY_16_BIT_FIELD, grid)
    assert values.dtype == np.float64
    assert np.all(np.abs(values) <= grid * RESOLUTION)
    assert np.array_equal(values, magnitudes(values) * np.sign(values) / 10_000)
    assert not np.any(np.signbit(values[values == 0.0])), "-0.0"


@pytest.mark.parametrize("grid", GRIDS)
def test_every_grid_value_is_reachable_and_about_equally_likely(grid):
    values = decode_bounded(EVERY_16_BIT_FIELD, grid)
    counts = np.bincount(magnitudes(values[values > 0]), minlength=grid + 1)[1:]
    assert np.all(counts > 0)
    assert counts.size == 0 or counts.max() - counts.min() <= 1
    assert np.array_equal(np.bincount(magnitudes(values[values < 0]), minlength=grid + 1)[1:], counts)


def test_bounded_edge_fields():
    grid = 20_000
    assert decode_bounded(np.array([0, 1, 2, 0xFFFE, 0xFFFF]), grid).tolist() == [0.0, 0.0, 0.0, 2.0, -2.0]
    assert decode_bounded(np.array([4, 5]), grid).tolist() == [1e-4, -1e-4]  # the first nonzero level


@pytest.mark.parametrize("grid", GRIDS)
def test_a_smaller_bounded_field_never_has_a_larger_magnitude(grid):
    assert np.all(np.diff(np.abs(decode_bounded(EVERY_16_BIT_FIELD, grid))) >= 0)


@pytest.mark.parametrize("grid", GRIDS)
def test_encode_bounded_gives_the_smallest_field_of_each_value(grid):
    values = decode_bounded(EVERY_16_BIT_FIELD, grid)
    distinct, first = np.unique(values, return_index=True)  # the fields are in increasing order
    assert np.array_equal(encode_bounded(distinct, grid), first)
    assert np.array_equal(decode_bounded(encode_bounded(distinct, grid), grid), distinct)


# --- adversarial fields -----------------------------------------------------------------------

KIND_OF_TOP_BYTE = [(0, 51, "zero"), (52, 102, "one"), (103, 153, "tiny"), (154, 204, "bounded"), (205, 255, "large")]


def adversarial_fields(top_bytes, count: int = 512, seed: int = 0) -> np.ndarray:
    """Sorted fields with these top bytes: the extremes of the rest, and random ones."""
    rest = np.random.default_rng(seed).integers(0, 1 << 24, size=count)
    rest = np.concatenate([[0, 1, 2, 3, (1 << 24) - 2, (1 << 24) - 1], rest])
    return np.sort((np.asarray(top_bytes)[:, None] << 24 | rest[None, :]).ravel())


@pytest.mark.parametrize(("low", "high", "kind"), KIND_OF_TOP_BYTE)
def test_the_top_byte_picks_the_kind(low, high, kind):
    grid = grid_size(0.6)
    values = decode_adversarial(adversarial_fields(range(low, high + 1)), grid)
    expected = {
        "zero": lambda v: v == 0.0,
        "one": lambda v: np.abs(v) == 1.0,
        "tiny": lambda v: np.abs(v) == TINY,
        "bounded": lambda v: (np.abs(v) <= 0.6) & (magnitudes(v) / 10_000 == np.abs(v)),
        "large": lambda v: (np.abs(v) <= LARGE_BOUND) & (magnitudes(v) / 10_000 == np.abs(v)),
    }[kind]
    assert np.all(expected(values))
    if kind == "large":
        assert np.abs(values).max() == LARGE_BOUND and np.any(np.abs(values) > 0.6)
    assert not np.any(np.signbit(values[values == 0.0])), "-0.0"


def test_each_kind_has_about_the_same_chance():
    counts = [high - low + 1 for low, high, _ in KIND_OF_TOP_BYTE]
    assert sum(counts) == 256 and max(counts) - min(counts) <= 1


def test_adversarial_values_are_finite_and_never_subnormal():
    values = decode_adversarial(adversarial_fields(range(256), count=64), grid_size(1.5))
    assert np.all(np.isfinite(values))
    assert np.all((values == 0.0) | (np.abs(values) >= np.finfo(np.float64).tiny))


def test_within_a_kind_a_smaller_adversarial_field_never_has_a_larger_magnitude():
    for top in (0, 60, 120, 154, 180, 204, 205, 255):
        values = decode_adversarial(adversarial_fields([top]), grid_size(1.0))
        assert np.all(np.diff(np.abs(values)) >= 0), top


ADVERSARIAL_GRID = grid_size(0.75)
adversarial_values = st.one_of(
    st.just(0.0),
    st.sampled_from([1.0, -1.0, TINY, -TINY]),
    st.integers(-ADVERSARIAL_GRID, ADVERSARIAL_GRID).map(lambda k: k / 10_000),
    st.integers(-LARGE_GRID, LARGE_GRID).map(lambda k: k / 10_000),
)


@QUICK
@given(st.lists(adversarial_values, min_size=1, max_size=20))
def test_adversarial_round_trip_through_the_smallest_field(values):
    values = np.array(values)
    fields = encode_adversarial(values, ADVERSARIAL_GRID)
    assert np.array_equal(decode_adversarial(fields, ADVERSARIAL_GRID), values)
    nonzero = fields > 0
    smaller = decode_adversarial(fields[nonzero] - 1, ADVERSARIAL_GRID)
    assert not np.any(smaller == values[nonzero]), "a smaller field decodes to the same value"
    assert np.array_equal(ADVERSARIAL.fields(ADVERSARIAL.pack(fields)), fields)


# --- labels and grid sizes --------------------------------------------------------------------


def test_labels_are_half_zeros_half_ones_and_shrink_to_zero():
    every = np.arange(256)
    labels = decode_labels(every)
    assert set(labels.tolist()) == {0.0, 1.0} and labels.sum() == 128
    assert np.all(np.diff(labels) >= 0) and labels[0] == 0.0
    assert np.array_equal(LABELS.encode(np.array([0.0, 1.0]), 0), [0, 128])


@pytest.mark.parametrize("bound", [0.0, 1e-4, 0.3, 1.0, 1.5 / math.sqrt(3), 2.0, 100.0])
def test_grid_size_is_the_largest_multiple_within_the_bound(bound):
    k = grid_size(bound)
    assert k / 10_000 <= bound < (k + 1) / 10_000


def test_a_bound_a_field_cannot_resolve_is_refused():
    assert BOUNDED.grid(3.2767) == (1 << 15) - 1
    with pytest.raises(ValueError, match="bounded fields hold 32768"):
        BOUNDED.grid(3.2768)
    assert ADVERSARIAL.grid(838.8607) == (1 << 23) - 1
    with pytest.raises(ValueError, match="adversarial"):
        ADVERSARIAL.grid(838.8608)


# --- slots: several blocks in one packed value ------------------------------------------------


def test_a_block_takes_the_top_left_corner_of_its_room():
    assert slot_indices([(2, 3), (3, 1)], [(1, 2), (2, 1)]).tolist() == [0, 1, 6, 7]
    assert slot_indices([(2, 3), (3, 1)], [(2, 2), (1, 1)]).tolist() == [0, 1, 3, 4, 6]
    assert slot_indices([(2, 3), (3, 1)], [(2, 3), (3, 1)]).tolist() == list(range(9))


def test_a_block_larger_than_its_room_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        slot_indices([(2, 2)], [(3, 1)])


rooms_and_shapes = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=4).flatmap(
    lambda rooms: st.tuples(
        st.just(rooms), st.tuples(*[st.tuples(st.integers(1, r), st.integers(1, c)) for r, c in rooms])
    )
)


@QUICK
@given(rooms_and_shapes, st.data())
def test_a_block_that_gets_smaller_moves_no_other_block(rooms_shapes, data):
    rooms, shapes = rooms_shapes
    i = data.draw(st.integers(0, len(shapes) - 1))
    smaller = list(shapes)
    smaller[i] = (data.draw(st.integers(1, shapes[i][0])), data.draw(st.integers(1, shapes[i][1])))

    def per_block(chosen):
        flat = slot_indices(rooms, chosen).tolist()
        out, start = [], 0
        for rows, cols in chosen:
            out.append(flat[start : start + rows * cols])
            start += rows * cols
        return out

    before, after = per_block(shapes), per_block(smaller)
    assert all(before[j] == after[j] for j in range(len(shapes)) if j != i)
    # Entry (r, c) of the smaller block keeps its slot, so it keeps its value.
    (rows, cols), (_, old_cols) = smaller[i], shapes[i]
    assert all(after[i][r * cols + c] == before[i][r * old_cols + c] for r in range(rows) for c in range(cols))


def bounded_bytes(*fields: int) -> bytes:
    return BOUNDED.pack(np.array(fields))


def test_a_zero_field_reads_through_to_the_next_field_that_folds_onto_its_entry():
    layout = blocks(BOUNDED, ((3, 2),), ((1, 2),), (2.0,))  # rows 1 and 2 of the room fold onto row 0
    value = {f: float(decode_bounded(np.array(f), grid_size(2.0))) for f in (4, 6, 8)}
    assert layout.decode(bounded_bytes(8, 0, 0, 0, 6, 4))[0].tolist() == [[value[8], value[4]]]
    assert layout.decode(bounded_bytes(0, 0, 0, 0, 6, 4))[0].tolist() == [[value[6], value[4]]]
    assert layout.decode(bounded_bytes(0, 0, 0, 0, 0, 0))[0].tolist() == [[0.0, 0.0]]
    # A block that fills its room reads its own fields, zeros included.
    full = blocks(BOUNDED, ((3, 2),), ((3, 2),), (2.0,))
    assert np.count_nonzero(full.decode(bounded_bytes(0, 0, 0, 0, 6, 4))[0]) == 2


@QUICK
@given(rooms_and_shapes, st.data())
def test_blocks_decode_the_first_nonzero_field_that_folds_onto_each_entry(rooms_shapes, data):
    rooms, shapes = rooms_shapes
    count = sum(r * c for r, c in rooms)
    # Mostly zeros, so that entries read through to the fields folded onto them.
    room_fields = np.array(
        data.draw(st.lists(st.sampled_from([0, 0, 0, 5, 0x1234, 0xFFFF]), min_size=count, max_size=count))
    )
    layout = blocks(BOUNDED, tuple(rooms), tuple(shapes), (1.0,) * len(shapes))
    decoded = layout.decode(BOUNDED.pack(room_fields))
    assert [b.shape for b in decoded] == list(shapes)
    start = 0
    for (rows, cols), (room_rows, room_cols), block in zip(shapes, rooms, decoded, strict=True):
        room = room_fields[start : start + room_rows * room_cols].reshape(room_rows, room_cols)
        start += room_rows * room_cols
        for i in range(rows):
            for j in range(cols):
                folded = [f for f in room[i::rows, j::cols].ravel() if f != 0]
                assert block[i, j] == decode_bounded(folded[0] if folded else 0, grid_size(1.0))


# --- what shrinks towards what ----------------------------------------------------------------


def test_an_array_shrinks_to_one_entry_just_over_a_threshold():
    X = find(float_array((3, 4), 2.0, False), lambda a: a.max() >= 0.5, settings=SHRINK)
    assert np.count_nonzero(X) == 1
    # Bytes shrink one at a time, so an entry may stop one step of its top byte above the
    # smallest value that still fails: 128 of its 32768 levels, 1/256 of the magnitudes up to 2.
    assert 0.5 <= X.max() <= 0.5 + 2.0 / 256 + RESOLUTION


def test_a_negative_entry_shrinks_to_a_positive_one():
    X = find(float_array((2, 2), 2.0, False), lambda a: np.abs(a).max() >= 1.0, settings=SHRINK)
    assert np.count_nonzero(X) == 1 and X.max() >= 1.0


def test_adversarial_entries_shrink_to_the_earliest_kind_that_still_fails():
    X = find(float_array((3, 3), 1.0, True), lambda a: np.any(np.abs(a) == TINY), settings=SHRINK)
    assert np.count_nonzero(X) == 1 and X.max() == TINY
    X = find(float_array((3, 3), 1.0, True), lambda a: np.any(np.abs(a) > 50.0), settings=SHRINK)
    assert np.count_nonzero(X) == 1 and 50.0 < X.max() <= 50.0 + LARGE_BOUND / 256 + RESOLUTION


def test_labels_shrink_to_as_few_ones_as_fail():
    Y = find(label_array((2, 3)), lambda a: a.sum() >= 2, settings=SHRINK)
    assert Y.sum() == 2


# --- budgets -------------------------------------------------------------------------------------


def health_checked(strategy) -> None:
    """Run a few examples of ``strategy`` with Hypothesis's health checks on (except timing)."""

    @settings(max_examples=3, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy)
    def draw(_value):
        pass

    draw()


def test_a_packed_draw_twice_the_case_budget_trips_large_base_example():
    health_checked(st.binary(min_size=CASE_BYTES, max_size=CASE_BYTES))
    with pytest.raises(FailedHealthCheck, match="smallest natural input"):
        health_checked(st.binary(min_size=2 * CASE_BYTES, max_size=2 * CASE_BYTES))


@pytest.mark.parametrize("adversarial", [False, True])
def test_the_largest_dense_cases_and_the_next_size_pass_the_health_checks(adversarial):
    m = 8
    k = max(k for k in range(1, 40) if case_layout((k, k, k, k, m), adversarial) is not None)
    assert case_bytes((k, k, k, k, m), adversarial) <= CASE_BYTES
    assert case_layout((k + 1, k + 1, k + 1, k + 1, m), adversarial) is None
    # The largest case in slots; the smallest drawn array by array; and one whose X, Y and every
    # parameter block would each fit ARRAY_ENTRIES, but the six blocks together do not.
    for units, batch in ((k, m), (k + 1, m), (16, 16)):
        health_checked(network_cases(min_units=units, max_units=units, batch_size=batch, adversarial=adversarial))
