"""Grading speed: files per minute for a generated class folder, the batch's pool against one file at a time.

The folder is made here, not taken from the tests: correct files (the seed's network), buggy ones
(the exercise's two planted bugs) and files whose own ``gradient_check_n`` accepts anything. Both
ways check the same files with the same settings, side by side in one run; the verdicts must agree.
"""

from __future__ import annotations

import inspect
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gradharness.batch.runner import run_batch
from gradharness.judge.checks import check_file
from gradharness.model import network
from gradharness.settings import RunSettings

_HEADER = "from __future__ import annotations\n\nimport numpy as np\n\n\n"

_ACCEPTS_ANYTHING = """

def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    return 0.0
"""


def _network_source(backward: str) -> str:
    functions: list[Callable[..., object]] = [network.relu, network.sigmoid, network.forward_propagation_n]
    source = "\n\n".join(inspect.getsource(f) for f in functions)
    own = inspect.getsource(getattr(network, backward)).replace(f"def {backward}(", "def backward_propagation_n(")
    return _HEADER + source + "\n\n" + own


def class_folder(folder: Path, files: int) -> list[Path]:
    """``files`` submissions in ``folder``, each in a folder of its own: correct, buggy, broken checker in turn."""
    kinds = {
        "correct": _network_source("backward_propagation_n"),
        "buggy": _network_source("backward_propagation_n_buggy"),
        "broken_checker": _network_source("backward_propagation_n") + _ACCEPTS_ANYTHING,
    }
    paths = []
    for index in range(files):
        kind = list(kinds)[index % len(kinds)]
        student = folder / f"student{index:03d}"
        student.mkdir()
        path = student / f"{kind}.py"
        path.write_text(kinds[kind], encoding="utf-8")
        paths.append(path)
    return paths


def batch_throughput(files: int = 12, jobs: int = 2, seed: int = 0) -> str:
    """The bench line: files per minute through the batch's pool of ``jobs`` and one at a time, same verdicts."""
    run = RunSettings(seed=seed)
    with tempfile.TemporaryDirectory(prefix="gradharness-class-") as folder:
        paths = class_folder(Path(folder), files)
        started = time.perf_counter()
        pooled = run_batch(paths, run, jobs=jobs)
        pool_seconds = time.perf_counter() - started
        started = time.perf_counter()
        alone = [check_file(path, run) for path in paths]
        alone_seconds = time.perf_counter() - started
    same = [a.verdict for a in pooled] == [b.verdict for b in alone]
    counts = {v: sum(r.verdict.value == v for r in pooled) for v in ("pass", "fail", "error")}
    pool_rate, alone_rate = 60 * files / pool_seconds, 60 * files / alone_seconds
    return (
        f"batch check, files/min: pool of {jobs} {pool_rate:.0f}, one at a time {alone_rate:.0f} "
        f"({pool_rate / alone_rate:.2f})  [{files} generated files: {counts['pass']} pass, {counts['fail']} fail, "
        f"{counts['error']} error; verdicts {'the same' if same else 'DIFFER'} both ways]"
    )
