"""python -m gradharness"""

from gradharness.cli.main import run

run()
