"""Reading a prompt for the local artwork: named colours, day or night, mood, and a motif family.

The offline generator has no language model, so it reads the prompt as an art director's brief made of
words it knows (lower-cased, one word at a time; unknown words only feed the seed):

* **colours** — a table of common colour names ("red", "crimson", "teal", "gold", …) with real sRGB values;
  the ones named become the palette's accents and tint its background, in the order written;
  theme words ("ocean", "sunset", "autumn") add hues when no colour is named;
* **time** — night words ("night", "midnight", "moonlit") give a dark sky, day words ("day", "dawn",
  "morning", "sunny") a light one; the last one written wins when both appear;
* **mood** — calm, energetic, dark, romantic, festive, … scale the number of elements (density), the
  tone curve (contrast) and the saturation; several moods multiply;
* **family** — the prompt's nouns pick a subject family (music, theatre, dance, comedy, nature, city, sea,
  space, club, party) whose motifs are drawn (strings and sound waves, curtains and spotlights, ribbons,
  bursts, leaves, a skyline, waves, planets, bokeh and neon, confetti); no known noun -> "abstract".

Everything here is a pure function of the prompt, so one prompt always reads the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

WORD = re.compile(r"[a-z0-9]+")

# Common colour names -> sRGB. Values are the colours a designer means by the word, not CSS extremes
# (CSS "red" is #ff0000, which no poster uses).
NAMED_COLOURS: dict[str, str] = {
    "red": "#d0242b", "crimson": "#b3123a", "scarlet": "#e0301e", "ruby": "#a8123e", "maroon": "#7a1c24",
    "burgundy": "#7d1f35", "wine": "#722f37", "rose": "#e8577e", "pink": "#ee6fa5", "magenta": "#d42a9b",
    "fuchsia": "#d0338f", "purple": "#7b3fa6", "violet": "#8a4fd8", "lavender": "#a994d6", "plum": "#7e3a6e",
    "indigo": "#3d2f8f", "navy": "#1b2a5c", "blue": "#2a5fc9", "cobalt": "#1f4fb5", "sapphire": "#1c4aa0",
    "azure": "#2e8bd6", "sky": "#69aee0", "cyan": "#1fb8d1", "aqua": "#2ec4c4", "turquoise": "#23b5a6",
    "teal": "#11807f", "mint": "#7fd6b0", "emerald": "#14935a", "jade": "#1f9a6e", "green": "#2e9a45",
    "lime": "#9bcc2f", "olive": "#7a7d2a", "yellow": "#f2c81f", "lemon": "#f4dc42", "gold": "#d4a22a",
    "golden": "#d4a22a", "amber": "#e39b1b", "orange": "#ec7a1c", "tangerine": "#f08a24",
    "copper": "#b8683a", "bronze": "#a7773a", "peach": "#f4a582", "coral": "#f0705a", "salmon": "#ee8a72",
    "brown": "#7a4b2a", "chocolate": "#5a3520", "coffee": "#6b4a33", "tan": "#c9a27a", "beige": "#d9c7a7",
    "cream": "#efe4c8", "ivory": "#f2ecd9", "white": "#f2f2ef", "silver": "#b9bec6", "grey": "#8a8d93",
    "gray": "#8a8d93", "charcoal": "#33363b", "black": "#16171a",
}  # fmt: skip

# Theme words: hues (0..1) they evoke, used only when the prompt names no colour.
THEME_HUES: dict[str, tuple[float, ...]] = {
    "ocean": (0.55, 0.47), "sea": (0.53, 0.47), "sunset": (0.06, 0.93, 0.78), "sunrise": (0.1, 0.95),
    "fire": (0.04, 0.11), "flame": (0.05,), "lava": (0.02,), "autumn": (0.07, 0.02),
    "halloween": (0.07, 0.78), "christmas": (0.0, 0.35, 0.12), "xmas": (0.0, 0.35), "winter": (0.58, 0.55),
    "spring": (0.3, 0.92), "summer": (0.12, 0.5), "tropical": (0.45, 0.95, 0.13), "desert": (0.08, 0.1),
    "jungle": (0.35, 0.28), "forest": (0.32, 0.1), "garden": (0.3, 0.92), "synthwave": (0.85, 0.52),
    "vaporwave": (0.88, 0.5), "cyberpunk": (0.88, 0.5), "galaxy": (0.75, 0.62), "space": (0.7, 0.6),
    "ice": (0.54,), "romantic": (0.95, 0.9), "love": (0.97, 0.92),
}  # fmt: skip

NIGHT_WORDS = {
    "night", "nights", "midnight", "evening", "dusk", "moonlit", "moonlight", "moon", "nocturne", "starlit",
    "late", "after", "dark", "noir", "tonight", "overnight", "nocturnal", "twilight",
}  # fmt: skip
DAY_WORDS = {
    "day", "daytime", "dawn", "morning", "sunrise", "noon", "afternoon", "sunny", "daylight", "brunch",
    "matinee", "bright", "sunshine", "picnic", "sunlit",
}  # fmt: skip


@dataclass(frozen=True)
class Mood:
    """What a mood word multiplies: element density, tone-curve contrast, saturation; dark forces night."""

    density: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0
    dark: bool | None = None


_CALM = Mood(0.55, 0.9, 0.8)
_ENERGETIC = Mood(1.5, 1.15, 1.15)
_DARK = Mood(0.9, 1.2, 0.85, dark=True)
_ROMANTIC = Mood(0.8, 0.92, 0.9)
_FESTIVE = Mood(1.35, 1.05, 1.15)
MOOD_WORDS: dict[str, Mood] = {
    **dict.fromkeys(("calm", "serene", "peaceful", "quiet", "gentle", "relaxing", "tranquil", "soft",
                     "meditative", "still", "slow", "intimate", "minimal"), _CALM),
    **dict.fromkeys(("energetic", "wild", "loud", "exciting", "electric", "explosive", "vibrant",
                     "dynamic", "intense", "fast", "hype", "crazy", "high"), _ENERGETIC),
    **dict.fromkeys(("dark", "moody", "mysterious", "gothic", "sinister", "brooding", "haunting",
                     "horror", "eerie", "shadowy"), _DARK),
    **dict.fromkeys(("romantic", "dreamy", "tender", "love", "valentine", "wedding", "elegant",
                     "nostalgic"), _ROMANTIC),
    **dict.fromkeys(("festive", "joyful", "celebration", "celebrate", "cheerful", "happy", "fun",
                     "playful", "jubilant", "holiday"), _FESTIVE),
}  # fmt: skip

# Subject families: the words that call them and the motifs (with weights) they draw.
FAMILIES: dict[str, tuple[frozenset[str], dict[str, float]]] = {
    "music": (
        frozenset({"music", "musical", "concert", "band", "orchestra", "symphony", "quartet", "piano",
                   "guitar", "violin", "cello", "song", "songs", "choir", "singer", "recital", "instrument",
                   "instruments", "gig", "acoustic", "sound", "melody", "harp", "strings", "chamber",
                   "classical", "folk", "rock", "album", "tour", "bass", "drum", "drums", "sax",
                   "saxophone", "trumpet", "orchestral"}),
        {"soundwave": 4.0, "strings": 3.0, "notes": 3.0, "rings": 1.0, "beams": 1.0},
    ),
    "theatre": (
        frozenset({"theatre", "theater", "play", "stage", "drama", "opera", "broadway", "shakespeare",
                   "cabaret", "premiere", "curtain", "curtains", "playhouse", "spotlight", "act",
                   "performance", "monologue", "tragedy", "vaudeville"}),
        {"curtains": 5.0, "beams": 3.0, "bokeh": 0.8},
    ),
    "dance": (
        frozenset({"dance", "dancing", "dancer", "dancers", "ballet", "salsa", "tango", "waltz",
                   "choreography", "ballroom", "swing", "flamenco", "hiphop", "breakdance", "contemporary"}),
        {"ribbons": 5.0, "bokeh": 1.0, "beams": 1.0},
    ),
    "comedy": (
        frozenset({"comedy", "comedian", "comedians", "standup", "funny", "laugh", "laughs", "improv",
                   "humour", "humor", "jokes", "joke", "clown", "circus", "sketch", "satire"}),
        {"burst": 5.0, "rays": 1.5, "confetti": 1.5, "shapes": 1.0},
    ),
    "nature": (
        frozenset({"nature", "garden", "gardens", "forest", "flower", "flowers", "botanical", "leaf",
                   "leaves", "park", "tree", "trees", "spring", "bloom", "blossom", "floral", "meadow",
                   "woods", "plant", "plants", "outdoor", "harvest", "farm", "jungle"}),
        {"leaves": 5.0, "hills": 2.0, "sun": 1.0, "bokeh": 0.5},
    ),
    "city": (
        frozenset({"city", "urban", "street", "streets", "downtown", "skyline", "rooftop", "metropolis",
                   "town", "nightlife", "building", "buildings", "skyscraper", "avenue", "neighbourhood",
                   "neighborhood", "subway", "loft"}),
        {"skyline": 5.0, "bokeh": 2.0, "grid": 0.8},
    ),
    "sea": (
        frozenset({"sea", "ocean", "beach", "surf", "coast", "coastline", "harbour", "harbor", "island",
                   "boat", "sail", "sailing", "waves", "wave", "marine", "lighthouse", "shore", "lake",
                   "river", "seaside", "bay", "tide", "cruise"}),
        {"waves": 5.0, "sun": 2.0, "stars": 0.5},
    ),
    "space": (
        frozenset({"space", "galaxy", "cosmic", "cosmos", "planet", "planets", "star", "stars", "astronomy",
                   "planetarium", "universe", "orbit", "rocket", "nebula", "astronaut", "moon", "lunar"}),
        {"planets": 5.0, "stars": 4.0, "rings": 1.0},
    ),
    "club": (
        frozenset({"jazz", "club", "nightclub", "lounge", "bar", "cocktail", "cocktails", "blues", "dj",
                   "techno", "rave", "disco", "house", "karaoke", "speakeasy", "neon", "electronic",
                   "edm", "funk", "soul"}),
        {"bokeh": 4.0, "neon": 3.0, "beams": 1.5, "grid": 1.0},
    ),
    "party": (
        frozenset({"party", "celebration", "birthday", "festival", "carnival", "anniversary", "fiesta",
                   "gala", "graduation", "launch", "celebrate", "parade", "fair", "reunion", "prom"}),
        {"confetti": 4.0, "bokeh": 2.0, "burst": 1.2, "ribbons": 1.0},
    ),
}  # fmt: skip
ABSTRACT: dict[str, float] = {
    "shapes": 2.0, "rings": 2.0, "waves": 1.0, "bokeh": 1.0, "stripes": 1.0, "rays": 1.0, "halftone": 0.5,
}  # fmt: skip


@dataclass(frozen=True)
class Brief:
    """What the prompt asks for, as the drawing code needs it."""

    words: list[str]
    colours: list[str] = field(default_factory=list)  # hex values of named colours, in prompt order
    hues: list[float] = field(default_factory=list)  # theme hues (used when no colour is named)
    time: str | None = None  # "night" | "day" | None
    mood: Mood = Mood()
    family: str = "abstract"
    motifs: dict[str, float] = field(default_factory=dict)


def read_prompt(prompt: str) -> Brief:
    """The brief of a prompt (see the module docstring for what is read and how)."""
    words = WORD.findall(prompt.lower())
    colours: list[str] = []
    for w in words:
        hex_value = NAMED_COLOURS.get(w)
        if hex_value and hex_value not in colours:
            colours.append(hex_value)
    hues = [h for w in words for h in THEME_HUES.get(w, ())]
    time = None
    for w in words:  # the last time word wins ("from dawn to night" is a night poster)
        if w in NIGHT_WORDS:
            time = "night"
        elif w in DAY_WORDS:
            time = "day"
    density = contrast = saturation = 1.0
    dark: bool | None = None
    for mood in (MOOD_WORDS[w] for w in dict.fromkeys(words) if w in MOOD_WORDS):
        density *= mood.density
        contrast *= mood.contrast
        saturation *= mood.saturation
        dark = mood.dark if mood.dark is not None else dark
    family, motifs = pick_family(words)
    return Brief(
        words=words,
        colours=colours,
        hues=hues,
        time=time,
        mood=Mood(min(density, 2.0), min(contrast, 1.35), min(saturation, 1.3), dark),
        family=family,
        motifs=motifs,
    )


def pick_family(words: list[str]) -> tuple[str, dict[str, float]]:
    """The family with the most words in the prompt; ties go to the one named first. None -> abstract."""
    best: tuple[int, int, str] | None = None
    for name, (vocab, _) in FAMILIES.items():
        positions = [i for i, w in enumerate(words) if w in vocab]
        if positions:
            key = (-len(positions), positions[0], name)
            best = key if best is None or key < best else best
    if best is None:
        return "abstract", dict(ABSTRACT)
    return best[2], dict(FAMILIES[best[2]][1])
