"""Mutation testing of the layers target's references: its operators, the references and the campaign.

Each operator is shown on a small source of CS231n's style; the quick campaigns run one module, and all three
in one record, with a few operators; the whole campaign on each of the three references
(``gradharness mutate --target layers --reference X``) is slow.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gradharness.cli.main import main
from gradharness.mutation.mutants import generate_mutants
from gradharness.mutation.operators_layers import LAYERS_OPERATORS, select_layers_operators
from gradharness.mutation.reference_campaign import reference_mutants, run_reference_campaign
from gradharness.mutation.references import (
    LAYERS_CONV_REFERENCE,
    LAYERS_NORM_REFERENCE,
    LAYERS_REFERENCE,
    REFERENCES,
    reference_of,
    select_operators_of,
)
from gradharness.records.status import MutantStatus
from gradharness.records.verdict import RunVerdict
from gradharness.settings import CampaignSettings

SMALL = """
def backward(dout, cache):
    x, w, b, G = cache
    N = x.shape[0]
    n_rows, n_cols = dout.shape
    M = n_rows * n_cols
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.T.dot(dout)
    db = np.sum(dout, axis=0)
    dr = dout * (x > 0)
    dk = np.sum(dout, axis=1, keepdims=True)
    dxmu = dx + dw / N - dk
    dy = (1.0 / M) * dr
    dz = dout.reshape(N, G, -1)
    for i in range(N):
        dw += x[i]
    dx /= N
    return dx, dw, db
"""

# operator, a line of the small source, and what the line must become
EXPECTED_EDITS = [
    ("sum_axis_changed", "db = np.sum(dout, axis=0)", "db = np.sum(dout, axis=1)"),
    ("sum_axis_changed", "dk = np.sum(dout, axis=1, keepdims=True)", "dk = np.sum(dout, axis=0, keepdims=True)"),
    ("sum_axis_dropped", "db = np.sum(dout, axis=0)", "db = np.sum(dout)"),
    ("keepdims_dropped", "dk = np.sum(dout, axis=1, keepdims=True)", "dk = np.sum(dout, axis=1)"),
    ("mean_for_sum", "db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)"),
    ("division_by_size_dropped", "dxmu = dx + dw / N - dk", "dxmu = dx + dw - dk"),
    ("division_by_size_dropped", "dy = (1.0 / M) * dr", "dy = (1.0) * dr"),  # M is computed from sizes
    ("division_by_size_dropped", "dx /= N", "pass"),
    ("transpose_dropped", "dx = dout.dot(w.T).reshape(x.shape)", "dx = dout.dot(w).reshape(x.shape)"),
    ("transpose_dropped", "dw = x.T.dot(dout)", "dw = x.dot(dout)"),
    ("mask_from_wrong_array", "dr = dout * (x > 0)", "dr = dout * (dout > 0)"),
    ("accumulation_overwritten", "dw += x[i]", "dw = x[i]"),
    ("term_dropped", "dxmu = dx + dw / N - dk", "dxmu = dw / N - dk"),
    ("term_dropped", "dxmu = dx + dw / N - dk", "dxmu = dx - dk"),
    ("term_dropped", "dxmu = dx + dw / N - dk", "dxmu = dx + dw / N"),
    ("shape_reversed", "dx = dout.dot(w.T).reshape(x.shape)", "dx = dout.dot(w.T).reshape(x.shape[::-1])"),
    ("shape_reversed", "dz = dout.reshape(N, G, -1)", "dz = dout.reshape(-1, G, N)"),
    ("transposed_before_reshape", "dx = dout.dot(w.T).reshape(x.shape)", "dx = dout.dot(w.T).T.reshape(x.shape)"),
    ("transposed_before_reshape", "dz = dout.reshape(N, G, -1)", "dz = dout.T.reshape(N, G, -1)"),
]  # fmt: skip


def _mutants(operator: str, source: str = SMALL):
    return generate_mutants(source, "backward", "small.py", select_layers_operators([operator]))


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


@pytest.mark.parametrize(
    ("operator", "before", "after"), EXPECTED_EDITS, ids=[f"{e[0]}:{e[2]}" for e in EXPECTED_EDITS]
)
def test_operator_plants_the_mistake(operator: str, before: str, after: str) -> None:
    assert before in _lines(SMALL)
    found = [m for m in _mutants(operator) if after in _lines(m.function_source)]
    assert found, f"{operator}: no mutant turns {before!r} into {after!r}"
    assert all(before not in _lines(m.function_source) for m in found)


def test_the_table_of_edits_covers_every_operator_each_with_a_before_after_docstring() -> None:
    assert {e[0] for e in EXPECTED_EDITS} == set(LAYERS_OPERATORS)
    for name, op in LAYERS_OPERATORS.items():
        assert op.name == name and "->" in op.summary, name


@pytest.mark.parametrize(
    ("operator", "source"),
    [
        ("accumulation_overwritten", "def backward(dout, cache):\n    dw = dout\n    dw += cache\n    return dw\n"),
        ("mask_from_wrong_array", "def backward(x, y):\n    margins = x - y\n    dx = margins > 0\n    return dx\n"),
        ("term_dropped", "def backward(dout, cache):\n    dx[i + 1] = dout\n    return dx\n"),
        ("division_by_size_dropped", "def backward(dout, std):\n    return dout / std\n"),
        ("shape_reversed", "def backward(dout, cache):\n    return dout.reshape(cache)\n"),
    ],
)
def test_an_operator_leaves_what_is_not_its_mistake_alone(operator: str, source: str) -> None:
    assert _mutants(operator, source) == []  # outside a loop, no upstream dout, a target's index, no size...


def test_the_three_references_are_the_layers_target_and_every_mutant_is_numbered() -> None:
    assert reference_of("layers") is LAYERS_REFERENCE
    assert reference_of("layers", "layers_conv") is LAYERS_CONV_REFERENCE
    for reference in (LAYERS_REFERENCE, LAYERS_NORM_REFERENCE, LAYERS_CONV_REFERENCE):
        found = reference_mutants(reference, select_operators_of(reference, None))
        ids = [f.mutant.id for f in found]
        assert len(ids) == len(set(ids)) >= 9, reference.name
        assert all(f.mutant.diff.startswith(f"--- a/{reference.label}") for f in found)


def test_a_campaign_on_the_fully_connected_layers_kills_its_mutants() -> None:
    operators = ("transpose_dropped", "mask_from_wrong_array", "division_by_size_dropped")
    settings = CampaignSettings(seed=0, max_examples=8, jobs=2, operators=operators)
    record = run_reference_campaign(LAYERS_REFERENCE, settings)
    assert record.harness is not None and record.harness.passed, record.harness
    assert "db * 2 in affine_backward" in record.harness.message
    assert record.verdict is RunVerdict.PASS and record.exit_code == 0
    assert {m.operator for m in record.mutants} == set(operators) and len(record.mutants) == 7
    statuses = {m.id: m.status for m in record.mutants}
    # Without its .T, a product of (N, D) and (D, M) arrays no longer fits: a crash (malformed) kill.
    assert {s for i, s in statuses.items() if i.startswith("transpose_dropped")} == {MutantStatus.CRASHED}
    assert all(s is MutantStatus.KILLED for i, s in statuses.items() if not i.startswith("transpose_dropped"))


def test_mutate_target_layers_without_reference_scores_the_mutants_of_all_three_modules_in_one_record(
    tmp_path,
) -> None:
    from gradharness.records.mutation import MutateRecord
    from gradharness.records.store import load

    operators = ("mask_from_wrong_array", "shape_reversed", "accumulation_overwritten")  # in every module, few
    results, html = tmp_path / "layers.json", tmp_path / "layers.html"
    args = ["mutate", "--target", "layers", "--operators", ",".join(operators), "--max-examples", "3", "--jobs", "2"]
    result = CliRunner().invoke(
        main, [*args, "-q", "--json", str(results), "--html", str(html)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output + result.stderr
    record = load(results, MutateRecord)
    references = (LAYERS_REFERENCE, LAYERS_NORM_REFERENCE, LAYERS_CONV_REFERENCE)
    assert record.target["reference"] == "layers, layers_norm, layers_conv"
    assert record.harness is not None and record.harness.passed
    assert all(r.planted.words in record.harness.message for r in references), record.harness.message
    expected = {r.name: len(reference_mutants(r, select_operators_of(r, operators))) for r in references}
    assert all(expected.values()), expected  # each module has mutants of these operators
    by_module: dict[str, int] = {}
    for mutant in record.mutants:
        module, _, _ = mutant.id.partition(":")
        label = REFERENCES[module].label
        assert mutant.diff.startswith(f"--- a/{label}") and mutant.description.startswith(f"{module}."), mutant.id
        by_module[module] = by_module.get(module, 0) + 1
    assert by_module == expected and len({m.id for m in record.mutants}) == len(record.mutants)
    score = record.score
    assert score is not None and score.total == len(record.mutants) == sum(expected.values())
    detected = score.killed + score.crashed + score.timed_out
    assert detected + score.survived + score.equivalent == score.total and score.survived == 0
    # On 3 cases the max-pool windows need not overlap: its `+=` as `=` may be an equivalent candidate, not counted.
    assert score.score == detected / (score.total - score.equivalent) == 1.0 and detected >= score.total - 1
    assert sum(s.total for s in record.operators) == score.total
    assert result.stdout.strip() == f"PASS mutation score 100.0% ({score.total} mutants)"
    page = html.read_text(encoding="utf-8")
    assert all(f"{r.name}:" in page and r.label in page for r in references)


@pytest.mark.parametrize(
    ("args", "refused"),
    [(["--engine", "mutmut"], "--engine mutmut"), (["--mte", "mte.json"], "--mte")],
)
def test_what_runs_on_one_module_asks_for_a_reference(args: list[str], refused: str) -> None:
    result = CliRunner().invoke(main, ["mutate", "--target", "layers", *args], catch_exceptions=False)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and refused in lines[0] and "give --reference (layers, layers_norm, layers_conv)" in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("reference", ["layers", "layers_norm", "layers_conv"])
def test_mutate_target_layers_kills_every_non_equivalent_mutant(reference: str, tmp_path) -> None:
    from gradharness.records.mutation import MutateRecord
    from gradharness.records.store import load

    results = tmp_path / f"{reference}.json"
    args = ["mutate", "--target", "layers", "--reference", reference, "--seed", "0", "--jobs", "2", "-q"]
    result = CliRunner().invoke(main, [*args, "--json", str(results)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    record = load(results, MutateRecord)
    assert record.harness is not None and record.harness.passed
    undetected = [m.id for m in record.mutants if not m.status.detected and m.status is not MutantStatus.EQUIVALENT]
    assert undetected == []
    assert record.score is not None and record.score.score == 1.0 and record.score.killed > 0
