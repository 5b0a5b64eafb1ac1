"""mutmut's test suite: the project's network properties on the reference backward pass, under Hypothesis.

mutmut runs this file (see ``[tool.mutmut]`` in pyproject.toml) against each of its
mutants of :func:`gradharness.model.network.backward_propagation_n`. The Hypothesis profile
suits mutation runs: no deadline (mutmut's trampolines slow numpy code down), no
shrinking (a kill is all mutmut records), and the example database kept, so a case
that killed one mutant is replayed first against the next.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from gradharness.model import network
from gradharness.properties.properties import NetworkFunctions, check_network_case
from gradharness.settings import CheckOptions
from strategies import network_cases

EXAMPLES_VARIABLE = "GRADHARNESS_MUTMUT_EXAMPLES"
"""Environment variable: generated cases per mutant (default 100, as ``gradharness check``)."""


def mutation_profile(name: str, examples: int, database: str) -> settings:
    """Register and return the Hypothesis profile ``name`` of a mutation run: ``examples`` cases per mutant (unless
    :data:`EXAMPLES_VARIABLE` says otherwise), no deadline, no shrinking, the example database kept in
    ``.hypothesis/<database>`` of the folder mutmut runs in."""
    settings.register_profile(
        name,
        max_examples=int(os.environ.get(EXAMPLES_VARIABLE, str(examples))),
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        database=DirectoryBasedExampleDatabase(os.path.join(os.getcwd(), ".hypothesis", database)),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    return settings.get_profile(name)


PROFILE = mutation_profile("gradharness-mutation", 100, "mutmut")


@settings(PROFILE)
@given(case=network_cases())
def test_reference_backward_properties(case) -> None:
    """Every network property holds for the reference backward pass (looked up at call time: mutmut swaps it)."""
    functions = NetworkFunctions(network.forward_propagation_n, network.backward_propagation_n, builtin=True)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check_network_case(functions, case, CheckOptions())
