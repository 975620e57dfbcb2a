"""Styles and briefs -> colours and motif choices for the local provider's artwork.

The style picks a ``Recipe`` (background, grain, vignette, saturation, motif flavour); the prompt's brief
(``local_words.read_prompt``) supplies named colours, day or night, mood and the subject family. Named
colours become the accents and tint the background, so they dominate the picture; explicit palette hexes
replace everything derived. Everything random comes from the caller's generator.
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass

import numpy as np

from .local_words import Brief

Colour = np.ndarray  # float32 RGB in 0..1, shape (3,)


# --------------------------------------------------------------------------------------------------------
# Styles -> recipes

# One motif per category at most, so two "grounds" or two "light sources" never fight.
CATEGORY = {
    "waves": "ground", "hills": "ground", "grid": "ground", "skyline": "ground",
    "beams": "light", "rays": "light", "neon": "light",
    "bokeh": "particles", "confetti": "particles", "stars": "particles", "notes": "particles",
    "sun": "focal", "rings": "focal", "shapes": "focal", "soundwave": "focal", "ribbons": "focal",
    "burst": "focal", "planets": "focal",
    "halftone": "texture", "brush": "texture", "stripes": "texture", "strings": "texture",
    "curtains": "frame", "leaves": "frame",
}  # fmt: skip


@dataclass(frozen=True)
class Recipe:
    """How a style draws: which background, how it treats colour, which motifs it favours (weights)."""

    background: str  # "mesh" | "linear" | "radial"
    light_bg: float  # probability of a light background when the prompt has no mood word
    saturation: float
    grain: float
    vignette: float
    motifs: dict[str, float]
    count: tuple[int, int]  # how many motifs (min, max)
    lift: float = 0.0  # raise the blacks (faded print look)
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    haze: float = 0.0  # soft light fog in the upper part
    paper: float = 0.0  # fibrous paper texture strength
    flat: bool = False  # flat graphic colour (no mesh blobs)
    contrast: float = 1.0  # S-curve strength at the end (>1 deepens shadows and lifts highlights)


RECIPES: dict[str, Recipe] = {
    "realistic": Recipe(
        "mesh", 0.1, 0.8, 0.028, 0.6,
        {"bokeh": 3, "beams": 2, "stars": 1, "waves": 1, "hills": 1.4, "sun": 0.6}, (2, 3),
        haze=0.3, contrast=1.08,
    ),
    "cinematic": Recipe(
        "mesh", 0.0, 0.75, 0.035, 0.8,
        {"beams": 3, "bokeh": 2.5, "hills": 1.2, "stars": 1, "waves": 0.8}, (2, 2),
        haze=0.25, tint=(1.03, 1.0, 0.97), contrast=1.15,
    ),
    "artistic": Recipe(
        "mesh", 0.4, 0.9, 0.03, 0.35,
        {"brush": 6, "waves": 1.5, "hills": 1.2, "sun": 1.2, "rings": 0.8, "bokeh": 0.6, "confetti": 0.4},
        (2, 3),
        paper=0.5,
    ),
    "modern": Recipe(
        "linear", 0.45, 0.85, 0.012, 0.12,
        {"shapes": 4, "rings": 3, "stripes": 2, "halftone": 1, "rays": 0.6, "confetti": 0.6}, (2, 3),
        flat=True,
    ),
    "vintage": Recipe(
        "radial", 0.65, 0.6, 0.05, 0.5,
        {"sun": 3, "rays": 2.2, "halftone": 2, "stripes": 2, "hills": 1, "waves": 0.8}, (2, 3),
        lift=0.07, tint=(1.06, 0.99, 0.86), paper=0.45, contrast=1.12,
    ),
    "minimalist": Recipe(
        "linear", 0.6, 0.6, 0.01, 0.05,
        {"rings": 2, "shapes": 2, "sun": 1.5, "hills": 1, "waves": 0.8}, (1, 1),
        flat=True,
    ),
    "bold": Recipe(
        "linear", 0.2, 1.0, 0.03, 0.3,
        {"rays": 3, "shapes": 3, "stripes": 2, "confetti": 2, "halftone": 1.5, "sun": 1}, (2, 3),
        flat=True, contrast=1.1,
    ),
    "neon": Recipe(
        "radial", 0.0, 1.0, 0.022, 0.55, {"neon": 4, "grid": 3, "beams": 2, "stars": 1.5, "bokeh": 1}, (2, 3),
    ),
}  # fmt: skip
DEFAULT_STYLES = (
    "realistic",
    "cinematic",
    "artistic",
    "modern",
    "bold",
)  # style None / unknown: pick by hash


def _seed_of(*parts: object) -> int:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _hsv(h: float, s: float, v: float) -> Colour:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1)), dtype=np.float32)


def _hex(value: str) -> Colour:
    text = value.strip().removeprefix("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    return np.array([int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)], dtype=np.float32)


def _deep(c: Colour, dark: bool) -> Colour:
    """A background-strength version of an accent: deeper on dark grounds, paler on light ones.

    Dark yellows and greens turn to mud, so on dark grounds those hues are swung towards amber/teal.
    """
    h, s, v = colorsys.rgb_to_hsv(*(float(x) for x in c))
    if dark:
        if 0.1 < h < 0.3:
            h = 0.07 if h < 0.18 else 0.45
        return _hsv(h, min(1.0, s * 1.05), v * 0.42)
    return _hsv(h, s * 0.45, min(1.0, v * 0.35 + 0.62))


def _luma(c: Colour) -> float:
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return (a * (1 - t) + b * t).astype(np.float32)


@dataclass
class Palette:
    """bg0 (main background), bg1 (second background tone), accents (2+), hi (highlight, near white)."""

    bg0: Colour
    bg1: Colour
    accents: list[Colour]
    hi: Colour
    dark: bool
    explicit: bool = False
    named: bool = False  # accents are colours the prompt named: show them in the background too

    def accent(self, i: int) -> Colour:
        return self.accents[i % len(self.accents)]


DARK_WORDS = {
    "club", "space", "galaxy", "cosmic", "neon", "rave", "techno", "metal", "jazz", "lounge", "cinema",
    "film", "horror", "mystery", "gothic", "halloween", "nightclub",
}  # fmt: skip
LIGHT_WORDS = {
    "pastel", "spring", "wedding", "white", "snow", "clean", "airy", "picnic", "garden", "baby", "kids",
    "market", "fair", "easter", "yoga", "brunch",
}  # fmt: skip


def is_dark(brief: Brief, recipe: Recipe, rng: np.random.Generator, style: str) -> bool:
    """Night or day: the style's nature first (neon is dark by definition), then the prompt's time words,
    its mood (dark, moody), subject words that imply one (club, garden), and finally the recipe's odds."""
    if recipe.light_bg <= 0.0 and style == "neon":
        return True
    if brief.time is not None:
        return brief.time == "night"
    if brief.mood.dark is not None:
        return brief.mood.dark
    wordset = set(brief.words)
    if wordset & DARK_WORDS and not wordset & LIGHT_WORDS:
        return True
    if wordset & LIGHT_WORDS and not wordset & DARK_WORDS:
        return False
    return bool(rng.random() >= recipe.light_bg)


def build_palette(
    brief: Brief, recipe: Recipe, rng: np.random.Generator, explicit: list[str] | None, style: str = ""
) -> Palette:
    """Colours from explicit hexes; else the prompt's named colours (kept as named, so they dominate),
    completed by a harmony of the first; else theme hues or a seeded hue."""
    dark = is_dark(brief, recipe, rng, style)
    if explicit:
        return _explicit_palette([_hex(c) for c in explicit], dark)

    sat = recipe.saturation * brief.mood.saturation
    named = [_hex(c) for c in brief.colours[:3]]
    chromatic = [c for c in named if _chroma(c) > 0.12]
    if chromatic:
        base = _hue(chromatic[0])
    elif brief.hues:
        base = brief.hues[0]
    else:
        base = float(rng.random())
    scheme = rng.choice(["analogous", "complementary", "split"] if named else _SCHEMES[recipe.flat])
    offsets = _OFFSETS[scheme]
    hues = [*brief.hues[:3], *[(base + o) % 1 for o in offsets]][:3] if not named else []
    jitter = rng.uniform(-0.02, 0.02, size=3)
    derived = [
        _hsv(
            h + j,
            min(1.0, sat * rng.uniform(0.75, 1.0)),
            rng.uniform(0.85, 1.0) if dark else rng.uniform(0.6, 0.9),
        )
        for h, j in zip(hues or [(base + o) % 1 for o in offsets], jitter, strict=True)
    ]
    accents = [*named, *derived][:3]
    if recipe.flat and not named:  # graphic styles want one pale accent among the saturated ones
        accents[2] = _mix(accents[2], np.ones(3, np.float32), 0.55 if dark else 0.0)
    if named:
        bg_hue = base
    else:
        bg_hue = (hues[-1] if len(brief.hues) < 2 else base) + rng.uniform(-0.05, 0.05)
        if dark and 0.07 < bg_hue % 1.0 < 0.3:  # dark yellows and greens read as mud: deep blue-violet
            bg_hue = (bg_hue + 0.5) % 1.0 if rng.random() < 0.5 else 0.68 + rng.uniform(-0.05, 0.08)
    bg_sat = min(1.0, 0.55 + 0.3 * sat) if chromatic or not named else 0.08
    if dark:
        if named and 0.07 < bg_hue % 1.0 < 0.3:  # a named gold or green on a dark ground: deepen, not mud
            bg_hue = 0.07 if bg_hue % 1.0 < 0.18 else 0.42
        bg0 = _hsv(bg_hue, bg_sat, rng.uniform(0.07, 0.13))
        bg1 = _hsv(bg_hue + rng.uniform(-0.04, 0.04), bg_sat * 0.95, rng.uniform(0.22, 0.34))
    else:
        bg0 = _hsv(bg_hue, (0.06 + 0.12 * sat) * (1.6 if named else 1.0), rng.uniform(0.9, 0.97))
        bg1 = _hsv(bg_hue + 0.03, (0.12 + 0.25 * sat) * (1.5 if named else 1.0), rng.uniform(0.78, 0.88))
    hi = _mix(accents[0], np.ones(3, np.float32), 0.7)
    tint = np.array(recipe.tint, dtype=np.float32)
    fix = lambda c: np.clip(c * tint, 0, 1).astype(np.float32)  # noqa: E731
    return Palette(fix(bg0), fix(bg1), [fix(c) for c in accents], fix(hi), dark, named=bool(named))


_SCHEMES = {
    True: ["complementary", "split", "triadic"],
    False: ["analogous", "complementary", "split", "triadic"],
}
_OFFSETS = {
    "analogous": (0.0, 0.08, -0.07),
    "complementary": (0.0, 0.5, 0.04),
    "split": (0.0, 0.42, 0.58),
    "triadic": (0.0, 0.33, 0.67),
}


def _hue(c: Colour) -> float:
    return colorsys.rgb_to_hsv(*(float(x) for x in c))[0]


def _chroma(c: Colour) -> float:
    return float(c.max() - c.min())


def _explicit_palette(cols: list[Colour], dark: bool) -> Palette:
    by_luma = sorted(cols, key=_luma)
    bg0 = by_luma[0] if dark or len(cols) == 1 else by_luma[-1]
    dark = _luma(bg0) < 0.5
    rest = [c for c in cols if c is not bg0] or [_mix(bg0, np.ones(3, np.float32) * (not dark), 0.6)]
    # a shade of the background colour itself: mixing in another palette colour would make mud
    h, s, v = colorsys.rgb_to_hsv(*(float(x) for x in bg0))
    bg1 = _hsv(h, s, v * 1.4 + 0.04) if dark else _hsv(h, min(1.0, s * 1.3 + 0.05), v * 0.85)
    hi = _mix(max(cols, key=_luma), np.ones(3, np.float32), 0.6)
    return Palette(bg0, bg1, rest, hi, dark, explicit=True)


def choose_motifs(brief: Brief, recipe: Recipe, rng: np.random.Generator) -> list[str]:
    """The subject family's motifs first (weighted, the style's liking adds to them), then at most one of
    the style's own motifs for flavour; one per category, as many as the recipe and the mood's density say."""
    scores: dict[str, float] = {}
    for motif, weight in brief.motifs.items():
        scores[motif] = weight * (1 + 0.25 * recipe.motifs.get(motif, 0)) * rng.uniform(0.7, 1.3) + 10
    for motif, weight in recipe.motifs.items():
        scores.setdefault(motif, weight * rng.uniform(0.5, 1.5))
    lo, hi = recipe.count
    count = int(rng.integers(lo, hi + 1))
    count = max(1, min(hi + 1, round(count * min(brief.mood.density, 1.5))))
    chosen: list[str] = []
    used: set[str] = set()
    for motif in sorted(scores, key=lambda m: -scores[m]):
        if CATEGORY[motif] not in used:
            chosen.append(motif)
            used.add(CATEGORY[motif])
        if len(chosen) == count:
            break
    return chosen
