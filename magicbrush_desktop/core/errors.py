"""Errors a user can read: each carries a message meant for a dialog or a CLI line, not a traceback."""


class MagicBrushError(Exception):
    """Base class of every error the core raises on purpose."""


class PhotoError(MagicBrushError):
    """A photo cannot be read or written (missing, not an image, truncated, too big, ...)."""


class ModelError(MagicBrushError):
    """A model file is missing, corrupt, foreign or of an unknown architecture."""


class WriteError(PhotoError):
    """A file could not be written (read-only folder, full disk, a folder in the way...).

    ``errno`` keeps the system's reason, so a batch can stop on a full disk and carry on otherwise.
    """

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno

    @property
    def disk_full(self) -> bool:
        import errno as _errno

        return self.errno in (_errno.ENOSPC, getattr(_errno, "EDQUOT", _errno.ENOSPC))


class OutputExists(MagicBrushError):
    """The output file exists and the user did not ask to replace it."""

    def __init__(self, path, hint: str = "use --overwrite to replace it, or choose another name") -> None:  # noqa: ANN001
        super().__init__(f"'{path}' already exists; {hint}")
        self.path = path
