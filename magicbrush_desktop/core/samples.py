"""Sample photos that ship with a dependency, so a new install can be tried on something at once."""

from __future__ import annotations

from pathlib import Path

from .errors import PhotoError


def sample_photo_path() -> Path:
    """A black-and-white photo we may redistribute: scikit-image's 'camera' (CC0, Lav Varshney)."""
    import skimage.data

    path = Path(skimage.data.__file__).parent / "camera.png"
    if not path.is_file():
        raise PhotoError("the sample photo (scikit-image's camera.png) is missing from this install")
    return path
