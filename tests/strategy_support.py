"""What the strategy tests share: the cases a seeded, generation-only run draws."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.strategies import SearchStrategy

DRAWN = settings(phases=[Phase.generate], database=None, deadline=None, suppress_health_check=list(HealthCheck))


def drawn(strategy: SearchStrategy, examples: int) -> list:
    """What a seeded, generation-only run of ``examples`` examples draws (as a check's first pass does)."""
    found: list = []

    @seed(0)
    @settings(DRAWN, max_examples=examples)
    @given(strategy)
    def collect(value):
        found.append(value)

    collect()
    return found
