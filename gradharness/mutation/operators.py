"""Backprop-specific mutation operators: one small function each, collected in one table.

An operator looks at one node of a backward function's syntax tree and proposes
replacements (``before -> after`` in its docstring). It only proposes what a person
writing backprop by hand plausibly gets wrong, and prefers edits that keep every
shape valid, so that the gradient check, not a crash, has to find the bug.

Names are recognised by the exercise's conventions, in either case: activations
``A1``, ``A2`` (``X`` is layer 0), pre-activations ``Z1`` ..., weights ``W1`` ...,
biases ``b1`` ..., gradients ``dW1``, ``db1``, ``dZ1``, ``dA1`` ..., labels ``Y``
and the batch size ``m``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from gradharness.errors import GradHarnessError
from gradharness.model.keys import matching_key


@dataclass(frozen=True)
class Scope:
    """What an operator may know about the function being mutated."""

    names: frozenset[str]  # every name the function reads or binds
    m_names: frozenset[str]  # names bound to the batch size, e.g. {"m"}
    parents: dict[int, ast.AST] = field(compare=False, repr=False)  # id(node) -> parent node

    def find(self, kind: str, layer: int) -> str | None:
        """The function's name for e.g. ("A", 1) -> "A1" (or "a1"); ("A", 0) is X."""
        return matching_key(sorted(self.names), "X" if (kind, layer) == ("A", 0) else f"{kind}{layer}")

    def parent(self, node: ast.AST) -> ast.AST | None:
        """The node's parent in the function's tree."""
        return self.parents.get(id(node))


@dataclass(frozen=True)
class Replacement:
    """One proposed mutant: ``node``'s source is replaced by ``new`` (plus any ``also`` edits).

    ``equivalent`` says why this particular edit may change nothing, when it may.
    """

    node: ast.AST
    new: ast.AST
    equivalent: str | None = None
    also: tuple[tuple[ast.AST, ast.AST], ...] = ()


OperatorFunction = Callable[[ast.AST, Scope], Iterator[Replacement]]


@dataclass(frozen=True)
class Operator:
    """A registered operator: its name, its function and the first line of its docstring."""

    name: str
    function: OperatorFunction
    summary: str
    may_be_equivalent: bool


OPERATORS: dict[str, Operator] = {}


def register_operator(function: OperatorFunction, *, may_be_equivalent: bool = False) -> OperatorFunction:
    """Add ``function`` to :data:`OPERATORS` under its own name."""
    summary = (function.__doc__ or "").strip().splitlines()[0]
    OPERATORS[function.__name__] = Operator(function.__name__, function, summary, may_be_equivalent)
    return function


def operator(*, may_be_equivalent: bool = False) -> Callable[[OperatorFunction], OperatorFunction]:
    """Decorator form of :func:`register_operator`."""

    def wrap(function: OperatorFunction) -> OperatorFunction:
        return register_operator(function, may_be_equivalent=may_be_equivalent)

    return wrap


def select_operators(names: list[str] | None) -> list[Operator]:
    """The operators called ``names`` (all when None); an unknown name lists the valid ones."""
    if names is None:
        return list(OPERATORS.values())
    unknown = [n for n in names if n not in OPERATORS]
    if unknown:
        raise GradHarnessError(
            f"unknown mutation operator {', '.join(unknown)}; valid operators are {', '.join(OPERATORS)}"
        )
    return [OPERATORS[n] for n in names]


# --- recognising the exercise's names -------------------------------------------------

_LAYERED = re.compile(r"^(d?)([AaZzWwBb])(\d)$")


def layered(node: ast.AST) -> tuple[str, int] | None:
    """("A", 2) for a Name A2 or a2, ("dW", 1) for dW1, ("A", 0) for X; None otherwise."""
    if not isinstance(node, ast.Name):
        return None
    if node.id in ("X", "x"):
        return ("A", 0)
    match = _LAYERED.match(node.id)
    if match is None:
        return None
    prefix, letter, layer = match.groups()
    letter = "b" if letter in "Bb" else letter.upper()
    return (prefix + letter, int(layer))


def _is_numpy_call(node: ast.AST, *functions: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in functions
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("np", "numpy")
    )


def _is_matmul(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return True
    return _is_numpy_call(node, "dot", "matmul") and len(node.args) == 2  # type: ignore[attr-defined]


def _operands(node: ast.AST) -> tuple[ast.expr, ast.expr]:
    if isinstance(node, ast.BinOp):
        return node.left, node.right
    assert isinstance(node, ast.Call)
    return node.args[0], node.args[1]


def _with_operands(node: ast.AST, left: ast.expr, right: ast.expr) -> ast.AST:
    if isinstance(node, ast.BinOp):
        return ast.BinOp(left=left, op=node.op, right=right)
    assert isinstance(node, ast.Call)
    return ast.Call(func=node.func, args=[left, right], keywords=node.keywords)


def _is_over_m(node: ast.AST, scope: Scope) -> bool:
    """``c / m`` or ``c / X.shape[1]`` with a constant c."""
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Div)
        and isinstance(node.left, ast.Constant)
        and isinstance(node.left.value, (int, float))
        and _is_batch_size(node.right, scope)
    )


def _is_batch_size(node: ast.AST, scope: Scope) -> bool:
    if isinstance(node, ast.Name):
        return node.id in scope.m_names
    return _is_shape_index(node) is not None


def _is_shape_index(node: ast.AST) -> int | None:
    """1 for ``X.shape[1]``: the index of a ``.shape[k]`` subscript, else None."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "shape"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
        and node.slice.value in (0, 1)
    ):
        return node.slice.value
    return None


def _gradient_target(node: ast.AST) -> tuple[str, int] | None:
    """("dW", 2) for the statement ``dW2 = ...`` (the gradient of a parameter), else None."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        kind = layered(node.targets[0])
        if kind is not None and kind[0] in ("dW", "db"):
            return kind
    return None


def _matmul_operand(node: ast.AST, scope: Scope) -> bool:
    """``A2`` in ``np.dot(dZ3, A2.T)`` or ``np.dot(dZ3, A2)``."""
    parent = scope.parent(node)
    if isinstance(parent, ast.Attribute) and parent.attr == "T":
        node, parent = parent, scope.parent(parent)
    return parent is not None and _is_matmul(parent) and any(o is node for o in _operands(parent))


def _name(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Load())


def _np(function: str, *args: ast.expr, keywords: list[ast.keyword] | None = None) -> ast.Call:
    return ast.Call(func=ast.Attribute(value=_name("np"), attr=function, ctx=ast.Load()), args=list(args),
                    keywords=keywords or [])  # fmt: skip


def _keyword(node: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in node.keywords if k.arg == name), None)


# --- the batch size m -------------------------------------------------------------------


@operator()
def drop_one_over_m(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """1.0 / m * np.dot(dZ3, A2.T) -> np.dot(dZ3, A2.T): the average over the batch forgotten."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        if _is_over_m(node.left, scope):
            yield Replacement(node, node.right)
        elif _is_over_m(node.right, scope):
            yield Replacement(node, node.left)
    elif (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Div)
        and not isinstance(node.left, ast.Constant)
        and _is_batch_size(node.right, scope)
    ):
        yield Replacement(node, node.left)


@operator()
def wrong_constant_over_m(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """1.0 / m -> 4.0 / m: the seed's planted db1 bug, a wrong constant over the batch size."""
    if _is_over_m(node, scope):
        assert isinstance(node, ast.BinOp) and isinstance(node.left, ast.Constant)
        assert isinstance(node.left.value, (int, float))
        yield Replacement(node, ast.BinOp(left=ast.Constant(4.0 * node.left.value), op=ast.Div(), right=node.right))


@operator()
def integer_division(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """1.0 / m -> 1.0 // m: floor division (Python 2 habits), zero for every m > 1."""
    if _is_over_m(node, scope):
        assert isinstance(node, ast.BinOp)
        yield Replacement(node, ast.BinOp(left=node.left, op=ast.FloorDiv(), right=node.right))


@operator()
def m_wrong_axis(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """m = X.shape[1] -> m = X.shape[0]: the batch size read off the feature axis."""
    index = _is_shape_index(node)
    if index is not None and isinstance(scope.parent(node), ast.Assign):
        assert isinstance(node, ast.Subscript)
        yield Replacement(node, ast.Subscript(value=node.value, slice=ast.Constant(1 - index), ctx=ast.Load()))


# --- scaling of one gradient ------------------------------------------------------------


@operator()
def scale_gradient(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dW2 = expr -> dW2 = expr * 2: the seed's planted dW2 bug, a gradient off by a constant factor."""
    if _gradient_target(node) is not None:
        assert isinstance(node, ast.Assign)
        yield Replacement(node.value, ast.BinOp(left=node.value, op=ast.Mult(), right=ast.Constant(2)))


@operator()
def float32_downcast(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dW2 = expr -> dW2 = (expr).astype(np.float32): a gradient stored in single precision.

    float32 keeps about 7 significant digits (relative rounding 6e-8, below the seed's
    threshold 1e-7 on the difference); the gradient property rejects non-float64 gradients.
    """
    if _gradient_target(node) is not None:
        assert isinstance(node, ast.Assign)
        cast = ast.Call(
            func=ast.Attribute(value=node.value, attr="astype", ctx=ast.Load()),
            args=[ast.Attribute(value=_name("np"), attr="float32", ctx=ast.Load())],
            keywords=[],
        )
        yield Replacement(node.value, cast)


# --- transposes and matrix products -----------------------------------------------------


@operator()
def drop_transpose(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.dot(dZ3, A2.T) -> np.dot(dZ3, A2): a missing transpose (shapes fit when the matrix is square)."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield Replacement(node, node.value)


@operator()
def extra_transpose(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.dot(dZ3, A2.T) -> np.dot(dZ3.T, A2.T): an extra transpose on a gradient operand of a product."""
    if _is_matmul(node):
        for operand in _operands(node):
            kind = layered(operand)
            if kind is not None and kind[0] in ("dZ", "dA"):
                yield Replacement(operand, ast.Attribute(value=operand, attr="T", ctx=ast.Load()))


@operator()
def swap_matmul_operands(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.dot(W3.T, dZ3) -> np.dot(dZ3, W3.T): the operands of a matrix product in the wrong order."""
    if _is_matmul(node):
        left, right = _operands(node)
        yield Replacement(node, _with_operands(node, right, left))


@operator()
def matmul_to_elementwise(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.dot(dZ3, A2.T) -> np.multiply(dZ3, A2.T): a matrix product written as an elementwise one."""
    if _is_matmul(node):
        left, right = _operands(node)
        if isinstance(node, ast.BinOp):
            yield Replacement(node, ast.BinOp(left=left, op=ast.Mult(), right=right))
        else:
            yield Replacement(node, _np("multiply", left, right))


# --- which tensor is used ---------------------------------------------------------------


@operator()
def wrong_cached_activation(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.dot(dZ3, A2.T) -> np.dot(dZ3, A1.T): the neighbouring layer's cached activation (A1 for A2, X for A1)."""
    kind = layered(node)
    if kind is None or kind[0] != "A" or not _matmul_operand(node, scope):
        return
    layer = kind[1]
    top = max((n for n in range(1, 10) if scope.find("A", n)), default=0)
    if layer >= top:  # the output activation is not a cached input of a weight gradient
        return
    for other in (layer - 1, layer + 1):
        name = scope.find("A", other) if 0 <= other < top else None
        if name is not None:
            yield Replacement(node, _name(name))


@operator()
def wrong_layer_weight(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.dot(W3.T, dZ3) -> np.dot(W2.T, dZ3): the wrong layer's weight matrix in the backward step."""
    kind = layered(node)
    if kind is None or kind[0] != "W" or not isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
        return
    for other in (kind[1] - 1, kind[1] + 1):
        name = scope.find("W", other) if other >= 1 else None
        if name is not None:
            yield Replacement(node, _name(name))


# --- the ReLU derivative ----------------------------------------------------------------


def _relu_mask(node: ast.AST) -> tuple[ast.Compare, tuple[str, int]] | None:
    """``A2 > 0`` (or ``Z2 >= 0``, ``0 < A2``): the comparison and the compared array's kind."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    kind = layered(node.left)
    right = node.comparators[0]
    if kind is None or kind[0] not in ("A", "Z") or kind[1] == 0:
        return None
    if not (isinstance(right, ast.Constant) and right.value == 0):
        return None
    return node, kind


_FLIP_STRICT = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt}
_INVERT = {ast.Gt: ast.LtE, ast.GtE: ast.Lt, ast.Lt: ast.GtE, ast.LtE: ast.Gt}


@operator(may_be_equivalent=True)
def relu_mask_comparison(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """A2 > 0 -> A2 >= 0: the ReLU mask with the wrong comparison (all ones when taken on A).

    On Z the two masks differ only where Z is exactly 0, a kink where the derivative is
    undefined: equivalent for the checker.
    """
    found = _relu_mask(node)
    if found is None or type(found[0].ops[0]) not in _FLIP_STRICT:
        return
    compare, kind = found
    new_op = _FLIP_STRICT[type(compare.ops[0])]()
    reason = "the masks differ only where Z is exactly 0, a ReLU kink" if kind[0] == "Z" else None
    yield Replacement(compare, ast.Compare(left=compare.left, ops=[new_op], comparators=compare.comparators), reason)


@operator()
def relu_mask_inverted(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """A2 > 0 -> A2 <= 0: the ReLU mask inverted (gradient passed where the unit is off)."""
    found = _relu_mask(node)
    if found is None or type(found[0].ops[0]) not in _INVERT:
        return
    compare = found[0]
    new_op = _INVERT[type(compare.ops[0])]()
    yield Replacement(compare, ast.Compare(left=compare.left, ops=[new_op], comparators=compare.comparators))


@operator(may_be_equivalent=True)
def relu_mask_from_pre_activation(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """A2 > 0 -> Z2 > 0: the ReLU derivative evaluated on Z instead of A (or on A instead of Z).

    relu(Z) > 0 exactly when Z > 0, so with a strict comparison this mutant is equivalent.
    """
    found = _relu_mask(node)
    if found is None:
        return
    compare, (kind, layer) = found
    other = scope.find("Z" if kind == "A" else "A", layer)
    if other is None:
        return
    strict = isinstance(compare.ops[0], (ast.Gt, ast.Lt))
    reason = "relu(Z) > 0 exactly when Z > 0" if strict else None
    yield Replacement(compare.left, _name(other), reason)


@operator()
def relu_mask_wrong_layer(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.int64(A2 > 0) -> np.int64(A1 > 0): the ReLU derivative of the other hidden layer."""
    found = _relu_mask(node)
    if found is None:
        return
    compare, (kind, layer) = found
    for other in (layer - 1, layer + 1):
        name = scope.find(kind, other) if other >= 1 else None
        if name is not None and scope.find("A", other + 1) is not None:  # a hidden layer, not the output
            yield Replacement(compare.left, _name(name))


@operator()
def relu_mask_from_gradient(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.int64(A2 > 0) -> np.int64(dA2 > 0): the ReLU mask taken from the upstream gradient."""
    found = _relu_mask(node)
    if found is None:
        return
    compare, (_, layer) = found
    name = scope.find("dA", layer)
    if name is not None:
        yield Replacement(compare.left, _name(name))


def _masked_product(node: ast.AST) -> tuple[ast.expr, ast.expr] | None:
    """(upstream gradient, mask) of ``np.multiply(dA2, mask)`` or ``dA2 * mask``."""
    if _is_numpy_call(node, "multiply") and len(node.args) == 2:  # type: ignore[attr-defined]
        left, right = node.args  # type: ignore[attr-defined]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = node.left, node.right
    else:
        return None
    for upstream, mask in ((left, right), (right, left)):
        kind = layered(upstream)
        if kind is not None and kind[0] == "dA" and any(_relu_mask(n) for n in ast.walk(mask)):
            return upstream, mask
    return None


@operator()
def drop_activation_derivative(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dZ2 = np.multiply(dA2, np.int64(A2 > 0)) -> dZ2 = dA2: the ReLU derivative factor dropped."""
    found = _masked_product(node)
    if found is not None:
        yield Replacement(node, found[0])


@operator()
def drop_upstream_gradient(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dZ2 = np.multiply(dA2, np.int64(A2 > 0)) -> dZ2 = np.int64(A2 > 0): the upstream gradient term dropped."""
    found = _masked_product(node)
    if found is not None:
        yield Replacement(node, found[1])


# --- the output layer -------------------------------------------------------------------


def _output_error(node: ast.AST) -> tuple[ast.BinOp, ast.expr] | None:
    """``A3 - Y``: the subtraction and its activation operand."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        for activation, labels in ((node.left, node.right), (node.right, node.left)):
            kind = layered(activation)
            if isinstance(labels, ast.Name) and labels.id in ("Y", "y") and kind is not None and kind[0] == "A":
                return node, activation
    return None


@operator()
def sign_flip_output_error(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dZ3 = A3 - Y -> dZ3 = Y - A3: the sign of the output error flipped."""
    found = _output_error(node)
    if found is not None:
        yield Replacement(node, ast.BinOp(left=node.right, op=ast.Sub(), right=node.left))  # type: ignore[attr-defined]


@operator()
def sigmoid_derivative_on_top(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dZ3 = A3 - Y -> dZ3 = (A3 - Y) * A3 * (1 - A3): sigmoid' multiplied in on top of the cross-entropy shortcut."""
    found = _output_error(node)
    if found is not None:
        subtraction, activation = found
        derivative = ast.BinOp(left=activation, op=ast.Mult(),
                               right=ast.BinOp(left=ast.Constant(1), op=ast.Sub(), right=activation))  # fmt: skip
        yield Replacement(node, ast.BinOp(left=subtraction, op=ast.Mult(), right=derivative))


# --- bias gradients: sums over the batch -------------------------------------------------


def _batch_sum(node: ast.AST) -> ast.Call | None:
    """``np.sum(dZ2, axis=1, keepdims=True)`` (or np.mean)."""
    if _is_numpy_call(node, "sum", "mean") and len(node.args) >= 1:  # type: ignore[attr-defined]
        return node  # type: ignore[return-value]
    return None


def _enclosing_gradient(node: ast.AST, scope: Scope) -> tuple[str, int] | None:
    parent = scope.parent(node)
    while parent is not None and not isinstance(parent, ast.stmt):
        parent = scope.parent(parent)
    return _gradient_target(parent) if parent is not None else None


@operator()
def sum_wrong_axis(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.sum(dZ2, axis=1, keepdims=True) -> np.sum(dZ2, axis=0, keepdims=True): summed over units, not examples."""
    call = _batch_sum(node)
    axis = _keyword(call, "axis") if call is not None else None
    if call is not None and axis is not None and isinstance(axis.value, ast.Constant) and axis.value.value in (0, 1):
        keywords = [ast.keyword(arg="axis", value=ast.Constant(1 - axis.value.value)) if k is axis else k
                    for k in call.keywords]  # fmt: skip
        yield Replacement(call, ast.Call(func=call.func, args=call.args, keywords=keywords))


@operator()
def sum_all_axes(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.sum(dZ2, axis=1, keepdims=True) -> np.sum(dZ2) * np.ones_like(b2): summed over every axis, then broadcast."""
    call = _batch_sum(node)
    target = _enclosing_gradient(node, scope)
    if call is None or _keyword(call, "axis") is None or target is None or target[0] != "db":
        return
    bias = scope.find("b", target[1])
    total = ast.Call(func=call.func, args=call.args[:1], keywords=[])
    if bias is not None:
        yield Replacement(call, ast.BinOp(left=total, op=ast.Mult(), right=_np("ones_like", _name(bias))))
    else:
        yield Replacement(call, ast.Call(func=call.func, args=call.args[:1],
                                         keywords=[ast.keyword(arg="keepdims", value=ast.Constant(True))]))  # fmt: skip


@operator()
def lost_keepdims(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.sum(dZ2, axis=1, keepdims=True) -> np.sum(dZ2, axis=1): a bias gradient of shape (n,) instead of (n, 1)."""
    call = _batch_sum(node)
    keepdims = _keyword(call, "keepdims") if call is not None else None
    if call is not None and keepdims is not None:
        yield Replacement(call, ast.Call(func=call.func, args=call.args,
                                         keywords=[k for k in call.keywords if k is not keepdims]))  # fmt: skip


@operator()
def sum_to_mean(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """1.0 / m * np.sum(dZ2, axis=1, keepdims=True) -> 1.0 / m * np.mean(...): divided by m twice."""
    call = _batch_sum(node)
    if call is not None and isinstance(call.func, ast.Attribute) and call.func.attr == "sum":
        func = ast.Attribute(value=call.func.value, attr="mean", ctx=ast.Load())
        yield Replacement(call, ast.Call(func=func, args=call.args, keywords=call.keywords))


# --- the returned dictionary ------------------------------------------------------------


@operator()
def swap_returned_gradients(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """{"dW1": dW1, "dW2": dW2} -> {"dW1": dW2, "dW2": dW1}: two gradients returned under each other's names."""
    if not isinstance(node, ast.Dict):
        return
    slots: dict[tuple[str, int], int] = {}
    for index, key in enumerate(node.keys):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            kind = layered(ast.Name(id=key.value, ctx=ast.Load()))
            if kind is not None and kind[0] in ("dW", "db"):
                slots[kind] = index
    for (name, layer), first in sorted(slots.items()):
        second = slots.get((name, layer + 1))
        if second is None:
            continue
        one, other = node.values[first], node.values[second]
        yield Replacement(one, other, also=((other, one),))
