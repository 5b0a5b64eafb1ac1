"""The reproduce line: one builder, shell-quoted, every option that is not at its default and nothing else."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from gradharness.judge.reproduce import command_line, demo_command, reproduce_command
from gradharness.settings import CheckOptions, FunctionNames, RunSettings, StrategyOptions


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ([("--seed", 0, 0), ("--jobs", None, None), ("--shrink", False, False)], []),
        ([("--seed", 3, 0)], ["--seed", "3"]),
        ([("--shrink", True, False), ("--html", True, None)], ["--shrink", "--html"]),
        ([("--layer-sizes", (4, None, 3, 1), None)], ["--layer-sizes", "4,*,3,1"]),
        ([("--operators", ("scale_gradient", "lost_keepdims"), None)], ["--operators", "scale_gradient,lost_keepdims"]),
        ([("--threshold", 1e-05, 1e-07), ("--timeout", 30.0, 30.0)], ["--threshold", "1e-05"]),
    ],
)
def test_command_line_repeats_only_what_differs_from_the_default(options, words: list[str]) -> None:
    assert shlex.split(command_line("mutate", ["f.py"], options)) == ["gradharness", "mutate", "f.py", *words]


def test_command_line_quotes_for_the_shell() -> None:
    line = command_line("check", [Path("my files/a b.py")], [("--json", "out $HOME.json", None)])
    assert line == "gradharness check 'my files/a b.py' --json 'out $HOME.json'"
    assert shlex.split(line)[2:] == ["my files/a b.py", "--json", "out $HOME.json"]


def test_a_check_always_names_its_seed_and_every_setting_that_is_not_the_default() -> None:
    assert reproduce_command(Path("a.py"), RunSettings(seed=0)) == "gradharness check a.py --seed 0"
    run = RunSettings(
        seed=7, max_examples=20, check=CheckOptions(epsilon=1e-6, threshold=1e-5),
        strategy=StrategyOptions(n3=2, max_batch=3, adversarial=True),
    )  # fmt: skip
    names = FunctionNames(backward_n="my_backward")
    words = shlex.split(reproduce_command(Path("a.py"), run, ["--quiet"], names))
    assert words == [
        "gradharness", "check", "a.py", "--seed", "7", "--max-examples", "20", "--epsilon", "1e-06",
        "--threshold", "1e-05", "--layer-sizes", "*,*,*,2", "--max-batch", "3", "--adversarial",
        "--backward", "my_backward", "--quiet",
    ]  # fmt: skip


def test_the_demo_line_leaves_out_the_demos_defaults() -> None:
    assert demo_command(RunSettings(seed=0)) == "gradharness demo"
    assert demo_command(RunSettings(seed=4, max_examples=10)) == "gradharness demo --seed 4 --max-examples 10"


def test_a_time_limit_that_is_not_the_default_is_repeated() -> None:
    assert (
        reproduce_command(Path("a.py"), RunSettings(seed=0), timeout=4.0)
        == "gradharness check a.py --seed 0 --timeout 4"
    )
    assert "--timeout" not in reproduce_command(Path("a.py"), RunSettings(seed=0), timeout=120.0)
