"""A submission that reads the grader's files and environment and smuggles them out in an exception."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gradharness.records.verdict import RunVerdict
from tests.hostile.support import BUGGY, assert_nothing_left, attack, check, failed_properties, record_text

READ_SECRETS = """
import glob as _glob
import os as _os

_SECRETS = ("SECRET_FILE", "/etc/shadow")


def _read(path):
    try:
        with open(path, errors="replace") as stream:
            return f"READ {path}: " + stream.read(300).replace("\\n", " | ")
    except OSError as exc:
        return f"DENIED {path}: {type(exc).__name__}"


def _environments():
    found = [f"{k}={v}" for k, v in _os.environ.items() if "SECRET" in k]
    for path in _glob.glob("/proc/*/environ"):
        try:
            with open(path, "rb") as stream:
                found += [e.decode(errors="replace") for e in stream.read().split(b"\\0") if b"SECRET" in e]
        except OSError:
            pass
    return f"ENVIRONMENT {' '.join(found) or 'nothing'}"


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    stolen = " ; ".join([*(_read(p) for p in _SECRETS), _environments()])
    print(stolen, flush=True)
    raise RuntimeError(stolen)
"""


@pytest.fixture
def grader_secret(tmp_path: Path, marker: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A token the grader holds in a world-readable file of its own and in its environment; (token, file)."""
    token = f"hunter2-{marker}"
    secret = tmp_path / "grader" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(f"grader's secret {token}\n")
    secret.chmod(0o644)
    monkeypatch.setenv("GRADER_SECRET_TOKEN", f"env-{token}")
    return token, secret


def assert_no_secret_in(text: str, token: str, allowed: tuple[str, ...] = ()) -> None:
    """None of the grader's secrets (but those ``allowed``) is in ``text``; the message never shows one."""
    leaked = [label for label, needle in _graders_secrets(token) if needle in text and label not in allowed]
    assert not leaked, f"the grader's {', '.join(sorted(set(leaked)))} reached the record"


def test_the_graders_files_and_environment_never_reach_the_record(
    tmp_path: Path, level: str, marker: str, grader_secret: tuple[str, Path]
) -> None:
    token, secret = grader_secret
    path = tmp_path / "submission" / "thief.py"
    path.parent.mkdir()
    path.write_text(attack(BUGGY, READ_SECRETS.replace("SECRET_FILE", str(secret)), marker))
    record = check(path, level)
    text = record_text(record)
    assert record.verdict is RunVerdict.FAIL and "FORWARD_COST" in failed_properties(record), record.error
    assert "DENIED /etc/shadow" in text  # the attack ran, and its message came through (escaped and capped)
    assert "READ /etc/shadow" not in text
    assert_no_secret_in(text, token, allowed=("secret file",))
    assert f"env-{token}" not in text  # both levels start the evaluator with an environment of its own
    if level == "namespace":
        assert token not in text and f"READ {secret}" not in text
    # The process level does not hide the grader's world-readable files: a file the evaluator's uid may
    # read (mode 0644 in folders anyone may enter) is readable there. This one is not only because
    # pytest's temporary folders are private (0700); the namespace level shows no file of the grader's.
    assert_nothing_left(marker)


READ_HELPERS = """
import glob as _glob


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    found = []
    for name in sorted(_glob.glob("notes_*.py")):
        with open(name, "rb") as stream:
            found.append(f"{name}: " + repr(stream.read(400).replace(bytes(1), b" ").replace(b"\\\\n", b" | ")))
    raise RuntimeError("HELPERS " + " ;; ".join(found))
"""


def _graders_secrets(token: str) -> list[tuple[str, str]]:
    """What the grader has that must not reach a record: (what it is, a piece of it)."""
    secrets = [("secret file", token)]
    with open("/proc/self/environ", "rb") as stream:  # as the judge started (later setenv is not in it)
        entries = stream.read(300).split(bytes(1))[:-1]  # whole entries within what the attack reads
    ours = (b"PATH=", b"LANG=", b"HOME=", b"TMPDIR=", b"PYTHON", b"OPENBLAS_", b"OMP_", b"MKL_")  # the evaluator's too
    secrets += [("environment", e.decode(errors="replace")) for e in entries if not e.startswith(ours)][:1]
    if os.geteuid() == 0:
        lines = Path("/etc/shadow").read_text().splitlines()
        secrets += [("/etc/shadow", line[:20]) for line in lines if len(line) > 8]
    return secrets


LINKED = {"notes_secret.py": "SECRET", "notes_shadow.py": "/etc/shadow", "notes_environment.py": "/proc/self/environ"}
"""Helper modules beside the submission that are symbolic links to the grader's files (a git repository keeps them)."""


def test_helpers_that_are_symbolic_links_never_carry_the_graders_files_into_the_jail(
    tmp_path: Path, level: str, marker: str, grader_secret: tuple[str, Path]
) -> None:
    token, secret = grader_secret
    folder = tmp_path / "student"
    folder.mkdir()
    path = folder / "linker.py"
    path.write_text(attack(BUGGY, READ_HELPERS, marker))
    for name, target in LINKED.items():
        (folder / name).symlink_to(secret if target == "SECRET" else Path(target))
    record = check(path, level)
    text = record_text(record)
    assert record.verdict is RunVerdict.FAIL and "FORWARD_COST" in failed_properties(record), record.error
    assert "HELPERS" in text  # the attack ran, and its message came through
    assert_no_secret_in(text, token)
    assert_nothing_left(marker)
