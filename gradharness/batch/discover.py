"""Which files a batch checks: paths, folders (searched recursively) and glob patterns."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".py", ".ipynb")
# Files found in a folder that are the exercise's helpers or tooling, not submissions.
_HELPER = re.compile(
    r"^(gc_utils|testCases\w*|testcases\w*|public_tests\w*|test_utils\w*|__init__|conftest|setup)\.py$"
)
_SKIPPED_FOLDERS = {"__pycache__", ".ipynb_checkpoints", ".git", ".venv", "venv", "node_modules"}
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class BatchInputs:
    """The files to check, in a stable order; what matched nothing; helpers and links skipped in folders.

    A symbolic link found in a folder is not checked: it may point at a classmate's file (or any
    file of the grader's). A link named on the command line is checked: the grader asked for it.
    """

    files: tuple[Path, ...]
    unmatched: tuple[str, ...]
    helpers: tuple[Path, ...]
    links: tuple[Path, ...] = ()


def is_batch(arguments: list[str] | tuple[str, ...]) -> bool:
    """More than one argument, a folder, or a glob pattern that is not itself an existing file."""
    if len(arguments) != 1:
        return True
    path = Path(arguments[0])
    return path.is_dir() or (not path.exists() and bool(_GLOB.search(str(arguments[0]))))


def _from_folder(folder: Path, links: list[Path]) -> tuple[list[Path], list[Path]]:
    files: list[Path] = []
    helpers: list[Path] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue
        if any(part in _SKIPPED_FOLDERS or part.startswith(".") for part in path.relative_to(folder).parts[:-1]):
            continue
        if path.is_symlink():
            links.append(path)
            continue
        (helpers if _HELPER.match(path.name) else files).append(path)
    return files, helpers


def discover(arguments: list[str] | tuple[str, ...]) -> BatchInputs:
    """Expand paths, folders and globs (``**`` recurses) into files, each once, in argument order."""
    files: list[Path] = []
    unmatched: list[str] = []
    helpers: list[Path] = []
    links: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found, skipped = _from_folder(path, links)
            files += found
            helpers += skipped
        elif path.exists():
            files.append(path)
        elif _GLOB.search(str(argument)):
            matches = [Path(m) for m in sorted(glob.glob(str(argument), recursive=True))]
            for match in matches:
                if match.is_dir():
                    found, skipped = _from_folder(match, links)
                    files += found
                    helpers += skipped
                elif match.suffix.lower() in SUFFIXES:
                    files.append(match)
            if not matches:
                unmatched.append(str(argument))
        else:
            unmatched.append(str(argument))
    seen: set[Path] = set()
    unique = []
    for file in files:
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(file)
    return BatchInputs(tuple(unique), tuple(unmatched), tuple(helpers), tuple(links))


def shared_folders(files: list[Path] | tuple[Path, ...]) -> frozenset[Path]:
    """The folders that hold more than one of ``files`` (resolved): their submissions get none of the .py beside them.

    A submission alone in its folder has that folder to itself, helpers included; in a shared folder
    a helper module may be any classmate's, so it is given to nobody (trusted ones come with ``--helpers``).
    """
    counts: dict[Path, int] = {}
    for file in files:
        parent = Path(file).resolve().parent
        counts[parent] = counts.get(parent, 0) + 1
    return frozenset(folder for folder, count in counts.items() if count > 1)
