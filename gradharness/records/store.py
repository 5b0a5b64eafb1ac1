"""Results files: a record saved as JSON atomically, and loaded back only if it is one.

Every results file is a JSON object with ``schema_version`` (this gradharness reads and
writes :data:`SCHEMA_VERSION`) and ``kind`` (``check``, ``mutate``, ``sensitivity`` or
``batch``); the fields are those of the record's dataclass, encoded as
:mod:`gradharness.records.serialise` describes. A file that is not such a record fails
with one message: ``FILE is not a gradharness results file: WHY``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from gradharness.errors import ResultsFormatError
from gradharness.records.serialise import decode, json_type, to_json

SCHEMA_VERSION = 1
"""The format every record is written in; a file of another version is refused, not guessed at."""

R = TypeVar("R")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: no reader sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write plain JSON data to ``path`` atomically (NaN and inf are refused: encode them with to_json)."""
    write_text_atomic(path, json.dumps(payload, indent=2, allow_nan=False) + "\n")


def save(record: Any, path: Path) -> None:
    """Save a record (any dataclass of :mod:`gradharness.records`) as JSON, atomically."""
    write_json_atomic(Path(path), to_json(record))


def kind_of(cls: type) -> str:
    """The ``kind`` a record class writes (its ``kind`` field's default)."""
    for f in fields(cls):
        if f.name == "kind" and isinstance(f.default, str):
            return f.default
    raise TypeError(f"{cls.__name__} is not a record: it has no kind")


def _check_envelope(data: Any) -> None:
    if not isinstance(data, dict):
        raise ResultsFormatError(f"it holds {json_type(data)}, not an object")
    found = data.get("schema_version")
    if found is None:  # absent, or null: nothing says which format this is
        raise ResultsFormatError("it has no schema_version")
    if found != SCHEMA_VERSION or isinstance(found, bool):
        newer = isinstance(found, int) and not isinstance(found, bool) and found > SCHEMA_VERSION
        hint = " (written by a newer gradharness)" if newer else ""
        raise ResultsFormatError(
            f"schema_version {found!r} is not supported{hint}; this gradharness reads {SCHEMA_VERSION}"
        )


def from_json(data: Any, *kinds: type[R]) -> R:
    """The record of one of ``kinds`` that ``data`` (a parsed results file) holds, chosen by its ``kind``.

    Raises ResultsFormatError saying why, when ``data`` is not such a record.
    """
    if not kinds:
        raise TypeError("from_json needs the record classes it may return")
    _check_envelope(data)
    by_kind = {kind_of(cls): cls for cls in kinds}
    kind = data.get("kind", "check")  # the first check records could leave it out
    if kind not in by_kind:
        names = list(by_kind)
        expected = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        raise ResultsFormatError(f"its kind {kind!r} is not {expected}")
    return decode(by_kind[kind], data, "results")


def load(path: Path, *kinds: type[R]) -> R:
    """Load a record of one of ``kinds`` from ``path``.

    Raises ResultsFormatError: the file does not exist, cannot be read, or is not a
    gradharness results file of those kinds (one message, with the reason).
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ResultsFormatError(f"results file {path} does not exist") from None
    except OSError as exc:
        raise ResultsFormatError(f"cannot read results file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise not_a_results_file(path, "it is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise not_a_results_file(path, f"it is not JSON ({exc})") from None
    try:
        return from_json(data, *kinds)
    except ResultsFormatError as exc:
        raise not_a_results_file(path, str(exc)) from None


def not_a_results_file(path: Path, reason: str) -> ResultsFormatError:
    """The one error for a file that is not a record this gradharness reads."""
    return ResultsFormatError(f"{path} is not a gradharness results file: {reason}")
