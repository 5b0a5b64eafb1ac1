"""The ``signature`` target: any hand-written layer, described by a gufunc signature, checked in this process."""

from __future__ import annotations

from gradharness.targets.signature.check import LayerCheck, assert_layer, check_case, check_layer

__all__ = ["LayerCheck", "assert_layer", "check_case", "check_layer"]
