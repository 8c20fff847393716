"""``python -m mechopt``: the command line (see :mod:`mechopt.cli`)."""

import sys

from .cli import main

sys.exit(main())
