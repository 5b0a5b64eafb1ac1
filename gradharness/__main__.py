"""python -m gradharness"""

from gradharness.cli import run

run()
