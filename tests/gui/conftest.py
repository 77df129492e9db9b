"""The GUI tests' fixtures: a factory of main windows on the tiny model, a tiny VGG and a small gallery.

Qt and the app are imported inside the fixtures (pytest collects this file with the rest of the suite).
"""

from __future__ import annotations

import pytest

from ..conftest import tiny_style_engine

# --- GUI fixtures ----------------------------------------------------------------------------------
# Qt and the app are imported inside the fixtures, so the non-GUI tests never load PySide6.


def _settle_for_close(window) -> None:  # noqa: ANN001 - a MainWindow; Qt is not imported at module level
    """Before pytest-qt closes a test's window: stop its jobs and mark the result saved, so closing
    asks nothing (tests of the "save changes?" prompt answer it themselves)."""
    for dialog in (window.batch_dialog, window.train_dialog):
        if dialog is not None:
            dialog.stop_and_wait()
    window.cancel_jobs(wait=True)
    window.undo_stack.setClean()


@pytest.fixture
def make_window(qtbot, tiny_model, tmp_path):
    """A factory of main windows on the tiny model, a tiny VGG and a gallery with two generated paintings.

    Each window is shown, sized 900x600 and closed by pytest-qt after the test, its jobs stopped first.
    """
    from magicbrush_desktop.core.style.gallery import Gallery
    from magicbrush_desktop.gui.gallery import StyleGallery
    from magicbrush_desktop.gui.main_window import MainWindow

    from .gui_support import install_tiny_model, write_painting

    install_tiny_model(tiny_model)
    styles = tmp_path / "styles"
    styles.mkdir()
    write_painting(styles / "swirls.png", seed=5)
    write_painting(styles / "blocks.png", seed=9)
    windows = []

    def make():
        gallery = StyleGallery(Gallery(user_dir=tmp_path / "user-styles", pack_dir=styles))
        w = MainWindow(style_engine=tiny_style_engine(), gallery=gallery)
        qtbot.addWidget(w, before_close_func=_settle_for_close)
        # The shipped model is the app's default; these flows run on the tiny one for speed.
        w.colorize_panel.refresh_models(select="tiny")
        w.resize(900, 600)
        w.show()
        qtbot.waitExposed(w)
        # Tiny optimisation sizes keep the random VGG fast on two cores.
        w.style_panel.size.setValue(64)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.cancel_jobs(wait=True)
