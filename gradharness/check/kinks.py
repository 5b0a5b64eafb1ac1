"""Kinks of a cost whose code is not known, seen in its values at one and two steps either side of a point.

For entry i, with h = steps[i], the five costs J(theta + k h e_i), k = -2 .. 2, give one-sided slopes at h and 2h:
r1 = (J(h) - J0) / h, l1 = (J0 - J(-h)) / h, r2 = (J(2h) - J0) / 2h, l2 = (J0 - J(-2h)) / 2h. Their gaps
d1 = r1 - l1 and d2 = r2 - l2 grow with the step on a smooth J (d1 = h J'' + h^3 J''''/12 + ..., d2 twice
that but for the h^3 term; J' and J''' cancel), so the defect

    d2 - 2 d1 = (J(2h) - 4 J(h) + 6 J0 - 4 J(-h) + J(-2h)) / 2h = h^3 J''''/2 + O(h^5),

the fourth difference, vanishes on every cubic. A kink, where the slope jumps by s at theta + a, does not
scale with the step: the defect is s (3|a|/2h - 1) for |a| <= h and s (1 - |a|/2h) for h <= |a| < 2h (0 beyond
2h: all five points are then on one side), against |d1| + |d2|/2 = 3s/2 at a = 0, s/4 at |a| = h, 0 at 2h.

The defect is blind in two places: at |a| = 2h/3 the costs lie exactly on a cubic (s x (x + h)(x + 2h) / 18 h^2
for s max(0, x - 2h/3)), and as |a| nears 2h the kink touches only the outermost cost. The first is seen by a
second test: the centred difference at 2h falls below 0.6 of the one at h (JUMP_RATIO), as it does for a kink
there (it halves) and for a jump of J (a jump moves both one-sided slopes alike, so the defect is 0), never for
a smooth J resolved at this step (the two differ by 3 h^2 J^(3) / 2).
Likewise a smooth J whose J'''' is of order s / h^3 where J'' vanishes gives the costs of a kink. Away from the
blind spots, :func:`detected_kinks` misses only kinks whose jump is within the costs' round-off or tiny next
to J's curvature (see its bounds).

Notes on the bound of :func:`detected_kinks`.

The first term is the defect's round-off at worst, with nothing added: ``roundoff`` already bounds each
cost. A kink it hides at a = 0 has a slope jump below 8 roundoff / h and moves the centred difference by half
that at most: a few times the round-off (roundoff / h) that the checker allows anyway.

The second lets a smooth J through up to |J''''| = 4e-3 |J''| / h^2 (about 1e8 |J''| at h = cbrt(eps64), 170
|J''| at cbrt(eps32)), whatever J's scale. It hides only kinks whose jump is below 1e-3 of the spread 2h |J''|
that the curvature alone gives the one-sided slopes: a kink's own defect is 2/3 of |d1| + |d2|/2 at a = 0 and
twice it for h <= |a| < 2h, falling to 0 only at |a| = 2h/3 (the slack widens that blind spot to a band about
1e-3 h wide; near 2h the blind band is the first term's, 16 roundoff / s wide).

The third covers the rounding of the differences taken here, which ``roundoff`` (the costs' own) does not:
it matters where the slopes dwarf the costs over a step (J near 0 on a steep slope).

What stays flagged on a smooth J: where J'' vanishes (e.g. c x^4 at 0) only the first term is left, so a
|J''''| above about 16 roundoff / h^4 is flagged, there indistinguishable from a kink (at h = cbrt(eps64)
and roundoff = 64 eps64 (|J| + 1): |J''''| > 1.7e8 (|J| + 1)).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = [
    "ARITHMETIC_FACTOR",
    "JUMP_RATIO",
    "ROUNDOFF_FACTOR",
    "RELATIVE_SLACK",
    "CostsAt",
    "detected_kinks",
    "kinks_from_costs",
]

ROUNDOFF_FACTOR = 8.0
"""The defect's worst round-off, in units of roundoff / h: its five costs' coefficients 1, 4, 6, 4, 1 over 2h."""

RELATIVE_SLACK = 1e-3
"""How large a defect, relative to |d1| + |d2|/2 (about 2h |J''| on a smooth J), still counts as smooth."""

ARITHMETIC_FACTOR = 4.0
"""The rounding of this module's own differences, in units of eps64 * (|r1| + |l1| + |r2| + |l2|) (2 is the bound)."""

JUMP_RATIO = 0.6
"""A centred difference at twice the step below this fraction of the one at the step is a jump's (a jump halves
it), not a slope's."""

_EPS = float(np.finfo(np.float64).eps)

CostsAt = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""For flat per-entry steps, the flat costs J(theta + steps[i] e_i) and J(theta - steps[i] e_i) of every entry."""


def detected_kinks(
    J0: float,
    plus: np.ndarray,
    minus: np.ndarray,
    plus2: np.ndarray,
    minus2: np.ndarray,
    steps: np.ndarray,
    roundoff: float,
) -> np.ndarray:
    """Flat bool flags: the entries whose costs show a kink within twice their step.

    - ``J0``: J(theta); ``plus``, ``minus``: J(theta +- steps[i] e_i); ``plus2``, ``minus2``: the same at
      2 steps[i]. Any shapes of ``steps.size`` entries, read flat.
    - ``steps``: the positive finite step of each entry.
    - ``roundoff``: a bound on the absolute rounding error of each cost, including what the rounding of
      theta +- step itself moves J by.

    An entry is flagged when its defect |d2 - 2 d1| (module docstring) exceeds

        8 roundoff / h + 1e-3 (|d1| + |d2|/2) + 4 eps64 (|r1| + |l1| + |r2| + |l2|).

    Why each term, and what stays flagged on a smooth J: the module's notes below.

    An entry with a non-finite cost (or J0 non-finite, then every entry) is not flagged: its centred
    difference is not finite either, and the caller sets it aside as saturated. So are overflowing differences.
    Raises ValueError for steps that are not positive and finite, a roundoff that is not finite and >= 0, or
    costs of another size than ``steps``.
    """
    h = np.asarray(steps, dtype=np.float64).reshape(-1)
    if not bool(np.all(np.isfinite(h) & (h > 0))):
        raise ValueError("steps must all be positive finite numbers")
    if not (math.isfinite(roundoff) and roundoff >= 0):
        raise ValueError(f"roundoff={roundoff!r} must be a finite number >= 0")
    costs = {"plus": plus, "minus": minus, "plus2": plus2, "minus2": minus2}
    up, down, up2, down2 = (_flat(name, value, h.size) for name, value in costs.items())
    J0 = float(J0)
    with np.errstate(all="ignore"):
        r1, l1 = (up - J0) / h, (J0 - down) / h
        r2, l2 = (up2 - J0) / (2 * h), (J0 - down2) / (2 * h)
        d1, d2 = r1 - l1, r2 - l2
        defect = np.abs(d2 - 2 * d1)
        bound = (
            ROUNDOFF_FACTOR * roundoff / h
            + RELATIVE_SLACK * (np.abs(d1) + np.abs(d2) / 2)
            + ARITHMETIC_FACTOR * _EPS * (np.abs(r1) + np.abs(l1) + np.abs(r2) + np.abs(l2))
        )
        known = np.isfinite(defect) & np.isfinite(bound)  # NaN or inf in any cost, J0 too, leaves one of them so
        return known & ((defect > bound) | _jumps(r1, l1, r2, l2, h, roundoff))


def kinks_from_costs(
    costs_at: CostsAt, point_theta_size: int, steps: np.ndarray, J0: float, roundoff: float
) -> np.ndarray:
    """:func:`detected_kinks` from ``costs_at`` asked twice: at ``steps`` and at twice ``steps``.

    - ``costs_at``: see :data:`CostsAt`; ``point_theta_size``: the number of entries of the point.
    - ``steps``, ``J0``, ``roundoff``: as for :func:`detected_kinks`.

    ``lambda s: kinks_from_costs(costs_at, n, s, J0, roundoff)`` is a checker's ``KinksOf``; note that it
    flags kinks within 2 s (and asks for the costs at 4 steps when the checker doubles the step).
    """
    h = np.asarray(steps, dtype=np.float64).reshape(-1)
    if h.size != point_theta_size:
        raise ValueError(f"steps has {h.size} entries, the point {point_theta_size}")
    plus, minus = costs_at(h)
    plus2, minus2 = costs_at(2 * h)
    return detected_kinks(J0, plus, minus, plus2, minus2, h, roundoff)


def _jumps(
    r1: np.ndarray, l1: np.ndarray, r2: np.ndarray, l2: np.ndarray, h: np.ndarray, roundoff: float
) -> np.ndarray:
    """The entries whose centred difference falls as the step doubles: a jump of J (or a change far narrower than
    the step, as x / sqrt(x^2 + 1e-14) at 0), which the slopes' defect cannot see (a jump moves both one-sided
    slopes alike). On a smooth J the centred differences at h and 2h differ by 3 h^2 J^(3) / 2, far below J' unless
    J changes on the step's own scale; a jump's halves."""
    c1, c2 = (r1 + l1) / 2, (r2 + l2) / 2
    same_sign = np.sign(c1) == np.sign(c2)
    falls = np.abs(c2) < JUMP_RATIO * np.abs(c1)
    beyond = np.abs(c1 - c2) > ROUNDOFF_FACTOR * roundoff / h + ARITHMETIC_FACTOR * _EPS * np.abs(c1)
    return same_sign & falls & beyond


def _flat(name: str, value: np.ndarray, size: int) -> np.ndarray:
    """``value`` as a flat float64 array of ``size`` entries (ValueError naming it otherwise)."""
    flat = np.asarray(value, dtype=np.float64).reshape(-1)
    if flat.size != size:
        raise ValueError(f"{name} has {flat.size} costs, expected {size} (one per step)")
    return flat
