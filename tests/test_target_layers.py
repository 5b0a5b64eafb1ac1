"""The ``layers`` target on CS231n-style files (tests/fixtures/user_code/layers/): every pair judged on its own.

Correct files pass (both ReLU conventions at 0, max-pool ties given to either entry); stubs are reported as not
implemented and not checked; each planted mistake (tests/layers_mistakes.py) fails its function's agreement,
naming the wrong gradient, on a small case; the contract (determinism, no side effects, zero dout, no views)
fails on backwards made to break it, in this process and through the evaluator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from layers_mistakes import CORRECT_LAYERS, LAYERS, MISTAKES
from mistakes import made_file
from tiers import quick_first

from gradharness.judge.checks import check_file
from gradharness.judge.expected import stub_functions
from gradharness.model.layer_table import BACKWARD_OF
from gradharness.records.check import CheckRecord, PropertyStatus
from gradharness.records.verdict import RunVerdict
from gradharness.settings import IsolationSettings, RunSettings
from gradharness.targets.layers.functions import LAYERS_SPEC
from strategies.layers import layer_cases

IN_PROCESS = IsolationSettings(level="none")
EVERY_PART = {part.name for part in LAYERS_SPEC.parts}
MADE: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def _mistakes(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("layers")
    MADE.update({name: made_file(name, mistake, folder) for name, mistake in MISTAKES.items()})


def _check(path: Path, seed: int = 0, isolation: IsolationSettings = IN_PROCESS, examples: int = 25) -> CheckRecord:
    return check_file(path, RunSettings(seed=seed, max_examples=examples, target="layers"), isolation=isolation)


def _parts_checked(record: CheckRecord) -> set[str]:
    return {p.name.lower() for p in record.properties if not p.name.endswith("_CONTRACT")}


@pytest.mark.parametrize("seed", quick_first([0, 7], 1))
def test_a_correct_layers_file_passes_every_part(seed: int) -> None:
    record = _check(CORRECT_LAYERS, seed)
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert _parts_checked(record) == EVERY_PART
    assert all(p.status is PropertyStatus.PASSED and p.examples > 0 for p in record.properties)
    assert {p.target for p in record.properties} == {"layers"}


@pytest.mark.slow
def test_the_other_relu_convention_and_the_last_of_tied_maxima_pass() -> None:
    record = _check(LAYERS / "correct_relu_ge.py", 3, examples=60)
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert {"relu_backward", "max_pool_backward_naive"} <= _parts_checked(record)
    assert record.diagnoses.get("kink", 0) > 0  # planted zeros and ties were drawn, and set aside


def test_stubs_are_reported_as_not_implemented_and_the_rest_is_checked() -> None:
    path = LAYERS / "correct_with_stubs.py"
    assert {"batchnorm_backward", "conv_forward_naive", "conv_backward_naive", "dropout_backward"} <= stub_functions(
        path
    )
    record = _check(path, 1)
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert _parts_checked(record) == {"affine_backward", "relu_backward"}
    not_checked = " ".join(record.target.get("not_checked", []))
    for part in ("batchnorm_backward", "dropout_backward", "conv_backward_naive"):
        assert f"the layers target's {part}: not implemented" in not_checked


def test_no_finished_function_and_no_planted_mistake_reads_as_a_stub(tmp_path: Path) -> None:
    assert stub_functions(CORRECT_LAYERS) == set()
    for name, mistake in MISTAKES.items():
        assert stub_functions(made_file(name, mistake, tmp_path)) == set(), name


def test_what_reads_as_a_stub(tmp_path: Path) -> None:
    path = tmp_path / "stubs.py"
    path.write_text(
        "def identity(x):\n    return x\n"
        "def passes(x):\n    pass\n"
        "def raises(x):\n    raise NotImplementedError('todo')\n"
        "def skeleton(x, w, b):\n    out = None\n    pass\n    cache = (x, w, b)\n    return out, cache\n"
        "def ellipsis(x):\n    ...\n"
        "def branches(dout, cache):\n    p, mask = cache\n    dx = None\n    if p['mode'] == 'train':\n"
        "        pass\n    else:\n        dx = dout\n    return dx\n"
        "def computes(x):\n    pass\n    return x * 2\n",
        encoding="utf-8",
    )
    assert stub_functions(path) == {"passes", "raises", "skeleton", "ellipsis", "branches"}


# mistake -> (the function whose agreement fails, a gradient its failure names, the functions built on it)
EXPECTED = {
    "buggy_affine_db_mean.py": ("affine_backward", "db", {"affine_relu_backward"}),
    "buggy_affine_dx_transposed.py": ("affine_backward", "dx", {"affine_relu_backward"}),
    "buggy_relu_mask_dout.py": ("relu_backward", "dx", {"affine_relu_backward"}),
    "buggy_svm_correct_class_missing.py": ("svm_loss", "dx", set()),
    "buggy_softmax_not_over_n.py": ("softmax_loss", "dx", set()),
    "buggy_batchnorm_mean_term_missing.py": ("batchnorm_backward", "dx", {"spatial_batchnorm_backward"}),
    "buggy_batchnorm_alt_scalar_sum.py": ("batchnorm_backward_alt", "dx", {"spatial_batchnorm_backward"}),
    "buggy_layernorm_wrong_axis.py": ("layernorm_backward", "dx", set()),
    "buggy_dropout_mask_missing.py": ("dropout_backward", "dx", set()),
    "buggy_conv_crop_negative_pad.py": ("conv_backward_naive", "dx", set()),
    "buggy_maxpool_assign.py": ("max_pool_backward_naive", "dx", set()),
    "buggy_groupnorm_dgamma_axes.py": ("spatial_groupnorm_backward", "dgamma", set()),
}


def test_every_mistake_of_the_table_has_its_expectation() -> None:
    assert set(EXPECTED) == set(MISTAKES)


@pytest.mark.parametrize(
    ("name", "expected"),
    quick_first(sorted(EXPECTED.items(), key=lambda item: item[0] != "buggy_softmax_not_over_n.py"), 1),
)
def test_each_mistake_fails_its_function_naming_the_wrong_gradient_on_a_small_case(name: str, expected: tuple) -> None:
    function, gradient, built_on = expected
    record = _check(MADE[name], 2, examples=40)
    assert record.verdict is RunVerdict.FAIL
    failed = {f.property for f in record.failures}
    assert function.upper() in failed, [f.message for f in record.failures]
    layer = BACKWARD_OF[function]
    # a mistake in a function others call (affine_backward in affine_relu_backward) may fail those too
    assert failed <= {f.upper() for f in {function, *built_on}}, failed
    (failure,) = [f for f in record.failures if f.property == function.upper()]
    assert gradient in failure.message
    assert failure.case_description and failure.case_description.startswith(layer.name)
    assert all(max(np.shape(np.asarray(v)), default=1) <= 4 for v in failure.case["arrays"].values())


BREAKS = {
    "writes_dout": ("    dx = dout * (x > 0)\n", "    dout *= (x > 0)\n    dx = dout.copy()\n", "dout was modified"),
    "returns_dout": ("    dx = dout * (x > 0)\n", "    dx = dout\n    dx *= (x > 0)\n", "dout"),
    "random": (
        "    dx = dout * (x > 0)\n", "    dx = dout * (x > 0) * (1 + 1e-9 * np.random.rand())\n", "called again",
    ),
}  # fmt: skip


def _relu_only(tmp_path: Path, old: str, new: str) -> Path:
    source = (LAYERS / "correct_relu_ge.py").read_text(encoding="utf-8")
    source = source.replace("    dx = dout * (x >= 0)\n", "    dx = dout * (x > 0)\n")
    assert source.count(old) == 1
    path = tmp_path / "relu.py"
    path.write_text(source.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", quick_first(sorted(BREAKS), 1))
def test_a_backward_that_breaks_the_contract_fails_the_contract(tmp_path: Path, name: str) -> None:
    old, new, said = BREAKS[name]
    record = _check(_relu_only(tmp_path, old, new), 1)
    failed = {f.property: f.message for f in record.failures}
    assert "RELU_BACKWARD_CONTRACT" in failed, failed
    assert said in failed["RELU_BACKWARD_CONTRACT"]


def test_a_gradient_that_is_a_view_of_an_input_fails_the_contract(tmp_path: Path) -> None:
    old = "    dx = dout * (x > 0)\n"
    path = _relu_only(tmp_path, old, "    dx = np.where(x > 0, dout, 0.0) if (x <= 0).any() else dout\n")
    record = _check(path, 1)
    failed = {f.property: f.message for f in record.failures}
    assert "view of dout" in failed.get("RELU_BACKWARD_CONTRACT", ""), failed


@pytest.mark.slow
def test_through_the_evaluator_a_correct_file_passes_and_a_view_is_seen(tmp_path: Path) -> None:
    jailed = IsolationSettings(level="process")
    record = _check(CORRECT_LAYERS, 4, jailed, examples=8)
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert _parts_checked(record) == EVERY_PART
    path = _relu_only(tmp_path, "    dx = dout * (x > 0)\n", "    dx = dout if (x > 0).all() else dout * (x > 0)\n")
    viewed = _check(path, 1, jailed)
    failed = {f.property: f.message for f in viewed.failures}
    assert "view of dout" in failed.get("RELU_BACKWARD_CONTRACT", ""), failed
    mistake = _check(MADE["buggy_maxpool_assign.py"], 2, jailed, examples=40)
    assert "MAX_POOL_BACKWARD_NAIVE" in {f.property for f in mistake.failures}


# -- what the strategies draw ----------------------------------------------------------------------------------


def _drawn(layer: str, count: int = 150) -> list:
    seen = []

    @settings(
        max_examples=count, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(layer_cases(layer))
    def collect(case) -> None:
        seen.append(case)

    collect()
    return seen


def test_convolutions_are_drawn_with_pad_zero_and_strides_above_one_and_shapes_that_tile() -> None:
    cases = _drawn("conv")
    params = [c.params["conv_param"] for c in cases]
    assert any(p["pad"] == 0 and p["stride"] > 1 for p in params)
    assert any(p["pad"] > 0 for p in params)
    for case in cases:
        x, w, dout = case.arrays["x"], case.arrays["w"], case.arrays["dout"]
        pad, stride = case.params["conv_param"]["pad"], case.params["conv_param"]["stride"]
        assert (x.shape[2] + 2 * pad - w.shape[2]) % stride == 0 and (x.shape[3] + 2 * pad - w.shape[3]) % stride == 0
        assert dout.shape[:2] == (x.shape[0], w.shape[0]) and np.all(dout != 0)


@pytest.mark.slow
def test_pools_are_drawn_with_overlapping_windows_ties_and_a_batch_of_one() -> None:
    cases = _drawn("max_pool", 300)
    pools = [c.params["pool_param"] for c in cases]
    assert any(p["stride"] < max(p["pool_height"], p["pool_width"]) for p in pools)
    assert any(c.arrays["x"].shape[0] == 1 for c in cases)
    from gradharness.model.layer_table import pool_windows

    def tied(case) -> bool:
        windows = pool_windows(case.arrays["x"], case.params["pool_param"])
        top = np.sort(windows, axis=-1)
        return windows.shape[-1] > 1 and bool(np.any(top[..., -1] == top[..., -2]))

    assert 0 < sum(map(tied, cases)) < len(cases) / 4


@pytest.mark.slow
def test_group_norm_draws_groups_that_divide_the_channels_and_batch_norm_a_batch_of_three_or_more() -> None:
    assert all(c.arrays["x"].shape[1] % c.params["G"] == 0 for c in _drawn("spatial_groupnorm"))
    assert all(c.arrays["x"].shape[0] >= 3 for c in _drawn("batchnorm"))
    groups = _drawn("spatial_groupnorm")
    assert all(c.arrays["x"].shape[1] // c.params["G"] * c.arrays["x"][0, 0].size >= 3 for c in groups)


def test_an_unknown_layer_is_refused() -> None:
    from hypothesis.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="the layers are"):
        layer_cases("convolution")


@pytest.mark.parametrize(
    ("new", "kind", "said"),
    [
        ("    raise RuntimeError('boom')\n", "crashed", "relu_backward raised RuntimeError: boom"),
        ("    return 'dx'\n", "malformed", "dx is"),
        ("    return dout * np.nan\n", "nonfinite", "dx["),
    ],
)
def test_a_backward_that_raises_or_returns_junk_is_a_finding_of_its_part(
    tmp_path: Path, new: str, kind: str, said: str
) -> None:
    path = _relu_only(tmp_path, "    dx = dout * (x > 0)\n", new + "    dx = dout * (x > 0)\n")
    record = _check(path, 1)
    assert record.verdict is RunVerdict.FAIL and record.error is None
    (failure,) = [f for f in record.failures if f.property == "RELU_BACKWARD"]
    assert failure.kind.value == kind and said in failure.message, failure.message
    assert "AFFINE_BACKWARD" not in {f.property for f in record.failures}  # the other parts are judged on their own
