"""The shrink budget: Hypothesis stops shrinking at a small failing case, and its own limits come back after."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import engine

from gradharness.properties import shrinking
from gradharness.properties.shrinking import ShrinkBudget, hypothesis_engine, shrink_budget

UNLIMITED = ShrinkBudget(shrinks=10_000, small_shrinks=10_000, seconds=3600)


def _shrink_lists(budget: ShrinkBudget | None) -> list[list[int]]:
    """Every call of a test that fails when a list sums over 1000 (a list of at most 2 is small), in order."""
    calls: list[list[int]] = []

    @settings(
        max_examples=200,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
    def sums(values: list[int]) -> None:
        calls.append(list(values))
        if sum(values) > 1000:
            if budget is not None:
                control.failing(small=len(values) <= 2)
            raise AssertionError("too large")

    with shrink_budget(budget or UNLIMITED) as control, pytest.raises(AssertionError):
        sums()
    return calls


def test_a_small_failing_case_ends_the_shrinking_after_the_budgeted_shrinks():
    full = _shrink_lists(None)
    budgeted = _shrink_lists(ShrinkBudget(shrinks=100, small_shrinks=3))
    assert len(budgeted) < len(full)
    assert budgeted[: len(budgeted) - 1] == full[: len(budgeted) - 1]  # the same search, cut short
    reported = budgeted[-1]  # Hypothesis replays the case it reports last
    assert sum(reported) > 1000 and len(reported) <= 2


def test_the_shrinks_limit_holds_whatever_the_case():
    never_small = ShrinkBudget(shrinks=2, small_shrinks=1, max_units=1)
    calls = _shrink_lists(never_small)
    assert len(calls) < len(_shrink_lists(None))
    assert sum(calls[-1]) > 1000


def test_the_engine_limits_are_restored_after_the_block_even_on_an_error():
    before = (engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS)
    with pytest.raises(RuntimeError), shrink_budget(ShrinkBudget(shrinks=7, small_shrinks=2, seconds=1.5)) as control:
        assert control.active
        assert (engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS) == (7, 1.5)
        control.failing(small=True)
        assert engine.MAX_SHRINKS == 2
        control.failing(small=False)
        assert engine.MAX_SHRINKS == 7
        control.failing(small=True)
        control.restart()  # the next Hypothesis run starts from the shrinks limit
        assert engine.MAX_SHRINKS == 7
        raise RuntimeError("inside the block")
    assert (engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS) == before


def test_the_budget_never_raises_a_limit_the_engine_already_has(monkeypatch):
    monkeypatch.setattr(engine, "MAX_SHRINKS", 5)
    monkeypatch.setattr(engine, "MAX_SHRINKING_SECONDS", 2)
    with shrink_budget(ShrinkBudget(shrinks=100, small_shrinks=20, seconds=30)) as control:
        assert (engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS) == (5, 2)
        control.failing(small=False)
        assert engine.MAX_SHRINKS == 5
    assert (engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS) == (5, 2)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda monkeypatch: monkeypatch.setattr(shrinking, "_ENGINE", "hypothesis.no_such_engine"),
        lambda monkeypatch: monkeypatch.delattr(engine, "MAX_SHRINKS"),
        lambda monkeypatch: monkeypatch.setattr(engine, "MAX_SHRINKING_SECONDS", "300"),
        lambda monkeypatch: monkeypatch.setattr(engine, "MAX_SHRINKS", True),
    ],
    ids=["no engine module", "no MAX_SHRINKS", "seconds not a number", "a bool"],
)
def test_another_hypothesis_gets_no_budget_and_nothing_changes(monkeypatch, breakage):
    breakage(monkeypatch)
    before = {name: getattr(engine, name, None) for name in ("MAX_SHRINKS", "MAX_SHRINKING_SECONDS")}
    assert hypothesis_engine() is None
    with shrink_budget() as control:
        assert not control.active
        control.failing(small=True)
        control.restart()
        assert {name: getattr(engine, name, None) for name in before} == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"shrinks": 0}, "shrinks=0 must be a whole number >= 1"),
        ({"small_shrinks": 2.5}, "small_shrinks=2.5 must be a whole number >= 1"),
        ({"max_units": True}, "max_units=True must be a whole number >= 1"),
        ({"max_batch": -1}, "max_batch=-1 must be a whole number >= 1"),
        ({"shrinks": 5, "small_shrinks": 6}, "small_shrinks=6 is larger than shrinks=5"),
        ({"seconds": 0}, "seconds=0 must be a positive number of seconds"),
        ({"seconds": float("nan")}, "seconds=nan must be a positive number of seconds"),
    ],
)
def test_bad_budgets_are_refused_with_the_argument_named(arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ShrinkBudget(**arguments)


def test_small_means_every_layer_and_m_within_the_limits():
    budget = ShrinkBudget(max_units=3, max_batch=3)
    assert budget.is_small((3, 3, 3, 1), 3)
    assert not budget.is_small((4, 1, 1, 1), 1)
    assert not budget.is_small((1, 1, 1, 1), 4)
