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
(``imaging.fonts``); every text auto-fits its width (shrinks to a floor, wraps to a few balanced lines) and
the whole block shrinks together until it fits its region. What cannot fit is cut with an ellipsis and
reported in ``Layout.warnings`` so the page can ask for a shorter text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from . import fonts
from .fonts import FAMILIES, Family

ITEMS = ("custom", "title", "performers", "date", "venue", "address", "price", "cta")
ITEM_LABELS = {
    "custom": "Your own text",
    "title": "Title",
    "performers": "Performers",
    "date": "Dates and times",
    "venue": "Venue",
    "address": "Address",
    "price": "Price",
    "cta": "Button (call to action)",
}
MAX_CHARS = {"title": 140, "custom": 120, "cta": 40}
POSITIONS = ("top", "center", "bottom")
TARGET_CONTRAST = 4.5
AAA_CONTRAST = 7.0
WHITE = (255, 255, 255)
INK = (17, 17, 17)  # near-black: softer than #000 on screens, still 18.9:1 against white
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --------------------------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class OverlaySpec:
    """What to write and how. ``color``/``accent`` are "#rrggbb" or "auto" (accent: the button's fill;
    auto means the text colour). Build from untrusted input with ``from_dict``: it never raises."""

    texts: Mapping[str, str] = field(default_factory=dict)
    enabled: frozenset[str] = frozenset({"title", "date", "venue", "price", "cta"})
    font: str = fonts.DEFAULT_FAMILY
    position: str = "bottom"
    color: str = "auto"
    accent: str = "auto"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> OverlaySpec:
        """A clean spec from JSON or form data: control characters stripped, lengths capped, unknown
        items, fonts, positions and colours replaced by defaults (a stored spec must always re-render)."""
        data = data or {}
        raw_texts = data.get("texts") or {}
        texts = {
            item: clean_text(str(raw_texts.get(item) or ""), MAX_CHARS.get(item, 200))
            for item in ITEMS
            if isinstance(raw_texts, Mapping)
        }
        enabled_raw = data.get("enabled")
        enabled = (
            frozenset(i for i in enabled_raw if i in ITEMS)
            if isinstance(enabled_raw, list | tuple | set | frozenset)
            else cls.enabled
        )
        return cls(
            texts=texts,
            enabled=enabled,
            font=data.get("font") if data.get("font") in FAMILIES else fonts.DEFAULT_FAMILY,
            position=data.get("position") if data.get("position") in POSITIONS else "bottom",
            color=_color(data.get("color")),
            accent=_color(data.get("accent")),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; stored in Asset.provenance["overlay"] next to the clean image."""
        return {
            "version": 1,
            "texts": {i: self.texts.get(i, "") for i in ITEMS if self.texts.get(i)},
            "enabled": [i for i in ITEMS if i in self.enabled],
            "font": self.font,
            "position": self.position,
            "color": self.color,
            "accent": self.accent,
        }

    def visible(self) -> list[tuple[str, str]]:
        """(item, text) pairs that will be drawn, in reading order."""
        return [(i, self.texts.get(i, "").strip()) for i in ITEMS if i in self.enabled and self.texts.get(i)]


def clean_text(text: str, limit: int = 200) -> str:
    """One line of display text: NFC, no control characters or line breaks, single spaces, capped."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text or ""))
    return " ".join(text.split())[:limit]


def _color(value: Any) -> str:
    return value.lower() if isinstance(value, str) and _HEX.fullmatch(value) else "auto"


def _rgb(hex_value: str) -> tuple[int, int, int]:
    return int(hex_value[1:3], 16), int(hex_value[3:5], 16), int(hex_value[5:7], 16)


# --------------------------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Role:
    face: str  # "display" | "text" | "strong"
    size: float  # of min(width, height)
    floor: float
    lines: int
    caps: bool = False  # small capitals line: upper case + tracking when the family sets strong in caps


_ROLES = {
    "custom": _Role("strong", 0.028, 0.018, 2, caps=True),
    "title": _Role("display", 0.16, 0.05, 3),
    "performers": _Role("text", 0.046, 0.024, 2),
    "date": _Role("strong", 0.04, 0.022, 2, caps=True),
    "venue": _Role("strong", 0.036, 0.02, 2),
    "address": _Role("text", 0.028, 0.018, 2),
    "price": _Role("strong", 0.04, 0.02, 1),
    "cta": _Role("strong", 0.032, 0.02, 1, caps=True),
}
_TITLE_SIZE = {"poster": 0.16, "square": 0.13, "banner": 0.15}
# Space above each item, in units of the detail size; the venue's address hangs close under it.
_GAP_BEFORE = {"title": 0.55, "performers": 0.7, "date": 0.55, "venue": 0.5, "address": 0.15, "price": 0.9}


@dataclass(frozen=True)
class Line:
    """One line of type: left edge and baseline in canvas pixels; ``pill`` is the button box for the CTA."""

    item: str
    text: str
    font_file: str
    size: int
    x: int
    baseline: int
    width: int
    tracking: float = 0.0
    pill: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class Layout:
    size: tuple[int, int]
    kind: str
    align: str
    lines: tuple[Line, ...]
    block: tuple[int, int, int, int]
    fits: bool
    warnings: tuple[str, ...]


def kind_for(size: tuple[int, int]) -> str:
    """poster / square / banner from the aspect ratio: the overlay does not need to be told."""
    ratio = size[0] / size[1]
    return "poster" if ratio < 0.8 else "banner" if ratio > 1.4 else "square"


@dataclass
class _Set:
    item: str
    face: str
    lines: tuple[str, ...]
    size: int
    tracking: float
    fits: bool
    leading: float


def _typeset(spec: OverlaySpec, fam: Family, kind: str, unit: int, width: int, scale: float) -> list[_Set]:
    out = []
    for item, text in spec.visible():
        role = _ROLES[item]
        face = getattr(fam, role.face)
        caps = (role.caps and fam.strong_upper) or (role.face == "display" and fam.display_upper)
        tracked = role.caps and fam.strong_upper
        if caps:
            text = text.upper()
        share = _TITLE_SIZE[kind] if item == "title" else role.size
        max_size = max(int(unit * share * scale), int(unit * role.floor))
        tracking_em = fam.tracking if tracked else 0.0
        room = width if item != "cta" else width * 0.8
        fitted = fonts.fit(face, text, room, max_size, int(unit * role.floor), role.lines, tracking_em)
        leading = fam.leading if role.face == "display" else 1.28
        out.append(
            _Set(item, face, fitted.lines, fitted.size, tracking_em * fitted.size, fitted.fits, leading)
        )
    return out


def _metrics(face: str, size: int) -> tuple[int, int]:
    """(cap height, descender) in px: titles are stacked on cap height so caps-only faces sit tight."""
    font = fonts.load(face, size)
    cap = -font.getbbox("H", anchor="ls")[1]
    desc = font.getbbox("gjpqy", anchor="ls")[3]
    return cap, desc


def layout(spec: OverlaySpec, size: tuple[int, int]) -> Layout:
    """Where every line goes (no pixels touched: tests check geometry on this alone)."""
    width_px, height_px = size
    kind = kind_for(size)
    fam = fonts.family(spec.font)
    unit = min(width_px, height_px)
    margin_x = round(width_px * (0.06 if kind == "banner" else 0.075))
    margin_y = round(height_px * (0.09 if kind == "banner" else 0.06))
    align = "left" if kind == "banner" else "center"
    block_w = round(width_px * 0.52) if kind == "banner" else width_px - 2 * margin_x
    region = {"poster": 0.5, "square": 0.58, "banner": 0.82}[kind] * height_px
    if spec.position == "center":
        region = max(region, 0.82 * height_px)
    detail = unit * _ROLES["price"].size

    scale = 1.0
    while True:
        sets = _typeset(spec, fam, kind, unit, block_w, scale)
        rows, total = _stack(sets, block_w, detail * max(scale, 0.7))
        if total <= region or scale <= 0.55:
            break
        scale = round(scale * 0.9, 3)
    warnings = [
        f"The {ITEM_LABELS[s.item].lower()} is too long to fit even at the smallest size and was cut "
        "short. Shorten it."
        for s in sets
        if not s.fits
    ]
    if total > region:
        warnings.append("Everything together does not fit in the space for text: switch some items off.")
    top = {
        "top": margin_y,
        "center": round((height_px - total) / 2),
        "bottom": round(height_px - margin_y - total),
    }[spec.position]
    lines = []
    for row in rows:
        row_x = margin_x + (round((block_w - row.width) / 2) if align == "center" else 0)
        for part in row.parts:
            pill = None
            if part.pill is not None:
                px0, py0, px1, py1 = part.pill
                pill = (row_x + px0, top + py0, row_x + px1, top + py1)
            lines.append(
                Line(
                    part.item,
                    part.text,
                    part.font_file,
                    part.size,
                    row_x + part.x,
                    top + part.baseline,
                    part.width,
                    part.tracking,
                    pill,
                )
            )
    block = (margin_x, max(0, top), margin_x + block_w, min(height_px, round(top + total)))
    fits = all(s.fits for s in sets) and total <= region
    return Layout(size, kind, align, tuple(lines), block, fits, tuple(warnings))


@dataclass
class _Row:
    """One row of the block: its width, and lines with x relative to the row, y relative to the block."""

    width: int
    parts: list[Line]


def _stack(sets: list[_Set], block_w: int, detail: float) -> tuple[list[_Row], float]:
    rows: list[_Row] = []
    y = 0.0
    by_item = {s.item: s for s in sets}
    for s in sets:
        if s.item == "cta" and "price" in by_item:
            continue  # set together with the price
        if rows:
            y += detail * _GAP_BEFORE.get(s.item, 0.5)
        if s.item in ("price", "cta"):
            y = _ticket_rows(rows, by_item.get("price"), by_item.get("cta"), y, block_w, detail)
            continue
        cap, desc = _metrics(s.face, s.size)
        for n, text in enumerate(s.lines):
            y += cap if n == 0 else s.size * s.leading
            w = round(fonts.width(fonts.load(s.face, s.size), text, s.tracking))
            rows.append(_Row(w, [Line(s.item, text, s.face, s.size, 0, round(y), w, s.tracking)]))
        y += desc if any(ch.islower() for ch in "".join(s.lines)) else round(s.size * 0.06)
    return rows, y


def _ticket_rows(
    rows: list[_Row], price: _Set | None, cta: _Set | None, y: float, block_w: int, detail: float
) -> float:
    """The price and the button side by side when both fit on one row (a ticket line), else stacked.
    The gap keeps the price's measured box well clear of the button and its shadow."""
    price_line = None
    if price is not None and price.lines:
        pw = round(fonts.width(fonts.load(price.face, price.size), price.lines[0], price.tracking))
        price_line = Line("price", price.lines[0], price.face, price.size, 0, 0, pw, price.tracking)
    if cta is None or not cta.lines:
        if price_line is not None:
            cap, desc = _metrics(price_line.font_file, price_line.size)
            rows.append(_Row(price_line.width, [_moved(price_line, 0, round(y + cap))]))
            y += cap + desc
        return y
    font = fonts.load(cta.face, cta.size)
    label_w = round(fonts.width(font, cta.lines[0], cta.tracking))
    cap, _ = _metrics(cta.face, cta.size)
    pill_w, pill_h = label_w + round(2.4 * cta.size), cap + round(1.5 * cta.size)
    gap = round(detail * 1.2)
    together = price_line is not None and price_line.width + gap + pill_w <= block_w
    if price_line is not None and not together:
        pcap, pdesc = _metrics(price_line.font_file, price_line.size)
        rows.append(_Row(price_line.width, [_moved(price_line, 0, round(y + pcap))]))
        y += pcap + pdesc + detail * 0.8
    pill_x = price_line.width + gap if together and price_line is not None else 0
    top = round(y)
    base = round(top + (pill_h + cap) / 2)
    button = Line(
        "cta",
        cta.lines[0],
        cta.face,
        cta.size,
        pill_x + (pill_w - label_w) // 2,
        base,
        label_w,
        cta.tracking,
        (pill_x, top, pill_x + pill_w, top + pill_h),
    )
    parts = [_moved(price_line, 0, base), button] if together and price_line is not None else [button]
    rows.append(_Row(pill_x + pill_w, parts))
    return y + pill_h


def _moved(line: Line, x: int, baseline: int) -> Line:
    return Line(
        line.item, line.text, line.font_file, line.size, x, baseline, line.width, line.tracking, line.pill
    )


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
        core = _core(regions, lay, size)
        feather = (round(0.25 * size[0]), round(0.12 * size[1]))
        for _ in range(6):  # the search is exact; this loop only guards against float rounding
            mask, mx, my = _scrim_mask(core, size, feather)
            out = arr.copy()
            h, w = mask.shape
            out[my : my + h, mx : mx + w] = _blend(
                arr[my : my + h, mx : mx + w], (mask * alpha)[..., None], scrim_rgb
            )
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


def _core(regions: list, lay: Layout, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The scrim's fully opaque part: every measured box plus breathing room, run out to the edge the
    block sits on (a gradient from the bottom reads as lighting, a floating box reads as a sticker)."""
    width_px, height_px = size
    pad = round(min(size) * 0.04)
    x0 = min(r[0] for r in regions) - pad
    y0 = min(r[1] for r in regions) - pad
    x1 = max(r[2] for r in regions) + pad
    y1 = max(r[3] for r in regions) + pad
    for ln in lay.lines:
        if ln.pill is not None:
            y1 = max(y1, ln.pill[3] + pad)
    if lay.align == "center":
        x0, x1 = 0, width_px
    else:
        x0 = 0
    pos = (
        "top" if lay.block[1] < height_px * 0.2 else "bottom" if lay.block[3] > height_px * 0.8 else "center"
    )
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
