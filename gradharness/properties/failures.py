"""What the properties assert, and the exception each raises when it does not hold.

A distinct exception type per property, so Hypothesis shrinks each distinct bug on its own.
"""

from __future__ import annotations

from enum import Enum

from gradharness.check.checker import GradientCheckResult
from gradharness.model.case import NetworkCase
from gradharness.records.status import FailureKind


class Property(Enum):
    """What is asserted of the user's functions on each case."""

    FORWARD_COST = "forward returns a finite scalar cost and a cache"
    FORWARD_MATCHES = "forward returns the network's cost (the seed's cross-entropy averaged over m)"
    GRADIENT_SHAPES = "backward returns every gradient with its parameter's shape, in float64"
    GRADIENT_AGREES = "backward agrees with the numerical gradient of forward"
    NO_SIDE_EFFECTS = "forward and backward leave X, Y and the parameters unchanged"
    DERIVATIVE_1D = "1-D: backward is the derivative of J(theta) = theta * x"
    STUDENT_CHECKER = "the file's own gradient_check_n accepts a correct backprop and rejects wrong ones"


class PropertyFailure(AssertionError):
    """A property does not hold on a case."""

    prop: Enum = Property.GRADIENT_AGREES  # a target's own property enum for its failures

    def __init__(
        self,
        message: str,
        kind: FailureKind,
        case: NetworkCase | None = None,
        check: GradientCheckResult | None = None,
        point: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.case = case
        self.check = check
        self.point = point


class ForwardCostFailure(PropertyFailure):
    prop = Property.FORWARD_COST


class ForwardReferenceFailure(PropertyFailure):
    prop = Property.FORWARD_MATCHES


class GradientShapeFailure(PropertyFailure):
    prop = Property.GRADIENT_SHAPES


class GradientAgreementFailure(PropertyFailure):
    prop = Property.GRADIENT_AGREES


class SideEffectFailure(PropertyFailure):
    prop = Property.NO_SIDE_EFFECTS


class Derivative1DFailure(PropertyFailure):
    prop = Property.DERIVATIVE_1D
