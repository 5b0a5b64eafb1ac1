"""The user's functions as the judge calls them: stand-ins that forward each call to the evaluator.

The properties call these exactly as they would call the user's functions in-process. What comes
back is rebuilt by :func:`~gradharness.isolation.values.decode_value` and judged by the properties
as usual; an exception the user's code raised comes back as :class:`~gradharness.errors.UserRaised`;
inputs the user's code modified are written back into the judge's copies, so the side-effect
property sees them. A reply that is not what the request asked for ends the check
(:class:`~gradharness.errors.EvaluatorLost`).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradharness.check.finite_diff import Perturbations, PerturbedCosts
from gradharness.check.program import Argument, Call, Output, Varied
from gradharness.errors import EvaluatorLost, UserRaised
from gradharness.isolation.client import Evaluator
from gradharness.isolation.protocol import ProtocolError
from gradharness.isolation.values import MAX_TEXT, cut, decode_value, encode_value
from gradharness.model.parameters import Parameters, unchanged
from gradharness.targets.functions import FunctionSpec


class CacheRef:
    """The cache of a forward pass, which stays in the evaluator: only its id crosses."""

    __slots__ = ("id",)

    def __init__(self, cache_id: int) -> None:
        self.id = cache_id


def _returned(evaluator: Evaluator, reply: dict[str, Any]) -> Any:
    """What the user's function returned, or raise what it raised."""
    raised = reply.get("raised")
    if isinstance(raised, dict):
        raise UserRaised(cut(raised.get("type", "Exception"), 100), cut(raised.get("message", ""), 3 * MAX_TEXT))
    if "error" in reply:
        raise EvaluatorLost(
            f"the evaluator could not answer ({cut(reply['error'], MAX_TEXT)}) during: {evaluator.step}"
        )
    try:
        return decode_value(reply.get("returned"))
    except ProtocolError as exc:
        raise EvaluatorLost(f"the evaluator broke the protocol ({exc}) during: {evaluator.step}") from None


def _write_back(target: Any, value: Any) -> Any:
    """``target`` (an array of the judge's) made to hold ``value``; whatever it can hold otherwise."""
    array = np.asarray(value) if isinstance(value, np.ndarray) else None
    if isinstance(target, np.ndarray) and array is not None and array.shape == target.shape:
        np.copyto(target, array, casting="unsafe")
    elif isinstance(target, np.ndarray):
        target.fill(np.nan)  # it became something else: it is not unchanged
    return target


def _changes(reply: dict[str, Any] | None) -> bool:
    """Whether a reply says the call changed X, Y or a parameter (any other key means nothing)."""
    changed = reply.get("changed") if isinstance(reply, dict) else None
    return isinstance(changed, dict) and any(changed.get(key) is not None for key in ("X", "Y", "parameters"))


def _apply_changes(reply: dict[str, Any], X: Any, Y: Any, parameters: Any) -> None:
    changed = reply.get("changed") or {}
    if not isinstance(changed, dict):
        return
    for label, target in (("X", X), ("Y", Y)):
        if label in changed:
            _write_back(target, decode_value(changed[label]))
    for name, tree in (changed.get("parameters") or {}).items():
        if isinstance(parameters, dict) and name in parameters:
            value = decode_value(tree)
            if value is None:
                del parameters[name]
            else:
                parameters[name] = value


def _arrays(parameters: Parameters) -> dict[str, np.ndarray]:
    return {str(k): np.asarray(v) for k, v in parameters.items()}


def _key(X: np.ndarray, Y: np.ndarray, arrays: dict[str, np.ndarray]) -> bytes:
    """The inputs of a forward call, exactly (names, dtype, shape and bytes of each array)."""
    parts = [np.asarray(X), np.asarray(Y), *(arrays[k] for k in sorted(arrays))]
    names = ",".join(sorted(arrays)).encode()
    return names + b"|" + b"|".join(f"{a.dtype.str}{a.shape}".encode() + a.tobytes() for a in parts)


class RemoteNetwork:
    """The file's network pair: ``forward`` (with ``perturbed_costs``) and ``backward``.

    A forward request also runs backward on its cache in the same round trip; the reply is used
    when backward is then called on the same X and Y, as the properties do. The last forward's
    reply is reused once for a forward at the same inputs (the checker's base cost), unless that
    forward or its backward changed their inputs (then every call must show it).
    """

    def __init__(self, evaluator: Evaluator) -> None:
        self._evaluator = evaluator
        self._inputs: dict[int, tuple[Any, ...]] = {}
        self._last: tuple[bytes, Any] | None = None  # inputs and reply of the last forward, if reusable
        self.forward = _Forward(self)

    def call_forward(self, X: np.ndarray, Y: np.ndarray, parameters: Parameters) -> Any:
        arrays = _arrays(parameters)
        key = _key(X, Y, arrays)
        if self._last is not None and self._last[0] == key:
            returned, self._last = self._last[1], None
            return returned
        message = {"call": "forward", "X": X, "Y": Y, "parameters": arrays, "backward": True}
        reply = self._evaluator.call(message)
        returned = _returned(self._evaluator, reply)
        _apply_changes(reply, X, Y, parameters)
        cache = reply.get("cache")
        prefetched = reply.get("backward")
        prefetched = prefetched if isinstance(prefetched, dict) else None
        if isinstance(cache, int) and isinstance(returned, (tuple, list)) and len(returned) == 2:
            sent = (np.array(X, copy=True), np.array(Y, copy=True))
            self._inputs = {cache: (X, Y, parameters, prefetched, *sent)}
            pair = (returned[0], CacheRef(cache))
            returned = pair if isinstance(returned, tuple) else list(pair)
        self._last = None if _changes(reply) or _changes(prefetched) else (key, returned)
        return returned

    def backward(self, X: np.ndarray, Y: np.ndarray, cache: object) -> Any:
        """The user's backward on the cache its forward left in the evaluator."""
        if not isinstance(cache, CacheRef):
            raise TypeError("the cache of a forward pass run in the evaluator")
        X0, Y0, parameters, prefetched, *sent = self._inputs.pop(cache.id, (X, Y, {}, None, None, None))
        same = prefetched is not None and all(
            isinstance(a, np.ndarray) and unchanged(a, b) for a, b in zip(sent, (X, Y), strict=True)
        )
        if same:
            reply = self._evaluator.checked(prefetched)
        else:
            reply = self._evaluator.call({"call": "backward", "X": X, "Y": Y, "cache": cache.id})
        returned = _returned(self._evaluator, reply)
        _apply_changes(reply, X0, Y0, parameters)
        return returned

    def perturbed_costs(
        self, X: np.ndarray, Y: np.ndarray, parameters: Parameters, groups: Sequence[Perturbations]
    ) -> PerturbedCosts:
        groups_sent = [
            {"block": g.block, **{k: v for k in ("indices", "steps", "deltas") if (v := getattr(g, k)) is not None}}
            for g in groups
        ]
        message = {"call": "costs", "X": X, "Y": Y, "parameters": _arrays(parameters), "groups": groups_sent}
        reply = self._evaluator.call(message)
        return answered_pairs(self._evaluator, reply, "costs", [len(group) for group in groups], scalars=True)


def answered_pairs(
    evaluator: Evaluator, reply: dict[str, Any], key: str, counts: Sequence[int], *, scalars: bool
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (plus, minus) arrays of a reply to a batch of perturbed calls, one pair per group of ``counts`` calls:
    float arrays of ``count`` results each (``scalars``: numbers; else any shape after the count). Anything else
    ends the check (:class:`~gradharness.errors.EvaluatorLost`); what the user's code raised is raised."""
    if isinstance(reply.get("raised"), dict) or "error" in reply:
        _returned(evaluator, reply)
    answered = reply.get(key)
    if not isinstance(answered, list) or len(answered) != len(counts):
        raise EvaluatorLost(f"the evaluator answered {key} it was not asked for during: {evaluator.step}")
    out = []
    for count, pair in zip(counts, answered, strict=True):
        if not (isinstance(pair, list) and len(pair) == 2 and all(_results_of(r, count, scalars) for r in pair)):
            raise EvaluatorLost(f"the evaluator answered {key} it was not asked for during: {evaluator.step}")
        out.append((np.asarray(pair[0], dtype=np.float64), np.asarray(pair[1], dtype=np.float64)))
    return out


def _results_of(value: object, count: int, scalars: bool) -> bool:
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
        return False
    return value.shape == (count,) if scalars else (value.shape[:1] == (count,) or count == 0)


class _Forward:
    """The remote forward: a callable, and ``perturbed_costs`` for the checker's batched requests."""

    one_round_trip = True
    """Many perturbations cost one round trip: the checker asks for all it may need at once."""

    def __init__(self, network: RemoteNetwork) -> None:
        self._network = network
        self.__name__ = "forward_propagation_n"

    def __call__(self, X: np.ndarray, Y: np.ndarray, parameters: Parameters) -> Any:
        return self._network.call_forward(X, Y, parameters)

    def perturbed_costs(
        self, X: np.ndarray, Y: np.ndarray, parameters: Parameters, groups: Sequence[Perturbations]
    ) -> PerturbedCosts:
        return self._network.perturbed_costs(X, Y, parameters, groups)


class RemoteFunction:
    """A function of the file called by name with plain arguments (the 1-D pair, the file's checker).

    ``prefetched`` (shared by the 1-D pair): replies the evaluator already sent for calls the judge is
    about to make, in order per (call, x, theta); each is used once, in place of its own round trip.
    """

    def __init__(
        self,
        evaluator: Evaluator,
        call: str,
        name: str,
        signature: list | None = None,
        prefetched: dict[tuple[str, float, float], list[dict[str, Any]]] | None = None,
    ) -> None:
        self._evaluator, self._call, self.__name__ = evaluator, call, name
        self._prefetched = prefetched
        described = _signature(signature) if signature is not None else None
        if described is not None:
            self.__signature__ = described

    def __call__(self, *arguments: Any) -> Any:
        if self._call == "checker":
            message: dict[str, Any] = {"call": "checker", "arguments": list(arguments)}
        else:
            x, theta = arguments
            message = {"call": self._call, "x": float(x), "theta": float(theta)}
            if self._prefetched is not None:
                waiting = self._prefetched.get((self._call, message["x"], message["theta"]))
                if waiting:
                    return _returned(self._evaluator, self._evaluator.checked(waiting.pop(0)))
        return _returned(self._evaluator, self._evaluator.call(message))

    def prefetch(self, points: Sequence[tuple[float, float, Sequence[float]]]) -> None:
        """Ask, in one round trip, for each point's (x, theta, thetas): this forward at each of ``thetas``,
        then the backward at ``theta``."""
        if self._prefetched is None:
            return
        self._prefetched.clear()
        calls = [
            (call, float(x), float(at))
            for x, theta, thetas in points
            for call, at in [*(("forward_1d", t) for t in thetas), ("backward_1d", theta)]
        ]
        reply = self._evaluator.call({"call": "calls_1d", "calls": [list(c) for c in calls]})
        if "error" in reply:
            _returned(self._evaluator, reply)  # raises EvaluatorLost saying what went wrong
        replies = reply.get("replies")
        if not isinstance(replies, list) or not 1 <= len(replies) <= len(calls):
            raise EvaluatorLost(f"the evaluator broke the protocol (calls_1d replies) during: {self._evaluator.step}")
        for key, answer in zip(calls, replies, strict=False):
            if not isinstance(answer, dict):
                raise EvaluatorLost(f"the evaluator broke the protocol (calls_1d reply) during: {self._evaluator.step}")
            self._prefetched.setdefault(key, []).append(answer)


def one_d_pair(evaluator: Evaluator, forward_name: str, backward_name: str) -> tuple[RemoteFunction, RemoteFunction]:
    """The file's 1-D pair; the forward's :meth:`RemoteFunction.prefetch` serves both."""
    prefetched: dict[tuple[str, float, float], list[dict[str, Any]]] = {}
    return (
        RemoteFunction(evaluator, "forward_1d", forward_name, prefetched=prefetched),
        RemoteFunction(evaluator, "backward_1d", backward_name, prefetched=prefetched),
    )


def _signature(parameters: list) -> inspect.Signature | None:
    """The signature the evaluator described ([name, kind] pairs); None if it makes no sense."""
    try:
        return inspect.Signature([inspect.Parameter(str(name), _KINDS[str(kind)]) for name, kind in parameters])
    except (ValueError, TypeError, KeyError):
        return None


_KINDS = {kind.name: kind for kind in (
    inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.VAR_POSITIONAL,
    inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD,
)}  # fmt: skip


class Held:
    """A value that stays in the evaluator (a target function's cache): only its id crosses, and comes back.

    ``arguments``: the judge's arguments of the call that made it, which a later call's changes are written into.
    """

    __slots__ = ("arguments", "id")

    def __init__(self, held_id: int, arguments: tuple[Any, ...]) -> None:
        self.id, self.arguments = held_id, arguments


def _argument_tree(value: Any) -> Any:
    if isinstance(value, Held):
        return {"$held": value.id}
    if isinstance(value, Output):
        return {"$output": [value.call, value.item]}
    if isinstance(value, Argument):
        return {"$argument": value.position}
    return encode_value(value)


def _write_back_tree(target: Any, value: Any) -> None:
    """Make ``target`` (the judge's argument) hold ``value`` where it can: arrays in place, dicts by key."""
    if isinstance(target, np.ndarray):
        _write_back(target, value)
    elif isinstance(target, dict) and isinstance(value, dict):
        for key in [k for k in target if k not in value]:
            del target[key]
        for key, item in value.items():
            if isinstance(target.get(key), np.ndarray):
                _write_back(target[key], item)
            else:
                target[key] = item
    elif isinstance(target, (list, tuple)) and isinstance(value, (list, tuple)) and len(target) == len(value):
        for index, item in enumerate(value):
            if isinstance(target[index], (np.ndarray, dict, list, tuple)):
                _write_back_tree(target[index], item)
            elif isinstance(target, list):  # a tuple's arrays are written into; its other items stay
                target[index] = item


class RemoteTargetFunction:
    """A target's function in the evaluator, called like the file's own: the items of what it returns that its
    spec holds (its cache) come back as :class:`Held`; the arguments it modified are modified here too."""

    def __init__(self, evaluator: Evaluator, spec: FunctionSpec, seed: int | None = None) -> None:
        self._evaluator, self._spec, self._seed = evaluator, spec, seed
        self.__name__ = spec.name

    def seeded(self, seed: int) -> RemoteTargetFunction:
        """This function with numpy's global random generator seeded with ``seed`` just before each call."""
        return RemoteTargetFunction(self._evaluator, self._spec, seed)

    def views(self, *arguments: Any) -> list[tuple[int, str]]:
        """Call the function again and say which returned arrays (by item index) are views of an argument:
        ``dout`` for the first argument, ``an input in the cache`` for an argument of the call that made a held one."""
        message = {
            "call": "call",
            "function": self._spec.name,
            "arguments": [_argument_tree(a) for a in arguments],
            "hold": [],
            "seed": self._seed,
            "views": True,
        }
        reply = self._evaluator.call(message)
        _returned(self._evaluator, reply)
        found = reply.get("views")
        out: list[tuple[int, str]] = []
        for entry in found[:64] if isinstance(found, list) else []:
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int) and isinstance(entry[1], str):
                where = "dout" if entry[1] == "argument:0" else "an input in the cache"
                out.append((entry[0], where))
        return out

    def __call__(self, *arguments: Any) -> Any:
        message = {
            "call": "call",
            "function": self._spec.name,
            "arguments": [_argument_tree(a) for a in arguments],
            "hold": list(self._spec.hold),
            "seed": self._seed,
        }
        reply = self._evaluator.call(message)
        returned = _returned(self._evaluator, reply)
        held = {a.id: a for a in arguments if isinstance(a, Held)}
        for where, tree in (reply.get("changed") or {}).items():
            target = _changed_argument(str(where), arguments, held)
            if target is not None:
                _write_back_tree(target, decode_value(tree))
        kept = reply.get("held") or {}
        if isinstance(returned, (tuple, list)) and isinstance(kept, dict) and kept:
            items = list(returned)
            for index, held_id in kept.items():
                if str(index).isdigit() and int(index) < len(items) and isinstance(held_id, int):
                    items[int(index)] = Held(held_id, arguments)
            returned = tuple(items) if isinstance(returned, tuple) else items
        return returned


def _changed_argument(where: str, arguments: tuple[Any, ...], held: dict[int, Held]) -> Any:
    """The judge's argument a ``changed`` key names (``3``, or ``held:ID:INDEX``), or None."""
    parts = where.split(":")
    try:
        if len(parts) == 1:
            return arguments[int(parts[0])]
        if len(parts) == 3 and parts[0] == "held":
            return held[int(parts[1])].arguments[int(parts[2])]
    except (ValueError, IndexError, KeyError):
        pass
    return None


class RemotePrograms:
    """Programs of a file's target functions run at perturbed points, in one round trip each
    (:func:`gradharness.check.program.perturbed_results`, run in the evaluator)."""

    one_round_trip = True

    def __init__(self, evaluator: Evaluator) -> None:
        self._evaluator = evaluator

    def __call__(
        self, program: Sequence[Call], groups: Sequence[Varied], result: Output
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(plus, minus) results per group, checked to be what was asked for."""
        message = {
            "call": "perturbed",
            "program": [
                {"function": c.function, "arguments": [_argument_tree(a) for a in c.arguments], "seed": c.seed}
                for c in program
            ],
            "groups": [
                {
                    "argument": [g.argument, g.key],
                    "indices": np.asarray(g.indices),
                    "steps": np.asarray(g.steps),
                    "alongside": [[a.argument, np.asarray(a.plus), np.asarray(a.minus)] for a in g.alongside],
                }
                for g in groups
            ],
            "result": [result.call, result.item],
        }
        reply = self._evaluator.call(message)
        return answered_pairs(self._evaluator, reply, "results", [len(g.indices) for g in groups], scalars=False)
