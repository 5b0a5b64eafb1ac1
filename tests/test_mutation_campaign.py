"""The campaign end to end: harness proof first, every mutant in a worker, survivors explained."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gradharness.errors import GradHarnessError
from gradharness.mutation.campaign import HarnessError, run_campaign
from gradharness.mutation.target import CheckerSpec, checker_spec, file_target, reference_target
from gradharness.records.status import KillKind, MutantStatus
from gradharness.records.verdict import RunVerdict
from gradharness.settings import CampaignSettings, StrategyOptions

FIXTURES = Path(__file__).parent / "fixtures"
USER_CODE = FIXTURES / "user_code"
CHECKERS = FIXTURES / "mutation"


@pytest.fixture(scope="module")
def reference_record():
    started = time.perf_counter()
    record = run_campaign(reference_target(), CheckerSpec(), CampaignSettings(seed=0, jobs=2))
    return record, time.perf_counter() - started


@pytest.mark.slow
def test_the_reference_campaign_kills_every_non_equivalent_mutant_in_time(reference_record) -> None:
    record, seconds = reference_record
    assert seconds < 30
    assert record.harness.passed, record.harness.message
    assert record.verdict is RunVerdict.PASS
    assert len(record.mutants) >= 60 and record.cases == 100
    statuses = {m.status for m in record.mutants}
    assert MutantStatus.SURVIVED.value not in statuses
    assert record.score.score == 1.0
    assert record.score.killed > record.score.crashed  # most kills are the checker's, not crashes


@pytest.mark.slow
def test_equivalent_candidates_say_why(reference_record) -> None:
    record, _ = reference_record
    equivalent = [m for m in record.mutants if m.status is MutantStatus.EQUIVALENT]
    assert {m.operator for m in equivalent} <= {"relu_mask_from_pre_activation", "float32_downcast"}
    assert {m.operator for m in equivalent if m.operator == "relu_mask_from_pre_activation"}
    assert all(m.equivalence and m.diff.startswith("--- a/") for m in equivalent)


@pytest.mark.slow
def test_kills_carry_where_how_and_the_smallest_counterexample(reference_record) -> None:
    record, _ = reference_record
    seed_bug = next(m for m in record.mutants if m.operator == "scale_gradient" and "dW2" in m.original + m.diff)
    assert seed_bug.status is MutantStatus.KILLED and seed_bug.kill_kind is KillKind.WRONG
    assert 1 <= seed_bug.examples_to_kill <= record.cases
    assert seed_bug.counterexample["sizes"] and seed_bug.exercise_case is MutantStatus.KILLED
    crash = next(m for m in record.mutants if m.operator == "lost_keepdims")
    assert crash.status is MutantStatus.CRASHED and crash.kill_kind is KillKind.MALFORMED


@pytest.mark.slow
def test_the_fixed_exercise_case_is_compared(reference_record) -> None:
    record, _ = reference_record
    assert 0 < record.exercise_case.detected < len(record.mutants)
    assert "sum_all_axes-1" in record.exercise_case.missed  # db3 summed over all axes: the same when n3 = 1
    assert record.examples_to_kill.median is not None and sum(record.examples_to_kill.buckets.values()) > 0
    assert record.engines[0].engine == "domain" and record.engines[0].mutants_per_second > 0


@pytest.mark.slow
def test_a_users_exercise_file_is_mutated() -> None:
    target = file_target(USER_CODE / "correct_seed_style.py")
    settings = CampaignSettings(seed=1, max_examples=100, jobs=2, operators=("scale_gradient", "sign_flip_output_error",
                                                                            "relu_mask_from_pre_activation"))  # fmt: skip
    record = run_campaign(target, CheckerSpec(), settings)
    assert record.harness.passed and record.verdict is RunVerdict.PASS
    assert record.target["path"].endswith("correct_seed_style.py") and record.target["sha256"]
    assert {m.operator for m in record.mutants} == set(settings.operators)
    assert all(m.diff.startswith("--- a/") and "correct_seed_style.py" in m.diff for m in record.mutants)


def test_wrong_user_code_cannot_be_mutation_tested() -> None:
    with pytest.raises(HarnessError, match="already fails .*gradharness check"):
        run_campaign(file_target(USER_CODE / "buggy_seed.py"), CheckerSpec(),
                     CampaignSettings(seed=0, max_examples=30, jobs=2, operators=("scale_gradient",)))  # fmt: skip


@pytest.mark.slow
def test_a_hanging_backward_stops_with_a_clear_error() -> None:
    started = time.perf_counter()
    with pytest.raises(GradHarnessError, match="took longer than"):
        run_campaign(file_target(USER_CODE / "hang_backward.py"), CheckerSpec(),
                     CampaignSettings(seed=0, max_examples=5, jobs=2, timeout=1.0, operators=("scale_gradient",)))  # fmt: skip
    assert time.perf_counter() - started < 20


EXERCISE_SIZES = StrategyOptions(n0=4, n1=5, n2=3, n3=1)


def _checker_campaign(name: str):
    settings = CampaignSettings(seed=0, max_examples=40, jobs=2, strategy=EXERCISE_SIZES,
                                operators=("scale_gradient", "sign_flip_output_error", "drop_transpose"))  # fmt: skip
    return run_campaign(reference_target(), checker_spec(CHECKERS / name), settings)


@pytest.mark.slow
def test_a_users_correct_checker_is_measured_like_the_built_in_one() -> None:
    record = _checker_campaign("checker_exercise.py")
    assert record.harness.passed, record.harness.message
    assert record.checker["kind"] == "file" and record.checker["function"] == "gradient_check_n"
    assert record.verdict is RunVerdict.PASS


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("checker_j_minus_from_thetaplus.py", "rejects the correct backprop"),
        ("checker_accepts_everything.py", "does not catch the exercise's planted bugs"),
    ],
)
def test_a_broken_checker_is_reported_as_such(name: str, message: str) -> None:
    record = _checker_campaign(name)
    assert record.verdict is RunVerdict.FAIL and record.exit_code == 1
    assert not record.harness.passed and message in record.harness.message


@pytest.mark.slow
def test_shrink_lets_hypothesis_shrink_the_counterexample() -> None:
    settings = CampaignSettings(seed=0, max_examples=100, jobs=2, shrink=True, operators=("sign_flip_output_error",))
    (mutant,) = run_campaign(reference_target(), CheckerSpec(), settings).mutants
    assert mutant.status is MutantStatus.KILLED and mutant.shrunk
    assert mutant.counterexample["sizes"] == [1, 1, 1, 1] and mutant.counterexample["m"] == 1
