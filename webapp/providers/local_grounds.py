"""Grounds, textures and graphic shapes of the local artwork: waves, hills, grid, halftone, brush, shapes,
stripes. Same conventions as ``local_motifs``.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from .local_canvas import Canvas, _mask_image, _paste_mask, _smooth, _to_array
from .local_palette import _deep, _mix


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
