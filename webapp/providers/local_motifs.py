"""Light and particle motifs of the local artwork: bokeh, beams, rays, sun, rings, stars, neon, confetti.

Each takes the canvas and draws into it; positions come from ``cv.rng`` so seeds move things around, and
counts follow ``cv.count`` so the mood's density applies.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .local_canvas import Canvas, _mask_image, _paste_mask, _smooth, _to_array
from .local_palette import _mix


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
