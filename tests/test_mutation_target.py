"""Targets and checker specs: read, never executed, in the parent."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradharness.errors import UserCodeError
from gradharness.mutation.target import checker_spec, file_target, reference_target

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_reference_target() -> None:
    target = reference_target()
    assert target.builtin and "def backward_propagation_n(" in target.source
    assert target.describe() == {
        "path": "builtin:gradharness/model/network.py",
        "sha256": None,
        "function": "backward_propagation_n",
    }


def test_a_file_target_is_read_not_run(tmp_path) -> None:
    path = tmp_path / "side_effect.py"
    path.write_text("open('ran', 'w')\ndef backward_propagation_n(X, Y, cache):\n    return {}\n")
    target = file_target(path)
    assert not target.builtin and not (tmp_path / "ran").exists()
    assert len(target.describe()["sha256"]) == 64


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: file_target(tmp / "missing.py"), "no such file"),
        (lambda tmp: checker_spec(tmp / "missing.py"), "no such file"),
        (lambda tmp: checker_spec(FIXTURES / "user_code" / "correct_z_mask.py"), "defines no gradient_check_n"),
    ],
)
def test_bad_paths_are_one_line_errors(tmp_path, make, message: str) -> None:
    with pytest.raises(UserCodeError, match=message):
        make(tmp_path)


def test_builtin_checker_by_default() -> None:
    assert checker_spec(None).builtin
    assert checker_spec(FIXTURES / "mutation" / "checker_exercise.py").describe()["kind"] == "file"
