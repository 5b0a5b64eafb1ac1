"""Mutation operators of the ``deep`` target: the course's L-layer backward functions, one small function each.

The same shape as :mod:`gradharness.mutation.operators` (an operator looks at one node of a backward
function's tree and proposes replacements, ``before -> after`` in its docstring), in a table of its
own: these operators know the course's names (``dAL``, ``caches[l]``, ``grads["dA" + str(l + 1)]``,
``dZ[Z <= 0] = 0``, ``s * (1 - s)``, ``A_prev``, ``db``) and plant the mistakes people make writing
``L_model_backward`` and its building blocks. Where an exercise operator already makes the mistake
(a dropped ``1 / m``, a dropped transpose), the deep operator says it in the course's names and
delegates to it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator

from gradharness.mutation import operators as exercise
from gradharness.mutation.operator_tables import select_from, table_operator
from gradharness.mutation.operators import Operator, OperatorFunction, Replacement, Scope

DEEP_OPERATORS: dict[str, Operator] = {}


def deep_operator(*, may_be_equivalent: bool = False) -> Callable[[OperatorFunction], OperatorFunction]:
    """Add the decorated function to :data:`DEEP_OPERATORS` under its own name."""
    return table_operator(DEEP_OPERATORS, may_be_equivalent=may_be_equivalent)


def select_deep_operators(names: list[str] | tuple[str, ...] | None) -> list[Operator]:
    """The deep operators called ``names`` (all when None); an unknown name lists the valid ones."""
    return select_from(DEEP_OPERATORS, names, "--target deep")


# --- recognising the course's names -------------------------------------------------------------

_GRADIENT_KEY = re.compile(r"^d(A|W|b|Z)$", re.IGNORECASE)


def _name(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Load())


def _loop_variables(node: ast.AST, scope: Scope) -> set[str]:
    """The names bound by the ``for`` loops around ``node`` (``l`` in ``for l in reversed(range(L - 1))``)."""
    names: set[str] = set()
    parent = scope.parent(node)
    while parent is not None:
        if isinstance(parent, ast.For):
            names |= {n.id for n in ast.walk(parent.target) if isinstance(n, ast.Name)}
        parent = scope.parent(parent)
    return names


def _reads(expression: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(expression))


def _shifted(expression: ast.expr, delta: int) -> ast.expr:
    """``l + 1`` shifted by -1 is ``l``, ``l`` by +1 is ``l + 1``, ``l - 1`` by +1 is ``l``."""
    if (
        isinstance(expression, ast.BinOp)
        and isinstance(expression.op, (ast.Add, ast.Sub))
        and isinstance(expression.right, ast.Constant)
        and type(expression.right.value) is int
    ):
        offset = expression.right.value if isinstance(expression.op, ast.Add) else -expression.right.value
        base = expression.left
    else:
        offset, base = 0, expression
    offset += delta
    if offset == 0:
        return base
    return ast.BinOp(left=base, op=ast.Add() if offset > 0 else ast.Sub(), right=ast.Constant(abs(offset)))


def _shifts(expression: ast.expr) -> Iterator[ast.expr]:
    """The expression one lower and one higher."""
    for delta in (-1, 1):
        yield _shifted(expression, delta)


def _assigned_name(node: ast.AST, scope: Scope) -> str | None:
    """The name the statement around ``node`` assigns (``db`` for ``db = 1.0 / m * np.sum(...)``), if one."""
    parent = scope.parent(node)
    while parent is not None and not isinstance(parent, ast.stmt):
        parent = scope.parent(parent)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return parent.targets[0].id
    return None


# --- the output layer ------------------------------------------------------------------------------


@deep_operator()
def dAL_sign_flipped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)) -> dAL = np.divide(Y, AL) - ...: the sign of dAL flipped."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
        return
    if node.targets[0].id.lower() != "dal":
        return
    value = node.value
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        yield Replacement(value, value.operand)
    else:
        yield Replacement(value, ast.UnaryOp(op=ast.USub(), operand=value))


# --- the layer loop -----------------------------------------------------------------------------------


@deep_operator()
def cache_index_off_by_one(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """current_cache = caches[l] -> current_cache = caches[l + 1] (or caches[l - 1]): the neighbouring layer's cache."""
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and "cache" in node.value.id.lower()):
        return
    loop = _loop_variables(node, scope)
    if not loop or not _reads(node.slice, loop):
        return
    for index in _shifts(node.slice):
        yield Replacement(node.slice, index)


def _key_index(node: ast.AST) -> ast.expr | None:
    """The layer expression of a gradient key: ``l + 1`` in ``"dA" + str(l + 1)`` or in ``f"dA{l + 1}"``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        prefix, number = node.left, node.right
        if (
            isinstance(prefix, ast.Constant)
            and isinstance(prefix.value, str)
            and _GRADIENT_KEY.match(prefix.value)
            and isinstance(number, ast.Call)
            and isinstance(number.func, ast.Name)
            and number.func.id == "str"
            and len(number.args) == 1
        ):
            return number.args[0]
    if isinstance(node, ast.JoinedStr) and len(node.values) == 2:
        prefix, formatted = node.values
        if (
            isinstance(prefix, ast.Constant)
            and isinstance(prefix.value, str)
            and _GRADIENT_KEY.match(prefix.value)
            and isinstance(formatted, ast.FormattedValue)
        ):
            return formatted.value
    return None


@deep_operator()
def gradient_key_off_by_one(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """grads["dA" + str(l + 1)] -> grads["dA" + str(l)] (or str(l + 2)): a gradient key one layer off in the loop."""
    index = _key_index(node)
    if index is None:
        return
    loop = _loop_variables(node, scope)
    if loop and _reads(index, loop):
        for shifted in _shifts(index):
            yield Replacement(index, shifted)


# --- the activations' backward ------------------------------------------------------------------


def _is_zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 0


@deep_operator()
def relu_mask_on_upstream(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dZ[Z <= 0] = 0 -> dZ[dA <= 0] = 0: relu_backward masks by the upstream gradient dA instead of Z."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and _is_zero(node.comparators[0])):
        return
    left = node.left
    if not (isinstance(left, ast.Name) and re.fullmatch(r"[Zz]\d*", left.id)):
        return
    upstream = "d" + ("A" if left.id[0] == "Z" else "a") + left.id[1:]
    upstream = next((n for n in sorted(scope.names) if n.lower() == upstream.lower()), "")
    if upstream:
        yield Replacement(left, _name(upstream))


def _one_minus(node: ast.AST) -> bool:
    """``1 - s``."""
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Sub)
        and isinstance(node.left, ast.Constant)
        and node.left.value == 1
        and isinstance(node.right, ast.Name)
    )


@deep_operator()
def sigmoid_without_one_minus_s(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dZ = dA * s * (1 - s) -> dZ = dA * s: sigmoid_backward without the (1 - s) factor of sigmoid'."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        if _one_minus(node.right):
            yield Replacement(node, node.left)
        elif _one_minus(node.left):
            yield Replacement(node, node.right)


_ACTIVATIONS = ("relu", "sigmoid")


@deep_operator()
def activation_swapped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dZ = relu_backward(dA, activation_cache) -> dZ = sigmoid_backward(dA, activation_cache): the other activation.

    Also a layer's activation named the other way where the layer's backward is called:
    ``linear_activation_backward(dAL, current_cache, "sigmoid")`` -> ``(..., "relu")``.
    """
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return
    called = node.func.id
    if called.removesuffix("_backward") in _ACTIVATIONS and called.endswith("_backward"):
        other = next(a for a in _ACTIVATIONS if a != called.removesuffix("_backward"))
        yield Replacement(node.func, _name(f"{other}_backward"))
    elif called == "linear_activation_backward":
        for argument in node.args:
            if isinstance(argument, ast.Constant) and argument.value in _ACTIVATIONS:
                other = next(a for a in _ACTIVATIONS if a != argument.value)
                yield Replacement(argument, ast.Constant(other))


# --- linear_backward ------------------------------------------------------------------------------


@deep_operator()
def db_summed_over_every_axis(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True) -> db = 1.0 / m * np.sum(dZ): summed over units and examples."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "sum"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("np", "numpy")
        and node.args
        and node.keywords
    ):
        return
    assigned = _assigned_name(node, scope)
    if assigned is not None and assigned.lower().startswith("db"):
        yield Replacement(node, ast.Call(func=node.func, args=node.args[:1], keywords=[]))


@deep_operator()
def drop_one_over_m(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dW = 1.0 / m * np.dot(dZ, A_prev.T) -> dW = np.dot(dZ, A_prev.T): dW or db without the average over m."""
    yield from exercise.drop_one_over_m(node, scope)


def _one_over_m(node: ast.AST, scope: Scope) -> ast.expr | None:
    """The ``m`` of ``1.0 / m`` (or ``1 / m``), when m is the function's batch size."""
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Div)
        and isinstance(node.left, ast.Constant)
        and type(node.left.value) in (int, float)
        and node.left.value == 1
        and isinstance(node.right, ast.Name)
        and node.right.id in scope.m_names
    ):
        return node.right
    return None


@deep_operator()
def m_instead_of_one_over_m(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dW = 1.0 / m * np.dot(dZ, A_prev.T) -> dW = m * np.dot(dZ, A_prev.T): multiplied by m where 1/m belongs."""
    m = _one_over_m(node, scope)
    if m is not None:
        yield Replacement(node, _name(m.id))  # type: ignore[attr-defined]


@deep_operator()
def drop_transpose(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dA_prev = np.dot(W.T, dZ) -> dA_prev = np.dot(W, dZ): a missing transpose (W for W.T, A_prev for A_prev.T)."""
    yield from exercise.drop_transpose(node, scope)
