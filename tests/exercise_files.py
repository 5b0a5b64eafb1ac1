"""Catalogue of the exercise files under tests/fixtures/exercise/ and what `gradharness check` must say.

notebooks/ holds the exercise's notebook as handed out (its two planted bugs) and the
corrected one, beside the exercise's own gc_utils.py (hard-coded 4-5-3-1 helpers);
testCases.py and public_tests.py are missing, as on a student's laptop. scripts/ holds
files as students keep them, with no helper module beside them.
"""

from __future__ import annotations

from pathlib import Path

EXERCISE = Path(__file__).parent / "fixtures" / "exercise"
ORIGINAL_NOTEBOOK = EXERCISE / "notebooks" / "Gradient_Checking.ipynb"
CORRECTED_NOTEBOOK = EXERCISE / "notebooks" / "Gradient_Checking_corrected.ipynb"

# relative path -> exit code of `gradharness check`
EXPECTED_EXIT: dict[str, int] = {
    "notebooks/Gradient_Checking.ipynb": 1,  # dW2 and db1 wrong (the planted bugs)
    "notebooks/Gradient_Checking_corrected.ipynb": 0,
    "scripts/gradient_checking_exported.py": 0,  # nbconvert export: get_ipython() calls
    "scripts/tab_indented_tests_at_import.py": 0,  # tabs; its own test at import fails
    "scripts/imports_gc_utils_not_shipped.py": 0,  # import gc_utils, not shipped
    "scripts/lowercase_keys_crlf.py": 0,  # w1/dw1 keys, list cache, 1x1 cost, print_msg, CRLF, UTF-8 comments
    "scripts/legacy_cp1252_mixed_tabs.py": 0,  # Windows-1252 comments, tabs and spaces mixed
    "scripts/checker_forgets_two.py": 1,  # backprop right, its gradient_check_n rejects it
    "scripts/checker_norms_only.py": 1,  # backprop right, its gradient_check_n accepts wrong ones
    "scripts/needs_testcases.py": 2,  # backward needs a function only testCases had
}

EXPECTED_WRONG_BLOCKS: dict[str, set[str]] = {
    "notebooks/Gradient_Checking.ipynb": {"dW2", "db1"},
}

# The file's own gradient_check_n: "passed", "failed", or absent (not checked).
EXPECTED_STUDENT_CHECKER: dict[str, str] = {
    "notebooks/Gradient_Checking.ipynb": "passed",
    "notebooks/Gradient_Checking_corrected.ipynb": "passed",
    "scripts/gradient_checking_exported.py": "passed",
    "scripts/imports_gc_utils_not_shipped.py": "passed",
    "scripts/lowercase_keys_crlf.py": "passed",
    "scripts/checker_forgets_two.py": "failed",
    "scripts/checker_norms_only.py": "failed",
}

# A few words of the one-line notes each file must produce when loaded.
EXPECTED_NOTES: dict[str, list[str]] = {
    "notebooks/Gradient_Checking.ipynb": [
        "read 11 code cells",
        "ignored 2 IPython magic/shell lines",
        "module-level code failed and was skipped",
        "No module named 'testCases'",
    ],
    "notebooks/Gradient_Checking_corrected.ipynb": ["!pip -q install numpy", "module-level code failed"],
    "scripts/gradient_checking_exported.py": ["using gradharness's compatible gc_utils", "4 get_ipython() calls"],
    "scripts/tab_indented_tests_at_import.py": ["module-level code failed and was skipped", "line 5"],
    "scripts/imports_gc_utils_not_shipped.py": ["using gradharness's compatible gc_utils"],
    "scripts/lowercase_keys_crlf.py": [],
    "scripts/legacy_cp1252_mixed_tabs.py": ["Windows-1252", "8-column tab stops"],
    "scripts/checker_forgets_two.py": ["using gradharness's compatible gc_utils"],
    "scripts/checker_norms_only.py": ["using gradharness's compatible gc_utils"],
}
