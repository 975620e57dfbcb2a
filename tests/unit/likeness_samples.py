"""Pictures for the near-duplicate tests: text pages drawn with Pillow, gradients, noise, shapes.

All generated in memory and deterministic per seed.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = Path(__file__).resolve().parents[2] / "webapp" / "imaging" / "fonts" / "Lato-Regular.ttf"
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "seven",
    "wizards",
    "quietly",
    "judge",
    "boxing",
    "matches",
    "under",
    "pale",
    "lanterns",
    "near",
    "harbour",
    "walls",
    "and",
    "crimson",
    "theatres",
    "open",
    "their",
    "doors",
    "at",
    "dusk",
]


def text_page(seed: int, scanned: bool = False) -> Image.Image:
    """A page of ragged-right text (Lato 18 px on 850x1100), optionally with scanner noise and blur."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (850, 1100), (250, 250, 246))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 18)
    y = 80
    while y < 1000:
        if rnd.random() < 0.12:
            y += 27
            continue
        width, words = 690 - rnd.randint(0, 200), []
        while draw.textlength(" ".join([*words, w := rnd.choice(WORDS)]), font=font) <= width:
            words.append(w)
        draw.text((80, y), " ".join(words), fill=(20, 20, 20), font=font)
        y += 27
    if scanned:
        a = np.asarray(img, dtype=np.float64) + np.random.default_rng(seed).normal(0, 6, (1100, 850, 3))
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    return img


def gradient(c0, c1, direction: str, size=(600, 400)) -> Image.Image:
    w, h = size
    if direction == "h":
        t = np.tile(np.linspace(0, 1, w), (h, 1))
    elif direction == "v":
        t = np.tile(np.linspace(0, 1, h)[:, None], (1, w))
    else:  # radial
        yy, xx = np.mgrid[0:h, 0:w]
        t = np.clip(np.hypot(xx - w / 2, yy - h / 2) / (0.5 * np.hypot(w, h)), 0, 1)
    a = np.array(c0) * (1 - t[..., None]) + np.array(c1) * t[..., None]
    return Image.fromarray(a.round().astype(np.uint8))


def noise(seed: int, colour: bool) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (400, 400, 3) if colour else (400, 400), dtype=np.uint8))


def shapes(seed: int) -> Image.Image:
    rnd = random.Random(seed)
    img = Image.new("RGB", (800, 600), tuple(rnd.randint(0, 255) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rnd.randint(0, 800), rnd.randint(0, 600)
        box = (x0, y0, x0 + rnd.randint(40, 300), y0 + rnd.randint(40, 300))
        fill = tuple(rnd.randint(0, 255) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=fill)
    return img
