"""The helpers several parts of the app share, each written once: safe file names."""

from __future__ import annotations

import pytest

from magicbrush_desktop.core.errors import ModelError
from magicbrush_desktop.core.files import SAFE_STEM_CHARS, safe_stem

# --- safe file names --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, stem", [
    ("family", "family"),
    ("My family (1950s)", "My-family-1950s"),
    ("a - b", "a-b"),
    ("v1.2_final", "v1.2_final"),
    ("../../etc/passwd", "etc-passwd"),
    ("C:\\Users\\me", "C-Users-me"),
    (".hidden.", "hidden"),
    ("Café terrace", "Café-terrace"),
    ("Cafe\u0301", "Café"),  # decomposed accent (macOS) -> one letter
    ("tab\there\nnewline\x00nul", "tab-here-newline-nul"),
])
def test_safe_stem_keeps_letters_digits_dots_and_underscores(name, stem):
    assert safe_stem(name) == stem


@pytest.mark.parametrize("name", ["", "???", " / ", "..", "-._"])
def test_safe_stem_of_nothing_usable_is_the_fallback(name):
    assert safe_stem(name) == ""
    assert safe_stem(name, "run") == "run"


def test_safe_stem_is_short_enough_for_a_file_name_with_our_affixes():
    assert len(safe_stem("x" * 500)) == SAFE_STEM_CHARS
    wide = safe_stem("漢" * 500)  # three UTF-8 bytes each
    temporary = f".{wide}.thumb.png.abcdefgh.part"
    assert wide and len(temporary.encode("utf-8")) <= 255


def test_the_three_namers_share_the_rule():
    from magicbrush_desktop.core.models import safe_model_name
    from magicbrush_desktop.core.style.gallery import slugify

    assert safe_model_name("My family (1950s)") == "My-family-1950s"
    with pytest.raises(ModelError, match="letters, digits"):
        safe_model_name("???")
    # The gallery's stems are lower case (case-insensitive disks) and dot-free (``x.thumb`` would be
    # the thumbnail of ``x``); nothing usable gives "style".
    assert slugify("Van Gogh - Starry Night") == "van-gogh-starry-night"
    assert slugify("x.thumb") == "x-thumb"
    assert slugify("Café") == "café"
    assert slugify("???") == "style"
