"""RunSettings to and from plain JSON, for the worker's job file and the results' settings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from gradharness.settings import CheckOptions, RunSettings, StrategyOptions


def run_settings_to_json(run: RunSettings) -> dict[str, Any]:
    """Plain dict of every setting."""
    return asdict(run)


def run_settings_from_json(data: dict[str, Any]) -> RunSettings:
    """Inverse of :func:`run_settings_to_json`."""
    return RunSettings(
        seed=int(data["seed"]),
        max_examples=int(data["max_examples"]),
        check=CheckOptions(**data["check"]),
        strategy=StrategyOptions(**data["strategy"]),
    )
