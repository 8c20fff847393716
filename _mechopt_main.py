"""Entry point of the ``mechopt`` console script.

It lives outside the :mod:`mechopt` package on purpose: importing ``mechopt.cli``
first runs ``mechopt/__init__.py`` (numpy, scipy, pandas, HiGHS: about a second),
and a Ctrl-C during those imports must still end with the one line
``mechopt: interrupted`` and exit status 130, not a traceback.
"""

import sys


def main() -> None:
    """Import the command line and run it; Ctrl-C at any moment exits 130 with one line."""
    try:
        from mechopt.cli import main as run

        code = run()
    except KeyboardInterrupt:
        print("mechopt: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
