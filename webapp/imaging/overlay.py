"""The show's details set in real type on top of artwork, legible on any background. PURE: PIL/numpy only.

The overlay is a *specification* (``OverlaySpec``: which items, their texts, the type pairing, position,
colours) rendered onto a clean image, never baked into it: the producer can change a word or the font and
re-render in well under 200 ms without paying for a new generation.

How legibility is guaranteed (WCAG 2.x contrast >= 4.5:1 for every line, title included):

* Every line's *ink box* is dilated a few pixels and the background pixels under it are measured one by
  one. Contrast is taken against the WORST pixel (the one whose luminance is closest to the text's), not
  the average: text over a bright highlight is unreadable however dark the rest of the box is.
* The text colour is the producer's colour, or (auto) white or near-black, whichever needs less help.
* When no colour reaches 4.5:1 a scrim is added: a black (or, for dark text, white) panel behind the
  block, feathered into the picture outside it. Its opacity is the smallest that makes the worst pixel of
  every line pass, found by bisection on the extreme pixels and then verified on all of them.
* A soft shadow is added to light text that passes without a scrim but by a thin margin (< 7:1, the AAA
  level). It only darkens, so it can only raise the measured contrast; the guarantee never rests on it.

Type: a display face for the title, a text face for details and a strong face for date/price/button
(``imaging.fonts``), with a fallback face for characters a face lacks (``overlay_text``). Where the lines
go — four layouts, the producer's nudges, the 5 % safe area, balanced line breaks — is
``overlay_layout`` and ``linebreak``. What cannot fit is reported in ``Layout.warnings`` (and
``Layout.refused``, which saving honours) so the page can ask for a shorter text.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from . import fonts
from .overlay_layout import (
    ITEM_LABELS,
    NUDGES,
    POSITION_LABELS,
    POSITIONS,
    SAFE,
    Layout,
    Line,
    kind_for,
    layout,
    safe_area,
)
from .overlay_spec import ITEMS, OverlaySpec, _rgb
from .overlay_text import MAX_CHARS, MAX_TITLE_CHARS, clean_text

__all__ = [
    "ITEMS",
    "ITEM_LABELS",
    "MAX_CHARS",
    "MAX_TITLE_CHARS",
    "NUDGES",
    "POSITIONS",
    "POSITION_LABELS",
    "SAFE",
    "Layout",
    "Line",
    "OverlayResult",
    "OverlaySpec",
    "clean_text",
    "kind_for",
    "layout",
    "render_overlay",
    "safe_area",
]

TARGET_CONTRAST = 4.5
AAA_CONTRAST = 7.0
WHITE = (255, 255, 255)
INK = (17, 17, 17)  # near-black: softer than #000 on screens, still 18.9:1 against white


# --------------------------------------------------------------------------------------------- pixels

_LINEAR = np.where(
    np.arange(256) / 255.0 <= 0.04045,
    np.arange(256) / 255.0 / 12.92,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
).astype(np.float32)


def luminance(pixels: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of uint8 sRGB pixels (any leading shape)."""
    lin = _LINEAR[pixels]
    return lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722


def worst_contrast(text_lum: float, background_lum: np.ndarray) -> float:
    """The lowest WCAG contrast between the text and any of the background luminances."""
    if background_lum.size == 0:
        return 21.0
    hi = np.maximum(background_lum, text_lum)
    lo = np.minimum(background_lum, text_lum)
    return float(1 / ((lo + 0.05) / (hi + 0.05)).max())


def _lum_of(rgb: tuple[int, int, int]) -> float:
    return float(luminance(np.array(rgb, dtype=np.uint8)))


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((_lum_of(a), _lum_of(b)))
    return (lb + 0.05) / (la + 0.05)


def _blend(pixels: np.ndarray, alpha: np.ndarray | float, scrim: tuple[int, int, int]) -> np.ndarray:
    """The scrim composite, identical wherever it is computed (search, apply, verify)."""
    a = np.asarray(alpha, dtype=np.float32)
    out = pixels.astype(np.float32) * (np.float32(1) - a) + np.asarray(scrim, dtype=np.float32) * a
    return np.rint(out).astype(np.uint8)


@dataclass(frozen=True)
class LineReport:
    """How one line came out: the measured box, its colour and the worst contrast in that box."""

    item: str
    text: str
    box: tuple[int, int, int, int]
    color: str
    contrast: float
    size: int


@dataclass
class OverlayResult:
    image: Image.Image
    layout: Layout
    lines: list[LineReport]
    text_color: str
    scrim: float
    shadow: bool
    text_mask: Image.Image  # glyph coverage of every line (for tests and debugging)

    @property
    def fits(self) -> bool:
        return self.layout.fits

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.layout.warnings

    @property
    def min_contrast(self) -> float:
        return min((ln.contrast for ln in self.lines), default=21.0)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _glyphs(line: Line, canvas: tuple[int, int]) -> tuple[Image.Image, tuple[int, int]]:
    """The line's glyph coverage on a small local mask, and that mask's offset on the canvas."""
    font = fonts.load(line.font_file, line.size)
    pad = line.size
    width_px = int(fonts.width(font, line.text, line.tracking)) + 2 * pad
    ox, oy = line.x - pad, line.baseline - 2 * pad
    mask = Image.new("L", (width_px, 3 * pad))
    draw = ImageDraw.Draw(mask)
    if not line.tracking:
        draw.text((pad, 2 * pad), line.text, font=font, fill=255, anchor="ls")
    else:
        for i, ch in enumerate(line.text):
            x = pad + font.getlength(line.text[:i]) + i * line.tracking
            draw.text((x, 2 * pad), ch, font=font, fill=255, anchor="ls")
    return mask, (ox, oy)


def _scrim_mask(
    core: tuple[int, int, int, int], size: tuple[int, int], feather: tuple[int, int]
) -> tuple[np.ndarray, int, int]:
    """Opacity 1 inside ``core``, easing to 0 over ``feather`` px outside it (separable smoothstep).
    Returns the mask for rows y0..y1 and columns x0..x1 only, with (x0, y0)."""
    width_px, height_px = size
    x0, y0, x1, y1 = core
    fx, fy = feather
    ax0, ay0 = max(0, x0 - fx), max(0, y0 - fy)
    ax1, ay1 = min(width_px, x1 + fx), min(height_px, y1 + fy)

    def ramp(lo: int, hi: int, a: int, b: int, feather: int) -> np.ndarray:
        pos = np.arange(a, b, dtype=np.float32) + 0.5
        outside = np.maximum(np.maximum(lo - pos, pos - hi), 0) / max(1, feather)
        t = np.clip(1 - outside, 0, 1)
        return t * t * (3 - 2 * t)

    mask = np.outer(ramp(y0, y1, ay0, ay1, fy), ramp(x0, x1, ax0, ax1, fx))
    return mask.astype(np.float32), ax0, ay0


def render_overlay(image: Image.Image, spec: OverlaySpec) -> OverlayResult:
    """Set the spec's texts on a copy of ``image`` so that every line is legible (see the module doc)."""
    base = image.convert("RGB")
    size = base.size
    lay = layout(spec, size)
    masks = [_glyphs(ln, size) for ln in lay.lines]
    text_mask = Image.new("L", size)
    boxes: list[tuple[int, int, int, int] | None] = []
    for ln, (mask, (ox, oy)) in zip(lay.lines, masks, strict=True):
        text_mask.paste(mask, (ox, oy), mask)
        ink = mask.getbbox()
        if ink is None or ln.pill is not None:
            boxes.append(None)
            continue
        d = max(3, round(ln.size * 0.08))
        boxes.append(
            (
                max(0, ink[0] + ox - d),
                max(0, ink[1] + oy - d),
                min(size[0], ink[2] + ox + d),
                min(size[1], ink[3] + oy + d),
            )
        )
    arr = np.array(base)
    regions = [b for b in boxes if b]
    pixels = (
        np.concatenate([arr[y0:y1, x0:x1].reshape(-1, 3) for x0, y0, x1, y1 in regions])
        if regions
        else np.zeros((0, 3), np.uint8)
    )

    color, scrim_rgb, alpha = _choose(spec, pixels)
    shadow = False
    if alpha > 0:
        feather = (round(0.25 * size[0]), round(0.12 * size[1]))
        parts = [_scrim_mask(core, size, feather) for core in _cores(boxes, lay, size)]
        x0 = min(mx for _, mx, _ in parts)
        y0 = min(my for _, _, my in parts)
        x1 = max(mx + m.shape[1] for m, mx, _ in parts)
        y1 = max(my + m.shape[0] for m, _, my in parts)
        cover = np.zeros((y1 - y0, x1 - x0), np.float32)  # only the rows and columns a scrim touches
        for mask, mx, my in parts:
            h, w = mask.shape
            view = cover[my - y0 : my - y0 + h, mx - x0 : mx - x0 + w]
            np.maximum(view, mask, out=view)
        for _ in range(6):  # the search is exact; this loop only guards against float rounding
            out = arr.copy()
            out[y0:y1, x0:x1] = _blend(arr[y0:y1, x0:x1], (cover * alpha)[..., None], scrim_rgb)
            if _all_pass(out, regions, color) or alpha >= 1:
                break
            alpha = min(1.0, alpha + 0.02)
        arr = out
    elif regions and _lum_of(color) > 0.4 and _worst(arr, regions, color) < AAA_CONTRAST:
        shadow = True
        soft = text_mask.filter(ImageFilter.GaussianBlur(max(2, round(min(size) * 0.004))))
        drop = round(min(size) * 0.002) + 1
        shade = np.zeros(arr.shape[:2], np.float32)
        shade[drop:] = np.asarray(soft, dtype=np.float32)[:-drop] / 255.0
        arr = _blend(arr, (shade * 0.55)[..., None], (0, 0, 0))

    reports = [
        LineReport(ln.item, ln.text, box, _hex(color), round(_worst(arr, [box], color), 2), ln.size)
        for ln, box in zip(lay.lines, boxes, strict=True)
        if box is not None
    ]
    out_img = Image.fromarray(arr)
    for ln, (mask, (ox, oy)) in zip(lay.lines, masks, strict=True):
        if ln.pill is not None:
            fill = _rgb(spec.accent) if spec.accent != "auto" else color
            label = WHITE if _contrast(WHITE, fill) >= _contrast(INK, fill) else INK
            _draw_pill(out_img, ln.pill, fill)
            out_img.paste(label, (ox, oy), mask)
            reports.append(
                LineReport(ln.item, ln.text, ln.pill, _hex(label), round(_contrast(label, fill), 2), ln.size)
            )
        else:
            out_img.paste(color, (ox, oy), mask)
    return OverlayResult(out_img, lay, reports, _hex(color), round(alpha, 3), shadow, text_mask)


def _worst(arr: np.ndarray, regions: list, color: tuple[int, int, int]) -> float:
    lum = _lum_of(color)
    return min(
        (worst_contrast(lum, luminance(arr[y0:y1, x0:x1])) for x0, y0, x1, y1 in regions), default=21.0
    )


def _all_pass(arr: np.ndarray, regions: list, color: tuple[int, int, int]) -> bool:
    return _worst(arr, regions, color) >= TARGET_CONTRAST


def _choose(
    spec: OverlaySpec, pixels: np.ndarray
) -> tuple[tuple[int, int, int], tuple[int, int, int], float]:
    """(text colour, scrim colour, minimal scrim opacity). Auto prefers white unless dark text needs
    clearly less help (a light sky): white type on a dark veil is the poster convention."""
    candidates = [_rgb(spec.color)] if spec.color != "auto" else [WHITE, INK]
    lum = luminance(pixels) if pixels.size else np.zeros(0, np.float32)
    options = []
    for color in candidates:
        scrim = (0, 0, 0) if _contrast(color, (0, 0, 0)) >= _contrast(color, WHITE) else WHITE
        options.append((color, scrim, _needed_alpha(color, scrim, pixels, lum)))
    if len(options) == 2 and options[1][2] + 0.12 < options[0][2]:
        return options[1]
    return options[0]


def _needed_alpha(
    color: tuple[int, int, int], scrim: tuple[int, int, int], pixels: np.ndarray, lum: np.ndarray
) -> float:
    """Smallest scrim opacity (0.01 steps) at which the worst pixel passes: bisection on the few thousand
    pixels nearest the scrim's opposite, then checked on all pixels (the blend is not strictly
    order-preserving in luminance, so the subset is a fast guess, the full check the proof)."""
    text_lum = _lum_of(color)
    if worst_contrast(text_lum, lum) >= TARGET_CONTRAST:
        return 0.0
    k = min(4096, lum.size)
    order = np.argpartition(lum, lum.size - k)[-k:] if scrim == (0, 0, 0) else np.argpartition(lum, k - 1)[:k]
    subset = pixels[order]

    def ok(alpha: float, sample: np.ndarray) -> bool:
        return worst_contrast(text_lum, luminance(_blend(sample, alpha, scrim))) >= TARGET_CONTRAST

    lo, hi = 0, 100
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid / 100, subset):
            hi = mid
        else:
            lo = mid + 1
    alpha = lo / 100
    while alpha < 1 and not ok(alpha, pixels):
        alpha = min(1.0, alpha + 0.01)
    return alpha


def _cores(boxes: list, lay: Layout, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The scrim's fully opaque parts: one per group of lines (two for the split layout, whose title and
    details sit at opposite edges: one panel over both would veil the whole picture)."""
    regions = [(b, ln) for b, ln in zip(boxes, lay.lines, strict=True) if b or ln.pill]
    if regions and _split(lay):
        mid = lay.size[1] / 2
        upper = [(b, ln) for b, ln in regions if ln.baseline < mid]
        lower = [(b, ln) for b, ln in regions if ln.baseline >= mid]
        return [_core(g, lay, size) for g in (upper, lower) if g]
    return [_core(regions, lay, size)]


def _split(lay: Layout) -> bool:
    baselines = sorted(ln.baseline for ln in lay.lines)
    gaps = [b - a for a, b in itertools.pairwise(baselines)]
    return bool(gaps) and max(gaps) > 0.25 * lay.size[1]


def _core(group: list, lay: Layout, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """One opaque part: the group's measured boxes plus breathing room, run out to the edge it sits
    on (a gradient from the bottom reads as lighting, a floating box reads as a sticker)."""
    width_px, height_px = size
    pad = round(min(size) * 0.04)
    boxes = [b if b else ln.pill for b, ln in group]
    x0 = min(r[0] for r in boxes) - pad
    y0 = min(r[1] for r in boxes) - pad
    x1 = max(r[2] for r in boxes) + pad
    y1 = max(r[3] for r in boxes) + pad
    if lay.align == "center":
        x0, x1 = 0, width_px
    else:
        x0 = 0
    pos = "top" if y0 < height_px * 0.2 else "bottom" if y1 > height_px * 0.8 else "center"
    if pos == "top":
        y0 = 0
    elif pos == "bottom":
        y1 = height_px
    return max(0, x0), max(0, y0), min(width_px, x1), min(height_px, y1)


def _draw_pill(img: Image.Image, box: tuple[int, int, int, int], fill: tuple[int, int, int]) -> None:
    """A rounded button with anti-aliased edges (drawn at 4x, reduced) and a soft shadow under it."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    scale = 4
    big = Image.new("L", (w * scale, h * scale))
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, w * scale - 1, h * scale - 1), radius=h * scale // 2, fill=255
    )
    mask = big.resize((w, h), Image.Resampling.BOX)
    blur = max(2, h // 6)
    shadow = Image.new("L", (w + 4 * blur, h + 4 * blur))
    shadow.paste(mask, (2 * blur, 2 * blur))
    shadow = shadow.filter(ImageFilter.GaussianBlur(blur)).point(lambda v: v * 35 // 100)
    img.paste((0, 0, 0), (x0 - 2 * blur, y0 - 2 * blur + max(1, h // 12)), shadow)
    img.paste(fill, (x0, y0), mask)
