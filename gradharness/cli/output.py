"""Writing what the commands were asked to write (``--json``, ``--html``, ``--mte``, ``--gradescope``, ``--junit``, a batch's ``--out``).

A file that cannot be written is one :class:`GradHarnessError` naming it and why
(``cannot write out/x.json: No space left on device``), never a traceback; the commands print
their verdict before they write, so it is never lost to a full or read-only folder.
"""

from __future__ import annotations

import contextlib
import json
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from gradharness.batch.rubric import Rubric
from gradharness.errors import GradHarnessError
from gradharness.records.check import CheckRecord
from gradharness.records.serialise import to_json
from gradharness.records.store import write_text_atomic
from gradharness.render.gradescope import gradescope_results
from gradharness.render.junit import junit_xml


def _reason(path: Path, exc: OSError) -> str:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):  # a file where a folder has to be
        for candidate in (path, *path.parents):
            if candidate.exists() and not candidate.is_dir():
                return f"{candidate} is not a folder"
    return exc.strerror or str(exc)


def cannot_write(path: Path, exc: OSError) -> GradHarnessError:
    """``cannot write PATH: REASON`` (the file or folder the user named, not a temporary file)."""
    return GradHarnessError(f"cannot write {path}: {_reason(Path(path), exc)}")


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised in the block into ``cannot write PATH: REASON``."""
    try:
        yield
    except OSError as exc:
        raise cannot_write(path, exc) from None


def special_file(path: Path) -> bool:
    """Whether ``path`` exists and is neither a regular file nor a folder (``/dev/stdout``, a FIFO, a device).

    Such a target is written in place: renaming a temporary file over it would replace the
    device or the pipe itself (as root, ``/dev/full`` would become a regular file).
    """
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path``: atomically, or in place for a special file; failures as ``cannot write``."""
    path = Path(path)
    with writing(path):
        if special_file(path):
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(text)
        else:
            write_text_atomic(path, text)


def write_results(record: Any, path: Path | None) -> None:
    """``--json PATH``: the record as a results file (nothing when ``path`` is None)."""
    if path is not None:
        write_text(path, json.dumps(to_json(record), indent=2, allow_nan=False) + "\n")


def write_gradescope(record: CheckRecord, rubric: Rubric, path: Path | None) -> None:
    """``--gradescope PATH``: Gradescope's results.json of one check (nothing when ``path`` is None)."""
    if path is not None:
        write_text(path, json.dumps(gradescope_results(record, rubric), indent=2, allow_nan=False) + "\n")


def write_junit(
    records: Sequence[CheckRecord], rubric: Rubric, path: Path | None, names: Sequence[str] | None = None
) -> None:
    """``--junit FILE``: JUnit XML of one or many checks, a testsuite each (nothing when ``path`` is None)."""
    if path is not None:
        write_text(path, junit_xml(records, names, rubric))


def write_with(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(path)`` (a library writer), its failures as ``cannot write PATH``."""
    with writing(path):
        write(path)


def check_folder(folder: Path) -> None:
    """Make sure files can be created in ``folder`` (made if missing) before work that would be lost."""
    folder = Path(folder)
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".gradharness-"):
            pass
