"""The verdict of a whole run (a check, a campaign, a sweep, one file of a batch): an Enum."""

from __future__ import annotations

from enum import Enum


class RunVerdict(Enum):
    """What a run found; the value is what results files hold."""

    PASS = "pass"  # every property held / every mutant not believed equivalent was detected / measured
    FAIL = "fail"  # a property failed / mutants survived or the checker under test failed the harness proof
    ERROR = "error"  # nothing could be checked or measured

    @property
    def exit_code(self) -> int:
        """The command's exit status: 0 pass, 1 fail, 2 error."""
        return {RunVerdict.PASS: 0, RunVerdict.FAIL: 1}.get(self, 2)
