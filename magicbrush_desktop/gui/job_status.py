"""Status-bar widgets for the running job: message, progress bar, ETA and Cancel."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ..core.events import Progress


def format_eta(seconds: float) -> str:
    """'12 s', '3 min 05 s', '1 h 02 min'."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {(seconds % 3600) // 60:02d} min"


class EtaClock:
    """Remaining time from the fraction done so far (linear extrapolation, shown once 2 % is done)."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self._start = time.monotonic()
        self._first_fraction: float | None = None

    def eta(self, fraction: float) -> float | None:
        # Measure from the first progress report on: set-up (loading a model) is not work per unit.
        if self._first_fraction is None:
            self._first_fraction, self._start = fraction, time.monotonic()
            return None
        done = fraction - self._first_fraction
        if done < 0.02 or fraction >= 1.0:
            return None
        elapsed = time.monotonic() - self._start
        return elapsed * (1.0 - fraction) / done


class JobStatus(QWidget):
    """Progress bar + ETA + Cancel; hidden while nothing runs."""

    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.eta_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.message, self.bar, self.eta_label, self.cancel_button):
            layout.addWidget(w)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self._clock = EtaClock()
        self._stopping = False
        self.setVisible(False)

    def begin(self, message: str) -> None:
        self._clock.restart()
        self.message.setText(message)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.eta_label.clear()
        self._stopping = False
        self.cancel_button.setEnabled(True)
        self.setVisible(True)

    def set_cancellable(self, cancellable: bool) -> None:
        """Whether anything running can be stopped (a save alone cannot: it finishes its file). Once
        Cancel was clicked it stays off until the next job begins."""
        self.cancel_button.setEnabled(cancellable and not self._stopping)

    def update_progress(self, event: Progress) -> None:
        if event.message:
            self.message.setText(event.message)
        if event.total > 0:
            self.bar.setRange(0, event.total)
            self.bar.setValue(min(event.done, event.total))
            eta = self._clock.eta(event.fraction)
            self.eta_label.setText(f"ETA {format_eta(eta)}" if eta is not None else "")
        else:
            self.bar.setRange(0, 0)

    def cancelling(self) -> None:
        self._stopping = True
        self.message.setText("Stopping\u2026")
        self.cancel_button.setEnabled(False)

    def end(self) -> None:
        self.setVisible(False)
