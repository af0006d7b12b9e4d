"""``python -m iseg_bench.cli``: the command line, as the ``iseg-bench`` script runs it."""

from . import main

main()
