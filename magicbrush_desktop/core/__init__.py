"""The Qt-free engine of Magic Brush, shared by the CLI and the desktop app.

Nothing in this package imports Qt: an import-linter contract in ``pyproject.toml`` keeps it so.
Long jobs are generators that yield small progress events (see :mod:`.events`), so a GUI can run
them in a worker thread and cancel between yields.
"""
