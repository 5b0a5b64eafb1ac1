"""Mutation testing of the deep target's reference: its operators, the variants, the campaign and the command.

The quick tests run single variants in this process; the whole campaign (``gradharness mutate --target deep``,
under 30 s) is marked slow.
"""

from __future__ import annotations

import ast
import json
import shlex
import time

import numpy as np
import pytest
from click.testing import CliRunner

from gradharness.cli.main import main
from gradharness.errors import GradHarnessError
from gradharness.model import deep
from gradharness.mutation.campaign import HarnessError
from gradharness.mutation.evaluate import Evaluation
from gradharness.mutation.mutants import generate_mutants
from gradharness.mutation.operators import OPERATORS
from gradharness.mutation.operators_deep import DEEP_OPERATORS, select_deep_operators
from gradharness.mutation.operators_regularised import REGULARISED_OPERATORS, select_regularised_operators
from gradharness.mutation.reference_campaign import (
    prove_reference_harness,
    reference_mutants,
    run_reference_campaign,
)
from gradharness.mutation.reference_mutmut import reference_mutmut_campaign
from gradharness.mutation.reference_tasks import (
    SAME_BUT_AT_KINKS,
    SAME_RESULTS,
    UNDER_OTHER_KEYS,
    Comparison,
    ReferenceJob,
    ReferenceVariant,
    nudged,
    reference_variant_task,
    same,
    variant_namespace,
)
from gradharness.mutation.references import (
    DEEP_REFERENCE,
    REGULARISED_REFERENCE,
    all_parts,
    parts_reaching,
    reference_of,
)
from gradharness.records.mutation import MutateRecord
from gradharness.records.status import KillKind, MutantStatus
from gradharness.records.store import load
from gradharness.records.verdict import RunVerdict
from gradharness.settings import CampaignSettings, RunSettings
from gradharness.targets.deep.functions import MODEL
from gradharness.targets.regularisation.functions import DROPOUT, REGULARISATION

SOURCE = DEEP_REFERENCE.source()
REGULARISED_SOURCE = REGULARISED_REFERENCE.source()


def _mutants_of(operator: str, function: str, source: str = SOURCE):
    return generate_mutants(source, function, DEEP_REFERENCE.label, select_deep_operators([operator]))


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


# operator, the function, a line of the reference, and what the line must become
EXPECTED_EDITS = [
    ("dAL_sign_flipped", "L_model_backward", "dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))",
     "dAL = np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)"),
    ("cache_index_off_by_one", "L_model_backward", "current_cache = caches[l]", "current_cache = caches[l + 1]"),
    ("cache_index_off_by_one", "L_model_backward", "current_cache = caches[l]", "current_cache = caches[l - 1]"),
    ("gradient_key_off_by_one", "L_model_backward", 'grads["dA" + str(l)] = dA_prev_temp',
     'grads["dA" + str(l + 1)] = dA_prev_temp'),
    ("gradient_key_off_by_one", "L_model_backward", 'grads["dW" + str(l + 1)] = dW_temp',
     'grads["dW" + str(l)] = dW_temp'),
    ("gradient_key_off_by_one", "L_model_backward", 'grads["db" + str(l + 1)] = db_temp',
     'grads["db" + str(l + 2)] = db_temp'),
    ("relu_mask_on_upstream", "relu_backward", "dZ[Z <= 0] = 0", "dZ[dA <= 0] = 0"),
    ("sigmoid_without_one_minus_s", "sigmoid_backward", "dZ = dA * s * (1 - s)", "dZ = dA * s"),
    ("db_summed_over_every_axis", "linear_backward", "db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)",
     "db = 1.0 / m * np.sum(dZ)"),
    ("activation_swapped", "linear_activation_backward", "dZ = relu_backward(dA, activation_cache)",
     "dZ = sigmoid_backward(dA, activation_cache)"),
    ("activation_swapped", "L_model_backward", 'dA_prev_temp, dW_temp, db_temp = linear_activation_backward(grads["dA" + str(l + 1)], current_cache, "relu")',
     'dA_prev_temp, dW_temp, db_temp = linear_activation_backward(grads["dA" + str(l + 1)], current_cache, "sigmoid")'),
    ("drop_one_over_m", "linear_backward", "dW = 1.0 / m * np.dot(dZ, A_prev.T)", "dW = np.dot(dZ, A_prev.T)"),
    ("drop_one_over_m", "linear_backward", "db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)",
     "db = np.sum(dZ, axis=1, keepdims=True)"),
    ("m_instead_of_one_over_m", "linear_backward", "dW = 1.0 / m * np.dot(dZ, A_prev.T)",
     "dW = m * np.dot(dZ, A_prev.T)"),
    ("drop_transpose", "linear_backward", "dA_prev = np.dot(W.T, dZ)", "dA_prev = np.dot(W, dZ)"),
    ("drop_transpose", "linear_backward", "dW = 1.0 / m * np.dot(dZ, A_prev.T)", "dW = 1.0 / m * np.dot(dZ, A_prev)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("operator", "function", "before", "after"), EXPECTED_EDITS, ids=[f"{e[0]}:{e[3]}" for e in EXPECTED_EDITS]
)
def test_operator_plants_the_mistake(operator: str, function: str, before: str, after: str) -> None:
    assert before in _lines(SOURCE)
    found = [m for m in _mutants_of(operator, function) if after in _lines(m.function_source)]
    assert found, f"{operator}: no mutant of {function} turns {before!r} into {after!r}"
    assert all(before not in _lines(m.function_source) for m in found)


def test_the_table_of_edits_covers_every_operator_each_with_a_before_after_docstring() -> None:
    assert {e[0] for e in EXPECTED_EDITS} == set(DEEP_OPERATORS)
    for name, op in DEEP_OPERATORS.items():
        assert op.name == name and "->" in op.summary, name


# operator, the function, a line of the regularisation exercise's reference, and what the line must become
REGULARISED_EDITS = [
    ("regularisation_term_dropped", "backward_propagation_with_regularization",
     "dW3 = 1.0 / m * np.dot(dZ3, A2.T) + lambd / m * W3", "dW3 = 1.0 / m * np.dot(dZ3, A2.T)"),
    ("regularisation_term_dropped", "backward_propagation_with_regularization",
     "dW1 = 1.0 / m * np.dot(dZ1, X.T) + lambd / m * W1", "dW1 = 1.0 / m * np.dot(dZ1, X.T)"),
    ("lambd_without_m", "backward_propagation_with_regularization",
     "dW2 = 1.0 / m * np.dot(dZ2, A1.T) + lambd / m * W2", "dW2 = 1.0 / m * np.dot(dZ2, A1.T) + lambd * W2"),
    ("dropout_mask_dropped", "backward_propagation_with_dropout", "dA2 = dA2 * D2", "dA2 = dA2"),
    ("dropout_mask_dropped", "backward_propagation_with_dropout", "dA1 = dA1 * D1", "dA1 = dA1"),
    ("keep_prob_division_dropped", "backward_propagation_with_dropout", "dA1 = dA1 / keep_prob", "dA1 = dA1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("operator", "function", "before", "after"), REGULARISED_EDITS, ids=[f"{e[0]}:{e[3]}" for e in REGULARISED_EDITS]
)
def test_regularisation_operator_plants_the_mistake(operator: str, function: str, before: str, after: str) -> None:
    assert before in _lines(REGULARISED_SOURCE)
    operators = select_regularised_operators([operator])
    mutants = generate_mutants(REGULARISED_SOURCE, function, REGULARISED_REFERENCE.label, operators)
    found = [m for m in mutants if after in _lines(m.function_source) and before not in _lines(m.function_source)]
    assert found, f"{operator}: no mutant of {function} turns {before!r} into {after!r}"


def test_the_regularisation_table_of_edits_covers_every_operator() -> None:
    assert {e[0] for e in REGULARISED_EDITS} == set(REGULARISED_OPERATORS)
    assert all("->" in op.summary for op in REGULARISED_OPERATORS.values())
    found = reference_mutants(REGULARISED_REFERENCE, select_regularised_operators(None))
    assert {f.function for f in found} == set(REGULARISED_REFERENCE.functions) and len(found) == 10


def test_each_target_has_its_reference() -> None:
    assert reference_of("deep") is DEEP_REFERENCE
    assert reference_of("regularisation") is reference_of("regularisation", "regularised") is REGULARISED_REFERENCE
    with pytest.raises(GradHarnessError, match="its references are deep$"):
        reference_of("deep", "nope")
    assert set(all_parts(REGULARISED_REFERENCE)) == {REGULARISATION, DROPOUT}
    assert parts_reaching(REGULARISED_REFERENCE, "backward_propagation_with_dropout") == (DROPOUT,)


def test_the_exercise_table_is_left_alone() -> None:
    assert all(op.function.__module__ == "gradharness.mutation.operators" for op in OPERATORS.values())
    assert "dAL_sign_flipped" not in OPERATORS


def test_an_unknown_operator_lists_the_deep_ones() -> None:
    with pytest.raises(GradHarnessError, match="valid operators for --target deep are .*dAL_sign_flipped"):
        select_deep_operators(["scale_gradient"])


def test_operators_only_change_what_they_name() -> None:
    # the loop variable's neighbours only inside the loop: caches[L - 1] before it is not touched
    assert all("caches[L - 1]" in m.function_source for m in _mutants_of("cache_index_off_by_one", "L_model_backward"))
    keys = _mutants_of("gradient_key_off_by_one", "L_model_backward")
    assert len(keys) == 8 and all('grads["dW" + str(L)]' in m.function_source for m in keys)
    assert _mutants_of("relu_mask_on_upstream", "sigmoid_backward") == []
    assert [m.replacement for m in _mutants_of("db_summed_over_every_axis", "linear_backward")] == ["np.sum(dZ)"]
    assert (
        _mutants_of("activation_swapped", "L_model_backward")[0].replacement == '"relu"'
    )  # the sigmoid layer, in the file's quotes


def test_a_loop_index_is_replaced_without_parentheses() -> None:
    (mutant, _) = _mutants_of("cache_index_off_by_one", "L_model_backward")
    assert mutant.replacement in ("l - 1", "l + 1")
    ast.parse(mutant.function_source.strip())


def test_mutants_are_numbered_across_the_reference_functions() -> None:
    found = reference_mutants(DEEP_REFERENCE, select_deep_operators(None))
    ids = [f.mutant.id for f in found]
    assert len(ids) == len(set(ids)) >= 20
    assert {f.function for f in found} == set(DEEP_REFERENCE.functions)
    assert all(f.mutant.diff.startswith("--- a/gradharness/model/deep.py") for f in found)


def test_a_mutant_runs_the_parts_its_function_reaches() -> None:
    assert set(parts_reaching(DEEP_REFERENCE, "relu_backward")) == {
        "relu_backward", "linear_activation_backward", MODEL
    }  # fmt: skip
    assert parts_reaching(DEEP_REFERENCE, "L_model_backward") == (MODEL,)
    assert set(parts_reaching(DEEP_REFERENCE, "linear_backward")) == {
        "linear_backward", "linear_activation_backward", MODEL
    }  # fmt: skip
    assert len(all_parts(DEEP_REFERENCE)) == 5


def test_a_mutated_block_is_what_the_functions_above_it_call() -> None:
    (mutant,) = _mutants_of("relu_mask_on_upstream", "relu_backward")
    variant = ReferenceVariant("m", (), "relu_backward", mutant.function_source, mutant.function_line)
    namespace = variant_namespace(DEEP_REFERENCE, variant)
    Z = np.array([[-1.0, 2.0]])
    dA = np.array([[3.0, -4.0]])
    cache = ((np.ones((1, 2)), np.ones((1, 1)), np.zeros((1, 1))), Z)
    assert np.array_equal(namespace["relu_backward"](dA, Z), [[3.0, 0.0]])  # masked where dA <= 0
    mutated = namespace["linear_activation_backward"](dA, cache, "relu")
    reference = deep.linear_activation_backward(dA, cache, "relu")
    assert not np.array_equal(mutated[1], reference[1])
    assert deep.relu_backward(dA, Z).tolist() == [[0.0, -4.0]]  # the module itself is untouched


def test_results_compare_bit_for_bit() -> None:
    a = {"dW1": np.array([[1.0, np.nan]]), "db1": (np.zeros((1, 1)), 2.0)}
    assert same(a, {"dW1": np.array([[1.0, np.nan]]), "db1": (np.zeros((1, 1)), 2.0)})
    assert not same(a, {"dW1": np.array([[1.0 + 1e-16 * 2, np.nan]]), "db1": (np.zeros((1, 1)), 2.0)})
    assert not same(np.zeros((2, 1)), np.zeros((2,)))
    assert not same(np.zeros(2), np.zeros(2, dtype=np.float32))
    assert not same((1, 2), [1, 2])


def test_arguments_have_their_exact_zeros_moved_both_ways() -> None:
    cache = ((np.array([[0.0, 1.0]]), np.zeros((1, 1), dtype=np.int64)), np.array([[-0.0, 2.0]]))
    up = nudged(cache, 1e-300)
    assert up[0][0].tolist() == [[1e-300, 1.0]] and up[1].tolist() == [[1e-300, 2.0]]
    assert up[0][1].dtype == np.int64 and up[0][1].tolist() == [[0]]  # integer arrays as they are
    assert nudged({"lambd": 0.0, "keep": 0.5}, -1e-300) == {"lambd": -1e-300, "keep": 0.5}
    assert cache[1].tolist() == [[-0.0, 2.0]]  # the arguments themselves are untouched


def test_a_difference_only_at_a_relu_kink_is_told_apart_from_a_real_one() -> None:
    def strict(dA, Z):
        dZ = np.array(dA, copy=True)
        dZ[Z < 0] = 0
        return dZ

    def wrong(dA, Z):
        return np.array(dA, copy=True)

    dA, Z = np.array([[1.0, 2.0, 3.0]]), np.array([[-1.0, 0.0, 1.0]])
    at_kinks = Comparison()
    at_kinks.twin("relu_backward", strict, deep.relu_backward)(dA, Z)
    assert at_kinks.identical and at_kinks.agreement == SAME_BUT_AT_KINKS
    real = Comparison()
    real.twin("relu_backward", wrong, deep.relu_backward)(dA, Z)
    assert not real.identical and "relu_backward returned other results" in real.difference


def test_keys_in_another_letter_case_are_the_same_results_and_said_to_be() -> None:
    renamed = Comparison()
    renamed.twin("grads", lambda: {"dw1": np.ones(1)}, lambda: {"dW1": np.ones(1)})()
    assert renamed.identical and renamed.agreement == f"{SAME_RESULTS}, {UNDER_OTHER_KEYS}"
    exact = Comparison()
    exact.twin("grads", lambda: {"dW1": np.ones(1)}, lambda: {"dW1": np.ones(1)})()
    assert exact.agreement == SAME_RESULTS


def test_a_key_the_tests_never_read_is_named_not_counted_as_a_difference() -> None:
    extra = Comparison()
    extra.twin(
        "grads", lambda: {"dW1": np.ones(1), "XXdZ1XX": np.zeros(1)}, lambda: {"dW1": np.ones(1), "dZ1": np.ones(1)}
    )()
    assert extra.identical and "the tests read none of the others: XXdZ1XX, dZ1" in extra.agreement
    wrong = Comparison()
    wrong.twin("grads", lambda: {"dW1": np.zeros(1), "XX": np.zeros(1)}, lambda: {"dW1": np.ones(1)})()
    assert not wrong.identical
    assert not same({"dW1": np.ones(1)}, {"dW1": np.ones(1), "db1": np.ones(1)})  # strict unless asked


def _variant_of(function: str, before: str, after: str) -> ReferenceVariant:
    tree = ast.parse(SOURCE)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    lines = SOURCE.split("\n")[node.lineno - 1 : node.end_lineno]
    text = "\n".join(lines)
    assert before in text
    return ReferenceVariant(function, parts_reaching(DEEP_REFERENCE, function), function,
                            text.replace(before, after), node.lineno)  # fmt: skip


QUICK = RunSettings(seed=0, max_examples=8, target="deep")
QUICK_JOB = ReferenceJob(DEEP_REFERENCE, QUICK, RunSettings(seed=1, max_examples=8, target="deep"), 60.0)


def test_the_same_function_written_otherwise_is_equivalent() -> None:
    variant = _variant_of("linear_backward", "dW = 1.0 / m *", "dW = 1 / m *")
    evaluation = reference_variant_task(QUICK_JOB, variant)
    assert evaluation.status is MutantStatus.SURVIVED and evaluation.identical, evaluation.message


def test_a_survivor_with_other_results_is_not_called_equivalent() -> None:
    variant = _variant_of("linear_backward", "dA_prev = np.dot(W.T, dZ)", "dA_prev = np.dot(W.T, dZ) * (1 + 1e-11)")
    evaluation = reference_variant_task(QUICK_JOB, variant)
    assert evaluation.status is MutantStatus.SURVIVED and not evaluation.identical
    assert "linear_backward returned other results than the reference's" in (evaluation.message or "")


def test_the_same_function_to_rounding_is_equivalent() -> None:
    variant = _variant_of("sigmoid_backward", "s = 1 / (1 + np.exp(-Z))", "s = 1 / (1 + np.exp(+Z))")  # 1 - s
    evaluation = reference_variant_task(QUICK_JOB, variant)
    assert evaluation.status is MutantStatus.SURVIVED and evaluation.identical
    assert (evaluation.message or "").startswith("to rounding")


def test_a_wrong_mutant_is_killed_with_its_property_and_smallest_case() -> None:
    variant = _variant_of("sigmoid_backward", "dZ = dA * s * (1 - s)", "dZ = dA * s")
    evaluation = reference_variant_task(QUICK_JOB, variant)
    assert evaluation.status is MutantStatus.KILLED and evaluation.kill_kind is KillKind.WRONG
    assert evaluation.message and "SIGMOID_BACKWARD" in evaluation.message or "MODEL_AGREES" in evaluation.message
    assert evaluation.examples_to_kill is not None and evaluation.examples_to_kill >= 1
    assert evaluation.counterexample is not None and evaluation.shrunk


def test_a_crashing_mutant_is_a_crash_kill() -> None:
    variant = _variant_of(
        "L_model_backward", 'grads["dA" + str(l + 1)], current_cache', 'grads["dA" + str(l)], current_cache'
    )
    evaluation = reference_variant_task(QUICK_JOB, variant)
    assert evaluation.status is MutantStatus.CRASHED and evaluation.kill_kind is KillKind.CRASHED
    assert "KeyError" in (evaluation.message or "")


def test_the_planted_bugs_are_caught_and_the_reference_passes() -> None:
    everything = all_parts(DEEP_REFERENCE)
    unmutated = reference_variant_task(QUICK_JOB, ReferenceVariant("unmutated", everything))
    planted = reference_variant_task(QUICK_JOB, ReferenceVariant("planted", everything, planted=True))
    assert unmutated.status is MutantStatus.SURVIVED and unmutated.cases == 5 * QUICK.max_examples
    assert planted.status is MutantStatus.KILLED
    harness = prove_reference_harness(DEEP_REFERENCE, unmutated, planted)
    assert harness.passed and "planted bugs (dW * 2 and db * 4 in linear_backward)" in harness.message


def test_the_harness_proof_refuses_a_failing_reference_or_an_uncaught_plant() -> None:
    passing = Evaluation(MutantStatus.SURVIVED, cases=40)
    with pytest.raises(HarnessError, match="unmutated reference gradharness/model/deep.py fails"):
        prove_reference_harness(DEEP_REFERENCE, Evaluation(MutantStatus.KILLED, KillKind.WRONG, "wrong"), passing)
    with pytest.raises(HarnessError, match="do not catch the planted bugs"):
        prove_reference_harness(DEEP_REFERENCE, passing, passing)


@pytest.mark.slow
def test_a_campaign_on_some_operators_kills_every_mutant_and_records_them() -> None:
    settings = CampaignSettings(seed=0, max_examples=8, jobs=2,
                                operators=("dAL_sign_flipped", "sigmoid_without_one_minus_s", "db_summed_over_every_axis"))  # fmt: skip
    record = run_reference_campaign(DEEP_REFERENCE, settings)
    assert record.harness is not None and record.harness.passed
    assert record.verdict is RunVerdict.PASS and record.exit_code == 0
    assert record.target["target"] == "deep" and record.target["path"] == "builtin:gradharness/model/deep.py"
    assert record.checker["function"] == "gradharness.check_arrays" and record.exercise_case is None
    statuses = {m.id: m.status for m in record.mutants}
    assert statuses == {
        "dAL_sign_flipped-1": MutantStatus.KILLED,
        "sigmoid_without_one_minus_s-1": MutantStatus.KILLED,
        "db_summed_over_every_axis-1": MutantStatus.CRASHED,  # a scalar db: malformed
    }
    assert next(m for m in record.mutants if m.operator == "dAL_sign_flipped").description.startswith(
        "L_model_backward, line "
    )


@pytest.mark.slow
def test_a_campaign_on_the_regularisation_reference_kills_its_mutants() -> None:
    settings = CampaignSettings(seed=0, max_examples=8, jobs=2, operators=("lambd_without_m", "dropout_mask_dropped"))
    record = run_reference_campaign(REGULARISED_REFERENCE, settings)
    assert record.harness is not None and record.harness.passed, record.harness
    assert record.target["reference"] == "regularised" and record.verdict is RunVerdict.PASS
    assert {m.operator: m.status for m in record.mutants} == {
        "lambd_without_m": MutantStatus.KILLED, "dropout_mask_dropped": MutantStatus.KILLED
    }  # fmt: skip
    assert len(record.mutants) == 5


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.slow
def test_mutate_target_deep_prints_its_verdict_line_and_writes_json_and_html(tmp_path) -> None:
    results, html = tmp_path / "deep.json", tmp_path / "deep.html"
    result = _run("mutate", "--target", "deep", "-q", "--operators", "relu_mask_on_upstream", "--max-examples", "8",
                  "--json", str(results), "--html", str(html))  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.strip() == "PASS mutation score 100.0% (1 mutants)"
    record = load(results, MutateRecord)
    assert record.target["function"].startswith("L_model_backward") and record.settings["max_examples"] == 8
    words = shlex.split(record.reproduce or "")
    assert words[:2] == ["gradharness", "mutate"] and words[words.index("--target") + 1] == "deep"
    page = html.read_text(encoding="utf-8")
    assert "relu_mask_on_upstream-1" in page and "gradharness/model/deep.py" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mutate", "--target", "deep", "my_file.py"], "drop PATH"),
        (["mutate", "--target", "deep", "--layer-sizes", "4,5,3,1"], "drop --layer-sizes"),
        (["mutate", "--target", "deep", "--checker", "c.py"], "drop --checker"),
        (["mutate", "--target", "exercise", "--reference", "deep"], "is not the exercise's"),
        (["mutate", "--target", "deep", "--operators", "scale_gradient"], "valid operators for --target deep are"),
    ],
)
def test_options_of_the_exercise_are_refused_in_one_line(args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gradharness: error:") and message in lines[0], result.stderr


def test_an_unknown_target_is_a_usage_error() -> None:
    result = _run("mutate", "--target", "nope")
    assert result.exit_code == 2 and "'nope' is not one of" in result.stderr


@pytest.mark.slow
def test_the_deep_campaign_kills_every_non_equivalent_mutant_in_under_30_s(tmp_path) -> None:
    started = time.perf_counter()
    result = _run("mutate", "--target", "deep", "--jobs", "2", "--json", str(tmp_path / "deep.json"))
    seconds = time.perf_counter() - started
    print(f"gradharness mutate --target deep: {seconds:.1f} s wall")
    assert result.exit_code == 0, result.output
    assert seconds < 30
    data = json.loads((tmp_path / "deep.json").read_text())
    record = load(tmp_path / "deep.json", MutateRecord)
    assert data["verdict"] == "pass" and record.harness is not None and record.harness.passed
    assert len(record.mutants) >= 20 and {m.operator for m in record.mutants} == set(DEEP_OPERATORS)
    undetected = [m.id for m in record.mutants if not m.status.detected and m.status is not MutantStatus.EQUIVALENT]
    assert undetected == []
    assert record.score is not None and record.score.score == 1.0 and record.score.killed > record.score.crashed
    assert "PASS in" in result.stdout and "harness: the unmutated gradharness/model/deep.py passes" in result.stdout


@pytest.mark.slow
def test_mutmut_runs_on_the_deep_reference_and_its_equivalents_are_told() -> None:
    settings = CampaignSettings(seed=0, max_examples=10, jobs=2)
    record = reference_mutmut_campaign(DEEP_REFERENCE, settings, functions=("relu_backward", "sigmoid_backward"),
                                       mutmut_timeout=300)  # fmt: skip
    assert record.engine == "mutmut" and record.harness is not None and record.harness.passed
    assert len(record.mutants) >= 15 and all(m.operator == "mutmut" for m in record.mutants)
    assert all(m.diff.startswith("--- a/gradharness/model/deep.py") for m in record.mutants)
    ids = [m.id for m in record.mutants]
    assert len(ids) == len(set(ids)) and all(
        i.startswith(("mutmut-relu_backward-", "mutmut-sigmoid_backward-")) for i in ids
    )
    equivalent = {m.replacement: m.equivalence for m in record.mutants if m.status is MutantStatus.EQUIVALENT}
    assert any("np.exp(+Z)" in r and "to rounding" in (e or "") for r, e in equivalent.items()), equivalent
    assert any("Z < 0" in r and "kink" in (e or "") for r, e in equivalent.items()), equivalent
    assert record.verdict is RunVerdict.PASS, [
        m.description for m in record.mutants if m.status is MutantStatus.SURVIVED
    ]
