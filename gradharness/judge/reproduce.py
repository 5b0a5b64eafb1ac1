"""How to repeat a run: its command line, shell-quoted, with every option that is not at its default.

Every record's ``reproduce`` line is built by :func:`command_line`: a check's from the settings it
ran with (:func:`reproduce_command`, also for the files of a batch), the demo's and the mutation
commands' from what they were given (the CLI hands over each option's value and default).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path

from gradharness.settings import (
    DEFAULT_THRESHOLD,
    DEFAULT_TIMEOUT,
    FunctionNames,
    IsolationSettings,
    RunSettings,
    StrategyOptions,
)

Option = tuple[str, object, object]
"""``(flag, value, default)``: ``("--seed", 3, 0)``."""

_DEFAULT_RUN = RunSettings(seed=0)  # the demo's seed and every command's number of examples


def _words(flag: str, value: object) -> list[str]:
    if value is True:
        return [flag]
    if isinstance(value, (tuple, list)):
        return [flag, ",".join("*" if item is None else str(item) for item in value)]
    return [flag, str(value)]


def command_line(command: str, arguments: Sequence[object] = (), options: Iterable[Option] = ()) -> str:
    """``gradharness COMMAND ARGUMENT... --flag VALUE...``, quoted for a POSIX shell.

    An option is repeated when its value is given and differs from its default: ``True`` as the
    bare flag (``--adversarial``; ``--html`` given without a file), a tuple joined with commas and
    None as ``*`` (``--layer-sizes 4,*,3,1``), anything else as ``str(value)``.
    """
    words = ["gradharness", command, *(str(argument) for argument in arguments)]
    for flag, value, default in options:
        if value is None or value is False or value == default:
            continue
        words += _words(flag, value)
    return shlex.join(words)


def reproduce_command(
    path: Path,
    run: RunSettings,
    extra: list[str] | None = None,
    names: FunctionNames | None = None,
    isolation: IsolationSettings | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """``gradharness check PATH ...`` that repeats a check run with ``run`` (and ``extra`` words at the end).

    The seed is always given: a check without ``--seed`` draws one at random. ``isolation`` adds
    ``--isolation``, ``--memory`` and ``--helpers``, ``timeout`` adds ``--timeout``, where they are
    not at their defaults.
    """
    strategy, defaults = run.strategy, StrategyOptions()
    names, default_names = names or FunctionNames(), FunctionNames()
    isolation, default_isolation = isolation or IsolationSettings(), IsolationSettings()
    options: list[Option] = [
        ("--seed", run.seed, None),
        ("--target", run.target, None),
        ("--max-examples", run.max_examples, _DEFAULT_RUN.max_examples),
        ("--epsilon", run.check.epsilon, None),
        ("--threshold", run.check.threshold, DEFAULT_THRESHOLD),
        ("--no-reference", not run.check.reference, False),
        ("--layer-sizes", (strategy.n0, strategy.n1, strategy.n2, strategy.n3), (None,) * 4),
        ("--batch-size", strategy.batch_size, defaults.batch_size),
        ("--max-units", strategy.max_units, defaults.max_units),
        ("--max-batch", strategy.max_batch, defaults.max_batch),
        ("--adversarial", strategy.adversarial, defaults.adversarial),
        ("--layers", f"{strategy.min_layers}:{strategy.max_layers}", f"{defaults.min_layers}:{defaults.max_layers}"),
        ("--forward", names.forward_n, default_names.forward_n),
        ("--backward", names.backward_n, default_names.backward_n),
        ("--forward-1d", names.forward_1d, default_names.forward_1d),
        ("--backward-1d", names.backward_1d, default_names.backward_1d),
        ("--isolation", isolation.level, default_isolation.level),
        ("--memory", isolation.memory_mb, default_isolation.memory_mb),
        ("--helpers", isolation.helpers, default_isolation.helpers),
        ("--timeout", f"{timeout:g}", f"{DEFAULT_TIMEOUT:g}"),
        *(("--signature", f"{name}={signature}", None) for name, signature in names.signatures),
    ]
    line = command_line("check", [path], options)
    return f"{line} {shlex.join(extra)}" if extra else line


def demo_command(run: RunSettings) -> str:
    """``gradharness demo ...`` that repeats the demo's check of a built-in backward pass with ``run``."""
    return command_line(
        "demo",
        options=[
            ("--seed", run.seed, _DEFAULT_RUN.seed),
            ("--max-examples", run.max_examples, _DEFAULT_RUN.max_examples),
        ],
    )
