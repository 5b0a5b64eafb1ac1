"""mutmut as a second engine: its configuration, its exit codes in our model, and a small real run."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gradharness.mutation.engine_mutmut import (
    FUNCTION,
    MUTMUT_CONFIG,
    MutmutResult,
    MutmutRun,
    as_mutant,
    config_toml,
    engine_record,
    mutmut_record,
    reference_only,
    run_mutmut,
)
from gradharness.mutation.evaluate import Evaluation
from gradharness.mutation.target import file_target, reference_target
from gradharness.records.status import KillKind, MutantStatus

ROOT = Path(__file__).parent.parent


def test_the_engine_uses_the_projects_mutmut_configuration() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["mutmut"] == MUTMUT_CONFIG
    assert tomllib.loads(config_toml())["tool"]["mutmut"] == MUTMUT_CONFIG
    assert (ROOT / MUTMUT_CONFIG["pytest_add_cli_args_test_selection"][0]).exists()


def _result(code: int | None, change: tuple[str, str] = ("A3 - Y", "A3 + Y")) -> MutmutResult:
    target = reference_target()
    start = target.source.index(f"def {FUNCTION}(")
    function = target.source[start : target.source.index("\n\n\ndef", start)]
    return MutmutResult("gradharness.model.network.x_backward_propagation_n__mutmut_7", 7, code, 0.2,
                        function.replace(*change, 1))  # fmt: skip


def test_a_mutmut_mutant_gets_our_diff_and_line() -> None:
    target = reference_target()
    mutant = as_mutant(_result(1), target)
    line = next(i for i, text in enumerate(target.source.split("\n"), 1) if text.strip() == "dZ3 = A3 - Y")
    assert mutant.id == "mutmut-7" and mutant.operator == "mutmut" and mutant.line == line
    assert "-    dZ3 = A3 - Y\n+    dZ3 = A3 + Y\n" in mutant.diff
    assert (mutant.original, mutant.replacement) == ("dZ3 = A3 - Y", "dZ3 = A3 + Y")


CAUGHT = Evaluation(MutantStatus.CRASHED, KillKind.MALFORMED, "db3 has shape (1,)", 3, cases=10, cases_crashed=10)
IDENTICAL = Evaluation(MutantStatus.SURVIVED, identical=True, cases=10)


@pytest.mark.parametrize(
    ("code", "ours", "status", "kind"),
    [
        (1, None, "killed", "test_failed"),
        (1, CAUGHT, "crashed", "malformed"),
        (3, None, "killed", "test_failed"),
        (0, None, "survived", None),
        (0, IDENTICAL, "equivalent", None),
        (36, None, "timed_out", "timeout"),
        (-9, None, "crashed", "worker_exit"),
        (33, None, "survived", None),
    ],
)
def test_exit_codes_map_into_our_model(code: int, ours, status: str, kind) -> None:
    result = _result(code)
    record = mutmut_record(result, as_mutant(result, reference_target()), ours)
    expected = (MutantStatus(status), KillKind(kind) if kind is not None else None, "mutmut", "mutmut")
    assert (record.status, record.kill_kind, record.engine, record.operator) == expected


def test_the_mutmut_engine_runs_on_the_reference_only() -> None:
    with pytest.raises(Exception, match="built-in reference only"):
        reference_only(file_target(ROOT / "tests" / "fixtures" / "user_code" / "correct_seed_style.py"))


@pytest.fixture(scope="module")
def small_run() -> tuple[MutmutRun, list[tuple[int, int | None, str]]]:
    """One real ``mutmut run`` of ten mutants, and every progress call it made (each takes the whole of mutmut)."""
    seen: list[tuple[int, int | None, str]] = []
    pattern = f"gradharness.model.network.x_{FUNCTION}__mutmut_1?"
    run = run_mutmut(max_examples=5, jobs=2, timeout=240, pattern=pattern, progress=lambda *call: seen.append(call))
    return run, seen


@pytest.mark.slow
def test_a_small_real_mutmut_run_is_imported(small_run) -> None:
    run, _ = small_run
    assert [r.number for r in run.results] == list(range(10, 20))
    target = reference_target()
    records = [mutmut_record(r, as_mutant(r, target), None) for r in run.results]
    assert {r.status for r in records} <= {MutantStatus.KILLED, MutantStatus.SURVIVED, MutantStatus.TIMED_OUT,
                                           MutantStatus.CRASHED}  # fmt: skip
    assert any(r.status is MutantStatus.KILLED for r in records)
    assert all(r.diff.startswith("--- a/gradharness/model/network.py") for r in records)
    throughput = engine_record(run, 5)
    assert throughput.mutants == 10 and throughput.mutants_per_second > 0


@pytest.mark.slow
def test_a_real_mutmut_run_reports_its_progress(small_run) -> None:
    run, seen = small_run
    assert len(run.results) == 10
    counted = [(done, total) for done, total, what in seen if what == "mutmut run"]
    assert counted and {total for _, total in counted} == {10}
    assert [d for d, _ in counted] == sorted(d for d, _ in counted) and counted[-1] == (10, 10)
