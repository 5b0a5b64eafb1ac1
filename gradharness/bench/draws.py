"""What the drawn cases exercise: per gradient block, edge cases, m = 1 and repeated cases.

    python -m gradharness.bench.draws [--cases 100] [--seeds 5] [--layer-sizes 4,5,3,1] [--adversarial]

Draws cases as a check's generation phase does (seeded, no shrinking) with the strategies of
`gradharness check`, and counts on each seed's cases: how many exercise each block (a non-zero
true gradient, from the reference network), how many hold a dead hidden unit (off on every
example) or an exact zero in Z1 or Z2, how many have m = 1, and how many repeat an earlier case.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings

from gradharness.model import network
from gradharness.model.case import NetworkCase
from gradharness.model.parameters import GRADIENT_NAMES
from strategies import network_cases

FEATURES = ("dead unit", "exact zero in Z", "m = 1", "repeated")


def _features(case: NetworkCase) -> tuple[set[str], set[str]]:
    """The blocks the case exercises, and which of the edge features it has."""
    with np.errstate(all="ignore"):
        _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
        gradients = network.backward_propagation_n(case.X, case.Y, cache)
    exercised = {name for name in GRADIENT_NAMES if np.any(gradients[name] != 0.0)}
    Z1, Z2 = cache[0], cache[4]
    features = set()
    if any((Z <= 0.0).all(axis=1).any() for Z in (Z1, Z2)):
        features.add("dead unit")
    if any((Z == 0.0).any() for Z in (Z1, Z2)):
        features.add("exact zero in Z")
    if case.m == 1:
        features.add("m = 1")
    return exercised, features


def survey(cases: int, random_seed: int, **strategy: Any) -> Counter:
    """Counts over one seed's ``cases`` drawn cases: each block exercised, each feature present."""
    counts: Counter = Counter()
    seen: set[tuple] = set()

    @seed(random_seed)
    @settings(
        max_examples=cases, phases=[Phase.generate], database=None, deadline=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(network_cases(**strategy))
    def draw(case: NetworkCase) -> None:
        exercised, features = _features(case)
        key = (case.sizes, case.X.tobytes(), case.Y.tobytes(), *(v.tobytes() for v in case.parameters.values()))
        if key in seen:
            features.add("repeated")
        seen.add(key)
        counts.update(exercised | features)
        counts["cases"] += 1

    draw()
    return counts


def main() -> None:
    """Command line: one row per seed, then the totals."""
    parser = argparse.ArgumentParser(prog="python -m gradharness.bench.draws", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. SEEDS-1")
    parser.add_argument("--layer-sizes", default=None, help="fixed n0,n1,n2,n3 (default: drawn)")
    parser.add_argument("--adversarial", action="store_true")
    args = parser.parse_args()
    strategy: dict[str, Any] = {"adversarial": args.adversarial}
    if args.layer_sizes:
        strategy.update(zip(("n0", "n1", "n2", "n3"), (int(n) for n in args.layer_sizes.split(",")), strict=True))
    columns = ("seed", "cases", *GRADIENT_NAMES, *FEATURES)
    print("  ".join(f"{c:>15}" if len(c) > 6 else f"{c:>6}" for c in columns))
    total: Counter = Counter()
    for random_seed in range(args.seeds):
        counts = survey(args.cases, random_seed, **strategy)
        total.update(counts)
        row = [str(random_seed), str(counts["cases"]), *(str(counts[c]) for c in (*GRADIENT_NAMES, *FEATURES))]
        print("  ".join(f"{v:>15}" if len(c) > 6 else f"{v:>6}" for c, v in zip(columns, row, strict=True)))
    row = ["all", str(total["cases"]), *(str(total[c]) for c in (*GRADIENT_NAMES, *FEATURES))]
    print("  ".join(f"{v:>15}" if len(c) > 6 else f"{v:>6}" for c, v in zip(columns, row, strict=True)))


if __name__ == "__main__":
    main()
