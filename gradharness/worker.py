"""Worker process: load a user's file, run the properties, write the result file.

Started by :mod:`gradharness.sandbox`; never imported by the parent.
Usage: python -m gradharness.worker JOB.json RESULT.json PROGRESS
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from gradharness.errors import GradHarnessError
from gradharness.propcheck import RunSettings, run_properties
from gradharness.properties import NetworkFunctions
from gradharness.results import write_json_atomic
from gradharness.settings_io import run_settings_from_json
from gradharness.usercode import FunctionNames, find_functions, load_module, read_source


def _progress_writer(path: Path):
    def write(done: int, total: int, what: str) -> None:
        path.write_text(f"example {done}/{total}: {what}", encoding="utf-8")

    return write


def run_job(job: dict, progress_file: Path) -> dict:
    """Do the job; every outcome, including the user's errors, becomes a result dict."""
    names = FunctionNames(**job["names"])
    run: RunSettings = run_settings_from_json(job["settings"])
    path = Path(job["path"])
    progress_file.write_text(f"loading {path.name}", encoding="utf-8")
    try:
        module = load_module(path, read_source(path))
        found = find_functions(module, names)
    except GradHarnessError as exc:
        return {"error": str(exc)}
    network = None
    if found.network is not None:
        network = NetworkFunctions(found.network[0], found.network[1], names.forward_n, names.backward_n)
    try:
        findings = run_properties(network, found.one_d, run, _progress_writer(progress_file))
    except SystemExit as exc:
        return {"error": f"the checked code called sys.exit({exc.code!r}) during: {progress_file.read_text()}"}
    except Exception as exc:  # a failure in the harness itself is reported, not hidden
        return {"error": f"internal error while checking: {type(exc).__name__}: {exc}"}
    return {"functions": found.found(), "findings": asdict(findings)}


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
