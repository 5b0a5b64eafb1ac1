"""A submission that forges its verdict: fake result files and a fake reply, or a patched checker."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from gradharness.records.verdict import RunVerdict
from tests.hostile.support import (
    BUGGY,
    PLANTED_BLOCKS,
    assert_nothing_left,
    attack,
    check,
    failed_properties,
    write,
)

FORGED_RESULT = '''
import glob as _glob
import json as _json
import os as _os
import sys as _sys

from gradharness.isolation.protocol import encode as _encode

_FORGED = {"verdict": "pass", "exit_code": 0, "failures": [], "error": None, "properties": []}


def _guessed_folders():
    """Every folder the evaluator's command line, working folder and /tmp hint at."""
    folders = {_os.getcwd(), _os.path.expanduser("~"), "/tmp"}
    for argument in _sys.argv[1:]:
        try:
            setup = _json.loads(argument)
        except ValueError:
            continue
        if isinstance(setup, dict):
            folders.update(_os.path.dirname(str(v)) for v in setup.values() if "/" in str(v))
    for pattern in ("/tmp/gradharness-*", "/tmp/gradharness-*/*"):
        folders.update(_glob.glob(pattern))
    return folders


def backward_propagation_n(X, Y, cache):
    _spawn_marker()
    for folder in _guessed_folders():
        for name in ("result-MARKER.json", "record-MARKER.json", "verdict-MARKER.json", "summary-MARKER.json"):
            try:
                with open(_os.path.join(folder, name), "w") as stream:
                    _json.dump(_FORGED, stream)
            except OSError:
                pass
    # A reply of its own on every pipe the evaluator holds: the judge must not take it for a verdict.
    frame = _encode({"verdict": "pass", "result": _FORGED, "passed": True})
    for fd in range(3, 256):
        try:
            _os.write(fd, frame)
        except OSError:
            pass
    print("gradharness: PASS (all properties hold on 10 examples)", flush=True)
    _os._exit(0)
'''

PATCHED_CHECKER = """
import importlib as _importlib
import sys as _sys

import numpy as _np


def _nothing_wrong(*args, **kwargs):
    return None


_patched = []
for _name in ("gradharness.properties.properties", "gradharness.check.checker", "gradharness.properties.runner"):
    try:
        _importlib.import_module(_name)
    except Exception:  # not importable here: the modules already loaded are patched all the same
        pass
for _module in list(_sys.modules.values()):
    if getattr(_module, "__name__", "").startswith("gradharness"):
        for _name in ("check_network_case", "gradient_check_n", "run_properties", "gradient_check"):
            if hasattr(_module, _name):
                setattr(_module, _name, _nothing_wrong)
                _patched.append(f"{_module.__name__}.{_name}")
_np.linalg.norm = lambda *args, **kwargs: 0.0
_np.abs = lambda x, *args, **kwargs: _np.zeros_like(x)
_np.absolute = _np.abs
_patched += ["numpy.linalg.norm", "numpy.abs"]
print("PATCHED " + " ".join(_patched), flush=True)
_spawn_marker()
"""


def test_a_forged_result_file_reply_and_pass_line_never_make_a_pass(tmp_path: Path, level: str, marker: str) -> None:
    path = write(tmp_path / "submission", "forged.py", attack(BUGGY, FORGED_RESULT, marker))
    try:
        record = check(path, level)
        assert record.verdict in (RunVerdict.FAIL, RunVerdict.ERROR), record.verdict
        assert "PASS" not in (record.error or "").split(";")[0]  # the forged line is at most the output quoted
        assert not list((tmp_path / "submission").glob("*.json"))  # the checked file's own folder is never its jail
        assert_nothing_left(marker)
    finally:
        # The process level shares /tmp with the grader: what the file wrote there stays (nobody reads it).
        for forged in Path(tempfile.gettempdir()).glob(f"*-{marker}.json"):
            forged.unlink(missing_ok=True)


@pytest.mark.slow
def test_patching_gradharness_and_numpy_in_the_users_process_changes_nothing(
    tmp_path: Path, level: str, marker: str
) -> None:
    path = write(tmp_path / "submission", "patcher.py", attack(BUGGY, PATCHED_CHECKER, marker))
    record = check(path, level)
    assert record.verdict is RunVerdict.FAIL, record.error
    assert "GRADIENT_AGREES" in failed_properties(record)
    assert set(record.wrong_blocks) <= PLANTED_BLOCKS and set(record.wrong_blocks)
    assert "PATCHED" in record.target.get("output", "") and "numpy.abs" in record.target["output"]  # it did patch
    assert_nothing_left(marker)
