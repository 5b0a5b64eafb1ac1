"""Ctrl-C, SIGTERM and SIGHUP end a command one way: every process it started is killed at once, then
the interrupt unwinds the command (a batch still writes the summary of what finished) and the CLI
exits 130 (143 for SIGTERM) with one line.

The interrupt is a ``KeyboardInterrupt`` whatever the signal, so every library path that already
stops on Ctrl-C (and never counts it as the user's code's doing) stops on SIGTERM and SIGHUP too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from multiprocessing import resource_tracker
from types import FrameType

from gradharness.isolation.processes import kill_tree


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the command stops as on Ctrl-C and exits 143."""


class HungUp(KeyboardInterrupt):
    """SIGHUP arrived (the terminal went away): the command stops as on Ctrl-C."""


_RAISED: dict[int, type[KeyboardInterrupt]] = {signal.SIGINT: KeyboardInterrupt, signal.SIGTERM: Terminated}
if hasattr(signal, "SIGHUP"):
    _RAISED[signal.SIGHUP] = HungUp


def _bookkeepers() -> set[int]:
    """multiprocessing's resource tracker: it runs no code under test and ends with this process (killed, it
    would be started again with a warning, and complain about every semaphore it no longer knows)."""
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    pid = getattr(tracker, "_pid", None)
    return {pid} if isinstance(pid, int) else set()


def exit_status(interrupt: KeyboardInterrupt) -> tuple[str, int]:
    """The word the CLI says and its exit code: ``("terminated", 143)`` for SIGTERM, else ``("interrupted", 130)``."""
    return ("terminated", 143) if isinstance(interrupt, Terminated) else ("interrupted", 130)


class Signals:
    """The signals :func:`stop_on_signals` handles; :meth:`ignore` once the command is ending anyway."""

    def __init__(self, handled: list[int]) -> None:
        self.handled = handled

    def ignore(self) -> None:
        """Ignore further signals (until the block ends): everything is killed and the command is about to exit."""
        for signum in self.handled:
            signal.signal(signum, signal.SIG_IGN)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[Signals]:
    """While the block runs, SIGINT, SIGTERM and SIGHUP kill every process below this one, then raise.

    A signal that is ignored when the block starts (``nohup``, a script's background job) stays
    ignored. A signal arriving while the processes are being killed adds nothing; one arriving
    later raises again (nothing is left running by then). A process forked from this one (a pool
    worker) does not inherit the behaviour: a signal ends it as it would by default, and this
    process decides what happens next. The handlers in place before are restored at the end.
    """
    if threading.current_thread() is not threading.main_thread():
        yield Signals([])
        return
    owner = os.getpid()
    killing = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal killing
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if killing:
            return
        killing = True
        try:
            kill_tree(owner, include_root=False, spare=_bookkeepers())
        finally:
            killing = False
        raise _RAISED[signum]()

    previous = {}
    for signum in _RAISED:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, stop)
    try:
        yield Signals(list(previous))
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: a handler set outside Python, which cannot be put back
                signal.signal(signum, handler)
