"""The "save changes?" question asked before work would be lost (quit, close, open another photo).

Worded like the apps people know: "Save changes to old.jpg before closing?" with Save, Don't Save and
Cancel; when only a job is running (a batch, a training run, a style run) the choice is
"Stop and Quit" or Cancel, with what stopping does (a batch finishes its current photo, training saves
its progress for Resume).
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"

PROMPT_OBJECT_NAME = "unsaved_prompt"

# What stopping each kind of running job means, for the prompt's details.
JOB_NOTES = {
    "batch": "A batch is running: it stops after the current photo (finished files are kept; "
             "Start again resumes).",
    "training": "A training run is going: it stops after the current step and saves its progress "
                "(Resume continues it).",
    "style": "A style run is in progress: the picture reached so far is lost.",
    "colorize": "Colorizing is in progress and will be stopped.",
}

VERBS = {"quit": ("closing", "Quit"), "open": ("opening another photo", "Open")}


def build_prompt(parent: QWidget, *, action: str, document: str, unsaved: bool, running: list[str]) -> QMessageBox:
    """The question box (not shown). ``action``: "quit" or "open"; ``running``: kinds of running jobs."""
    doing, verb = VERBS.get(action, VERBS["quit"])
    notes = [JOB_NOTES.get(kind, f"A {kind} job is running and will be stopped.") for kind in running]
    box = QMessageBox(parent)
    box.setObjectName(PROMPT_OBJECT_NAME)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Magic Brush")
    if unsaved:
        box.setText(f"Save changes to \u201c{document}\u201d before {doing}?")
        box.setInformativeText(" ".join(["Your result is lost if you don\u2019t save it."] + notes))
        save = box.addButton(QMessageBox.StandardButton.Save)
        box.addButton(QMessageBox.StandardButton.Discard).setText("Don\u2019t Save")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(save)
    else:
        what = {"batch": "the batch", "training": "training", "style": "the style run",
                "colorize": "colorizing"}
        jobs = " and ".join(what.get(k, k) for k in running)
        box.setText(f"Stop {jobs} and {verb.lower()}?")
        box.setInformativeText(" ".join(notes))
        stop = box.addButton(f"Stop and {verb}", QMessageBox.ButtonRole.DestructiveRole)
        stop.setObjectName("stop_and_continue")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    return box


def ask(parent: QWidget, *, action: str, document: str, unsaved: bool, running: list[str]) -> str:
    """Ask (modal) and return SAVE, DISCARD or CANCEL; nothing to lose returns DISCARD at once."""
    if not unsaved and not running:
        return DISCARD
    box = build_prompt(parent, action=action, document=document, unsaved=unsaved, running=running)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    if clicked is None:
        return CANCEL
    if clicked is box.button(QMessageBox.StandardButton.Save):
        return SAVE
    if clicked is box.button(QMessageBox.StandardButton.Cancel):
        return CANCEL
    return DISCARD
