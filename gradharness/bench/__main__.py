"""``python -m gradharness.bench``: the speed benchmark (see :mod:`gradharness.bench.speed`)."""

from gradharness.bench.speed import main

main()
