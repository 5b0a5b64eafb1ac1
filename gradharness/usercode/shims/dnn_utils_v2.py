"""A compatible ``dnn_utils_v2``: the course's later name for ``dnn_utils``, with the same four functions.

deeplearning.ai's course 1, week 4 ships the activations as ``dnn_utils_v2.py`` in some releases of
"Building your Deep Neural Network: Step by Step"; the functions, return values and caches are those
of :mod:`gradharness.usercode.shims.dnn_utils`.
"""

from __future__ import annotations

from gradharness.usercode.shims.dnn_utils import relu, relu_backward, sigmoid, sigmoid_backward

__all__ = ["relu", "relu_backward", "sigmoid", "sigmoid_backward"]
