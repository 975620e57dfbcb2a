"""The drawing surface of the local provider: a canvas, its primitives, and the backgrounds.

Soft things (gradients, light, waves, strokes) are drawn at half resolution into float arrays and upscaled,
because they are blurry by nature and that halves the cost; hard-edged shapes are queued as draw calls that
run on the full-resolution image with a small anti-aliasing blur. Motifs live in ``local_motifs`` (lights
and particles), ``local_grounds`` (grounds, textures, graphic shapes) and ``local_scenes`` (subject motifs
picked from the prompt's nouns).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .local_palette import Colour, Palette, Recipe, _deep, _mix

WORK_SCALE = 0.5  # soft layers are rendered at this fraction of the output size


# --------------------------------------------------------------------------------------------------------
# Drawing context and primitives


@dataclass
class Canvas:
    """Everything a motif needs. ``soft`` is the half-resolution float image, ``light`` an additive light map
    at the same resolution (screened on after upscaling), ``crisp`` draw calls run at full resolution."""

    size: tuple[int, int]
    palette: Palette
    rng: np.random.Generator
    recipe: Recipe
    words: list[str]
    density: float = 1.0  # mood: calm prompts draw fewer, energetic ones more elements
    contrast: float = 1.0  # mood: multiplies the recipe's tone-curve contrast
    soft: np.ndarray = field(init=False)
    light: np.ndarray = field(init=False)
    crisp: list[Callable[[Image.Image], None]] = field(default_factory=list)
    top: list[Callable[[Image.Image], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        w, h = self.work_size
        self.soft = np.zeros((h, w, 3), np.float32)
        self.light = np.zeros((h, w, 3), np.float32)

    @property
    def work_size(self) -> tuple[int, int]:
        return max(8, round(self.size[0] * WORK_SCALE)), max(8, round(self.size[1] * WORK_SCALE))

    @property
    def aspect(self) -> float:
        return self.size[0] / self.size[1]

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates in units of the canvas height: x in [0, aspect], y in [0, 1]."""
        w, h = self.work_size
        ys = (np.arange(h, dtype=np.float32) + 0.5) / h
        xs = (np.arange(w, dtype=np.float32) + 0.5) / h
        return xs[None, :], ys[:, None]

    def over(self, mask: np.ndarray, colour: Colour, alpha: float = 1.0) -> None:
        delta = colour - self.soft
        delta *= (mask * alpha)[..., None]
        self.soft += delta

    def glow(self, mask: np.ndarray, colour: Colour, strength: float = 1.0) -> None:
        self.light += (mask * strength)[..., None] * colour

    def count(self, lo: int, hi: int) -> int:
        """A random element count in [lo, hi] scaled by the mood's density (at least 1)."""
        return max(1, round(int(self.rng.integers(lo, hi + 1)) * self.density))

    @property
    def px(self) -> float:
        """Size of one work pixel relative to a 512 px high work canvas: pixel sizes scale with the image."""
        return self.work_size[1] / 512


def _mask_image(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", size, 0)
    return img, ImageDraw.Draw(img)


def _to_array(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float32) / 255.0


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _paste_mask(
    target: Image.Image, mask: Image.Image, colour: Colour, alpha: float = 1.0, aa: float = 0.7
) -> None:
    """Fill ``colour`` through an "L" mask (a small blur stands in for anti-aliasing).

    Only the mask's bounding box is blurred and pasted: shapes are small next to a 1.5 MP canvas.
    """
    box = mask.getbbox()
    if box is None:
        return
    pad = int(aa * 3) + 1
    box = (
        max(0, box[0] - pad),
        max(0, box[1] - pad),
        min(mask.width, box[2] + pad),
        min(mask.height, box[3] + pad),
    )
    part = mask.crop(box)
    if aa:
        part = part.filter(ImageFilter.GaussianBlur(aa))
    if alpha < 1.0:
        part = part.point(lambda v: int(v * alpha))
    rgb = tuple(round(float(c) * 255) for c in colour)
    target.paste(rgb, box, part)


# --------------------------------------------------------------------------------------------------------
# Backgrounds


def background(cv: Canvas, kind: str) -> None:
    """Mesh (soft multi-colour blobs), linear or radial gradient, computed small and upscaled."""
    p, rng = cv.palette, cv.rng
    w, h = cv.work_size
    sw, sh = max(4, w // 8), max(4, h // 8)
    ys = (np.arange(sh, dtype=np.float32) + 0.5) / sh
    xs = (np.arange(sw, dtype=np.float32) + 0.5) / sh
    x, y = xs[None, :], ys[:, None]
    aspect = cv.aspect
    if kind == "mesh" and not cv.recipe.flat:
        if p.explicit:  # the producer's colours, each in a region of its own
            colours = [p.bg0, p.bg0, p.bg1, *p.accents]
        elif p.named:  # colours the prompt named: large areas of them, around a deeper ground
            colours = [p.bg0, p.bg1, *p.accents[:2], *p.accents[:2]]
        else:
            colours = [p.bg0, p.bg1, p.bg0, *(_deep(c, p.dark) for c in p.accents[:2])]
        num = np.zeros((sh, sw, 3), np.float32)
        den = np.full((sh, sw), 1e-3, np.float32)
        for c in colours:
            cx, cy, r = rng.uniform(0, aspect), rng.uniform(0, 1), rng.uniform(0.25, 0.55)
            # sharper falloff for explicit palettes: each colour keeps its identity instead of mixing to grey
            wgt = np.exp(
                -((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r) * (6.0 if p.explicit or p.named else 1.2)
            )
            num += wgt[..., None] * c
            den += wgt
        small = num / den[..., None]
    elif kind == "sky":  # day or night named in the prompt: a sky, lighter (or glowing) towards a horizon
        horizon = rng.uniform(0.55, 0.75)
        t = _smooth(y / horizon)[..., None]
        if p.dark:  # deep at the zenith, the second tone and a hint of accent glow low down
            low = _mix(p.bg1, p.accents[0], 0.6 if p.named else 0.18)
            small = p.bg0 * (1 - t) + low * t
        else:  # pale sky above, warm light near the horizon
            top = _mix(p.bg1, p.accents[0], 0.35 if p.named else 0.12)
            low = _mix(p.bg0, p.accents[-1], 0.22)
            small = top * (1 - t) + low * t
        small = np.broadcast_to(small, (sh, sw, 3)).astype(np.float32)
    elif kind == "radial":
        cx, cy = aspect * rng.uniform(0.35, 0.65), rng.uniform(0.3, 0.55)
        d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2) / max(aspect, 1.0)
        t = _smooth(d / 0.9)[..., None]
        small = p.bg1 * (1 - t) + p.bg0 * t
    else:
        angle = rng.uniform(0, 2 * math.pi)
        t = (x - aspect / 2) * math.cos(angle) + (y - 0.5) * math.sin(angle)
        t = _smooth((t + 0.6) / 1.2)[..., None]
        mid = _mix(p.bg0, p.bg1, 0.7)
        small = np.where(t < 0.5, p.bg0 * (1 - 2 * t) + mid * 2 * t, mid * (2 - 2 * t) + p.bg1 * (2 * t - 1))
    img = Image.fromarray((np.clip(small, 0, 1) * 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC
    )
    cv.soft = _to_array(img)
