"""Find the functions to check in a loaded module, by name; and what a file leaves unchecked.

A file whose network functions carry other names is never checked as if it had none: the
functions with the exercise's signatures are named, with the options that would check them.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gradharness.errors import UserCodeError
from gradharness.model.keys import KeyCaseDict
from gradharness.settings import FunctionNames
from gradharness.targets.specs import claimed, looked_for, specs_with


@dataclass(frozen=True)
class FoundFunctions:
    """The functions found in a user's module; either pair may be missing, not both.

    ``checker`` is the file's own ``gradient_check_n`` (the student's checker), when defined there.
    ``not_checked`` says, one entry per part, what the file leaves unchecked and why.
    """

    network: tuple[Callable, Callable] | None
    one_d: tuple[Callable, Callable] | None
    names: FunctionNames
    checker: Callable | None = None
    not_checked: tuple[str, ...] = ()
    targets: dict[str, dict[str, Callable]] = field(default_factory=dict)
    """The functions of the other targets (``deep``, ...) the file defines, by target and name."""

    def found(self) -> list[str]:
        """Names of the functions that will be checked."""
        out = []
        if self.network is not None:
            out += [self.names.forward_n, self.names.backward_n]
        if self.one_d is not None:
            out += [self.names.forward_1d, self.names.backward_1d]
        if self.checker is not None:
            out.append(self.names.checker_n)
        return out + [name for functions in self.targets.values() for name in functions]


def with_key_case(forward: Callable) -> Callable:
    """Wrap a forward pass so ``parameters["w1"]`` finds ``W1`` (keys in either case).

    Whatever the forward stores into the dictionary is copied back, so in-place
    changes stay visible to the side-effect check.
    """

    def forward_any_case(X, Y, parameters, *args, **kwargs):
        if not isinstance(parameters, dict) or isinstance(parameters, KeyCaseDict):
            return forward(X, Y, parameters, *args, **kwargs)
        wrapped = KeyCaseDict(parameters)
        try:
            return forward(X, Y, wrapped, *args, **kwargs)
        finally:
            for key, value in wrapped.items():
                if parameters.get(key) is not value:
                    parameters[key] = value

    forward_any_case.__name__ = getattr(forward, "__name__", "forward")
    forward_any_case.__wrapped__ = forward  # type: ignore[attr-defined]
    return forward_any_case


# Words in a function's name that say which half of the network pair it is.
_FORWARD_WORDS = re.compile(r"forward|fwd|fprop")
_BACKWARD_WORDS = re.compile(r"backward|back|bwd|bprop")
_PARAMETER_WORDS = re.compile(r"param|theta|weight")
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _own_functions(module: types.ModuleType) -> dict[str, types.FunctionType]:
    """The module-level functions the file itself defines (not imported ones), in definition order."""
    filename = getattr(module, "__file__", None)
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, types.FunctionType) and value.__code__.co_filename == filename
    }


def _required_positional(function: Callable) -> list[str]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters if p.kind in _POSITIONAL and p.default is inspect.Parameter.empty]


def _role(name: str, parameters: list[str]) -> str | None:
    """``forward`` for a function shaped like ``(X, Y, parameters)``, ``backward`` for ``(X, Y, cache)``."""
    if len(parameters) != 3:
        return None
    lowered, last = name.lower(), parameters[2].lower()
    if "cache" in last or (_BACKWARD_WORDS.search(lowered) and not _FORWARD_WORDS.search(lowered)):
        return "backward"
    if _FORWARD_WORDS.search(lowered) or _PARAMETER_WORDS.search(last):
        return "forward"
    return None


def _lookalikes(module: types.ModuleType, names: FunctionNames) -> dict[str, list[str]]:
    """The file's functions with the network pair's signatures under other names, as ``name(X, Y, ...)``."""
    taken = {names.forward_n, names.backward_n, names.forward_1d, names.backward_1d, names.checker_n}
    found: dict[str, list[str]] = {"forward": [], "backward": []}
    for name, function in _own_functions(module).items():
        parameters = _required_positional(function)
        role = None if name in taken else _role(name, parameters)
        if role is not None:
            found[role].append(f"{name}({', '.join(parameters)})")
    return found


def _bare(signature: str) -> str:
    return signature.split("(", 1)[0]


def _best(signatures: list[str], words: re.Pattern[str]) -> str:
    return next((s for s in signatures if words.search(_bare(s).lower())), signatures[0])


def renamed_pair(module: types.ModuleType, names: FunctionNames) -> tuple[str, str] | None:
    """The file's forward/backward pair under other names (``forward_prop(X, Y, parameters)``, ...), or None.

    A pair whose names differ only in the forward/backward word wins (``fwd_n``/``bwd_n``);
    otherwise the first of each kind, preferring names that say forward or backward.
    """
    found = _lookalikes(module, names)
    forwards, backwards = found["forward"], found["backward"]
    if not forwards or not backwards:
        return None

    def stem(signature: str) -> str:
        return _BACKWARD_WORDS.sub("", _FORWARD_WORDS.sub("", _bare(signature).lower()))

    matching = [(f, b) for f in forwards for b in backwards if stem(f) == stem(b)]
    return matching[0] if matching else (_best(forwards, _FORWARD_WORDS), _best(backwards, _BACKWARD_WORDS))


def _renamed_error(label: str, names: FunctionNames, pair: tuple[str, str]) -> UserCodeError:
    forward, backward = pair
    return UserCodeError(
        f"{label} has no {names.forward_n}/{names.backward_n}, but {forward} and {backward} have their signatures: "
        f"check them with --forward {_bare(forward)} --backward {_bare(backward)}"
    )


def _half_pair_error(
    label: str, module: types.ModuleType, names: FunctionNames, present: str, missing: str
) -> UserCodeError:
    role = "backward" if missing == names.backward_n else "forward"
    hint = ""
    if missing in (names.forward_n, names.backward_n):
        candidates = _lookalikes(module, names)[role]
        if candidates:
            signature = _best(candidates, _BACKWARD_WORDS if role == "backward" else _FORWARD_WORDS)
            hint = f"; {signature} has its signature: check it with --{role} {_bare(signature)}"
    return UserCodeError(f"{label} defines {present} but not {missing}{hint}")


def unchecked_parts(module: types.ModuleType, names: FunctionNames, network: object) -> tuple[str, ...]:
    """What a file leaves unchecked (empty when it has the network pair), one line per part."""
    if network is not None:
        return ()
    parts = [f"the network pair {names.forward_n}/{names.backward_n}: not in the file"]
    if names.checker_n in _own_functions(module):
        parts.append(f"{names.checker_n}: the network pair it checks is not in the file")
    return tuple(parts)


def target_functions(module: types.ModuleType, names: FunctionNames | None = None) -> dict[str, dict[str, Callable]]:
    """The functions of every target but the exercise that the file itself defines, for the targets with a part
    whose required functions are all there (a function imported from a helper module is not the file's to check);
    ``names.signatures``: the layers the ``signature`` target looks for too."""
    own: dict[str, Callable] = dict(_own_functions(module))
    found: dict[str, dict[str, Callable]] = {}
    for spec in specs_with(names.signatures if names is not None else ()).values():
        if spec.name == "exercise":
            continue
        functions = {name: own[name] for name in spec.names if name in own}
        if spec.parts_in(set(functions)):
            found[spec.name] = functions
    return found


def incomplete_parts(module: types.ModuleType, names: FunctionNames | None = None) -> tuple[str, ...]:
    """The parts of the other targets the file begins but does not complete, one line each."""
    own = set(_own_functions(module))
    lines = []
    for spec in specs_with(names.signatures if names is not None else ()).values():
        for part in spec.parts if spec.name != "exercise" else ():
            present = [name for name in part.required if name in own]
            if present and len(present) < len(part.required):
                missing = ", ".join(name for name in part.required if name not in own)
                lines.append(f"{spec.name}'s {part.name}: {missing} is not in the file")
    return tuple(lines)


def find_functions(module: types.ModuleType, names: FunctionNames) -> FoundFunctions:
    """The network pair, the 1-D pair and the other targets' functions, by name; a half pair, nothing to check,
    or a renamed network pair is an error."""
    label = Path(getattr(module, "__file__", None) or f"{module.__name__}.py").name
    others = target_functions(module, names)
    if others and not _has_exercise(module, names, claimed(set(_own_functions(module)))):
        return FoundFunctions(None, None, names, not_checked=incomplete_parts(module, names), targets=others)

    def get(name: str) -> Callable | None:
        value = getattr(module, name, None)
        if value is not None and not callable(value):
            raise UserCodeError(f"{name} in {label} is a {type(value).__name__}, not a function")
        return value

    pairs: dict[str, tuple[Callable, Callable] | None] = {}
    for key, forward_name, backward_name in (
        ("network", names.forward_n, names.backward_n),
        ("one_d", names.forward_1d, names.backward_1d),
    ):
        forward, backward = get(forward_name), get(backward_name)
        if (forward is None) != (backward is None):
            present, missing = (forward_name, backward_name) if forward is not None else (backward_name, forward_name)
            raise _half_pair_error(label, module, names, present, missing)
        pairs[key] = (forward, backward) if forward is not None and backward is not None else None
    defined = sorted(n for n, v in vars(module).items() if not n.startswith("_") and isinstance(v, types.FunctionType))
    listing = ", ".join(defined[:8]) or "none"
    defaults = FunctionNames()
    for key, asked, default in (
        ("network", (names.forward_n, names.backward_n), (defaults.forward_n, defaults.backward_n)),
        ("one_d", (names.forward_1d, names.backward_1d), (defaults.forward_1d, defaults.backward_1d)),
    ):
        if pairs[key] is None and asked != default:  # names the user gave must exist
            raise UserCodeError(
                f"{label} has no functions to check named {asked[0]} and {asked[1]}; functions defined: {listing}"
            )
    renamed = renamed_pair(module, names) if pairs["network"] is None else None
    if renamed is not None:
        raise _renamed_error(label, names, renamed)
    if pairs["network"] is None and pairs["one_d"] is None:
        raise UserCodeError(
            f"{label} has no functions to check: expected {names.forward_n} and {names.backward_n} "
            f"(or {names.forward_1d} and {names.backward_1d}), or {looked_for(besides='exercise')}; "
            f"functions defined: {listing}"
        )
    checker = getattr(module, names.checker_n, None)
    own = isinstance(checker, types.FunctionType) and checker.__code__.co_filename == getattr(module, "__file__", None)
    return FoundFunctions(
        network=pairs["network"],
        one_d=pairs["one_d"],
        names=names,
        checker=checker if own and pairs["network"] is not None else None,
        not_checked=unchecked_parts(module, names, pairs["network"]) + incomplete_parts(module, names),
        targets=others,
    )


def _has_exercise(module: types.ModuleType, names: FunctionNames, claimed: set[str]) -> bool:
    """Whether the file itself defines any of the exercise's functions under the names asked for, other than those
    the parts of other targets it implements claim (``claimed``): the regularisation exercise's
    ``forward_propagation(X, parameters)`` is not the 1-D model's (nor then is a ``backward_propagation`` beside
    it), nor is a ``backward_propagation`` the file imports from ``reg_utils``. The judge expects the same
    (:func:`gradharness.judge.expected.denied_pairs`)."""
    return exercise_defined(set(_own_functions(module)), names, claimed)


def exercise_defined(defined: set[str], names: FunctionNames, claimed: set[str]) -> bool:
    """Whether ``defined`` has one of the exercise's functions of a pair none of whose names is ``claimed``."""
    pairs = ((names.forward_n, names.backward_n), (names.forward_1d, names.backward_1d))
    return any(name in defined for pair in pairs if not claimed & set(pair) for name in pair)
