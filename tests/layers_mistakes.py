"""The layers target's mistakes: each is the finished CS231n layers.py (fixtures/user_code/layers/correct_layers.py)
with one change, as a student makes it; :func:`mistakes.made_file` writes one out."""

from __future__ import annotations

from pathlib import Path

from mistakes import Mistake

LAYERS = Path(__file__).parent / "fixtures" / "user_code" / "layers"
CORRECT_LAYERS = LAYERS / "correct_layers.py"

MISTAKES: dict[str, Mistake] = {
    "buggy_affine_db_mean.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose affine_backward averages the upstream gradient over the batch for db.\n\nBackprop: WRONG -- affine_backward computes `db = dout.mean(axis=0)` instead of `dout.sum(axis=0)`:\nthe bias is added to every one of the N rows, so its gradient is the sum of theirs; the mean is N\ntimes too small. Right for N = 1 only. affine_relu_backward's db, built on it, is wrong too.\nExpected `gradharness check`: exit 1; affine_backward fails naming db (and affine_relu_backward naming\ndb), for N >= 2.\n",
        (("    db = dout.sum(axis=0)\n", "    db = dout.mean(axis=0)\n"),),
    ),
    "buggy_affine_dx_transposed.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose affine_backward transposes dx before reshaping it to x's shape.\n\nBackprop: WRONG -- affine_backward computes `dx = dx.T.reshape(x.shape)`: the (N, D) gradient is\ntransposed to (D, N) and then reshaped, which has the same size, so no shape is wrong, but the\nentries land in the wrong places. Right only when N = 1 or D = 1. affine_relu_backward's dx, built\non it, is wrong too.\nExpected `gradharness check`: exit 1; affine_backward fails naming dx (and affine_relu_backward naming\ndx), for N >= 2 and D >= 2.\n",
        (("    dx = dx.reshape(x.shape)\n", "    dx = dx.T.reshape(x.shape)\n"),),
    ),
    "buggy_relu_mask_dout.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose relu_backward takes its mask from the upstream gradient instead of the input.\n\nBackprop: WRONG -- relu_backward computes `dx = dout * (dout > 0)`: it keeps the positive upstream\ngradients instead of the gradients where the forward's input x was positive, so a negative gradient\nof a live unit is dropped and a positive one of a dead unit passed. affine_relu_backward, built on\nit, is wrong in dx, dw and db.\nExpected `gradharness check`: exit 1; relu_backward fails naming dx (and affine_relu_backward naming\ndx, dw and db).\n",
        (("    dx = dout * (x > 0)\n", "    dx = dout * (dout > 0)\n"),),
    ),
    "buggy_svm_correct_class_missing.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose svm_loss leaves the correct class out of dx.\n\nBackprop: WRONG -- svm_loss sets dx to 1 for every class over the margin but never subtracts, at\neach example's correct class, the number of classes over the margin (the line\n`dx[rows, y] -= num_pos` is missing): the correct class's score pulls every margin down, and its\ngradient is minus their count, not 0. The loss itself is right.\nExpected `gradharness check`: exit 1; svm_loss fails naming dx (whenever a margin is positive).\n",
        (("    dx[rows, y] -= num_pos\n", ""),),
    ),
    "buggy_softmax_not_over_n.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose softmax_loss does not divide dx by N.\n\nBackprop: WRONG -- softmax_loss averages the loss over the N examples but returns\n`probs - one_hot(y)` without the `/ N`: dx is the gradient of the summed loss, N times too big.\nRight for N = 1 only.\nExpected `gradharness check`: exit 1; softmax_loss fails naming dx, for N >= 2.\n",
        (("    dx = dx / N\n", ""),),
    ),
    "buggy_batchnorm_mean_term_missing.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose graph batchnorm_backward drops the gradient that flows through the batch mean.\n\nBackprop: WRONG -- batchnorm_backward computes dmean (the gradient of the batch mean) but never adds\n`dmean / N` to dx: dx is only the direct path through x - mean (with the variance's term). Since\nthe normalised output does not change when a constant is added to a column of x, each column of the\ntrue dx sums to 0; this one does not. dgamma and dbeta are right, and so is batchnorm_backward_alt.\nExpected `gradharness check`: exit 1; batchnorm_backward fails naming dx.\n",
        (("    dx += dmean / N\n", ""),),
    ),
    "buggy_batchnorm_alt_scalar_sum.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose batchnorm_backward_alt sums dx_hat * x_hat over the whole array.\n\nBackprop: WRONG -- batchnorm_backward_alt computes `np.sum(dx_hat * x_hat)`, one number for every\nfeature, where the formula needs a sum over the batch for each feature (axis=0): every feature's dx\ngets the other features' terms too. It broadcasts without complaint. Right for D = 1 only.\nspatial_batchnorm_backward, built on it, is wrong too (for C >= 2).\nExpected `gradharness check`: exit 1; batchnorm_backward_alt fails naming dx (and\nspatial_batchnorm_backward naming dx), for D >= 2.\n",
        (
            (
                "    sum_dx_hat_x_hat = np.sum(dx_hat * x_hat, axis=0)\n",
                "    sum_dx_hat_x_hat = np.sum(dx_hat * x_hat)\n",
            ),
        ),
    ),
    "buggy_layernorm_wrong_axis.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose layernorm_backward sums the upstream gradient over the batch instead of the features.\n\nBackprop: WRONG -- layernorm_backward computes `row_sum = np.sum(g, axis=0, keepdims=True)`, the\nbatchnorm axis, where layer normalisation normalises each row over its features (axis=1): the\n(1, D) result broadcasts against the (N, D) arrays, so the shapes are fine and dx is wrong. dgamma\nand dbeta are right.\nExpected `gradharness check`: exit 1; layernorm_backward fails naming dx.\n",
        (
            (
                "    row_sum = np.sum(g, axis=1, keepdims=True)\n",
                "    row_sum = np.sum(g, axis=0, keepdims=True)\n",
            ),
        ),
    ),
    "buggy_dropout_mask_missing.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose dropout_backward passes the upstream gradient through without the mask.\n\nBackprop: WRONG -- in train mode dropout_backward returns `dx = dout`: the dropped units get a\ngradient, and the kept ones miss their 1 / p scale. Right in test mode, and for p = 1 only.\nExpected `gradharness check`: exit 1; dropout_backward fails naming dx (train mode, p < 1).\n",
        (("        dx = dout * mask\n", "        dx = dout\n"),),
    ),
    "buggy_conv_crop_negative_pad.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose conv_backward_naive crops the padding off dx with negative indices.\n\nBackprop: WRONG -- conv_backward_naive takes `dx = dx_pad[:, :, pad:-pad, pad:-pad]`: right for\npad >= 1, but for pad = 0 the slice is `0:-0`, that is `0:0`, and dx is empty, shape (N, C, 0, 0).\ndw and db are right.\nExpected `gradharness check`: exit 1; conv_backward_naive fails naming dx (its shape), for pad = 0.\n",
        (
            (
                "    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]\n",
                "    dx = dx_pad[:, :, pad:-pad, pad:-pad]\n",
            ),
        ),
    ),
    "buggy_maxpool_assign.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose max_pool_backward_naive assigns each window's gradient instead of adding it.\n\nBackprop: WRONG -- max_pool_backward_naive writes `dx[...] = dout[n, c, i, j]` at each window's\nmaximum: when windows overlap (stride smaller than the pool) and one entry is the maximum of\nseveral, it keeps only the last window's gradient instead of their sum. Right when the windows do\nnot overlap.\nExpected `gradharness check`: exit 1; max_pool_backward_naive fails naming dx, for overlapping\nwindows.\n",
        (
            (
                "                    dx[n, c, top + r, left + s] += dout[n, c, i, j]\n",
                "                    dx[n, c, top + r, left + s] = dout[n, c, i, j]\n",
            ),
        ),
    ),
    "buggy_groupnorm_dgamma_axes.py": Mistake(
        CORRECT_LAYERS,
        "A CS231n layers.py whose spatial_groupnorm_backward leaves the batch axis out of dgamma's sum.\n\nBackprop: WRONG -- spatial_groupnorm_backward computes\n`dgamma = np.sum(dout * x_hat, axis=(2, 3), keepdims=True)`, shape (N, C, 1, 1): each example's\ngradient of gamma, never summed over the batch, where gamma has shape (1, C, 1, 1). Right for N = 1\nonly. dx and dbeta are right.\nExpected `gradharness check`: exit 1; spatial_groupnorm_backward fails naming dgamma (its shape), for\nN >= 2.\n",
        (
            (
                "    dgamma = np.sum(dout * x_hat, axis=(0, 2, 3), keepdims=True)\n",
                "    dgamma = np.sum(dout * x_hat, axis=(2, 3), keepdims=True)\n",
            ),
        ),
    ),
}
