"""Mutants of one function: distinct, valid, located, with a unified diff of exactly the planted edit."""

from __future__ import annotations

import inspect
import textwrap

import pytest

from gradharness.errors import GradHarnessError
from gradharness.model import network
from gradharness.mutation.mutants import generate_mutants

REFERENCE = inspect.getsource(network)
LINES = REFERENCE.split("\n")


@pytest.fixture(scope="module")
def mutants():
    return generate_mutants(REFERENCE, "backward_propagation_n", "gradharness/model/network.py")


def test_many_distinct_mutants_of_the_reference(mutants) -> None:
    assert len(mutants) >= 60
    assert len({m.function_source for m in mutants}) == len(mutants)
    assert len({m.id for m in mutants}) == len(mutants)


def test_each_mutant_points_at_its_line_and_diff_shows_only_that_edit(mutants) -> None:
    for mutant in mutants:
        assert LINES[mutant.line - 1][mutant.column - 1 :].startswith(mutant.original.split("\n")[0])
        removed = [x for x in mutant.diff.splitlines() if x.startswith("-") and not x.startswith("---")]
        added = [x for x in mutant.diff.splitlines() if x.startswith("+") and not x.startswith("+++")]
        assert 1 <= len(removed) <= 2 and len(added) == len(removed), mutant.id
        assert mutant.replacement in "\n".join(added), mutant.id


def test_the_seeds_planted_bugs_are_among_the_mutants(mutants) -> None:
    sources = {m.function_source for m in mutants}
    buggy = inspect.getsource(network.backward_propagation_n_buggy)
    dW2 = next(line for line in buggy.splitlines() if line.strip().startswith("dW2"))
    db1 = next(line for line in buggy.splitlines() if line.strip().startswith("db1"))
    assert any(dW2 in s for s in sources)
    assert any(db1 in s for s in sources)


def test_mutants_run_and_change_the_result() -> None:
    import numpy as np

    from gradharness.model.case import seed_test_case

    case = seed_test_case()
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    expected = network.backward_propagation_n(case.X, case.Y, cache)
    changed = 0
    for mutant in generate_mutants(REFERENCE, "backward_propagation_n", "n.py"):
        namespace = dict(vars(network))
        exec(mutant.function_source, namespace)
        try:
            got = namespace["backward_propagation_n"](case.X, case.Y, cache)
        except ValueError:
            changed += 1
            continue
        changed += any(
            np.shape(got[k]) != np.shape(expected[k]) or not np.array_equal(got[k], expected[k]) for k in expected
        )
    assert changed >= 60


def test_missing_function_names_the_functions_there() -> None:
    with pytest.raises(GradHarnessError, match="defines no function nope .*backward_propagation_n"):
        generate_mutants(REFERENCE, "nope", "gradharness/model/network.py")


def test_syntax_error_is_one_line() -> None:
    with pytest.raises(GradHarnessError, match=r"broken.py: syntax error \(line 1\)"):
        generate_mutants("def f(:\n", "f", "broken.py")


def test_only_the_function_is_mutated_and_non_ascii_is_kept() -> None:
    source = textwrap.dedent(
        """
        import numpy as np  # coût
        def other(A1):
            return np.dot(A1, A1.T)
        def backward_propagation_n(X, Y, cache):
            (A1, A2, A3) = cache  # café
            dZ3 = A3 - Y  # naïve
            return {"dZ3": dZ3}
        """
    )
    mutants = generate_mutants(source, "backward_propagation_n", "u.py")
    assert {m.description for m in mutants} == {
        "line 7: A3 - Y -> Y - A3",
        "line 7: A3 - Y -> (A3 - Y) * (A3 * (1 - A3))",
    }
    assert all("# naïve" in m.function_source for m in mutants)
