"""The drawing layer of the local provider: a canvas, backgrounds, and one function per motif.

Soft things (gradients, light, waves, strokes) are drawn at half resolution into float arrays and upscaled,
because they are blurry by nature and that halves the cost; hard-edged shapes are queued as draw calls that
run on the full-resolution image with a small anti-aliasing blur.
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
        else:
            colours = [p.bg0, p.bg1, p.bg0, *(_deep(c, p.dark) for c in p.accents[:2])]
        num = np.zeros((sh, sw, 3), np.float32)
        den = np.full((sh, sw), 1e-3, np.float32)
        for c in colours:
            cx, cy, r = rng.uniform(0, aspect), rng.uniform(0, 1), rng.uniform(0.25, 0.55)
            # sharper falloff for explicit palettes: each colour keeps its identity instead of mixing to grey
            wgt = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r) * (6.0 if p.explicit else 1.2))
            num += wgt[..., None] * c
            den += wgt
        small = num / den[..., None]
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


# --------------------------------------------------------------------------------------------------------
# Motifs (each draws into the canvas; positions come from cv.rng so seeds move things around)


def motif_bokeh(cv: Canvas) -> None:
    """Out-of-focus light discs with brighter rims, in three depths (sizes and blurs)."""
    rng, p = cv.rng, cv.palette
    w, h = cv.work_size
    for depth, (count, rmin, rmax, blur, strength) in enumerate(
        [(26, 0.05, 0.11, 6.0, 0.28), (30, 0.025, 0.06, 2.5, 0.45), (22, 0.01, 0.025, 1.0, 0.7)]
    ):
        img, draw = _mask_image((w, h))
        band = rng.uniform(0.15, 0.75)
        for _ in range(int(count * rng.uniform(0.7, 1.2))):
            r = h * rng.uniform(rmin, rmax)
            cx = rng.uniform(-0.05, 1.05) * w
            cy = (band + rng.normal(0, 0.22)) * h
            level = int(rng.uniform(90, 220))
            draw.ellipse(
                (cx - r, cy - r, cx + r, cy + r), fill=level // 2, outline=level, width=max(1, int(r / 9))
            )
        mask = _to_array(img.filter(ImageFilter.GaussianBlur(blur)))
        colour = _mix(p.accent(depth), p.hi, 0.25 * depth)
        cv.glow(mask, colour, strength * (0.95 if p.dark else 0.7))


def motif_beams(cv: Canvas) -> None:
    """Stage lights: cones from one or two rigs above or below, fading with distance, plus a soft haze."""
    rng, p = cv.rng, cv.palette
    w, h = cv.work_size
    x, y = cv.grid()
    from_top = rng.random() < 0.7
    rigs = [rng.uniform(0.2, 0.8)] if rng.random() < 0.5 else [rng.uniform(0.1, 0.35), rng.uniform(0.65, 0.9)]
    length = 1.6 * math.hypot(w, h)
    for r_i, rig in enumerate(rigs):
        sx, sy = rig * w, (-0.04 if from_top else 1.04) * h
        for b in range(int(rng.integers(3, 6))):
            img, draw = _mask_image((w, h))
            aim = rng.uniform(-0.55, 0.55) + (math.pi / 2 if from_top else -math.pi / 2)
            spread = rng.uniform(0.04, 0.09)
            pts = [(sx, sy)] + [
                (sx + length * math.cos(aim + s * spread), sy + length * math.sin(aim + s * spread))
                for s in (-1, 1)
            ]
            draw.polygon(pts, fill=255)
            mask = _to_array(img.filter(ImageFilter.GaussianBlur(h * 0.02)))
            dist = np.sqrt((x - sx / h) ** 2 + (y - sy / h) ** 2)
            mask *= np.exp(-dist / rng.uniform(0.6, 1.0))
            cv.glow(mask, _mix(p.accent(r_i + b), p.hi, 0.3), rng.uniform(0.25, 0.45))
        # the hot spot where the light comes from
        spot = np.exp(-((x - sx / h) ** 2 + (y - sy / h) ** 2) / (2 * 0.12**2))
        cv.glow(spot, p.hi, 0.6)


def motif_rays(cv: Canvas) -> None:
    """A sunburst of alternating wedges from a point, fading out with distance."""
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    cx, cy = cv.aspect * rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.75)
    count = int(rng.integers(12, 28))
    angle = np.arctan2(y - cy, x - cx) / (2 * math.pi) * count + rng.uniform(0, 1)
    edge = np.abs((angle % 1.0) - 0.5) * 2  # 0 at wedge centre .. 1 at wedge edge
    mask = _smooth((edge - 0.45) * 12)
    dist = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    mask *= np.clip(1.2 - dist * 0.8, 0, 1)
    cv.over(mask, _mix(p.bg1, p.accent(0), 0.6), 0.35 if cv.recipe.flat else 0.25)


def motif_sun(cv: Canvas) -> None:
    """A big disc (sun or moon) with a vertical gradient and retro cut-out bands in its lower half."""
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    cx, cy = cv.aspect * rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.55)
    r = min(cv.aspect, 1.0) * rng.uniform(0.22, 0.34)
    d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    px = 1.5 / cv.work_size[1]
    disc = _smooth((r - d) / px)
    if rng.random() < 0.75:  # retro slices, thicker towards the bottom
        rel = (y - cy) / r
        slices = 7
        phase = (rel * slices) % 1.0
        thickness = np.clip((rel - 0.05) * 0.55, 0, 0.6)
        disc = disc * np.where(rel > 0.05, _smooth((phase - thickness) / (px * slices / r)), 1.0)
    t = np.clip((y - (cy - r)) / (2 * r), 0, 1)[..., None]
    top, bottom = p.accent(0), p.accent(1)
    colour = top * (1 - t) + bottom * t
    halo = np.exp(-np.maximum(d - r, 0) / (r * 0.35)) * (1 - disc)
    cv.glow(halo, top, 0.35 if p.dark else 0.15)
    cv.soft = cv.soft * (1 - disc[..., None]) + colour * disc[..., None]


def motif_rings(cv: Canvas) -> None:
    """Concentric arcs around a point (sometimes off-canvas): vinyl grooves, ripples, orbit lines."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    cx, cy = W * rng.uniform(-0.1, 1.1), H * rng.uniform(0.2, 0.9)
    base = min(W, H) * rng.uniform(0.12, 0.25)
    rings = int(rng.integers(5, 11)) if cv.recipe.count != (1, 1) else int(rng.integers(2, 4))
    step = min(W, H) * rng.uniform(0.035, 0.08)
    plan = []
    for i in range(rings):
        r = base + i * step
        start = rng.uniform(0, 360)
        sweep = 360 if rng.random() < 0.35 else rng.uniform(90, 300)
        width = max(2, int(min(W, H) * rng.uniform(0.004, 0.018)))
        plan.append((r, start, sweep, width, i % len(p.accents), rng.uniform(0.6, 1.0)))

    def draw(img: Image.Image) -> None:
        by_colour: dict[int, tuple[Image.Image, ImageDraw.ImageDraw]] = {}
        for r, start, sweep, width, ci, _ in plan:
            mask, d = by_colour.setdefault(ci, _mask_image(img.size))
            d.arc((cx - r, cy - r, cx + r, cy + r), start, start + sweep, fill=255, width=width)
        for ci, (mask, _) in by_colour.items():
            _paste_mask(img, mask, p.accent(ci), 0.9)

    cv.crisp.append(draw)


def motif_shapes(cv: Canvas) -> None:
    """Bauhaus-like flat shapes: big circles, half discs, bars, quarter circles tucked into corners."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    S = min(W, H)
    minimal = cv.recipe.count == (1, 1)
    count = 1 if minimal else int(rng.integers(3, 6))
    plan = []
    for i in range(count):
        kind = rng.choice(["circle", "half", "dots", "quarter", "ring"])
        cx, cy = W * rng.uniform(0.05, 0.95), H * rng.uniform(0.05, 0.95)
        r = S * (rng.uniform(0.25, 0.4) if minimal else rng.uniform(0.1, 0.32))
        plan.append((kind, cx, cy, r, rng.uniform(0, 360), i, rng.uniform(0.75, 1.0)))

    def draw(img: Image.Image) -> None:
        for kind, cx, cy, r, rot, i, alpha in plan:
            mask, d = _mask_image(img.size)
            box = (cx - r, cy - r, cx + r, cy + r)
            if kind == "circle":
                d.ellipse(box, fill=255)
            elif kind == "half":
                d.pieslice(box, rot, rot + 180, fill=255)
            elif kind == "quarter":
                corner = (0 if cx < W / 2 else W, 0 if cy < H / 2 else H)
                rr = r * 1.8
                d.ellipse((corner[0] - rr, corner[1] - rr, corner[0] + rr, corner[1] + rr), fill=255)
            elif kind == "ring":
                d.ellipse(box, outline=255, width=max(3, int(r * 0.18)))
            else:  # a small grid of dots, a classic graphic-design accent
                gap = r * 0.28
                for gx in range(5):
                    for gy in range(5):
                        px, py = cx + (gx - 2) * gap, cy + (gy - 2) * gap
                        d.ellipse(
                            (px - gap * 0.18, py - gap * 0.18, px + gap * 0.18, py + gap * 0.18), fill=255
                        )
            colour = p.accent(i) if i % 3 != 2 else _mix(p.accent(i), p.hi, 0.5)
            _paste_mask(img, mask, colour, alpha)

    cv.crisp.append(draw)


def motif_stripes(cv: Canvas) -> None:
    """Parallel diagonal racing stripes sweeping across the canvas in the accent colours."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    angle = math.radians(rng.choice([-35, -25, 25, 35, 0]) + rng.uniform(-5, 5))
    n = int(rng.integers(3, 6))
    width = min(W, H) * rng.uniform(0.03, 0.06)
    gap = width * rng.uniform(0.25, 0.6)
    offset = rng.uniform(0.3, 0.7) * H
    L = 2 * math.hypot(W, H)

    def draw(img: Image.Image) -> None:
        cx, cy = W / 2, offset
        ux, uy = math.cos(angle), math.sin(angle)
        nx, ny = -uy, ux
        for i in range(n):
            mask, d = _mask_image(img.size)
            o = (i - n / 2) * (width + gap)
            a, b = o, o + width
            pts = [
                (cx + ux * s + nx * t, cy + uy * s + ny * t) for s, t in ((-L, a), (L, a), (L, b), (-L, b))
            ]
            d.polygon(pts, fill=255)
            _paste_mask(img, mask, p.accent(i) if i % 2 == 0 else _mix(p.accent(i), p.hi, 0.35), 0.95)

    cv.crisp.append(draw)


def motif_confetti(cv: Canvas) -> None:
    """Small paper pieces and dots, denser at the top, drawn last and crisp."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    S = min(W, H)
    count = int(rng.integers(110, 200))
    pieces = []
    for _ in range(count):
        x, y = rng.uniform(0, W), H * (rng.beta(1.2, 2.6) if rng.random() < 0.8 else rng.uniform(0, 1))
        size = S * rng.uniform(0.006, 0.016)
        pieces.append((x, y, size, rng.uniform(0, math.pi), rng.random() < 0.3, int(rng.integers(0, 4))))

    def draw(img: Image.Image) -> None:
        colours = [*p.accents, p.hi]
        masks = [_mask_image(img.size) for _ in colours]
        for x, y, size, rot, dot, ci in pieces:
            _, d = masks[ci % len(colours)]
            if dot:
                d.ellipse((x - size * 0.6, y - size * 0.6, x + size * 0.6, y + size * 0.6), fill=255)
            else:
                ux, uy = math.cos(rot) * size, math.sin(rot) * size
                vx, vy = -math.sin(rot) * size * 0.45, math.cos(rot) * size * 0.45
                d.polygon(
                    [
                        (x - ux - vx, y - uy - vy),
                        (x + ux - vx, y + uy - vy),
                        (x + ux + vx, y + uy + vy),
                        (x - ux + vx, y - uy + vy),
                    ],
                    fill=255,
                )
        for (mask, _), colour in zip(masks, colours, strict=True):
            _paste_mask(img, mask, colour, 0.95, aa=0)

    cv.top.append(draw)


def _layers(cv: Canvas, ridge: bool) -> None:
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    px = 1.2 / cv.work_size[1]
    layers = int(rng.integers(3, 5))
    top = rng.uniform(0.5, 0.66)
    far = _mix(p.bg1, p.accent(1), 0.4)
    near = _mix(p.bg0, p.accent(0), 0.2) if p.dark else _mix(p.bg0, p.accent(0), 0.55)
    width = max(cv.aspect, 1.0)
    for i in range(layers):
        t = i / max(1, layers - 1)
        base = top + t * (0.97 - top) * 0.7
        edge = np.full_like(x, base)
        if ridge:  # pointed peaks: 1 - |sin| has cusps on top; octaves fall off fast so slopes stay calm
            amp = rng.uniform(0.08, 0.16) * (1 - 0.4 * t)
            for k in range(3):
                freq = rng.uniform(0.8, 1.8) * (2.1**k)
                peaks = 1 - np.abs(np.sin(x * freq * math.pi / width + rng.uniform(0, math.pi)))
                edge = edge - amp / (2.6**k) * peaks
        else:
            amp = rng.uniform(0.015, 0.04)
            for k in range(2):
                freq = rng.uniform(1.0, 2.5) * (k + 1)
                edge = edge + amp / (k + 1) * np.sin(
                    x * freq * 2 * math.pi / width + rng.uniform(0, 2 * math.pi)
                )
        mask = _smooth((y - edge) / px)
        cv.over(mask, _mix(far, near, t), 1.0)
        if not ridge:  # a light crest on each wave
            crest = np.exp(-(((y - edge) / 0.005) ** 2))
            cv.glow(crest, p.hi, 0.22)


def motif_waves(cv: Canvas) -> None:
    """Layered sine waves filling the lower part, far ones paler."""
    _layers(cv, ridge=False)


def motif_hills(cv: Canvas) -> None:
    """Layered ridges (mountains/hills) with atmospheric perspective."""
    _layers(cv, ridge=True)


def motif_stars(cv: Canvas) -> None:
    """A starfield denser at the top, with a few four-point sparkles."""
    rng, p = cv.rng, cv.palette
    w, h = cv.work_size
    img, draw = _mask_image((w, h))
    for _ in range(int(rng.integers(160, 320))):
        x, y = rng.uniform(0, w), h * rng.beta(1.0, 2.2)
        r = rng.choice([0.5, 0.8, 1.2], p=[0.6, 0.3, 0.1])
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.uniform(120, 255)))
    sparkle = Image.new("L", (w, h), 0)
    sd = ImageDraw.Draw(sparkle)
    for _ in range(int(rng.integers(3, 8))):
        x, y, s = rng.uniform(0, w), h * rng.beta(1.0, 2.0), h * rng.uniform(0.012, 0.03)
        sd.polygon([(x - s, y), (x, y - s * 0.12), (x + s, y), (x, y + s * 0.12)], fill=255)
        sd.polygon([(x, y - s), (x - s * 0.12, y), (x, y + s), (x + s * 0.12, y)], fill=255)
    mask = _to_array(img) + _to_array(sparkle) + 0.6 * _to_array(sparkle.filter(ImageFilter.GaussianBlur(3)))
    cv.glow(mask, p.hi if p.dark else _mix(p.accent(0), p.hi, 0.3), 0.9 if p.dark else 0.5)


def motif_halftone(cv: Canvas) -> None:
    """A halftone dot screen whose dots grow along a diagonal: pop-art / print texture."""
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    cell = rng.uniform(0.018, 0.03)
    a = math.radians(rng.uniform(15, 45))
    u = (x * math.cos(a) + y * math.sin(a)) / cell
    v = (-x * math.sin(a) + y * math.cos(a)) / cell
    d = np.sqrt((u - np.round(u)) ** 2 + (v - np.round(v)) ** 2)
    ang = rng.uniform(0, 2 * math.pi)
    ramp = (x - cv.aspect / 2) * math.cos(ang) + (y - 0.5) * math.sin(ang)
    radius = np.clip(0.55 * (ramp + 0.4), 0, 0.62)
    mask = _smooth((radius - d) / (0.9 / (cell * cv.work_size[1])))
    cv.over(mask, _mix(p.bg1, p.accent(1), 0.7), 0.45)


def motif_grid(cv: Canvas) -> None:
    """A glowing perspective floor grid towards a horizon (synthwave)."""
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    horizon = rng.uniform(0.55, 0.68)
    below = np.clip((y - horizon) / (1 - horizon), 1e-3, None)
    depth = 1.0 / below  # distance along the floor
    z_phase = (depth * 0.9 + rng.uniform(0, 1)) % 1.0
    lateral = (x - cv.aspect / 2) * depth * 0.9 % 1.0
    line_w = 0.05
    lines = np.maximum(_smooth(1 - np.abs(z_phase - 0.5) * 2 / line_w - 0), 0)
    lines = np.maximum(lines, _smooth(1 - np.abs(lateral - 0.5) * 2 / (line_w * depth**0.3)))
    fade = _smooth((y - horizon) / 0.25) * (y > horizon)
    floor = _smooth((y - horizon) / 0.004)
    cv.over(floor, _mix(p.bg0, p.accent(1), 0.08), 1.0)
    cv.glow(lines * fade, p.accent(1), 0.9)
    cv.glow(np.exp(-(((y - horizon) / 0.02) ** 2)), p.accent(0), 0.6)


def motif_neon(cv: Canvas) -> None:
    """Neon tubes: a few thin outlines (circle, triangle, zigzag) with a wide coloured glow."""
    rng, p = cv.rng, cv.palette
    w, h = cv.work_size
    for i in range(int(rng.integers(2, 4))):
        img, draw = _mask_image((w, h))
        cx, cy, r = rng.uniform(0.15, 0.85) * w, rng.uniform(0.2, 0.7) * h, min(w, h) * rng.uniform(0.12, 0.3)
        width = max(2, int(h * 0.006))
        kind = rng.choice(["circle", "triangle", "zigzag", "line"])
        if kind == "circle":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=width)
        elif kind == "triangle":
            pts = [
                (cx + r * math.cos(a), cy + r * math.sin(a))
                for a in np.linspace(0, 2 * math.pi, 4)[:3] + rng.uniform(0, 6)
            ]
            draw.line([*pts, pts[0]], fill=255, width=width, joint="curve")
        elif kind == "zigzag":
            pts = [(cx - r + k * r / 3, cy + (r / 4 if k % 2 else -r / 4)) for k in range(7)]
            draw.line(pts, fill=255, width=width)
        else:
            draw.line([(cx - r * 1.5, cy), (cx + r * 1.5, cy)], fill=255, width=width)
        core = _to_array(img.filter(ImageFilter.GaussianBlur(0.8)))
        halo = _to_array(img.filter(ImageFilter.GaussianBlur(h * 0.02)))
        colour = p.accent(i)
        cv.glow(core, _mix(colour, np.ones(3, np.float32), 0.6), 1.2)
        cv.glow(halo, colour, 6.0)


def motif_brush(cv: Canvas) -> None:
    """Painterly strokes: thick curved polylines following a smooth flow field, broad ones first.

    Strokes of one colour and layer share a mask composited once, so overlapping segments do not darken.
    """
    rng, p = cv.rng, cv.palette
    w, h = cv.work_size
    flow = rng.uniform(0, math.pi)
    curl = rng.uniform(1.5, 3.5)
    colours = [*p.accents, _deep(p.accent(0), p.dark), p.hi]
    img = Image.fromarray((np.clip(cv.soft, 0, 1) * 255 + 0.5).astype(np.uint8))
    for layer, (count, thick, alpha) in enumerate([(45, 0.07, 0.45), (90, 0.035, 0.6), (110, 0.014, 0.75)]):
        masks = [_mask_image((w, h)) for _ in colours]
        for _ in range(int(count * rng.uniform(0.8, 1.2))):
            x, y = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
            pts = [(x, y)]
            step = h * rng.uniform(0.012, 0.022)
            for _ in range(int(rng.integers(6, 16))):
                a = flow + math.sin(x / w * curl + layer) * 1.2 + math.cos(y / h * curl) * 0.8
                x, y = x + math.cos(a) * step, y + math.sin(a) * step
                pts.append((x, y))
            ci = int(
                rng.choice(
                    len(colours), p=[0.3, 0.25, 0.2, 0.2, 0.05][: len(colours)] if len(colours) == 5 else None
                )
            )
            width = max(2, int(h * thick * rng.uniform(0.6, 1.3)))
            draw = masks[ci][1]
            draw.line(pts, fill=255, width=width)
            for ex, ey in (pts[0], pts[-1]):  # round caps
                r = width / 2
                draw.ellipse((ex - r, ey - r, ex + r, ey + r), fill=255)
        for (mask, _), colour in zip(masks, colours, strict=True):
            if mask.getbbox():
                _paste_mask(img, mask, colour, alpha, aa=0)
    cv.soft = _to_array(img.filter(ImageFilter.GaussianBlur(1.3)))


MOTIFS: dict[str, Callable[[Canvas], None]] = {
    "brush": motif_brush,
    "halftone": motif_halftone,
    "rays": motif_rays,
    "stars": motif_stars,
    "sun": motif_sun,
    "hills": motif_hills,
    "waves": motif_waves,
    "grid": motif_grid,
    "stripes": motif_stripes,
    "rings": motif_rings,
    "shapes": motif_shapes,
    "beams": motif_beams,
    "neon": motif_neon,
    "bokeh": motif_bokeh,
    "confetti": motif_confetti,
}
Z_ORDER = list(MOTIFS)  # drawing order: textures and skies first, grounds, then lights and particles
