"""Faults around a check: signals, output folders that cannot be written, concurrent reports, a batch's helpers.

Ctrl-C, SIGTERM and SIGHUP end a run with one line and exit 130 (143 for SIGTERM), leaving no
process and no temporary folder behind; a batch still writes the summary of what finished. An
output that cannot be written is one line and exit 2, after the verdict. Two runs writing reports
into one folder keep every entry of its index.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import replace
from pathlib import Path

import pytest
from cli_support import gradharness
from user_files import FIXTURES

from gradharness.batch import run_batch
from gradharness.batch.runner import BatchInterrupted, error_record
from gradharness.batch.summary import load_summary
from gradharness.judge.reproduce import reproduce_command
from gradharness.records.check import CheckRecord
from gradharness.render.batch import write_batch
from gradharness.render.html.index import LOCK_NAME
from gradharness.settings import CheckOptions, FunctionNames, IsolationSettings, RunSettings

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="the process checks read /proc")

CORRECT = FIXTURES / "correct_seed_style.py"
SLOW = '''"""A network whose forward pass takes a minute: a check of it is still running when the signal comes."""
import time

import numpy as np


def forward_propagation_n(X, Y, parameters):
    time.sleep(60)
    return 0.0, ()


def backward_propagation_n(X, Y, cache):
    return {}
'''
STOPPED = {
    signal.SIGINT: (130, "interrupted"),
    signal.SIGTERM: (143, "terminated"),
    signal.SIGHUP: (130, "interrupted"),
}
_LOCK_FOLDER = "gradharness-uids"  # the process level's uid locks: kept between runs on purpose


# --- processes, read from /proc ---------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()
    except OSError:
        return None
    return int(fields[1]), fields[0].decode(), int(fields[19])


def _descendants(root: int) -> dict[int, int]:
    """pid -> start time of every live process below ``root``."""
    table = {int(p): _stat(int(p)) for p in os.listdir("/proc") if p.isdigit()}
    below: dict[int, int] = {}
    queue = [root]
    while queue:
        parent = queue.pop()
        for pid, info in table.items():
            if info is not None and info[0] == parent and info[1] not in "ZX" and pid not in below:
                below[pid] = info[2]
                queue.append(pid)
    return below


def _still_running(processes: dict[int, int], wait: float = 5.0) -> list[int]:
    """Those of ``processes`` (pid -> start time) still running after up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        running = [
            pid for pid, start in processes.items() if (info := _stat(pid)) and info[1] not in "ZX" and info[2] == start
        ]
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.05)


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _asleep(pid: int) -> bool:
    """Whether a thread of ``pid`` waits in the kernel's nanosleep (where the file's ``time.sleep(60)`` waits)."""
    try:
        return any("nanosleep" in task.joinpath("wchan").read_text() for task in Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False  # it ended while it was read


def _wait_for_evaluator(root: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until an evaluator below ``root`` is in the file's forward pass, asleep: the check is under way."""
    deadline = time.monotonic() + timeout
    while not any(
        "gradharness.isolation.evaluator" in _command_line(pid) and _asleep(pid) for pid in _descendants(root)
    ):
        assert process.poll() is None, f"the check ended early: {process.communicate()}"
        assert time.monotonic() < deadline, "no evaluator was seen asleep in the forward pass"
        time.sleep(0.05)


@pytest.fixture()
def scratch() -> Iterator[Path]:
    """The runs' temporary folder (TMPDIR): reachable by an evaluator's own uid, as /tmp is; empty afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="gradharness-faults-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _at_default() -> None:
    # A background job ignores Ctrl-C and a suite run under nohup ignores SIGHUP; an ignored signal stays ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _start(args: list[str], cwd: Path, scratch: Path) -> subprocess.Popen:
    """``python -m gradharness ARGS`` in a session of its own, with Ctrl-C and SIGHUP at their defaults."""
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "gradharness", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env,
        start_new_session=True, preexec_fn=_at_default,
    )  # fmt: skip


def _leftovers(scratch: Path) -> list[str]:
    return sorted(p.name for p in scratch.iterdir() if p.name != _LOCK_FOLDER)


def _slow_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "slow.py"
    path.write_text(SLOW, encoding="utf-8")
    return path


# --- signals ------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "level"),
    [*((signum, None) for signum in STOPPED), (signal.SIGTERM, "process")],
    ids=lambda v: signal.Signals(v).name if isinstance(v, int) else (v or "default"),
)
def test_a_signal_ends_a_check_with_one_line_and_leaves_nothing_running(
    signum: int, level: str | None, tmp_path: Path, scratch: Path
) -> None:
    slow = _slow_file(tmp_path / "submission")
    isolation = ["--isolation", level] if level else []
    process = _start(["check", str(slow), "--seed", "1", "--timeout", "120", *isolation], tmp_path, scratch)
    try:
        _wait_for_evaluator(process.pid, process)
        started = _descendants(process.pid)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    code, word = STOPPED[signum]
    assert process.returncode == code, stderr
    assert stderr.splitlines() == [f"gradharness: {word}"]
    assert stdout == ""
    assert started and not _still_running(started)
    assert not _leftovers(scratch)


@pytest.mark.slow
def test_a_second_ctrl_c_still_leaves_nothing_running(tmp_path: Path, scratch: Path) -> None:
    slow = _slow_file(tmp_path / "submission")
    process = _start(["check", str(slow), "--seed", "1", "--timeout", "120"], tmp_path, scratch)
    try:
        _wait_for_evaluator(process.pid, process)
        started = _descendants(process.pid)
        process.send_signal(signal.SIGINT)
        time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert stderr.splitlines() == ["gradharness: interrupted"]
    assert not _still_running(started)
    assert not _leftovers(scratch)


def _read_lines(stream, lines: list[str]) -> threading.Thread:
    def read() -> None:
        for line in stream:
            lines.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: signal.Signals(s).name)
def test_an_interrupted_batch_writes_the_summary_of_what_finished(signum: int, tmp_path: Path, scratch: Path) -> None:
    submissions = tmp_path / "submissions"
    (submissions / "a").mkdir(parents=True)
    shutil.copy(CORRECT, submissions / "a" / CORRECT.name)
    _slow_file(submissions / "b")
    out = tmp_path / "graded"
    args = ["check", str(submissions), "--seed", "1", "--max-examples", "5", "--jobs", "2", "--out", str(out)]
    process = _start(args, tmp_path, scratch)
    lines: list[str] = []
    try:
        reader = _read_lines(process.stdout, lines)
        deadline = time.monotonic() + 120
        while not any(line.startswith("[1/2]") for line in lines):
            assert process.poll() is None, f"the batch ended early: {''.join(lines)}"
            assert time.monotonic() < deadline, "the quick file did not finish"
            time.sleep(0.05)
        started = _descendants(process.pid)
        process.send_signal(signum)
        process.wait(timeout=60)
        reader.join(10)
        stderr = process.stderr.read() if process.stderr else ""
    finally:
        process.kill()
    code, word = STOPPED[signum]
    assert process.returncode == code, stderr
    assert stderr.splitlines() == [f"gradharness: {word}"]
    assert "PASS" in lines[0] and CORRECT.name in lines[0]
    assert any(line.startswith("interrupted after 1 of 2 files: 1 pass") for line in lines), "".join(lines)
    summary = load_summary(out / "summary.json")
    assert summary.interrupted
    assert [(Path(row.file).name, row.verdict.value) for row in summary.rows] == [(CORRECT.name, "pass")]
    assert (out / summary.rows[0].report_json).is_file()
    assert "Interrupted" in (out / "summary.html").read_text(encoding="utf-8")
    assert started and not _still_running(started)
    assert not _leftovers(scratch)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["mutate", "sensitivity"])
def test_mutate_and_sensitivity_stop_on_ctrl_c_with_one_line(command: str, tmp_path: Path, scratch: Path) -> None:
    process = _start([command, "--max-examples", "300"], tmp_path, scratch)
    try:
        deadline = time.monotonic() + 60
        while not _descendants(process.pid):  # the campaign's pool has started
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)
        started = _descendants(process.pid)
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to every process of the group
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert stderr.splitlines() == ["gradharness: interrupted"]
    assert not _still_running(started)


# --- run_batch stopped, in the library ----------------------------------------------------------------------------


class _Finished(Executor):
    """An executor that answers every submission at once with a record (and notes what it was asked)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.calls.append(args)
        path, run = args[0], args[1]
        future: Future = Future()
        future.set_result(error_record(path, run, f"{Path(path).name}: stand-in"))
        return future


def test_run_batch_gives_siblings_only_to_a_submission_alone_in_its_folder(tmp_path: Path) -> None:
    alone = tmp_path / "alice" / "main.py"
    flat = [tmp_path / "flat" / "bob.py", tmp_path / "flat" / "carol.py"]
    for path in (alone, *flat):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    isolation = IsolationSettings(level="process", memory_mb=512, helpers=str(tmp_path))
    executor = _Finished()
    run_batch([alone, *flat], RunSettings(seed=0), executor=executor, isolation=isolation)
    siblings = {Path(call[0]).name: call[5] for call in executor.calls}
    assert siblings == {"main.py": True, "bob.py": False, "carol.py": False}
    assert all(call[4] == isolation for call in executor.calls)


def test_a_stopped_run_batch_hands_over_the_records_that_finished(tmp_path: Path) -> None:
    files = [tmp_path / f"{name}.py" for name in ("a", "b", "c")]
    seen: list[CheckRecord] = []

    def done(count: int, _total: int, record: CheckRecord) -> None:
        seen.append(record)
        if count == 2:
            raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted) as stopped:
        run_batch(files, RunSettings(seed=0), executor=_Finished(), on_done=done)
    order = [str(f.resolve()) for f in files]
    assert len(seen) == 2
    assert stopped.value.records == sorted(seen, key=lambda r: order.index(r.target["path"]))  # in the files' order
    assert type(stopped.value.interrupt) is KeyboardInterrupt
    assert isinstance(stopped.value, KeyboardInterrupt)  # whoever stops on Ctrl-C stops on this too


def test_an_interrupted_summary_says_so_and_an_older_one_reads_as_complete(tmp_path: Path) -> None:
    record = error_record(tmp_path / "a.py", RunSettings(seed=0), "a.py: stand-in")
    summary, paths = write_batch([record], tmp_path / "out", interrupted=True)
    assert summary.interrupted and load_summary(paths["json"]).interrupted
    assert "Interrupted" in paths["html"].read_text(encoding="utf-8")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    del data["interrupted"]
    paths["json"].write_text(json.dumps(data), encoding="utf-8")
    assert load_summary(paths["json"]).interrupted is False


# --- output that cannot be written --------------------------------------------------------------------------------


def _one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("gradharness: error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


@pytest.fixture()
def regular_file(tmp_path: Path) -> Path:
    """A regular file: no folder can be made under it, even by root (for whom permissions are no obstacle)."""
    path = tmp_path / "afile"
    path.write_text("not a folder\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("option", ["--json", "--html"])
def test_an_output_under_a_file_is_one_line_and_exit_2_after_the_verdict(option: str, regular_file: Path) -> None:
    target = regular_file / ("x.json" if option == "--json" else "x.html")
    run = gradharness("check", str(CORRECT), "--seed", "1", "--max-examples", "5", "-q", option, str(target))
    assert run.returncode == 2
    assert run.stdout.startswith("PASS ")
    assert _one_error_line(run.stderr) == f"gradharness: error: cannot write {target}: {regular_file} is not a folder"


def test_the_default_reports_folder_that_is_a_file_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("reports").write_text("not a folder\n", encoding="utf-8")
    run = gradharness("check", str(CORRECT), "--seed", "1", "--max-examples", "5", "-q", "--html")
    assert run.returncode == 2 and run.stdout.startswith("PASS ")
    assert _one_error_line(run.stderr) == "gradharness: error: cannot write reports: reports is not a folder"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_device_is_one_line_and_stays_a_device() -> None:
    run = gradharness("check", str(CORRECT), "--seed", "1", "--max-examples", "5", "-q", "--json", "/dev/full")
    assert run.returncode == 2 and run.stdout.startswith("PASS ")
    assert _one_error_line(run.stderr) == "gradharness: error: cannot write /dev/full: No space left on device"
    assert Path("/dev/full").is_char_device()  # written in place: never renamed over, even as root


def test_a_batch_out_folder_that_cannot_be_made_fails_before_checking(regular_file: Path) -> None:
    out = regular_file / "graded"
    run = gradharness("check", str(CORRECT.parent), "--out", str(out))
    assert run.returncode == 2
    assert run.stdout == ""  # nothing was checked, so nothing is lost
    assert _one_error_line(run.stderr) == f"gradharness: error: cannot write {out}: {regular_file} is not a folder"


def test_mutate_with_an_unwritable_json_prints_its_verdict_then_one_line(regular_file: Path) -> None:
    target = regular_file / "m.json"
    run = gradharness("mutate", "--max-examples", "5", "--operators", "scale_gradient", "-q", "--json", str(target))
    assert run.returncode == 2
    assert "mutation score" in run.stdout
    assert _one_error_line(run.stderr) == f"gradharness: error: cannot write {target}: {regular_file} is not a folder"


# --- concurrent reports into one folder ---------------------------------------------------------------------------


def _write_rounds(folder: str, label: str, rounds: int, barrier, missing) -> None:
    """Write one report per round into ``folder``, in step with the other writer; note what the index lost."""
    from gradharness.judge.checks import check_builtin
    from gradharness.model import network
    from gradharness.render.html import write_report
    from gradharness.render.html.index import build_index_view

    record = check_builtin(network.backward_propagation_n, "reference", RunSettings(seed=0, max_examples=2))
    for round_ in range(rounds):
        barrier.wait()
        write_report(replace(record, target={**record.target, "path": f"builtin:{label}{round_}"}), folder=Path(folder))
        barrier.wait()
        if label == "a":  # both reports of the round are in: the index must list both
            listed = {entry.file for entry in build_index_view(Path(folder), created=_now()).entries}
            index = (Path(folder) / "index.html").read_text(encoding="utf-8")
            missing.extend([name for name in listed if name not in index])


def _now():
    from datetime import datetime

    return datetime.now().astimezone()


@pytest.mark.slow
def test_two_runs_writing_reports_into_one_folder_keep_every_index_entry(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    folder = tmp_path / "reports"
    folder.mkdir()
    with context.Manager() as manager:
        barrier, missing = manager.Barrier(2, timeout=60), manager.list()
        writers = [
            context.Process(target=_write_rounds, args=(str(folder), label, 16, barrier, missing)) for label in "ab"
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(120)
            writer.kill()
        assert [writer.exitcode for writer in writers] == [0, 0]
        assert list(missing) == []
    assert len([p for p in folder.glob("*.html") if p.name != "index.html"]) == 32
    assert (folder / LOCK_NAME).exists()


# --- the options that say how code is jailed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--helpers", "no/such/folder"], "does not exist"),
        (["--helpers", str(CORRECT)], "is a file"),
        (["--isolation", "docker"], "'docker' is not one of"),
        (["--memory", "0"], "--memory"),
    ],
)
def test_bad_isolation_options_are_usage_errors(args: list[str], words: str) -> None:
    run = gradharness("check", str(CORRECT), *args)
    assert run.returncode == 2
    assert words in run.stderr and "Traceback" not in run.stderr


def test_the_reproduce_line_repeats_the_reference_and_isolation_options() -> None:
    run = RunSettings(seed=0, check=CheckOptions(reference=False))
    isolation = IsolationSettings(level="process", memory_mb=512, helpers="/srv/helpers")
    assert reproduce_command(Path("a.py"), run, names=FunctionNames(), isolation=isolation) == (
        "gradharness check a.py --seed 0 --no-reference --isolation process --memory 512 --helpers /srv/helpers"
    )
    assert reproduce_command(Path("a.py"), RunSettings(seed=0), isolation=IsolationSettings()) == (
        "gradharness check a.py --seed 0"
    )


def test_a_checks_record_repeats_its_isolation_options(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["--no-reference", "--isolation", "process", "--memory", "1024", "--json", str(out), "-q"]
    run = gradharness("check", str(CORRECT), "--seed", "1", "--max-examples", "3", *args)
    assert run.returncode == 0, run.stderr
    reproduce = json.loads(out.read_text(encoding="utf-8"))["reproduce"]
    assert "--no-reference --isolation process --memory 1024" in reproduce
