"""What the jail costs: a user's file checked in-process, in a limited process, and under bubblewrap.

The same correct file (the seed's network) is checked on the exercise's 4-5-3-1 network at each
level, round after round side by side, so the machine's noise falls on all of them alike; each
level's best round counts, start-up of its evaluator included.
"""

from __future__ import annotations

import inspect
import tempfile
import time
from pathlib import Path

from gradharness.isolation.jail import namespace_unavailable
from gradharness.judge.checks import check_file
from gradharness.model import network
from gradharness.records.verdict import RunVerdict
from gradharness.settings import IsolationSettings, RunSettings, StrategyOptions

EXERCISE = StrategyOptions(n0=4, n1=5, n2=3, n3=1)


def correct_file(folder: Path) -> Path:
    """The seed's network (its correct backward pass) written as a user's file."""
    functions = (network.relu, network.sigmoid, network.forward_propagation_n, network.backward_propagation_n)
    # The annotations name gradharness's types: postponed, they are never evaluated.
    header = "from __future__ import annotations\n\nimport numpy as np\n\n\n"
    path = folder / "correct_network.py"
    path.write_text(header + "\n\n".join(inspect.getsource(f) for f in functions), encoding="utf-8")
    return path


def _rate(path: Path, level: str, cases: int, seed: int) -> float:
    run = RunSettings(seed=seed, max_examples=cases, strategy=EXERCISE)
    started = time.perf_counter()
    record = check_file(path, run, isolation=IsolationSettings(level=level), timeout=600)
    seconds = time.perf_counter() - started
    if record.verdict is not RunVerdict.PASS:
        raise RuntimeError(f"the correct file did not pass at --isolation {level}: {record.error or record.failures}")
    return record.examples / seconds


def user_file_throughput(cases: int = 200, rounds: int = 3, seed: int = 0) -> str:
    """The bench line: cases per second of a user-file check at each isolation level, with ratios."""
    levels = ["none", "process"] + ([] if namespace_unavailable() else ["namespace"])
    best = dict.fromkeys(levels, 0.0)
    with tempfile.TemporaryDirectory(prefix="gradharness-bench-") as folder:
        path = correct_file(Path(folder))
        for _ in range(rounds):
            for level in levels:
                best[level] = max(best[level], _rate(path, level, cases, seed))
    base = best["none"]
    parts = [f"in-process {base:.0f}", f"process {best['process']:.0f} ({best['process'] / base:.2f})"]
    if "namespace" in best:
        parts.append(f"namespace {best['namespace']:.0f} ({best['namespace'] / base:.2f})")
    else:
        parts.append(f"namespace - ({namespace_unavailable()})")
    return f"user-file check, cases/s: {', '.join(parts)}  [{cases} cases on 4-5-3-1, best of {rounds} rounds]"
