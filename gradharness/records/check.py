"""Results of a check run as plain data, saved as JSON with a schema_version.

Loading rejects files of another schema version or with unknown keys.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from gradharness.errors import ResultsFormatError

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class EntryRecord:
    """A named gradient entry, backprop against numerical."""

    name: str
    backprop: float
    numerical: float
    status: str


@dataclass(frozen=True)
class BlockRecord:
    """One gradient block's difference and verdict."""

    name: str
    difference: float
    verdict: str
    entries: int
    kinks: int
    saturated: int
    mode: str = "full"  # "full" (every entry perturbed) or "screened" (random directional probes)


@dataclass(frozen=True)
class GradientRecord:
    """The gradient check of a failing case, with per-entry values for heat maps."""

    difference: float
    verdict: str
    reason: str
    epsilon: float | None
    threshold: float
    method: str
    blocks: list[BlockRecord]
    worst_entries: list[EntryRecord]
    grad: list[float]
    gradapprox: list[float | None]
    entry_status: list[str]


@dataclass(frozen=True)
class FailureRecord:
    """The smallest failing case of one property."""

    property: str
    kind: str
    message: str
    examples_before: int
    case: dict[str, Any] | None = None
    point: list[float] | None = None
    gradient_check: GradientRecord | None = None


@dataclass(frozen=True)
class PropertyRecord:
    """One property: passed, failed or not run, and on how many examples."""

    name: str
    description: str
    status: str
    examples: int


@dataclass(frozen=True)
class CheckRecord:
    """Everything a check run found; ``verdict`` is pass, fail or error."""

    target: dict[str, Any]
    settings: dict[str, Any]
    verdict: str
    properties: list[PropertyRecord]
    failures: list[FailureRecord] = field(default_factory=list)
    diagnoses: dict[str, int] = field(default_factory=dict)
    wrong_blocks: dict[str, int] = field(default_factory=dict)
    examples: int = 0
    seconds: float = 0.0
    error: str | None = None
    reproduce: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    kind: str = "check"
    created: str | None = None  # ISO 8601 UTC time the run finished
    schema_version: int = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        """0 pass, 1 a property failed, 2 the code could not be checked."""
        return {"pass": 0, "fail": 1}.get(self.verdict, 2)


def json_ready(value: Any) -> Any:
    """``value`` with NaN as null and infinities as "inf"/"-inf" (JSON has neither), recursively."""
    if isinstance(value, float):
        if value != value:
            return None
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def to_json(record: CheckRecord) -> dict[str, Any]:
    """Plain JSON-ready dict of a record."""
    return json_ready(asdict(record))


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ResultsFormatError(f"{where}: expected an object, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ResultsFormatError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    nested = {
        "blocks": BlockRecord,
        "worst_entries": EntryRecord,
        "properties": PropertyRecord,
        "failures": FailureRecord,
    }
    values = {}
    for key, value in data.items():
        if key in nested and isinstance(value, list):
            value = [_build(nested[key], item, f"{where}.{key}[{i}]") for i, item in enumerate(value)]
        elif key == "gradient_check" and value is not None:
            value = _build(GradientRecord, value, f"{where}.{key}")
        values[key] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise ResultsFormatError(f"{where}: {exc}") from None


def check_envelope(data: Any, version: int) -> None:
    """Reject what is not a JSON object of this schema version (every kind of record)."""
    if not isinstance(data, dict):
        raise ResultsFormatError("results file does not hold a JSON object")
    found = data.get("schema_version")
    if found != version:
        raise ResultsFormatError(f"results schema_version {found!r} is not supported (this version reads {version})")


def from_json(data: Any) -> CheckRecord:
    """Parse a record, rejecting other schema versions and unknown keys."""
    check_envelope(data, SCHEMA_VERSION)
    if data.get("kind", "check") != "check":
        raise ResultsFormatError(f"results of kind {data.get('kind')!r} are not check results")
    return _build(CheckRecord, data, "results")


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
    """Write JSON to ``path`` atomically (NaN and inf are refused: pass the payload through json_ready)."""
    write_text_atomic(path, json.dumps(payload, indent=2, allow_nan=False) + "\n")


def save(record: CheckRecord, path: Path) -> None:
    """Save a record as JSON, atomically."""
    write_json_atomic(path, to_json(record))


def load(path: Path) -> CheckRecord:
    """Load a record saved by :func:`save`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsFormatError(f"results file {path} does not exist") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsFormatError(f"cannot read results file {path}: {exc}") from None
    return from_json(data)
