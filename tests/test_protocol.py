"""The judge <-> evaluator framing: arrays as raw bytes with dtype and shape, real dtypes only, bounded frames."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from gradharness.isolation.protocol import MAGIC, ProtocolError, encode, read_frame, write_frame


def _round_trip(message: dict, **kwargs) -> dict | None:
    return read_frame(io.BytesIO(encode(message)), **kwargs)


def test_nested_arrays_and_plain_values_round_trip() -> None:
    W1 = np.arange(6, dtype=np.float64).reshape(2, 3)
    message = {"op": "forward", "id": 3, "parameters": {"W1": W1, "b1": np.zeros((2, 1))}, "steps": [W1[0], 1.5]}
    back = _round_trip(message)
    assert back is not None
    assert back["op"] == "forward" and back["id"] == 3 and back["steps"][1] == 1.5
    np.testing.assert_array_equal(back["parameters"]["W1"], W1)
    assert back["parameters"]["W1"].dtype == np.float64 and back["parameters"]["b1"].shape == (2, 1)
    np.testing.assert_array_equal(back["steps"][0], W1[0])


def test_non_finite_floats_and_numpy_scalars_cross() -> None:
    back = _round_trip({"cost": np.float64("inf"), "nan": float("nan"), "ints": np.arange(3, dtype=np.int32)})
    assert back is not None and back["cost"] == float("inf") and back["nan"] != back["nan"]
    assert back["ints"].dtype == np.int32


def test_a_clean_end_of_stream_is_none_and_frames_follow_each_other() -> None:
    stream = io.BytesIO()
    write_frame(stream, {"n": 1})
    write_frame(stream, {"n": 2})
    stream.seek(0)
    assert [read_frame(stream), read_frame(stream), read_frame(stream)] == [{"n": 1}, {"n": 2}, None]


def _frame_with_array(dtype: str, shape: object, data: bytes) -> bytes:
    header = b'{"value":{"$array":0}}'
    meta = json.dumps({"dtype": dtype, "shape": shape}).encode()
    return (
        MAGIC + struct.pack(">I", len(header)) + header + struct.pack(">I", 1)
        + struct.pack(">I", len(meta)) + meta + struct.pack(">Q", len(data)) + data
    )  # fmt: skip


@pytest.mark.parametrize(
    "array, says",
    [
        (np.array([1 + 2j]), "complex128"),
        (np.array(["0.69"]), "str"),
        (np.zeros(2, dtype=[("a", "f8"), ("b", "f8")]), "only real numbers"),
        (np.array([{"x": 1}], dtype=object), "object"),
    ],
)
def test_only_real_arrays_are_accepted(array: np.ndarray, says: str) -> None:
    frame = _frame_with_array(array.dtype.str, list(array.shape), b"\0" * array.nbytes)
    with pytest.raises(ProtocolError, match=says):
        read_frame(io.BytesIO(frame))


@pytest.mark.parametrize(
    "dtype, shape, size, says",
    [
        ("<f8", [2, 3], 40, "40 bytes for shape"),
        ("<f8", [-1], 8, "shape"),
        ("<f8", "x", 8, "shape"),
        ("O", [1], 8, "object"),
    ],
)
def test_an_array_must_be_what_it_says(dtype: str, shape: object, size: int, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        read_frame(io.BytesIO(_frame_with_array(dtype, shape, b"\0" * size)))


def test_arrays_of_every_real_dtype_and_zero_dimensions_round_trip() -> None:
    values = {"f4": np.float32([1.5]), "i8": np.arange(3), "b": np.array([True]), "scalar": np.array(2.5)}
    values["big_endian"] = np.arange(4, dtype=">f8").reshape(2, 2)
    back = _round_trip(values)
    assert back is not None
    for name, value in values.items():
        np.testing.assert_array_equal(back[name], value)
        assert back[name].shape == value.shape and back[name].dtype == value.dtype


@pytest.mark.parametrize(
    "data, says",
    [
        (b"XXXX", "magic"),
        (MAGIC + struct.pack(">I", 10) + b"{}", "short"),
        (MAGIC + struct.pack(">I", 2**31) + b"{}", "a header of"),
        (MAGIC + struct.pack(">I", 3) + b"[1]" + struct.pack(">I", 0), "not a JSON object"),
        (MAGIC + struct.pack(">I", 3) + b"{x}" + struct.pack(">I", 0), "not JSON"),
        (MAGIC + struct.pack(">I", 2) + b"{}" + struct.pack(">I", 10**6), "arrays in one frame"),
        (MAGIC + struct.pack(">I", 16) + b'{"v":{"$array":5}}'[:16] + struct.pack(">I", 0), "not JSON"),
    ],
)
def test_broken_frames_are_protocol_errors(data: bytes, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        read_frame(io.BytesIO(data))


def test_an_array_reference_out_of_range_is_refused() -> None:
    header = b'{"v":{"$array":5}}'
    data = MAGIC + struct.pack(">I", len(header)) + header + struct.pack(">I", 0)
    with pytest.raises(ProtocolError, match="out of range"):
        read_frame(io.BytesIO(data))


def test_the_byte_budget_bounds_what_a_frame_may_carry() -> None:
    frame = encode({"big": np.zeros(1000)})
    assert read_frame(io.BytesIO(frame), budget=100_000) is not None
    with pytest.raises(ProtocolError, match="over 1000 bytes"):
        read_frame(io.BytesIO(frame), budget=1000)


def test_an_array_referred_to_twice_is_refused() -> None:
    frame = encode({"a": np.zeros(4)})
    header = b'{"a":{"$array":0},"b":{"$array":0}}'
    _, _, rest = frame.partition(b"}}")  # the arrays after the original header
    data = MAGIC + struct.pack(">I", len(header)) + header + rest
    with pytest.raises(ProtocolError, match="more than once"):
        read_frame(io.BytesIO(data))


@pytest.mark.parametrize("header", [b"[" * 100_000 + b"]" * 100_000, b'{"n": 1' + b"0" * 5000 + b"}"])
def test_headers_that_json_cannot_read_are_protocol_errors(header: bytes) -> None:
    data = MAGIC + struct.pack(">I", len(header)) + header + struct.pack(">I", 0)
    with pytest.raises(ProtocolError):
        read_frame(io.BytesIO(data))


def test_a_frame_arriving_one_byte_at_a_time_is_read_whole() -> None:
    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(1)

    back = read_frame(Trickle(encode({"x": np.arange(3.0)})))
    assert back is not None and back["x"].tolist() == [0.0, 1.0, 2.0]


def test_a_description_read_once_is_read_the_same_and_a_bad_one_never_passes() -> None:
    good = _frame_with_array("<f8", [2], b"\0" * 16)
    for _ in range(3):
        back = read_frame(io.BytesIO(good))
        assert back is not None and back["value"].shape == (2,) and back["value"].dtype == np.float64
    for _ in range(2):  # a refused description is refused every time, never remembered as good
        with pytest.raises(ProtocolError, match="object"):
            read_frame(io.BytesIO(_frame_with_array("O", [2], b"\0" * 16)))
    with pytest.raises(ProtocolError, match="bytes for shape"):  # the sizes are checked on every frame
        read_frame(io.BytesIO(_frame_with_array("<f8", [2], b"\0" * 8)))
