"""Layer signatures: parsing gufunc notation, its one-line errors, the shapes a signature gives, and SignatureCase."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradharness.model.signature import (
    EXAMPLE,
    LayerSignature,
    SignatureCase,
    parse_option,
    parse_signature,
    parse_signatures,
    shapes_for,
)

QUICK = settings(max_examples=60, deadline=None, database=None)


# --- parsing ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "inputs", "output"),
    [
        ("(N,D),(D,M),(M)->(N,M)", (("N", "D"), ("D", "M"), ("M",)), ("N", "M")),
        ("(N,C),(N)->()", (("N", "C"), ("N",)), ()),
        ("()->()", ((),), ()),
        ("(N,3)->(N)", (("N", 3),), ("N",)),
        ("(N,N)->(N)", (("N", "N"),), ("N",)),
        ("(x_1,_h2),(12)->(12,x_1)", (("x_1", "_h2"), (12,)), (12, "x_1")),
        (" ( N , D ) ,\t( D ) -> ( N )\n", (("N", "D"), ("D",)), ("N",)),
    ],
)
def test_parse_reads_inputs_and_the_output(text, inputs, output):
    signature = parse_signature(text)
    assert signature.inputs == inputs
    assert signature.output == output


def test_canonical_text_has_no_spaces_and_dims_are_names_in_order_of_first_appearance():
    signature = parse_signature(" (N, D), (D, M, 3), (M) -> (N, M) ")
    assert str(signature) == "(N,D),(D,M,3),(M)->(N,M)"
    assert signature.dims == ("N", "D", "M")
    assert parse_signature("(4)->(4)").dims == ()


def test_a_scalar_output_is_a_loss():
    assert parse_signature("(N,C),(N)->()").is_loss
    assert parse_signature("()->()").is_loss
    assert not parse_signature("(N)->(N)").is_loss
    assert not parse_signature("(N)->(1)").is_loss


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "it is empty"),
        ("   \n", "it is empty"),
        ("(N,D)", "'->' is missing"),
        ("(N)->(N)->(N)", "more than one '->'"),
        ("(N),(M)->(N),(M)", "2 outputs; exactly one is supported"),
        ("->(N)", "no inputs"),
        ("(N)->", "no output"),
        ("N,D->N", "not parenthesised dim lists"),
        ("(N)(D)->(N)", "not parenthesised dim lists"),
        ("((N))->()", "not parenthesised dim lists"),
        ("(2N)->()", "bad dim name '2N'"),
        ("(N-1)->()", "bad dim name 'N-1'"),
        ("(N M)->()", "bad dim name 'N M'"),
        ("(N,-3)->(N)", "dim -3 in '(N,-3)' is not a positive size"),
        ("(0,N)->(N)", "dim 0 in '(0,N)' is not a positive size"),
        ("(N,)->()", "an empty dim in '(N,)'"),
        ("(N,D?)->(N)", "optional dims '?' are not supported"),
        ("(...,N)->(...,N)", "broadcast dims '...' are not supported"),
        ("(N,D)->(N,K)", "output dim 'K' appears in no input (the output's sizes must follow from the inputs)"),
    ],
)
def test_a_bad_signature_is_one_line_saying_what_is_wrong_and_showing_the_form(text, says):
    with pytest.raises(ValueError) as raised:
        parse_signature(text)
    message = str(raised.value)
    assert says in message
    assert EXAMPLE in message
    assert "\n" not in message and "\t" not in message


def test_a_long_bad_text_is_cut_in_the_message():
    with pytest.raises(ValueError) as raised:
        parse_signature("(N)" + ",(N)" * 200)
    assert len(str(raised.value)) < 250


def test_a_signature_is_text():
    with pytest.raises(TypeError, match="a signature is text"):
        parse_signature(3)  # type: ignore[arg-type]


_NAMES = st.sampled_from(["N", "D", "M", "C", "x_1", "_h"])
_DIMS = st.one_of(_NAMES, st.integers(min_value=1, max_value=12))


@st.composite
def signatures(draw) -> LayerSignature:
    """Any valid signature: up to 4 inputs of up to 3 dims; the output's names are taken from the inputs."""
    inputs = draw(st.lists(st.lists(_DIMS, max_size=3).map(tuple), min_size=1, max_size=4).map(tuple))
    named = sorted({dim for shape in inputs for dim in shape if isinstance(dim, str)})
    choices = st.sampled_from(named) | st.integers(1, 12) if named else st.integers(1, 12)
    return LayerSignature(inputs, tuple(draw(st.lists(choices, max_size=3))))


@QUICK
@given(signatures(), st.sampled_from(["", " ", "  \t"]))
def test_the_canonical_text_parses_to_an_equal_signature(signature, space):
    assert parse_signature(str(signature)) == signature
    spaced = (
        str(signature).replace(",", f"{space},{space}").replace("->", f"{space}->{space}").replace("(", f"({space}")
    )
    assert parse_signature(spaced) == signature


@pytest.mark.parametrize("text", ["(N,D),(D,M),(M)->(N,M)", "(N,C),(N)->()", "()->()", " ( N , 3 ) -> ( N ) "])
def test_the_examples_round_trip_through_their_canonical_text(text):
    signature = parse_signature(text)
    assert parse_signature(str(signature)) == signature
    assert str(parse_signature(str(signature))) == str(signature)


# --- constructing a signature directly --------------------------------------------------------------------------


def test_a_signature_built_from_lists_holds_tuples_and_numpy_integers_become_ints():
    signature = LayerSignature([["N", np.int64(3)]], ["N"])  # type: ignore[arg-type]
    assert signature.inputs == (("N", 3),)
    assert type(signature.inputs[0][1]) is int
    assert signature == parse_signature("(N,3)->(N)")
    assert hash(signature) == hash(parse_signature("(N,3)->(N)"))


@pytest.mark.parametrize(
    ("inputs", "output", "says"),
    [
        ((), (), "at least one input"),
        ((("N", True),), (), "dim True is neither a name nor a positive integer"),
        ((("N", 2.0),), (), "dim 2.0 is neither"),
        ((("N", 0),), (), "dim 0 is not a positive size"),
        ((("2N",),), (), "bad dim name '2N'"),
        ((("N",),), ("M",), "output dim 'M' appears in no input"),
    ],
)
def test_a_signature_built_directly_is_checked_too(inputs, output, says):
    with pytest.raises(ValueError) as raised:
        LayerSignature(inputs, output)
    assert says in str(raised.value) and "\n" not in str(raised.value)


# --- shapes -----------------------------------------------------------------------------------------------------


def test_shapes_for_puts_each_size_where_its_name_is():
    inputs, output = shapes_for(parse_signature("(N,D),(D,M),(M)->(N,M)"), {"N": 2, "D": 3, "M": 4})
    assert inputs == ((2, 3), (3, 4), (4,))
    assert output == (2, 4)
    assert shapes_for(parse_signature("(N,3)->()"), {"N": 5}) == (((5, 3),), ())
    assert shapes_for(parse_signature("()->()"), {}) == (((),), ())


@QUICK
@given(st.data())
def test_shapes_are_consistent_for_shared_names_and_keep_fixed_dims(data):
    signature = data.draw(signatures())
    sizes = {name: data.draw(st.integers(1, 9), label=name) for name in signature.dims}
    inputs, output = shapes_for(signature, sizes)
    assert len(inputs) == len(signature.inputs)
    for dims, shape in zip((*signature.inputs, signature.output), (*inputs, output), strict=True):
        assert len(shape) == len(dims)
        for dim, size in zip(dims, shape, strict=True):
            assert size == (sizes[dim] if isinstance(dim, str) else dim)


@pytest.mark.parametrize(
    ("sizes", "says"),
    [
        ({"N": 2}, "no size for dim 'D'"),
        ({"N": 2, "D": 3, "K": 1}, "size 'K' is not a dim of '(N,D)->(N)'"),
        ({"N": 0, "D": 3}, "size N=0 is not an integer >= 1"),
        ({"N": True, "D": 3}, "size N=True"),
        ({"N": 2.0, "D": 3}, "size N=2.0"),
    ],
)
def test_shapes_for_wants_exactly_the_dims_each_a_positive_integer(sizes, says):
    with pytest.raises(ValueError) as raised:
        shapes_for(parse_signature("(N,D)->(N)"), sizes)
    assert says in str(raised.value)


# --- several layers and the command line's NAME=SIG ---------------------------------------------------------------


def test_parse_signatures_keeps_each_name_in_order():
    parsed = parse_signatures({"affine": "(N,D),(D,M),(M)->(N,M)", "softmax_loss": "(N,C),(N)->()"})
    assert list(parsed) == ["affine", "softmax_loss"]
    assert parsed["softmax_loss"].is_loss
    assert str(parsed["affine"]) == "(N,D),(D,M),(M)->(N,M)"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("bad-name", "layer name 'bad-name' is not a Python identifier"),
        ("2layer", "layer name '2layer' is not a Python identifier"),
        ("", "layer name '' is not a Python identifier"),
        ("class", "layer name 'class' is a Python keyword"),
        (3, "layer name 3 is not a Python identifier"),
    ],
)
def test_a_layer_name_must_be_an_identifier(name, says):
    with pytest.raises(ValueError) as raised:
        parse_signatures({"good": "(N)->(N)", name: "(N)->(N)"})
    message = str(raised.value)
    assert says in message and "NAME=SIG" in message and "\n" not in message


def test_a_bad_signature_among_several_names_its_layer():
    with pytest.raises(ValueError) as raised:
        parse_signatures({"good": "(N)->(N)", "relu": "(N)->(M)"})
    message = str(raised.value)
    assert message.startswith("layer 'relu': bad signature '(N)->(M)'")
    assert "\n" not in message


def test_parse_option_reads_name_equals_signature():
    assert parse_option("affine=(N,D),(D,M),(M)->(N,M)") == ("affine", parse_signature(EXAMPLE))
    assert parse_option(" loss = (N,C),(N)->() ") == ("loss", parse_signature("(N,C),(N)->()"))


@pytest.mark.parametrize(
    ("option", "says"),
    [
        ("(N)->(N)", "'(N)->(N)' is not NAME=SIG"),
        ("x-y=(N)->(N)", "layer name 'x-y' is not a Python identifier"),
        ("=(N)->(N)", "layer name '' is not"),
        ("relu=(N)->", "layer 'relu': bad signature '(N)->': no output"),
        ("relu=", "layer 'relu': bad signature '': it is empty"),
    ],
)
def test_a_bad_option_is_one_line(option, says):
    with pytest.raises(ValueError) as raised:
        parse_option(option)
    assert says in str(raised.value) and "\n" not in str(raised.value)


# --- SignatureCase ------------------------------------------------------------------------------------------------

AFFINE = parse_signature(EXAMPLE)


def affine_case() -> SignatureCase:
    x = np.arange(6.0).reshape(2, 3) / 10
    w = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    b = np.array([0.5, -0.25, 1.0, 2.0])
    return SignatureCase(AFFINE, {"N": 2, "D": 3, "M": 4}, (x, w, b), np.full((2, 4), 0.5))


def test_describe_gives_the_sizes_and_shapes():
    assert affine_case().describe() == "N=2, D=3, M=4; shapes (2, 3), (3, 4), (4,) -> (2, 4)"
    loss = SignatureCase(parse_signature("()->()"), {}, (np.array(0.5),), np.array(1.0))
    assert loss.describe() == "no named dims; shapes () -> ()"


def test_a_case_keeps_its_sizes_in_the_dims_order_as_float64_copies():
    x = np.ones((1, 2), dtype=np.float32)
    case = SignatureCase(parse_signature("(N,D)->(N)"), {"D": 2, "N": 1}, (x,), [1.0])  # type: ignore[arg-type]
    assert list(case.sizes) == ["N", "D"]
    assert case.arrays[0].dtype == np.float64 and case.dout.dtype == np.float64
    copies = case.copy_arrays()
    copies[0][0, 0] = 7.0
    assert case.arrays[0][0, 0] == 1.0


def test_json_round_trip_keeps_every_value_through_json_text():
    case = affine_case()
    again = SignatureCase.from_json(json.loads(json.dumps(case.to_json())))
    assert again.signature == case.signature
    assert again.sizes == case.sizes
    assert all(np.array_equal(a, b) and a.shape == b.shape for a, b in zip(again.arrays, case.arrays, strict=True))
    assert np.array_equal(again.dout, case.dout)
    assert case.to_json()["signature"] == EXAMPLE


def test_a_loss_case_stores_dout_as_a_float_and_reads_it_back_0_d():
    case = SignatureCase(parse_signature("(N,C),(N)->()"), {"N": 1, "C": 2}, ([[0.1, 0.2]], [1.0]), np.array(1.0))  # type: ignore[arg-type]
    data = case.to_json()
    assert data["dout"] == 1.0
    assert SignatureCase.from_json(data).dout.shape == ()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"arrays": (np.zeros((2, 3)), np.zeros((3, 4)))}, "2 arrays for the 3 inputs"),
        ({"arrays": (np.zeros((3, 2)), np.zeros((3, 4)), np.zeros(4))}, "input 0 has shape (3, 2), expected (2, 3)"),
        ({"dout": np.zeros((4, 2))}, "dout has shape (4, 2), expected (2, 4)"),
        ({"sizes": {"N": 2, "D": 3}}, "no size for dim 'M'"),
    ],
)
def test_a_case_whose_arrays_do_not_fit_its_sizes_is_rejected(change, says):
    case = affine_case()
    fields = {"signature": case.signature, "sizes": case.sizes, "arrays": case.arrays, "dout": case.dout, **change}
    with pytest.raises(ValueError) as raised:
        SignatureCase(**fields)
    assert says in str(raised.value)
