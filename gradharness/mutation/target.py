"""What is mutated (a backward pass in a file) and what judges it (a checker), as plain data.

Loading these in a worker process is in :mod:`gradharness.mutation.loading`; here
nothing is executed, only read.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

from gradharness.errors import UserCodeError
from gradharness.model import network
from gradharness.records.environment import file_sha256
from gradharness.usercode.source import read_source

REFERENCE_LABEL = "gradharness/model/network.py"
"""How the built-in reference's file is named in diffs and reports."""


@dataclass(frozen=True)
class Target:
    """A backward pass to mutate: its file's text, and the names of the network pair in it."""

    label: str
    path: str | None  # None for the built-in reference
    source: str
    backward: str = "backward_propagation_n"
    forward: str = "forward_propagation_n"

    @property
    def builtin(self) -> bool:
        """True for gradharness's own reference network."""
        return self.path is None

    def describe(self) -> dict[str, str | None]:
        """Plain-data description for results files."""
        path = self.path
        return {
            "path": path if path is not None else f"builtin:{self.label}",
            "sha256": file_sha256(Path(path)) if path is not None else None,
            "function": self.backward,
        }


def reference_target() -> Target:
    """The built-in reference backward pass, :func:`gradharness.model.network.backward_propagation_n`."""
    source = Path(inspect.getsourcefile(network) or "").read_text(encoding="utf-8")
    return Target(REFERENCE_LABEL, None, source)


def file_target(
    path: Path, *, backward: str = "backward_propagation_n", forward: str = "forward_propagation_n"
) -> Target:
    """A user's exercise file (read, not executed)."""
    source = read_source(Path(path))
    return Target(str(path), str(Path(path).resolve()), source, backward, forward)


@dataclass(frozen=True)
class CheckerSpec:
    """The checker under test: the built-in one (path None) or a user's ``gradient_check_n``."""

    path: str | None = None
    function: str = "gradient_check_n"

    @property
    def builtin(self) -> bool:
        """True for gradharness's own checker."""
        return self.path is None

    def describe(self) -> dict[str, str | None]:
        """Plain-data description for results files."""
        if self.path is None:
            return {"kind": "builtin", "path": None, "sha256": None, "function": "gradharness.gradient_check_n"}
        return {"kind": "file", "path": self.path, "sha256": file_sha256(Path(self.path)), "function": self.function}


def checker_spec(path: Path | None, function: str = "gradient_check_n") -> CheckerSpec:
    """A checker under test from a file (which must exist), or the built-in checker."""
    if path is None:
        return CheckerSpec()
    source = read_source(Path(path))  # a missing or undecodable file is reported now, in one line
    if function not in source:
        raise UserCodeError(f"{path}: defines no {function} (the checker under test)")
    return CheckerSpec(str(Path(path).resolve()), function)
