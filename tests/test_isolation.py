"""The evaluator and its jail, piece by piece: values, the session's answers, levels, cleanup."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gradharness.errors import EvaluatorLost, UserRaised
from gradharness.isolation import jail
from gradharness.isolation.client import Evaluator
from gradharness.isolation.evaluator import Session
from gradharness.isolation.processes import kill_marked
from gradharness.isolation.values import Opaque, decode_value, encode_value
from gradharness.judge.remote import RemoteNetwork
from gradharness.model.case import seed_test_case
from gradharness.settings import FunctionNames, IsolationSettings

FIXTURES = Path(__file__).parent / "fixtures" / "user_code"


def _round_trip(value: object) -> object:
    return decode_value(encode_value(value))


def test_returned_values_keep_their_python_types() -> None:
    back = _round_trip((np.float64(0.5), {"dW1": np.ones((2, 2)), "x": [1, "a" * 500]}, None))
    assert isinstance(back, tuple) and type(back[0]) is np.float64 and back[0] == 0.5
    assert isinstance(back[1], dict) and back[1]["dW1"].shape == (2, 2)
    assert back[1]["x"][0] == 1 and back[1]["x"][1] == "a" * 200  # strings are cut short
    complex_back = _round_trip(np.array([1 + 2j]))
    assert isinstance(complex_back, np.ndarray) and complex_back.dtype.kind == "c" and complex_back[0] == 1 + 2j


def test_anything_else_is_an_opaque_stand_in_named_after_its_type() -> None:
    back = _round_trip(x for x in range(3))
    assert isinstance(back, Opaque) and type(back).__name__ == "generator"
    assert type(_round_trip(np.array([object()], dtype=object))).__name__ == "ndarray of object"


def test_deeply_nested_values_are_cut_off() -> None:
    value: list = []
    for _ in range(50):
        value = [value]
    back = _round_trip(value)
    depth = 0
    while isinstance(back, list):
        back, depth = back[0], depth + 1
    assert depth < 12 and isinstance(back, Opaque)


def _session(name: str) -> Session:
    session = Session(FIXTURES / name, FunctionNames())
    assert "functions" in session.answer({"call": "hello"})
    return session


def test_a_session_answers_forward_then_backward_on_the_cache_it_kept() -> None:
    case = seed_test_case()
    session = _session("correct_seed_style.py")
    message = {"call": "forward", "X": case.X, "Y": case.Y, "parameters": case.copy_parameters(), "backward": True}
    reply = session.answer(message)
    assert isinstance(reply["cache"], int) and reply["changed"] == {}
    gradients = decode_value(reply["backward"]["returned"])
    assert {"dW1", "db1", "dW2", "db2", "dW3", "db3"} <= set(gradients)


def test_a_session_reports_what_the_users_code_raised_and_what_it_modified() -> None:
    case = seed_test_case()
    raising = _session("raises_backward.py")
    reply = raising.answer({"call": "forward", "X": case.X, "Y": case.Y, "parameters": case.copy_parameters()})
    raised = raising.answer({"call": "backward", "X": case.X, "Y": case.Y, "cache": reply["cache"]})["raised"]
    assert raised["type"] and raised["message"] is not None
    mutating = _session("mutates_input.py")
    reply = mutating.answer({"call": "forward", "X": case.X, "Y": case.Y, "parameters": case.copy_parameters()})
    after = mutating.answer({"call": "backward", "X": case.X, "Y": case.Y, "cache": reply["cache"]})
    assert "W1" in after["changed"]["parameters"]


def test_unknown_requests_are_errors_not_crashes() -> None:
    session = Session(FIXTURES / "correct_seed_style.py", FunctionNames())
    assert "error" in session.answer({"call": "__class__"})
    assert "error" in session.answer({"call": "forward"})  # before hello: the file is not loaded


def test_without_bubblewrap_the_strongest_level_is_process_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    jail.namespace_unavailable.cache_clear()
    monkeypatch.setattr(jail.shutil, "which", lambda _name: None)
    try:
        level, note = jail.resolve_level(None)
        assert level == "process" and note is not None and "bubblewrap" in note and "--isolation process" in note
        assert jail.resolve_level("none") == ("none", None)
    finally:
        jail.namespace_unavailable.cache_clear()


def test_bubblewrap_runs_here_under_ci() -> None:
    if os.environ.get("CI") != "true" and jail.namespace_unavailable():
        pytest.skip(f"not CI: {jail.namespace_unavailable()}")
    assert jail.namespace_unavailable() is None, "CI must exercise the namespace level"


def test_helpers_are_the_files_beside_a_submission_only_when_it_has_its_folder(tmp_path: Path) -> None:
    (tmp_path / "student.py").write_text("x = 1\n")
    (tmp_path / "gc_utils.py").write_text("y = 2\n")
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "testCases.py").write_text("z = 3\n")
    assert [p.name for p in jail.helper_files(tmp_path / "student.py", True, None)] == ["gc_utils.py"]
    assert jail.helper_files(tmp_path / "student.py", False, None) == []
    assert [p.name for p in jail.helper_files(tmp_path / "student.py", False, str(teacher))] == ["testCases.py"]


def test_kill_marked_ends_a_daemon_that_left_its_session() -> None:
    marker = "GRADHARNESS_EVALUATOR=test-marker-5551"
    env = {**os.environ, "GRADHARNESS_EVALUATOR": "test-marker-5551"}
    code = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\n"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)
    assert kill_marked(marker)
    time.sleep(0.05)
    assert kill_marked(marker, rounds=1)


@pytest.mark.parametrize("level", ["process", "namespace"])
def test_an_evaluator_that_dies_ends_the_check_in_one_line(level: str) -> None:
    if level == "namespace" and jail.namespace_unavailable() and os.environ.get("CI") != "true":
        pytest.skip(jail.namespace_unavailable() or "")
    case = seed_test_case()
    path = FIXTURES / "crash_os_exit.py"
    with Evaluator(path, FunctionNames(), level=level, isolation=IsolationSettings(), timeout=60) as evaluator:
        assert "functions" in evaluator.call({"call": "hello"})
        network = RemoteNetwork(evaluator)
        with pytest.raises((EvaluatorLost, UserRaised)) as caught:
            _, cache = network.forward(case.X, case.Y, case.copy_parameters())
            network.backward(case.X, case.Y, cache)
    assert isinstance(caught.value, EvaluatorLost) and "ended the evaluator process" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.slow
def test_an_evaluator_that_hangs_times_out(tmp_path: Path) -> None:
    path = tmp_path / "hangs.py"
    path.write_text("def forward_propagation(x, theta):\n    while True:\n        pass\n\n"
                    "def backward_propagation(x, theta):\n    return x\n")  # fmt: skip
    started = time.monotonic()
    with Evaluator(path, FunctionNames(), level="process", isolation=IsolationSettings(), timeout=2) as evaluator:
        evaluator.call({"call": "hello"})
        evaluator.step = "the hanging call"
        with pytest.raises(EvaluatorLost, match="timed out after 2 s; last step: the hanging call"):
            evaluator.call({"call": "forward_1d", "x": 1.0, "theta": 2.0})
    assert time.monotonic() - started < 10


def test_what_the_code_prints_is_kept_short_and_shown_escaped_in_the_report(tmp_path: Path) -> None:
    from gradharness.judge.checks import check_file
    from gradharness.render.html import render_report
    from gradharness.settings import RunSettings

    source = (FIXTURES / "correct_seed_style.py").read_text()
    path = tmp_path / "chatty.py"
    path.write_text(source + "\nprint('x' * 200_000)\nprint('hello from the user \\x1b[32mPASS')\n")
    record = check_file(path, RunSettings(seed=0, max_examples=5), isolation=IsolationSettings(level="process"))
    assert record.verdict.value == "pass", record.error
    output = record.target["output"]
    assert output.endswith("hello from the user \x1b[32mPASS\n") and len(output) <= 4096
    page = render_report(record)
    assert "hello from the user \\x1b[32mPASS" in page and "\x1b" not in page
    assert "--isolation process" in page


@pytest.mark.slow
def test_a_long_message_from_the_evaluator_is_cut_and_says_so(tmp_path: Path) -> None:
    from gradharness.judge.checks import check_file
    from gradharness.settings import RunSettings

    path = tmp_path / "loud.py"
    path.write_text(
        "def forward_propagation(x, theta):\n    raise ValueError('y' * 10_000_000)\n\n"
        "def backward_propagation(x, theta):\n    return x\n"
    )
    record = check_file(path, RunSettings(seed=0, max_examples=3), isolation=IsolationSettings(level="process"))
    [failure] = record.failures
    assert len(failure.message) < 2000 and "more characters cut]" in failure.message


def test_the_loop_calls_the_forward_at_each_perturbed_point_in_order_on_read_only_blocks() -> None:
    from gradharness.check.finite_diff import Perturbations, loop_costs
    from gradharness.model import network
    from gradharness.usercode.discover import with_key_case

    case = seed_test_case()
    rng = np.random.default_rng(2)
    groups = [
        Perturbations(name, indices=rng.permutation(value.size)[: (value.size + 1) // 2],
                      steps=rng.uniform(1e-7, 1e-5, (value.size + 1) // 2))
        for name, value in case.parameters.items()
    ] + [Perturbations("W2", deltas=rng.normal(size=(3, 15)) * 1e-6)]  # fmt: skip
    seen: list[dict] = []

    def forward(X, Y, parameters):
        seen.append({name: np.array(value) for name, value in parameters.items()})
        return network.forward_propagation_n(X, Y, parameters)

    costs = loop_costs(with_key_case(forward), case.X, case.Y, case.copy_parameters(), groups)
    expected = [
        {**case.parameters, g.block: g.perturbed(case.parameters[g.block], k, sign)}
        for g in groups
        for k in range(len(g))
        for sign in (1.0, -1.0)
    ]
    assert len(seen) == len(expected) == 2 * sum(len(g) for g in groups)
    for a, b in zip(seen, expected, strict=True):
        assert a.keys() == b.keys() and all(np.array_equal(a[name], b[name]) for name in a)
    flat = [c for plus, minus in costs for pair in zip(plus, minus, strict=True) for c in pair]
    assert flat == [network.forward_propagation_n(case.X, case.Y, p)[0] for p in expected]

    def writes_w1(X, Y, parameters):
        parameters["W1"][0, 0] = 5.0
        return network.forward_propagation_n(X, Y, parameters)

    with pytest.raises(ValueError, match="read-only"):
        loop_costs(with_key_case(writes_w1), case.X, case.Y, case.copy_parameters(), groups[1:2])


STATEFUL_1D = """
calls = []

def forward_propagation(x, theta):
    calls.append(("forward", theta))
    if len(calls) == 3:
        raise ValueError("third call")
    return theta * x

def backward_propagation(x, theta):
    calls.append(("backward", theta))
    return x
"""


def test_one_round_trip_per_1d_point_answers_as_the_single_calls_would(tmp_path: Path, monkeypatch) -> None:
    from gradharness.judge.checks import check_file
    from gradharness.settings import RunSettings

    requests: list[str] = []
    call = Evaluator.call

    def counted(self, message):
        requests.append(message.get("call"))
        return call(self, message)

    monkeypatch.setattr(Evaluator, "call", counted)
    record = check_file(FIXTURES / "correct_1d_only.py", RunSettings(seed=0), isolation=IsolationSettings("process"))
    assert record.verdict.value == "pass" and requests.count("calls_1d") == 10
    assert "forward_1d" not in requests and "backward_1d" not in requests
    # The third call of the forward (theta - step on the first point) raises: in one round trip as in three.
    path = tmp_path / "stateful.py"
    path.write_text(STATEFUL_1D)
    jailed = check_file(path, RunSettings(seed=0, max_examples=5), isolation=IsolationSettings("process"))
    in_process = check_file(path, RunSettings(seed=0, max_examples=5), isolation=IsolationSettings("none"))
    assert [f.message for f in jailed.failures] == [f.message for f in in_process.failures]
    assert jailed.failures and "third call" in jailed.failures[0].message
