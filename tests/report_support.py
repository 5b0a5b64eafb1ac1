"""Records to render and a small DOM for the report tests (parsed HTML, never string comparison)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from gradharness import network
from gradharness.case import seed_test_case
from gradharness.checker import gradient_check_n
from gradharness.environment import environment, file_sha256
from gradharness.propcheck import RunSettings, gradient_record
from gradharness.properties import Property
from gradharness.results import CheckRecord, FailureRecord, PropertyRecord
from gradharness.settings_io import run_settings_to_json

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
    return [PropertyRecord(p.name, p.value, "failed" if p.name in failed else "passed", 12) for p in Property]


def seed_case_record(backward=network.backward_propagation_n_buggy) -> CheckRecord:
    """A real check of the exercise's buggy backprop on the exercise's own 4-5-3-1, m=3 case."""
    case = seed_test_case()
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    result = gradient_check_n(case.parameters, backward(case.X, case.Y, cache), case.X, case.Y, method="loop")
    run = RunSettings(seed=0)
    failure = FailureRecord(
        property=Property.GRADIENT_AGREES.name,
        kind="wrong",
        message=f"{'/'.join(result.wrong_blocks)} wrong for {case.describe()}: {result.reason}",
        examples_before=1,
        case=case.to_json(),
        gradient_check=gradient_record(result),
    )
    return CheckRecord(
        target={"path": f"builtin:{backward.__name__}", "sha256": None, "functions": ["forward_propagation_n"]},
        settings=run_settings_to_json(run),
        verdict="fail",
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
        verdict="pass",
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
        verdict="error",
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
