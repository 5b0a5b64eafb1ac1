"""Catalogue of the user files under tests/fixtures/user_code/ and what `gradharness check` must say.

Each fixture is a standalone module, as a student or researcher would write it, whose
docstring states what it is and whether its backprop is correct. Exit codes:

* 0 -- every gradient the file defines is correct;
* 1 -- a finding about the user's code (a wrong, NaN or mis-shaped gradient, an
  exception raised by their backward pass, their code modifying its inputs);
* 2 -- the file could not be checked (does not parse or import, exits while
  loading, defines none of the exercise's functions, hangs, or kills the process).
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "user_code"

ALL_BLOCKS: frozenset[str] = frozenset({"dW1", "db1", "dW2", "db2", "dW3", "db3"})

EXPECTED_EXIT: dict[str, int] = {
    # correct implementations
    "correct_seed_style.py": 0,
    "correct_z_mask.py": 0,
    "correct_list_cache.py": 0,
    "correct_einsum.py": 0,
    "correct_1d_only.py": 0,
    "correct_extra_keys.py": 0,
    # wrong gradients
    "buggy_seed.py": 1,
    "buggy_bias_all_axes.py": 1,
    "buggy_cost_mean_all.py": 1,
    "buggy_transpose_square.py": 1,
    "buggy_m_wrong_axis.py": 1,
    "buggy_sign.py": 1,
    "buggy_1d.py": 1,
    "buggy_small_scale.py": 1,
    "buggy_shape_only_m1.py": 1,
    # files that cannot be checked
    "bad_syntax.py": 2,
    "bad_no_functions.py": 2,
    "bad_import.py": 2,
    "bad_sys_exit.py": 2,
    "hang_backward.py": 2,
    "crash_os_exit.py": 2,
    # misbehaving code that is still a finding about the user's code
    "raises_backward.py": 1,
    "nan_gradient.py": 1,
    "wrong_shape.py": 1,
    "mutates_input.py": 1,
}

# The gradient blocks that are wrong, on networks where the bug shows (see BUG_HIDES_WHEN).
# "dtheta" is the seed's name for the 1-D model's gradient.
EXPECTED_WRONG_BLOCKS: dict[str, set[str]] = {
    "buggy_seed.py": {"dW2", "db1"},
    "buggy_bias_all_axes.py": {"db2"},
    "buggy_transpose_square.py": {"dW2"},
    "buggy_m_wrong_axis.py": set(ALL_BLOCKS),
    "buggy_sign.py": set(ALL_BLOCKS),
    "buggy_1d.py": {"dtheta"},
    "buggy_small_scale.py": {"dW3"},
    "buggy_shape_only_m1.py": {"db3"},
    "nan_gradient.py": {"dW1"},  # NaN entries
    "wrong_shape.py": {"db1"},  # shape (n1,) instead of (n1, 1); values right
}

# Forward passes that do not compute the network's cost: what the finding says.
EXPECTED_FORWARD_WRONG: dict[str, str] = {
    "buggy_cost_mean_all.py": "times smaller: is it averaged over the output units too?",
}

# Parameters the user's backward pass modifies in place (its gradients are correct).
EXPECTED_MUTATED: dict[str, set[str]] = {
    "mutates_input.py": {"W1"},
}

# When each bug is invisible: a checker that only draws such cases passes the file.
# Besides these, any bug hides when the block it touches is exactly zero -- a dead
# ReLU layer zeroes dW1/db1 (and dW2/db2 when it is layer 2). That is common on
# small random networks: on 200 draws (sizes 1..6, m 1..8, weights ~ N(0, 1/fan_in))
# buggy_seed.py agreed with the numerical gradient on 29 for that reason alone, and
# mutates_input.py left W1 unchanged on 29 (dW1 == 0).
BUG_HIDES_WHEN: dict[str, str] = {
    "buggy_seed.py": "only when dW2 and db1 are both zero (dead ReLU layer)",
    "buggy_bias_all_axes.py": "n2 == 1 (db2 is (1, 1) and equal to the per-unit sum)",
    "buggy_cost_mean_all.py": "n3 == 1 (mean over n3 * m entries equals the mean over m)",
    "buggy_transpose_square.py": "n1 == n2 == 1; for n1 == n2 > 1 the shape is right but the values wrong",
    "buggy_m_wrong_axis.py": "n0 == m (X.shape[0] == X.shape[1])",
    "buggy_sign.py": "only when the whole gradient is zero",
    "buggy_1d.py": "theta == x",
    "buggy_small_scale.py": "dW3 ~ 0, or a tolerance of ~5e-7 or looser on the dW3 block (1e-6 misses it)",
    "buggy_shape_only_m1.py": "m == 1 (dZ3 then already has shape (n3, 1))",
    "mutates_input.py": "dW1 == 0 (dead first layer: the in-place step changes nothing)",
}
