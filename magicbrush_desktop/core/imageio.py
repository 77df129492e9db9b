"""Reading and writing photos with Pillow, keeping what users care about.

Reading applies EXIF orientation, keeps the ICC profile and the EXIF block (orientation reset to 1),
keeps alpha aside so it can be re-attached, and computes the full-precision lightness (16-bit greys keep
their precision). Writing is atomic (temporary file + rename) and never touches an existing source.
"""

from __future__ import annotations

import io
import numbers
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .color import lightness, lightness_of_grey
from .errors import PhotoError

if TYPE_CHECKING:
    from .provenance import Provenance

# 40 MP photos must work; far bigger ones are almost always decompression bombs (or would not fit in
# memory anyway). Checked by _open on the header's size before decoding, with our message.
MAX_PIXELS = 150_000_000

# Set once, at import, never per call (warnings filters are process-wide, and changing them around
# each read, as warnings.catch_warnings does, races between threads reading photos at once). Pillow
# warns for photos between its MAX_IMAGE_PIXELS (89 MP) and twice it; _open applies MAX_PIXELS to every
# photo before decoding and refuses bombs with a readable error, so that warning would only print a
# "decompression bomb DOS attack" line to stderr for a 100 MP scan we accept.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning, module=r"PIL\.")

# Extensions we read when scanning folders; anything else in a folder is skipped quietly.
READ_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif", ".jfif"}
)
from .defaults import SAVE_FORMATS  # noqa: E402 - light, shared with the CLI parser
FORMAT_EXTENSIONS = {"jpg": ".jpg", "png": ".png", "tiff": ".tif", "webp": ".webp"}

_EXIF_ORIENTATION = 0x0112
# A channel spread (max - min over R, G, B) this small everywhere means a grey photo stored as RGB.
_GREY_SPREAD = 6


@dataclass
class Photo:
    """A decoded photo, upright, with what is needed to write a faithful result.

    Attributes:
        rgb: (H, W, 3) uint8 sRGB pixels (alpha removed, orientation applied).
        lightness: (H, W) float32 CIE L* in 0..100 at full precision.
        alpha: (H, W) uint8 alpha channel, or None.
        icc_profile: the embedded ICC profile (RGB or grey), or None.
        exif: the EXIF block with orientation reset to 1, or None.
        source_format: Pillow's format name ("JPEG", "PNG", ...).
        is_greyscale: True when the photo has no colour of its own (grey modes or R = G = B).
        notes: things the user should know (first frame of an animation, EXIF dropped, ...).
        path: where it came from, if a file.
    """

    rgb: np.ndarray
    lightness: np.ndarray
    alpha: np.ndarray | None = None
    icc_profile: bytes | None = None
    exif: bytes | None = None
    source_format: str = ""
    is_greyscale: bool = False
    notes: list[str] = field(default_factory=list)
    path: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


def is_image_path(path: Path) -> bool:
    """True for file names with an image extension we read."""
    return path.suffix.lower() in READ_EXTENSIONS


def _too_large(name: str) -> PhotoError:
    return PhotoError(
        f"{name} is too large to open safely (over {MAX_PIXELS // 1_000_000} megapixels); "
        "it may be a decompression bomb"
    )


def _open(source: Path | bytes) -> Image.Image:
    """Open and fully decode a photo, refusing bombs and truncated files with a readable PhotoError.

    Thread-safe: two threads (a batch worker and the GUI, or the Ray workers' threads) read photos at
    once, so nothing here changes Pillow's process-wide settings. The pixel limit is our own check on
    the header's size, made before a single pixel is decoded (``Image.MAX_IMAGE_PIXELS`` is left as it
    is; Pillow's own hard refusal, at twice it, gives the same message). Truncated files fail because
    ``ImageFile.LOAD_TRUNCATED_IMAGES`` keeps Pillow's default, False: Magic Brush never sets it.
    """
    name = "the data" if isinstance(source, bytes) else f"'{Path(source).name}'"
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.exists():
            # The whole path as given: the name alone hides a typo in the folder part.
            raise PhotoError(f"'{path}' does not exist")
        if path.is_dir():
            raise PhotoError(f"{name} is a folder, not a photo")
        if path.stat().st_size == 0:
            raise PhotoError(f"{name} is an empty file (0 bytes)")
    img: Image.Image | None = None
    try:
        # Image.open reads the header only; the size is known before any decoding.
        img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        width, height = img.size
        # Read MAX_PIXELS at call time (tests and callers may lower it on this module).
        if max(1, width) * max(1, height) > MAX_PIXELS:
            raise _too_large(name)
        # A truncated file is an error, not a half-grey picture (LOAD_TRUNCATED_IMAGES is False).
        img.load()
        return img
    except PhotoError:
        if img is not None:
            img.close()
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The error: Pillow's own hard limit (twice MAX_IMAGE_PIXELS), met before our check. The
        # warning arrives as an exception only if a filter added after ours turned it into an error.
        raise _too_large(name) from exc
    except UnidentifiedImageError as exc:
        raise PhotoError(f"{name} is not an image Magic Brush can read") from exc
    except OSError as exc:
        raise PhotoError(f"{name} could not be read: {exc}") from exc
    except (ValueError, SyntaxError) as exc:  # Pillow raises these for some corrupt headers
        raise PhotoError(f"{name} is damaged: {exc}") from exc


def _upright(img: Image.Image, notes: list[str]) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - a corrupt EXIF block must not cost the user the photo
        notes.append("EXIF orientation could not be read; the photo is used as stored")
        return img


def _clean_exif(img: Image.Image, notes: list[str]) -> bytes | None:
    """EXIF bytes with orientation reset to 1, or None if absent or unreadable."""
    if "exif" not in img.info:
        return None
    try:
        # A fresh Exif object: changing img.getexif() would also change what exif_transpose reads.
        exif = Image.Exif()
        raw = img.info["exif"]
        exif.load(raw[6:] if raw.startswith(b"Exif\x00\x00") else raw)
        if _EXIF_ORIENTATION in exif:
            exif[_EXIF_ORIENTATION] = 1
        data = exif.tobytes()
        # Round-trip once: a block Pillow cannot parse again would break the saved file.
        Image.Exif().load(data)
        return data
    except Exception:  # noqa: BLE001 - corrupt EXIF is common in real scans
        notes.append("the EXIF block is damaged and was not kept")
        return None


def read_photo(source: Path | str | bytes) -> Photo:
    """Read a photo from a path or bytes.

    Raises:
        PhotoError: with a readable message for missing, empty, non-image, truncated or huge files.
    """
    path = None if isinstance(source, bytes) else Path(source)
    img = _open(path if path is not None else source)
    notes: list[str] = []
    fmt = img.format or ""
    n_frames = getattr(img, "n_frames", 1)
    if n_frames > 1:
        img.seek(0)
        notes.append(f"animated image: only the first of its {n_frames} frames is used")
    exif = _clean_exif(img, notes)
    icc = img.info.get("icc_profile") or None
    img = _upright(img, notes)

    alpha = None
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        alpha = np.asarray(img.getchannel("A"), dtype=np.uint8).copy()
        img = img.convert("RGB" if mode not in ("LA", "La") else "L")
        mode = img.mode

    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        raw = np.asarray(img)
        grey16 = raw.astype(np.uint16) if mode != "I" else np.clip(raw, 0, 65535).astype(np.uint16)
        if mode == "I" and raw.max() <= 255:
            grey16 = (grey16 * 257).astype(np.uint16)
        l_star = lightness_of_grey(grey16)
        grey8 = (grey16 // 257).astype(np.uint8)
        rgb = np.repeat(grey8[..., None], 3, axis=2)
        return Photo(rgb, l_star, alpha, icc, exif, fmt, True, notes, path)
    if mode in ("1", "L"):
        grey8 = np.asarray(img.convert("L"), dtype=np.uint8)
        rgb = np.repeat(grey8[..., None], 3, axis=2)
        return Photo(rgb, lightness_of_grey(grey8), alpha, icc, exif, fmt, True, notes, path)
    if mode == "CMYK":
        # A CMYK profile cannot describe the RGB result; the plain conversion is the honest choice.
        if icc:
            notes.append("the CMYK colour profile was not carried over to the RGB result")
        icc = None
    if mode != "RGB":
        img = img.convert("RGB")
    rgb = np.asarray(img, dtype=np.uint8).copy()
    spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    is_grey = bool(np.percentile(spread, 99) <= _GREY_SPREAD)
    l_star = lightness_of_grey(rgb[..., 1]) if is_grey else lightness(rgb)
    return Photo(rgb, l_star, alpha, icc, exif, fmt, is_grey, notes, path)


def resize_image(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """An image at another pixel size: area filter when shrinking (no aliasing), bicubic when enlarging.

    Args:
        image: (H, W) or (H, W, C) array, uint8 or float32 (any value range: bicubic may overshoot it
            slightly for floats; uint8 saturates).
        size_hw: the new (height, width), as :func:`.sizing.fit_longest_side` gives it.
    Returns:
        (height, width[, C]) array of the same dtype; ``image`` itself when the size is already right.
    """
    h, w = size_hw
    if (h, w) == image.shape[:2]:
        return image
    shrinking = h * w < image.shape[0] * image.shape[1]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def format_from_path(path: Path) -> str:
    """Our format key ('jpg', 'png', 'tiff', 'webp') for an output path's extension."""
    ext = path.suffix.lower()
    for key, e in FORMAT_EXTENSIONS.items():
        if ext == e or (key == "jpg" and ext in (".jpeg", ".jpe")) or (key == "tiff" and ext == ".tiff"):
            return key
    raise PhotoError(f"cannot save as '{ext or path.name}': use .jpg, .png, .tif or .webp")


def encode_image(
    rgb: np.ndarray,
    fmt: str,
    *,
    alpha: np.ndarray | None = None,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    quality: int = 95,
    xmp: bytes | None = None,
) -> bytes:
    """Encode (H, W, 3) uint8 RGB (plus optional alpha) into the bytes of a file of format ``fmt``.

    ``xmp`` (an XMP packet) is embedded in JPEG, WebP and PNG (iTXt) files; TIFF keeps EXIF only.
    """
    if fmt not in SAVE_FORMATS:
        raise PhotoError(f"unknown output format '{fmt}': choose one of {', '.join(SAVE_FORMATS)}")
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral) or not 1 <= quality <= 100:
        raise PhotoError(f"quality must be a whole number from 1 to 100 (got {quality!r})")
    quality = int(quality)  # numpy integers too
    img = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    if alpha is not None and fmt != "jpg":
        img.putalpha(Image.fromarray(np.ascontiguousarray(alpha), "L"))
    params: dict = {}
    # Only an RGB profile can describe RGB output (a grey scan's profile would make the file invalid).
    if icc_profile and icc_profile[16:20] == b"RGB ":
        params["icc_profile"] = icc_profile
    if exif:
        params["exif"] = exif
    if xmp and fmt in ("jpg", "webp"):
        params["xmp"] = xmp
    elif xmp and fmt == "png":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=False)
        params["pnginfo"] = info
    if fmt == "jpg":
        params.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=True)
    elif fmt == "webp":
        params.update(quality=quality, method=4)
    elif fmt == "tiff":
        params.update(compression="tiff_deflate")
    elif fmt == "png":
        params.update(optimize=False, compress_level=6)
    buf = io.BytesIO()
    img.save(buf, SAVE_FORMATS[fmt], **params)
    return buf.getvalue()


def atomic_write_bytes(path: Path, data: bytes, *, replace: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A crash or Ctrl-C leaves either the old file or the new one, never half a file. ``replace=False``
    never replaces an existing file (:class:`.errors.OutputExists`). An OSError (read-only folder, full
    disk) becomes a readable :class:`.errors.WriteError` keeping its ``errno`` (see :mod:`.files`).
    """
    from .files import atomic_write

    atomic_write(path, data, replace=replace)


def save_image(
    path: Path | str,
    rgb: np.ndarray,
    *,
    like: Photo | None = None,
    fmt: str | None = None,
    quality: int = 95,
    alpha: np.ndarray | None = None,
    provenance: "Provenance | None" = None,
    keep_metadata: bool = True,
    replace: bool = True,
) -> Path:
    """Save RGB pixels atomically, carrying over alpha, ICC and EXIF from ``like``.

    ``provenance`` (what Magic Brush did, with which model or style) is recorded in EXIF Software and
    ImageDescription and in XMP (see :mod:`.provenance`); ``keep_metadata=False`` drops the original's
    EXIF (camera, dates, GPS) but still records the provenance.

    Args:
        path: output file; its extension picks the format unless ``fmt`` is given.
        rgb: (H, W, 3) uint8.
        like: the source photo whose alpha, ICC profile and EXIF are kept.
    Returns:
        The path written.
    """
    path = Path(path)
    data = encode_photo(rgb, fmt or format_from_path(path), like=like, quality=quality, alpha=alpha,
                        provenance=provenance, keep_metadata=keep_metadata)
    atomic_write_bytes(path, data, replace=replace)
    return path


def encode_photo(
    rgb: np.ndarray,
    fmt: str,
    *,
    like: Photo | None = None,
    quality: int = 95,
    alpha: np.ndarray | None = None,
    provenance: "Provenance | None" = None,
    keep_metadata: bool = True,
) -> bytes:
    """The file bytes :func:`save_image` writes: alpha, ICC and EXIF from ``like``, plus provenance.

    Separate from the write so a batch worker on another machine (see :mod:`.cluster`) can encode and
    the machine that owns the output folder writes the same bytes.
    """
    if alpha is None and like is not None and like.alpha is not None:
        if like.alpha.shape == rgb.shape[:2]:
            alpha = like.alpha
    exif = like.exif if like is not None and keep_metadata else None
    xmp = None
    if provenance is not None:
        from .provenance import stamp_exif, xmp_packet

        exif, xmp = stamp_exif(exif, provenance), xmp_packet(provenance)
    return encode_image(
        rgb,
        fmt,
        alpha=alpha,
        icc_profile=like.icc_profile if like is not None else None,
        exif=exif,
        quality=quality,
        xmp=xmp,
    )
