"""The judge's end of the warm start: a sandboxed server that forks each namespace-level evaluator ready to run.

A fresh evaluator spends most of its start importing numpy and the evaluator; the server
(:mod:`~gradharness.isolation.zygote`) has them imported once, and forks a jailed evaluator per file
in a few milliseconds. One server per judge process, started on the first check at the namespace
level from the main thread, ended with the process (bubblewrap's ``--die-with-parent``). Where the
server cannot run or jail its forks (nested namespaces refused), or is busy, an evaluator is started
afresh as before: the warm start changes how fast an evaluator starts, never what it may do.
"""

from __future__ import annotations

import array
import atexit
import json
import os
import select
import socket
import subprocess
import threading
import time
from typing import Any

from gradharness.isolation.jail import warm_sandbox_argv
from gradharness.isolation.processes import kill, kill_tree, nested_pid

ENABLED = True
"""Whether namespace-level evaluators are forked from the warm server (False: each starts afresh)."""

START_SECONDS = 60.0
END_SECONDS = 10.0


class WarmChild:
    """One forked evaluator, as the judge's client sees a process: ``pid``, ``poll``, ``wait``, ``kill``."""

    def __init__(self, server: WarmServer) -> None:
        self._server = server
        self.returncode: int | None = None
        self.pid = server.pid  # what the client kills ends below the server
        self._killed = False

    def poll(self) -> int | None:
        """The exit code (negative: killed by that signal) once the evaluator ended, else None."""
        if self.returncode is None:
            self._read(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end; ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
        if self.returncode is None:
            self._read(END_SECONDS * 6 if timeout is None else timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("evaluator", timeout or 0.0)
        return self.returncode

    def _read(self, timeout: float) -> None:
        status = self._server.ended(timeout)
        if status is not None:
            self.returncode = os.waitstatus_to_exitcode(status) if status >= 0 else -9

    def kill(self) -> None:
        """End the evaluator and everything it started (all below the server), and wait for the server to say so.

        Also when the evaluator has ended already: what it left in its namespace is gone only once its init is.
        Once only: by then the server may be running another file's evaluator, which a second kill would end.
        """
        if self._killed:
            return
        self._killed = True
        if self._server.alive:  # else its sandbox is gone, and all it held with it
            kill_tree(self._server.pid, include_root=False)
        if self.returncode is None:
            self._read(END_SECONDS)
        if self.returncode is None:  # the server does not answer: it goes, and the next check starts another
            self._server.close()
            self.returncode = -9
        self._server.release()


class WarmServer:
    """The sandboxed fork server of this judge process."""

    def __init__(self, wait: float = START_SECONDS) -> None:
        """Start the server, waiting at most ``wait`` seconds for it to say it is ready."""
        self.timed_out = False
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.owner = os.getpid()
        self.busy = False
        self.pid = -1
        self.unavailable: str | None = None
        self._sandbox: subprocess.Popen | None = None
        try:
            self._sandbox = subprocess.Popen(
                [*warm_sandbox_argv(), str(theirs.fileno())], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), start_new_session=True,
            )  # fmt: skip
        except OSError as exc:  # no bubblewrap
            self.unavailable = f"bubblewrap cannot start ({exc.strerror or exc})"
            self._control.close()
            return
        finally:
            theirs.close()
        ready = self._message(wait)
        self.timed_out = not ready and self.alive
        reason = f"it was not ready after {wait:g} s" if self.timed_out else ready.get("reason") or "it did not start"
        self.unavailable = None if ready.get("ready") is True else str(reason)[:300]
        if self.unavailable is None:
            self.pid = nested_pid(self._sandbox.pid, ready.get("pid"))
            if self.pid < 0:
                self.unavailable = "its process could not be found"
        if self.unavailable is not None:
            self.close()

    def _message(self, timeout: float) -> dict[str, Any]:
        """The server's next message ({} when it sent none in time or is gone)."""
        if self._control.fileno() < 0 or not select.select([self._control], [], [], max(0.0, timeout))[0]:
            return {}
        try:
            data = self._control.recv(4096)
            message = json.loads(data) if data else {}
        except (OSError, ValueError):
            return {}
        return message if isinstance(message, dict) else {}

    @property
    def alive(self) -> bool:
        """The server is running and answers."""
        return self._sandbox is not None and self._sandbox.poll() is None and self._control.fileno() >= 0

    def fork(self, setup: dict[str, Any], fds: tuple[int, int, int], wait: float = START_SECONDS) -> WarmChild | None:
        """A jailed evaluator with ``setup``'s limits on the pipes ``fds`` (request, reply, output), forked
        within ``wait`` seconds; None if none (the server is then closed)."""
        if not self.alive or self.busy:
            return None
        fd_bytes = array.array("i", fds).tobytes()
        try:
            self._control.sendmsg(
                [json.dumps({"setup": setup}).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fd_bytes)]
            )
        except OSError:
            self.close()
            return None
        if "started" not in self._message(wait):
            self.close()
            return None
        self.busy = True
        return WarmChild(self)

    def ended(self, timeout: float) -> int | None:
        """The raw wait status of the forked evaluator once the server reports its end (-1: the server is gone)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(max(0.0, deadline - time.monotonic()))
            status = message.get("ended")
            if isinstance(status, int) and not isinstance(status, bool):
                return status
            if not self.alive:
                return -1
            if time.monotonic() >= deadline:
                return None

    def release(self) -> None:
        """The forked evaluator ended: the next may be forked."""
        self.busy = False

    def close(self) -> None:
        """End the server and its sandbox."""
        if self._sandbox is not None:
            kill_tree(self._sandbox.pid, include_root=False)
            kill(self._sandbox)
            self._sandbox = None
        self._control.close()


_lock = threading.Lock()
_server: WarmServer | None = None
_refused: str | None = None


def server(wait: float = START_SECONDS) -> WarmServer | None:
    """This process's warm server, started on first use within ``wait`` seconds; None where there is none to
    use (then start afresh). A server that fails to start is not tried again in this process, unless it was
    only still starting when a ``wait`` shorter than START_SECONDS ran out (a file's own time limit)."""
    global _server, _refused
    if not ENABLED or _refused is not None or threading.current_thread() is not threading.main_thread():
        return None  # a sandbox started from another thread would die with that thread (its parent-death signal)
    with _lock:
        if _server is not None and (_server.owner != os.getpid() or not _server.alive):
            _server = None
        if _server is None:
            started = WarmServer(min(wait, START_SECONDS))
            if started.unavailable is not None:
                if not (started.timed_out and wait < START_SECONDS):
                    _refused = started.unavailable
                return None
            _server = started
        return None if _server.busy else _server


def _forget_in_child() -> None:
    """A forked process has its parent's server object, not its server: it starts its own."""
    global _server
    if _server is not None:
        _server._control.close()
        _server._sandbox = None
    _server = None


def _end() -> None:
    if _server is not None and _server.owner == os.getpid():
        _server.close()


os.register_at_fork(after_in_child=_forget_in_child)
atexit.register(_end)
