"""The evaluator process: loads the user's file and answers the judge's requests, nothing more.

Started by :mod:`gradharness.isolation.client` inside its jail, one per checked file; the judge never
imports the user's code. Everything this process sends is untrusted by the judge: the user's code
runs here and may rewrite any of it. Usage::

    python -I -B -m gradharness.isolation.evaluator REQUEST_FD RESPONSE_FD SETUP_JSON

Requests (``call``): ``hello`` (load the file; which functions exist), ``forward`` (cost and a cache
id; the cache stays here), ``backward`` (gradients for a cache id), ``costs`` (the forward at many
perturbed parameter sets), ``forward_1d``/``backward_1d``, ``calls_1d`` (several calls of the 1-D
pair, one reply each), and ``checker`` (the file's own
``gradient_check_n``); ``forward`` with ``backward: true`` also runs backward on its cache in the
same round trip. A reply carries what the function returned (see :mod:`~gradharness.isolation.values`),
``raised`` (what it raised) or ``exit`` (it called sys.exit), and ``changed``: the inputs it modified.
"""

from __future__ import annotations

import ctypes
import inspect
import json
import os
import resource
import signal
import sys
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gradharness.check.finite_diff import Perturbations, loop_costs
from gradharness.check.program import (
    Alongside,
    Argument,
    Call,
    Output,
    Varied,
    arrays_in,
    copied,
    perturbed_results,
)
from gradharness.errors import GradHarnessError, exception_name
from gradharness.isolation.protocol import read_frame, write_frame
from gradharness.isolation.values import MAX_TEXT, cut, decode_value, encode_value
from gradharness.model.keys import KeyCaseDict
from gradharness.model.parameters import unchanged
from gradharness.records.serialise import decode
from gradharness.settings import FunctionNames
from gradharness.usercode.discover import with_key_case
from gradharness.usercode.loader import LoadedFile, load_user_file

KEPT_CACHES = 4
"""Caches kept for backward: the judge asks for backward right after its forward."""

# Standard modules a user's file may import after privileges are dropped (the interpreter's own
# files may then be unreadable, e.g. under /root): imported while they still can be.
_PRELOADED = (
    "abc", "argparse", "ast", "bisect", "collections", "contextlib", "copy", "csv", "dataclasses", "datetime",
    "decimal", "enum", "fractions", "functools", "glob", "hashlib", "heapq", "inspect", "io", "itertools", "json",
    "logging", "math", "numbers", "operator", "os", "pathlib", "pickle", "pprint", "random", "re", "shutil",
    "statistics", "string", "struct", "subprocess", "sys", "tempfile", "textwrap", "threading", "time", "timeit",
    "traceback", "types", "typing", "unittest", "warnings", "numpy", "numpy.linalg", "numpy.random",
    "numpy.testing", "numpy.fft", "numpy.polynomial", "encodings.cp1252", "encodings.latin_1",
    "encodings.utf_16", "encodings.utf_8_sig", "tokenize", "concurrent.futures", "concurrent.futures.thread",
    "queue", "weakref", "copyreg", "array", "zlib", "base64", "binascii", "gzip", "uuid", "platform",
    "locale", "unicodedata", "signal", "select", "selectors", "gradharness.usercode.shims.gc_utils",
    "gradharness.usercode.shims.dnn_utils", "gradharness.usercode.shims.dnn_utils_v2",
    "gradharness.usercode.shims.testCases_v4a",
    "gradharness.usercode.shims.reg_utils",
    "gradharness.usercode.shims.testCases",
    "encodings.ascii", "encodings.utf_32", "encodings.unicode_escape", "encodings.raw_unicode_escape",
    "encodings.charmap", "encodings.cp437", "encodings.iso8859_15", "encodings.hex_codec", "encodings.base64_codec",
)  # fmt: skip
_EMPTY_NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _die_with_parent() -> None:
    """SIGKILL this process when the judge that started it ends, however it ends."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit(setup: dict[str, Any]) -> None:
    """Resource limits, set before the user's code runs (hard limits: it cannot raise them)."""
    limits = {
        resource.RLIMIT_AS: int(setup["memory_mb"]) * 1024 * 1024,
        resource.RLIMIT_CPU: int(setup["cpu_seconds"]),
        resource.RLIMIT_FSIZE: int(setup["file_bytes"]),
        resource.RLIMIT_CORE: 0,
    }
    if setup.get("processes"):
        limits[resource.RLIMIT_NPROC] = int(setup["processes"])
    for kind, value in limits.items():
        soft, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))


def _no_new_privileges() -> None:
    """Nothing this process starts may gain privileges (a set-user-ID ``su`` stays the evaluator's uid)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        pass


def preload(*, notebooks: bool) -> None:
    """Import the standard modules a user's file may import (and, for ``notebooks``, what reading one needs)."""
    import importlib

    for name in _PRELOADED:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:  # reading a notebook imports more of the standard library on first use (schemas, codecs)
        if notebooks:
            nbformat = importlib.import_module("nbformat")
            nbformat.validate(nbformat.reads(_EMPTY_NOTEBOOK, as_version=4))
    except Exception:
        pass


def _drop_privileges(setup: dict[str, Any]) -> None:
    """Become the unprivileged uid/gid the judge chose (process level, when gradharness runs as root)."""
    if setup.get("uid") is None:
        return
    preload(notebooks=str(setup.get("file", "")).lower().endswith(".ipynb"))
    os.setgroups([])
    os.setgid(int(setup["gid"]))
    os.setuid(int(setup["uid"]))


def _copies(X: Any, Y: Any, parameters: Any) -> tuple[Any, Any, dict]:
    keep = {k: np.array(v, copy=True) for k, v in parameters.items()} if isinstance(parameters, dict) else {}
    return np.array(X, copy=True), np.array(Y, copy=True), keep


def _changed(inputs: tuple[Any, Any, dict], pristine: tuple[Any, Any, dict]) -> dict[str, Any]:
    """The inputs that no longer hold their values: X, Y, and parameters by name (None: deleted)."""
    changed: dict[str, Any] = {}
    for label, now, before in zip(("X", "Y"), inputs[:2], pristine[:2], strict=True):
        if not unchanged(before, now):
            changed[label] = encode_value(now)
    parameters = {
        name: encode_value(inputs[2].get(name)) for name, before in pristine[2].items()
        if not unchanged(before, inputs[2].get(name))
    }  # fmt: skip
    if parameters:
        changed["parameters"] = parameters
    return changed


MAX_CALLS_1D = 256
"""The most calls of the 1-D pair one calls_1d request may hold."""


class Session:
    """The user's file, loaded on ``hello``, and the caches of its last forward passes."""

    def __init__(self, path: Path, names: FunctionNames) -> None:
        self.path, self.names = path, names
        self.loaded: LoadedFile | None = None
        self.caches: OrderedDict[int, tuple[object, tuple, tuple]] = OrderedDict()
        self.held: OrderedDict[int, tuple[object, list, list]] = OrderedDict()  # the target functions' caches
        self.next_cache = 0

    def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        """The reply to one request; whatever the user's code raises is part of the reply."""
        call = message.get("call")
        handler = getattr(self, f"_{call}", None) if isinstance(call, str) and call.isidentifier() else None
        if handler is None:
            return {"error": f"unknown request {str(call)[:40]!r}"}
        if call != "hello" and self.loaded is None:
            return {"error": "the file is not loaded"}
        try:
            return handler(message)
        except SystemExit as exc:
            return {"exit": repr(exc.code)[:MAX_TEXT]}
        except BaseException as exc:  # the user's code: any exception is an answer, not the end
            return {"raised": {"type": exception_name(exc)[:100], "message": _first_line(exc)}}

    def _hello(self, _message: dict) -> dict:
        try:
            self.loaded = load_user_file(self.path, self.names)
        except GradHarnessError as exc:
            return {"error": cut(exc, 4 * MAX_TEXT)}
        found = self.loaded.found
        return {
            "functions": found.found(),
            "notes": [cut(n, 4 * MAX_TEXT) for n in self.loaded.notes],
            "network": found.network is not None,
            "one_d": found.one_d is not None,
            "checker": _signature(found.checker) if found.checker is not None else None,
            "not_checked": [cut(n, 4 * MAX_TEXT) for n in self.loaded.not_checked],
            "targets": {
                target: {name: _signature(function) for name, function in functions.items()}
                for target, functions in found.targets.items()
            },
        }

    def _target_function(self, name: object) -> Callable:
        """A function of another target the file defines (only those can be called by name)."""
        assert self.loaded is not None
        for functions in self.loaded.found.targets.values():
            if isinstance(name, str) and name in functions:
                return functions[name]
        raise LookupError(f"the file has no target function {str(name)[:60]!r}")

    def _call(self, message: dict) -> dict:
        """A target's function on the arguments given; the items of the returned tuple at ``hold`` stay here.

        ``changed``: the arguments the call modified, by index, and the arguments of the calls that made the held
        values it was given (``held:ID:INDEX``: a backward that writes into its cache writes into them), each with
        its new value.
        """
        function = self._target_function(message["function"])
        trees = message["arguments"]
        arguments = [self._argument(tree) for tree in trees]
        pristine = copied(arguments)
        if _seed(message.get("seed")) is not None:
            np.random.seed(_seed(message["seed"]))  # the same random numbers as at every perturbed point
        returned = function(*arguments)
        changed = _changes(arguments, pristine, "")
        changed = {key: value for key, value in changed.items() if not _is_held(trees[int(key)])}  # the user's own
        for tree in trees:
            if _is_held(tree) and tree["$held"] in self.held:
                _, made_from, kept = self.held[tree["$held"]]
                changed.update(_changes(made_from, kept, f"held:{tree['$held']}:"))
        views = _views(returned, arguments, self.held, trees) if message.get("views") is True else None
        held: dict[str, int] = {}
        if message.get("hold") and isinstance(returned, (tuple, list)):
            items = list(returned)
            for index in message["hold"]:
                if isinstance(index, int) and 0 <= index < len(items):
                    held[str(index)] = self._hold(items[index], arguments)
                    items[index] = None
            returned = tuple(items) if isinstance(returned, tuple) else items
        reply = {"returned": encode_value(returned), "held": held, "changed": changed}
        if views is not None:
            reply["views"] = views
        return reply

    def _argument(self, tree: Any) -> Any:
        """An argument as the judge sent it: a held value by its id, else the value the tree describes."""
        if _is_held(tree):
            if tree["$held"] not in self.held:
                raise LookupError("a held value that is no longer kept")
            return self.held[tree["$held"]][0]
        return decode_value(tree)

    def _hold(self, value: object, arguments: list) -> int:
        """Keep ``value`` (and the arguments of the call that made it, as they are now) under a new id."""
        held_id = self.next_cache
        self.next_cache += 1
        self.held[held_id] = (value, arguments, copied(arguments))
        while len(self.held) > KEPT_CACHES:
            self.held.popitem(last=False)
        return held_id

    def _perturbed(self, message: dict) -> dict:
        """A program of target functions run at perturbed copies of one argument of its first call (see
        :mod:`gradharness.check.program`): the program's result at each, stacked, per group."""
        program = message["program"]
        if not isinstance(program, list) or not 1 <= len(program) <= 8:
            return {"error": "a program of 1 to 8 calls"}
        functions = {str(step["function"]): self._target_function(step["function"]) for step in program}
        calls = [
            Call(str(s["function"]), tuple(_program_argument(a) for a in s["arguments"]), _seed(s.get("seed")))
            for s in program
        ]
        groups = [
            Varied(
                int(g["argument"][0]), g["argument"][1], np.asarray(g["indices"]), np.asarray(g["steps"]),
                tuple(Alongside(int(a[0]), np.asarray(a[1]), np.asarray(a[2])) for a in g.get("alongside") or ()),
            )
            for g in message["groups"]
        ]  # fmt: skip
        result = Output(*message["result"])
        results = perturbed_results(functions, calls, groups, result)
        return {"results": [[plus, minus] for plus, minus in results]}

    def _network(self) -> tuple[Callable, Callable]:
        assert self.loaded is not None
        if self.loaded.found.network is None:
            raise LookupError("the file has no network functions")
        forward, backward = self.loaded.found.network
        return with_key_case(forward), backward

    def _forward(self, message: dict) -> dict:
        forward, _ = self._network()
        X, Y, parameters = message["X"], message["Y"], message["parameters"]
        pristine = _copies(X, Y, parameters)
        returned = forward(X, Y, parameters)
        cache_id = None
        if isinstance(returned, (tuple, list)) and len(returned) == 2:
            cache_id = self.next_cache
            self.next_cache += 1
            self.caches[cache_id] = (returned[1], (X, Y, parameters), pristine)
            while len(self.caches) > KEPT_CACHES:
                self.caches.popitem(last=False)
            returned = (returned[0], None) if isinstance(returned, tuple) else [returned[0], None]
        reply = {
            "returned": encode_value(returned),
            "cache": cache_id,
            "changed": _changed((X, Y, parameters), pristine),
        }
        if message.get("backward") and cache_id is not None:
            # The judge calls backward right after forward, on the same X and Y: one round trip for both.
            reply["backward"] = self.answer({"call": "backward", "X": X, "Y": Y, "cache": cache_id})
        return reply

    def _backward(self, message: dict) -> dict:
        _, backward = self._network()
        cache, inputs, pristine = self.caches[message["cache"]]
        X, Y = message["X"], message["Y"]
        own = _copies(X, Y, {})
        returned = backward(X, Y, cache)
        changed = _changed(inputs, pristine)
        changed.update(_changed((X, Y, {}), own))
        return {"returned": encode_value(returned), "changed": changed}

    def _costs(self, message: dict) -> dict:
        forward, _ = self._network()
        groups = [
            Perturbations(str(g["block"]), indices=g.get("indices"), steps=g.get("steps"), deltas=g.get("deltas"))
            for g in message["groups"]
        ]
        # Dicts whose keys match in either case, as with_key_case would make for each call.
        costs = loop_costs(forward, message["X"], message["Y"], message["parameters"], groups, mapping=KeyCaseDict)
        return {"costs": [[plus, minus] for plus, minus in costs]}

    def _one_d(self, index: int, message: dict) -> dict:
        assert self.loaded is not None
        if self.loaded.found.one_d is None:
            raise LookupError("the file has no 1-D functions")
        return {"returned": encode_value(self.loaded.found.one_d[index](message["x"], message["theta"]))}

    def _forward_1d(self, message: dict) -> dict:
        return self._one_d(0, message)

    def _calls_1d(self, message: dict) -> dict:
        """Several calls of the 1-D pair in one round trip, in the order given; one reply each, up to the
        first that does not return."""
        calls = message["calls"]
        if not isinstance(calls, list) or len(calls) > MAX_CALLS_1D:
            return {"error": f"calls_1d takes at most {MAX_CALLS_1D} calls"}
        replies: list[dict] = []
        for call, x, theta in calls:
            if call not in ("forward_1d", "backward_1d"):
                return {"error": f"calls_1d cannot make a {str(call)[:40]!r} call"}
            replies.append(self.answer({"call": call, "x": x, "theta": theta}))
            if "returned" not in replies[-1]:
                break
        return {"replies": replies}

    def _backward_1d(self, message: dict) -> dict:
        return self._one_d(1, message)

    def _checker(self, message: dict) -> dict:
        assert self.loaded is not None and self.loaded.found.checker is not None
        parameters, gradients, *rest = message["arguments"]
        returned = self.loaded.found.checker(KeyCaseDict(parameters), KeyCaseDict(gradients), *rest)
        return {"returned": encode_value(returned)}


def _is_held(tree: object) -> bool:
    return isinstance(tree, dict) and set(tree) == {"$held"} and isinstance(tree["$held"], int)


def _seed(value: object) -> int | None:
    return value % 2**32 if isinstance(value, int) and not isinstance(value, bool) else None


def _program_argument(tree: Any) -> Any:
    """An argument of a program's call: an earlier call's output, or the first call's moved argument, where the
    judge names one."""
    if isinstance(tree, dict) and set(tree) == {"$output"} and isinstance(tree["$output"], list):
        return Output(*tree["$output"])
    if isinstance(tree, dict) and set(tree) == {"$argument"} and isinstance(tree["$argument"], int):
        return Argument(tree["$argument"])
    return decode_value(tree)


def _same(before: Any, now: Any) -> bool:
    """Whether ``now`` still holds ``before``'s values (arrays by the side-effect rule, containers item by item)."""
    if isinstance(before, np.ndarray):
        return unchanged(before, now)
    if type(before) in (list, tuple):
        return type(now) is type(before) and len(now) == len(before) and all(map(_same, before, now))
    if type(before) is dict:
        return type(now) is dict and now.keys() == before.keys() and all(_same(v, now[k]) for k, v in before.items())
    return before is now or before == now


def _changes(arguments: list[Any], pristine: list[Any], prefix: str) -> dict[str, Any]:
    """The arguments that no longer hold their values, by ``prefix`` and index, with their new values."""
    return {
        f"{prefix}{i}": encode_value(now)
        for i, (now, before) in enumerate(zip(arguments, pristine, strict=True))
        if not _same(before, now)
    }


def _views(returned: Any, arguments: list, held: Mapping[int, tuple[object, list, list]], trees: list) -> list:
    """The returned arrays (the value itself: item 0; a tuple's or list's items by index) that share memory with
    an argument (``[index, "argument:I"]``) or with an argument of the call that made a held argument
    (``[index, "held"]``: the inputs a forward kept in its cache): a caller's later change to that argument would move them."""
    items = (
        [returned] if isinstance(returned, np.ndarray) else list(returned) if type(returned) in (tuple, list) else []
    )
    found = []
    for index, item in enumerate(items[:64]):
        if not isinstance(item, np.ndarray):
            continue
        for position, (argument, tree) in enumerate(zip(arguments, trees, strict=True)):
            if _is_held(tree) and tree["$held"] in held:
                _, made_from, _ = held[tree["$held"]]  # the inputs of the forward that made the cache
                sources, where = arrays_in(made_from), "held"
            else:
                sources, where = arrays_in(argument), f"argument:{position}"
            if any(np.shares_memory(item, source) for source in sources):
                found.append([index, where])
                break
    return found


def _first_line(exc: BaseException) -> str:
    try:
        text = str(exc).strip()
    except Exception:  # a user's __str__ may raise too
        return ""
    return cut(text.splitlines()[0], 20 * MAX_TEXT) if text else ""


def _signature(function: Callable) -> list[list[str]] | None:
    """The parameters of ``function`` as [name, kind] pairs (None when it has no signature to read)."""
    try:
        return [[p.name[:100], p.kind.name] for p in inspect.signature(function).parameters.values()]
    except (TypeError, ValueError):
        return None


def main(argv: list[str]) -> int:
    """Serve requests until the judge closes the request pipe (``--warm FD``: be the warm start's server)."""
    if argv[:1] == ["--warm"]:
        from gradharness.isolation.zygote import serve_forks

        return serve_forks(int(argv[1]))
    request_fd, response_fd, setup_text = int(argv[0]), int(argv[1]), argv[2]
    return serve(request_fd, response_fd, json.loads(setup_text))


def serve(request_fd: int, response_fd: int, setup: dict[str, Any]) -> int:
    """Limit this process as ``setup`` says, then answer requests until the request pipe closes."""
    _die_with_parent()
    _limit(setup)
    _no_new_privileges()
    _drop_privileges(setup)
    os.umask(0o077)
    requests = os.fdopen(request_fd, "rb", buffering=1 << 16)
    responses = os.fdopen(response_fd, "wb", buffering=1 << 16)
    session = Session(Path(setup["file"]), decode(FunctionNames, setup["names"], "setup.names"))
    while True:
        message = read_frame(requests)
        if message is None:
            return 0
        reply = session.answer(message)
        try:
            write_frame(responses, reply)
        except (ValueError, TypeError) as exc:  # a returned value the frame cannot carry
            write_frame(responses, {"error": f"a reply that cannot be sent: {str(exc)[:MAX_TEXT]}"})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
