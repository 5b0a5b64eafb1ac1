"""The deep target's mistakes: each is the course-structure file (fixtures/user_code/deep/correct_course.py) with one
change, as a student makes it. ``mistake_file`` writes one out as a file of its own, its docstring saying the mistake."""

from __future__ import annotations

from pathlib import Path

from mistakes import Mistake, made_file

COURSE_FILE = Path(__file__).parent / "fixtures" / "user_code" / "deep" / "correct_course.py"


MISTAKES: dict[str, Mistake] = {
    "buggy_cache_index.py": Mistake(
        COURSE_FILE,
        "The course's L-layer model whose backward loop reads the next layer's cache.\n\nBackprop: WRONG -- inside L_model_backward's loop over the ReLU layers,\n`current_cache = caches[l + 1]` instead of `caches[l]`: layer l + 1's gradient is\ncomputed with layer l + 2's inputs, weights and Z. With unequal layer sizes the shapes do\nnot fit and relu_backward raises (the course's own L_model_backward_test_case does);\nwhere they fit (n_{l+1} == n_{l+2}) it returns wrong gradients for the ReLU layers\n1..L-1 and dA0..dA{L-2}. The sigmoid layer L and the building blocks are correct.\nExpected `gradharness check`: exit 1; L_model_backward fails (raises, or wrong blocks\nin layers 1..L-1), building blocks pass.\n",
        (("        current_cache = caches[l]\n", "        current_cache = caches[l + 1]\n"),),
    ),
    "buggy_dAL_sign.py": Mistake(
        COURSE_FILE,
        "The course's L-layer model with the sign of dAL flipped.\n\nBackprop: WRONG -- L_model_backward starts from `dAL = Y/AL - (1-Y)/(1-AL)`, the gradient\nof minus the cost. Every gradient comes out negated: the sigmoid layer L first, then every\nlayer the loop reaches. The building blocks (linear_backward, relu_backward,\nsigmoid_backward, linear_activation_backward) are all correct.\nExpected `gradharness check`: exit 1; L_model_backward wrong in every block (dWL, dbL\nfirst), building blocks pass.\n",
        (
            (
                "    dAL = - (np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))\n",
                "    dAL = np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)\n",
            ),
        ),
    ),
    "buggy_db_all_axes.py": Mistake(
        COURSE_FILE,
        "The course's L-layer model whose linear_backward sums dZ over every axis for db.\n\nBackprop: WRONG -- linear_backward computes `db = np.sum(dZ) / m`: one number, the sum\nover every unit and example, instead of `np.sum(dZ, axis=1, keepdims=True) / m`, one\nentry per unit (shape (n_l, 1)). The course's shape asserts in linear_backward are\ngone, so nothing stops it. Its value is right only for a layer with one unit (the\ncourse's output layer), and even there it has shape () instead of b's (1, 1); for a\nlayer with several units it is wrong. Wrong from linear_backward up:\nlinear_activation_backward's db, and db1..dbL of L_model_backward (dW and dA are right).\nExpected `gradharness check`: exit 1; linear_backward db wrong, linear_activation_backward\ndb wrong, L_model_backward db{l} wrong (by value where n_l > 1, by shape everywhere).\n",
        (
            ("    db = 1. / m * np.sum(dZ, axis=1, keepdims=True)\n", "    db = np.sum(dZ) / m\n"),
            (
                "\n    assert (dA_prev.shape == A_prev.shape)\n    assert (dW.shape == W.shape)\n    assert (db.shape == b.shape)\n",
                "",
            ),
        ),
    ),
    "buggy_grad_key.py": Mistake(
        COURSE_FILE,
        "The course's L-layer model whose backward loop stores dW under the wrong layer's key.\n\nBackprop: WRONG -- inside L_model_backward's loop, `grads[\"dW\" + str(l)] = dW_temp`\ninstead of `str(l + 1)`: each ReLU layer's weight gradient is stored one layer down, so\ndW{L-1} is never set, a dW0 appears, and for L >= 3 dW1..dW{L-2} hold the gradient of\nthe layer above them. dWL (set before the loop), every db and every dA are right, and so\nare the building blocks.\nExpected `gradharness check`: exit 1; L_model_backward: dW{L-1} missing (dW1 for a\n2-layer network), dW1..dW{L-2} wrong when L >= 3; building blocks pass.\n",
        (('        grads["dW" + str(l + 1)] = dW_temp\n', '        grads["dW" + str(l)] = dW_temp\n'),),
    ),
    "buggy_hardcoded_layer.py": Mistake(
        COURSE_FILE,
        'The course\'s L-layer model whose backward loop always reads dA{L-1}.\n\nBackprop: WRONG for L >= 3 -- inside L_model_backward\'s loop over the ReLU layers, the\nupstream gradient is `grads["dA" + str(L - 1)]` instead of `grads["dA" + str(l + 1)]`.\nThe first pass of the loop (l = L - 2) needs dA{L-1}, so for a 2-layer network (one\nhidden layer) every gradient is right. From the second pass on (layers L-2 .. 1) the\nloop feeds a layer the gradient of the wrong activation: where the shapes happen to fit\n(n_l == n_{L-1}) dW1..dW{L-2}, db1..db{L-2} and dA0..dA{L-3} come out wrong; where\nthey do not, relu_backward raises on the mismatched shapes.\nThe course\'s own tests miss it: L_model_backward_test_case has two layers (the loop\nruns once, with l + 1 == L - 1), and L_model_forward_test_case_2hidden, the only\n3-layer case, checks only the forward pass. The building blocks are correct.\nExpected `gradharness check`: exit 1, only when depth L >= 3; L_model_backward wrong\nin layers 1..L-2, building blocks pass.\n',
        (
            (
                '        dA_prev_temp, dW_temp, db_temp = linear_activation_backward(grads["dA" + str(l + 1)], current_cache, activation="relu")\n',
                '        dA_prev_temp, dW_temp, db_temp = linear_activation_backward(grads["dA" + str(L - 1)], current_cache, activation="relu")\n',
            ),
        ),
    ),
    "buggy_linear_backward_dA.py": Mistake(
        COURSE_FILE,
        "The course's L-layer model whose linear_backward forgets the transpose in dA_prev.\n\nBackprop: WRONG -- linear_backward computes `dA_prev = np.dot(W, dZ)` instead of\n`np.dot(W.T, dZ)`. With a non-square W (n_l != n_{l-1}) the product does not fit and\nnp.dot raises (the course's linear_backward_test_case, W of shape (3, 5), shows it);\nwith a square W it runs, passes the course's shape assert, and returns W @ dZ, wrong\nunless W is symmetric. dW and db are right. Wrong from linear_backward up:\nlinear_activation_backward's dA_prev, and in L_model_backward every dA and every\ngradient of the layers below the output layer (dWL, dbL are right).\nExpected `gradharness check`: exit 1; linear_backward dA_prev wrong (or raises),\nlinear_activation_backward dA_prev wrong, L_model_backward wrong below layer L.\n",
        (("    dA_prev = np.dot(W.T, dZ)\n", "    dA_prev = np.dot(W, dZ)\n"),),
    ),
    "buggy_relu_mask.py": Mistake(
        COURSE_FILE,
        'The course\'s L-layer model with its own relu_backward, which masks the wrong array.\n\nBackprop: WRONG -- relu_backward (defined here instead of imported from dnn_utils) zeroes\nthe gradient where `dA <= 0` instead of where `Z <= 0`: it keeps the upstream gradient\nwhere the unit was off, and drops it where the unit was on but the gradient is negative.\nWrong from relu_backward up: linear_activation_backward with "relu", and the ReLU layers\n1..L-1 of L_model_backward (dW{L}, db{L} are right).\nExpected `gradharness check`: exit 1; relu_backward wrong, linear_activation_backward\n("relu") wrong, L_model_backward wrong in layers 1..L-1.\n',
        (
            (
                "from dnn_utils import sigmoid, sigmoid_backward, relu, relu_backward\n",
                "from dnn_utils import sigmoid, sigmoid_backward, relu\n",
            ),
            (
                "from testCases_v4a import *\n",
                "from testCases_v4a import *\n\n\ndef relu_backward(dA, cache):\n    Z = cache\n    dZ = np.array(dA, copy=True)\n    dZ[dA <= 0] = 0\n    return dZ\n\n",
            ),
        ),
    ),
    "buggy_sigmoid_backward.py": Mistake(
        COURSE_FILE,
        'The course\'s L-layer model with its own sigmoid_backward, which forgets the (1 - s).\n\nBackprop: WRONG -- sigmoid_backward (defined here instead of imported from dnn_utils)\nreturns `dZ = dA * s` instead of `dA * s * (1 - s)`. Wrong from sigmoid_backward up:\nlinear_activation_backward with "sigmoid", and every layer of L_model_backward (the\noutput layer L first; the error flows down to every ReLU layer).\nExpected `gradharness check`: exit 1; sigmoid_backward wrong, linear_activation_backward\n("sigmoid") wrong, L_model_backward wrong from layer L down.\n',
        (
            (
                "from dnn_utils import sigmoid, sigmoid_backward, relu, relu_backward\n",
                "from dnn_utils import sigmoid, relu, relu_backward\n",
            ),
            (
                "from testCases_v4a import *\n",
                "from testCases_v4a import *\n\n\ndef sigmoid_backward(dA, cache):\n    Z = cache\n    s = 1 / (1 + np.exp(-Z))\n    dZ = dA * s\n    return dZ\n\n",
            ),
        ),
    ),
}


def mistake_file(name: str, folder: Path) -> Path:
    """The file with mistake ``name`` (e.g. ``buggy_dAL_sign.py``), written into ``folder``."""
    return made_file(name, MISTAKES[name], folder)
