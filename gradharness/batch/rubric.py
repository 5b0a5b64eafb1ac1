"""Scores: a rubric gives points per property, and one rule turns a check record into a score.

The rule: a property earns its points when it was shown to hold, that is when its status is

* ``passed``: it held on every generated case it was evaluated on; or
* ``stopped`` after holding on at least one case: another property's failure ended the drawing,
  and the points are lost at that property, not here.

It earns nothing when it ``failed``; when it was ``not run`` (no case got as far as it, because an
earlier property failed on every case: nothing showed that it holds, e.g. a backward that returns
a list fails the shapes property and its gradients are never compared); when the record does not
have it (the file lacks the functions it needs, such as the 1-D pair or its own
``gradient_check_n``); and when the file could not be checked at all. The score is the sum of the
points earned; the maximum is the sum of the rubric's points, the same for every file.

A rubric file is TOML, one line per property with its points (a number >= 0), in either letter
case; the properties it leaves out are worth nothing::

    gradient_agrees = 6   # the backward pass agrees with the numerical gradient
    student_checker = 2   # the file's own gradient_check_n
    derivative_1d = 2     # the 1-D pair

Without a rubric file, each target's own default points count, for the targets the record has
(the exercise's when it has none): the exercise's backprop 6, own checker 2 and 1-D pair 2; the
deep target's L-layer model 6, linear_backward 2 and linear_activation_backward 2.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gradharness.errors import GradHarnessError
from gradharness.records.check import CheckRecord, PropertyRecord, PropertyStatus
from gradharness.records.verdict import RunVerdict
from gradharness.targets.registry import TARGETS, property_descriptions
from gradharness.targets.signature.functions import SIGNATURE
from gradharness.targets.signature.target import signature_rubric

__all__ = [
    "DEFAULT_RUBRIC",
    "PropertyScore",
    "Rubric",
    "Score",
    "load_rubric",
    "parse_rubric",
    "score",
    "score_label",
    "shown_to_hold",
    "unscored",
]


@dataclass(frozen=True)
class Rubric:
    """Points per property (by the property's name, e.g. ``GRADIENT_AGREES``); ``source`` says where it came from.

    ``by_target``: the default rubric's points, target by target; a record is scored on the points of the
    targets it has (``points`` is then the exercise's, for a record with none).
    """

    points: dict[str, float]
    source: str = "default"
    by_target: dict[str, dict[str, float]] | None = None

    @property
    def max_points(self) -> float:
        """What a file that earns every point scores (of the exercise, for the default rubric)."""
        return float(sum(self.points.values()))

    def points_for(self, record: CheckRecord) -> dict[str, float]:
        """The points ``record`` is scored on: the rubric's, or the default's for the targets the record has."""
        if self.by_target is None:
            return self.points
        targets = {prop.target for prop in record.properties} or {"exercise"}
        points = {
            name: worth
            for target in self.by_target
            if target in targets
            for name, worth in self.by_target[target].items()
        }
        # The signature target's properties are named after the file's own layers: known from the record only.
        points.update(signature_rubric(prop.name for prop in record.properties if prop.target == SIGNATURE))
        return points


DEFAULT_RUBRIC = Rubric(
    dict(TARGETS["exercise"].rubric), by_target={name: dict(target.rubric) for name, target in TARGETS.items()}
)
"""Each target's own points (the exercise's: backprop 6, the file's own checker 2, the 1-D pair 2; 10 in all)."""


@dataclass(frozen=True)
class PropertyScore:
    """What one property earned: ``status`` None when the record does not have the property."""

    name: str
    description: str
    status: PropertyStatus | None
    examples: int
    points: float
    max_points: float

    @property
    def held(self) -> bool:
        """Whether the property was shown to hold (the rule of this module), whatever it is worth."""
        return shown_to_hold(self.status, self.examples)


@dataclass(frozen=True)
class Score:
    """A record's score: the points earned of the rubric's maximum, and each property's part."""

    points: float
    max_points: float
    parts: list[PropertyScore]


def score_label(points: float) -> str:
    """A score as the statistics and the tables write it: ``10``, ``8.5``."""
    return f"{points:g}"


def shown_to_hold(status: PropertyStatus | None, examples: int) -> bool:
    """The rule: passed, or stopped after holding on at least one case (None: the record does not have it)."""
    return status is PropertyStatus.PASSED or (status is PropertyStatus.STOPPED and examples > 0)


def _description(name: str) -> str:
    return property_descriptions().get(name, name)


def score(record: CheckRecord, rubric: Rubric = DEFAULT_RUBRIC) -> Score:
    """The score of ``record`` under ``rubric`` by the module's rule, with a part per property.

    The parts are every property the record has and every property the rubric gives points to, in
    the order of :class:`Property`.
    """
    checked: dict[str, PropertyRecord] = (
        {} if record.verdict is RunVerdict.ERROR else {prop.name: prop for prop in record.properties}
    )
    points = rubric.points_for(record)
    order = {name: i for i, name in enumerate(property_descriptions())}
    names = sorted(
        {*checked, *(name for name, worth in points.items() if worth > 0)},
        key=lambda name: (order.get(name, len(order)), name),
    )
    parts = []
    for name in names:
        prop = checked.get(name)
        status, examples = (prop.status, prop.examples) if prop else (None, 0)
        worth = float(points.get(name, 0.0))
        earned = worth if shown_to_hold(status, examples) else 0.0
        parts.append(
            PropertyScore(name, prop.description if prop else _description(name), status, examples, earned, worth)
        )
    return Score(float(sum(part.points for part in parts)), float(sum(points.values())), parts)


def _property_names() -> str:
    return ", ".join(name.lower() for name in property_descriptions())


def parse_rubric(text: str, source: str) -> Rubric:
    """A rubric from TOML text (``source`` names it in messages); GradHarnessError in one line when it is not one."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GradHarnessError(f"rubric {source} is not TOML: {exc}") from None
    points: dict[str, float] = {}
    for key, value in data.items():
        name = key.upper()
        if name not in property_descriptions():
            raise GradHarnessError(f"rubric {source}: unknown property {key!r}; the properties are {_property_names()}")
        if name in points:
            raise GradHarnessError(f"rubric {source}: {key!r} is given twice")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GradHarnessError(f"rubric {source}: the points for {key!r} must be a number, not {value!r}")
        if not math.isfinite(value) or value < 0:
            raise GradHarnessError(f"rubric {source}: the points for {key!r} must be a finite number >= 0, not {value}")
        points[name] = float(value)
    if not any(points.values()):
        raise GradHarnessError(f"rubric {source} gives no points: give at least one property points > 0")
    return Rubric(points, source)


def load_rubric(path: Path) -> Rubric:
    """The rubric in the TOML file ``path``; GradHarnessError in one line when it cannot be read or is not one."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise GradHarnessError(f"cannot read rubric {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise GradHarnessError(f"rubric {path} is not TOML: it is not UTF-8 text") from None
    return parse_rubric(text, str(path))


def unscored(record: CheckRecord, points: Score) -> str:
    """What the rubric gives points to and the file does not have ('' for a file not checked: its error says why)."""
    if record.verdict is RunVerdict.ERROR:
        return ""
    missing = [part.description for part in points.parts if part.status is None and part.max_points > 0]
    return f"not in the file, so no points: {'; '.join(missing)}" if missing else ""
