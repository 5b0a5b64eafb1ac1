"""The warm start: evaluators forked by a sandboxed server, jailed as a fresh one is, nothing passed between them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from user_files import FIXTURES

from gradharness.errors import EvaluatorLost
from gradharness.isolation import jail, warm
from gradharness.isolation.client import Evaluator
from gradharness.isolation.values import decode_value
from gradharness.judge.checks import check_file
from gradharness.settings import FunctionNames, IsolationSettings, RunSettings

pytestmark = pytest.mark.skipif(
    jail.namespace_unavailable() is not None and os.environ.get("CI") != "true",
    reason=f"not CI: {jail.namespace_unavailable()}",
)

# What an evaluator sees of its jail, printed when its file is loaded.
PROBE = """
import ctypes, json, os, resource, socket

def _written(folder):
    try:
        with open(os.path.join(folder, "probe-" + str(os.getpid())), "w") as stream:
            stream.write("x")
        return True
    except OSError:
        return False

def _seen():
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
        network = "reached"
    except OSError:
        network = "none"
    return {
        "uid": [os.getuid(), os.geteuid(), os.getgid()], "pid": os.getpid(), "parent": os.getppid(),
        "cwd": os.getcwd(), "submission": sorted(os.listdir("/submission")), "tmp": sorted(os.listdir("/tmp")),
        "shm": sorted(os.listdir("/dev/shm")), "proc": sorted(os.listdir("/proc"))[:3],
        "written": {d: _written(d) for d in ("/tmp", "/dev/shm", "/submission", "/usr", "/")},
        "no_new_privileges": libc.prctl(39, 0, 0, 0, 0), "mounts": libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None),
        "limits": [resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CORE)],
        "environment": dict(os.environ), "network": network,
        "fds": [fd for fd in range(3, 64) if _open(fd)],
    }

def _open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False

print("SEEN " + json.dumps(_seen()), flush=True)

def forward_propagation(x, theta):
    return theta * x

def backward_propagation(x, theta):
    return x
"""

RUN = RunSettings(seed=0, max_examples=2)
NAMESPACE = IsolationSettings(level="namespace")


def _seen(path: Path) -> dict:
    record = check_file(path, RUN, isolation=NAMESPACE)
    lines = [line for line in record.target.get("output", "").splitlines() if line.startswith("SEEN ")]
    assert lines, record.error or record.target
    return json.loads(lines[0][5:])


@pytest.fixture
def fresh_and_warm(monkeypatch: pytest.MonkeyPatch):
    """Run ``_seen`` with the warm start off, then on."""

    def both(path: Path) -> tuple[dict, dict]:
        monkeypatch.setattr(warm, "ENABLED", False)
        fresh = _seen(path)
        monkeypatch.setattr(warm, "ENABLED", True)
        assert warm.server() is not None, warm._refused
        return fresh, _seen(path)

    return both


def test_the_warm_server_runs_here_under_ci() -> None:
    if os.environ.get("CI") != "true" and warm.server() is None:
        pytest.skip(f"not CI: {warm._refused}")
    assert warm.server() is not None, f"CI must fork its evaluators warm: {warm._refused}"


def test_a_forked_evaluator_is_jailed_as_a_fresh_one_is(tmp_path: Path, fresh_and_warm) -> None:
    path = tmp_path / "probe.py"
    path.write_text(PROBE)
    fresh, forked = fresh_and_warm(path)
    for key in ("uid", "pid", "parent", "cwd", "submission", "shm", "no_new_privileges", "mounts", "limits",
                "environment", "network"):  # fmt: skip
        assert forked[key] == fresh[key], key
    # A Python environment under /tmp (a checkout there) is bound read-only into a fresh jail's /tmp;
    # a forked evaluator has it loaded already and mounts an empty /tmp over everything.
    environment = {Path(p).parts[2] for p in jail._python_paths() if Path(p).is_relative_to("/tmp")}
    assert forked["tmp"] == [] and set(fresh["tmp"]) <= environment, fresh["tmp"]
    assert forked["uid"] == [65534, 65534, 65534] and forked["pid"] == 2 and forked["network"] == "none"
    assert forked["no_new_privileges"] == 1 and forked["mounts"] == -1
    assert forked["written"]["/tmp"] and forked["written"]["/dev/shm"]
    assert not any(forked["written"][folder] for folder in ("/submission", "/usr", "/"))
    assert forked["proc"] == []  # the sandbox's /proc would show the server: it is hidden
    assert len(forked["fds"]) == len(fresh["fds"]) == 2  # the request and reply pipes: not the server's socket


def test_nothing_of_one_evaluator_reaches_the_next(tmp_path: Path) -> None:
    leaver = tmp_path / "a" / "leaver.py"
    leaver.parent.mkdir()
    leaver.write_text(
        "import os, subprocess\n"
        "for folder in ('/tmp', '/dev/shm'):\n"
        "    open(os.path.join(folder, 'left-behind'), 'w').write('x')\n"
        "subprocess.Popen(['sleep', '987.123456'], start_new_session=True)\n" + PROBE
    )
    prober = tmp_path / "b" / "probe.py"
    prober.parent.mkdir()
    prober.write_text(PROBE)
    assert warm.server() is not None, warm._refused
    first = _seen(leaver)
    assert "left-behind" in first["tmp"] and "left-behind" in first["shm"]
    second = _seen(prober)
    assert second["tmp"] == [] and second["shm"] == [] and second["submission"] == ["probe.py"]
    assert not _sleeping("987.123456")


def _sleeping(marker: str) -> bool:
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


@pytest.mark.parametrize(
    ("ending", "says"),
    [("os._exit(3)", "exited with code 3"), ("os.kill(os.getpid(), 9)", "was killed by signal 9")],
)
def test_how_a_forked_evaluator_ended_is_said_as_for_a_fresh_one(tmp_path: Path, ending: str, says: str) -> None:
    path = tmp_path / "ends.py"
    path.write_text(f"import os\n\ndef forward_propagation(x, theta):\n    {ending}\n\n"
                    "def backward_propagation(x, theta):\n    return x\n")  # fmt: skip
    assert warm.server() is not None, warm._refused
    with Evaluator(path, FunctionNames(), level="namespace", isolation=IsolationSettings(), timeout=60) as evaluator:
        assert isinstance(evaluator._process, warm.WarmChild)
        evaluator.call({"call": "hello"})
        with pytest.raises(EvaluatorLost, match=says):
            evaluator.call({"call": "forward_1d", "x": 1.0, "theta": 2.0})


def test_a_second_evaluator_while_one_runs_starts_afresh_and_both_answer() -> None:
    path = FIXTURES / "correct_1d_only.py"
    assert warm.server() is not None, warm._refused
    names, isolation = FunctionNames(), IsolationSettings()
    with Evaluator(path, names, level="namespace", isolation=isolation, timeout=60) as first:
        with Evaluator(path, names, level="namespace", isolation=isolation, timeout=60) as second:
            assert isinstance(first._process, warm.WarmChild) and not isinstance(second._process, warm.WarmChild)
            for evaluator in (first, second):
                evaluator.call({"call": "hello"})
                assert decode_value(evaluator.call({"call": "forward_1d", "x": 2.0, "theta": 3.0})["returned"]) == 6.0
    with Evaluator(path, names, level="namespace", isolation=isolation, timeout=60) as third:
        assert isinstance(third._process, warm.WarmChild)  # the server is free again


def test_a_forked_process_starts_its_own_server() -> None:
    assert warm.server() is not None, warm._refused
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        os.write(write, b"1" if warm._server is None else b"0")
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"1"
    os.close(read)
    assert warm._server is not None and warm._server.alive


def test_a_server_killed_meanwhile_is_replaced() -> None:
    server = warm.server()
    assert server is not None, warm._refused
    server.close()
    time.sleep(0.05)
    replacement = warm.server()
    assert replacement is not None and replacement is not server and replacement.alive


def test_a_second_close_of_a_finished_evaluator_leaves_the_next_one_alone() -> None:
    path = FIXTURES / "correct_1d_only.py"
    assert warm.server() is not None, warm._refused
    names, isolation = FunctionNames(), IsolationSettings()
    with Evaluator(path, names, level="namespace", isolation=isolation, timeout=60) as first:
        first.call({"call": "hello"})
    with Evaluator(path, names, level="namespace", isolation=isolation, timeout=60) as second:
        assert isinstance(second._process, warm.WarmChild)
        first.close()  # stale: the server now runs the second file's evaluator
        second.call({"call": "hello"})
        assert decode_value(second.call({"call": "forward_1d", "x": 2.0, "theta": 3.0})["returned"]) == 6.0


def test_a_start_cut_short_by_a_files_time_limit_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "_server", None)
    monkeypatch.setattr(warm, "_refused", None)
    assert warm.server(wait=0.0) is None, "no sandbox is ready in no time"
    assert warm._refused is None, "a start cut short by a file's limit does not turn the warm start off"
    started = warm.server()
    try:
        assert started is not None and started.alive, warm._refused
    finally:
        if started is not None:
            started.close()


def test_a_start_that_fails_in_the_full_wait_is_not_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "_server", None)
    monkeypatch.setattr(warm, "_refused", None)
    monkeypatch.setattr(warm, "START_SECONDS", 0.0)  # the full wait, over before the sandbox is ready
    assert warm.server() is None
    assert warm._refused is not None and "not ready after 0 s" in warm._refused
    assert warm.server() is None
