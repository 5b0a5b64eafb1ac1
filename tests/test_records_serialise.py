"""Dataclasses to JSON and back by their type hints: every kind of field, non-finite floats, and bad values."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pytest

from gradharness.errors import ResultsFormatError
from gradharness.records.serialise import decode, encode_float, to_json


class Colour(Enum):
    RED = "red"
    NOT_SET = "not set"


@dataclass(frozen=True)
class Inner:
    value: float
    colour: Colour = Colour.RED


@dataclass(frozen=True)
class Outer:
    name: str
    count: int
    flag: bool
    inner: Inner
    inners: list[Inner]
    maybe: Inner | None = None
    pair: tuple[int, str] = (0, "")
    sizes: tuple[int | None, ...] = ()
    by_colour: dict[Colour, int] = field(default_factory=dict)
    optional_number: float | None = None
    numbers: list[float | None] = field(default_factory=list)
    anything: dict[str, Any] = field(default_factory=dict)


def outer(**changes: Any) -> Outer:
    values: dict[str, Any] = dict(
        name="n", count=3, flag=True, inner=Inner(0.5), inners=[Inner(1.0, Colour.NOT_SET), Inner(-2.0)],
        maybe=Inner(3.0), pair=(7, "x"), sizes=(4, None, 3, 1), by_colour={Colour.RED: 2, Colour.NOT_SET: 0},
        optional_number=0.25, numbers=[1.0, None], anything={"sizes": [1, 2], "m": 3, "nested": {"a": None}},
    )  # fmt: skip
    values.update(changes)
    return Outer(**values)


def through_text(value: Any) -> Any:
    """What a file holds: strict JSON text, parsed again."""
    return json.loads(json.dumps(to_json(value), allow_nan=False))


def test_every_kind_of_field_comes_back_with_its_type() -> None:
    original = outer()
    back = decode(Outer, through_text(original))
    assert back == original
    assert isinstance(back.pair, tuple) and isinstance(back.sizes, tuple)
    assert back.inners[0].colour is Colour.NOT_SET and set(back.by_colour) == {Colour.RED, Colour.NOT_SET}


def test_json_holds_enum_values_lists_for_tuples_and_plain_numbers() -> None:
    data = through_text(outer())
    assert data["inners"][0]["colour"] == "not set"
    assert data["pair"] == [7, "x"] and data["sizes"] == [4, None, 3, 1]
    assert data["by_colour"] == {"red": 2, "not set": 0}


def test_an_integer_in_a_float_field_is_read_as_a_float() -> None:
    data = through_text(outer())
    data["inner"]["value"] = 2
    value = decode(Outer, data).inner.value
    assert value == 2.0 and isinstance(value, float)


@pytest.mark.parametrize(
    ("value", "encoded"), [(math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan"), (1e-300, 1e-300)]
)
def test_floats_json_has_no_number_for_are_strings(value: float, encoded: float | str) -> None:
    assert encode_float(value) == encoded


def test_non_finite_floats_round_trip_as_floats_in_every_float_field() -> None:
    original = outer(
        inner=Inner(math.inf), inners=[Inner(-math.inf), Inner(math.nan)], optional_number=math.nan,
        numbers=[math.inf, None, math.nan], anything={"difference": math.inf},
    )  # fmt: skip
    back = decode(Outer, through_text(original))
    assert back.inner.value == math.inf and back.inners[0].value == -math.inf and math.isnan(back.inners[1].value)
    assert isinstance(back.optional_number, float) and math.isnan(back.optional_number)
    assert back.numbers[0] == math.inf and back.numbers[1] is None and math.isnan(back.numbers[2])
    assert back.anything == {"difference": "inf"}  # untyped: written with the same rule, read back as is


def test_files_written_before_the_nan_string_are_still_read() -> None:
    data = through_text(outer())
    data["inner"]["value"] = None  # NaN used to be written as null
    data["inners"][0]["value"] = "inf"
    data["optional_number"] = None
    back = decode(Outer, data)
    assert math.isnan(back.inner.value) and back.inners[0].value == math.inf and back.optional_number is None


def test_numpy_scalars_are_written_as_plain_numbers() -> None:
    data = to_json(outer(count=np.int64(5), inner=Inner(np.float64(0.5)), numbers=[np.float64(np.inf)]))
    assert data["count"] == 5 and type(data["count"]) is int
    assert data["inner"]["value"] == 0.5 and data["numbers"] == ["inf"]


def test_what_has_no_json_form_is_refused_when_written() -> None:
    with pytest.raises(TypeError, match="object has no JSON form"):
        to_json(outer(anything={"x": object()}))
    with pytest.raises(TypeError, match="dict key of type int"):
        to_json(outer(anything={1: 2}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(count="3"), r"results.count: expected an integer, got '3'"),
        (lambda d: d.update(count=True), r"results.count: expected an integer, got True"),
        (lambda d: d.update(count=2.5), r"results.count: expected an integer, got 2.5"),
        (lambda d: d.update(flag=1), r"results.flag: expected true or false, got 1"),
        (lambda d: d.update(name=None), r"results.name: expected a string, got null"),
        (lambda d: d["inner"].update(value="big"), r"results.inner.value: expected a number, got 'big'"),
        (lambda d: d["inner"].update(value=[1]), r"results.inner.value: expected a number, got a list"),
        (lambda d: d["inners"][1].update(colour="blue"), r"results.inners\[1\].colour: 'blue' is not a Colour"),
        (lambda d: d.update(inners={}), r"results.inners: expected a list, got an object"),
        (lambda d: d.update(inner=[]), r"results.inner: expected an object, got a list"),
        (lambda d: d.update(pair=[1]), r"results.pair: expected a list of 2 items, got 1"),
        (lambda d: d.update(by_colour={"green": 1}), r"results.by_colour key 'green': 'green' is not a Colour"),
        (lambda d: d.update(anything=[]), r"results.anything: expected an object, got a list"),
        (lambda d: d.update(surprise=1), r"results: unknown keys surprise"),
        (lambda d: d["inner"].pop("value"), r"results.inner: missing value"),
        (lambda d: d["maybe"].update(extra=0), r"results.maybe: unknown keys extra"),
    ],
)
def test_values_of_the_wrong_type_name_the_field(change, message: str) -> None:
    data = through_text(outer())
    change(data)
    with pytest.raises(ResultsFormatError, match=message):
        decode(Outer, data)


def test_fields_with_defaults_may_be_left_out() -> None:
    data = {"name": "n", "count": 1, "flag": False, "inner": {"value": 1.0}, "inners": []}
    back = decode(Outer, data)
    assert back.inner.colour is Colour.RED and back.maybe is None and back.by_colour == {}


def test_the_workers_findings_cross_as_strict_json_with_infinities() -> None:
    from gradharness.check.verdict import Verdict
    from gradharness.properties.properties import Property
    from gradharness.properties.runner import RunFindings
    from gradharness.records.check import BlockRecord, FailureRecord, GradientRecord, PropertyRecord, PropertyStatus
    from gradharness.records.status import FailureKind

    check = GradientRecord(math.inf, Verdict.WRONG, "dW1 is not finite", None, 1e-7, "loop",
                           [BlockRecord("dW1", math.inf, Verdict.WRONG, 1, 0, 0)], [], [math.nan], [None],
                           [Verdict.WRONG])  # fmt: skip
    failure = FailureRecord(Property.GRADIENT_AGREES.name, FailureKind.WRONG, "dW1 wrong", 1, gradient_check=check)
    prop = PropertyRecord(Property.GRADIENT_AGREES.name, Property.GRADIENT_AGREES.value, PropertyStatus.FAILED, 1)
    findings = RunFindings([prop], [failure], {"pass": 2}, 3, 0.1)
    back = decode(RunFindings, through_text(findings))
    block = back.failures[0].gradient_check.blocks[0]
    assert block.difference == math.inf and block.verdict is Verdict.WRONG
    assert back.properties[0].status is PropertyStatus.FAILED and math.isnan(back.failures[0].gradient_check.grad[0])
