"""Words and styles -> colours and motif choices for the local provider's artwork.

The prompt's colour words ("gold", "ocean", "neon") pull the hues, its mood words ("night", "pastel") pull the
brightness, its subject words ("concert", "party", "ocean") pull the motifs; the style picks a ``Recipe``.
Explicit palette hexes replace the derived colours. Everything random comes from the caller's generator.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass

import numpy as np

Colour = np.ndarray  # float32 RGB in 0..1, shape (3,)


# --------------------------------------------------------------------------------------------------------
# Words -> colours and motifs

_WORD = re.compile(r"[a-z0-9]+")

# Hue (0..1) of colour words; a list gives several accents.
COLOUR_WORDS: dict[str, tuple[float, ...]] = {
    "red": (0.0,), "crimson": (0.97,), "scarlet": (0.99,), "ruby": (0.96,), "rose": (0.94,), "pink": (0.92,),
    "magenta": (0.85,), "fuchsia": (0.86,), "purple": (0.78,), "violet": (0.75,), "lavender": (0.73,),
    "indigo": (0.68,), "navy": (0.63,), "blue": (0.6,), "azure": (0.57,), "sky": (0.56,), "ice": (0.54,),
    "cyan": (0.5,), "aqua": (0.5,), "turquoise": (0.48,), "teal": (0.47,), "ocean": (0.55, 0.47),
    "sea": (0.52,), "mint": (0.43,), "emerald": (0.39,), "jade": (0.4,), "green": (0.33,),
    "forest": (0.32, 0.1), "lime": (0.24,), "olive": (0.19,), "yellow": (0.15,), "lemon": (0.16,),
    "gold": (0.12,), "golden": (0.12,),
    "amber": (0.09,), "orange": (0.07,), "copper": (0.06,), "bronze": (0.08,), "peach": (0.06,),
    "coral": (0.02,), "sunset": (0.06, 0.93, 0.78), "sunrise": (0.1, 0.95), "fire": (0.04, 0.11),
    "flame": (0.05,), "lava": (0.02,), "autumn": (0.07, 0.02), "halloween": (0.07, 0.78),
    "christmas": (0.0, 0.35, 0.12), "xmas": (0.0, 0.35), "winter": (0.58, 0.55), "spring": (0.3, 0.92),
    "summer": (0.12, 0.5), "tropical": (0.45, 0.95, 0.13), "desert": (0.08, 0.1), "jungle": (0.35, 0.28),
    "synthwave": (0.85, 0.52), "vaporwave": (0.88, 0.5), "cyberpunk": (0.88, 0.5), "galaxy": (0.75, 0.62),
    "space": (0.7, 0.6), "wine": (0.95,), "burgundy": (0.96,), "chocolate": (0.06,), "coffee": (0.07,),
}  # fmt: skip

DARK_WORDS = {
    "night", "dark", "noir", "midnight", "gothic", "halloween", "club", "moody", "space", "galaxy", "cosmic",
    "neon", "rave", "techno", "metal", "jazz", "lounge", "cinema", "film", "horror", "mystery", "concert",
}  # fmt: skip
LIGHT_WORDS = {
    "bright", "light", "pastel", "spring", "morning", "brunch", "wedding", "white", "snow", "minimal",
    "clean",
    "airy", "soft", "day", "daytime", "picnic", "garden", "baby", "kids", "market", "fair", "easter", "yoga",
}  # fmt: skip
VIVID_WORDS = {
    "neon",
    "vivid",
    "electric",
    "bold",
    "loud",
    "pop",
    "rave",
    "fluorescent",
    "bright",
    "carnival",
}
MUTED_WORDS = {"pastel", "muted", "soft", "dusty", "faded", "vintage", "retro", "calm", "quiet", "earthy"}

MOTIF_WORDS: dict[str, set[str]] = {
    "bokeh": {"night", "city", "lights", "gala", "party", "christmas", "holiday", "wedding", "dinner", "jazz",
              "bar", "lounge", "glow", "sparkle", "romantic", "evening", "cocktail", "awards", "ball"},
    "beams": {"concert", "stage", "live", "rock", "festival", "dj", "club", "show", "theatre", "theater",
              "premiere", "tour", "band", "metal", "rave", "music", "opera", "awards", "spotlight", "gig"},
    "rings": {"jazz", "vinyl", "record", "radio", "podcast", "tech", "conference", "talk", "summit", "orbit",
              "sound", "echo", "listening", "lecture", "science"},
    "sun": {"sunset", "sunrise", "summer", "surf", "retro", "70s", "80s", "beach", "tropical", "desert",
            "road", "trip", "sun", "island", "reggae"},
    "stripes": {"retro", "70s", "disco", "race", "racing", "sport", "sports", "vintage", "funk", "soul",
                "skate", "marathon", "run"},
    "confetti": {"party", "celebration", "birthday", "festival", "carnival", "anniversary", "launch",
                 "fiesta", "pride", "new", "year", "graduation", "opening", "celebrate", "wedding", "kids"},
    "waves": {"ocean", "sea", "beach", "surf", "water", "river", "summer", "cruise", "wave", "waves", "flow",
              "yoga", "spa", "lake", "boat", "sail", "harbour", "harbor", "island"},
    "stars": {"night", "star", "stars", "space", "galaxy", "moon", "cosmic", "gala", "christmas", "winter",
              "midnight", "dream", "dreams", "astronomy", "planetarium", "magic"},
    "shapes": {"conference", "tech", "startup", "design", "art", "gallery", "exhibition", "modern",
               "workshop", "expo", "architecture", "museum", "meetup", "hackathon", "bauhaus"},
    "rays": {"grand", "opening", "sale", "sun", "launch", "circus", "victory", "sports", "match", "game",
             "championship", "final", "rally", "revival", "gospel", "church"},
    "hills": {"mountain", "mountains", "outdoor", "hike", "hiking", "camp", "camping", "nature", "trail",
              "forest", "adventure", "country", "folk", "harvest", "valley", "wine", "farm", "bluegrass"},
    "halftone": {"comic", "pop", "punk", "zine", "print", "poster", "newspaper", "indie", "garage"},
    "grid": {"synth", "synthwave", "80s", "arcade", "game", "gaming", "cyber", "cyberpunk", "electronic",
             "techno", "retro", "future", "vaporwave", "esports"},
    "neon": {"neon", "club", "bar", "nightclub", "electronic", "techno", "cyber", "cyberpunk", "arcade",
             "karaoke", "disco"},
    "brush": {"art", "paint", "painting", "watercolor", "watercolour", "gallery", "craft", "poetry",
              "literature", "book", "theatre", "theater", "dance", "ballet", "classical"},
}  # fmt: skip

# One motif per category at most, so two "grounds" or two "light sources" never fight.
CATEGORY = {
    "waves": "ground", "hills": "ground", "grid": "ground",
    "beams": "light", "rays": "light", "neon": "light",
    "bokeh": "particles", "confetti": "particles", "stars": "particles",
    "sun": "focal", "rings": "focal", "shapes": "focal",
    "halftone": "texture", "brush": "texture", "stripes": "texture",
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
        "radial", 0.65, 0.5, 0.075, 0.6,
        {"sun": 3, "rays": 2.2, "halftone": 2, "stripes": 2, "hills": 1, "waves": 0.8}, (2, 3),
        lift=0.07, tint=(1.06, 0.99, 0.86), paper=0.8, contrast=0.95,
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

    def accent(self, i: int) -> Colour:
        return self.accents[i % len(self.accents)]


def build_palette(
    words: list[str], recipe: Recipe, rng: np.random.Generator, explicit: list[str] | None
) -> Palette:
    """Colours from explicit hexes, else from colour words and a seeded harmony scheme."""
    wordset = set(words)
    if wordset & DARK_WORDS and not wordset & LIGHT_WORDS:
        dark = True
    elif wordset & LIGHT_WORDS and not wordset & DARK_WORDS:
        dark = False
    else:
        dark = rng.random() >= recipe.light_bg

    if explicit:
        cols = [_hex(c) for c in explicit]
        by_luma = sorted(cols, key=_luma)
        bg0 = by_luma[0] if dark or len(cols) == 1 else by_luma[-1]
        dark = _luma(bg0) < 0.5
        rest = [c for c in cols if c is not bg0] or [_mix(bg0, np.ones(3, np.float32) * (not dark), 0.6)]
        # a shade of the background colour itself: mixing in another palette colour would make mud
        h, s, v = colorsys.rgb_to_hsv(*(float(x) for x in bg0))
        bg1 = _hsv(h, s, v * 1.4 + 0.04) if dark else _hsv(h, min(1.0, s * 1.3 + 0.05), v * 0.85)
        hi = _mix(max(cols, key=_luma), np.ones(3, np.float32), 0.6)
        return Palette(bg0, bg1, rest, hi, dark, explicit=True)

    hues = [h for w in words for h in COLOUR_WORDS.get(w, ())]
    vivid = bool(wordset & VIVID_WORDS)
    muted = bool(wordset & MUTED_WORDS)
    sat = recipe.saturation * (1.15 if vivid else 1.0) * (0.6 if muted else 1.0)
    base = hues[0] if hues else float(rng.random())
    schemes = (
        ["complementary", "split", "triadic"]
        if recipe.flat
        else ["analogous", "complementary", "split", "triadic"]
    )
    scheme = rng.choice(schemes)
    offsets = {
        "analogous": (0.0, 0.08, -0.07),
        "complementary": (0.0, 0.5, 0.04),
        "split": (0.0, 0.42, 0.58),
        "triadic": (0.0, 0.33, 0.67),
    }[scheme]
    accent_hues = [*hues[:3], *[(base + o) % 1 for o in offsets]][:3]
    jitter = rng.uniform(-0.02, 0.02, size=3)
    accents = [
        _hsv(h + j, sat * rng.uniform(0.75, 1.0), rng.uniform(0.85, 1.0) if dark else rng.uniform(0.6, 0.9))
        for h, j in zip(accent_hues, jitter, strict=True)
    ]
    if recipe.flat:  # graphic styles want one pale accent among the saturated ones
        accents[2] = _mix(accents[2], np.ones(3, np.float32), 0.55 if dark else 0.0)
    bg_hue = (accent_hues[-1] if len(hues) < 2 else base) + rng.uniform(-0.05, 0.05)
    if dark and 0.07 < bg_hue % 1.0 < 0.3:  # dark yellows and greens read as mud: use a deep blue-violet
        bg_hue = (bg_hue + 0.5) % 1.0 if rng.random() < 0.5 else 0.68 + rng.uniform(-0.05, 0.08)
    if dark:
        bg0 = _hsv(bg_hue, min(1.0, 0.55 + 0.3 * sat), rng.uniform(0.07, 0.14))
        bg1 = _hsv(bg_hue + rng.uniform(-0.06, 0.06), min(1.0, 0.5 + 0.3 * sat), rng.uniform(0.22, 0.36))
    else:
        bg0 = _hsv(bg_hue, 0.06 + 0.12 * sat, rng.uniform(0.9, 0.97))
        bg1 = _hsv(bg_hue + 0.03, 0.12 + 0.25 * sat, rng.uniform(0.8, 0.9))
    hi = _mix(accents[0], np.ones(3, np.float32), 0.7)
    tint = np.array(recipe.tint, dtype=np.float32)
    fix = lambda c: np.clip(c * tint, 0, 1).astype(np.float32)  # noqa: E731
    return Palette(fix(bg0), fix(bg1), [fix(c) for c in accents], fix(hi), dark)


def choose_motifs(words: list[str], recipe: Recipe, rng: np.random.Generator) -> list[str]:
    """Score motifs by recipe weight x prompt keywords x chance; keep the best of each category."""
    wordset = set(words)
    scores = {}
    for motif, weight in recipe.motifs.items():
        hits = len(wordset & MOTIF_WORDS.get(motif, set()))
        scores[motif] = weight * (1 + 2.5 * hits) * rng.uniform(0.5, 1.5)
    lo, hi = recipe.count
    count = int(rng.integers(lo, hi + 1))
    chosen: list[str] = []
    used: set[str] = set()
    for motif in sorted(scores, key=lambda m: -scores[m]):
        if CATEGORY[motif] not in used:
            chosen.append(motif)
            used.add(CATEGORY[motif])
        if len(chosen) == count:
            break
    return chosen
