"""How often does the checker blame correct code? Counts verdicts over generated cases.

    python -m gradharness.bench.calibration --cases 10000 [--adversarial] [--method loop|batched]
    python -m gradharness.bench.calibration --target deep --cases 10000   # or regularisation, layers, signature
    python -m gradharness.bench.calibration --target layers --precision float32 --cases 2000

Runs the built-in correct backward pass through the same strategies and checker as
`gradharness check`; "loop" calls the forward once per perturbation (the path a
user's file takes), "batched" is the built-in network's fast path. Any WRONG verdict
is a false failure, printed with its case. ``--target deep`` (``regularisation``, ``layers``) runs
that target's own property checks (every property, not only the gradient's) on its reference's
functions, ``--cases`` for each of its parts (layers: each backward, each loss), one row a part:
any failure of any property is a false failure; kinks and the other diagnoses are counted. ``--target
signature`` checks CS231n's affine, relu and affine_relu by their signatures alone (kinks found from values);
``--precision float32`` casts every function's arrays to float32 first, as single precision code does.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.strategies import SearchStrategy

from gradharness.check.checker import gradient_check_n
from gradharness.check.verdict import Verdict
from gradharness.model import network
from gradharness.settings import DEFAULT_THRESHOLD
from strategies import network_cases


def _user_style_forward(X, Y, parameters):
    # Not the built-in object, so the checker treats it as user code (the loop path).
    return network.forward_propagation_n(X, Y, parameters)


@dataclass
class Calibration:
    """Verdict counts on correct code, and the cases (if any) it was blamed on."""

    verdicts: Counter = field(default_factory=Counter)
    false_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def cases(self) -> int:
        """Cases checked."""
        return sum(self.verdicts.values())


def false_failures(
    cases: int,
    *,
    adversarial: bool = False,
    method: str = "loop",
    epsilon: float | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    random_seed: int = 0,
) -> Calibration:
    """Check the correct backward pass on ``cases`` generated networks; count verdicts."""
    result = Calibration()
    forward = _user_style_forward if method == "loop" else None

    def count(case) -> None:
        cost, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
        gradients = network.backward_propagation_n(case.X, case.Y, cache)
        if method == "loop" and not np.isfinite(cost):
            result.verdicts[Verdict.SATURATED.value] += 1  # the property runner diagnoses this before the checker
            return
        check = gradient_check_n(
            case.parameters, gradients, case.X, case.Y, epsilon, threshold=threshold, forward=forward, method=method
        )
        result.verdicts[check.verdict.value] += 1
        if check.verdict is Verdict.WRONG:
            result.false_failures.append(f"{case.describe()}: {check.summary()}")

    result.seconds = _on_drawn_cases(network_cases(adversarial=adversarial), cases, random_seed, count)
    return result


def _on_drawn_cases(strategy: SearchStrategy, cases: int, random_seed: int, each: Callable[[Any], None]) -> float:
    """Call ``each`` on ``cases`` cases drawn from ``strategy`` (seeded, generation only), numpy's and Python's
    warnings silenced; the seconds it took."""

    @seed(random_seed)
    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def run(case) -> None:
        each(case)

    started = time.perf_counter()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()
    return time.perf_counter() - started


REFERENCES: dict[str, tuple[str, ...]] = {
    "deep": ("gradharness.model.deep",),
    "regularisation": ("gradharness.model.regularised",),
    "layers": ("gradharness.model.layers", "gradharness.model.layers_conv", "gradharness.model.layers_norm"),
}
"""The modules of each target's reference functions, which the calibration checks as if they were a file's."""


SIGNATURES = {"affine": "(N,D),(D,M),(M)->(N,M)", "relu": "(N,D)->(N,D)", "affine_relu": "(N,D),(D,M),(M)->(N,M)"}
"""The ``signature`` target's calibration: CS231n's reference layers, checked by their signatures alone (their
kinks found from their values, as for a user's layer)."""


def _float32(value: Any) -> Any:
    """``value`` with its float arrays, in tuples too, as float32 (caches and other values as they are)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float32)
    return tuple(_float32(item) for item in value) if type(value) is tuple else value


def _single(function: Callable) -> Callable:
    """``function`` computing in float32, as a float32 user's code does: its float arrays cast before it runs,
    and the arrays it returns in float32 (numpy makes float64 ones from ``np.zeros`` and float64 masks)."""

    def cast(*arguments: Any) -> Any:
        return _float32(function(*(_float32(a) for a in arguments)))

    cast.__name__ = getattr(function, "__name__", "single")
    return cast


def target_false_failures(
    target: str, cases: int, *, random_seed: int = 0, precision: str = "float64"
) -> dict[str, Calibration]:
    """A target's checks of every part on its reference's own functions, ``cases`` drawn cases each (``precision``
    float32: each function casts its arrays to float32 first)."""
    import importlib

    from gradharness.properties.failures import PropertyFailure
    from gradharness.settings import RunSettings
    from gradharness.targets.registry import TARGETS, targets_with
    from gradharness.targets.signature.functions import SIGNATURE, SignedLayer
    from gradharness.targets.target import TargetFunctions

    if target == SIGNATURE:
        from gradharness.model.signature import parse_signature

        layers = [
            SignedLayer(name, parse_signature(text), ("x", "w", "b")[: text.count("(") - 1])
            for name, text in SIGNATURES.items()
        ]
        chosen = targets_with(layers)[SIGNATURE]
        modules = [importlib.import_module(REFERENCES["layers"][0])]
    else:
        chosen = TARGETS[target]
        modules = [importlib.import_module(name) for name in REFERENCES[target]]
    spec, tests = chosen.spec, chosen.tests
    assert tests is not None
    functions = {
        name: getattr(module, name) for module in reversed(modules) for name in spec.names if hasattr(module, name)
    }  # reversed: where two modules hold a name, the first one listed gives it
    if precision != "float64":
        functions = {name: _single(function) for name, function in functions.items()}
    parts = [part.name for part in spec.parts_in(set(functions))]
    results = {}
    for test in tests(TargetFunctions.in_process(functions, parts), RunSettings(seed=random_seed)):
        results[test.name] = _calibrated(test, cases, random_seed, PropertyFailure)
    return results


def _calibrated(test, cases: int, random_seed: int, failure_type: type[Exception]) -> Calibration:
    """One property test's check on ``cases`` drawn cases: verdicts, and every failure as a false failure."""
    result = Calibration()

    def count(case) -> None:
        try:
            outcome = test.check(case)
        except failure_type as failure:
            result.verdicts["failed"] += 1
            result.false_failures.append(f"{case.describe()}: {failure}")
            return
        result.verdicts[outcome.verdict.value] += 1

    result.seconds = _on_drawn_cases(test.strategy, cases, random_seed, count)
    return result


def part_table(results: dict[str, Calibration]) -> str:
    """One row a part: cases, false failures, kinks, the other diagnoses, seconds; then each part's false
    failures (the first ten), with their cases."""
    width = max((len(part) for part in results), default=4)
    lines = [f"{'part':<{width}}  {'cases':>6}  {'false':>5}  {'kinks':>5}  {'seconds':>7}  other verdicts"]
    for part, found in results.items():
        others = ", ".join(f"{k} {v}" for k, v in sorted(found.verdicts.items()) if k not in ("kink", "failed"))
        lines.append(
            f"{part:<{width}}  {found.cases:>6}  {len(found.false_failures):>5}  "
            f"{found.verdicts[Verdict.KINK.value]:>5}  {found.seconds:>7.1f}  {others}"
        )
    for part, found in results.items():
        lines.extend(f"  {part}: {line}" for line in found.false_failures[:10])
    return "\n".join(lines)


def main() -> None:
    """Command line of the calibration run."""
    parser = argparse.ArgumentParser(
        prog="python -m gradharness.bench.calibration", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--adversarial", action="store_true")
    parser.add_argument("--method", choices=("loop", "batched"), default="loop")
    parser.add_argument("--epsilon", type=float, default=None)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=("exercise", *REFERENCES, "signature"), default="exercise")
    parser.add_argument("--precision", choices=("float64", "float32"), default="float64")
    args = parser.parse_args()
    if args.target != "exercise":
        print(
            f"{args.target}: {args.cases} cases a part (seed {args.seed}, code in {args.precision}); "
            "every failure on correct code is false"
        )
        found = target_false_failures(args.target, args.cases, random_seed=args.seed, precision=args.precision)
        print(part_table(found))
        return
    outcome = false_failures(
        args.cases,
        adversarial=args.adversarial,
        method=args.method,
        epsilon=args.epsilon,
        threshold=args.threshold,
        random_seed=args.seed,
    )
    strategy = "adversarial" if args.adversarial else "default"
    counts = ", ".join(f"{k} {v}" for k, v in sorted(outcome.verdicts.items()))
    print(f"{outcome.cases} cases ({strategy} strategies, method {args.method}, seed {args.seed}): {counts}")
    print(f"false failures: {len(outcome.false_failures)} of {outcome.cases} ({outcome.seconds:.0f} s)")
    for line in outcome.false_failures[:10]:
        print("  " + line)


if __name__ == "__main__":
    main()
