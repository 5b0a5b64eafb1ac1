"""The operator table: one small function per backprop mistake, each with a before -> after docstring."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from gradharness.errors import GradHarnessError
from gradharness.model import network
from gradharness.mutation.mutants import generate_mutants
from gradharness.mutation.operators import OPERATORS, register_operator, select_operators

REFERENCE = inspect.getsource(network)


def _mutants_of(operator: str, source: str = REFERENCE, function: str = "backward_propagation_n"):
    return generate_mutants(source, function, "f.py", select_operators([operator]))


def test_at_least_twenty_operators_each_with_a_before_after_docstring() -> None:
    assert len(OPERATORS) >= 20
    for name, op in OPERATORS.items():
        assert op.name == name
        assert "->" in op.summary, f"{name}: the docstring's first line shows before -> after"


def test_every_operator_applies_to_the_reference_backward() -> None:
    unused = [name for name in OPERATORS if not _mutants_of(name)]
    assert unused == []


def test_unknown_operator_lists_the_valid_ones() -> None:
    with pytest.raises(GradHarnessError, match="valid operators are .*scale_gradient"):
        select_operators(["no_such_operator"])


def test_registration_adds_to_the_table() -> None:
    def _test_only_operator(node, scope):
        """x -> y: a test operator."""
        return iter(())

    try:
        register_operator(_test_only_operator)
        assert OPERATORS["_test_only_operator"].summary == "x -> y: a test operator."
    finally:
        OPERATORS.pop("_test_only_operator", None)


# operator, a line of the reference, and what the line must become
EXPECTED_EDITS = [
    ("scale_gradient", "dW2 = 1.0 / m * np.dot(dZ2, A1.T)", "dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2"),
    ("wrong_constant_over_m", "db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)",
     "db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)"),
    ("drop_one_over_m", "dW3 = 1.0 / m * np.dot(dZ3, A2.T)", "dW3 = np.dot(dZ3, A2.T)"),
    ("integer_division", "dW3 = 1.0 / m * np.dot(dZ3, A2.T)", "dW3 = 1.0 // m * np.dot(dZ3, A2.T)"),
    ("m_wrong_axis", "m = X.shape[1]", "m = X.shape[0]"),
    ("drop_transpose", "dA2 = np.dot(W3.T, dZ3)", "dA2 = np.dot(W3, dZ3)"),
    ("extra_transpose", "dA2 = np.dot(W3.T, dZ3)", "dA2 = np.dot(W3.T, dZ3.T)"),
    ("swap_matmul_operands", "dA2 = np.dot(W3.T, dZ3)", "dA2 = np.dot(dZ3, W3.T)"),
    ("matmul_to_elementwise", "dA2 = np.dot(W3.T, dZ3)", "dA2 = np.multiply(W3.T, dZ3)"),
    ("wrong_cached_activation", "dW3 = 1.0 / m * np.dot(dZ3, A2.T)", "dW3 = 1.0 / m * np.dot(dZ3, A1.T)"),
    ("wrong_layer_weight", "dA2 = np.dot(W3.T, dZ3)", "dA2 = np.dot(W2.T, dZ3)"),
    ("relu_mask_comparison", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))", "dZ2 = np.multiply(dA2, np.int64(A2 >= 0))"),
    ("relu_mask_inverted", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))", "dZ2 = np.multiply(dA2, np.int64(A2 <= 0))"),
    ("relu_mask_from_pre_activation", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))",
     "dZ2 = np.multiply(dA2, np.int64(Z2 > 0))"),
    ("relu_mask_wrong_layer", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))", "dZ2 = np.multiply(dA2, np.int64(A1 > 0))"),
    ("relu_mask_from_gradient", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))",
     "dZ2 = np.multiply(dA2, np.int64(dA2 > 0))"),
    ("drop_activation_derivative", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))", "dZ2 = dA2"),
    ("drop_upstream_gradient", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))", "dZ2 = np.int64(A2 > 0)"),
    ("sign_flip_output_error", "dZ3 = A3 - Y", "dZ3 = Y - A3"),
    ("sigmoid_derivative_on_top", "dZ3 = A3 - Y", "dZ3 = (A3 - Y) * (A3 * (1 - A3))"),
    ("sum_wrong_axis", "db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)",
     "db2 = 1.0 / m * np.sum(dZ2, axis=0, keepdims=True)"),
    ("sum_all_axes", "db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)",
     "db2 = 1.0 / m * (np.sum(dZ2) * np.ones_like(b2))"),
    ("lost_keepdims", "db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)", "db2 = 1.0 / m * np.sum(dZ2, axis=1)"),
    ("sum_to_mean", "db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)",
     "db2 = 1.0 / m * np.mean(dZ2, axis=1, keepdims=True)"),
    ("float32_downcast", "dW2 = 1.0 / m * np.dot(dZ2, A1.T)", "dW2 = (1.0 / m * np.dot(dZ2, A1.T)).astype(np.float32)"),
    ("swap_returned_gradients", '"dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,',
     '"dA2": dA2, "dZ2": dZ2, "dW2": dW3, "db2": db2,'),
]  # fmt: skip


@pytest.mark.parametrize(("operator", "before", "after"), EXPECTED_EDITS, ids=[e[0] for e in EXPECTED_EDITS])
def test_operator_plants_the_mistake(operator: str, before: str, after: str) -> None:
    def lines(text: str) -> set[str]:
        return {line.strip() for line in text.splitlines()}

    assert before in lines(REFERENCE)
    found = [
        m for m in _mutants_of(operator) if after in lines(m.function_source) and before not in lines(m.function_source)
    ]
    assert found, f"{operator}: no mutant turns {before!r} into {after!r}"


def test_the_table_of_edits_covers_every_operator() -> None:
    assert {e[0] for e in EXPECTED_EDITS} == set(OPERATORS)


def test_equivalence_is_claimed_only_where_it_can_hold() -> None:
    strict = _mutants_of("relu_mask_from_pre_activation")
    assert strict and all(m.equivalent for m in strict)
    loose_source = textwrap.dedent(
        """
        import numpy as np
        def backward(X, Y, cache):
            (Z1, A1) = cache
            return np.int64(A1 >= 0), np.int64(Z1 > 0)
        """
    )
    on_a = _mutants_of("relu_mask_from_pre_activation", loose_source, "backward")
    assert [m.equivalent for m in on_a if "Z1 >= 0" in m.function_source] == [None]
    on_z = _mutants_of("relu_mask_comparison", loose_source, "backward")
    assert {m.replacement: bool(m.equivalent) for m in on_z} == {"A1 > 0": False, "Z1 >= 0": True}


def test_operators_use_the_names_of_user_code_in_either_case() -> None:
    source = textwrap.dedent(
        """
        import numpy as np
        def backward_propagation_n(X, Y, cache):
            m = X.shape[1]
            (z1, a1, w1, b1, z2, a2, w2, b2, z3, a3, w3, b3) = cache
            dz3 = a3 - Y
            dw3 = np.dot(dz3, a2.T) / m
            return {"dW3": dw3}
        """
    )
    descriptions = {m.description for m in generate_mutants(source, "backward_propagation_n", "u.py")}
    assert "line 7: np.dot(dz3, a2.T) / m -> np.dot(dz3, a2.T)" in descriptions
    assert "line 7: a2 -> a1" in descriptions
    assert "line 6: a3 - Y -> Y - a3" in descriptions


def test_mutated_functions_compile() -> None:
    for mutant in generate_mutants(REFERENCE, "backward_propagation_n", "f.py"):
        ast.parse(mutant.function_source)
