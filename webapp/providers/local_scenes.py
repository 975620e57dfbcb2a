"""Subject motifs of the local artwork, one family per idea the prompt's nouns can name.

music -> sound waves, strings, notes; theatre -> curtains (with ``beams`` as spotlights); dance -> flowing
ribbons; comedy -> a comic burst; nature -> leaves; city -> a skyline; space -> planets. The registry of all
motifs (``MOTIFS``) and their drawing order are at the bottom. Conventions as in ``local_motifs``: soft
things into the half-resolution arrays, hard-edged shapes as full-resolution draw calls, sizes relative.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image

from .local_canvas import Canvas, _mask_image, _paste_mask, _smooth
from .local_grounds import (
    motif_brush,
    motif_grid,
    motif_halftone,
    motif_hills,
    motif_shapes,
    motif_stripes,
    motif_waves,
)
from .local_motifs import (
    motif_beams,
    motif_bokeh,
    motif_confetti,
    motif_neon,
    motif_rays,
    motif_rings,
    motif_stars,
    motif_sun,
)
from .local_palette import _deep, _mix


def motif_soundwave(cv: Canvas) -> None:
    """A bundle of glowing waveforms across the picture, loud in the middle and fading to the sides."""
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    centre = rng.uniform(0.32, 0.5)
    span = cv.aspect
    envelope = np.exp(-(((x - span * rng.uniform(0.4, 0.6)) / (span * 0.3)) ** 2))
    for i in range(cv.count(3, 5)):
        wave = np.zeros_like(x)
        for k in range(3):
            freq = rng.uniform(3, 9) * (k + 1)
            wave = wave + np.sin(x / span * freq * math.pi + rng.uniform(0, 6)) / (k + 1)
        yc = centre + wave * envelope * rng.uniform(0.05, 0.11)
        thick = 0.003 + 0.002 * i
        line = np.exp(-(((y - yc) / thick) ** 2))
        colour = _mix(p.accent(i), p.hi, 0.2)
        cv.glow(line, colour, 0.9 if p.dark else 0.55)
        cv.glow(np.exp(-(((y - yc) / (thick * 8)) ** 2)), p.accent(i), 0.18)
        if not p.dark:
            cv.over(line, _deep(p.accent(i), True), 0.7)


def motif_strings(cv: Canvas) -> None:
    """Taut instrument strings: parallel lines sweeping across, with a glint where the light catches them."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    n = int(rng.integers(4, 7))
    angle = math.radians(rng.uniform(-70, -50) if rng.random() < 0.5 else rng.uniform(50, 70))
    gap = min(W, H) * rng.uniform(0.025, 0.04)
    cx, cy = W * rng.uniform(0.55, 0.8), H * rng.uniform(0.3, 0.5)
    L = math.hypot(W, H)

    def draw(img: Image.Image) -> None:
        ux, uy = math.cos(angle), math.sin(angle)
        nx, ny = -uy, ux
        mask, d = _mask_image(img.size)
        for i in range(n):
            o = (i - n / 2) * gap
            width = max(1, round(H * (0.002 + 0.0008 * (n - i))))
            x0, y0 = cx + nx * o, cy + ny * o
            d.line([(x0 - ux * L, y0 - uy * L), (x0 + ux * L, y0 + uy * L)], fill=255, width=width)
        _paste_mask(img, mask, _mix(p.accent(1), p.hi, 0.5), 0.85)

    cv.crisp.append(draw)
    x, y = cv.grid()
    glint = np.exp(-(((x - cx / H) ** 2) + (y - cy / H) ** 2) / (2 * 0.08**2))
    cv.glow(glint, p.hi, 0.35)


def motif_notes(cv: Canvas) -> None:
    """A few musical notes (heads, stems, flags and beams) floating on one side of the picture."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    side = rng.uniform(0.55, 0.85)
    notes = [
        (W * (side + rng.normal(0, 0.12)), H * rng.uniform(0.12, 0.62), H * rng.uniform(0.018, 0.034),
         int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        for _ in range(cv.count(4, 8))
    ]  # fmt: skip

    def draw(img: Image.Image) -> None:
        for x, y, r, kind, ci in notes:
            mask, d = _mask_image(img.size)
            d.ellipse((x - r * 1.3, y - r, x + r * 1.3, y + r), fill=255)
            stem = max(2, round(r * 0.22))
            top = y - r * 5
            d.rectangle((x + r * 1.1, top, x + r * 1.1 + stem, y), fill=255)
            if kind == 1:  # a flag
                d.polygon(
                    [(x + r * 1.1, top), (x + r * 2.6, top + r * 1.8), (x + r * 1.1, top + r * 1.2)], fill=255
                )
            elif kind == 2:  # a beamed pair
                x2 = x + r * 3.2
                d.ellipse((x2 - r * 1.3, y - r * 1.4, x2 + r * 1.3, y + r * 0.6), fill=255)
                d.rectangle((x2 + r * 1.1, top - r * 0.4, x2 + r * 1.1 + stem, y - r * 0.4), fill=255)
                xs = x2 + r * 1.1 + stem
                d.polygon(
                    [
                        (x + r * 1.1, top),
                        (xs, top - r * 0.4),
                        (xs, top + r * 0.5),
                        (x + r * 1.1, top + r * 0.9),
                    ],
                    fill=255,
                )
            _paste_mask(img, mask, _mix(p.accent(ci), p.hi, 0.45), 0.9)

    cv.crisp.append(draw)


def motif_curtains(cv: Canvas) -> None:
    """Stage curtains: velvet folds framing both sides, swagged back, with a valance along the top."""
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    aspect = cv.aspect
    cloth = p.accent(0) if p.dark else _mix(p.accent(0), p.bg0, 0.15)
    shadow = _deep(cloth, True) * 0.45
    folds = rng.uniform(12, 18)  # folds per canvas height, so a banner's curtains fold like a poster's
    px = 1.5 / cv.work_size[1]
    width = min(aspect, 1.0) * rng.uniform(0.16, 0.22)
    cv.soft *= 0.55  # the stage between the curtains is darker than the velvet
    for left in (True, False):
        u = x if left else aspect - x
        # the curtain's inner edge: tied back at ~60 % height, so the edge curves towards the frame
        tie = rng.uniform(0.55, 0.68)
        edge = width * (1.0 + 0.6 * np.cos(np.clip((y - 0.0) / tie, 0, 1) * math.pi / 2) ** 2)
        edge = np.where(y > tie, width * 0.75 + (y - tie) * 0.8 * width, edge)
        mask = _smooth((edge - u) / px)
        shade = 0.2 + 0.8 * np.cos(u * folds * math.pi) ** 2
        shade = shade * (0.55 + 0.45 * np.clip(1 - u / (edge + 1e-3), 0, 1))
        colour = shadow[None, None, :] + (cloth - shadow)[None, None, :] * shade[..., None]
        cv.soft += (colour - cv.soft) * mask[..., None]
    valance = rng.uniform(0.06, 0.1)
    scallop = valance + 0.02 * np.abs(np.sin(x * math.pi / (aspect / 7)))
    vmask = _smooth((scallop - y) / px)
    vshade = 0.5 + 0.5 * np.cos(y / valance * math.pi * 0.5) ** 2
    vcol = shadow[None, None, :] + (cloth - shadow)[None, None, :] * vshade[..., None]
    cv.soft += (vcol - cv.soft) * vmask[..., None]
    cv.glow(np.exp(-(((y - scallop) / 0.004) ** 2)) * (y > 0.02), _mix(p.accent(1), p.hi, 0.3), 0.35)


def motif_ribbons(cv: Canvas) -> None:
    """Flowing ribbons that twist as they cross the picture, shaded along their turns: dance."""
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    span = cv.aspect
    px = 1.5 / cv.work_size[1]
    for i in range(cv.count(2, 4)):
        base = rng.uniform(0.3, 0.65)
        amp, freq, phase = rng.uniform(0.06, 0.16), rng.uniform(0.7, 1.6), rng.uniform(0, 2 * math.pi)
        yc = (
            base
            + amp * np.sin(x / span * freq * 2 * math.pi + phase)
            + (x / span - 0.5) * rng.uniform(-0.3, 0.3)
        )
        twist = np.cos(x / span * rng.uniform(1.5, 3.5) * math.pi + rng.uniform(0, 6))
        half = rng.uniform(0.02, 0.045) * (0.25 + 0.75 * np.abs(twist))
        mask = _smooth((half - np.abs(y - yc)) / px)
        light = 0.55 + 0.45 * twist  # the face turning towards the light is brighter
        c0, c1 = p.accent(i), _mix(p.accent(i + 1), p.hi, 0.25)
        t = (x / span)[..., None]
        colour = (c0 * (1 - t) + c1 * t) * (0.55 + 0.45 * light[..., None])
        cv.soft += (colour - cv.soft) * (mask * 0.92)[..., None]
        cv.glow(np.exp(-((np.abs(y - yc) / (half * 3 + 1e-3)) ** 2)), p.accent(i), 0.12)


def motif_burst(cv: Canvas) -> None:
    """A comic "POW" burst: a jagged star with an inner star and speed lines around it."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    S = min(W, H)
    cx, cy = W * rng.uniform(0.45, 0.7), H * rng.uniform(0.3, 0.45)
    spikes = int(rng.integers(12, 20))
    r_out, r_in = S * rng.uniform(0.22, 0.3), S * rng.uniform(0.13, 0.17)
    jitter = rng.uniform(0.85, 1.15, size=spikes * 2)
    rot = rng.uniform(0, math.pi)
    lines = [
        (rng.uniform(0, 2 * math.pi), rng.uniform(1.15, 1.5), rng.uniform(1.6, 2.3))
        for _ in range(cv.count(10, 16))
    ]

    def star(scale: float) -> list[tuple[float, float]]:
        pts = []
        for k in range(spikes * 2):
            a = rot + k * math.pi / spikes
            r = (r_out if k % 2 == 0 else r_in) * scale * jitter[k]
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        return pts

    def draw(img: Image.Image) -> None:
        mask, d = _mask_image(img.size)
        for a, r0, r1 in lines:
            d.line([(cx + r_out * r0 * math.cos(a), cy + r_out * r0 * math.sin(a)),
                    (cx + r_out * r1 * math.cos(a), cy + r_out * r1 * math.sin(a))],
                   fill=255, width=max(2, round(S * 0.008)))  # fmt: skip
        _paste_mask(img, mask, p.accent(1), 0.9)
        for scale, colour in ((1.0, p.accent(0)), (0.62, _mix(p.accent(2), p.hi, 0.4))):
            mask, d = _mask_image(img.size)
            d.polygon(star(scale), fill=255)
            _paste_mask(img, mask, colour, 1.0)

    cv.crisp.append(draw)


def motif_leaves(cv: Canvas) -> None:
    """Leaves gathered towards the corners and edges, framing a calmer middle: nature and gardens."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    S = min(W, H)
    corners = [(0, 0), (W, 0), (0, H), (W, H)]
    picks = rng.permutation(4)[: int(rng.integers(2, 4))]
    leaves = []
    for c in picks:
        ox, oy = corners[int(c)]
        for _ in range(cv.count(7, 12)):
            dist = S * abs(rng.normal(0, 0.22))
            ang = math.atan2(H / 2 - oy, W / 2 - ox) + rng.normal(0, 0.6)
            x, y = ox + dist * math.cos(ang), oy + dist * math.sin(ang)
            leaves.append(
                (x, y, S * rng.uniform(0.06, 0.13), ang + rng.normal(0, 0.8), int(rng.integers(0, 4)))
            )
    greens = [p.accent(0), p.accent(1), _deep(p.accent(0), p.dark), _mix(p.accent(2), p.hi, 0.3)]

    def draw(img: Image.Image) -> None:
        for x, y, size, ang, ci in leaves:
            mask, d = _mask_image(img.size)
            ux, uy = math.cos(ang), math.sin(ang)
            nx, ny = -uy, ux
            pts = []
            for k in range(17):  # a pointed leaf: width follows sin along its length
                t = k / 16
                wdt = math.sin(t * math.pi) * size * 0.32
                pts.append(
                    (x + ux * size * (t - 0.5) * 2 + nx * wdt, y + uy * size * (t - 0.5) * 2 + ny * wdt)
                )
            for k in range(15, 0, -1):
                t = k / 16
                wdt = math.sin(t * math.pi) * size * 0.32
                pts.append(
                    (x + ux * size * (t - 0.5) * 2 - nx * wdt, y + uy * size * (t - 0.5) * 2 - ny * wdt)
                )
            d.polygon(pts, fill=255)
            _paste_mask(img, mask, greens[ci], 0.95)
            vein, dv = _mask_image(img.size)
            dv.line([(x - ux * size * 0.9, y - uy * size * 0.9), (x + ux * size * 0.9, y + uy * size * 0.9)],
                    fill=255, width=max(1, round(size * 0.04)))  # fmt: skip
            _paste_mask(img, vein, _mix(greens[ci], p.hi, 0.45), 0.6)

    cv.crisp.append(draw)


def motif_skyline(cv: Canvas) -> None:
    """A city skyline in silhouette along the bottom, with lit windows at night."""
    rng, p = cv.rng, cv.palette
    W, H = cv.size
    ground = H * rng.uniform(0.9, 1.0)
    buildings = []
    x = -W * 0.02
    while x < W:
        bw = W * rng.uniform(0.04, 0.09)
        bh = H * rng.uniform(0.12, 0.42) * (1.25 if rng.random() < 0.15 else 1.0)
        buildings.append((x, bw, bh, rng.random() < 0.3))
        x += bw * rng.uniform(0.85, 1.05)
    far = [(bx + bw * 0.4, bw * 0.9, bh * 1.15, False) for bx, bw, bh, _ in buildings[::2]]
    lit = rng.random(4000) < (0.35 if p.dark else 0.0)
    body = _deep(p.accent(1), True) * 0.5 if p.dark else _mix(p.bg1, p.accent(1), 0.55)
    back = _mix(body, p.bg1, 0.45)

    def draw(img: Image.Image) -> None:
        for row, colour in ((far, back), (buildings, body)):
            mask, d = _mask_image(img.size)
            for bx, bw, bh, spire in row:
                d.rectangle((bx, ground - bh, bx + bw, H), fill=255)
                if spire:
                    d.polygon([(bx + bw * 0.3, ground - bh), (bx + bw * 0.5, ground - bh * 1.18),
                               (bx + bw * 0.7, ground - bh)], fill=255)  # fmt: skip
            _paste_mask(img, mask, colour, 1.0)
        if p.dark:
            mask, d = _mask_image(img.size)
            k = 0
            for bx, bw, bh, _ in buildings:
                step = max(3.0, bw / 5)
                for wx in np.arange(bx + step * 0.6, bx + bw - step * 0.5, step):
                    for wy in np.arange(ground - bh + step, H - step, step * 1.3):
                        if lit[k % len(lit)]:
                            d.rectangle((wx, wy, wx + step * 0.45, wy + step * 0.5), fill=255)
                        k += 1
            _paste_mask(img, mask, _mix(p.accent(0), p.hi, 0.5), 0.85, aa=0)

    cv.crisp.append(draw)


def motif_planets(cv: Canvas) -> None:
    """One large lit planet (sometimes ringed) and a smaller moon, shaded from one light direction."""
    rng, p = cv.rng, cv.palette
    x, y = cv.grid()
    light = rng.uniform(0, 2 * math.pi)
    lx, ly = math.cos(light), math.sin(light)
    px = 1.5 / cv.work_size[1]
    bodies = [(cv.aspect * rng.uniform(0.55, 0.8), rng.uniform(0.25, 0.45), rng.uniform(0.16, 0.26), 0)]
    bodies.append((cv.aspect * rng.uniform(0.15, 0.4), rng.uniform(0.15, 0.3), rng.uniform(0.035, 0.06), 1))
    for cx, cy, r, ci in bodies:
        d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
        disc = _smooth((r - d) / px)
        lit = np.clip(((x - cx) * lx + (y - cy) * ly) / r * 0.8 + 0.45, 0, 1)[..., None]
        colour = _deep(p.accent(ci), True) * (1 - lit) + _mix(p.accent(ci), p.hi, 0.25) * lit
        bands = 1 + 0.08 * np.sin((y - cy) / r * 9 + ci)[..., None]
        cv.soft = cv.soft * (1 - disc[..., None]) + np.clip(colour * bands, 0, 1) * disc[..., None]
        cv.glow(np.exp(-np.maximum(d - r, 0) / (r * 0.12)) * (1 - disc), p.accent(ci), 0.35)
        if ci == 0 and rng.random() < 0.6:
            tilt = rng.uniform(-0.35, 0.35)
            u, v = (
                (x - cx) * math.cos(tilt) + (y - cy) * math.sin(tilt),
                -(x - cx) * math.sin(tilt) + (y - cy) * math.cos(tilt),
            )
            e = np.sqrt((u / (r * 1.9)) ** 2 + (v / (r * 0.42)) ** 2)
            ring = np.exp(-(((e - 1) / 0.05) ** 2)) * np.where((v < 0) & (d < r), 0.0, 1.0)
            cv.glow(ring, _mix(p.accent(2), p.hi, 0.4), 0.7)


MOTIFS: dict[str, Callable[[Canvas], None]] = {
    "brush": motif_brush,
    "halftone": motif_halftone,
    "rays": motif_rays,
    "stars": motif_stars,
    "planets": motif_planets,
    "sun": motif_sun,
    "hills": motif_hills,
    "waves": motif_waves,
    "grid": motif_grid,
    "stripes": motif_stripes,
    "strings": motif_strings,
    "soundwave": motif_soundwave,
    "ribbons": motif_ribbons,
    "rings": motif_rings,
    "shapes": motif_shapes,
    "beams": motif_beams,
    "curtains": motif_curtains,
    "skyline": motif_skyline,
    "leaves": motif_leaves,
    "burst": motif_burst,
    "neon": motif_neon,
    "bokeh": motif_bokeh,
    "notes": motif_notes,
    "confetti": motif_confetti,
}
Z_ORDER = list(MOTIFS)  # drawing order: textures and skies first, grounds, then frames, lights, particles
