"""A file checked on the cases a passing file drew says exactly what a fresh Hypothesis run says."""

from __future__ import annotations

from pathlib import Path

import pytest

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
]
RUN = RunSettings(seed=3, max_examples=40)


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


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_replayed_cases_give_the_fresh_record(path: Path, fresh) -> None:
    alone = _comparable(check_file(path, RUN))
    drawn.forget()
    check_file(PASSING, RUN)
    assert drawn.kept_cases(RUN) is not None, "a passing file keeps the cases it drew"
    after = _comparable(check_file(path, RUN))
    assert after == alone


def test_kept_cases_are_the_drawn_ones_and_read_only(fresh) -> None:
    functions = NetworkFunctions(network.forward_propagation_n, network.backward_propagation_n, builtin=True)
    findings = run_properties(functions, None, RUN)
    cases = drawn.kept_cases(RUN)
    assert cases is not None and len(cases) == findings.examples == RUN.max_examples
    assert not cases[0].X.flags.writeable and not cases[0].parameters["W1"].flags.writeable
    other = RunSettings(seed=4, max_examples=40)
    assert drawn.kept_cases(other) is None, "other settings draw other cases"
