"""Versions and platform, recorded in every result so a finding can be reproduced."""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib import metadata
from pathlib import Path


def tool_version() -> str:
    """gradharness's installed version (or 'unknown' when run from a source tree)."""
    try:
        return metadata.version("gradharness")
    except metadata.PackageNotFoundError:
        return "unknown"


def environment() -> dict[str, str]:
    """Tool, Python, numpy and Hypothesis versions, and the platform."""
    import hypothesis
    import numpy

    return {
        "gradharness": tool_version(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "hypothesis": hypothesis.__version__,
        "platform": platform.platform(),
    }


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file's bytes, None if it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
