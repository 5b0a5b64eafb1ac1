"""Where the commands keep Hypothesis's files: a cache folder, never the folder a command runs in.

Hypothesis keeps an example database and a cache of the constants it finds in local source
files under its storage directory, ``.hypothesis/`` in the current folder unless told
otherwise. The commands point it at ``$GRADHARNESS_CACHE/hypothesis`` (default:
``$XDG_CACHE_HOME/gradharness/hypothesis``, that is ``~/.cache/gradharness/hypothesis``);
``$HYPOTHESIS_STORAGE_DIRECTORY``, Hypothesis's own setting, is kept when it is set and
``$GRADHARNESS_CACHE`` is not. The library alone (the pytest plugin, a notebook) leaves
Hypothesis's configuration to the user.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

CACHE_VARIABLE = "GRADHARNESS_CACHE"
"""Environment variable: gradharness's cache folder (Hypothesis's files go to its ``hypothesis/``)."""

HYPOTHESIS_VARIABLE = "HYPOTHESIS_STORAGE_DIRECTORY"
"""Hypothesis's own environment variable for its storage directory (read by worker processes too)."""


def _user_cache(environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG specification ignores a relative path
        return Path(xdg)
    try:
        return Path.home() / ".cache"
    except RuntimeError:  # no home directory to be found
        return Path(tempfile.gettempdir()) / f"gradharness-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def cache_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """gradharness's cache folder: ``$GRADHARNESS_CACHE``, else ``$XDG_CACHE_HOME/gradharness`` or ``~/.cache/gradharness``."""
    given = environ.get(CACHE_VARIABLE, "")
    return Path(given).expanduser() if given else _user_cache(environ) / "gradharness"


def hypothesis_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """Hypothesis's storage directory for the commands (see the module docstring for the order)."""
    if not environ.get(CACHE_VARIABLE) and environ.get(HYPOTHESIS_VARIABLE):
        return Path(environ[HYPOTHESIS_VARIABLE]).expanduser()
    return cache_folder(environ) / "hypothesis"


@contextlib.contextmanager
def hypothesis_in_cache(environ: MutableMapping[str, str] = os.environ) -> Iterator[Path]:
    """Point Hypothesis's storage at :func:`hypothesis_folder` while the block runs; yields that folder.

    Set in this process and in the environment, so worker processes started afresh (a fork
    server, ``python -c``, mutmut's runs) use it too; both are put back afterwards.
    """
    folder = hypothesis_folder(environ)
    previous_home = storage_directory(intent_to_write=False).home_directory
    previous_variable = environ.get(HYPOTHESIS_VARIABLE)
    set_hypothesis_home_dir(folder)
    environ[HYPOTHESIS_VARIABLE] = str(folder)
    try:
        yield folder
    finally:
        set_hypothesis_home_dir(previous_home)
        if previous_variable is None:
            environ.pop(HYPOTHESIS_VARIABLE, None)
        else:
            environ[HYPOTHESIS_VARIABLE] = previous_variable
