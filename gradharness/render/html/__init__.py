"""HTML audit reports: view models built from result records, rendered with Jinja2 templates.

    from gradharness.render.html import write_report
    path = write_report(record)            # reports/check-20260101-120000-000000-file.html + reports/index.html
    write_report(record, Path("out.html"))  # exactly there

A report is one self-contained file (inline CSS and SVG, no scripts, nothing fetched).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from gradharness.errors import ResultsFormatError
from gradharness.records.store import write_text_atomic
from gradharness.render.html.render import DEFAULT_FOLDER, default_report_path

__all__ = ["DEFAULT_FOLDER", "render_report", "write_report"]


def render_report(
    record: Any, *, created: datetime | None = None, search: list[Path] | None = None, rubric: Any = None
) -> str:
    """The HTML of a check, mutate or sensitivity record.

    * ``created``: the time shown in the report (default: now).
    * ``search``: folders where a relative target path is also looked for (its code is shown).
    * ``rubric``: what a check's score is counted by (None: the default rubric).
    """
    from gradharness.render.html.render import render_check
    from gradharness.render.html.viewmodels import build_check_view

    created = created or datetime.now().astimezone()
    kind = getattr(record, "kind", None)
    if kind == "check":
        scoring = {"rubric": rubric} if rubric is not None else {}
        return render_check(build_check_view(record, created=created, search=search, **scoring))
    if kind in ("mutate", "sensitivity"):
        from gradharness.render.html import mutation_viewmodels as views
        from gradharness.render.html.render import render_mutate, render_sensitivity

        if kind == "mutate":
            return render_mutate(views.build_mutate_view(record, created=created))
        return render_sensitivity(views.build_sensitivity_view(record, created=created))
    raise ResultsFormatError(f"no report for results of kind {kind!r}")


def write_report(
    record: Any,
    path: Path | None = None,
    *,
    folder: Path = DEFAULT_FOLDER,
    search: list[Path] | None = None,
    rubric: Any = None,
) -> Path:
    """Render ``record`` and write it atomically; return where.

    Without ``path`` the report goes to ``folder`` under a timestamped name. Whenever a report lands
    in ``folder``, ``folder/index.html`` (the audit trail, newest first) is rebuilt.
    """
    from gradharness.render.html.index import write_index

    created = datetime.now().astimezone()
    if path is None:
        target = _target_of(record)
        path = default_report_path(record.kind, str(target), created, Path(folder))
    path = Path(path)
    write_text_atomic(path, render_report(record, created=created, search=search, rubric=rubric))
    if path.parent.resolve() == Path(folder).resolve():
        write_index(Path(folder), created=created)
    return path


def _target_of(record: Any) -> str:
    target = getattr(record, "target", None)
    if isinstance(target, dict):
        return str(target.get("path", ""))
    return str(target or "")
