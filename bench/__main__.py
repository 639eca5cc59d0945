"""``python -m bench``: see :func:`bench.cli.main`."""

import sys

from bench.cli import main

sys.exit(main(sys.argv[1:]))
