"""The likely cause of a wrong gradient: closed-form fits, the reference's mutants, and where they are shown."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
from user_files import FIXTURES

from gradharness.check.result import relative_difference
from gradharness.judge.checks import check_file
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import GRADIENT_NAMES, Gradients, LayerSizes
from gradharness.mutation.causes import Observation, explain, likely_causes, reference_mutants
from gradharness.records.check import CheckRecord, LikelyCause
from gradharness.records.serialise import decode, to_json
from gradharness.settings import RunSettings

THRESHOLD = 1e-7
CASE = seed_test_case()  # 4-5-3-1, m = 3: every block exercised, W2 is not square


def _true(case: NetworkCase = CASE) -> Gradients:
    _, cache = network.forward_propagation_n(case.X, case.Y, case.copy_parameters())
    returned = network.backward_propagation_n(case.X, case.Y, cache)
    return {name: returned[name] for name in GRADIENT_NAMES}


def _square_case() -> NetworkCase:
    rng = np.random.default_rng(4)
    sizes = (3, 3, 3, 1)
    parameters = {}
    for layer in range(1, 4):
        parameters[f"W{layer}"] = rng.normal(size=(sizes[layer], sizes[layer - 1]))
        parameters[f"b{layer}"] = rng.uniform(0.1, 0.5, size=(sizes[layer], 1))
    X = rng.normal(size=(3, 4))
    return NetworkCase(LayerSizes(*sizes), X, np.array([[1.0, 0.0, 1.0, 0.0]]), parameters)


@pytest.mark.parametrize(
    ("factor", "words"),
    [(2.0, "2 x"), (4.0, "4 x"), (0.5, "1/2 x"), (-1.0, "-1 x"), (3.0, "m x"), (1 / 3, "1/m x"), (1.7, "1.7 x")],
)
def test_a_block_off_by_a_constant_is_named_with_the_constant(factor: float, words: str) -> None:
    user = {**_true(), "dW1": factor * _true()["dW1"]}  # dW1 has 16 non-zero entries on the case
    [cause, *_] = likely_causes([Observation(CASE, user)], ["dW1"], THRESHOLD)
    assert cause.blocks == ["dW1"] and cause.fit == "multiple"
    assert cause.description.startswith(f"dW1 is {words} the true gradient")


def test_an_unnamed_constant_on_a_block_of_one_entry_is_no_cause_with_no_other_case() -> None:
    user = {**_true(), "dW3": 1.7 * _true()["dW3"]}  # dW3 has one non-zero entry: any value is some multiple of it
    assert not any(c.fit == "multiple" for c in likely_causes([Observation(CASE, user)], ["dW3"], THRESHOLD))


def test_a_zero_block_is_named() -> None:
    user = {**_true(), "db2": np.zeros_like(_true()["db2"])}
    causes = likely_causes([Observation(CASE, user)], ["db2"], THRESHOLD)
    assert any(c.fit == "zero" and c.description == "db2 is zero" for c in causes)


def test_a_transposed_square_block_is_named() -> None:
    case = _square_case()
    true = _true(case)
    user = {**true, "dW2": true["dW2"].T.copy()}
    causes = likely_causes([Observation(case, user)], ["dW2"], THRESHOLD)
    assert any(c.fit == "transpose" and "transposed" in c.description for c in causes)


def test_a_block_with_no_simple_form_gets_no_closed_form_fit() -> None:
    rng = np.random.default_rng(1)
    true = _true()
    user = {**true, "dW1": true["dW1"] + rng.normal(size=true["dW1"].shape)}
    assert all(c.fit is None for c in likely_causes([Observation(CASE, user)], ["dW1"], THRESHOLD))


def test_right_gradients_have_no_cause() -> None:
    assert likely_causes([Observation(CASE, _true())], [], THRESHOLD) == []


def test_every_mutant_of_the_reference_is_named_by_a_cause_that_reproduces_it() -> None:
    """Each operator family: a backward that makes the mutant's mistake is explained, on every block it gets wrong."""
    true = _true()
    explained, tried = 0, 0
    for reference in reference_mutants():
        _, cache = network.forward_propagation_n(CASE.X, CASE.Y, CASE.copy_parameters())
        try:
            with np.errstate(all="ignore"):
                returned = reference.backward(CASE.X, CASE.Y, cache)
            user = {name: np.asarray(returned[name], dtype=np.float64) for name in GRADIENT_NAMES}
        except Exception:
            continue
        if any(user[n].shape != true[n].shape for n in GRADIENT_NAMES):
            continue  # a shape property failure, not a wrong gradient
        wrong = [n for n in GRADIENT_NAMES if relative_difference(user[n].ravel(), true[n].ravel()) > THRESHOLD]
        if not wrong:
            continue  # equivalent on this case, or only off by round-off (float32)
        tried += 1
        causes = likely_causes([Observation(CASE, user)], wrong, THRESHOLD)
        named = {b for c in causes for b in c.blocks}
        assert set(wrong) <= named, f"{reference.mutant.id} ({reference.as_if}): {wrong} not all named by {causes}"
        explained += any(c.operator is not None for c in causes)
    assert tried >= 40 and explained == tried


def _record(path: Path) -> CheckRecord:
    return explain(check_file(path, RunSettings(seed=0, max_examples=30)))


def test_the_exercises_bugs_are_named_with_their_lines_in_the_record_and_its_json() -> None:
    record = _record(FIXTURES / "buggy_seed.py")
    [failure] = [f for f in record.failures if f.property == "GRADIENT_AGREES"]
    by_block = {tuple(c.blocks): c for c in failure.likely_causes}
    assert by_block[("dW2",)].description == "dW2 is 2 x the true gradient"
    assert by_block[("dW2",)].operator == "scale_gradient" and "* 2" in (by_block[("dW2",)].as_if or "")
    assert by_block[("db1",)].description == "db1 is 4 x the true gradient"
    assert "4.0 / m" in (by_block[("db1",)].as_if or "")
    source = (FIXTURES / "buggy_seed.py").read_text().splitlines()
    for cause in by_block.values():
        assert cause.line is not None and source[cause.line - 1].lstrip().startswith(f"{cause.variable} =")
    data = json.loads(json.dumps(to_json(record)))
    causes = [c for f in data["failures"] for c in f["likely_causes"]]
    assert {c["operator"] for c in causes} == {"scale_gradient", "wrong_constant_over_m"}
    assert all({"operator", "description", "blocks", "line", "cases"} <= set(c) for c in causes)
    again = decode(CheckRecord, data)
    assert again.failures[0].likely_causes and isinstance(again.failures[0].likely_causes[0], LikelyCause)


def test_a_mask_mistake_points_at_the_dz_line_not_only_the_dw_line(tmp_path: Path) -> None:
    source = (FIXTURES / "correct_seed_style.py").read_text()
    assert "dZ1 = np.multiply(dA1, np.int64(A1 > 0))" in source
    path = tmp_path / "mask.py"
    path.write_text(source.replace("dZ1 = np.multiply(dA1, np.int64(A1 > 0))", "dZ1 = dA1"))
    record = _record(path)
    [failure] = [f for f in record.failures if f.property == "GRADIENT_AGREES"]
    assert failure.likely_causes, failure.message
    cause = failure.likely_causes[0]
    assert cause.variable == "dZ1" and cause.line is not None
    assert path.read_text().splitlines()[cause.line - 1].strip() == "dZ1 = dA1"


def test_a_correct_file_gets_no_likely_cause() -> None:
    record = _record(FIXTURES / "correct_seed_style.py")
    assert record.verdict.value == "pass" and not any(f.likely_causes for f in record.failures)


@pytest.mark.slow
def test_the_terminal_and_the_report_show_the_causes(tmp_path: Path) -> None:
    from datetime import datetime

    from rich.console import Console

    from gradharness.render.html.render import render_check
    from gradharness.render.html.viewmodels import build_check_view
    from gradharness.render.terminal import render_failure

    record = _record(FIXTURES / "buggy_seed.py")
    [failure] = [f for f in record.failures if f.property == "GRADIENT_AGREES"]
    console = Console(record=True, width=200)
    render_failure(console, failure)
    text = console.export_text()
    assert 'likely cause: dW2 is 2 x the true gradient (as if "dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2"' in text
    assert "operator wrong_constant_over_m" in text
    html = render_check(build_check_view(record, created=datetime.now(UTC)))
    assert "likely cause:" in html and "dW2 is 2 x the true gradient" in html
    assert "likely cause: db1 is 4 x the true gradient" in html  # the db1 line's note in the code view


def test_causes_are_counted_on_the_cases_the_judge_observed_too() -> None:
    record = _record(FIXTURES / "buggy_seed.py")
    [failure] = [f for f in record.failures if f.property == "GRADIENT_AGREES"]
    assert failure.observed, "the backward's gradients on more cases are kept"
    assert all(len(seen.gradients) > 0 for seen in failure.observed)
    assert [c.tried for c in failure.likely_causes] == [1 + len(failure.observed)] * len(failure.likely_causes)
    assert all(c.cases == c.tried for c in failure.likely_causes), failure.likely_causes


def test_a_cause_that_holds_only_on_the_shrunk_case_ranks_below_one_that_holds_on_all() -> None:
    bigger = _square_case()
    true_small, true_big = _true(), _true(bigger)
    small = Observation(CASE, {**true_small, "dW3": 2 * true_small["dW3"]})
    # On the bigger case the user's dW3 is not twice the true one: "2 x" explains one case of two.
    big = Observation(bigger, {**true_big, "dW3": 3 * true_big["dW3"]})
    causes = likely_causes([small, big], ["dW3"], THRESHOLD)
    assert causes and all(c.tried == 2 for c in causes)
    assert causes[0].cases == 1 and "2 x" in causes[0].description


@pytest.mark.slow
def test_a_notebooks_causes_say_which_cell_and_line() -> None:
    record = _record(FIXTURES.parent / "exercise" / "notebooks" / "Gradient_Checking.ipynb")
    [failure] = [f for f in record.failures if f.property == "GRADIENT_AGREES"]
    places = {tuple(c.blocks): c.where for c in failure.likely_causes}
    assert places[("dW2",)] is not None and places[("dW2",)].startswith("cell ")
    assert places[("db1",)] is not None and ", line " in places[("db1",)]
    assert all(c.line is None for c in failure.likely_causes)  # no line of the .ipynb file itself
