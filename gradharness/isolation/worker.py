"""Worker process: load a user's file, run the properties, write the result file.

Started by :mod:`gradharness.isolation.sandbox`; never imported by the parent.
Usage: python -m gradharness.isolation.worker JOB.json RESULT.json PROGRESS
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gradharness.errors import GradHarnessError
from gradharness.properties.properties import NetworkFunctions, Property
from gradharness.properties.runner import RunFindings, run_properties
from gradharness.properties.student_checker import check_student_checker
from gradharness.records.serialise import decode, to_json
from gradharness.records.store import write_json_atomic
from gradharness.settings import FunctionNames, RunSettings
from gradharness.usercode.discover import with_key_case
from gradharness.usercode.loader import load_user_file


def _progress_writer(path: Path):
    def write(done: int, total: int, what: str) -> None:
        path.write_text(f"example {done}/{total}: {what}", encoding="utf-8")

    return write


def run_job(job: dict, progress_file: Path) -> dict:
    """Do the job; every outcome, including the user's errors, becomes a result dict."""
    names = decode(FunctionNames, job["names"], "job.names")
    run = decode(RunSettings, job["settings"], "job.settings")
    path = Path(job["path"])
    progress_file.write_text(f"loading {path.name}", encoding="utf-8")
    try:
        loaded = load_user_file(path, names)
    except GradHarnessError as exc:
        return {"error": str(exc)}
    found = loaded.found
    network = None
    if found.network is not None:
        forward, backward = found.network
        network = NetworkFunctions(with_key_case(forward), backward, names.forward_n, names.backward_n)
    progress = _progress_writer(progress_file)
    try:
        findings = run_properties(network, found.one_d, run, progress)
        if found.checker is not None:
            _check_student_checker(found.checker, run, findings, loaded.notes, progress)
    except SystemExit as exc:
        return {"error": f"the checked code called sys.exit({exc.code!r}) during: {progress_file.read_text()}"}
    except Exception as exc:  # a failure in the harness itself is reported, not hidden
        return {"error": f"internal error while checking: {type(exc).__name__}: {exc}"}
    return {"functions": found.found(), "findings": to_json(findings), "notes": loaded.notes}


def _check_student_checker(checker, run: RunSettings, findings: RunFindings, notes: list[str], progress) -> None:
    """Add the file's own gradient_check_n to the findings, once its forward pass is known to be right."""
    forward_failed = any(f.property == Property.FORWARD_COST.name for f in findings.failures)
    if forward_failed:
        notes.append("gradient_check_n is not checked: it relies on forward_propagation_n, which fails")
        return
    student = check_student_checker(checker, run, progress)
    findings.properties.append(student.property)
    findings.failures.extend(student.failures)
    findings.seconds += student.seconds
    if not student.failures:
        notes.append(student.note())


def main(argv: list[str]) -> int:
    """Entry point of the worker process."""
    job_file, result_file, progress_file = (Path(a) for a in argv)
    job = json.loads(job_file.read_text(encoding="utf-8"))
    # The user's prints must not mix with anything the parent reads.
    sys.stdout = sys.stderr
    result = run_job(job, progress_file)
    write_json_atomic(result_file, result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
