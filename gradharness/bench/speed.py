"""Benchmark: one full gradient check, side by side, against the seed's loop and torch.autograd.gradcheck.

    python -m gradharness.bench [--sizes exercise,medium,large] [--cases 300] [--quick]

For each network size, in one run on this machine: the exercise's own loop
(2P calls of forward_propagation_n), gradharness's full coordinate-wise check
(:func:`gradharness.check.checker.gradient_check_n`), gradharness's directional
screening of every block (:func:`gradharness.check.screening.screen_network`), and
torch.autograd.gradcheck in its default and fast_mode (when torch, the optional
``bench`` extra, is installed); then generated cases per second under Hypothesis.
Each timing is the best of several runs (the machine may be shared); slow
methods run once. No timing is asserted anywhere: the ratios are the result.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradharness.bench.batch import batch_throughput
from gradharness.bench.isolation import user_file_throughput
from gradharness.check.checker import gradient_check_n
from gradharness.check.screening import screen_network
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import (
    LayerSizes,
    dictionary_to_vector,
    gradients_to_vector,
    parameter_count,
    parameter_shapes,
)
from gradharness.mutation.campaign import run_campaign
from gradharness.mutation.target import checker_spec, reference_target
from gradharness.settings import CampaignSettings

SIZES: dict[str, tuple[tuple[int, int, int, int], int]] = {
    "exercise": ((4, 5, 3, 1), 3),
    "medium": ((64, 32, 16, 1), 64),
    "large": ((784, 128, 64, 1), 64),
}
QUICK_SIZES: dict[str, tuple[tuple[int, int, int, int], int]] = {
    "exercise": ((4, 5, 3, 1), 3),
    "tiny": ((8, 6, 4, 2), 5),
}


def seed_gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7) -> float:
    """The exercise's gradient_check_n, its loop as written (2P forward passes), for any layer sizes."""
    shapes = list(parameter_shapes(LayerSizes.of(parameters)).items())

    def vector_to_dictionary(theta):
        out, start = {}, 0
        for name, (rows, cols) in shapes:
            out[name] = theta[start : start + rows * cols].reshape((rows, cols))
            start += rows * cols
        return out

    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    num_parameters = parameters_values.shape[0]
    J_plus = np.zeros((num_parameters, 1))
    J_minus = np.zeros((num_parameters, 1))
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        thetaplus = np.copy(parameters_values)
        thetaplus[i][0] += epsilon
        J_plus[i], _ = network.forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        thetaminus = np.copy(parameters_values)
        thetaminus[i][0] -= epsilon
        J_minus[i], _ = network.forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus[i] - J_minus[i]) / (2.0 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return float(numerator / denominator)


def bench_case(sizes: tuple[int, int, int, int], m: int, seed: int = 0) -> NetworkCase:
    """The exercise's own case for 4-5-3-1, m=3; otherwise a He-initialised random network."""
    if sizes == (4, 5, 3, 1) and m == 3:
        return seed_test_case()
    rng = np.random.default_rng(seed)
    layer = LayerSizes(*sizes)
    parameters = {
        name: rng.normal(size=shape) * (np.sqrt(2.0 / shape[1]) if name.startswith("W") else 0.1)
        for name, shape in parameter_shapes(layer).items()
    }
    return NetworkCase(layer, rng.normal(size=(sizes[0], m)), (rng.random((sizes[3], m)) < 0.5) * 1.0, parameters)


def best_time(function: Callable[[], object], budget: float = 1.0, most: int = 200) -> float:
    """Best wall time of repeated calls: at least once, at most ``most`` times or ``budget`` seconds."""
    best, spent, runs = float("inf"), 0.0, 0
    while runs < most and (runs == 0 or spent < budget):
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return best


def peak_memory(function: Callable[[], object]) -> float:
    """Peak bytes allocated (numpy included) while ``function`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return float(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def matmul_gflops() -> float:
    """This machine's float64 matrix-product rate, the yardstick of the structured floor."""
    a = np.random.default_rng(0).normal(size=(1024, 1024))
    return 2 * 1024**3 / best_time(lambda: a @ a, budget=1.0, most=10) / 1e9


def structured_flops(sizes: tuple[int, int, int, int], m: int) -> float:
    """FLOPs that differ between the 2P perturbed passes when each is a row update pushed forward.

    W1/b1 entry: row i of Z1 moves -> Z2 += W2[:, i] dA1 (n2 m) -> Z3 += W3 dA2 (n3 n2 m);
    W2/b2 entry: Z3 += W3[:, i] dA2 (n3 m); W3/b3 entry: Z3's row moves (m). Multiply-adds
    count 2 FLOPs; two passes (+-) per entry.
    """
    n0, n1, n2, n3 = sizes
    first = n1 * (n0 + 1) * 2 * (n2 * m + n3 * n2 * m)
    second = n2 * (n1 + 1) * 2 * (n3 * m)
    third = n3 * (n2 + 1) * m
    return 2.0 * (first + second + third)


@dataclass
class Row:
    """One size's timings in seconds (None: not run)."""

    label: str
    P: int
    seed: float
    full: float
    directional: float
    torch_default: float | None
    torch_fast: float | None
    floor: float
    memory: float


def torch_checks(case: NetworkCase) -> tuple[Callable[[], object], Callable[[], object]] | None:
    """torch.autograd.gradcheck of the same cost (the exercise's formula), default and fast_mode."""
    try:
        import torch
    except ImportError:
        return None
    X = torch.tensor(case.X, dtype=torch.float64)
    Y = torch.tensor(case.Y, dtype=torch.float64)
    inputs = tuple(
        torch.tensor(case.parameters[k], dtype=torch.float64, requires_grad=True)
        for k in ("W1", "b1", "W2", "b2", "W3", "b3")
    )

    def cost(W1, b1, W2, b2, W3, b3):
        A3 = torch.sigmoid(W3 @ torch.relu(W2 @ torch.relu(W1 @ X + b1) + b2) + b3)
        return torch.sum(-torch.log(A3) * Y - torch.log(1 - A3) * (1 - Y)) / X.shape[1]

    warm = torch.ones(3, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda a: (a * a).sum(), (warm,))  # torch's first-call set-up, untimed
    torch.autograd.gradcheck(cost, inputs, fast_mode=True)
    return (
        lambda: torch.autograd.gradcheck(cost, inputs),
        lambda: torch.autograd.gradcheck(cost, inputs, fast_mode=True),
    )


def measure(label: str, sizes: tuple[int, int, int, int], m: int, slow_budget: float, budget: float = 1.0) -> Row:
    """Time every method on one network size (``budget``/``slow_budget``: seconds per fast/slow method)."""
    case = bench_case(sizes, m)
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    grads = network.backward_propagation_n(case.X, case.Y, cache)
    P = parameter_count(case.sizes)
    args = (case.parameters, grads, case.X, case.Y)
    full = best_time(lambda: gradient_check_n(*args), budget)
    result = gradient_check_n(*args)
    if not result.passed:
        raise RuntimeError(f"the built-in network fails its own check at {label}: {result.summary()}")
    directional = best_time(lambda: screen_network(*args), budget)
    seed = best_time(lambda: seed_gradient_check_n(*args), budget=slow_budget, most=50)
    torch = torch_checks(case)
    torch_default = torch_fast = None
    if torch is not None:
        torch_default = best_time(torch[0], budget=slow_budget, most=50)
        torch_fast = best_time(torch[1], budget)
    floor = structured_flops(sizes, m) / (matmul_gflops() * 1e9)
    return Row(
        label,
        P,
        seed,
        full,
        directional,
        torch_default,
        torch_fast,
        floor,
        peak_memory(lambda: gradient_check_n(*args)),
    )


def hypothesis_throughput(cases: int, seed: int = 0) -> dict[str, float]:
    """Generated cases per second (sizes and m in 1..8): drawing alone, and with each full check."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from strategies import network_cases

    def run(check: Callable[[NetworkCase, Any], object] | None) -> float:
        @hypothesis_seed(seed)
        @settings(
            max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        @given(network_cases(max_units=8, max_batch=8))
        def test(case: NetworkCase) -> None:
            if check is not None:
                _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
                check_result = check(case, network.backward_propagation_n(case.X, case.Y, cache))
                assert check_result is not None

        start = time.perf_counter()
        test()
        return cases / (time.perf_counter() - start)

    def ours(case: NetworkCase, grads) -> object:
        result = gradient_check_n(case.parameters, grads, case.X, case.Y)
        if not result.passed:
            raise AssertionError(result.summary())
        return result

    def seed_loop(case: NetworkCase, grads) -> object:
        return seed_gradient_check_n(case.parameters, grads, case.X, case.Y)

    with np.errstate(all="ignore"):
        best = {"drawing only": 0.0, "seed loop": 0.0, "gradharness full": 0.0}
        for _ in range(2):  # best of two rounds: the machine may be busy
            best["drawing only"] = max(best["drawing only"], run(None))
            best["seed loop"] = max(best["seed loop"], run(seed_loop))
            best["gradharness full"] = max(best["gradharness full"], run(ours))
    return best


def mutation_throughput(seed: int = 0) -> str:
    """Mutants per second of a default campaign on the reference backward pass."""
    try:
        with np.errstate(all="ignore"):
            record = run_campaign(reference_target(), checker_spec(None), CampaignSettings(seed=seed))
    except Exception as exc:  # report it in the table, do not crash the whole bench
        return f"mutation campaign: could not run ({type(exc).__name__}: {exc})"
    engines = "; ".join(
        f"{e.engine}: {e.mutants} mutants in {e.seconds:.1f} s, {e.mutants_per_second:.1f} mutants/s"
        for e in record.engines
    )
    return f"mutation campaign on the reference (default settings, {record.seconds:.1f} s in all): {engines}"


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.1f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us" if seconds >= 1e-5 else f"{seconds * 1e6:.2f} us"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return "-"
    return f"{numerator / denominator:.0f}x" if numerator / denominator >= 10 else f"{numerator / denominator:.1f}x"


def report(
    rows: list[Row],
    throughput: dict[str, float] | None,
    torch_version: str | None,
    mutation: str | None = None,
    isolation: str | None = None,
    batch: str | None = None,
) -> str:
    """The bench's printed table."""
    lines = [
        "torch not installed (pip install '.[bench]' adds torch==2.13.0): torch columns are '-'"
        if torch_version is None
        else f"torch {torch_version}, numpy {np.__version__}",
        "",
        f"{'network, m':<22} {'P':>7} {'seed loop':>10} {'full':>9} {'directional':>12} {'torch':>9} {'torch fast':>11}",
    ]
    for r in rows:
        lines.append(
            f"{r.label:<22} {r.P:>7,} {_time(r.seed):>10} {_time(r.full):>9} {_time(r.directional):>12} "
            f"{_time(r.torch_default):>9} {_time(r.torch_fast):>11}"
        )
    lines += [
        "",
        "ratios: seed / full, torch / full, full / structured floor (near 1 is best), torch fast / directional",
    ]
    header = (
        f"{'network, m':<22} {'full vs seed':>13} {'full vs torch':>14} {'full / floor':>13} {'dir. vs torch fast':>19}"
    )
    lines.append(header)
    for r in rows:
        lines.append(
            f"{r.label:<22} {_ratio(r.seed, r.full):>13} {_ratio(r.torch_default, r.full):>14} "
            f"{_ratio(r.full, r.floor):>13} {_ratio(r.torch_fast, r.directional):>19}"
        )
    lines.append("")
    for r in rows:
        lines.append(
            f"{r.label}: structured floor {_time(r.floor)} (row-update FLOPs at this machine's matmul rate); "
            f"peak memory of the full check {r.memory / 2**20:.0f} MiB"
        )
    if throughput is not None:
        lines += ["", "generated cases per second under Hypothesis (sizes and m in 1..8), best of 2 rounds:"]
        lines += [f"  {name:<18} {rate:7.0f}" for name, rate in throughput.items()]
    if isolation is not None:
        lines += ["", isolation]
    if batch is not None:
        lines += ["", batch]
    if mutation is not None:
        lines += ["", mutation]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m gradharness.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--cases", type=int, default=300, help="Hypothesis cases per throughput round (0: skip)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few cases (a smoke run)")
    parser.add_argument("--no-mutation", action="store_true", help="skip the mutation campaign row")
    parser.add_argument("--no-isolation", action="store_true", help="skip the user-file check row")
    parser.add_argument("--no-batch", action="store_true", help="skip the batch row (files per minute)")
    args = parser.parse_args(argv)
    table = QUICK_SIZES if args.quick else SIZES
    wanted = list(table) if args.quick else [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in table]
    if unknown:
        parser.error(f"unknown sizes {', '.join(unknown)}; sizes are {', '.join(table)}")
    try:
        import torch

        torch_version: str | None = torch.__version__
    except ImportError:
        torch_version = None
    rows = []
    for name in wanted:
        sizes, m = table[name]
        label = f"{'-'.join(map(str, sizes))}, m={m}"
        rows.append(measure(label, sizes, m, slow_budget=0.1 if args.quick else 2.0, budget=0.1 if args.quick else 1.0))
    cases = min(args.cases, 20) if args.quick else args.cases
    throughput = hypothesis_throughput(cases) if cases > 0 else None
    mutation = None if args.quick or args.no_mutation else mutation_throughput()
    isolation = None if args.no_isolation else user_file_throughput(cases=20 if args.quick else 200)
    batch = None if args.no_batch else batch_throughput(files=3, rounds=1) if args.quick else batch_throughput()
    print(report(rows, throughput, torch_version, mutation, isolation, batch))


if __name__ == "__main__":
    main()
