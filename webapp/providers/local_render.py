"""``render``: one new image of the local artwork, from brief to finished pixels.

Order: palette and motifs from the brief and the style's recipe; background (a sky when the prompt says
day or night); motifs; calm space where the title will sit; tone curve; the style's guard (the measurable
look each style promises, enforced rather than hoped for); explicit palette areas; grain.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from .local_canvas import Canvas, _mask_image, _paste_mask, _smooth, background
from .local_palette import (
    CATEGORY,
    DEFAULT_STYLES,
    RECIPES,
    Recipe,
    _hex,
    _mix,
    _seed_of,
    build_palette,
    choose_motifs,
)
from .local_scenes import MOTIFS, Z_ORDER
from .local_style import calm_space, guard_style, title_side
from .local_words import Brief, read_prompt

# --------------------------------------------------------------------------------------------------------
# Finishing: haze, vignette, lift, grain, paper


def _finish(cv: Canvas, img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Vignette, tone curve (contrast, lifted blacks, tint) and grain/paper texture, all in Pillow's C code:
    full-resolution float maths here cost more than the whole drawing."""
    return _grain(cv, _tone(cv, img), rng)


def _tone(cv: Canvas, img: Image.Image) -> Image.Image:
    """Vignette and tone curve (contrast, lifted blacks going warm like faded print)."""
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
    contrast = r.contrast * cv.contrast
    if contrast != 1.0 or r.lift:
        v = np.arange(256, dtype=np.float32) / 255
        v = np.clip((v - 0.5) * contrast + 0.5, 0, 1)
        lut = []
        for target in (1.0, 0.95, 0.85):  # lifted blacks go warm, like faded print
            ch = v * (1 - r.lift) + r.lift * target
            lut += [int(x) for x in np.clip(ch * 255 + 0.5, 0, 255)]
        img = img.point(lut)
    return img


def _grain(cv: Canvas, img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Film grain in 2x2 clumps (reads as grain at print size and keeps PNG encoding fast), plus paper."""
    W, H = cv.size
    r = cv.recipe
    if r.grain or r.paper:
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


def _recipe_for(style: str | None, brief: Brief, seed: int | None) -> tuple[str, Recipe]:
    key = (style or "").strip().lower()
    if key in RECIPES:
        return key, RECIPES[key]
    if "neon" in brief.words:
        return "neon", RECIPES["neon"]
    name = DEFAULT_STYLES[_seed_of("style", brief.words, key, seed) % len(DEFAULT_STYLES)]
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
    brief = read_prompt(prompt)
    style_name, recipe = _recipe_for(style, brief, seed)
    # Layout and colour choices do not depend on the size, so one request looks alike in every format.
    rng = np.random.default_rng(_seed_of(brief.words, style_name, seed, tuple(palette or ())))
    pal = build_palette(brief, recipe, rng, palette, style_name)
    motifs = choose_motifs(brief, recipe, rng)
    # Each style's signature, whatever the subject: neon's glowing tubes, artistic's brush strokes (which
    # take the texture slot from a subject's texture such as strings).
    if style_name == "neon" and "neon" not in motifs:
        motifs.append("neon")
    if style_name == "artistic" and "brush" not in motifs:
        motifs = [m for m in motifs if CATEGORY[m] != "texture"] + ["brush"]
    cv = Canvas(size, pal, rng, recipe, brief.words, density=brief.mood.density)
    cv.contrast = brief.mood.contrast
    background(cv, "sky" if brief.time and not recipe.flat else recipe.background)
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
    img = calm_space(img, style_name, pal.bg0, brief.mood.density)
    img = _tone(cv, img)
    if brief.colours and not palette and style_name not in ("vintage", "neon"):  # named colours: an area each
        img = _wash_named(cv, img, [_hex(c) for c in brief.colours[:3]])
    img = guard_style(img, style_name)
    if palette:  # after lights and tone, which shift colours; before grain, which is texture on top
        colours = [_hex(c) for c in palette]
        _ensure_palette_areas(cv, img, colours)
        img = _pull_to_palette(img, colours)
    return _grain(cv, img, np.random.default_rng(_seed_of("grain", seed, size)))


MIN_SHARE = 0.08  # an explicit palette colour should cover at least this fraction of the picture
NEAR_DE = 10.0  # CIELAB distance within which a pixel counts as showing a palette colour
PULL_STRENGTH = 0.85  # how far an area near a palette colour is graded onto it
PULL_RADIUS_DE = 40.0  # CIELAB distance beyond which nothing is graded


def _lab(rgb01: np.ndarray) -> np.ndarray:
    from webapp.imaging.color import srgb_to_lab

    return srgb_to_lab(np.clip(rgb01, 0, 1) * 255).astype(np.float32)


def _nearest(small: np.ndarray, colours: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel of ``small`` (RGB 0..1): index of the nearest palette colour and its Lab distance."""
    dist = np.sqrt(((_lab(small)[:, :, None, :] - _lab(np.stack(colours))[None, None]) ** 2).sum(axis=-1))
    nearest = dist.argmin(axis=-1)
    return nearest, np.take_along_axis(dist, nearest[..., None], axis=-1)[..., 0]


def _share_near(img: Image.Image, colour: np.ndarray, within: float = NEAR_DE) -> float:
    small = np.asarray(img.reduce(8), dtype=np.float32) / 255
    _, d = _nearest(small, [colour])
    return float((d < within).mean())


def _ensure_palette_areas(cv: Canvas, img: Image.Image, colours: list[np.ndarray]) -> None:
    """Give every producer colour that the motifs left (nearly) invisible an area of its own.

    Motifs mix, tint and light the accents, and which motifs appear depends on the seed, so without this a
    colour from the palette could be missing altogether. Flat styles get a crisp disc (a corner quarter or a
    full disc), soft styles a blurred pool of colour; positions come from the canvas generator.
    """
    W, H = cv.size
    spots = [(0.3, 0.32), (0.7, 0.32), (0.3, 0.7), (0.7, 0.7), (0.5, 0.5)]  # apart, and clear of the vignette
    order = cv.rng.permutation(len(spots))
    used = 0
    for colour in colours:
        share = _share_near(img, colour)
        if share >= MIN_SHARE:
            continue
        fx, fy = spots[order[used % len(spots)]]
        used += 1
        cx, cy = W * (fx + cv.rng.uniform(-0.05, 0.05)), H * (fy + cv.rng.uniform(-0.05, 0.05))
        r = math.sqrt((MIN_SHARE * 1.4 - share) * W * H / math.pi)
        mask, draw = _mask_image((W, H))
        if cv.recipe.flat:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
            _paste_mask(img, mask, colour, 1.0)
        else:
            r *= 1.2  # the blurred rim counts only partly
            draw.ellipse((cx - r, cy - r * 0.85, cx + r, cy + r * 0.85), fill=255)
            _paste_mask(img, mask.filter(ImageFilter.GaussianBlur(r * 0.2)), colour, 1.0, aa=0)


NAMED_SHARE = 0.08  # a colour the prompt names should be seen on at least this fraction of the picture
NAMED_DE = 12.0  # a named colour is a family ("blue"): shades this close (CIELAB) count as showing it


def _wash_named(cv: Canvas, img: Image.Image, colours: list[np.ndarray]) -> Image.Image:
    """A soft wash of coloured light for each named colour the motifs left scarce, in the focal part.

    A pool of light rather than a disc, so it reads as lighting of the scene; placed away from the
    title's calm space (the upper part of a poster or square, the right of a banner).
    """
    W, H = cv.size
    banner = title_side(cv.size) == "left"
    spots = [(0.72, 0.3), (0.88, 0.7), (0.55, 0.55)] if banner else [(0.3, 0.28), (0.72, 0.22), (0.5, 0.45)]
    order = cv.rng.permutation(len(spots))
    sw, sh = max(8, W // 8), max(8, H // 8)
    ys = (np.arange(sh, dtype=np.float32) + 0.5) / sh
    xs = (np.arange(sw, dtype=np.float32) + 0.5) / sw
    used = 0
    for colour in colours:
        share = _share_near(img, colour, NAMED_DE)
        if share >= NAMED_SHARE:
            continue
        fx, fy = spots[order[used % len(spots)]]
        used += 1
        rx, ry = (0.2, 0.38) if banner else (0.32, 0.2)
        d2 = ((xs[None, :] - fx) / rx) ** 2 + ((ys[:, None] - fy) / ry) ** 2
        alpha = np.clip(np.exp(-d2 * 1.2) * 1.25, 0, 0.95)
        mask = Image.fromarray((alpha * 255).astype(np.uint8)).resize((W, H), Image.Resampling.BICUBIC)
        img = Image.composite(Image.new("RGB", (W, H), tuple(int(c * 255 + 0.5) for c in colour)), img, mask)
    return img


def _pull_to_palette(img: Image.Image, colours: list[np.ndarray]) -> Image.Image:
    """Grade areas that are near one of the producer's colours towards exactly that colour.

    Lighting, haze, vignette and the tone curve shift flat colours, so an explicit palette would otherwise
    show up only approximately. The shift is computed on a reduced copy (local means) and added back at full
    resolution, so grain and edges survive while each area's average lands on the palette colour.
    """
    W, H = img.size
    factor = 8
    small = np.asarray(img.reduce(factor), dtype=np.float32) / 255
    pal = np.stack(colours).astype(np.float32)  # (k, 3)
    nearest, d = _nearest(small, colours)
    weight = PULL_STRENGTH * _smooth_step(1 - d / PULL_RADIUS_DE)
    shift = weight[..., None] * (pal[nearest] - small)
    channels = [
        np.asarray(Image.fromarray(shift[..., c], mode="F").resize((W, H), Image.Resampling.BILINEAR))
        for c in range(3)
    ]
    full = np.asarray(img, dtype=np.float32) + np.stack(channels, axis=-1) * 255
    return Image.fromarray(np.clip(full + 0.5, 0, 255).astype(np.uint8))


def _smooth_step(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)
