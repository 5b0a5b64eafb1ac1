"""Mutation operators of the regularisation exercise's backward passes (L2 and dropout), one small function each.

The same shape as :mod:`gradharness.mutation.operators`, in a table of its own, for
``backward_propagation_with_regularization`` (the L2 term ``lambd / m * W3`` of each dW) and
``backward_propagation_with_dropout`` (each hidden dA multiplied by its mask ``D2`` and divided by
``keep_prob``): the mistakes people make when they add regularisation or dropout to a backward pass.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator

from gradharness.mutation.operator_tables import select_from, table_operator
from gradharness.mutation.operators import Operator, OperatorFunction, Replacement, Scope

REGULARISED_OPERATORS: dict[str, Operator] = {}


def regularised_operator(*, may_be_equivalent: bool = False) -> Callable[[OperatorFunction], OperatorFunction]:
    """Add the decorated function to :data:`REGULARISED_OPERATORS` under its own name."""
    return table_operator(REGULARISED_OPERATORS, may_be_equivalent=may_be_equivalent)


def select_regularised_operators(names: list[str] | tuple[str, ...] | None) -> list[Operator]:
    """The regularisation operators called ``names`` (all when None); an unknown name lists the valid ones."""
    return select_from(REGULARISED_OPERATORS, names, "--reference regularised")


_LAMBDA = re.compile(r"^lambda?_?$", re.IGNORECASE)  # lambd, lambda_, Lambda
_MASK = re.compile(r"^[Dd]\d$")  # D1, D2
_KEEP = re.compile(r"^keep_?prob$", re.IGNORECASE)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_lambda(name: str) -> bool:
    return bool(_LAMBDA.match(name))


def _over_name(node: ast.AST) -> tuple[ast.expr, str] | None:
    """``(x, name)`` for a division ``x / name`` by a bare name, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Name):
        return node.left, node.right.id
    return None


# --- L2 regularisation ----------------------------------------------------------------------------


@regularised_operator()
def regularisation_term_dropped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dW3 = 1.0 / m * np.dot(dZ3, A2.T) + lambd / m * W3 -> dW3 = 1.0 / m * np.dot(dZ3, A2.T): no L2 term."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return
    left, right = (any(_is_lambda(n) for n in _names(side)) for side in (node.left, node.right))
    if right and not left:
        yield Replacement(node, node.left)
    elif left and not right:
        yield Replacement(node, node.right)


@regularised_operator()
def lambd_without_m(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """lambd / m * W3 -> lambd * W3: the L2 term's lambd where lambd / m belongs."""
    division = _over_name(node)
    if division is None:
        return
    lambd, m = division
    if isinstance(lambd, ast.Name) and _is_lambda(lambd.id) and m in scope.m_names:
        yield Replacement(node, lambd)


# --- dropout ------------------------------------------------------------------------------------------


@regularised_operator()
def dropout_mask_dropped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dA2 = dA2 * D2 -> dA2 = dA2: the backward without the forward's dropout mask (D2 unused)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for mask, other in ((node.right, node.left), (node.left, node.right)):
            if isinstance(mask, ast.Name) and _MASK.match(mask.id):
                yield Replacement(node, other)
                return


@regularised_operator()
def keep_prob_division_dropped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dA2 = dA2 / keep_prob -> dA2 = dA2: the backward without the forward's 1 / keep_prob scaling."""
    division = _over_name(node)
    if division is not None and _KEEP.match(division[1]):
        yield Replacement(node, division[0])
