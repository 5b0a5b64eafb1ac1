"""Faults of the checked code that must be findings (or one clear error), never a PASS or a hang."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gradharness.records.verdict import RunVerdict
from tests.hostile.support import (
    BUGGY,
    HONEST,
    PLANTED_BLOCKS,
    TIMEOUT,
    assert_nothing_left,
    attack,
    check,
    cli,
    failed_properties,
    write,
)

CLI_OPTIONS = ("--seed", "0", "--max-examples", "10", "--max-units", "3", "--max-batch", "3", "--timeout", "60")

BASE_EXCEPTION = '''
class _Escape(BaseException):
    """Not an Exception: ``except Exception`` in a grader would let it through."""


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    raise _Escape("leaving the grader")
'''

STRING_COST = """
_honest_forward = forward_propagation_n


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    cost, cache = _honest_forward(X, Y, parameters)
    return "0.69", cache
"""

COMPLEX_GRADIENTS = """
_honest_backward = backward_propagation_n


def backward_propagation_n(X, Y, cache):
    _spawn_marker()
    return {name: g + 1000j for name, g in _honest_backward(X, Y, cache).items()}
"""

LINGERING_THREAD = """
import threading as _threading
import time as _time

_honest_forward = forward_propagation_n
_threads = []


def _forever():
    while True:
        _time.sleep(0.1)


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    if not _threads:
        _threads.append(_threading.Thread(target=_forever, daemon=False))
        _threads[0].start()
    return _honest_forward(X, Y, parameters)
"""


@pytest.mark.slow
def test_a_base_exception_from_forward_is_a_crashed_finding(tmp_path: Path, level: str, marker: str) -> None:
    path = write(tmp_path / "submission", "escape.py", attack(BUGGY, BASE_EXCEPTION, marker))
    out = tmp_path / "record.json"
    done = cli("check", str(path), "--isolation", level, "--json", str(out), *CLI_OPTIONS)
    assert done.returncode == 1, done.stderr.decode(errors="replace")
    record = json.loads(out.read_text())
    assert record["verdict"] == "fail"
    crashed = [f for f in record["failures"] if f["property"] == "FORWARD_COST"]
    assert crashed and crashed[0]["kind"] == "crashed" and "_Escape" in crashed[0]["message"], record["failures"]
    assert_nothing_left(marker)


def test_a_cost_returned_as_a_string_is_malformed(tmp_path: Path, level: str, marker: str) -> None:
    path = write(tmp_path / "submission", "string_cost.py", attack(HONEST, STRING_COST, marker))
    record = check(path, level)
    assert record.verdict is RunVerdict.FAIL, record.error
    malformed = [f for f in record.failures if f.property == "FORWARD_COST"]
    assert malformed and malformed[0].kind.value == "malformed", [f.message for f in record.failures]
    assert_nothing_left(marker)


def test_complex_gradients_are_malformed(tmp_path: Path, level: str, marker: str) -> None:
    path = write(tmp_path / "submission", "complex.py", attack(HONEST, COMPLEX_GRADIENTS, marker))
    record = check(path, level)
    assert record.verdict is RunVerdict.FAIL, record.error
    malformed = [f for f in record.failures if f.property == "GRADIENT_SHAPES"]
    assert malformed and malformed[0].kind.value == "malformed", [f.message for f in record.failures]
    assert "complex" in malformed[0].message
    assert_nothing_left(marker)


@pytest.mark.slow
def test_renamed_network_functions_are_not_a_pass_and_the_options_are_named(tmp_path: Path, level: str) -> None:
    renamed = BUGGY.replace("def forward_propagation_n(", "def forward_prop(").replace(
        "def backward_propagation_n(", "def backward_prop("
    )
    path = write(tmp_path / "submission", "renamed.py", renamed)
    done = cli("check", str(path), "--isolation", level, *CLI_OPTIONS)
    assert done.returncode == 2, (done.stdout + done.stderr).decode(errors="replace")
    assert "--forward forward_prop --backward backward_prop" in done.stderr.decode(errors="replace")


@pytest.mark.slow
def test_the_renamed_functions_checked_under_their_names_fail_on_the_planted_bugs(tmp_path: Path, level: str) -> None:
    renamed = BUGGY.replace("def forward_propagation_n(", "def forward_prop(").replace(
        "def backward_propagation_n(", "def backward_prop("
    )
    path = write(tmp_path / "submission", "renamed.py", renamed)
    out = tmp_path / "record.json"
    options = ("--forward", "forward_prop", "--backward", "backward_prop", "--json", str(out))
    done = cli("check", str(path), "--isolation", level, *options, *CLI_OPTIONS)
    assert done.returncode == 1, done.stderr.decode(errors="replace")
    assert set(json.loads(out.read_text())["wrong_blocks"]) <= PLANTED_BLOCKS


def test_a_thread_left_running_does_not_turn_a_finished_check_into_a_timeout(
    tmp_path: Path, level: str, marker: str
) -> None:
    path = write(tmp_path / "submission", "thread.py", attack(HONEST, LINGERING_THREAD, marker))
    started = time.monotonic()
    record = check(path, level)
    assert record.verdict is RunVerdict.PASS, (record.error, failed_properties(record))
    assert time.monotonic() - started < TIMEOUT / 2
    assert_nothing_left(marker)
