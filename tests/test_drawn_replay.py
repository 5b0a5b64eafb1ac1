"""A file checked on the cases a passing file drew says exactly what a fresh Hypothesis run says."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from tiers import quick_first

from gradharness.judge.checks import check_file
from gradharness.model import network
from gradharness.properties import drawn
from gradharness.properties.properties import NetworkFunctions
from gradharness.properties.runner import run_properties
from gradharness.records.serialise import to_json
from gradharness.settings import RunSettings

FIXTURES = Path(__file__).parent / "fixtures"
PASSING = FIXTURES / "user_code" / "correct_seed_style.py"
FILES = [
    FIXTURES / "user_code" / "correct_einsum.py",  # passes: checked on the kept cases alone
    FIXTURES / "user_code" / "buggy_seed.py",  # fails on the first kept case
    FIXTURES / "user_code" / "buggy_transpose_square.py",  # fails on a later one
    FIXTURES / "user_code" / "buggy_shape_only_m1.py",
    FIXTURES / "exercise" / "scripts" / "checker_forgets_two.py",  # the network passes, its checker fails
    FIXTURES / "exercise" / "scripts" / "imports_gc_utils_not_shipped.py",  # its checker passes: kept cases
    FIXTURES / "user_code" / "correct_1d_only.py",  # the 1-D test's points, kept and checked again
    FIXTURES / "user_code" / "buggy_1d.py",
]
RUN = RunSettings(seed=3, max_examples=25)


def _comparable(record) -> dict:
    data = to_json(record)
    for volatile in ("seconds", "created"):
        data.pop(volatile, None)
    return data


@pytest.fixture
def fresh():
    drawn.forget()
    yield
    drawn.forget()


@pytest.fixture(scope="module")
def kept_by_passing_files() -> dict:
    """What passing files leave kept for every test (network, 1-D, student checker), drawn once."""
    drawn.forget()
    check_file(PASSING, RUN)
    check_file(FIXTURES / "user_code" / "correct_1d_only.py", RUN)
    check_file(FIXTURES / "exercise" / "scripts" / "lowercase_keys_crlf.py", RUN)
    for test in ("network", "1-D", "student checker"):
        assert drawn.kept_cases(RUN, test) is not None, f"a passing file keeps what the {test} test drew"
    kept = dict(drawn._kept)
    drawn.forget()
    return kept


@pytest.mark.parametrize("path", quick_first(FILES, 3), ids=lambda p: p.name)
def test_replayed_cases_give_the_fresh_record(path: Path, kept_by_passing_files: dict, fresh) -> None:
    alone = _comparable(check_file(path, RUN))
    drawn.forget()
    drawn._kept.update(kept_by_passing_files)
    after = _comparable(check_file(path, RUN))
    assert after == alone


def test_kept_cases_are_the_drawn_ones_and_read_only(fresh) -> None:
    functions = NetworkFunctions(network.forward_propagation_n, network.backward_propagation_n, builtin=True)
    findings = run_properties(functions, None, RUN)
    cases = drawn.kept_cases(RUN, "network")
    assert cases is not None and len(cases) == findings.examples == RUN.max_examples
    assert not cases[0].X.flags.writeable and not cases[0].parameters["W1"].flags.writeable
    other = RunSettings(seed=4, max_examples=40)
    assert drawn.kept_cases(other, "network") is None, "other settings draw other cases"


def _network_source() -> str:
    """The seed's network as a user's file would have it (the evaluator cannot import gradharness's)."""
    functions = (network.relu, network.sigmoid, network.forward_propagation_n)
    own = inspect.getsource(network.backward_propagation_n).replace("def backward_propagation_n(", "def _correct(")
    return (
        "from __future__ import annotations\n\nimport numpy as np\n\n"
        + "\n\n".join(inspect.getsource(f) for f in functions)
        + "\n\n"
        + own
    )


# A backward that is right on every call but its third: run again from the start, it passes.
REMEMBERS_ITS_CALLS = (
    _network_source()
    + """

calls = []


def backward_propagation_n(X, Y, cache):
    calls.append(1)
    gradients = _correct(X, Y, cache)
    if len(calls) == 3:
        gradients["dW2"] = gradients["dW2"] * 2
    return gradients
"""
)


def test_a_failure_the_replay_met_is_kept_when_code_remembers_its_calls(tmp_path: Path, fresh) -> None:
    path = tmp_path / "remembers.py"
    path.write_text(REMEMBERS_ITS_CALLS)
    check_file(PASSING, RUN)
    record = check_file(path, RUN)
    assert record.verdict.value == "fail"
    [failure] = record.failures
    assert failure.property == "GRADIENT_AGREES" and "dW2" in failure.message
    assert failure.examples_before == 3


CHECKER_REMEMBERS_ITS_CALLS = (
    _network_source()
    + """

backward_propagation_n = _correct
checker_calls = []
NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    checker_calls.append(1)
    if len(checker_calls) == 1:
        return 1.0  # rejects the correct backprop, once
    grad = np.concatenate([np.ravel(gradients["d" + n]) for n in NAMES])
    approx = []
    for n in NAMES:
        for index in np.ndindex(parameters[n].shape):
            costs = []
            for sign in (1.0, -1.0):
                moved = {k: np.array(v, dtype=float) for k, v in parameters.items()}
                moved[n][index] += sign * epsilon
                costs.append(forward_propagation_n(X, Y, moved)[0])
            approx.append((costs[0] - costs[1]) / (2 * epsilon))
    approx = np.array(approx)
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))
"""
)


@pytest.mark.slow
def test_a_checker_failure_the_replay_met_is_kept_when_the_checker_remembers_its_calls(tmp_path: Path, fresh) -> None:
    path = tmp_path / "checker_remembers.py"
    path.write_text(CHECKER_REMEMBERS_ITS_CALLS)
    check_file(FIXTURES / "exercise" / "scripts" / "lowercase_keys_crlf.py", RUN)
    assert drawn.kept_cases(RUN, "student checker") is not None
    record = check_file(path, RUN)
    [failure] = record.failures
    assert failure.property == "STUDENT_CHECKER" and "for a correct backprop" in failure.message
