"""View models of check reports: heat map layout, settings rows, numbers from JSON."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

from gradharness.check.verdict import Verdict
from gradharness.model.parameters import LayerSizes, block_slices
from gradharness.records.check import CheckRecord
from gradharness.records.serialise import decode, to_json
from gradharness.render.html.viewmodels import build_check_view, flatten_settings, heat_blocks
from tests.report_support import error_record, pass_record, seed_case_record

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_heat_map_has_the_wrong_blocks_in_their_parameter_shapes():
    blocks = {block.name: block for block in heat_blocks(seed_case_record().failures[0])}
    assert sorted(blocks) == ["dW2", "db1"]
    assert (blocks["dW2"].rows, blocks["dW2"].cols) == (3, 5)
    assert (blocks["db1"].rows, blocks["db1"].cols) == (5, 1)
    # dW2 is doubled: |2g - g| / (|2g| + |g|) = 1/3 wherever g != 0; db1 uses 4/m: 3/5.
    assert {round(v, 6) for row in blocks["dW2"].error for v in row} <= {0.0, round(1 / 3, 6)}
    assert {round(v, 6) for row in blocks["db1"].error for v in row} <= {0.0, 0.6}


def test_heat_map_is_row_major_like_dictionary_to_vector():
    record = seed_case_record()
    failure = record.failures[0]
    check = failure.gradient_check
    sizes = LayerSizes(*failure.case["sizes"])
    start = block_slices(sizes)["W2"].start
    grad = list(check.gradapprox)  # every entry right ...
    grad[start + 1 * 5 + 3] += 1.0  # ... except dW2[1, 3]
    blocks = [b if b.name != "db1" else replace(b, verdict=Verdict.PASS) for b in check.blocks]
    failure = replace(failure, gradient_check=replace(check, grad=grad, blocks=blocks))
    (heat,) = heat_blocks(failure)
    wrong = [(r, c) for r, row in enumerate(heat.error) for c, v in enumerate(row) if v]
    assert wrong == [(1, 3)]


def test_heat_map_marks_missing_numerical_values_and_skips_malformed_records():
    failure = seed_case_record().failures[0]
    check = failure.gradient_check
    approx = list(check.gradapprox)
    approx[block_slices(LayerSizes(4, 5, 3, 1))["b1"].start] = None
    (db1,) = [
        b for b in heat_blocks(replace(failure, gradient_check=replace(check, gradapprox=approx))) if b.name == "db1"
    ]
    assert db1.error[0][0] is None
    assert heat_blocks(replace(failure, gradient_check=replace(check, grad=check.grad[:-1]))) == []
    # The blocks' shapes are in the record; an older record without them needs the case's sizes.
    assert [b.name for b in heat_blocks(replace(failure, case=None))] == ["db1", "dW2"]
    unshaped = replace(check, blocks=[replace(b, shape=None) for b in check.blocks])
    assert heat_blocks(replace(failure, case=None, gradient_check=unshaped)) == []
    assert [b.name for b in heat_blocks(replace(failure, gradient_check=unshaped))] == ["db1", "dW2"]


def test_numbers_survive_a_json_round_trip_with_infinities():
    record = seed_case_record()
    check = record.failures[0].gradient_check
    blocks = [replace(check.blocks[0], difference=math.inf), *check.blocks[1:]]
    record = replace(record, failures=[replace(record.failures[0], gradient_check=replace(check, blocks=blocks))])
    loaded = decode(CheckRecord, to_json(record))
    assert loaded.failures[0].gradient_check.blocks[0].difference == math.inf
    view = build_check_view(loaded, created=NOW)
    assert view.failures[0].blocks[0].difference == math.inf


def test_every_setting_is_a_row_and_unset_ones_say_what_is_used():
    rows = {row.key: row.value for row in flatten_settings(seed_case_record().settings)}
    assert rows["seed"] == "0"
    assert rows["check.threshold"] == "1e-07"
    assert rows["check.epsilon"].startswith("default")
    assert rows["strategy.n1"] == "drawn"
    assert rows["strategy.adversarial"] == "False"


def test_header_has_target_environment_and_reproduce():
    view = build_check_view(seed_case_record(), created=NOW)
    header = view.header
    assert header.verdict == "fail" and header.verdict_label == "FAIL"
    assert header.created == "2026-01-02T03:04:05+00:00"
    assert [row.key for row in header.environment][:4] == ["gradharness", "python", "numpy", "hypothesis"]
    assert header.reproduce == "gradharness demo --seed 0"
    assert "dW2" in header.summary and "db1" in header.summary


def test_source_of_the_builtin_buggy_backprop_highlights_both_bugs():
    source = build_check_view(seed_case_record(), created=NOW).source
    highlighted = [line.text.strip() for excerpt in source.excerpts for line in excerpt.lines if line.highlighted]
    assert highlighted == [
        "dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2",
        "db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)",
    ]


def test_pass_and_error_views(tmp_path):
    passed = build_check_view(pass_record(), created=NOW)
    assert passed.header.verdict_label == "PASS" and passed.failures == [] and passed.source is None
    path = tmp_path / "broken.py"
    path.write_text("def f(:\n    pass\n", encoding="utf-8")
    failed = build_check_view(error_record(path, "broken.py: syntax error (line 1): invalid syntax"), created=NOW)
    assert failed.header.verdict_label == "ERROR"
    assert [line.number for e in failed.source.excerpts for line in e.lines if line.highlighted] == [1]
