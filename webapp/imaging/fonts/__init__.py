"""The typefaces bundled for the show-details overlay, and how a text is measured and fitted to a box.

Why the files live here instead of being looked up on the system: the web process, the RQ worker and the
CLI must set the same poster identically on any machine or container, and a missing system font silently
falls back to a bitmap face. Every face is under a permissive licence (SIL OFL 1.1, Apache 2.0 for Open
Sans); the licence/copyright file of each family sits next to its font files (``*-LICENSE.txt``).

A ``Family`` is a pairing rather than a single file: a display face for the title, a text face for the
details and a strong face for what must be read first (dates, price, the button). Producers choose a
pairing; the hierarchy inside it is ours, so any choice still reads like a designed poster.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from webapp.imaging import linebreak

FONT_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Family:
    """A type pairing. ``*_upper`` sets that role in capitals (with ``tracking``, in em, for small caps
    lines); ``leading`` is the title's line height as a multiple of its size (caps-only faces set tight)."""

    key: str
    label: str
    display: str
    text: str
    strong: str
    display_upper: bool
    strong_upper: bool
    leading: float
    tracking: float = 0.08


FAMILIES: dict[str, Family] = {
    f.key: f
    for f in (
        Family(
            "bebas",
            "Bebas Neue + Open Sans",
            "BebasNeue-Regular.otf",
            "OpenSans-Regular.ttf",
            "OpenSans-Bold.ttf",
            True,
            True,
            0.9,
        ),
        Family(
            "spartan",
            "League Spartan",
            "LeagueSpartan-Black.otf",
            "LeagueSpartan-Medium.otf",
            "LeagueSpartan-Bold.otf",
            True,
            True,
            0.92,
        ),
        Family("lato", "Lato", "Lato-Black.ttf", "Lato-Regular.ttf", "Lato-Bold.ttf", False, True, 1.0),
        Family(
            "opensans",
            "Open Sans",
            "OpenSans-ExtraBold.ttf",
            "OpenSans-Regular.ttf",
            "OpenSans-Semibold.ttf",
            False,
            True,
            1.0,
        ),
        Family(
            "garamond",
            "EB Garamond",
            "EBGaramond12-Regular.otf",
            "EBGaramond12-Regular.otf",
            "EBGaramond12-Italic.otf",
            False,
            False,
            1.0,
            0.0,
        ),
    )
}
DEFAULT_FAMILY = "bebas"


def family(key: str | None) -> Family:
    """The pairing for ``key``; unknown names get the default rather than an error (specs outlive fonts)."""
    return FAMILIES.get(key or "", FAMILIES[DEFAULT_FAMILY])


def font_files() -> list[Path]:
    """Every font file a family uses (tests check they exist and load)."""
    names = {getattr(f, role) for f in FAMILIES.values() for role in ("display", "text", "strong")}
    return sorted(FONT_DIR / n for n in names)


@lru_cache(maxsize=512)
def load(filename: str, size: int) -> ImageFont.FreeTypeFont:
    """A bundled font at a pixel size (cached: fitting asks for the same sizes over and over)."""
    path = (FONT_DIR / filename).resolve()
    if path.parent != FONT_DIR or not path.is_file():
        raise ValueError(f"{filename!r} is not a bundled font.")
    return ImageFont.truetype(str(path), max(1, int(size)))


def width(font: ImageFont.FreeTypeFont, text: str, tracking: float = 0.0) -> float:
    """Advance width in px; ``tracking`` (px) is added between characters, keeping the font's kerning."""
    return font.getlength(text) + tracking * max(0, len(text) - 1)


@dataclass(frozen=True)
class Fitted:
    """A text set at ``size`` in ``lines``; ``fits`` is False when even the smallest size needed cutting."""

    lines: tuple[str, ...]
    size: int
    fits: bool


def balanced(
    font: ImageFont.FreeTypeFont,
    text: str,
    max_width: float,
    max_lines: int,
    tracking: float = 0.0,
    soft_only: bool = False,
) -> tuple[str, ...] | None:
    """The fewest lines (up to ``max_lines``) that fit ``max_width``, broken with minimum raggedness
    (``imaging.linebreak``); None if none."""
    path, size = str(font.path), font.size
    return linebreak.balance(
        text,
        lambda s: _unit_width(path, s) * size + tracking * max(0, len(s) - 1),
        max_width,
        max_lines,
        verify=lambda s: width(font, s, tracking),
        soft_only=soft_only,
    )


@lru_cache(maxsize=8192)
def _unit_width(path: str, text: str) -> float:
    """Advance width per pixel of size, measured once at a large size: fitting tries ~30 sizes, and
    FreeType loads every glyph afresh at each, so per-size measuring of every word dominated the time.
    Breaks found on this estimate are verified at the real size before use."""
    return load(Path(path).name, 256).getlength(text) / 256


def fit(
    filename: str,
    text: str,
    max_width: float,
    max_size: int,
    min_size: int,
    max_lines: int,
    tracking_em: float = 0.0,
) -> Fitted:
    """The largest size (``max_size`` down to ``min_size``, ~4% steps) at which ``text`` fits in at most
    ``max_lines`` balanced lines. When even ``min_size`` does not fit, the text is wrapped at word
    boundaries at ``min_size`` and the last line cut after a whole word with an ellipsis, and ``fits`` is
    False so the page can say so (and saving refuses it)."""
    passes = (True, False) if linebreak.has_separators(text) else (False,)
    for soft_only in passes:  # whole parts ("The Harbour Strings") at a smaller size before split ones
        size = max(min_size, max_size)
        while True:
            font = load(filename, size)
            lines = balanced(font, text, max_width, max_lines, tracking_em * size, soft_only)
            if lines is not None:
                return Fitted(lines, size, True)
            if size <= min_size:
                break
            size = max(min_size, int(size * 0.96))
    font = load(filename, min_size)
    tracking = tracking_em * min_size

    def measure(line: str) -> float:
        return width(font, line, tracking)

    lines_out = linebreak.wrap_words(text, measure, max_width)
    if len(lines_out) > max_lines:
        lines_out = [*lines_out[: max_lines - 1], " ".join(lines_out[max_lines - 1 :])]
    return Fitted(
        tuple(linebreak.cut_at_word(line, measure, max_width) for line in lines_out), min_size, False
    )
