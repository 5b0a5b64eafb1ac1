"""Where an evaluator runs: its working folder, its command line and environment, per isolation level.

- ``namespace``: under bubblewrap: no network, the system and the Python environment read-only,
  a private size-limited ``/tmp``, only the submission's folder copy visible (at ``/submission``),
  its own PID namespace (nothing it starts outlives it), uid 65534 inside.
- ``process``: a fresh interpreter in an empty temporary folder holding a copy of the file and its
  helpers, with a scrubbed environment; as root, an unprivileged uid of its own (so its processes
  can be found and killed, and it cannot signal or read other evaluators).

Resource limits are set by the evaluator itself before any user code runs (both levels). At the
namespace level an evaluator is usually forked, already jailed, by the warm start's server (see
:mod:`~gradharness.isolation.warm`), which runs in a sandbox made with the same options.
"""

from __future__ import annotations

import fcntl
import functools
import importlib.util
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gradharness.errors import GradHarnessError
from gradharness.isolation.processes import kill_uid

SUBMISSION = "/submission"
"""Where the submission's folder copy appears inside the namespace jail."""

JAIL_TMP_BYTES = 64 * 1024 * 1024
HELPER_BYTES = 16 * 1024 * 1024
"""The most helper files copied beside a submission (in total)."""

MAX_HELPERS = 64
UID_BASE = 3_000_000
"""Evaluator uids at the process level as root: UID_BASE + slot, one per running evaluator."""

UID_SLOTS = 4096
NAMESPACE_PROCESSES = 64
"""The most processes an evaluator in the namespace jail may run (its PID namespace holds nothing else)."""

_LOCKS = Path(tempfile.gettempdir()) / "gradharness-uids"
_SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
                 "/etc/alternatives", "/etc/localtime")  # fmt: skip


@dataclass
class Jail:
    """One evaluator's command line, environment and folder; :meth:`close` removes the folder."""

    level: str
    argv_prefix: list[str]
    env: dict[str, str]
    cwd: Path
    file: str  # the checked file's path as the evaluator sees it
    folder: Path  # the temporary folder (removed on close)
    uid: int | None = None
    processes: int | None = None

    @property
    def marker(self) -> str | None:
        """``GRADHARNESS_EVALUATOR=token`` in the environment of whatever the evaluator starts (process level)."""
        token = self.env.get("GRADHARNESS_EVALUATOR")
        return f"GRADHARNESS_EVALUATOR={token}" if token else None

    _lock: int | None = field(default=None, repr=False)

    def close(self) -> None:
        """Remove the folder and release the uid."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


@functools.cache
def namespace_unavailable() -> str | None:
    """Why the namespace level cannot run here (None: it can): bubblewrap missing or namespaces refused."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    probe = [bwrap, *_namespace_options(Path(tempfile.gettempdir())), sys.executable, "-I", "-c", "import numpy"]
    try:
        result = subprocess.run(probe, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap cannot start ({exc})"
    if result.returncode != 0:
        line = (result.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap cannot create namespaces here ({line[:200]})"
    return None


def resolve_level(requested: str | None) -> tuple[str, str | None]:
    """The level to use for ``requested`` (None: the strongest available), and a note when it falls back."""
    if requested not in (None, "namespace"):
        return str(requested), None
    reason = namespace_unavailable()
    if reason is None:
        return "namespace", None
    return "process", f"{reason}: the code runs with --isolation process (limits, own folder, no namespaces)"


def _python_paths() -> list[str]:
    """What the evaluator's interpreter needs to see: the interpreter, its libraries, gradharness."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    for entry in sys.path:
        if entry and ("site-packages" in entry or "dist-packages" in entry) and os.path.exists(entry):
            paths.add(entry)
    for package in ("gradharness", "strategies"):
        spec = importlib.util.find_spec(package)
        locations = (spec.submodule_search_locations or []) if spec is not None else []
        paths.update(str(Path(location).resolve()) for location in locations)
    return sorted(p for p in paths if p and os.path.exists(p))


def _namespace_options(folder: Path | None) -> list[str]:
    """bubblewrap's options for an evaluator of ``folder`` (None: the warm start's sandbox, see warm.py)."""
    options = ["--unshare-all", "--die-with-parent", "--new-session", "--uid", "65534", "--gid", "65534"]
    # The private /tmp first: the Python environment may live under the host's /tmp, bound on top of it.
    options += ["--proc", "/proc", "--dev", "/dev", "--size", str(JAIL_TMP_BYTES), "--tmpfs", "/tmp"]
    for path in _SYSTEM_PATHS:
        options += ["--ro-bind-try", path, path]
    for path in _python_paths():
        options += ["--ro-bind", path, path]
    if folder is not None:
        options += ["--ro-bind", str(folder), SUBMISSION]
    else:
        # The sandbox outlives each evaluator forked in it: nothing one of them writes may reach the next.
        options += ["--dir", SUBMISSION, "--remount-ro", "/dev", "--remount-ro", "/"]
    options += ["--chdir", SUBMISSION, "--clearenv"]
    for key, value in jail_environment().items():
        options += ["--setenv", key, value]
    return options


def jail_environment() -> dict[str, str]:
    """The whole environment of an evaluator in the namespace jail."""
    return _environment("/tmp")


def warm_sandbox_argv() -> list[str]:
    """The command line of the warm start's sandbox: bubblewrap as for an evaluator, its server inside."""
    bwrap = shutil.which("bwrap") or "bwrap"
    python = [sys.executable, "-I", "-B", "-u", "-m", "gradharness.isolation.evaluator", "--warm"]
    return [bwrap, *_namespace_options(None), *python]


def _environment(home: str) -> dict[str, str]:
    """The evaluator's whole environment: nothing of the grader's but the locale."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def helper_files(path: Path, siblings: bool, helpers: str | None) -> list[Path]:
    """The helper modules a submission may import: its folder's (``siblings``) and the teacher's ``--helpers``."""
    found: list[Path] = []
    folders = ([path.parent] if siblings else []) + ([Path(helpers)] if helpers else [])
    for folder in folders:
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            raise GradHarnessError(f"cannot read the helpers in {folder}: {exc.strerror or exc}") from None
        # Symbolic links are never followed: a link named notes.py may point at any of the grader's files.
        found += [
            p for p in entries
            if p.suffix == ".py" and not p.is_symlink() and p.is_file() and p.resolve() != path.resolve()
        ]  # fmt: skip
    return found


def submission_files(path: Path, helpers: list[Path]) -> list[Path]:
    """The file, then the helpers that go with it: within the size and count limits, one per name, no links."""
    chosen, names, spent = [path], {path.name}, 0
    for helper in helpers[:MAX_HELPERS]:
        size = helper.lstat().st_size
        if spent + size > HELPER_BYTES or helper.name in names or helper.is_symlink():
            continue
        chosen.append(helper)
        names.add(helper.name)
        spent += size
    return chosen


def _copy_submission(path: Path, helpers: list[Path], folder: Path) -> None:
    """The file and its helpers, copied into ``folder`` (helpers within the size and count limits)."""
    for source in submission_files(path, helpers):
        shutil.copyfile(source, folder / source.name, follow_symlinks=source == path)


def read_submission(path: Path, *, siblings: bool, helpers: str | None) -> list[tuple[str, bytes]]:
    """(name, bytes) of the file and the helpers that go with it, as :func:`make_jail` would copy them."""
    out = []
    for source in submission_files(path, helper_files(path, siblings, helpers)):
        if source == path:
            out.append((source.name, source.read_bytes()))
            continue
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)  # a helper swapped for a link meanwhile is not read
        with os.fdopen(fd, "rb") as stream:
            out.append((source.name, stream.read(HELPER_BYTES + 1)))
    return out


def _lock_folder() -> Path:
    """The folder of the uid locks: root's own, closed to everyone else (else another user could hold every uid)."""
    _LOCKS.mkdir(mode=0o700, exist_ok=True)
    info = _LOCKS.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
        raise GradHarnessError(f"{_LOCKS} is not a folder of root's closed to others: remove it")
    return _LOCKS


def _locked_slot(slot: int) -> int | None:
    fd = os.open(_lock_folder() / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _allocate_uid() -> tuple[int, int]:
    """A uid no other running evaluator has (a lock held for as long as the evaluator runs), with nothing left running."""
    start = os.getpid() % UID_SLOTS
    for offset in range(UID_SLOTS):
        slot = (start + offset) % UID_SLOTS
        fd = _locked_slot(slot)
        if fd is None:
            continue
        # A judge killed outright (SIGKILL) leaves its evaluator's daemons: never share a uid with them.
        kill_uid(UID_BASE + slot)
        return UID_BASE + slot, fd
    raise GradHarnessError(f"all {UID_SLOTS} evaluator uids are in use")


def sweep_free_uids() -> None:
    """Kill what runs under every evaluator uid no running evaluator holds (after judges were killed)."""
    if os.geteuid() != 0 or not _LOCKS.is_dir():
        return
    for lock in _LOCKS.glob("*.lock"):
        if not lock.stem.isdigit():
            continue
        fd = _locked_slot(int(lock.stem))
        if fd is not None:
            try:
                kill_uid(UID_BASE + int(lock.stem))
            finally:
                os.close(fd)


def count_processes(uid: int) -> int:
    """How many processes ``uid`` runs now (so a limit on processes leaves room for only a few more)."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                continue
    return count


def _reachable_tmp() -> str:
    """A temporary folder an evaluator's own uid can reach: TMPDIR's, unless a folder on its path is closed to others."""
    base = Path(tempfile.gettempdir()).resolve()
    if os.geteuid() != 0:
        return str(base)
    try:
        closed = any(not (folder.stat().st_mode & 0o001) for folder in (base, *base.parents))
    except OSError:
        closed = True
    return "/tmp" if closed and os.path.isdir("/tmp") else str(base)


def make_jail(path: Path, level: str, *, siblings: bool, helpers: str | None) -> Jail:
    """A folder holding the submission and the command line that starts its evaluator at ``level``."""
    folder = Path(tempfile.mkdtemp(prefix="gradharness-evaluator-", dir=_reachable_tmp()))
    try:
        submission = folder / "submission"
        submission.mkdir()
        _copy_submission(path, helper_files(path, siblings, helpers), submission)
        # -u: what the code prints reaches the output buffer as it prints, even if it is killed after.
        python = [sys.executable, "-I", "-B", "-u", "-m", "gradharness.isolation.evaluator"]
        if level == "namespace":
            bwrap = shutil.which("bwrap") or "bwrap"
            prefix = [bwrap, *_namespace_options(submission), *python]
            return Jail(level, prefix, {}, folder, f"{SUBMISSION}/{path.name}", folder, processes=NAMESPACE_PROCESSES)
        home = folder / "home"
        home.mkdir()
        environment = {**_environment(str(home)), "GRADHARNESS_EVALUATOR": secrets.token_hex(16)}
        jail = Jail(level, python, environment, submission, str(submission / path.name), folder)
        if os.geteuid() == 0:
            jail.uid, jail._lock = _allocate_uid()
            for item in (folder, submission, home, *submission.iterdir()):
                os.chown(item, jail.uid, jail.uid)
            jail.processes = 64
        else:
            jail.processes = count_processes(os.getuid()) + 64
        return jail
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
