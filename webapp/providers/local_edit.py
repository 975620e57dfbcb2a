"""``stylise``: the local provider's edit mode, a print-shop treatment of the producer's photo.

Each treatment keeps the photo's luminance structure (the subject stays recognisable: SSIM of the
luminance >= 0.5 against the source at viewing scale) and a sane exposure (no near-black results, no
harsh posterisation); colours come from the request's palette (the show palette) or the prompt's colours.

* ``duotone`` — the luminance mapped through a shadow -> accent -> highlight gradient of the palette;
* ``halftone`` — a 45-degree dot screen in the palette's darkest ink on light paper, dot area = darkness;
* ``vintage`` — a faded poster print: muted, warm colours, a soft tonal gradient map blended with the photo,
  lifted blacks, paper texture and grain;
* ``grade`` — a cinematic colour grade (cool shadows, warm highlights, gentle S-curve, vignette).

Which one (first match wins):
1. words in the prompt: halftone/comic/pop/print/newspaper/zine/dots/riso -> halftone;
   duotone/monochrome/mono/tint -> duotone; vintage/retro/poster/old/faded/classic/antique/sepia -> vintage;
   cinematic/film/movie/grade -> grade;
2. the style: vintage -> vintage; bold, artistic -> halftone; modern, minimalist, neon -> duotone;
   realistic, cinematic -> grade;
3. otherwise the seed picks one of duotone, halftone, vintage.
"""

from __future__ import annotations

import colorsys

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from .local_palette import RECIPES, Colour, _hex, _luma, _mix, _seed_of, build_palette
from .local_words import read_prompt

TREATMENT_WORDS: dict[str, str] = {
    **dict.fromkeys(("halftone", "comic", "pop", "print", "newspaper", "zine", "dots", "dotted", "riso",
                     "risograph", "screenprint"), "halftone"),
    **dict.fromkeys(("duotone", "monochrome", "mono", "tint", "tinted", "twotone"), "duotone"),
    **dict.fromkeys(("vintage", "retro", "poster", "old", "faded", "classic", "antique", "sepia",
                     "nostalgic"), "vintage"),
    **dict.fromkeys(("cinematic", "film", "movie", "grade", "graded"), "grade"),
}  # fmt: skip
STYLE_TREATMENTS: dict[str, str] = {
    "vintage": "vintage",
    "bold": "halftone",
    "artistic": "halftone",
    "modern": "duotone",
    "minimalist": "duotone",
    "neon": "duotone",
    "realistic": "grade",
    "cinematic": "grade",
}
TREATMENTS = ("duotone", "halftone", "vintage", "grade")
# Print-shop inks when the request names no colour (no palette, no colour word): a seeded hue would
# make a green "vintage" print; these are the classic ones.
DEFAULT_INKS: dict[str, list[str]] = {
    "halftone": ["#1d2440", "#d2452f", "#f4ecd8"],
    "vintage": ["#2b1d14", "#c0612b", "#f1e4c6"],
}


def choose_treatment(prompt: str, style: str | None, seed: int | None) -> str:
    """The treatment for a request (see the module docstring for the mapping)."""
    for word in read_prompt(prompt).words:
        if word in TREATMENT_WORDS:
            return TREATMENT_WORDS[word]
    key = (style or "").strip().lower()
    if key in STYLE_TREATMENTS:
        return STYLE_TREATMENTS[key]
    return ("duotone", "halftone", "vintage")[_seed_of("treatment", prompt, seed) % 3]


def stylise(
    source: Image.Image,
    size: tuple[int, int],
    *,
    prompt: str = "",
    style: str | None = None,
    seed: int | None = 0,
    palette: list[str] | None = None,
) -> Image.Image:
    """A deterministic treatment of a photo, fitted (cover, centre) to ``size``."""
    treatment = choose_treatment(prompt, style, seed)
    brief = read_prompt(prompt)
    key = (style or "").strip().lower()
    recipe = RECIPES.get(key, RECIPES["realistic"])
    rng = np.random.default_rng(_seed_of("edit", brief.words, key, seed, tuple(palette or ())))
    pal = build_palette(brief, recipe, rng, palette, key)
    if palette:
        colours = [_hex(c) for c in palette]
    elif not brief.colours and treatment in DEFAULT_INKS:
        colours = [_hex(c) for c in DEFAULT_INKS[treatment]]
    else:
        colours = [pal.bg0, pal.bg1, *pal.accents, pal.hi]
    img = ImageOps.fit(source.convert("RGB"), size, Image.Resampling.LANCZOS, centering=(0.5, 0.45))
    grey = _grey(img)
    exposure = float(np.asarray(img.convert("L").reduce(4), dtype=np.float32).mean() / 255)
    if treatment == "duotone":
        out = _duotone(grey, colours, exposure, dark_ground=key == "neon")
    elif treatment == "halftone":
        out = _halftone(grey, colours, exposure)
    elif treatment == "vintage":
        out = _vintage(img, grey, colours, rng, exposure)
    else:
        out = _grade(img, grey)
    return out


def _grey(img: Image.Image) -> np.ndarray:
    """Luminance 0..1, lightly denoised and stretched (1 % clipped) so every photo spans the tonal range."""
    lum = ImageOps.autocontrast(img.convert("L").filter(ImageFilter.GaussianBlur(0.6)), cutoff=1)
    return np.asarray(lum, dtype=np.float32) / 255


def _ends(colours: list[Colour]) -> tuple[Colour, Colour, Colour]:
    """Shadow (darkest, deepened), mid (most saturated) and highlight (lightest, lifted) of a palette."""
    by_luma = sorted(colours, key=_luma)
    dark, light = by_luma[0], by_luma[-1]
    h, s, v = colorsys.rgb_to_hsv(*(float(x) for x in dark))
    dark = np.array(colorsys.hsv_to_rgb(h, min(1.0, s * 1.1 + 0.1), min(v, 0.16)), dtype=np.float32)
    h, s, v = colorsys.rgb_to_hsv(*(float(x) for x in light))
    light = np.array(colorsys.hsv_to_rgb(h, min(s, 0.25), max(v, 0.94)), dtype=np.float32)
    mid = max(colours, key=lambda c: float(c.max() - c.min()) + 0.2 * _luma(c))
    h, s, v = colorsys.rgb_to_hsv(*(float(x) for x in mid))
    mid = np.array(colorsys.hsv_to_rgb(h, s, min(max(v, 0.5), 0.85)), dtype=np.float32)
    return dark, mid, light


def _gradient_map(t: np.ndarray, stops: list[Colour]) -> np.ndarray:
    """Map 0..1 through evenly spaced colour stops (linear in between)."""
    n = len(stops) - 1
    pos = np.clip(t, 0, 1) * n
    i = np.minimum(pos.astype(np.int32), n - 1)
    f = (pos - i)[..., None]
    arr = np.stack(stops)
    return arr[i] * (1 - f) + arr[i + 1] * f


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _exposed(t: np.ndarray, stops: list[Colour], target: float) -> np.ndarray:
    """``t`` bent by a gamma so the gradient-mapped picture has the photo's mean luminance: a palette
    with a dark middle colour would otherwise turn a normal photo into a murky one."""
    sample = t[::8, ::8]
    lo, hi = -2.0, 2.0  # log2 of the gamma
    for _ in range(12):
        mid = (lo + hi) / 2
        mean = float((_gradient_map(sample ** (2**mid), stops) @ _LUMA).mean())
        lo, hi = (mid, hi) if mean > target else (lo, mid)
    return np.clip(t, 0, 1) ** (2 ** ((lo + hi) / 2))


def _vignette(W: int, H: int, depth: float, start: float) -> np.ndarray:
    """A multiplier darkening towards the corners, computed at 1/8 size (it is smooth) and enlarged."""
    w, h = max(2, W // 8), max(2, H // 8)
    ys = (np.arange(h, dtype=np.float32) + 0.5) / h - 0.5
    xs = (np.arange(w, dtype=np.float32) + 0.5) / w - 0.5
    d = np.sqrt((xs[None, :] * 1.1) ** 2 + ys[:, None] ** 2) * 2
    small = Image.fromarray(1 - depth * np.clip(d - start, 0, 1), mode="F")
    return np.asarray(small.resize((W, H), Image.Resampling.BILINEAR), dtype=np.float32)


def _to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8))


def _duotone(
    grey: np.ndarray, colours: list[Colour], exposure: float, dark_ground: bool = False
) -> Image.Image:
    dark, mid, light = _ends(colours)
    if dark_ground:  # neon: vivid accent as the highlight, so it glows off a dark ground
        light = _mix(mid, np.ones(3, np.float32), 0.35)
        exposure *= 0.85
    t = grey * grey * (3 - 2 * grey) * 0.35 + grey * 0.65  # a gentle S-curve keeps midtone detail
    stops = [dark, mid, light]
    return _to_image(_gradient_map(_exposed(t, stops, exposure), stops))


def _halftone(grey: np.ndarray, colours: list[Colour], exposure: float) -> Image.Image:
    dark, mid, light = _ends(colours)
    paper = _mix(light, np.array([0.96, 0.93, 0.85], np.float32), 0.5)
    grey = _exposed(grey, [dark, _mix(paper, mid, 0.3), paper], exposure)  # dot area ~ the photo's tones
    H, W = grey.shape
    cell = max(3.0, min(W, H) / 110)
    blurred = (
        np.asarray(
            Image.fromarray((grey * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(cell * 0.45)),
            dtype=np.float32,
        )
        / 255
    )
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    c, s = np.float32(np.cos(np.pi / 4)), np.float32(np.sin(np.pi / 4))
    u, v = (xs * c + ys * s) / cell, (-xs * s + ys * c) / cell
    d = np.sqrt((u - np.round(u)) ** 2 + (v - np.round(v)) ** 2) * cell  # px from the nearest dot centre
    darkness = np.clip(1 - blurred, 0, 1)
    radius = cell * np.sqrt(darkness / np.pi) * 1.05
    ink = np.clip(radius - d + 0.5, 0, 1)[..., None]
    # a flat second colour under the dots in the shadows, as a two-plate print would have
    under = _mix(paper, mid, 0.55)
    ground = paper * (1 - darkness[..., None] * 0.6) + under * (darkness[..., None] * 0.6)
    return _to_image(ground * (1 - ink) + dark * ink)


def _vintage(
    img: Image.Image, grey: np.ndarray, colours: list[Colour], rng: np.random.Generator, exposure: float
) -> Image.Image:
    dark, mid, _light = _ends(colours)
    muted = np.asarray(ImageEnhance.Color(img).enhance(0.45), dtype=np.float32) / 255
    cream = np.array([0.95, 0.9, 0.78], np.float32)
    stops = [_mix(dark, np.array([0.2, 0.12, 0.08], np.float32), 0.5), mid, cream]
    mapped = _gradient_map(_exposed(grey, stops, exposure), stops)
    arr = muted * 0.45 + mapped * 0.55
    arr = arr * 0.86 + 0.08 * np.array([1.0, 0.93, 0.8], np.float32)  # lifted, warm blacks; softer whites
    H, W = grey.shape
    noise = rng.standard_normal((H, W), dtype=np.float32) * 0.025
    fibres = (
        np.asarray(
            Image.fromarray(
                (rng.standard_normal((max(2, H // 8), max(2, W // 8))) * 40 + 128)
                .clip(0, 255)
                .astype(np.uint8)
            ).resize((W, H), Image.Resampling.BICUBIC),
            dtype=np.float32,
        )
        / 255
        - 0.5
    )
    arr = arr + (noise + fibres * 0.04)[..., None]
    arr = arr * _vignette(W, H, 0.25, 0.6)[..., None]
    return _to_image(arr)


def _grade(img: Image.Image, grey: np.ndarray) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32) / 255
    t = grey[..., None]
    shadows = np.array([-0.03, 0.01, 0.05], np.float32) * (1 - t)
    highs = np.array([0.05, 0.02, -0.04], np.float32) * t
    arr = arr + shadows + highs
    arr = (arr - 0.5) * 1.08 + 0.5
    H, W = grey.shape
    arr = arr * _vignette(W, H, 0.3, 0.5)[..., None]
    return _to_image(arr)
