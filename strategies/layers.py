"""Hypothesis strategies for CS231n-style layers: one drawn call of a layer, with its hyper-parameters.

The assignment's own tests use one fixed shape per layer, convolutions with pad 1 and 2x2 pools of
stride 2; a backward that writes ``=`` where overlapping windows need ``+=``, or crops ``pad:-pad``,
passes them. So the sizes and the hyper-parameters are drawn too: N = 1, odd sizes, pad 0 and
stride > 1, pooling windows that overlap, batch norm's modes in train, group norm's G among C's
divisors. Cases are informative by construction (:mod:`strategies._layer_draws`).
"""

from __future__ import annotations

from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gradharness.model.layer_case import LayerCase
from gradharness.model.layer_table import LAYERS
from strategies._layer_draws import layer_case_draws
from strategies._validation import check_at_least

__all__ = ["layer_cases"]


def layer_cases(layer: str, *, max_size: int = 4, max_batch: int = 4) -> SearchStrategy[LayerCase]:
    """One call of ``layer`` ("affine", "conv", "softmax_loss", ...: the keys of ``LAYERS``) on drawn arrays.

    - ``max_size=4``: the largest feature, class or channel count drawn; at least 1.
    - ``max_batch=4``: the largest N drawn (N = 1 included; batch norm draws N >= 2); at least 1.

    Arrays lie in [-2, 2] (weights in +-1.5/sqrt(fan_in)), ``dout`` in [-1, 1] and never 0.0; a
    ReLU's input, the hinge's margins and every pooling window's lead are clear of their kinks
    (|value| > 1e-3) except for a planted exact zero or tie in about 5% of cases.

    Example::

        @given(layer_cases("conv"))
        def test_conv(case):
            out, cache = conv_forward_naive(case.arrays["x"], case.arrays["w"], case.arrays["b"],
                                            case.param("conv_param"))

    Examples shrink towards N = 1, one channel, the smallest window, stride 1 and pad 0.
    """
    if not isinstance(layer, str) or layer not in LAYERS:
        raise InvalidArgument(f"layer={layer!r}; the layers are {', '.join(map(repr, LAYERS))}")
    size = check_at_least("max_size", max_size, 1)
    batch = check_at_least("max_batch", max_batch, 1)
    return layer_case_draws(layer, size, batch)
