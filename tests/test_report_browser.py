"""Every kind of report opened in a real browser (Debian's Chromium, headless, driven by Playwright).

Checks that each report renders with no console error, no script error and no network request,
and that its verdict and key tables are visible; saves a screenshot of each (into the folder named
by $GRADHARNESS_SCREENSHOTS too, which is how docs/report-check.png is made).
Skipped when Chromium or Playwright is missing, except under CI (CI=true), where that fails.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gradharness.render.html import write_report
from tests.report_support import (
    HOSTILE_NAME,
    error_record,
    hostile_record,
    mutate_record,
    pass_record,
    seed_case_record,
    sensitivity_record,
)

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def _chromium() -> str | None:
    return shutil.which("chromium")


def _missing(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; .ci/run installs it")
    pytest.skip(f"{what} is not installed")


@dataclass
class Visit:
    """What happened while a report was open."""

    page: object
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package")
    executable = _chromium()
    if executable is None:
        _missing("chromium")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh --user-data-dir
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1000, "height": 800},
            device_scale_factor=1,
        )
        requests: list[str] = []

        def route(route_):
            requests.append(route_.request.url)
            if route_.request.url.startswith("file://"):
                route_.continue_()
            else:
                route_.abort()  # never reach the network, even if a report asked to

        context.route("**/*", route)
        yield context, requests
        context.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    broken = folder / "broken.py"
    broken.write_text("import numpy as np\ndef backward_propagation_n(X, Y, cache:\n    pass\n", encoding="utf-8")
    paths = {
        "check": write_report(seed_case_record(), folder=folder / "reports"),
        "check-pass": write_report(pass_record(), folder=folder / "reports"),
        "check-error": write_report(
            error_record(broken, "broken.py: syntax error (line 2): '(' was never closed"), folder=folder / "reports"
        ),
        "check-hostile": write_report(hostile_record(folder), folder=folder / "reports"),
        "check-deep": write_report(_deep_record(folder), folder=folder / "reports"),
        "mutate": write_report(mutate_record(), folder=folder / "reports"),
        "sensitivity": write_report(sensitivity_record(), folder=folder / "reports"),
    }
    paths["index"] = folder / "reports" / "index.html"
    return paths


def _deep_record(folder: Path):
    from deep_mistakes import mistake_file

    from gradharness.judge.checks import check_file
    from gradharness.settings import IsolationSettings, RunSettings

    path = mistake_file("buggy_sigmoid_backward.py", folder)
    return check_file(path, RunSettings(seed=0, max_examples=10), isolation=IsolationSettings(level="none"))


def _open(browser, path: Path) -> Visit:
    context, requests = browser
    requests.clear()
    page = context.new_page()
    visit = Visit(page)
    page.on("console", lambda message: visit.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: visit.console.append(f"pageerror: {error}"))
    page.on("dialog", lambda dialog: (visit.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    visit.requests = list(requests)
    return visit


def _screenshot(visit: Visit, name: str, tmp_path: Path, clip_below: str | None = None) -> Path:
    page = visit.page
    out = tmp_path / f"report-{name}.png"
    if clip_below is None:
        page.screenshot(path=str(out), full_page=True)
    else:
        box = page.locator(clip_below).bounding_box()
        page.screenshot(
            path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": 1000, "height": box["y"] + box["height"] + 16}
        )
    assert out.stat().st_size > 10_000  # something was drawn
    shared = os.environ.get("GRADHARNESS_SCREENSHOTS")
    if shared:
        from PIL import Image

        Path(shared).mkdir(parents=True, exist_ok=True)
        Image.open(out).convert("RGB").quantize(256, Image.Quantize.FASTOCTREE).save(
            Path(shared) / out.name, optimize=True
        )
    return out


def _clean(visit: Visit, path: Path) -> None:
    assert visit.console == [], visit.console
    assert visit.dialogs == []
    assert visit.requests == [path.resolve().as_uri()], visit.requests


def _visible_verdict(visit: Visit, label: str) -> None:
    banner = visit.page.locator("#verdict")
    assert banner.is_visible()
    assert banner.inner_text().split()[0] == label


def test_failing_check_report(browser, reports, tmp_path):
    visit = _open(browser, reports["check"])
    _clean(visit, reports["check"])
    _visible_verdict(visit, "FAIL")
    page = visit.page
    for table in ("#properties", "#blocks-1", "#worst-1", "#environment", "#settings"):
        assert page.locator(table).is_visible(), table
    assert page.locator("#blocks-1 tbody tr").count() == 6
    heat = page.locator("#heatmap-1 svg").bounding_box()
    assert heat["width"] > 300 and heat["height"] > 150
    highlighted = page.locator("#source table.excerpt tr.hl")
    assert highlighted.count() == 2 and highlighted.first.is_visible()
    assert page.locator("#reproduce").inner_text() == "gradharness demo --seed 0"
    page.locator("details.setup > summary").click()  # fold the settings for a compact picture
    _screenshot(visit, "check", tmp_path, clip_below="#heatmap-1")
    page.close()


def test_a_deep_target_report_has_its_section_and_its_failures(browser, reports, tmp_path):
    visit = _open(browser, reports["check-deep"])
    _clean(visit, reports["check-deep"])
    _visible_verdict(visit, "FAIL")
    page = visit.page
    assert page.locator("#properties tr.section").first.inner_text().startswith("deep: ")
    headings = page.locator("section.failure h2").all_inner_texts()
    assert any("sigmoid_backward agrees" in text for text in headings), headings
    assert page.locator("section.failure svg").count() >= 1  # a heat map of a wrong block, in its own shape
    _screenshot(visit, "check-deep", tmp_path)
    page.close()


def test_passing_and_error_reports(browser, reports, tmp_path):
    for name, label in (("check-pass", "PASS"), ("check-error", "ERROR")):
        visit = _open(browser, reports[name])
        _clean(visit, reports[name])
        _visible_verdict(visit, label)
        if name == "check-pass":
            assert visit.page.locator("#properties").is_visible()
        else:
            assert visit.page.locator("#error").is_visible()
            assert visit.page.locator("#source tr.hl").first.inner_text().startswith("2")
        _screenshot(visit, name, tmp_path)
        visit.page.close()


def test_hostile_names_and_code_stay_text(browser, reports, tmp_path):
    visit = _open(browser, reports["check-hostile"])
    _clean(visit, reports["check-hostile"])
    page = visit.page
    assert page.locator("img").count() == 0 and page.locator("script").count() == 0
    assert HOSTILE_NAME in page.locator("#title").inner_text()
    assert "# </textarea></pre><img src=y onerror=alert(2)>" in page.locator("#source table.excerpt").inner_text()
    assert '</script><script>alert("code")</script>' in page.locator("#source table.full").text_content()
    page.close()


def test_index_lists_every_report(browser, reports, tmp_path):
    visit = _open(browser, reports["index"])
    _clean(visit, reports["index"])
    rows = visit.page.locator("#reports tbody tr")
    assert rows.count() == len(reports) - 1 and rows.first.is_visible()
    assert rows.first.locator("a").get_attribute("href") == reports["sensitivity"].name
    _screenshot(visit, "index", tmp_path)
    visit.page.close()


def test_mutate_report(browser, reports, tmp_path):
    visit = _open(browser, reports["mutate"])
    _clean(visit, reports["mutate"])
    _visible_verdict(visit, "FAIL")
    page = visit.page
    assert page.locator("#score").is_visible() and page.locator("#mutants").is_visible()
    first = page.locator("#mutants tbody tr").first
    assert "survived" in first.inner_text()
    assert first.locator("pre.diff").is_visible()  # a survivor's diff is open
    assert page.locator("#operator-chart svg").bounding_box()["height"] > 100
    assert page.locator("img").count() == 0
    _screenshot(visit, "mutate", tmp_path)
    page.close()


def test_sensitivity_report(browser, reports, tmp_path):
    visit = _open(browser, reports["sensitivity"])
    _clean(visit, reports["sensitivity"])
    _visible_verdict(visit, "PASS")
    page = visit.page
    for table in ("#smallest-delta", "#detection", "#threshold-sweep"):
        assert page.locator(table).is_visible(), table
    for chart in ("#detection-chart svg", "#threshold-chart svg"):
        box = page.locator(chart).bounding_box()
        assert box["width"] > 300 and box["height"] > 150, chart
    _screenshot(visit, "sensitivity", tmp_path)
    page.close()


def test_notebook_check_report(browser, tmp_path):
    from gradharness.judge.checks import check_file
    from gradharness.mutation.causes import explain
    from gradharness.settings import RunSettings
    from tests.exercise_files import ORIGINAL_NOTEBOOK

    path = Path(shutil.copy(ORIGINAL_NOTEBOOK, tmp_path / ORIGINAL_NOTEBOOK.name))  # no gc_utils.py beside it
    report = write_report(explain(check_file(path, RunSettings(seed=0, max_examples=30))), tmp_path / "notebook.html")
    visit = _open(browser, report)
    _clean(visit, report)
    _visible_verdict(visit, "FAIL")
    page = visit.page
    assert page.locator("#notes").is_visible() and "compatible gc_utils" in page.locator("#notes").inner_text()
    cells = page.locator("#source table.excerpt tr.cell")
    assert cells.count() == 1 and cells.first.is_visible() and cells.first.inner_text().strip().startswith("cell ")
    highlighted = page.locator("#source table.excerpt tr.hl")
    assert highlighted.count() == 2 and highlighted.first.is_visible()
    assert "dW2 = " in highlighted.first.inner_text() and "db1 = " in highlighted.last.inner_text()
    assert '"cell_type"' not in page.locator("#source").text_content()
    _screenshot(visit, "check-notebook", tmp_path)
    page.close()
