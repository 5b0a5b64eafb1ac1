"""The evaluator's generic requests for targets (``call``, ``perturbed``) and the judge's stand-ins for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradharness.check.program import Call, Output, Varied, perturbed_results
from gradharness.isolation.evaluator import Session
from gradharness.isolation.values import decode_value, encode_value
from gradharness.settings import FunctionNames

FILE = """
import numpy as np

def L_model_forward(X, parameters):
    A = X
    caches = []
    L = len(parameters) // 2
    for l in range(1, L + 1):
        Z = parameters["W" + str(l)] @ A + parameters["b" + str(l)]
        caches.append((A, parameters["W" + str(l)], Z))
        A = np.maximum(Z, 0) if l < L else 1 / (1 + np.exp(-Z))
    return A, caches

def compute_cost(AL, Y):
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / Y.shape[1])

def L_model_backward(AL, Y, caches):
    caches[0][1][0, 0] += 1.0  # writes into W1 through its cache
    return {"dW1": np.zeros((1, 1))}

def linear_backward(dZ, cache):
    dZ *= 2  # modifies its upstream gradient
    return cache
"""


@pytest.fixture()
def session(tmp_path: Path) -> Session:
    path = tmp_path / "deep_file.py"
    path.write_text(FILE, encoding="utf-8")
    session = Session(path, FunctionNames())
    hello = session.answer({"call": "hello"})
    assert set(hello["targets"]["deep"]) == {"L_model_forward", "compute_cost", "L_model_backward", "linear_backward"}
    return session


def _case() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    parameters = {
        "W1": rng.normal(size=(3, 2)),
        "b1": np.zeros((3, 1)),
        "W2": rng.normal(size=(1, 3)),
        "b2": np.ones((1, 1)),
    }
    return rng.normal(size=(2, 4)), np.array([[1.0, 0.0, 1.0, 0.0]]), parameters


def test_a_held_cache_stays_in_the_evaluator_and_changes_through_it_are_reported(session: Session) -> None:
    X, Y, parameters = _case()
    W1 = parameters["W1"].copy()  # in this process the session's arrays are the test's own
    reply = session.answer(
        {
            "call": "call",
            "function": "L_model_forward",
            "arguments": [encode_value(X), encode_value(parameters)],
            "hold": [1],
        }
    )
    AL, cache = decode_value(reply["returned"])
    assert cache is None and AL.shape == (1, 4) and reply["changed"] == {}
    held = reply["held"]["1"]
    back = session.answer(
        {
            "call": "call",
            "function": "L_model_backward",
            "arguments": [encode_value(AL), encode_value(Y), {"$held": held}],
        }
    )
    changed = {key: decode_value(value) for key, value in back["changed"].items()}
    assert list(changed) == [f"held:{held}:1"]  # the parameters of the forward call that made the cache
    assert changed[f"held:{held}:1"]["W1"][0, 0] == pytest.approx(W1[0, 0] + 1.0)


def test_a_call_that_modifies_its_argument_says_so(session: Session) -> None:
    dZ = np.ones((2, 2))
    reply = session.answer(
        {"call": "call", "function": "linear_backward", "arguments": [encode_value(dZ), encode_value(None)]}
    )
    assert np.array_equal(decode_value(reply["changed"]["0"]), np.full((2, 2), 2.0))


def test_only_a_target_function_can_be_called_by_name(session: Session) -> None:
    reply = session.answer({"call": "call", "function": "np", "arguments": []})
    assert reply["raised"]["type"] == "LookupError"


def test_perturbed_program_gives_what_the_same_loop_gives_in_this_process(session: Session) -> None:
    X, Y, parameters = _case()
    steps = np.full(3, 1e-6)
    reply = session.answer({
        "call": "perturbed",
        "program": [
            {"function": "L_model_forward", "arguments": [encode_value(X), encode_value(parameters)]},
            {"function": "compute_cost", "arguments": [{"$output": [0, 0]}, encode_value(Y)]},
        ],
        "groups": [{"argument": [1, "W1"], "indices": np.arange(3), "steps": steps}, {"argument": [0, None], "indices": np.array([5]), "steps": steps[:1]}],
        "result": [1, None],
    })  # fmt: skip
    module: dict = {}
    exec(FILE, module)
    functions = {name: module[name] for name in ("L_model_forward", "compute_cost")}
    program = [Call("L_model_forward", (X, parameters)), Call("compute_cost", (Output(0, 0), Y))]
    groups = [Varied(1, "W1", np.arange(3), steps), Varied(0, None, np.array([5]), steps[:1])]
    expected = perturbed_results(functions, program, groups, Output(1))
    for (plus, minus), answered in zip(expected, reply["results"], strict=True):
        assert np.array_equal(plus, answered[0]) and np.array_equal(minus, answered[1])
    # The centred difference of the cost in W1[0, 0] is its derivative.
    (plus, minus), _ = expected
    assert plus[0] != minus[0]


def test_perturbed_program_leaves_the_base_arguments_alone() -> None:
    X, Y, parameters = _case()
    before = {k: v.copy() for k, v in parameters.items()}

    def forward(X: np.ndarray, parameters: dict) -> np.ndarray:
        parameters["W1"] += 1.0  # a forward that writes into its parameters sees fresh copies each call
        return parameters["W1"].sum() + X.sum()

    results = perturbed_results(
        {"f": forward}, [Call("f", (X, parameters))], [Varied(1, "W1", np.arange(2), np.full(2, 0.5))], Output(0)
    )
    assert all(np.array_equal(before[k], parameters[k]) for k in parameters)
    plus, minus = results[0]
    assert np.allclose(plus - minus, 1.0)


def test_a_result_that_is_not_a_number_is_nan() -> None:
    results = perturbed_results(
        {"f": lambda x: "0.5"}, [Call("f", (np.zeros(2),))], [Varied(0, None, np.arange(1), np.ones(1))], Output(0)
    )
    assert np.isnan(results[0][0]).all()


def test_a_seeded_program_draws_the_same_masks_at_every_perturbed_point() -> None:
    def forward(X: np.ndarray, keep_prob: float) -> float:
        mask = np.random.rand(*X.shape) < keep_prob  # the dropout exercise's masks, from numpy's global generator
        return float(np.sum(X * mask) / keep_prob)

    X = np.ones((3, 4))
    seeded = perturbed_results(
        {"f": forward}, [Call("f", (X, 0.5), seed=11)], [Varied(0, None, np.arange(12), np.full(12, 0.25))], Output(0)
    )
    plus, minus = seeded[0]
    derivative = (plus - minus) / 0.5
    np.random.seed(11)
    expected = (np.random.rand(3, 4) < 0.5).reshape(-1) / 0.5
    assert np.allclose(derivative, expected)
    unseeded = perturbed_results(
        {"f": forward}, [Call("f", (X, 0.5))], [Varied(0, None, np.arange(12), np.full(12, 0.25))], Output(0)
    )
    assert not np.allclose((unseeded[0][0] - unseeded[0][1]) / 0.5, expected)


def test_the_evaluator_seeds_numpy_before_a_seeded_call(tmp_path: Path) -> None:
    path = tmp_path / "draws.py"
    path.write_text(
        "import numpy as np\n\ndef linear_backward(dZ, cache):\n    return np.random.rand(2)\n", encoding="utf-8"
    )
    session = Session(path, FunctionNames())
    session.answer({"call": "hello"})
    message = {
        "call": "call",
        "function": "linear_backward",
        "arguments": [encode_value(None), encode_value(None)],
        "seed": 5,
    }
    first, second = (decode_value(session.answer(message)["returned"]) for _ in range(2))
    np.random.seed(5)
    assert np.array_equal(first, second) and np.array_equal(first, np.random.rand(2))
