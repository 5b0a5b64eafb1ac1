"""The warm start's server: one process, numpy and the evaluator imported, that forks a jailed evaluator per file.

It runs in a bubblewrap sandbox of its own (see :func:`~gradharness.isolation.jail.warm_sandbox_argv`:
the namespace level's options, with no submission bound and ``/`` and ``/dev`` read-only), and never
runs a user's code itself. For each file the judge sends, over the control socket, the evaluator's
limits and its three pipes; the server forks, and the fork jails itself before it reads the file:

- new user, mount, PID, network, IPC, UTS and cgroup namespaces (uid 65534, as under bubblewrap);
- a fresh size-limited ``/tmp`` and ``/dev/shm``, an empty read-only ``/proc`` (the sandbox's own
  would show the server), and ``/submission`` a tmpfs holding the file and its helpers, read-only
  once written;
- then, in the new PID namespace, an init that reaps, and below it the evaluator, which drops every
  capability and runs :func:`~gradharness.isolation.evaluator.serve` (resource limits, no new
  privileges) exactly as a freshly started evaluator does.

Nothing of one evaluator reaches the next: each has namespaces and writable folders of its own, and
the judge kills everything below the server (the PID namespace's init first: all it holds dies with
it) before it asks for the next. The files' contents never pass through the server: the fork reads
them from its own request pipe. Usage: ``python -I -B -u -m gradharness.isolation.evaluator --warm FD``.
"""

from __future__ import annotations

import array
import ctypes
import functools
import gc
import json
import os
import random
import resource
import signal
import socket
import struct
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from gradharness.isolation.evaluator import preload, serve
from gradharness.isolation.jail import JAIL_TMP_BYTES, SUBMISSION, jail_environment
from gradharness.isolation.protocol import ProtocolError, read_frame, write_frame

CONTROL_BYTES = 64 * 1024
"""The largest control message (limits and pipes, never a file)."""

SUBMISSION_BYTES = 96 * 1024 * 1024
"""Size of the tmpfs holding the file and its helpers (the file, plus at most 16 MB of helpers)."""

_NAMESPACES = 0x10000000 | 0x00020000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000 | 0x02000000
# CLONE_NEWUSER | NEWNS | NEWPID | NEWNET | NEWIPC | NEWUTS | NEWCGROUP
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_REC, _MS_PRIVATE = 32, 16384, 1 << 18
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


class JailError(OSError):
    """A step of the fork's jail failed (the fork then ends before any user code runs)."""


def _checked(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise JailError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    encoded = [None if v is None else v.encode() for v in (source, target, kind, data)]
    _checked(_libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as stream:
        stream.write(text)


def enter_jail() -> None:
    """New namespaces for this process (its children: a new PID namespace) and its own writable folders."""
    uid, gid = os.getuid(), os.getgid()
    _checked(_libc.unshare(_NAMESPACES), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    private = _MS_NOSUID | _MS_NODEV
    _mount("tmpfs", "/tmp", "tmpfs", private, f"size={JAIL_TMP_BYTES},mode=0755")
    _mount("tmpfs", "/dev/shm", "tmpfs", private, f"size={JAIL_TMP_BYTES},mode=1777")
    _mount("tmpfs", SUBMISSION, "tmpfs", private, f"size={SUBMISSION_BYTES},mode=0755")
    _mount("tmpfs", "/proc", "tmpfs", private | _MS_NOEXEC | _MS_RDONLY, "size=4k,mode=0555")


def _plain_name(name: object) -> str:
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ProtocolError(f"a submission file named {str(name)[:60]!r}")
    return name


def write_submission(request_fd: int) -> str:
    """The file and its helpers, read from the request pipe (nothing past them), written to the read-only folder.

    Returns the checked file's path. Its name comes this way, not through the server, which never holds it.
    """
    with os.fdopen(request_fd, "rb", buffering=0, closefd=False) as stream:
        message = read_frame(stream, budget=SUBMISSION_BYTES)
    files = message.get("files") if isinstance(message, dict) and message.get("call") == "submission" else None
    if not isinstance(files, list) or not files:
        raise ProtocolError("the first request is not the submission")
    for item in files:
        name = _plain_name(item.get("name") if isinstance(item, dict) else None)
        data = item.get("data")
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
            raise ProtocolError(f"the submission file {name} without its bytes")
        with open(os.path.join(SUBMISSION, name), "xb") as stream:
            stream.write(data.tobytes())
    _mount("tmpfs", SUBMISSION, "tmpfs", _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    return os.path.join(SUBMISSION, _plain_name(files[0].get("name")))


def _drop_capabilities() -> None:
    """No capability left (those of the new user namespace): nothing below may mount, unshare as root, ..."""
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _checked(_libc.capset(header, data), "capset")


def _dumpable(dumpable: bool) -> None:
    _checked(_libc.prctl(_PR_SET_DUMPABLE, int(dumpable), 0, 0, 0), "prctl")


def _die_with(parent_signal: int = signal.SIGKILL) -> None:
    _checked(_libc.prctl(_PR_SET_PDEATHSIG, parent_signal, 0, 0, 0), "prctl")


def _keep_only(*fds: int) -> None:
    """Close every file descriptor above 2 but ``fds``."""
    top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    top = top if top != resource.RLIM_INFINITY else 1 << 16
    start = 3
    for fd in sorted(set(fds)):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1
    os.closerange(start, top)


def _become_evaluator(request_fd: int, reply_fd: int, output_fd: int, setup: dict[str, Any]) -> int:
    """The evaluator proper: pid 2 of the new PID namespace, its streams on the output pipe."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(devnull)
    os.close(output_fd)
    _keep_only(request_fd, reply_fd)
    _drop_capabilities()
    os.chdir(SUBMISSION)
    os.environ.clear()
    os.environ.update({**jail_environment(), "PWD": SUBMISSION})  # bubblewrap's --chdir sets PWD too
    # A fork shares its parent's random states: each evaluator draws its own, as a fresh one does.
    random.seed()
    np.random.seed()
    sys.modules["__main__"] = sys.modules[serve.__module__]  # the module serving, as in a fresh evaluator
    return serve(request_fd, reply_fd, setup)


def _reap(evaluator: int, status_fd: int) -> None:
    """Init of the new PID namespace: reap whatever ends; when the evaluator ends, report how, and end."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if pid == evaluator:
            os.write(status_fd, struct.pack("=i", status))
            os._exit(0)  # the namespace's init ends: whatever the evaluator left dies with it


def _run_namespace_init(fds: tuple[int, int, int], setup: dict[str, Any], status_fd: int) -> None:
    _die_with()
    os.setsid()  # a session of its own, the evaluator in it, as bubblewrap's --new-session gives
    _dumpable(False)  # from before the evaluator exists: it cannot ptrace its init
    evaluator = os.fork()
    if evaluator == 0:
        os.close(status_fd)
        _dumpable(True)  # as a freshly started evaluator is
        try:
            code = _become_evaluator(*fds, setup)
        except BaseException:
            code = 70
        os._exit(code)
    for fd in fds:
        os.close(fd)
    _keep_only(status_fd)
    _reap(evaluator, status_fd)


def _end_as(status: int) -> None:
    """End this process as the evaluator ended: the same exit code, or killed by the same signal."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if number not in (signal.SIGKILL, signal.SIGSTOP):  # the only two whose action cannot be set
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        os._exit(128 + number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


def _refuse(reply_fd: int, message: str) -> None:
    """Tell the judge, as the answer to its first request, why there is no evaluator."""
    try:
        with os.fdopen(reply_fd, "wb", closefd=False) as stream:
            write_frame(stream, {"error": f"the evaluator could not be started ({message[:300]})"})
    except OSError:
        pass


def _run_fork(fds: tuple[int, int, int], setup: dict[str, Any]) -> None:
    """The fork for one file: jail, submission, then the PID namespace's init; ends as its evaluator ends."""
    request_fd, reply_fd, _ = fds
    _die_with()
    _keep_only(*fds)
    try:
        enter_jail()
        setup = {**setup, "file": write_submission(request_fd)}
    except (OSError, ProtocolError, ValueError) as exc:
        _refuse(reply_fd, str(exc))
        os._exit(70)
    status_read, status_write = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(status_read)
        _run_namespace_init(fds, setup, status_write)
    os.close(status_write)
    for fd in fds:
        os.close(fd)
    _, init_status = os.waitpid(init, 0)
    report = os.read(status_read, 4)
    _end_as(struct.unpack("=i", report)[0] if len(report) == 4 else init_status)


def _forked(run: Callable[[], None]) -> int:
    """Fork; the child runs ``run`` and never returns (whatever it raises ends it with code 70)."""
    pid = os.fork()
    if pid == 0:
        try:
            run()
        finally:
            os._exit(70)
    return pid


def _self_test() -> str | None:
    """Why a fork cannot be jailed here (None: it can), tried once before the server says it is ready."""
    reason_read, reason_write = os.pipe()

    def attempt() -> None:
        try:
            enter_jail()
        except OSError as exc:
            os.write(reason_write, str(exc).encode()[:500])
            os._exit(1)
        os._exit(0)

    pid = _forked(attempt)
    os.close(reason_write)
    _, status = os.waitpid(pid, 0)
    reason = os.read(reason_read, 500).decode(errors="replace")
    os.close(reason_read)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    return reason or f"the test fork ended with status {status}"


def _send(control: socket.socket, message: dict[str, Any]) -> None:
    control.sendmsg([json.dumps(message).encode()])


def _receive(control: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """The next request and the file descriptors that came with it (None: the judge is gone)."""
    fds = array.array("i")
    data, ancillary, _flags, _address = control.recvmsg(CONTROL_BYTES, socket.CMSG_LEN(3 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if not data:
        return None, list(fds)
    message = json.loads(data)
    return (message if isinstance(message, dict) else None), list(fds)


def serve_forks(control_fd: int) -> int:
    """Answer the judge's fork requests on ``control_fd`` one at a time, until it closes the socket."""
    control = socket.socket(fileno=control_fd)
    preload(notebooks=False)  # once here, instead of in every evaluator whose file imports them
    gc.freeze()  # what the forks share is never scanned by their collector, so their pages stay shared
    notebooks = False
    reason = _self_test()
    _send(control, {"ready": reason is None, "reason": reason, "pid": os.getpid()})
    if reason is not None:
        return 1
    while True:
        message, fds = _receive(control)
        if message is None or len(fds) != 3 or not isinstance(message.get("setup"), dict):
            for fd in fds:
                os.close(fd)
            return 0
        request_fd, reply_fd, output_fd = fds
        setup = message["setup"]
        if setup.get("notebook") is True and not notebooks:  # the first notebook: what reading one imports
            notebooks = True
            preload(notebooks=True)
            gc.freeze()
        pid = _forked(functools.partial(_run_fork, (request_fd, reply_fd, output_fd), setup))
        for fd in fds:
            os.close(fd)
        _send(control, {"started": pid})
        _, status = os.waitpid(pid, 0)
        _send(control, {"ended": status})


if __name__ == "__main__":
    sys.exit(serve_forks(int(sys.argv[1])))
