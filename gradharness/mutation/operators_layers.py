"""Mutation operators of the ``layers`` target: CS231n's layer backward functions and losses, one small function each.

The same shape as :mod:`gradharness.mutation.operators` (an operator looks at one node of a backward
function's tree and proposes replacements, ``before -> after`` in its docstring), in a table of its own:
these operators know CS231n's way of writing a layer (``np.sum(dout, axis=0)``, ``dout.dot(w.T)``,
``dx /= N``, ``dout * (x > 0)``, ``dw[f] += ...`` in the naive loops, ``.reshape(x.shape)``) and plant the
mistakes people make writing its backward passes.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from gradharness.mutation.operator_tables import select_from, table_operator
from gradharness.mutation.operators import Operator, OperatorFunction, Replacement, Scope

LAYERS_OPERATORS: dict[str, Operator] = {}


def layers_operator(*, may_be_equivalent: bool = False) -> Callable[[OperatorFunction], OperatorFunction]:
    """Add the decorated function to :data:`LAYERS_OPERATORS` under its own name."""
    return table_operator(LAYERS_OPERATORS, may_be_equivalent=may_be_equivalent)


def select_layers_operators(names: list[str] | tuple[str, ...] | None) -> list[Operator]:
    """The layers operators called ``names`` (all when None); an unknown name lists the valid ones."""
    return select_from(LAYERS_OPERATORS, names, "--target layers")


# --- recognising CS231n's code --------------------------------------------------------------------


def _is_np_call(node: ast.AST, function: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == function
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("np", "numpy")
    )


def _keyword(node: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in node.keywords if k.arg == name), None)


def _without_keyword(node: ast.Call, name: str) -> ast.Call:
    return ast.Call(func=node.func, args=node.args, keywords=[k for k in node.keywords if k.arg != name])


def _function_of(node: ast.AST, scope: Scope) -> ast.FunctionDef | None:
    """The function the node is in (the root of the scope's tree)."""
    parent = scope.parent(node)
    while parent is not None and not isinstance(parent, ast.FunctionDef):
        parent = scope.parent(parent)
    return parent


def _is_shape_entry(node: ast.AST) -> bool:
    """``x.shape[0]``, ``dout.shape[1]``: one entry of an array's shape."""
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape"


def _sizes(function: ast.FunctionDef | None) -> set[str]:
    """The names the function binds to sizes: ``N = x.shape[0]``, ``N, C, H, W = dout.shape``, ``M = C // G * H * W``.

    A name computed from sizes only (``M``) is a size too: dividing by it is the same mistake to leave out.
    """
    sizes: set[str] = set()
    if function is None:
        return sizes
    for node in ast.walk(function):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and _is_shape_entry(value):
            sizes.add(target.id)
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Attribute) and value.attr == "shape":
            sizes |= {n.id for n in target.elts if isinstance(n, ast.Name)}
        elif isinstance(target, ast.Name) and isinstance(value, ast.BinOp):
            read = [n.id for n in ast.walk(value) if isinstance(n, ast.Name)]
            if read and all(name in sizes for name in read):
                sizes.add(target.id)
    return sizes


def _is_size(node: ast.AST, sizes: set[str]) -> bool:
    return (isinstance(node, ast.Name) and node.id in sizes) or _is_shape_entry(node)


def _in_loop(node: ast.AST, scope: Scope) -> bool:
    parent = scope.parent(node)
    while parent is not None:
        if isinstance(parent, (ast.For, ast.While)):
            return True
        parent = scope.parent(parent)
    return False


def _in_assigned_value(node: ast.AST, scope: Scope) -> bool:
    """Whether the node is part of the value an assignment (plain or augmented) assigns, not of its target."""
    child, parent = node, scope.parent(node)
    while parent is not None and not isinstance(parent, ast.stmt):
        child, parent = parent, scope.parent(parent)
    return isinstance(parent, (ast.Assign, ast.AugAssign)) and parent.value is child


def _upstream(scope: Scope, node: ast.AST) -> str | None:
    """The backward's upstream gradient: its first parameter when it is named ``d...`` (``dout``)."""
    function = _function_of(node, scope)
    if function is None or not function.args.args:
        return None
    first = function.args.args[0].arg
    return first if first.startswith("d") else None


# --- sums over the batch and over the features ----------------------------------------------------


@layers_operator()
def sum_axis_changed(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """db = np.sum(dout, axis=0) -> db = np.sum(dout, axis=1): summed over the other axis (0 <-> 1)."""
    if not _is_np_call(node, "sum"):
        return
    assert isinstance(node, ast.Call)
    axis = _keyword(node, "axis")
    if axis is not None and isinstance(axis.value, ast.Constant) and axis.value.value in (0, 1):
        other = ast.keyword(arg="axis", value=ast.Constant(1 - axis.value.value))
        keywords = [other if k is axis else k for k in node.keywords]
        yield Replacement(node, ast.Call(func=node.func, args=node.args, keywords=keywords))


@layers_operator()
def sum_axis_dropped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """db = np.sum(dout, axis=0) -> db = np.sum(dout): summed over every axis (a scalar, or a (1, 1) array)."""
    if _is_np_call(node, "sum") and _keyword(node, "axis") is not None:  # type: ignore[arg-type]
        yield Replacement(node, _without_keyword(node, "axis"))  # type: ignore[arg-type]


@layers_operator()
def keepdims_dropped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """np.sum(dx_hat, axis=1, keepdims=True) -> np.sum(dx_hat, axis=1): the sum no longer broadcasts along its axis."""
    if _is_np_call(node, "sum") and _keyword(node, "keepdims") is not None:  # type: ignore[arg-type]
        yield Replacement(node, _without_keyword(node, "keepdims"))  # type: ignore[arg-type]


@layers_operator()
def mean_for_sum(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dbeta = np.sum(dout, axis=0) -> dbeta = np.mean(dout, axis=0): the mean where the gradient is a sum."""
    if _is_np_call(node, "sum"):
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        mean = ast.Attribute(value=node.func.value, attr="mean", ctx=ast.Load())
        yield Replacement(node, ast.Call(func=mean, args=node.args, keywords=node.keywords))


# --- the batch size -------------------------------------------------------------------------------


@layers_operator()
def division_by_size_dropped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dx /= N -> (nothing), dx = dxmu + dmu / N -> dx = dxmu + dmu: a division by a size (N, D, x.shape[0]) left out."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        if _is_size(node.right, _sizes(_function_of(node, scope))):
            yield Replacement(node, node.left)
    elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div):
        if _is_size(node.value, _sizes(_function_of(node, scope))):
            yield Replacement(node, ast.Pass())


# --- transposes, masks and reshapes ---------------------------------------------------------------


@layers_operator()
def transpose_dropped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dx = dout.dot(w.T) -> dx = dout.dot(w): a missing .T (shapes fit when the matrix is square)."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield Replacement(node, node.value)


def _is_zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 0


@layers_operator()
def mask_from_wrong_array(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dx = dout * (x > 0) -> dx = dout * (dout > 0): the mask read from the upstream gradient, not the input."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and _is_zero(node.comparators[0])):
        return
    upstream = _upstream(scope, node)
    if upstream is not None and isinstance(node.left, ast.Name) and node.left.id != upstream:
        yield Replacement(node.left, ast.Name(id=upstream, ctx=ast.Load()))


@layers_operator(may_be_equivalent=True)
def accumulation_overwritten(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j] -> dw[f] = ...: each pass of the loop overwrites the last.

    Equivalent where every entry is written once (pooling windows that do not overlap).
    """
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and _in_loop(node, scope):
        yield Replacement(node, ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno))


def _terms(node: ast.expr) -> list[tuple[bool, ast.expr]]:
    """The terms of a sum ``a + b - c`` with their signs: [(True, a), (True, b), (False, c)]."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        right = (isinstance(node.op, ast.Add), node.right)
        return [*_terms(node.left), right]
    return [(True, node)]


def _sum_of(terms: list[tuple[bool, ast.expr]]) -> ast.expr:
    positive, first = terms[0]
    total: ast.expr = first if positive else ast.UnaryOp(op=ast.USub(), operand=first)
    for plus, term in terms[1:]:
        total = ast.BinOp(left=total, op=ast.Add() if plus else ast.Sub(), right=term)
    return total


@layers_operator(may_be_equivalent=True)
def term_dropped(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dxmu = dxmu_direct + dxmu_var -> dxmu = dxmu_direct: one term of a sum in an assignment left out.

    Equivalent where the term cannot change the result (softmax's shift by the row's maximum, to rounding).
    """
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))):
        return
    parent = scope.parent(node)
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub)) and parent.left is node:
        return  # a part of a longer sum: the whole sum proposes its terms
    if not _in_assigned_value(node, scope):
        return
    terms = _terms(node)
    for index in range(len(terms)):
        yield Replacement(node, _sum_of(terms[:index] + terms[index + 1 :]))


def _is_reshape(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "reshape"


@layers_operator()
def shape_reversed(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dx = dout.dot(w.T).reshape(x.shape) -> .reshape(x.shape[::-1]): the right size, the axes in reverse order.

    Also ``.reshape(N, C, H, W)`` -> ``.reshape(W, H, C, N)``: reversing keeps the size, so the reshape itself
    never fails (the gradient's shape is what is wrong, unless the shape reads the same both ways).
    """
    if not (_is_reshape(node) and not node.keywords):  # type: ignore[attr-defined]
        return
    assert isinstance(node, ast.Call)
    if not node.args:
        return
    first, *rest = node.args
    if not rest and isinstance(first, ast.Attribute) and first.attr == "shape":
        backwards = ast.Subscript(
            value=first, slice=ast.Slice(step=ast.UnaryOp(op=ast.USub(), operand=ast.Constant(1)))
        )
        yield Replacement(first, backwards)
    elif rest:
        yield Replacement(node, ast.Call(func=node.func, args=list(reversed(node.args)), keywords=[]))


@layers_operator()
def transposed_before_reshape(node: ast.AST, scope: Scope) -> Iterator[Replacement]:
    """dx = dx_groups.reshape(N, C, H, W) -> dx = dx_groups.T.reshape(N, C, H, W): entries reordered, shape kept."""
    if not _is_reshape(node):
        return
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    array = node.func.value
    if isinstance(array, ast.Attribute) and array.attr == "T":
        return
    transposed = ast.Attribute(value=array, attr="T", ctx=ast.Load())
    yield Replacement(array, transposed)
