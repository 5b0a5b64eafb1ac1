"""Every attack runs at both jailed levels; each test gets a marker of its own for the processes it leaves."""

from __future__ import annotations

import os
import secrets

import pytest

from gradharness.isolation.jail import namespace_unavailable

LEVELS = ("namespace", "process")


@pytest.fixture(params=LEVELS)
def level(request: pytest.FixtureRequest) -> str:
    """The isolation level under attack. Namespace needs bubblewrap: under CI its absence is a failure."""
    name = str(request.param)
    if name == "namespace":
        reason = namespace_unavailable()
        if reason is not None and os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the namespace level: {reason}")
        if reason is not None:
            pytest.skip(reason)
    return name


@pytest.fixture
def marker() -> str:
    """A number no other process has in its command line: ``sleep MARKER`` is easy to find in /proc."""
    return f"987.{secrets.randbelow(10**9):09d}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The quick tier (-m "not slow") runs the library-level attacks at the process level; the full suite runs
    every attack at both levels, the command-line ones (a whole gradharness process each) included."""
    for item in items:
        if "hostile" not in item.path.parts:
            continue
        if "[namespace" in item.nodeid or item.path.name in _COMMAND_LINE_ATTACKS:
            item.add_marker(pytest.mark.slow)


_COMMAND_LINE_ATTACKS = {"test_judge_hijack.py", "test_terminal_spoofing.py"}
