"""Sample photos that ship with a dependency, so a new install can be tried on something at once."""

from __future__ import annotations

from pathlib import Path

from .errors import PhotoError
from .paths import resources_dir


def sample_photo_path() -> Path:
    """A black-and-white photo we may redistribute: scikit-image's 'camera' (CC0, Lav Varshney).

    It ships as ``resources/samples/camera.png`` (in wheels and app bundles too); scikit-image's own copy is
    the fallback.
    """
    path = resources_dir() / "samples" / "camera.png"
    if path.is_file():
        return path
    import skimage.data

    path = Path(skimage.data.__file__).parent / "camera.png"
    if not path.is_file():
        raise PhotoError(f"the sample photo (camera.png) is missing from this install ({resources_dir()})")
    return path
