"""The Qt binding the app runs on: known-bad PySide6 builds are kept out (pyproject.toml excludes them)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Source(QObject):
    fired = Signal(str)
source = Source()
before = sys.getrefcount(True)
for _ in range(1000):
    source.fired.emit("event")
print(sys.getrefcount(True) - before)
"""


def test_emitting_signals_leaks_no_reference_to_true():
    """PySide6 6.12.0's emit() returned True without a reference of its own: every job event then took
    one from ``True``, and on Python 3.11 a long session ended in "Fatal Python error: bool_dealloc"."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip().splitlines()[-1]) == 0
