"""The full check of this tree against another checkout, side by side in one run.

    python -m gradharness.bench.versus OTHER_CHECKOUT [--sizes exercise,medium] [--rounds 6] [--budget 1.0]

Each tree is timed in its own subprocess with PYTHONPATH set to it, on the bench's
cases and as the bench's "full" column (:func:`gradient_check_n` of the built-in
backward pass, best of repeated calls). The two trees take turns, round after round,
with the order swapped every round, so both see the same load on a shared machine; a
size's time is its best over all rounds. The ratio new / old is this tree's time over
the other's: below 1 this tree is faster.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import gradharness
from gradharness.bench.speed import SIZES

HERE = Path(gradharness.__file__).resolve().parents[1]

# Runs inside the tree under test, so it only uses what every checkout has.
_CHILD = """\
import json, sys
import gradharness
from gradharness.bench.speed import SIZES, bench_case, best_time
from gradharness.check.checker import gradient_check_n
from gradharness.model import network

times = {}
for name in sys.argv[1].split(","):
    case = bench_case(*SIZES[name])
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    args = (case.parameters, network.backward_propagation_n(case.X, case.Y, cache), case.X, case.Y)
    times[name] = best_time(lambda: gradient_check_n(*args), float(sys.argv[2]))
print(json.dumps({"package": gradharness.__file__, "times": times}))
"""


def time_tree(tree: Path, sizes: list[str], budget: float) -> dict[str, float]:
    """Best full-check time per size (seconds) of the gradharness in ``tree``, from a fresh subprocess."""
    completed = subprocess.run(
        [sys.executable, "-P", "-c", _CHILD, ",".join(sizes), str(budget)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"timing {tree} failed:\n{completed.stderr.strip()}")
    answer = json.loads(completed.stdout.splitlines()[-1])
    package = Path(answer["package"]).resolve()
    if tree.resolve() not in package.parents:
        raise RuntimeError(f"timing {tree} imported gradharness from {package}, not from that tree")
    return answer["times"]


def versus(other: Path, sizes: list[str], rounds: int, budget: float) -> tuple[dict[str, float], dict[str, float]]:
    """Best times per size of this tree and of ``other``, from ``rounds`` interleaved rounds."""
    best: list[dict[str, float]] = [dict.fromkeys(sizes, math.inf), dict.fromkeys(sizes, math.inf)]
    trees = (HERE, other)
    for round_ in range(rounds):
        for side in (0, 1) if round_ % 2 == 0 else (1, 0):
            for name, seconds in time_tree(trees[side], sizes, budget).items():
                best[side][name] = min(best[side][name], seconds)
    return best[0], best[1]


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} us"


def report(other: Path, new: dict[str, float], old: dict[str, float], rounds: int) -> str:
    """The printed table: per size, both times and new / old."""
    lines = [
        f"full check (gradient_check_n), best of {rounds} interleaved rounds",
        f"  new: {HERE}",
        f"  old: {other}",
        f"{'network, m':<22} {'new':>10} {'old':>10} {'new / old':>10}",
    ]
    for name in new:
        sizes, m = SIZES[name]
        label = f"{'-'.join(map(str, sizes))}, m={m}"
        lines.append(f"{label:<22} {_time(new[name]):>10} {_time(old[name]):>10} {new[name] / old[name]:>10.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line of the side-by-side timing."""
    parser = argparse.ArgumentParser(prog="python -m gradharness.bench.versus", description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="another checkout of gradharness (e.g. a git worktree)")
    parser.add_argument("--sizes", default="exercise,medium", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--rounds", type=int, default=6, help="rounds per tree, alternating (default 6)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of repeated calls per size and round")
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {', '.join(unknown)}; sizes are {', '.join(SIZES)}")
    if not (args.other / "gradharness" / "__init__.py").is_file():
        parser.error(f"{args.other} has no gradharness package")
    if args.rounds < 1 or not args.budget > 0:
        parser.error("--rounds must be >= 1 and --budget > 0")
    new, old = versus(args.other, wanted, args.rounds, args.budget)
    print(report(args.other, new, old, args.rounds))


if __name__ == "__main__":
    main()
