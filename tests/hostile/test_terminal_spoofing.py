"""A submission that paints a fake green PASS on the grader's terminal, through every channel it has."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.support import BUGGY, assert_nothing_left, attack, cli

RAW = ("\x1b", "\x9b", "\x07", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)))
"""ESC, the C1 CSI, BEL and the bidi overrides and isolates: none may reach the terminal raw."""

SPOOF_NAME = "spoof\x1b[32mPASS\x1b[0m\u202eyp.py"

SPOOFING = """
import glob as _glob
import os as _os

_FAKE = "\\x1b[1;32mPASS\\x1b[0m all properties hold \\u202etxt.exe\\u2066 \\x9b2J\\x07"


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    print("\\x1b[2K\\r" + _FAKE, flush=True)
    # Straight onto the terminal of whoever started the evaluator, or any process it can reach.
    for path in ["/dev/tty", *_glob.glob("/proc/*/fd/1"), *_glob.glob("/proc/*/fd/2")]:
        try:
            with open(path, "w") as stream:
                stream.write(_FAKE + "\\n")
        except OSError:
            pass
    END
"""

ENDINGS = {
    "raises": ('raise RuntimeError("gradient check done " + _FAKE)', 1),  # a crashed finding: its message shown
    "exits": ("_os._exit(3)", 2),  # the file could not be checked: the last line of its output shown
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_escapes_in_output_messages_and_file_names_never_reach_the_terminal_raw(
    tmp_path: Path, level: str, marker: str, ending: str
) -> None:
    end, code = ENDINGS[ending]
    folder = tmp_path / "submission"
    folder.mkdir()
    path = folder / SPOOF_NAME
    path.write_text(attack(BUGGY, SPOOFING.replace("END", end), marker))
    done = cli("check", str(path), "--isolation", level, "--seed", "0", "--max-examples", "10", "--timeout", "60")
    shown = (done.stdout + done.stderr).decode("utf-8", errors="replace")
    assert done.returncode == code, shown[-2000:]
    found = sorted({repr(c) for c in RAW if c in shown})
    assert not found, f"raw control or bidi characters reached the terminal: {found}\n{shown[-2000:]}"
    assert "spoof\\x1b[32mPASS" in shown  # the file name, escaped
    assert "\\x1b[1;32mPASS\\x1b[0m all properties hold" in shown  # the message or output, escaped
    assert ("FAIL" if code == 1 else "gradharness: error: ") in shown
    assert_nothing_left(marker)
