"""``magicbrush`` and ``python -m magicbrush_desktop``: the app, or a CLI subcommand.

``magicbrush`` alone, or followed only by photo paths, opens the desktop app; ``magicbrush <subcommand>``
(or ``--help``/``--version``) runs the command line. Qt is imported only for the app, so the CLI stays
light and works on machines without a display.
"""

from __future__ import annotations

import sys


def _wants_cli(argv: list[str]) -> bool:
    if not argv:
        return False
    from .cli import SUBCOMMANDS

    first = argv[0]
    return first in SUBCOMMANDS or first.startswith("-")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _wants_cli(argv):
        from .cli import main as cli_main

        return cli_main(argv)
    from .gui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
