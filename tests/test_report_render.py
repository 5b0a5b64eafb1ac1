"""The rendered HTML of check reports, parsed: structure, self-containment, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest

from gradharness.properties.properties import Property
from gradharness.render.html import render_report
from gradharness.render.html.charts import heatmap
from gradharness.render.html.render import number
from gradharness.render.html.viewmodels import heat_blocks
from tests.report_support import HOSTILE_NAME, error_record, hostile_record, meta, parse, pass_record, seed_case_record

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def failing():
    return parse(render_report(seed_case_record(), created=NOW))


def test_head_carries_the_audit_metadata_and_a_policy_that_fetches_nothing(failing):
    tags = meta(failing)
    assert tags["gradharness-kind"] == "check"
    assert tags["gradharness-verdict"] == "fail"
    assert tags["gradharness-target"] == "builtin:backward_propagation_n_buggy"
    assert tags["gradharness-created"] == "2026-01-02T03:04:05+00:00"
    (policy,) = failing.find_all("meta", **{"http-equiv": "Content-Security-Policy"})
    assert "default-src 'none'" in policy.attrs["content"]


def test_self_contained(failing):
    assert failing.find_all("script") == []
    assert failing.find_all("link") == []
    assert failing.find_all("img") == []
    for node in failing.iter():
        for name, value in node.attrs.items():
            if name in ("src", "href", "xlink:href"):
                assert value.startswith("#"), (node.tag, name, value)
    assert failing.find_all("style"), "the CSS is inline"


def test_verdict_banner_and_header(failing):
    banner = failing.by_id("verdict")
    assert "verdict-fail" in banner.attrs["class"].split()
    assert banner.text().split()[0] == "FAIL"
    environment = dict(failing.by_id("environment").rows())
    assert {"gradharness", "python", "numpy", "hypothesis", "platform"} <= set(environment)
    assert environment["numpy"] == np.__version__
    settings = dict(failing.by_id("settings").rows())
    assert settings["seed"] == "0" and settings["check.threshold"] == "1e-07"
    assert failing.by_id("reproduce").text() == "gradharness demo --seed 0"


def test_properties_table(failing):
    rows = failing.by_id("properties").rows()
    assert len(rows) == len(Property)
    assert [r[1] for r in rows].count("failed") == 1
    assert ["backward agrees with the numerical gradient of forward", "failed", "12"] in rows


def test_failure_block_table_worst_entries_and_case(failing):
    blocks = {row[0]: row for row in failing.by_id("blocks-1").rows()}
    assert list(blocks) == ["dW1", "db1", "dW2", "db2", "dW3", "db3"]
    assert {name for name, row in blocks.items() if row[2] == "wrong"} == {"dW2", "db1"}
    assert blocks["db1"][1] == "0.6" and blocks["dW2"][1] == "0.333"
    worst = failing.by_id("worst-1").rows()
    assert worst and all(re.fullmatch(r"d(W2|b1)\[\d, \d\]", row[0]) for row in worst)
    (case,) = failing.find_all("strong", class_="case")
    assert case.text() == "sizes 4-5-3-1 (n0-n1-n2-n3), m=3"


def test_heat_map_is_an_inline_svg_with_one_panel_per_wrong_block(failing):
    figure = failing.by_id("heatmap-1")
    (svg,) = figure.find_all("svg")
    texts = {node.text().strip() for node in svg.find_all("text")}
    assert {"db1 (5\u00d71)", "dW2 (3\u00d75)"} <= texts
    assert "6.0e-1" in texts and "3.3e-1" in texts


def test_code_section_highlights_the_bugs(failing):
    source = failing.by_id("source")
    excerpt = source.find_all("table", class_="excerpt")[0]
    highlighted = [tr.find_all("td")[1].text().strip() for tr in excerpt.find_all("tr", class_="hl")]
    assert highlighted == [
        "dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2",
        "db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)",
    ]


def test_passing_report_has_no_failure_sections():
    document = parse(render_report(pass_record(), created=NOW))
    assert document.by_id("verdict").text().split()[0] == "PASS"
    assert all(row[1] == "passed" for row in document.by_id("properties").rows())
    assert document.find_all("section", class_="failure") == []
    assert document.find_all("svg") == []
    assert document.find_all(id="source") == []


def test_error_report_shows_the_message_and_the_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\ndef f(:\n    pass\n", encoding="utf-8")
    document = parse(render_report(error_record(path, "broken.py: syntax error (line 2): invalid syntax"), created=NOW))
    assert document.by_id("verdict").text().split()[0] == "ERROR"
    assert "syntax error (line 2)" in document.by_id("error").text()
    (line,) = document.by_id("source").find_all("table", class_="excerpt")[0].find_all("tr", class_="hl")
    assert line.find_all("td")[0].text() == "2"


def test_everything_from_the_user_renders_as_text(tmp_path):
    html = render_report(hostile_record(tmp_path), created=NOW)
    document = parse(html)
    assert document.find_all("img") == [] and document.find_all("script") == [] and document.find_all("textarea") == []
    assert len(document.find_all("style")) == 1 + len(document.find_all("svg"))  # ours and matplotlib's only
    assert HOSTILE_NAME in document.by_id("title").text()
    assert meta(document)["gradharness-target"].endswith(HOSTILE_NAME)
    code = document.by_id("source").text()
    assert '</script><script>alert("code")</script>' in code
    assert "<img src=y onerror=alert(2)>" in code
    assert "<script>alert('message')</script> & </style>" in document.by_id("failure-1").text()
    assert "onerror" not in "".join(k for node in document.iter() for k in node.attrs)


def test_two_charts_in_one_page_do_not_share_ids():
    blocks = heat_blocks(seed_case_record().failures[0])
    ids = [set(re.findall(r'id="([^"]+)"', heatmap(blocks))) for _ in range(2)]
    assert ids[0] and not ids[0] & ids[1]


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "n/a"), (float("nan"), "n/a"), (float("inf"), "inf"), (0.333333, "0.333"), ("inf", "inf")],
)
def test_number_format(value, text):
    assert number(value) == text
