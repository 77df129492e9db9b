"""Provenance: what a saved result says about itself in its metadata.

Careful archives want a colorized or stylized scan to say so, and with what. Every file Magic Brush
writes (desktop exports, batch and CLI outputs) records it in two places:

- EXIF ``Software`` (0x0131) = "Magic Brush <version>" and ``ImageDescription`` (0x010E) = e.g.
  "Colorized by Magic Brush 0.1.0 with the model magicbrush-colorizer-v1 (colour strength 1.00)".
  An original description (an archive's caption) is kept, with ours after it. EXIF text is ASCII, so
  non-ASCII names are transliterated there.
- an XMP packet (JPEG, PNG, WebP) with ``xmp:CreatorTool``, ``dc:description`` and a
  ``xmpMM:History`` entry in full Unicode.

All other EXIF tags of the original (camera, dates, captions, GPS) are kept as they are.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from PIL import Image

from .. import __version__

SOFTWARE_TAG = 0x0131
DESCRIPTION_TAG = 0x010E
APP_NAME = "Magic Brush"


def software() -> str:
    return f"{APP_NAME} {__version__}"


@dataclass(frozen=True)
class Provenance:
    """What was done to a photo: colorized (with which model and strength) and/or stylized (styles)."""

    model: str | None = None  # colorizer model name; None = not colorized
    strength: float | None = None
    styles: tuple[str, ...] = ()  # display names of the styles; empty = not stylized

    @property
    def action(self) -> str:
        if self.model and self.styles:
            return "colorized and stylized"
        return "stylized" if self.styles else "colorized"

    def description(self) -> str:
        """One readable sentence, e.g. "Colorized by Magic Brush 0.1.0 with the model X"."""
        parts = []
        if self.model:
            text = f"with the model {self.model}"
            if self.strength is not None:
                text += f" (colour strength {self.strength:.2f})"
            parts.append(text)
        if self.styles:
            parts.append(("then " if self.model else "") + "in the style of " + " + ".join(self.styles))
        return f"{self.action.capitalize()} by {software()} " + ", ".join(parts)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return folded.replace("\u2014", "-")


def stamp_exif(exif: bytes | None, provenance: Provenance) -> bytes:
    """The EXIF block ``exif`` (or a new one) with Software and ImageDescription saying what we did."""
    data = Image.Exif()
    if exif:
        data.load(exif)
    ours = _ascii(provenance.description())
    original = data.get(DESCRIPTION_TAG)
    if isinstance(original, bytes):
        original = original.decode("ascii", "replace")
    original = str(original).strip("\x00 ").strip() if original else ""
    if original and ours not in original:
        ours = f"{original} | {ours}"
    data[SOFTWARE_TAG] = software()
    data[DESCRIPTION_TAG] = ours
    return data.tobytes()


def xmp_packet(provenance: Provenance) -> bytes:
    """A small XMP packet (UTF-8) recording the tool, a description and a history entry."""
    desc = escape(provenance.description())
    tool = quoteattr(software())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
        ' xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"'
        f" xmp:CreatorTool={tool}>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{desc}</rdf:li></rdf:Alt></dc:description>'
        "<xmpMM:History><rdf:Seq><rdf:li"
        f' stEvt:action="derived" stEvt:softwareAgent={tool} stEvt:parameters={quoteattr(provenance.description())}/>'
        "</rdf:Seq></xmpMM:History>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode("utf-8")


def read_provenance(data: bytes | str) -> dict[str, str]:
    """Software, description and XMP text of a written file (for tests and ``--json`` reports)."""
    img = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    exif = img.getexif()
    xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp") or b""
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    return {"software": str(exif.get(SOFTWARE_TAG, "")), "description": str(exif.get(DESCRIPTION_TAG, "")),
            "xmp": str(xmp)}
