"""Worker entry points: never raise for what the code under test does; prepared data cached per worker."""

from __future__ import annotations

import pytest

from gradharness.model.case import seed_test_case
from gradharness.mutation import tasks
from gradharness.mutation.cases import probe_cases
from gradharness.mutation.target import CheckerSpec, reference_target
from gradharness.mutation.tasks import Variant, make_job, prepare_task, variant_task
from gradharness.records.status import KillKind, MutantStatus
from gradharness.settings import CheckOptions


@pytest.fixture(scope="module")
def job():
    prepared = prepare_task(reference_target(), CheckOptions(), [seed_test_case(), *probe_cases(3)], 30.0)
    assert prepared.error is None
    return make_job(reference_target(), CheckerSpec(), CheckOptions(), prepared.cases, timeout=1.0)


def _variant(body: str) -> Variant:
    source = "def backward_propagation_n(X, Y, cache):\n" + body
    return Variant("v", source, 1)


def test_unmutated_and_seed_bugs(job) -> None:
    assert variant_task(job, Variant("unmutated")).status is MutantStatus.SURVIVED
    assert variant_task(job, Variant("bugs", seed_bugs=True)).status is MutantStatus.KILLED


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ("    while True:\n        pass\n", MutantStatus.TIMED_OUT, KillKind.TIMEOUT),
        ("    import sys\n    sys.exit(3)\n", MutantStatus.CRASHED, KillKind.CRASHED),
        ("    return None\n", MutantStatus.CRASHED, KillKind.MALFORMED),
        ("    print('noise')\n    raise RuntimeError('x')\n", MutantStatus.CRASHED, KillKind.CRASHED),
    ],
    ids=["hang", "sys.exit", "returns None", "raises"],
)
def test_what_the_code_does_becomes_a_status(job, body: str, status: MutantStatus, kind: KillKind) -> None:
    evaluation = variant_task(job, _variant(body))
    assert (evaluation.status, evaluation.kill_kind) == (status, kind)


def test_an_uncompilable_variant_is_a_crash(job) -> None:
    assert variant_task(job, Variant("v", "def backward_propagation_n(:\n", 1)).status is MutantStatus.CRASHED


def test_prepared_data_is_unpickled_once_per_worker(job, monkeypatch) -> None:
    tasks._PREPARED.clear()
    loads = []
    real = tasks.pickle.loads
    monkeypatch.setattr(tasks.pickle, "loads", lambda blob: loads.append(1) or real(blob))
    variant_task(job, Variant("unmutated"))
    variant_task(job, Variant("unmutated"))
    assert loads == [1]


def test_preparing_reports_a_broken_target_in_one_line(tmp_path) -> None:
    from gradharness.mutation.target import file_target

    path = tmp_path / "bad.py"
    path.write_text(
        "import no_such_module_here\n\n"
        "def forward_propagation_n(X, Y, parameters):\n    return no_such_module_here.cost(X), None\n\n"
        "def backward_propagation_n(X, Y, cache):\n    return {}\n"
    )
    prepared = prepare_task(file_target(path), CheckOptions(), [seed_test_case()], 10.0)
    assert prepared.cases is None and "no_such_module_here" in prepared.error
