"""The Magic Brush desktop app (PySide6).

Everything here is presentation: the pictures, models, training and batch logic live in
:mod:`magicbrush_desktop.core`, which never imports Qt. Long core jobs are generators of
:mod:`magicbrush_desktop.core.events`; :mod:`.worker` runs them on a ``QThread``.
"""
