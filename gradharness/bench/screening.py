"""Does directional screening catch what the entry-by-entry check catches? Small errors, side by side.

    python -m gradharness.bench.screening [--cases 300] [--seed 9] [--min-entries 20]

Draws default cases, and on every weight block of more than ``--min-entries`` entries plants one
small error at a time: the whole block scaled, or one entry moved, so that the entry-by-entry
check's difference is 1.5, 3 or 10 times the threshold. Each is checked twice on the user-file
path (one forward call per perturbation): entry by entry, and screened by directional probes
first (blocks above ``--min-entries``, where the checker screens only above
:data:`gradharness.check.screening.SCREEN_MIN_ENTRIES`). Prints how many each calls wrong.
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings

from gradharness.check import numerical
from gradharness.check.checker import gradient_check_n
from gradharness.check.verdict import Verdict
from gradharness.model import network
from gradharness.model.parameters import Gradients
from gradharness.settings import DEFAULT_THRESHOLD
from strategies import network_cases

RATIOS = (1.5, 3.0, 10.0)
"""How many times the threshold the planted error's difference is, in the entry-by-entry check."""


def _user_style_forward(X, Y, parameters):
    # Not the built-in object, so the checker calls it once per perturbation (the loop path).
    return network.forward_propagation_n(X, Y, parameters)


@contextmanager
def screened_from(min_entries: int) -> Iterator[None]:
    """Let the checker screen blocks of more than ``min_entries`` entries inside the block."""
    saved = numerical.SCREEN_MIN_ENTRIES
    numerical.SCREEN_MIN_ENTRIES = min_entries
    try:
        yield
    finally:
        numerical.SCREEN_MIN_ENTRIES = saved


def planted(gradients: Gradients, block: str, kind: str, ratio: float, entry: int) -> Gradients:
    """``gradients`` with one error whose relative difference is about ``ratio`` times the threshold."""
    wrong = dict(gradients)
    values = np.array(gradients[block], dtype=np.float64)
    size = 2 * ratio * DEFAULT_THRESHOLD
    if kind == "block":
        values = values * (1 + size)
    else:
        values.reshape(-1)[entry % values.size] += size * float(np.linalg.norm(values))
    wrong[block] = values
    return wrong


def compare(cases: int, random_seed: int, min_entries: int) -> Counter:
    """(kind, ratio, mode) -> planted errors called wrong, and (kind, ratio, "planted") -> errors planted."""
    counts: Counter = Counter()
    entries = np.random.default_rng(random_seed)

    @seed(random_seed)
    @settings(
        max_examples=cases, phases=[Phase.generate], database=None, deadline=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(network_cases())
    def run(case) -> None:
        _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
        gradients = network.backward_propagation_n(case.X, case.Y, cache)
        for block in ("dW1", "dW2", "dW3"):
            if gradients[block].size <= min_entries or not np.any(gradients[block]):
                continue
            entry = int(entries.integers(gradients[block].size))
            for kind in ("block", "entry"):
                for ratio in RATIOS:
                    wrong = planted(gradients, block, kind, ratio, entry)
                    counts[(kind, ratio, "planted")] += 1
                    for mode, screen in (("entry by entry", False), ("screened", True)):
                        check = gradient_check_n(
                            case.parameters, wrong, case.X, case.Y, forward=_user_style_forward, screen=screen
                        )
                        counts[(kind, ratio, mode)] += check.verdict is Verdict.WRONG

    with screened_from(min_entries), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()
    return counts


def main() -> None:
    """Command line: one row per planted error kind and size."""
    parser = argparse.ArgumentParser(prog="python -m gradharness.bench.screening", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--min-entries", type=int, default=20)
    args = parser.parse_args()
    counts = compare(args.cases, args.seed, args.min_entries)
    print(f"{'error':>6} {'x threshold':>12} {'planted':>8} {'entry by entry':>15} {'screened':>9}")
    for kind in ("block", "entry"):
        for ratio in RATIOS:
            row = [counts[(kind, ratio, m)] for m in ("planted", "entry by entry", "screened")]
            print(f"{kind:>6} {ratio:>12g} {row[0]:>8} {row[1]:>15} {row[2]:>9}")


if __name__ == "__main__":
    main()
