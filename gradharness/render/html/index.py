"""The audit trail: ``index.html`` listing every report in a folder, newest first.

Each report carries its kind, verdict, target and creation time in ``<meta name="gradharness-*">``
tags; the index is rebuilt from those every time a report is written, so it always matches
the folder (a deleted report drops out, a copied-in one appears). Runs writing into one folder at
the same time take turns at the rebuild (a lock file beside the index), so each rebuild starts
after its own report is in and the last one sees every report.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from gradharness.records.store import write_text_atomic
from gradharness.render.html.render import INDEX_NAME, render_index
from gradharness.render.html.viewmodels import IndexEntry, IndexView

_HEAD_BYTES = 8192
LOCK_NAME = ".index.lock"
_KEYS = ("kind", "verdict", "target", "created")


class _MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = dict(attrs)
        name = values.get("name") or ""
        if name.startswith("gradharness-") and values.get("content") is not None:
            self.meta[name.removeprefix("gradharness-")] = values["content"] or ""


def report_metadata(path: Path) -> dict[str, str] | None:
    """The gradharness meta tags of a report, or None if the file is not a gradharness report."""
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            head = stream.read(_HEAD_BYTES)
    except OSError:
        return None
    parser = _MetaParser()
    parser.feed(head)
    if not all(key in parser.meta for key in _KEYS):
        return None
    return parser.meta


def _moment(created: str) -> float:
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return float("-inf")
    return (moment if moment.tzinfo else moment.astimezone()).timestamp()


def build_index_view(folder: Path, *, created: datetime) -> IndexView:
    """Every gradharness report in ``folder``, newest first."""
    entries = []
    for path in Path(folder).glob("*.html"):
        if path.name == INDEX_NAME:
            continue
        meta = report_metadata(path)
        if meta is None:
            continue
        entries.append(
            IndexEntry(
                href=quote(path.name),
                file=path.name,
                created=meta["created"],
                kind=meta["kind"],
                verdict=meta["verdict"],
                target=meta["target"],
            )
        )
    entries.sort(key=lambda entry: (_moment(entry.created), entry.file), reverse=True)
    return IndexView(folder=str(folder), entries=entries, created=created.isoformat(timespec="seconds"))


@contextlib.contextmanager
def index_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s index lock (``flock`` on ``.index.lock``; no lock where there is no ``flock``)."""
    if sys.platform == "win32":
        yield
        return
    import fcntl

    with open(Path(folder) / LOCK_NAME, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_index(folder: Path, *, created: datetime | None = None) -> Path:
    """Rebuild ``folder/index.html`` (atomically, one writer at a time) and return its path."""
    created = created or datetime.now().astimezone()
    path = Path(folder) / INDEX_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with index_lock(path.parent):
        write_text_atomic(path, render_index(build_index_view(folder, created=created)))
    return path
