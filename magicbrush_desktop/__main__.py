"""Entry point of the ``magicbrush`` console script and ``python -m magicbrush_desktop``.

A subcommand runs the CLI; no arguments, or only photo paths, open the desktop app. Qt is imported only
for the app, so command-line jobs never load it.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from .cli import SUBCOMMANDS

    if argv and (argv[0] in SUBCOMMANDS or argv[0].startswith("-") and argv[0] not in ("--",)):
        from .cli import main as cli_main

        return cli_main(argv)
    from .gui.app import run_app

    return run_app([a for a in argv if a != "--"])


if __name__ == "__main__":
    sys.exit(main())
