"""The regularisation target's mistakes: each is one of the notebook's correct files (fixtures/user_code/
regularisation/) with one change, as a student makes it; :func:`mistakes.made_file` writes one out."""

from __future__ import annotations

from pathlib import Path

from mistakes import Mistake

REGULARISATION = Path(__file__).parent / "fixtures" / "user_code" / "regularisation"

MISTAKES: dict[str, Mistake] = {
    "buggy_dropout_keep_prob_missing.py": Mistake(
        REGULARISATION / "correct_dropout.py",
        "The regularisation notebook's dropout part with the / keep_prob missing from the backward.\n\nBackprop: WRONG -- backward_propagation_with_dropout applies the masks to dA2 and dA1 but does not\nscale them by 1 / keep_prob, as the forward scales the activations: every gradient below the output\nlayer is keep_prob (or keep_prob squared) times too small. Right only for keep_prob = 1.\nExpected `gradharness check`: exit 1; DROPOUT_AGREES fails naming dW1, db1, dW2, db2, dA1 and dA2.\n",
        (
            ("    dA2 = dA2 / keep_prob       # Step 2: Scale the value of neurons that haven't been shut down\n", ""),
            ("    dA1 = dA1 / keep_prob       # Step 2: Scale the value of neurons that haven't been shut down\n", ""),
        ),
    ),
    "buggy_dropout_mask_missing.py": Mistake(
        REGULARISATION / "correct_dropout.py",
        "The regularisation notebook's dropout part with the masks missing from the backward.\n\nBackprop: WRONG -- backward_propagation_with_dropout scales dA2 and dA1 by 1 / keep_prob but never\nmultiplies them by the masks D2 and D1: the gradients of the dropped units' activations are not 0.\n(dW and db stay right: dZ = dA * (A > 0) on the cache's masked A zeroes the dropped units again.)\nExpected `gradharness check`: exit 1; DROPOUT_AGREES fails naming dA1 and dA2.\n",
        (
            (
                "    dA2 = dA2 * D2              # Step 1: Apply mask D2 to shut down the same neurons as during the forward propagation\n",
                "",
            ),
            (
                "    dA1 = dA1 * D1              # Step 1: Apply mask D1 to shut down the same neurons as during the forward propagation\n",
                "",
            ),
        ),
    ),
    "buggy_dropout_unseeded.py": Mistake(
        REGULARISATION / "correct_dropout.py",
        "The regularisation notebook's dropout part with masks drawn from a generator of its own, never seeded.\n\nBackprop: CORRECT, but forward_propagation_with_dropout draws its masks from\nnp.random.default_rng(), a fresh generator seeded from the operating system at every call: two\ncalls on the same inputs drop different units, whatever numpy's global generator was seeded with,\nso no numerical gradient can see the masks its backward is given.\nExpected `gradharness check`: exit 1; DROPOUT_DETERMINISTIC fails (no gradient property).\n",
        (
            ("    np.random.seed(1)\n", "    rng = np.random.default_rng()\n"),
            (
                "    D1 = np.random.rand(A1.shape[0], A1.shape[1])  # Step 1: initialize matrix D1 = np.random.rand(..., ...)\n",
                "    D1 = rng.random((A1.shape[0], A1.shape[1]))  # Step 1: initialize matrix D1 = np.random.rand(..., ...)\n",
            ),
            (
                "    D2 = np.random.rand(A2.shape[0], A2.shape[1])\n",
                "    D2 = rng.random((A2.shape[0], A2.shape[1]))\n",
            ),
        ),
    ),
    "buggy_l2_lambd_not_over_m.py": Mistake(
        REGULARISATION / "correct_regularisation.py",
        "The regularisation notebook's L2 part with lambd where lambd / m belongs in the backward.\n\nBackprop: WRONG -- backward_propagation_with_regularization adds lambd * W to each dW instead of\n(lambd / m) * W: right for m = 1 only (the course's own test case has m = 5, but prints the values\nwithout comparing them to the cost's derivative).\nExpected `gradharness check`: exit 1; L2_AGREES fails naming dW1, dW2 and dW3, for m >= 2.\n",
        (
            (
                "    dW3 = 1. / m * np.dot(dZ3, A2.T) + (lambd / m) * W3\n",
                "    dW3 = 1. / m * np.dot(dZ3, A2.T) + lambd * W3\n",
            ),
            (
                "    dW2 = 1. / m * np.dot(dZ2, A1.T) + (lambd / m) * W2\n",
                "    dW2 = 1. / m * np.dot(dZ2, A1.T) + lambd * W2\n",
            ),
            (
                "    dW1 = 1. / m * np.dot(dZ1, X.T) + (lambd / m) * W1\n",
                "    dW1 = 1. / m * np.dot(dZ1, X.T) + lambd * W1\n",
            ),
        ),
    ),
    "buggy_l2_term_missing.py": Mistake(
        REGULARISATION / "correct_regularisation.py",
        "The regularisation notebook's L2 part with the regularisation term missing from one layer's gradient.\n\nBackprop: WRONG -- backward_propagation_with_regularization leaves the L2 term (lambd / m) * W2 out of\ndW2 (dW1 and dW3 have theirs): dW2 is the unregularised cost's gradient.\nExpected `gradharness check`: exit 1; L2_AGREES fails naming dW2 (the L2 term missing).\n",
        (("    dW2 = 1. / m * np.dot(dZ2, A1.T) + (lambd / m) * W2\n", "    dW2 = 1. / m * np.dot(dZ2, A1.T)\n"),),
    ),
}
