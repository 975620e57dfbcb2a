"""Entry points of the local artwork: ``render`` (new image) and ``stylise`` (treatment of a photo)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageFilter, ImageOps

from .local_motifs import MOTIFS, Z_ORDER, Canvas, _smooth, background
from .local_palette import (
    _WORD,
    DEFAULT_STYLES,
    RECIPES,
    Recipe,
    _mix,
    _seed_of,
    build_palette,
    choose_motifs,
)

# --------------------------------------------------------------------------------------------------------
# Finishing: haze, vignette, lift, grain, paper


def _finish(cv: Canvas, img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Vignette, tone curve (contrast, lifted blacks, tint) and grain/paper texture, all in Pillow's C code:
    full-resolution float maths here cost more than the whole drawing."""
    W, H = cv.size
    r = cv.recipe
    if r.vignette:
        sw, sh = max(8, W // 16), max(8, H // 16)
        ys = (np.arange(sh, dtype=np.float32) + 0.5) / sh - 0.5
        xs = (np.arange(sw, dtype=np.float32) + 0.5) / sw - 0.5
        d = np.sqrt((xs[None, :] * 1.1) ** 2 + ys[:, None] ** 2) * 2
        vig = 1 - r.vignette * 0.75 * _smooth((d - 0.45) / 0.9)
        vig_img = Image.fromarray((vig * 255 + 0.5).astype(np.uint8)).resize(
            (W, H), Image.Resampling.BILINEAR
        )
        img = ImageChops.multiply(img, Image.merge("RGB", (vig_img,) * 3))
    if r.contrast != 1.0 or r.lift:
        v = np.arange(256, dtype=np.float32) / 255
        v = np.clip((v - 0.5) * r.contrast + 0.5, 0, 1)
        lut = []
        for target in (1.0, 0.95, 0.85):  # lifted blacks go warm, like faded print
            ch = v * (1 - r.lift) + r.lift * target
            lut += [int(x) for x in np.clip(ch * 255 + 0.5, 0, 255)]
        img = img.point(lut)
    if r.grain or r.paper:
        # Grain in 2x2 clumps (reads as film grain at print size and keeps PNG encoding fast).
        gh, gw = (H + 1) // 2, (W + 1) // 2
        noise = rng.standard_normal((gh, gw), dtype=np.float32) * (r.grain * 255)
        if r.paper:
            fibres = rng.standard_normal((max(2, H // 6), max(2, W // 6)), dtype=np.float32)
            fib = Image.fromarray(fibres).resize((gw, gh), Image.Resampling.BICUBIC)
            noise += np.asarray(fib, dtype=np.float32) * (9 * r.paper)
        grain = Image.fromarray(np.clip(noise + 128, 0, 255).astype(np.uint8)).resize(
            (W, H), Image.Resampling.NEAREST
        )
        img = ImageChops.add(img, Image.merge("RGB", (grain,) * 3), 1.0, -128)
    return img


def _screen(base: Image.Image, light: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """Screen-blend an additive light map (half resolution) onto the full-resolution image."""
    if not light.any():
        return base
    light_img = Image.fromarray((np.clip(light, 0, 1) * 255).astype(np.uint8)).resize(
        size, Image.Resampling.BICUBIC
    )
    return ImageChops.screen(base, light_img)


# --------------------------------------------------------------------------------------------------------
# Entry points


def _recipe_for(style: str | None, words: list[str], seed: int | None) -> tuple[str, Recipe]:
    key = (style or "").strip().lower()
    if key in RECIPES:
        return key, RECIPES[key]
    if "neon" in words:
        return "neon", RECIPES["neon"]
    name = DEFAULT_STYLES[_seed_of("style", words, key, seed) % len(DEFAULT_STYLES)]
    return name, RECIPES[name]


def render(
    prompt: str,
    size: tuple[int, int],
    *,
    style: str | None = None,
    seed: int | None = 0,
    palette: list[str] | None = None,
) -> Image.Image:
    """Draw one image. Deterministic for (prompt, size, style, seed, palette)."""
    words = _WORD.findall(prompt.lower())
    style_name, recipe = _recipe_for(style, words, seed)
    # Layout and colour choices do not depend on the size, so one request looks alike in every format.
    rng = np.random.default_rng(_seed_of(words, style_name, seed, tuple(palette or ())))
    pal = build_palette(words, recipe, rng, palette)
    motifs = choose_motifs(words, recipe, rng)
    cv = Canvas(size, pal, rng, recipe, words)
    background(cv, recipe.background)
    if recipe.haze:
        x, y = cv.grid()
        fog = np.exp(-(((y - rng.uniform(0.2, 0.5)) / 0.25) ** 2)) * np.exp(
            -(((x - cv.aspect * rng.uniform(0.3, 0.7)) / 0.6) ** 2)
        )
        cv.glow(fog, _mix(pal.accent(0), pal.hi, 0.5), recipe.haze * (0.35 if pal.dark else 0.15))
    for name in Z_ORDER:
        if name in motifs:
            MOTIFS[name](cv)
    soft = Image.fromarray((np.clip(cv.soft, 0, 1) * 255 + 0.5).astype(np.uint8)).resize(
        size, Image.Resampling.BICUBIC
    )
    for draw in cv.crisp:
        draw(soft)
    img = _screen(soft, cv.light, size)
    for draw in cv.top:
        draw(img)
    return _finish(cv, img, np.random.default_rng(_seed_of("grain", seed, size)))


TREATMENTS = {
    "vintage": "duotone",
    "bold": "duotone",
    "modern": "duotone",
    "minimalist": "duotone",
    "artistic": "paint",
    "realistic": "paint",
    "cinematic": "paint",
    "neon": "glow",
}


def stylise(
    source: Image.Image,
    size: tuple[int, int],
    *,
    prompt: str = "",
    style: str | None = None,
    seed: int | None = 0,
    palette: list[str] | None = None,
) -> Image.Image:
    """A deterministic treatment of a photo, cropped to ``size``: posterised duotone, painterly, or neon glow.

    The treatment follows the style (vintage/bold/modern -> duotone print, artistic/realistic -> painterly,
    neon -> glow); other styles pick by seed. Colours come from the palette or the prompt's colour words.
    """
    words = _WORD.findall(prompt.lower())
    style_name, recipe = _recipe_for(style, words, seed)
    rng = np.random.default_rng(_seed_of("edit", words, style_name, seed, tuple(palette or ())))
    pal = build_palette(words, recipe, rng, palette)
    img = ImageOps.fit(source, size, Image.Resampling.LANCZOS, centering=(0.5, 0.45))
    treatment = TREATMENTS.get(style_name)
    if style is None or (style or "").lower() not in RECIPES:
        treatment = ["duotone", "paint", "glow"][int(rng.integers(0, 3))]
    # Denoise first (reduce, blur, enlarge): posterising or edge-finding a noisy photo amplifies the noise.
    smooth = img.reduce(4).filter(ImageFilter.GaussianBlur(1.2)).resize(size, Image.Resampling.BICUBIC)
    grey = np.asarray(ImageOps.autocontrast(smooth.convert("L"), cutoff=1), dtype=np.float32) / 255
    if treatment == "duotone":
        levels = int(rng.integers(4, 7))
        t = np.round(grey * (levels - 1)) / (levels - 1)
        dark = pal.bg0 if pal.dark else _mix(pal.accent(1), np.zeros(3, np.float32), 0.6)
        light = _mix(pal.accent(0), pal.hi, 0.35)
        arr = dark * (1 - t[..., None]) + light * t[..., None]
    elif treatment == "paint":
        small = img.reduce(3).filter(ImageFilter.ModeFilter(5)).filter(ImageFilter.SMOOTH_MORE)
        painted = np.asarray(small.resize(size, Image.Resampling.BICUBIC), dtype=np.float32) / 255
        tint = _mix(pal.accent(0), pal.bg1, 0.5)
        arr = painted * 0.78 + tint * 0.22 * (1 - grey[..., None]) + 0.1 * grey[..., None] * pal.hi
    else:
        edges = np.asarray(smooth.convert("L").filter(ImageFilter.FIND_EDGES), dtype=np.float32) / 255
        edges = _smooth((edges - 0.02) * 12)
        edges[:3, :] = edges[-3:, :] = 0  # FIND_EDGES sees the frame itself as an edge
        edges[:, :3] = edges[:, -3:] = 0
        glow = (
            np.asarray(
                Image.fromarray((edges * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(6)),
                dtype=np.float32,
            )
            / 255
        )
        base = pal.bg0 * 0.6 + grey[..., None] * 0.25 * pal.accent(1)
        arr = base + edges[..., None] * pal.hi * 0.8 + np.clip(glow * 3, 0, 1)[..., None] * pal.accent(0)
    cv = Canvas(size, pal, rng, recipe, words)
    out = Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8))
    return _finish(cv, out, np.random.default_rng(_seed_of("grain-edit", seed, size)))
