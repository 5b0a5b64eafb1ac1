"""`gradharness check` and `gradharness demo` as a user runs them: exit codes and what they print."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.user_files import EXPECTED_EXIT, EXPECTED_WRONG_BLOCKS, FIXTURES


def gradharness(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gradharness", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def check(name: str, *extra: str) -> subprocess.CompletedProcess:
    return gradharness("check", str(FIXTURES / name), "--timeout", "20", *extra)


@pytest.fixture(scope="module")
def fixture_runs():
    """Every fixture checked once at seed 0 (two at a time: the machine has two cores)."""
    names = sorted(EXPECTED_EXIT)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda n: check(n, "--seed", "0", "--timeout", "8" if "hang" in n else "20"), names))
    return dict(zip(names, results, strict=True))


@pytest.mark.parametrize("name", sorted(EXPECTED_EXIT))
def test_exit_code(fixture_runs, name):
    run = fixture_runs[name]
    assert run.returncode == EXPECTED_EXIT[name], run.stdout + run.stderr


@pytest.mark.parametrize("name", sorted(n for n, code in EXPECTED_EXIT.items() if code == 2))
def test_cannot_check_is_one_line_on_stderr(fixture_runs, name):
    run = fixture_runs[name]
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradharness: error: "), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert name in lines[0]


@pytest.mark.parametrize("name", sorted(EXPECTED_WRONG_BLOCKS))
def test_findings_name_the_wrong_blocks(fixture_runs, name):
    output = fixture_runs[name].stdout
    assert "FAIL" in output
    assert any(block in output for block in EXPECTED_WRONG_BLOCKS[name]), output


def test_failure_shows_smallest_network_and_how_to_reproduce(fixture_runs):
    output = fixture_runs["buggy_seed.py"].stdout
    assert "smallest failing network: sizes 1-1-1-1" in output
    assert "dW2[0, 0]: backprop" in output
    assert "reproduce: gradharness check" in output and "--seed 0" in output


@pytest.mark.parametrize("seed", ["1", "2", "12345"])
@pytest.mark.parametrize(
    "name",
    ["buggy_bias_all_axes.py", "buggy_cost_mean_all.py", "buggy_transpose_square.py", "buggy_m_wrong_axis.py"],
)
def test_bugs_one_example_hides_are_found_for_any_seed(name, seed):
    assert check(name, "--seed", seed).returncode == 1


@pytest.mark.parametrize("name", ["correct_z_mask.py", "correct_einsum.py"])
def test_correct_code_passes_adversarial_draws(name):
    run = check(name, "--seed", "7", "--adversarial")
    assert run.returncode == 0, run.stdout + run.stderr


def test_json_output(tmp_path):
    out = tmp_path / "result.json"
    run = check("buggy_seed.py", "--seed", "3", "--json", str(out))
    assert run.returncode == 1
    data = json.loads(out.read_text())
    assert data["schema_version"] == 1 and data["verdict"] == "fail"
    assert data["settings"]["seed"] == 3
    assert len(data["target"]["sha256"]) == 64
    assert set(data["wrong_blocks"]) == {"dW2", "db1"}


def test_json_written_even_when_the_file_cannot_be_checked(tmp_path):
    out = tmp_path / "result.json"
    run = check("bad_syntax.py", "--json", str(out))
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
def test_bad_invocations_exit_2_with_one_clear_line(args, words):
    run = gradharness(*args)
    assert run.returncode == 2
    assert words in run.stderr
    assert "Traceback" not in run.stderr


def test_fixed_sizes_for_code_that_supports_only_some_shapes():
    run = check("buggy_transpose_square.py", "--seed", "0", "--layer-sizes", "*,3,3,*")
    assert run.returncode == 1  # square W2: right shape, wrong values
    assert "dW2" in run.stdout and "has shape" not in run.stdout


def test_exercise_settings_do_not_fail_correct_code():
    assert check("correct_seed_style.py", "--seed", "0", "--exercise-settings").returncode == 0


def test_demo_is_the_self_test():
    run = gradharness("demo", "--max-examples", "50")
    assert run.returncode == 0, run.stdout
    assert "buggy fails in dW2 and db1" in run.stdout
    assert "1.19e-07" in run.stdout
