"""Grading speed: files per minute for a generated class folder, the batch's pool against one file at a time.

The folder is made here, not taken from the tests. Every file has the seed's 1-D pair and its
network's forward pass. Correct files have the seed's backward pass and buggy ones the exercise's
two planted bugs, both with the exercise's own ``gradient_check_n`` loop and the ``gc_utils``
helpers it imports (supplied by gradharness, as for a file that does not ship them); the third
kind has the correct backward pass and a ``gradient_check_n`` that accepts anything. Both ways
check the same files with the same settings, side by side in one run; the verdicts must agree.
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

# The exercise's checker as students complete it: one pair of forward calls per parameter.
_EXERCISE_CHECKER = """

def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    num_parameters = parameters_values.shape[0]
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        thetaplus = np.copy(parameters_values)
        thetaplus[i][0] += epsilon
        J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        thetaminus = np.copy(parameters_values)
        thetaminus[i][0] -= epsilon
        J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus - J_minus) / (2.0 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return numerator / denominator
"""

_GC_UTILS = "from gc_utils import dictionary_to_vector, gradients_to_vector, vector_to_dictionary\n"

_ACCEPTS_ANYTHING = """

def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    return 0.0
"""


def _network_source(backward: str, checker: str) -> str:
    functions: list[Callable[..., object]] = [
        network.forward_propagation,
        network.backward_propagation,
        network.relu,
        network.sigmoid,
        network.forward_propagation_n,
    ]
    source = "\n\n".join(inspect.getsource(f) for f in functions)
    own = inspect.getsource(getattr(network, backward)).replace(f"def {backward}(", "def backward_propagation_n(")
    imports = _GC_UTILS if checker is _EXERCISE_CHECKER else ""
    return _HEADER + imports + "\n\n" + source + "\n\n" + own + checker


def class_folder(folder: Path, files: int) -> list[Path]:
    """``files`` submissions in ``folder``, each in a folder of its own: correct, buggy, broken checker in turn."""
    kinds = {
        "correct": _network_source("backward_propagation_n", _EXERCISE_CHECKER),
        "buggy": _network_source("backward_propagation_n_buggy", _EXERCISE_CHECKER),
        "broken_checker": _network_source("backward_propagation_n", _ACCEPTS_ANYTHING),
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


def batch_throughput(files: int = 12, jobs: int = 2, seed: int = 0, rounds: int = 3) -> str:
    """The bench line: files per minute through the batch's pool of ``jobs`` and one at a time, same verdicts.

    The two ways take turns, round after round, so that both meet the same load from other jobs; each
    way's best round is its rate (the slowest is shown too: the machines are shared).
    """
    run = RunSettings(seed=seed)
    pool_seconds: list[float] = []
    alone_seconds: list[float] = []
    same = True
    with tempfile.TemporaryDirectory(prefix="gradharness-class-") as folder:
        paths = class_folder(Path(folder), files)
        for _ in range(rounds):
            started = time.perf_counter()
            pooled = run_batch(paths, run, jobs=jobs)
            pool_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            alone = [check_file(path, run) for path in paths]
            alone_seconds.append(time.perf_counter() - started)
            same = same and [a.verdict for a in pooled] == [b.verdict for b in alone]
    counts = {v: sum(r.verdict.value == v for r in pooled) for v in ("pass", "fail", "error")}
    pool_rate, alone_rate = 60 * files / min(pool_seconds), 60 * files / min(alone_seconds)
    return (
        f"batch check, files/min: pool of {jobs} {pool_rate:.0f} (slowest round {60 * files / max(pool_seconds):.0f}), "
        f"one at a time {alone_rate:.0f} ({pool_rate / alone_rate:.2f})  [{files} generated files: "
        f"{counts['pass']} pass, {counts['fail']} fail, {counts['error']} error; best of {rounds} round{'s' if rounds != 1 else ''}; "
        f"verdicts {'the same' if same else 'DIFFER'} both ways]"
    )
