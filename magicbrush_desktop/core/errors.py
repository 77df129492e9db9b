"""Errors a user can read: each carries a message meant for a dialog or a CLI line, not a traceback."""


class MagicBrushError(Exception):
    """Base class of every error the core raises on purpose."""


class PhotoError(MagicBrushError):
    """A photo cannot be read or written (missing, not an image, truncated, too big, ...)."""


class ModelError(MagicBrushError):
    """A model file is missing, corrupt, foreign or of an unknown architecture."""


class Cancelled(MagicBrushError):
    """A long job stopped because the user asked it to."""
