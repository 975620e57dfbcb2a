"""What text the overlay may set: the length limits shared with the show form, cleaning, and which
characters the bundled typefaces can draw (with a fallback face, and a warning naming the rest).

Why a cmap check: FreeType draws a missing character as the font's .notdef box ("tofu") and Pillow gives
no sign of it. We read each bundled font's character map once (fontTools) and, per item, set the text in
the chosen face, else in the fallback face (Open Sans covers Latin, Greek and Cyrillic), else leave the
character out and say so by name on the editor and on the saved result. CJK and colour emoji faces are
not bundled: a CJK face alone is ~16 MB per weight, more than all our faces together.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from . import fonts

#: The longest title a show may have; the show form, the show service and the poster all use this one
#: number, so a title the form accepts always sets (shrunk, then broken, never cut).
MAX_TITLE_CHARS = 200
#: Per-item limits for the overlay editor's own texts (the title's is the show's).
MAX_CHARS = {"title": MAX_TITLE_CHARS, "custom": 120, "cta": 40}
#: What a stored spec keeps at most (a bound on work; anything over the item's limit is refused on save).
HARD_CAP = 1000

#: The fallback face per role: wide coverage (Latin, Greek, Cyrillic) in a matching weight.
FALLBACK = {
    "display": "OpenSans-ExtraBold.ttf",
    "text": "OpenSans-Regular.ttf",
    "strong": "OpenSans-Bold.ttf",
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_text(text: str, limit: int = 200) -> str:
    """One line of display text: NFC, no control characters or line breaks, single spaces, capped."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text or ""))
    return " ".join(text.split())[:limit]


@lru_cache(maxsize=32)
def codepoints(filename: str) -> frozenset[int]:
    """Every character the bundled font maps to a glyph (its best Unicode cmap)."""
    from fontTools.ttLib import TTFont

    path = fonts.FONT_DIR / filename
    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


def _invisible(ch: str) -> bool:
    """Joiners, variation selectors and spaces: never drawn, so never tofu."""
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Mn", "Me")


def missing(filename: str, text: str) -> list[str]:
    """The distinct visible characters of ``text`` that ``filename`` cannot draw, in order of appearance."""
    have = codepoints(filename)
    out: list[str] = []
    for ch in text:
        if ord(ch) not in have and not _invisible(ch) and ch not in out:
            out.append(ch)
    return out


def settable(face: str, role: str, text: str) -> tuple[str, str, list[str]]:
    """(face to use, text to set, characters left out). The chosen face when it covers the text, else
    the role's fallback face when that covers more, and characters no face covers are removed (with the
    invisible joiners and selectors around emoji) so nothing is drawn as a box."""
    gaps = missing(face, text)
    if not gaps:
        return face, text, []
    fallback = FALLBACK.get(role, FALLBACK["text"])
    fallback_gaps = missing(fallback, text)
    if len(fallback_gaps) < len(gaps):
        face, gaps = fallback, fallback_gaps
    if not gaps:
        return face, text, []
    have = codepoints(face)
    kept = "".join(ch for ch in text if ord(ch) in have or ch.isspace())
    return face, " ".join(kept.split()), gaps


def describe(chars: list[str], limit: int = 8) -> str:
    """'“🎷” (U+1F3B7), “東” (U+6771)' for a warning: the character and its code, since the page's own
    font may not draw it either."""
    named = [f"“{ch}” (U+{ord(ch):04X})" for ch in chars[:limit]]
    more = len(chars) - limit
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def unsettable(text: str) -> list[str]:
    """Characters that no bundled face can set in any role (for a warning on the show form)."""
    gaps = set(missing(FALLBACK["text"], text))
    for family in fonts.FAMILIES.values():
        for face in (family.display, family.text, family.strong):
            gaps &= set(missing(face, text))
    return [ch for ch in dict.fromkeys(text) if ch in gaps]
