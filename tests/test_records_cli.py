"""The results files the CLI writes load as records whose every field has the type its dataclass declares.

The check is independent of the loader: it walks the loaded record with isinstance against the type
hints, so a field left as a string where a float or an Enum is declared (``"inf"``, ``"pass"``) fails.
"""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gradharness.cli.main import main
from gradharness.records.check import CheckRecord
from gradharness.records.mutation import MutateRecord, SensitivityRecord
from gradharness.records.store import load
from gradharness.records.verdict import RunVerdict

FIXTURES = Path(__file__).parent / "fixtures" / "user_code"
SMALL = ["--max-examples", "10", "--seed", "0", "--jobs", "1", "-q"]


def type_errors(value: Any, hint: Any, where: str) -> list[str]:
    """Every place under ``value`` whose type is not what ``hint`` declares."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return []
    if origin in (typing.Union, types.UnionType):
        fits = [type_errors(value, option, where) for option in args]
        return [] if any(not errors for errors in fits) else [f"{where}: {value!r} is none of {hint}"]
    if origin is list or origin is tuple:
        if not isinstance(value, origin):
            return [f"{where}: {type(value).__name__}, not {origin.__name__}"]
        items = args[:1] * len(value) if origin is list or args[-1:] == (Ellipsis,) else args
        return [
            e for i, (v, a) in enumerate(zip(value, items, strict=True)) for e in type_errors(v, a, f"{where}[{i}]")
        ]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not dict"]
        key_type, value_type = args
        return [
            e
            for k, v in value.items()
            for e in type_errors(k, key_type, f"{where} key {k!r}") + type_errors(v, value_type, f"{where}.{k}")
        ]
    if is_dataclass(hint):
        if type(value) is not hint:
            return [f"{where}: {type(value).__name__}, not {hint.__name__}"]
        hints = typing.get_type_hints(hint)
        return [
            e for f in fields(hint) for e in type_errors(getattr(value, f.name), hints[f.name], f"{where}.{f.name}")
        ]
    if hint is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    if hint is int:
        return [] if type(value) is int else [f"{where}: {value!r} is {type(value).__name__}, not int"]
    if isinstance(hint, type) and (issubclass(hint, Enum) or hint in (float, str, bool)):
        return [] if type(value) is hint else [f"{where}: {value!r} is {type(value).__name__}, not {hint.__name__}"]
    raise AssertionError(f"{where}: no rule for {hint!r}")


def _run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), (result.output, result.exception)


def test_the_type_check_itself_catches_strings_where_numbers_and_enums_belong() -> None:
    record = CheckRecord(target={}, settings={}, verdict="pass", properties=[], seconds="inf")  # type: ignore[arg-type]
    errors = type_errors(record, CheckRecord, "record")
    assert any("record.verdict" in e for e in errors) and any("record.seconds" in e for e in errors)


def test_check_json_loads_with_the_declared_types(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    _run("check", str(FIXTURES / "buggy_sign.py"), "--json", str(out), "--seed", "1", "--max-examples", "20")
    record = load(out, CheckRecord)
    assert type_errors(record, CheckRecord, "check") == []
    assert record.verdict is RunVerdict.FAIL
    checks = [f.gradient_check for f in record.failures if f.gradient_check is not None]
    assert checks and checks[0].blocks and checks[0].entry_status  # the nested records were walked


def test_check_json_of_a_nonfinite_gradient_loads_with_the_declared_types(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    _run("check", str(FIXTURES / "nan_gradient.py"), "--json", str(out), "--seed", "1", "--max-examples", "20")
    record = load(out, CheckRecord)
    assert type_errors(record, CheckRecord, "check") == []
    assert "NaN" not in out.read_text() and "Infinity" not in out.read_text()


@pytest.mark.parametrize(
    ("command", "kind", "extra"),
    [
        ("mutate", MutateRecord, ["--operators", "scale_gradient,lost_keepdims"]),
        ("sensitivity", SensitivityRecord, ["--operators", "scale_gradient"]),
    ],
)
def test_mutate_and_sensitivity_json_load_with_the_declared_types(
    tmp_path: Path, command: str, kind: type, extra: list[str]
) -> None:
    out = tmp_path / f"{command}.json"
    _run(command, *SMALL, *extra, "--json", str(out))
    record = load(out, kind)
    assert type_errors(record, kind, command) == []
    data = json.loads(out.read_text())
    assert data["kind"] == command and data["verdict"] == "pass"
    if kind is MutateRecord:
        assert record.mutants and {m["status"] for m in data["mutants"]} <= {"killed", "crashed", "equivalent"}
    else:
        assert record.blocks and all(math.isfinite(d) for d in record.deltas)


def test_a_campaign_that_cannot_run_writes_a_typed_error_record(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    result = CliRunner().invoke(main, ["mutate", str(FIXTURES / "bad_syntax.py"), "--json", str(out)])
    assert result.exit_code == 2
    record = load(out, MutateRecord)
    assert type_errors(record, MutateRecord, "mutate") == []
    assert record.verdict is RunVerdict.ERROR and "syntax error" in (record.error or "")
