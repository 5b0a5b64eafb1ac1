"""`gradharness check` and `gradharness demo` as a user runs them: exit codes and what they print.

The console script's entry point runs in this process (tests/cli_support.py), the checks' worker
processes two at a time; the `*_console_script` tests run the installed script itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import Run, console_script, gradharness, gradharness_many
from tests.report_support import meta, parse
from tests.user_files import EXPECTED_EXIT, EXPECTED_FORWARD_WRONG, EXPECTED_WRONG_BLOCKS, FIXTURES

CATALOGUE = sorted(EXPECTED_EXIT)
HIDDEN_BY_ONE_EXAMPLE = ["buggy_bias_all_axes.py", "buggy_cost_mean_all.py", "buggy_transpose_square.py",
                         "buggy_m_wrong_axis.py"]  # fmt: skip
SEEDS = ["1", "2", "12345"]
ADVERSARIAL = ["correct_z_mask.py", "correct_einsum.py"]


def check(name: str, *extra: str, timeout: str = "20") -> list[str]:
    return ["check", str(FIXTURES / name), "--timeout", timeout, *extra]


def cannot_check_is_one_line(run: Run, name: str) -> None:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradharness: error: "), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert name in lines[0]


@pytest.fixture(scope="module")
def fixture_runs() -> dict[str, Run]:
    """Every fixture checked once at seed 0 (a hang is a hang after 3 s as after 20)."""
    commands = [check(name, "--seed", "0", timeout="3" if "hang" in name else "20") for name in CATALOGUE]
    return dict(zip(CATALOGUE, gradharness_many(commands), strict=True))


@pytest.fixture(scope="module")
def json_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("json")


@pytest.fixture(scope="module")
def setting_runs(json_folder: Path) -> dict[str, Run]:
    """The checks below that vary seeds and settings, run once each (the long shrinks first)."""
    commands = {
        "--json": check("buggy_seed.py", "--seed", "3", "--json", str(json_folder / "result.json")),
        "--layer-sizes": check("buggy_transpose_square.py", "--seed", "0", "--layer-sizes", "*,3,3,*"),
        "--exercise-settings": check("correct_seed_style.py", "--seed", "0", "--exercise-settings"),
    }
    commands |= {f"{name} --adversarial": check(name, "--seed", "7", "--adversarial") for name in ADVERSARIAL}
    commands |= {
        f"{name} --seed {seed}": check(name, "--seed", seed) for name in HIDDEN_BY_ONE_EXAMPLE for seed in SEEDS
    }
    return dict(zip(commands, gradharness_many(list(commands.values())), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("name", CATALOGUE)
def test_exit_code(fixture_runs: dict[str, Run], name: str) -> None:
    run = fixture_runs[name]
    assert run.returncode == EXPECTED_EXIT[name], run.stdout + run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, code in EXPECTED_EXIT.items() if code == 2))
def test_cannot_check_is_one_line_on_stderr(fixture_runs: dict[str, Run], name: str) -> None:
    cannot_check_is_one_line(fixture_runs[name], name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_WRONG_BLOCKS))
def test_findings_name_the_wrong_blocks(fixture_runs: dict[str, Run], name: str) -> None:
    output = fixture_runs[name].stdout
    assert "FAIL" in output
    assert any(block in output for block in EXPECTED_WRONG_BLOCKS[name]), output


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_FORWARD_WRONG))
def test_a_forward_that_is_not_the_network_is_named(fixture_runs: dict[str, Run], name: str) -> None:
    output = fixture_runs[name].stdout
    assert "FAIL" in output and "where the network's cost is" in output, output
    assert EXPECTED_FORWARD_WRONG[name] in output, output


@pytest.mark.slow
def test_failure_shows_smallest_network_and_how_to_reproduce(fixture_runs: dict[str, Run]) -> None:
    output = fixture_runs["buggy_seed.py"].stdout
    assert "smallest failing network: sizes 1-1-1-1" in output
    assert "dW2[0, 0]: backprop" in output
    assert "reproduce: gradharness check" in output and "--seed 0" in output


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", HIDDEN_BY_ONE_EXAMPLE)
def test_bugs_one_example_hides_are_found_for_any_seed(setting_runs: dict[str, Run], name: str, seed: str) -> None:
    run = setting_runs[f"{name} --seed {seed}"]
    assert run.returncode == 1, run.stdout + run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", ADVERSARIAL)
def test_correct_code_passes_adversarial_draws(setting_runs: dict[str, Run], name: str) -> None:
    run = setting_runs[f"{name} --adversarial"]
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.slow
def test_json_output(setting_runs: dict[str, Run], json_folder: Path) -> None:
    assert setting_runs["--json"].returncode == 1
    data = json.loads((json_folder / "result.json").read_text())
    assert data["schema_version"] == 1 and data["verdict"] == "fail"
    assert data["settings"]["seed"] == 3
    assert len(data["target"]["sha256"]) == 64
    assert set(data["wrong_blocks"]) == {"dW2", "db1"}


def test_json_written_even_when_the_file_cannot_be_checked(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    run = gradharness(*check("bad_syntax.py", "--json", str(out)))
    assert run.returncode == 2
    data = json.loads(out.read_text())
    assert data["verdict"] == "error" and "syntax error" in data["error"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check", "no/such/file.py"], "no such file"),
        (["check", str(FIXTURES / "correct_seed_style.py"), "--epsilon", "nan"], "epsilon"),
        (["check", str(FIXTURES / "correct_seed_style.py"), "--max-examples", "0"], "max-examples"),
        (["check", str(FIXTURES / "correct_seed_style.py"), "--layer-sizes", "4,5,3"], "four sizes"),
        (
            ["check", str(FIXTURES / "correct_seed_style.py"), "--forward", "nope", "--backward", "nada"],
            "no functions to check named nope",
        ),
    ],
)
def test_bad_invocations_exit_2_with_one_clear_line(args: list[str], words: str) -> None:
    run = gradharness(*args)
    assert run.returncode == 2
    assert words in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_fixed_sizes_for_code_that_supports_only_some_shapes(setting_runs: dict[str, Run]) -> None:
    run = setting_runs["--layer-sizes"]
    assert run.returncode == 1  # square W2: right shape, wrong values
    assert "dW2" in run.stdout and "has shape" not in run.stdout


@pytest.mark.slow
def test_exercise_settings_do_not_fail_correct_code(setting_runs: dict[str, Run]) -> None:
    run = setting_runs["--exercise-settings"]
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.slow
def test_check_console_script(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    found = console_script(*check("buggy_sign.py", "--seed", "0", "--json", str(out)))
    assert found.returncode == 1, found.stdout + found.stderr
    assert "FAIL" in found.stdout and json.loads(out.read_text())["verdict"] == "fail"
    unreadable = console_script(*check("bad_syntax.py"))
    assert unreadable.returncode == 2
    cannot_check_is_one_line(unreadable, "bad_syntax.py")
    usage = console_script("check", str(FIXTURES / "correct_seed_style.py"), "--max-examples", "0")
    assert usage.returncode == 2 and "max-examples" in usage.stderr


@pytest.mark.slow
def test_demo_is_the_self_test_console_script(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    run = console_script("demo", "--max-examples", "50", "--html", str(out))
    assert run.returncode == 0, run.stdout
    assert "buggy fails in dW2 and db1" in run.stdout
    assert "1.19e-07" in run.stdout
    document = parse(out.read_text(encoding="utf-8"))  # the report worth showing: the exercise's bugs
    assert meta(document)["gradharness-target"] == "builtin:backward_propagation_n_buggy"
    assert {row[0] for row in document.by_id("wrong-blocks").rows()} == {"dW2", "db1"}
