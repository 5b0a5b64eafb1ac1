"""`gradharness demo`: the tool's self-test on the built-in network and the exercise's buggy backprop."""

from __future__ import annotations

from rich.console import Console

from gradharness.check.checker import gradient_check, gradient_check_n
from gradharness.judge.checks import check_builtin
from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.mutation.causes import explain
from gradharness.records.check import CheckRecord
from gradharness.records.verdict import RunVerdict
from gradharness.render.terminal import render_record
from gradharness.settings import SEED_EPSILON, RunSettings

EXPECTED_WRONG = ("dW2", "db1")


def run_demo(
    console: Console, *, seed: int = 0, max_examples: int = 100, records: dict[str, CheckRecord] | None = None
) -> int:
    """Print both checks and the exercise's fixed-case numbers; 0 when every verdict is as expected.

    ``records``, if given, receives the two check records under "correct" and "buggy".
    """
    run = RunSettings(seed=seed, max_examples=max_examples)
    ok = True

    console.rule("the exercise's own test case (np.random.seed(1), 4-5-3-1, m=3)")
    case = seed_test_case()
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    for label, backward, epsilon in (
        ("correct backprop, exercise epsilon 1e-7", network.backward_propagation_n, SEED_EPSILON),
        ("correct backprop, default epsilon", network.backward_propagation_n, None),
        ("buggy backprop, exercise epsilon 1e-7", network.backward_propagation_n_buggy, SEED_EPSILON),
    ):
        result = gradient_check_n(
            case.parameters, backward(case.X, case.Y, cache), case.X, case.Y, epsilon, method="loop"
        )
        console.print(f"{label}: {result.summary()}", markup=False)
        ok &= result.passed == (backward is network.backward_propagation_n)
    one_d = gradient_check(2.0, 4.0, SEED_EPSILON)
    console.print(f"1-D model, x=2, theta=4: {one_d.summary()}", markup=False)
    ok &= one_d.passed

    console.rule("built-in correct backprop on generated networks")
    correct = check_builtin(network.backward_propagation_n, "backward_propagation_n", run)
    render_record(console, correct, title="builtin backward_propagation_n")
    ok &= correct.verdict is RunVerdict.PASS

    console.rule("the exercise's buggy backprop (dW2 * 2, db1 with 4/m) on generated networks")
    buggy = explain(check_builtin(network.backward_propagation_n_buggy, "backward_propagation_n_buggy", run))
    render_record(console, buggy, title="builtin backward_propagation_n_buggy")
    found = set(buggy.wrong_blocks)
    if records is not None:
        records.update(correct=correct, buggy=buggy)
    ok &= buggy.verdict is RunVerdict.FAIL and found == set(EXPECTED_WRONG)

    console.rule()
    if ok:
        console.print("[bold green]demo: every verdict is as expected[/] (correct passes; buggy fails in dW2 and db1)")
        return 0
    console.print(
        f"[bold red]demo: unexpected verdicts[/] (correct: {correct.verdict}; buggy: {buggy.verdict}, wrong blocks {sorted(found)})"
    )
    return 1
