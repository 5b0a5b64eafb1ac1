"""Loading the files people really have: missing modules, helpers nothing defines, renamed functions.

Each file below is written the way a public copy of the exercise is: a notebook export or a
script that imports the course's other helper modules, relies on an earlier notebook's
environment, or names its network functions its own way.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gradharness.errors import Interrupt, UserCodeError
from gradharness.model import network
from gradharness.settings import FunctionNames
from gradharness.usercode.loader import LoadedFile, load_user_file
from gradharness.usercode.shims import gc_utils as shim


@pytest.fixture(autouse=True)
def isolated_imports():
    """Loading a user file registers modules and a sys.path entry; undo that after each test."""
    modules, path = dict(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - set(modules):
        del sys.modules[name]
    sys.modules.update(modules)
    sys.path[:] = path


class _NotInstalled:
    """A meta path finder that makes packages look uninstalled, whatever this machine has."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname.split('.')[0]!r}", name=fullname.split(".")[0])
        return None


@pytest.fixture(autouse=True)
def without_sklearn(monkeypatch: pytest.MonkeyPatch):
    """scikit-learn stands for a package a student's laptop has and the grader's has not."""
    for name in [n for n in sys.modules if n == "sklearn" or n.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NotInstalled("sklearn"), *sys.meta_path])


# The exercise's network, written as students write it: relu and sigmoid called by name.
FORWARD = """
def forward_propagation_n(X, Y, parameters):
    m = X.shape[1]
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1. / m * np.sum(logprobs)
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return cost, cache
"""

BACKWARD = """
def backward_propagation_n(X, Y, cache):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}
"""

CHECKER = """
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    num_parameters = parameters_values.shape[0]
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        thetaplus = np.copy(parameters_values)
        thetaplus[i] = thetaplus[i] + epsilon
        J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        thetaminus = np.copy(parameters_values)
        thetaminus[i] = thetaminus[i] - epsilon
        J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return numerator / denominator
"""

HELPERS = """
def relu(x):
    return np.maximum(0, x)

def sigmoid(x):
    return 1 / (1 + np.exp(-x))
"""

ONE_D = """
def forward_propagation(x, theta):
    J = theta * x
    return J

def backward_propagation(x, theta):
    dtheta = x
    return dtheta
"""


def write(tmp_path: Path, name: str, *parts: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(textwrap.dedent(part).strip("\n") + "\n" for part in parts), encoding="utf-8")
    return path


def exercise_case(seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    sizes = (4, 5, 3, 1)
    parameters = {}
    for layer in range(1, 4):
        parameters[f"W{layer}"] = rng.standard_normal((sizes[layer], sizes[layer - 1]))
        parameters[f"b{layer}"] = rng.standard_normal((sizes[layer], 1))
    return rng.standard_normal((4, 3)), np.array([[1.0, 0.0, 1.0]]), parameters


def assert_network_is_the_exercises(loaded: LoadedFile) -> None:
    """The loaded pair runs and computes the reference network's cost and gradients."""
    assert loaded.found.network is not None
    forward, backward = loaded.found.network
    X, Y, parameters = exercise_case()
    cost, cache = forward(X, Y, parameters)
    expected_cost, expected_cache = network.forward_propagation_n(X, Y, parameters)
    assert cost == pytest.approx(expected_cost, rel=1e-12)
    expected = network.backward_propagation_n(X, Y, expected_cache)
    gradients = backward(X, Y, cache)
    for name in ("dW1", "db1", "dW2", "db2", "dW3", "db3"):
        np.testing.assert_allclose(gradients[name], expected[name], rtol=1e-12)


def one_line_error(path: Path, names: FunctionNames | None = None) -> str:
    with pytest.raises(UserCodeError) as caught:
        load_user_file(path, names)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- a module-level import of a missing module ---------------------------------------------------


def test_imports_the_checked_functions_never_use_are_skipped_with_one_note(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Gradient_Checking_v2a.py",
        """
        import numpy as np
        import sklearn
        import sklearn.datasets
        from init_utils import sigmoid as init_sigmoid, load_dataset
        from reg_utils import compute_cost, predict
        from planar_utils import *
        import testCases
        import some_course_module_xyz
        train_X, train_Y, test_X, test_Y = load_dataset()
        np.random.seed(1)
        assert train_X.shape == (2, 300)
        """,
        HELPERS,
        FORWARD,
        BACKWARD,
        CHECKER,
        "from gc_utils import dictionary_to_vector, vector_to_dictionary, gradients_to_vector",
    )
    loaded = load_user_file(path)
    assert_network_is_the_exercises(loaded)
    assert loaded.found.checker is not None
    [note] = [n for n in loaded.notes if "module-level code failed" in n]
    assert note.startswith(
        "module-level code failed and was skipped, function definitions loaded: "
        "line 2: ModuleNotFoundError: No module named 'sklearn'; 8 more failed"
    )
    assert note.endswith(
        "(imports not used by the checked functions: init_utils, planar_utils, reg_utils, sklearn, "
        "some_course_module_xyz, testCases)"
    )
    imports = [f for f in loaded.skipped if f.is_import]
    assert [f.binds for f in imports][:4] == [("sklearn",), ("sklearn",), ("init_sigmoid", "load_dataset"), ("compute_cost", "predict")]  # fmt: skip
    assert [f.star for f in imports] == [False] * 4 + [True] + [False] * 2
    assert loaded.not_checked == []


def test_a_failed_import_of_a_name_the_file_defines_later_does_not_matter(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "student.py",
        "import numpy as np\nfrom utils import relu, sigmoid\n",
        HELPERS,
        FORWARD,
        BACKWARD,
    )
    loaded = load_user_file(path)
    assert_network_is_the_exercises(loaded)
    assert loaded.module.relu.__code__.co_filename == str(path.resolve())
    assert not any("gc_utils" in n for n in loaded.notes)


def test_a_time_limit_raised_while_loading_is_not_skipped_as_failed_module_code(tmp_path: Path) -> None:
    (tmp_path / "slow_setup.py").write_text("from gradharness.errors import Interrupt\nraise Interrupt('time limit')\n")
    path = write(tmp_path, "student.py", "import numpy as np\nimport slow_setup", ONE_D)
    with pytest.raises(Interrupt):
        load_user_file(path)


# --- a missing module a checked function uses -----------------------------------------------------


@pytest.mark.parametrize(
    ("imports", "use", "expected"),
    [
        (
            "import sklearn.linear_model",
            "sklearn.linear_model.LogisticRegression()",
            "student.py: forward_propagation_n uses sklearn, bound by line 2 (import sklearn.linear_model), which "
            "failed (ModuleNotFoundError: No module named 'sklearn'): install sklearn (pip install scikit-learn)",
        ),
        (
            "from init_utils import compute_loss, load_dataset",
            "compute_loss(A3, Y)",
            "student.py: forward_propagation_n uses compute_loss, bound by line 2 (from init_utils import "
            "compute_loss, load_dataset), which failed (ModuleNotFoundError: No module named 'init_utils'): "
            "put init_utils.py beside the file, or install the package that provides init_utils",
        ),
        (
            "import reg_utils as ru",
            "ru.compute_cost(A3, Y)",
            "student.py: forward_propagation_n uses ru, bound by line 2 (import reg_utils as ru), which failed "
            "(ModuleNotFoundError: No module named 'reg_utils'): put reg_utils.py beside the file, or install the "
            "package that provides reg_utils",
        ),
        (
            "from planar_utils import *",
            "linear_activation_cost(A3, Y)",
            "student.py: forward_propagation_n uses linear_activation_cost, which nothing in the file defines: "
            "line 2 (from planar_utils import *) would supply it, but failed (ModuleNotFoundError: No module named "
            "'planar_utils'): put planar_utils.py beside the file, or install the package that provides planar_utils",
        ),
    ],
)
def test_a_missing_module_a_checked_function_uses_is_a_one_line_error_naming_the_remedy(
    tmp_path: Path, imports: str, use: str, expected: str
) -> None:
    forward = FORWARD.replace("    cache = (Z1,", f"    unused = {use}\n    cache = (Z1,")
    path = write(tmp_path, "student.py", "import numpy as np\n" + imports, HELPERS, forward, BACKWARD)
    assert one_line_error(path) == expected


def test_a_name_used_through_the_files_own_helper_function_counts(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "student.py",
        """
        import numpy as np
        from testCases import *

        def relu_grad(dA, Z):
            return relu_backward(dA, Z)
        """,
        HELPERS,
        FORWARD,
        BACKWARD.replace("dZ2 = np.multiply(dA2, np.int64(A2 > 0))", "dZ2 = relu_grad(dA2, Z2)"),
    )
    message = one_line_error(path)
    assert message.startswith("student.py: backward_propagation_n uses relu_backward, which nothing in the file")
    assert "line 2 (from testCases import *)" in message and "put testCases.py beside the file" in message


def test_the_files_own_checker_using_a_missing_module_is_an_error(tmp_path: Path) -> None:
    checker = CHECKER.replace("    numerator =", "    print_table(gradapprox)\n    numerator =")
    path = write(
        tmp_path,
        "student.py",
        "import numpy as np\nfrom gc_utils import *\nfrom public_tests import print_table",
        HELPERS,
        FORWARD,
        BACKWARD,
        checker,
    )
    assert one_line_error(path).startswith(
        "student.py: gradient_check_n uses print_table, bound by line 3 (from public_tests import print_table)"
    )


def test_a_helper_beside_the_file_that_needs_a_missing_package_names_the_package(tmp_path: Path) -> None:
    (tmp_path / "init_utils.py").write_text("import sklearn.datasets\n\ndef compute_loss(a3, Y):\n    return 0.0\n")
    path = write(
        tmp_path,
        "student.py",
        "import numpy as np\nimport init_utils",
        HELPERS,
        FORWARD.replace("    cost = 1. / m", "    cost = init_utils.compute_loss(A3, Y) + 1. / m"),
        BACKWARD,
    )
    message = one_line_error(path)
    assert "uses init_utils, bound by line 2 (import init_utils)" in message
    assert message.endswith(
        "(ModuleNotFoundError: No module named 'sklearn'): install sklearn (pip install scikit-learn)"
    )


def test_a_failed_import_that_is_not_a_missing_module_gives_its_error_without_a_remedy(tmp_path: Path) -> None:
    (tmp_path / "utils.py").write_text("def load_dataset():\n    return None\n")
    path = write(
        tmp_path,
        "student.py",
        "import numpy as np\nfrom utils import load_dataset, cross_entropy",
        HELPERS,
        FORWARD.replace("    cost = 1. / m * np.sum(logprobs)", "    cost = cross_entropy(A3, Y)"),
        BACKWARD,
    )
    message = one_line_error(path)
    assert (
        "uses cross_entropy, bound by line 2 (from utils import load_dataset, cross_entropy), which failed" in message
    )
    assert message.endswith("(ImportError: cannot import name 'cross_entropy' from 'utils' (" + str(tmp_path / "utils.py") + "))")  # fmt: skip


def test_other_failed_module_code_a_checked_function_depends_on_is_still_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "student.py",
        "import numpy as np\nimport sklearn\nscale = np.load('scale.npy')",
        HELPERS,
        FORWARD.replace("    cost = 1. / m", "    cost = scale / m"),
        BACKWARD,
    )
    message = one_line_error(path)
    assert message.startswith("student.py: forward_propagation_n uses scale, undefined because module-level code")
    assert "at line 3: FileNotFoundError" in message


# --- the exercise's helpers nothing defines -------------------------------------------------------


def test_helpers_from_an_earlier_notebook_cell_are_supplied_with_one_note(tmp_path: Path) -> None:
    path = write(tmp_path, "graded_cells.py", "import numpy as np", FORWARD, BACKWARD, CHECKER, ONE_D)
    loaded = load_user_file(path)
    assert_network_is_the_exercises(loaded)
    names = ["dictionary_to_vector", "gradients_to_vector", "relu", "sigmoid", "vector_to_dictionary"]
    for name in names:
        assert loaded.module.__dict__[name] is getattr(shim, name)
    assert f"{', '.join(names)} are not defined in the file: using gradharness's compatible gc_utils" in loaded.notes
    assert loaded.found.checker is not None  # usable: its helpers are there now
    X, Y, parameters = exercise_case(1)
    _, cache = network.forward_propagation_n(X, Y, parameters)
    difference = loaded.found.checker(parameters, network.backward_propagation_n(X, Y, cache), X, Y)
    assert difference < 1e-6


def test_only_the_missing_helpers_of_a_failed_utils_import_are_supplied(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "student.py",
        """
        import numpy as np
        from utils import relu, sigmoid, dictionary_to_vector

        def sigmoid(z):
            return 0.5 * (1 + np.tanh(0.5 * z))
        """,
        FORWARD,
        BACKWARD,
    )
    loaded = load_user_file(path)
    assert loaded.module.relu is shim.relu
    assert loaded.module.sigmoid is not shim.sigmoid
    assert "dictionary_to_vector" not in loaded.module.__dict__  # no checked function uses it
    assert "relu is not defined in the file: using gradharness's compatible gc_utils" in loaded.notes
    [note] = [n for n in loaded.notes if "module-level code failed" in n]
    assert "line 2: ModuleNotFoundError: No module named 'utils'" in note
    assert_network_is_the_exercises(loaded)


def test_a_helper_the_file_needs_but_the_exercise_never_had_is_not_invented(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "student.py",
        "import numpy as np",
        HELPERS,
        FORWARD,
        BACKWARD.replace("dZ2 = np.multiply(dA2, np.int64(A2 > 0))", "dZ2 = relu_backward(dA2, Z2)"),
    )
    loaded = load_user_file(path)  # nothing failed to load: a NameError at run time is the code's own finding
    assert "relu_backward" not in loaded.module.__dict__
    assert not any("gc_utils" in n for n in loaded.notes)


# --- network functions under other names ----------------------------------------------------------

RENAMED = (
    FORWARD.replace("def forward_propagation_n(", "def forward_prop("),
    BACKWARD.replace("def backward_propagation_n(", "def backward_prop("),
)


@pytest.mark.parametrize("with_one_d", [True, False])
def test_renamed_network_functions_are_an_error_with_the_options_that_check_them(
    tmp_path: Path, with_one_d: bool
) -> None:
    parts = ["import numpy as np", HELPERS, *RENAMED] + ([ONE_D] if with_one_d else [])
    path = write(tmp_path, "my_gradcheck.py", *parts)
    assert one_line_error(path) == (
        "my_gradcheck.py has no forward_propagation_n/backward_propagation_n, but forward_prop(X, Y, parameters) "
        "and backward_prop(X, Y, cache) have their signatures: check them with --forward forward_prop "
        "--backward backward_prop"
    )
    names = FunctionNames(forward_n="forward_prop", backward_n="backward_prop")
    loaded = load_user_file(path, names)
    assert_network_is_the_exercises(loaded)
    assert loaded.not_checked == []


def test_the_renamed_pair_is_found_among_other_three_argument_functions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "nn.py",
        "import numpy as np",
        HELPERS,
        """
        def predict(X, y, parameters):
            return forward_propagation_n_v2(X, y, parameters)[0] > 0.5

        def update_parameters(parameters, grads, learning_rate):
            return parameters
        """,
        FORWARD.replace("def forward_propagation_n(", "def forward_propagation_n_v2("),
        BACKWARD.replace("def backward_propagation_n(X, Y, cache)", "def backward_propagation_n_v2(X, Y, caches)"),
    )
    assert one_line_error(path).endswith(
        "check them with --forward forward_propagation_n_v2 --backward backward_propagation_n_v2"
    )


def test_a_half_pair_names_the_lookalike_of_its_missing_half(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "student.py",
        "import numpy as np",
        HELPERS,
        FORWARD,
        BACKWARD.replace("def backward_propagation_n(", "def backprop("),
    )
    assert one_line_error(path) == (
        "student.py defines forward_propagation_n but not backward_propagation_n; backprop(X, Y, cache) has "
        "its signature: check it with --backward backprop"
    )


# --- what a file leaves unchecked ----------------------------------------------------------------


def test_a_file_with_only_the_1d_pair_says_the_network_was_not_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "part1.py", "import numpy as np", ONE_D)
    loaded = load_user_file(path)
    assert loaded.found.one_d is not None and loaded.found.network is None
    assert loaded.not_checked == ["the network pair forward_propagation_n/backward_propagation_n: not in the file"]
    assert "not checked: the network pair forward_propagation_n/backward_propagation_n: not in the file" in loaded.notes


def test_a_checker_without_the_network_it_checks_is_listed_as_not_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "part1.py", "import numpy as np", ONE_D, CHECKER)
    loaded = load_user_file(path)
    assert loaded.found.checker is None
    assert loaded.not_checked == [
        "the network pair forward_propagation_n/backward_propagation_n: not in the file",
        "gradient_check_n: the network pair it checks is not in the file",
    ]


def test_a_checker_that_uses_a_name_nothing_defines_is_listed_as_not_checked(tmp_path: Path) -> None:
    checker = CHECKER.replace("    numerator =", "    show_differences(grad, gradapprox)\n    numerator =")
    path = write(tmp_path, "student.py", "import numpy as np", HELPERS, FORWARD, BACKWARD, checker)
    loaded = load_user_file(path)
    assert loaded.found.network is not None and loaded.found.checker is None
    assert loaded.not_checked == ["gradient_check_n: it uses show_differences, which the file never defines"]
    assert "not checked: gradient_check_n: it uses show_differences, which the file never defines" in loaded.notes
