"""A module planted where the grader runs gradharness: a classmate's ``numpy.py`` must never run in a judge.

Python puts the current folder first on ``sys.path`` for ``python -m`` and ``python -c``, so a teacher
who runs gradharness from inside a folder of submissions would import a submission named after a
module the judge needs. The planted module below loads the real numpy, makes every case pass, and
leaves a flag naming the process it ran in (it does neither inside an evaluator, where it is only
a submission with nothing to check).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.hostile.support import BUGGY, HONEST, PLANTED_BLOCKS, cli, write

CONSOLE_SCRIPT = Path(sys.executable).with_name("gradharness")
OPTIONS = ("--seed", "0", "--max-examples", "10", "--max-units", "3", "--max-batch", "3", "--timeout", "60")

PLANTED_NUMPY = """
import os
import sys

if "gradharness.isolation.evaluator" not in sys.modules:
    with open(FLAG + "-" + str(os.getpid()), "w") as flag:
        flag.write(" ".join(sys.argv))
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
del sys.modules["numpy"]
import numpy as _real

sys.modules["numpy"] = _real
if "gradharness.isolation.evaluator" not in sys.modules:
    import gradharness.properties.properties as _properties
    from gradharness.check.verdict import Verdict as _Verdict

    def _always_passes(functions, case, options, *, checker=None):
        return _properties.CaseOutcome((), _Verdict.PASS)

    _properties.check_network_case = _always_passes
"""


def _planted(tmp_path: Path) -> tuple[Path, Path]:
    """A submissions folder holding the planted numpy.py, and the flag's prefix."""
    flag = tmp_path / "judge-hijacked"
    submissions = tmp_path / "submissions"
    write(submissions, "numpy.py", PLANTED_NUMPY.replace("FLAG", repr(str(flag))))
    return submissions, flag


def _hijacked(flag: Path) -> list[str]:
    return [path.read_text()[:200] for path in flag.parent.glob(flag.name + "-*")]


@pytest.mark.slow
def test_a_module_planted_where_a_batch_runs_never_runs_in_its_judges(tmp_path: Path, level: str) -> None:
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT} is missing: pip install -e ."
    submissions, flag = _planted(tmp_path)
    write(submissions, "buggy.py", BUGGY)
    write(submissions, "honest.py", HONEST)
    out = tmp_path / "out"
    # The console script, not `python -m`: its own folder is first on its sys.path, not the current one.
    done = cli("check", ".", "--out", str(out), "--isolation", level, *OPTIONS, cwd=submissions, script=CONSOLE_SCRIPT)
    assert not _hijacked(flag), f"the planted numpy.py ran in: {_hijacked(flag)}"
    rows = {Path(r["file"]).name: r for r in json.loads((out / "summary.json").read_text())["rows"]}
    assert rows["buggy.py"]["verdict"] == "fail" and set(rows["buggy.py"]["wrong_blocks"]) <= PLANTED_BLOCKS
    assert rows["honest.py"]["verdict"] == "pass"
    assert done.returncode == 1


def test_a_module_planted_where_python_m_gradharness_runs_never_runs_in_the_judge(tmp_path: Path, level: str) -> None:
    submissions, flag = _planted(tmp_path)
    write(submissions, "buggy.py", BUGGY)
    done = cli("check", "buggy.py", "--isolation", level, *OPTIONS, cwd=submissions)
    assert not _hijacked(flag), f"the planted numpy.py ran in: {_hijacked(flag)}"
    assert done.returncode == 1, done.stdout.decode(errors="replace")[-2000:]
