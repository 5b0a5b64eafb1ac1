"""gradharness mutate / sensitivity: exit codes, one-line errors, JSON and the mutation-testing-elements export.

In process through click; the `slow` tests that use `console_script` run the installed script.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradharness.cli.main import main
from gradharness.records.mutation import MutateRecord, SensitivityRecord
from gradharness.records.store import load
from gradharness.records.verdict import RunVerdict
from tests.cli_support import console_script

FIXTURES = Path(__file__).parent / "fixtures"


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mutate", "no/such/file.py"], "no such file"),
        (
            ["mutate", str(FIXTURES / "user_code" / "correct_seed_style.py"), "--backward", "nope"],
            "defines no function nope",
        ),
        (["mutate", str(FIXTURES / "user_code" / "bad_syntax.py")], "syntax error"),
        (["mutate", "--checker", "no/such/checker.py"], "no such file"),
        (
            ["mutate", "--engine", "mutmut", str(FIXTURES / "user_code" / "correct_seed_style.py")],
            "built-in reference only",
        ),
        pytest.param(
            [
                "mutate",
                "--max-examples",
                "5",
                "--timeout",
                "1",
                "--operators",
                "scale_gradient",
                str(FIXTURES / "user_code" / "hang_backward.py"),
            ],
            "took longer than",
            marks=pytest.mark.slow,
        ),
        (["sensitivity", "no/such/file.py"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gradharness: error:") and message in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mutate", "--operators", "nope"], "unknown nope"),
        (["mutate", "--layer-sizes", "4,5"], "give four sizes"),
        (["mutate", "--threshold", "-1"], "not a positive finite number"),
        (["mutate", "--engine", "other"], "'other' is not one of"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2 and message in result.stderr


def test_mutate_writes_json_and_the_export(tmp_path) -> None:
    result = _run("mutate", "--operators", "scale_gradient,relu_mask_from_pre_activation,lost_keepdims",
                  "--json", str(tmp_path / "m.json"), "--mte", str(tmp_path / "mte.json"), "--jobs", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "harness: the unmutated backward_propagation_n passes" in result.output
    assert "equivalent candidate relu_mask_from_pre_activation-1" in result.output and "+++ b/" in result.output
    record = load(tmp_path / "m.json", MutateRecord)
    assert record.kind == "mutate" and record.verdict is RunVerdict.PASS
    words = shlex.split(record.reproduce)
    assert words[:2] == ["gradharness", "mutate"]
    pairs = dict(zip(words[2::2], words[3::2], strict=True))
    assert pairs == {
        "--operators": "scale_gradient,relu_mask_from_pre_activation,lost_keepdims",
        "--json": str(tmp_path / "m.json"),
        "--mte": str(tmp_path / "mte.json"),
        "--jobs": "2",
    }
    export = json.loads((tmp_path / "mte.json").read_text())
    assert len(export["files"]["gradharness/model/network.py"]["mutants"]) == len(record.mutants) == 11


@pytest.mark.slow
def test_a_broken_checker_exits_1() -> None:
    result = _run("mutate", "-q", "--operators", "scale_gradient", "--checker",
                  str(FIXTURES / "mutation" / "checker_j_minus_from_thetaplus.py"))  # fmt: skip
    assert result.exit_code == 1 and result.output.startswith("FAIL")


def test_sensitivity_prints_the_smallest_delta_per_block(tmp_path) -> None:
    result = _run("sensitivity", "-q", "--operators", "scale_gradient", "--max-examples", "20",
                  "--json", str(tmp_path / "s.json"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("smallest delta caught on every case: dW1 ")
    assert load(tmp_path / "s.json", SensitivityRecord).kind == "sensitivity"


@pytest.mark.slow
def test_a_campaign_that_cannot_run_still_writes_its_report_and_json(tmp_path) -> None:
    html, results = tmp_path / "r.html", tmp_path / "r.json"
    run = console_script("mutate", str(FIXTURES / "user_code" / "buggy_seed.py"), "--max-examples", "20",
                         "--html", str(html), "--json", str(results), timeout=300)  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.splitlines()[0].startswith("gradharness: error: the unmutated backward_propagation_n")
    data = json.loads(results.read_text())
    assert data["verdict"] == "error" and "unmutated" in data["error"] and len(data["target"]["sha256"]) == 64
    assert "the campaign could not run" in html.read_text()


@pytest.mark.slow
def test_sensitivity_console_script(tmp_path) -> None:
    # The in-process test above runs this sweep on 20 cases; here only the installed script's way in is new.
    run = console_script("sensitivity", "-q", "--operators", "scale_gradient", "--max-examples", "5",
                         "--json", str(tmp_path / "s.json"), timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("smallest delta caught on every case: dW1 ")
    assert load(tmp_path / "s.json", SensitivityRecord).kind == "sensitivity"


def test_a_campaign_that_cannot_run_describes_its_checker_as_a_run_would(tmp_path) -> None:
    checker = tmp_path / "chk.py"
    checker.write_text("def nothing():\n    pass\n", encoding="utf-8")
    out = tmp_path / "out.json"
    result = _run("mutate", "--checker", str(checker), "--checker-function", "my_check", "--json", str(out))
    assert result.exit_code == 2
    record = load(out, MutateRecord)
    assert record.verdict is RunVerdict.ERROR and "defines no my_check" in (record.error or "")
    assert record.checker["kind"] == "file" and record.checker["function"] == "my_check"
    assert record.checker["path"] == str(checker.resolve()) and record.checker["sha256"]
    assert record.target == {"path": "builtin:gradharness/model/network.py", "sha256": None,
                             "function": "backward_propagation_n"}  # fmt: skip
