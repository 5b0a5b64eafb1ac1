"""The ``signature`` target: a file's own layers, named with gufunc signatures on the command line or in the file.

The README's layer (``tests/fixtures/user_code/signature/scaled_tanh.py``: a scaled tanh and a hinge loss with
kinks) passes through the jailed evaluator, by its file's ``GRADHARNESS_SIGNATURES`` and by ``--signature``; a
planted mistake fails naming its wrong gradient on a small case; the contract holds through the evaluator (a
gradient that is a view of ``dout`` is found there); what is asked for and cannot be checked is one clear line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import gradharness
from tiers import quick_first

from gradharness.batch.rubric import score
from gradharness.judge.checks import check_file
from gradharness.records.check import CheckRecord, GradientRecord, PropertyStatus
from gradharness.records.status import FailureKind
from gradharness.records.verdict import RunVerdict
from gradharness.settings import FunctionNames, IsolationSettings, RunSettings

FIXTURES = Path(__file__).parent / "fixtures" / "user_code" / "signature"
SCALED_TANH = FIXTURES / "scaled_tanh.py"
DECLARED = 'GRADHARNESS_SIGNATURES = {"scaled_tanh": "(N,D),(D)->(N,D)", "pairwise_hinge": "(N),(N)->()"}\n'
SCALED_TANH_SIGNATURE = ("scaled_tanh", "(N,D),(D)->(N,D)")
IN_PROCESS = IsolationSettings(level="none")


def _check(
    path: Path, seed: int = 0, examples: int = 30, names: FunctionNames | None = None, **isolation: object
) -> CheckRecord:
    run = RunSettings(seed=seed, max_examples=examples)
    return check_file(path, run, names=names, isolation=IsolationSettings(**isolation))  # type: ignore[arg-type]


def _written(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _wrong(check: GradientRecord | None) -> list[str]:
    assert check is not None
    return [block.name for block in check.blocks if block.verdict.value == "wrong"]


def _failures(record: CheckRecord) -> list[str]:
    return [f.message for f in record.failures] or [record.error or ""]


@pytest.mark.parametrize("seed", quick_first([0, 1, 2], 1))
def test_the_readme_layer_passes_by_the_signatures_the_file_declares(seed: int) -> None:
    record = _check(SCALED_TANH, seed)
    assert record.verdict is RunVerdict.PASS, _failures(record)
    assert {p.name for p in record.properties} == {
        "SCALED_TANH_BACKWARD",
        "SCALED_TANH_BACKWARD_CONTRACT",
        "PAIRWISE_HINGE",
        "PAIRWISE_HINGE_CONTRACT",
    }
    assert all(p.status is PropertyStatus.PASSED and p.examples == 30 for p in record.properties)
    assert {p.target for p in record.properties} == {"signature"}
    assert record.target["isolation"] == "namespace"
    points = score(record)
    assert (points.points, points.max_points) == (2.0, 2.0)  # each layer's agreement is worth a point


def test_the_hinge_losss_kinks_are_set_aside_not_failed() -> None:
    record = _check(SCALED_TANH, 0, examples=100)
    assert record.verdict is RunVerdict.PASS, _failures(record)
    assert record.diagnoses.get("kink", 0) > 0


def test_a_mean_for_a_sum_fails_naming_da_on_a_small_case(tmp_path: Path) -> None:
    wrong = SCALED_TANH.read_text().replace("da = np.sum(dout * t, axis=0)", "da = np.mean(dout * t, axis=0)")
    record = _check(_written(tmp_path, "layer.py", wrong))
    assert record.verdict is RunVerdict.FAIL
    [failure] = record.failures
    assert failure.property == "SCALED_TANH_BACKWARD" and failure.kind is FailureKind.WRONG
    assert _wrong(failure.gradient_check) == ["da"]
    assert failure.case is not None and failure.case["sizes"] == {"N": 2, "D": 1}  # the mean differs from N = 2
    passed = {p.name for p in record.properties if p.status is PropertyStatus.PASSED}
    assert {"PAIRWISE_HINGE", "PAIRWISE_HINGE_CONTRACT"} <= passed  # the other layer is judged on its own


def test_the_command_line_gives_the_signature_of_a_file_that_declares_none(tmp_path: Path) -> None:
    path = _written(tmp_path, "layer.py", SCALED_TANH.read_text().replace(DECLARED, ""))
    assert "GRADHARNESS_SIGNATURES" not in path.read_text()
    record = _check(path, names=FunctionNames(signatures=(SCALED_TANH_SIGNATURE,)))
    assert record.verdict is RunVerdict.PASS, _failures(record)
    assert {p.name for p in record.properties} == {"SCALED_TANH_BACKWARD", "SCALED_TANH_BACKWARD_CONTRACT"}
    assert "--signature 'scaled_tanh=(N,D),(D)->(N,D)'" in (record.reproduce or "")


def test_the_command_line_checks_and_writes_the_record(tmp_path: Path) -> None:
    path = _written(tmp_path, "layer.py", SCALED_TANH.read_text().replace(DECLARED, ""))
    out = tmp_path / "out.json"
    run = gradharness(
        "check", str(path), "--signature", "scaled_tanh=(N,D),(D)->(N,D)", "--seed", "0",
        "--max-examples", "20", "--json", str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "score: 1 of 1 points" in run.stdout
    saved = json.loads(out.read_text())
    assert saved["verdict"] == "pass" and {p["target"] for p in saved["properties"]} == {"signature"}


def test_the_same_verdicts_in_this_process(tmp_path: Path) -> None:
    wrong = SCALED_TANH.read_text().replace("da = np.sum(dout * t, axis=0)", "da = np.mean(dout * t, axis=0)")
    right, bad = _check(SCALED_TANH, level="none"), _check(_written(tmp_path, "layer.py", wrong), level="none")
    assert right.verdict is RunVerdict.PASS and bad.verdict is RunVerdict.FAIL
    assert _wrong(bad.failures[0].gradient_check) == ["da"]


def test_a_gradient_that_is_a_view_of_dout_is_found_through_the_evaluator(tmp_path: Path) -> None:
    text = (
        'GRADHARNESS_SIGNATURES = {"ident": "(N)->(N)"}\n'
        "def ident_forward(x):\n    return x.copy(), None\n"
        "def ident_backward(dout, cache):\n    return dout\n"
    )
    record = _check(_written(tmp_path, "ident.py", text), examples=10)
    assert record.verdict is RunVerdict.FAIL and record.target["isolation"] == "namespace"
    [failure] = record.failures
    assert failure.property == "IDENT_BACKWARD_CONTRACT" and failure.kind is FailureKind.SIDE_EFFECT
    assert "dx is a view of dout" in failure.message


@pytest.mark.parametrize(
    ("source", "signatures", "words"),
    [
        ('GRADHARNESS_SIGNATURES = dict(a="(N)->(N)")\n', (), "must be a literal dict"),
        ('GRADHARNESS_SIGNATURES = {"a": 3}\n', (), "must map layer names to signatures"),
        ('GRADHARNESS_SIGNATURES = {"a": "(N->(N)"}\n', (), "GRADHARNESS_SIGNATURES: layer 'a': bad signature"),
        ('GRADHARNESS_SIGNATURES = {"a": "(N),(N)->(N)"}\n', (), "a_forward(x) takes 1 positional argument"),
        ('GRADHARNESS_SIGNATURES = {"relu": "(N)->(N)"}\n', (), "would check relu_backward, which a built-in"),
        ("", (("b", "(N)->(N)"),), "the file defines no b_forward and b_backward"),
    ],
)
def test_what_cannot_be_checked_is_one_clear_error(
    tmp_path: Path, source: str, signatures: tuple[tuple[str, str], ...], words: str
) -> None:
    body = "def a_forward(x):\n    return x, x\ndef a_backward(d, c):\n    return d\n"
    body += (
        "def relu_forward(x):\n    return x, x\ndef relu_backward(d, c):\n    return d\n" if "relu" in source else ""
    )
    record = _check(_written(tmp_path, "f.py", source + body), names=FunctionNames(signatures=signatures))
    assert record.verdict is RunVerdict.ERROR and record.error is not None
    assert words in record.error and "\n" not in record.error


def test_a_bad_signature_option_is_a_usage_error() -> None:
    run = gradharness("check", str(SCALED_TANH), "--signature", "x=(N")
    assert run.returncode == 2 and "'->' is missing" in run.stderr and "Traceback" not in run.stderr


def test_the_command_lines_signature_replaces_the_files_with_a_note() -> None:
    names = FunctionNames(signatures=(("pairwise_hinge", "(N),(N)->(N)"),))
    record = _check(SCALED_TANH, names=names, level="none")
    notes = " ".join(record.target.get("notes", []))
    assert "replaces the file's GRADHARNESS_SIGNATURES (N),(N)->()" in notes
    assert any("pairwise_hinge_forward and pairwise_hinge_backward" in line for line in record.target["not_checked"])
    assert {p.name for p in record.properties} == {"SCALED_TANH_BACKWARD", "SCALED_TANH_BACKWARD_CONTRACT"}


def test_a_signature_with_too_few_inputs_for_the_forward_is_one_clear_error(tmp_path: Path) -> None:
    text = (
        'GRADHARNESS_SIGNATURES = {"proj": "(N,D)->(N,D)"}\n'
        "def proj_forward(x, w):\n    return x * w, (x, w)\n"
        "def proj_backward(dout, cache):\n    return dout * cache[1], dout * cache[0]\n"
    )
    record = _check(_written(tmp_path, "proj.py", text), level="none")
    assert record.verdict is RunVerdict.ERROR and record.error is not None
    assert "proj_forward(x, w) takes 2 positional arguments" in record.error and "has 1 inputs" in record.error


def test_a_missing_backward_is_named_alone(tmp_path: Path) -> None:
    text = 'GRADHARNESS_SIGNATURES = {"sq": "(N)->(N)"}\ndef sq_forward(x):\n    return x * x, x\n'
    record = _check(_written(tmp_path, "sq.py", text), level="none")
    assert record.error is not None and "the file defines no sq_backward" in record.error


def test_a_signature_of_many_dims_draws_the_sizes_that_fit(tmp_path: Path) -> None:
    text = (
        'GRADHARNESS_SIGNATURES = {"sq": "(A,B,C,D,E)->(A,B,C,D,E)"}\n'
        "def sq_forward(x):\n    return x * x, x\n"
        "def sq_backward(dout, x):\n    return 2 * x * dout\n"
    )
    record = _check(_written(tmp_path, "sq.py", text), examples=5, level="none")
    assert record.verdict is RunVerdict.PASS, _failures(record)
