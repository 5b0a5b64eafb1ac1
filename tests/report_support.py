"""Records to render and a small DOM for the report tests (parsed HTML, never string comparison)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from gradharness.check.checker import gradient_check_n
from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.properties.properties import Property
from gradharness.properties.runner import gradient_record
from gradharness.records.check import CheckRecord, FailureRecord, PropertyRecord, PropertyStatus
from gradharness.records.environment import environment, file_sha256
from gradharness.records.serialise import to_json
from gradharness.records.status import FailureKind, KillKind, MutantStatus
from gradharness.records.verdict import RunVerdict
from gradharness.settings import RunSettings

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HOSTILE_NAME = "<img src=x onerror=alert(1)>.py"


@dataclass
class Node:
    """An element: tag, attributes, children (nodes and text)."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        wanted = {k.rstrip("_"): v for k, v in attrs.items()}
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and all(v in n.attrs.get(k, "").split() if k == "class" else n.attrs.get(k) == v for k, v in wanted.items())
        ]

    def by_id(self, ident: str) -> Node:
        found = self.find_all(id=ident)
        assert len(found) == 1, f"expected one element with id {ident!r}, found {len(found)}"
        return found[0]

    def rows(self) -> list[list[str]]:
        """Cell texts of the body rows of a table."""
        body = self.find_all("tbody") or [self]
        return [
            [cell.text().strip() for cell in tr.children if isinstance(cell, Node)] for tr in body[0].find_all("tr")
        ]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return
        raise AssertionError(f"unbalanced </{tag}>")

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    """Parse a report; fails on unbalanced end tags or elements left open."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    open_tags = [n.tag for n in builder.stack[1:] if n.tag not in ("html", "body")]
    assert not open_tags, f"elements left open: {open_tags}"
    return builder.root


def meta(document: Node) -> dict[str, str]:
    return {n.attrs["name"]: n.attrs.get("content", "") for n in document.find_all("meta") if "name" in n.attrs}


def _properties(failed: set[str]) -> list[PropertyRecord]:
    return [
        PropertyRecord(p.name, p.value, PropertyStatus.FAILED if p.name in failed else PropertyStatus.PASSED, 12)
        for p in Property
    ]


def seed_case_record(backward=network.backward_propagation_n_buggy) -> CheckRecord:
    """A real check of the exercise's buggy backprop on the exercise's own 4-5-3-1, m=3 case."""
    case = seed_test_case()
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    result = gradient_check_n(case.parameters, backward(case.X, case.Y, cache), case.X, case.Y, method="loop")
    run = RunSettings(seed=0)
    failure = FailureRecord(
        property=Property.GRADIENT_AGREES.name,
        kind=FailureKind.WRONG,
        message=f"{'/'.join(result.wrong_blocks)} wrong for {case.describe()}: {result.reason}",
        examples_before=1,
        case=case.to_json(),
        gradient_check=gradient_record(result),
    )
    return CheckRecord(
        target={"path": f"builtin:{backward.__name__}", "sha256": None, "functions": ["forward_propagation_n"]},
        settings=to_json(run),
        verdict=RunVerdict.FAIL,
        properties=_properties({Property.GRADIENT_AGREES.name}),
        failures=[failure],
        diagnoses={"pass": 11},
        wrong_blocks={name: 1 for name in result.wrong_blocks},
        examples=12,
        seconds=0.5,
        reproduce=f"gradharness demo --seed {run.seed}",
        environment=environment(),
    )


def pass_record() -> CheckRecord:
    record = seed_case_record()
    return replace(
        record,
        target={"path": "builtin:backward_propagation_n", "sha256": None, "functions": []},
        verdict=RunVerdict.PASS,
        properties=_properties(set()),
        failures=[],
        wrong_blocks={},
        diagnoses={"pass": 90, "kink": 10},
        examples=100,
    )


def error_record(path: Path, message: str) -> CheckRecord:
    record = seed_case_record()
    return replace(
        record,
        target={"path": str(path), "sha256": file_sha256(path), "functions": []},
        verdict=RunVerdict.ERROR,
        properties=[],
        failures=[],
        wrong_blocks={},
        diagnoses={},
        examples=0,
        error=message,
        reproduce=f"gradharness check {path} --seed 0",
    )


HOSTILE_CODE = '''"""</script><script>alert("code")</script> <!-- a comment -->"""
import numpy as np


def backward_propagation_n(X, Y, cache):
    m = X.shape[1]
    dW2 = 2 * np.ones((3, 5))  # </textarea></pre><img src=y onerror=alert(2)>
    db1 = np.ones((5, 1))
    return {"dW2": dW2, "db1": db1}
'''


def hostile_record(folder: Path) -> CheckRecord:
    """A failing check of a file whose name, code and messages are HTML."""
    path = folder / HOSTILE_NAME
    path.write_text(HOSTILE_CODE, encoding="utf-8")
    record = seed_case_record()
    failure = replace(record.failures[0], message="dW2 wrong: <script>alert('message')</script> & </style>")
    return replace(
        record,
        target={"path": str(path), "sha256": file_sha256(path), "functions": ["<b>backward</b>"]},
        failures=[failure],
        reproduce=f"gradharness check '{path}' --seed 0",
    )


def _mutant(ident: str, operator: str, line: int, status: MutantStatus, **extra):
    from gradharness.records.mutation import MutantRecord

    original, replacement = extra.pop("change", ("1.0 / m", "4.0 / m"))
    return MutantRecord(
        id=ident,
        operator=operator,
        engine="domain",
        line=line,
        column=5,
        end_line=line,
        end_column=12,
        original=original,
        replacement=replacement,
        description=f"line {line}: {original} -> {replacement}",
        diff=(
            "--- a/gradharness/model/network.py\n+++ b/gradharness/model/network.py\n"
            f"@@ -{line},2 +{line},2 @@\n-    x = {original}\n+    x = {replacement}\n     y = 1\n"
        ),
        status=status,
        cases=20,
        **extra,
    )


def mutate_record():
    """A campaign with one of each status (a survivor among them), built from the documented fields."""
    from gradharness.mutation import scores
    from gradharness.records.mutation import EngineRecord, HarnessRecord, MutateRecord

    counterexample = seed_test_case().to_json()
    mutants = [
        _mutant("scale_gradient-1", "scale_gradient", 80, MutantStatus.KILLED, kill_kind=KillKind.WRONG, examples_to_kill=1,
                cases_killed=20, counterexample=counterexample, shrunk=True, exercise_case=MutantStatus.KILLED,
                message="dW2 wrong for sizes 4-5-3-1, m=3"),
        _mutant("lost_keepdims-1", "lost_keepdims", 74, MutantStatus.CRASHED, kill_kind=KillKind.MALFORMED, examples_to_kill=1,
                cases_crashed=20, exercise_case=MutantStatus.CRASHED, message="db3 has shape (1,), expected (1, 1)"),
        _mutant("relu_mask_comparison-1", "relu_mask_comparison", 78, MutantStatus.SURVIVED, change=("A2 > 0", "A2 >= 0"),
                exercise_case=MutantStatus.SURVIVED),
        _mutant("float32_downcast-1", "float32_downcast", 73, MutantStatus.EQUIVALENT, change=("x", "x.astype(np.float32)"),
                equivalence="float32 rounding is below the threshold", exercise_case=MutantStatus.SURVIVED),
        _mutant("hostile-1", "sum_wrong_axis", 90, MutantStatus.KILLED, change=("</script>", "<img src=z onerror=alert(3)>"),
                kill_kind=KillKind.WRONG, examples_to_kill=7, cases_killed=3, exercise_case=MutantStatus.SURVIVED),
    ]  # fmt: skip
    return MutateRecord(
        target={"path": "builtin:gradharness/model/network.py", "sha256": None, "function": "backward_propagation_n"},
        checker={"kind": "builtin", "path": None, "sha256": None, "function": "gradharness.gradient_check_n"},
        engine="domain",
        settings={
            "seed": 0,
            "max_examples": 20,
            "epsilon": None,
            "threshold": 1e-7,
            "jobs": 2,
            "timeout": 30.0,
            "shrink": False,
            "operators": None,
            "strategy": {"n0": None, "max_units": 6},
        },  # fmt: skip
        verdict=scores.verdict(mutants),
        harness=HarnessRecord(True, "survived", "killed", "the unmutated code passes on all 20 cases"),
        cases=20,
        mutants=mutants,
        score=scores.score("all", mutants),
        operators=scores.per_operator(mutants),
        examples_to_kill=scores.examples_to_kill(mutants),
        exercise_case=scores.exercise_case(mutants),
        engines=[EngineRecord("domain", 5, 0.5, 10.0, 0.4, 12.5, "20 cases per mutant")],
        seconds=0.5,
        reproduce="gradharness mutate --seed 0 --max-examples 20",
        environment=environment(),
    )


DELTAS = [10.0**-k for k in range(1, 11)]
THRESHOLDS = [10.0**-k for k in range(2, 13)]


def sensitivity_record():
    """A sensitivity sweep built from the documented fields."""
    from gradharness.records.mutation import BlockSweepRecord, HarnessRecord, SensitivityRecord, ThresholdPointRecord

    blocks = [
        BlockSweepRecord(name, 10, [1.0] * cut + [0.5] + [0.0] * (9 - cut), DELTAS[cut - 1], DELTAS[cut], DELTAS[cut])
        for name, cut in (("dW1", 5), ("db1", 6), ("dW2", 6), ("db2", 6), ("dW3", 7), ("db3", 7))
    ]
    points = [
        ThresholdPointRecord(t, 0.1 if t < 1e-10 else 0.0, 0.93 if t > 1e-8 else 1.0, 0.2 if t < 1e-9 else 0.0, 0.97)
        for t in THRESHOLDS
    ]
    return SensitivityRecord(
        target={"path": "builtin:gradharness/model/network.py", "sha256": None, "function": "backward_propagation_n"},
        checker={"kind": "builtin", "path": None, "sha256": None, "function": "gradharness.gradient_check_n"},
        settings={"seed": 0, "max_examples": 20, "epsilon": None, "threshold": 1e-7},
        verdict=RunVerdict.PASS,
        harness=HarnessRecord(True, "survived", "killed", "proved"),
        cases=20,
        deltas=DELTAS,
        blocks=blocks,
        thresholds=THRESHOLDS,
        threshold_sweep=points,
        mutants=88,
        safe_thresholds=[1e-8, 1e-9, 1e-10],
        seconds=1.0,
        reproduce="gradharness sensitivity --seed 0 --max-examples 20",
        environment=environment(),
    )
