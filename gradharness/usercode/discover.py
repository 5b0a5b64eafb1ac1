"""Find the functions to check in a loaded module, by name."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gradharness.errors import UserCodeError
from gradharness.model.keys import KeyCaseDict
from gradharness.settings import FunctionNames


@dataclass(frozen=True)
class FoundFunctions:
    """The functions found in a user's module; either pair may be missing, not both.

    ``checker`` is the file's own ``gradient_check_n`` (the student's checker), when defined there.
    """

    network: tuple[Callable, Callable] | None
    one_d: tuple[Callable, Callable] | None
    names: FunctionNames
    checker: Callable | None = None

    def found(self) -> list[str]:
        """Names of the functions that will be checked."""
        out = []
        if self.network is not None:
            out += [self.names.forward_n, self.names.backward_n]
        if self.one_d is not None:
            out += [self.names.forward_1d, self.names.backward_1d]
        if self.checker is not None:
            out.append(self.names.checker_n)
        return out


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


def find_functions(module: types.ModuleType, names: FunctionNames) -> FoundFunctions:
    """The network pair and the 1-D pair, by name; a half pair or neither is an error."""
    label = Path(getattr(module, "__file__", None) or f"{module.__name__}.py").name

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
            raise UserCodeError(f"{label} defines {present} but not {missing}")
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
    if pairs["network"] is None and pairs["one_d"] is None:
        raise UserCodeError(
            f"{label} has no functions to check: expected {names.forward_n} and {names.backward_n} "
            f"(or {names.forward_1d} and {names.backward_1d}); functions defined: {listing}"
        )
    checker = getattr(module, names.checker_n, None)
    own = isinstance(checker, types.FunctionType) and checker.__code__.co_filename == getattr(module, "__file__", None)
    return FoundFunctions(
        network=pairs["network"],
        one_d=pairs["one_d"],
        names=names,
        checker=checker if own and pairs["network"] is not None else None,
    )
