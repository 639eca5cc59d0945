"""``python -m streamfn``: the same as the ``streamfn`` console script."""

import sys

from streamfn.cli import main

sys.exit(main())
