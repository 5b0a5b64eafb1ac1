"""The judge's end of an evaluator: start it in its jail, ask it requests, end it and all it started.

Requests and replies are :mod:`~gradharness.isolation.protocol` frames on two pipes of their own; the
user's prints go to a third pipe, drained continuously into a buffer that keeps only the last
:data:`OUTPUT_KEPT` bytes. Every wait has the check's deadline. A reply that breaks the protocol,
an evaluator that dies, hangs or exits, ends the file's check with :class:`EvaluatorLost`
(one line, with the last step and the last line of its output), never a crash of the judge.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from gradharness.errors import EvaluatorLost
from gradharness.isolation import warm
from gradharness.isolation.jail import NAMESPACE_PROCESSES, Jail, make_jail, read_submission
from gradharness.isolation.processes import kill, kill_marked, kill_tree, kill_uid, signals_held, undumpable
from gradharness.isolation.protocol import ProtocolError, encode, read_frame
from gradharness.records.serialise import to_json
from gradharness.settings import FunctionNames, IsolationSettings

OUTPUT_KEPT = 64 * 1024
REPLY_BYTES = 64 * 1024 * 1024
"""The most one reply of the evaluator may carry."""

FILE_BYTES = 64 * 1024 * 1024
"""The largest file the evaluator may write."""


class _Output:
    """The user's output: read as it comes, only the last OUTPUT_KEPT bytes kept."""

    def __init__(self, fd: int) -> None:
        self.kept = bytearray()
        self.total = 0
        self._thread = threading.Thread(target=self._drain, args=(fd,), daemon=True)
        self._thread.start()

    def _drain(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, 1 << 16):
                self.total += len(chunk)
                self.kept += chunk
                if len(self.kept) > 2 * OUTPUT_KEPT:
                    del self.kept[:-OUTPUT_KEPT]
        except OSError:
            pass
        finally:
            os.close(fd)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def tail(self) -> str:
        """The last OUTPUT_KEPT bytes, as text."""
        return bytes(self.kept[-OUTPUT_KEPT:]).decode("utf-8", errors="replace")

    def last_line(self) -> str:
        lines = [line for line in self.tail().splitlines() if line.strip()]
        return lines[-1][:200] if lines else ""


class _Reader:
    """``read(n)`` on the reply pipe, buffered (a frame is many small reads), giving up at the deadline."""

    def __init__(self, fd: int, evaluator: Evaluator) -> None:
        self._fd, self._evaluator = fd, evaluator
        self._data, self._at = b"", 0

    def read(self, size: int) -> bytes:
        if self._at >= len(self._data):
            self._evaluator.wait_for(self._fd, readable=True)
            self._data, self._at = os.read(self._fd, max(size, 1 << 16)), 0
        chunk = self._data[self._at : self._at + size]
        self._at += len(chunk)
        return chunk


class Evaluator:
    """One evaluator process for one file (use as a context manager).

    ``step`` names what the judge is doing, for the messages of a timeout or a death.
    """

    def __init__(
        self,
        path: Path,
        names: FunctionNames,
        *,
        level: str,
        isolation: IsolationSettings,
        timeout: float,
        siblings: bool = True,
    ) -> None:
        self.path, self.names, self.level, self.isolation = Path(path), names, level, isolation
        self.timeout = timeout
        self.siblings = siblings
        self.step = f"loading {self.path.name}"
        self._deadline = time.monotonic() + timeout
        self._process: subprocess.Popen | warm.WarmChild | None = None
        self._jail: Jail | None = None
        self._output: _Output | None = None
        self._requests = self._replies = -1

    def __enter__(self) -> Evaluator:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _start(self) -> None:
        server = warm.server(self._left()) if self.level == "namespace" else None
        if server is not None and self._start_warm(server):
            return
        self._jail = jail = make_jail(self.path, self.level, siblings=self.siblings, helpers=self.isolation.helpers)
        if jail.uid is None and jail.level == "process":
            undumpable()  # the evaluator runs as this process's uid: no ptrace, no /proc/<judge>/mem or fd
        request_read, self._requests = os.pipe()
        self._replies, reply_write = os.pipe()
        output_read, output_write = os.pipe()
        setup = {**self._limits(jail.processes, jail.uid), "file": jail.file}
        argv = [*jail.argv_prefix, str(request_read), str(reply_write), json.dumps(setup)]
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=output_write,
                stderr=output_write,
                pass_fds=(request_read, reply_write),
                cwd=jail.cwd,
                env=jail.env,
                start_new_session=True,
            )
        finally:
            for fd in (request_read, reply_write, output_write):
                os.close(fd)
        self._output = _Output(output_read)
        self._reader = _Reader(self._replies, self)
        os.set_blocking(self._requests, False)

    def _limits(self, processes: int | None, uid: int | None) -> dict[str, Any]:
        """What the evaluator is told before it runs any user code: names to find, limits, the uid to become."""
        return {
            "names": to_json(self.names),
            "memory_mb": self.isolation.memory_mb,
            "cpu_seconds": int(self.timeout) + 5,
            "file_bytes": FILE_BYTES,
            "processes": processes,
            "uid": uid,
            "gid": uid,
        }

    def _start_warm(self, server: warm.WarmServer) -> bool:
        """An evaluator forked by the warm server, handed the submission first; False if the server gave none."""
        files = read_submission(self.path, siblings=self.siblings, helpers=self.isolation.helpers)
        request_read, self._requests = os.pipe()
        self._replies, reply_write = os.pipe()
        output_read, output_write = os.pipe()
        # No file name: the server never learns which file its fork checks (the fork reads it from its pipe).
        setup = {**self._limits(NAMESPACE_PROCESSES, None), "notebook": self.path.suffix.lower() == ".ipynb"}
        try:
            child = server.fork(setup, (request_read, reply_write, output_write), self._left())
        finally:
            for fd in (request_read, reply_write, output_write):
                os.close(fd)
        if child is None:
            os.close(output_read)
            for fd in (self._requests, self._replies):
                os.close(fd)
            self._requests = self._replies = -1
            return False
        self._process = child
        self._output = _Output(output_read)
        self._reader = _Reader(self._replies, self)
        os.set_blocking(self._requests, False)
        submission = [{"name": name, "data": np.frombuffer(data, dtype=np.uint8)} for name, data in files]
        try:
            self._send(encode({"call": "submission", "files": submission}))  # the checked file first
        except BrokenPipeError:
            pass  # the fork could not be jailed and ended: its answer to hello says why
        return True

    def _send(self, frame: bytes) -> None:
        data = memoryview(frame)
        while data:
            self.wait_for(self._requests, readable=False)
            written = os.write(self._requests, data)
            data = data[written:]

    def _left(self) -> float:
        """Seconds left before the deadline (0 once it has passed)."""
        return max(0.0, self._deadline - time.monotonic())

    def wait_for(self, fd: int, *, readable: bool) -> None:
        """Block until ``fd`` is ready; EvaluatorLost at the deadline."""
        while True:
            left = self._deadline - time.monotonic()
            if left <= 0:
                self._lost(f"timed out after {self.timeout:g} s; last step: {self.step}")
            ready = select.select([fd] if readable else [], [] if readable else [fd], [], min(left, 1.0))
            if ready[0] or ready[1]:
                return

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return the reply (a dict); EvaluatorLost when there is no valid reply."""
        try:
            self._send(encode(message))
            reply = read_frame(self._reader, budget=REPLY_BYTES)  # type: ignore[arg-type]
        except (BrokenPipeError, ProtocolError) as exc:
            if isinstance(exc, ProtocolError) and self._process is not None and self._process.poll() is None:
                self._lost(f"the evaluator broke the protocol ({exc}) during: {self.step}")
            self._ended()
        except OSError as exc:  # the pipes themselves failed
            self._lost(f"the evaluator's pipe failed ({exc.strerror or exc}) during: {self.step}")
        if reply is None:
            self._ended()
        return self.checked(reply)

    def checked(self, reply: object) -> dict[str, Any]:
        """``reply`` if it is a reply at all; EvaluatorLost for a sys.exit or a reply of no known form."""
        if not isinstance(reply, dict):
            self._lost(f"the evaluator broke the protocol (a reply that is not an object) during: {self.step}")
        if "exit" in reply:
            self._lost(f"the checked code called sys.exit({str(reply['exit'])[:60]}) during: {self.step}")
        if "error" in reply and not isinstance(reply["error"], str):
            self._lost(f"the evaluator broke the protocol (an error that is not text) during: {self.step}")
        return reply

    def _ended(self) -> NoReturn:
        process = self._process
        try:
            code = process.wait(timeout=5) if process is not None else None
        except subprocess.TimeoutExpired:  # it closed its end of the pipe but goes on running
            self._lost(f"the evaluator stopped answering (it closed the reply pipe) during: {self.step}")
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        if code == -signal.SIGXCPU:
            how = "used up its CPU time"
        tail = self._tail_line()
        self._lost(
            f"the checked code ended the evaluator process (it {how}) during: {self.step}"
            + (f"; output: {tail}" if tail else "")
        )

    def _tail_line(self) -> str:
        if self._output is None:
            return ""
        self._output.join(0.5)
        return self._output.last_line()

    def _lost(self, message: str) -> NoReturn:
        self.close()
        raise EvaluatorLost(message)

    def output(self) -> str:
        """The last OUTPUT_KEPT bytes the user's code printed."""
        return self._output.tail() if self._output is not None else ""

    def close(self) -> None:
        """End the evaluator and everything it started; remove its folder. Safe to call twice.

        A second Ctrl-C or signal meanwhile is dropped: it would leave the folder or a process behind.
        """
        with signals_held():
            self._close()

    def _close(self) -> None:
        for fd in (self._requests, self._replies):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._requests = self._replies = -1
        if isinstance(self._process, warm.WarmChild):
            self._process.kill()
        elif self._process is not None:
            kill_tree(self._process.pid)  # its descendants first: a killed parent's children are adopted
            kill(self._process)
        if self._jail is not None:
            if self._jail.uid is not None:
                kill_uid(self._jail.uid)
            elif self._jail.marker is not None:
                kill_marked(self._jail.marker)
            self._jail.close()
            self._jail = None
        if self._output is not None:
            self._output.join(1.0)
