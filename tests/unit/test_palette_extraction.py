"""Extraction: accuracy on synthetic images of known colours, determinism, background removal."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from webapp.imaging import ImageRejected
from webapp.imaging.color import delta_e_ciede2000, hex_to_rgb, srgb_to_lab
from webapp.imaging.palette import extract_palette

KNOWN = ["#c0392b", "#2e86c1", "#f4d03f", "#27ae60", "#6c3483"]
SHARES = [0.35, 0.25, 0.20, 0.12, 0.08]


def synthetic(
    noise: float = 6.0, quality: int = 85, size=(1600, 1000), seed: int = 3, fmt: str = "JPEG"
) -> bytes:
    """A grid of cells in the KNOWN colours at SHARES proportions, with Gaussian noise, then encoded."""
    rng = np.random.default_rng(seed)
    cols, rows = 20, 10
    labels = np.repeat(np.arange(len(KNOWN)), [round(s * cols * rows) for s in SHARES])
    rng.shuffle(labels)
    w, h = size
    cw, ch = w // cols, h // rows
    arr = np.zeros((rows * ch, cols * cw, 3), dtype=np.float64)
    for i, label in enumerate(labels):
        y, x = divmod(i, cols)
        arr[y * ch : (y + 1) * ch, x * cw : (x + 1) * cw] = hex_to_rgb(KNOWN[label])
    arr += rng.normal(0, noise, arr.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8)).save(buf, fmt, quality=quality)
    return buf.getvalue()


def _errors(colours):
    de, share = [], []
    for hex_value, expected in zip(KNOWN, SHARES, strict=True):
        lab = srgb_to_lab(np.array(hex_to_rgb(hex_value), dtype=np.uint8))
        best = min(colours, key=lambda c: delta_e_ciede2000(lab, c.lab))
        de.append(delta_e_ciede2000(lab, srgb_to_lab(np.array(best.rgb, dtype=np.uint8))))
        share.append(abs(best.share - expected) * 100)
    return float(np.mean(de)), float(np.max(share))


@pytest.mark.parametrize("n_colors", [5, 6, 8])
def test_known_colours_are_recovered_within_half_a_delta_e_and_one_point_of_share(n_colors):
    colours = extract_palette(synthetic(), n_colors)
    mean_de, worst_share = _errors(colours)
    assert mean_de <= 0.5
    assert worst_share <= 1.0
    assert [c.share for c in colours] == sorted((c.share for c in colours), reverse=True)
    assert sum(c.share for c in colours) == pytest.approx(1.0, abs=1e-6)


def test_each_colour_is_reported_as_hex_rgb_and_hsl():
    c = extract_palette(synthetic(), 5)[0]
    assert c.hex == "#{:02x}{:02x}{:02x}".format(*c.rgb)
    h, s, light = c.hsl
    assert 0 <= h < 360 and 0 <= s <= 100 and 0 <= light <= 100
    assert set(c.as_dict()) == {"hex", "rgb", "hsl", "lab", "share"}


def test_near_duplicate_colours_are_merged():
    # Two blues 2 dE apart and a red: asking for 6 gives 2 colours, not 3 (or 6).
    arr = np.zeros((200, 300, 3), dtype=np.uint8)
    arr[:, :100] = hex_to_rgb("#2e86c1")
    arr[:, 100:200] = hex_to_rgb("#3087c4")
    arr[:, 200:] = hex_to_rgb("#c0392b")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    colours = extract_palette(buf.getvalue(), 6)
    assert len(colours) == 2
    assert colours[0].share == pytest.approx(2 / 3, abs=0.01)


def test_extraction_is_deterministic():
    data = synthetic(noise=12, quality=70)
    first = extract_palette(data, 8)
    assert all(extract_palette(data, 8) == first for _ in range(3))


def test_a_plain_border_connected_background_can_be_ignored_but_white_inside_the_art_counts():
    arr = np.full((400, 400, 3), 255, dtype=np.uint8)  # white paper
    arr[100:300, 100:300] = hex_to_rgb("#c0392b")  # red artwork
    arr[180:220, 180:220] = 255  # white lettering inside it: not connected to the border
    rgba = np.dstack([arr, np.full((400, 400), 255, dtype=np.uint8)])
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    with_bg = extract_palette(buf.getvalue(), 5)
    assert with_bg[0].hex == "#ffffff"
    without = extract_palette(buf.getvalue(), 5, ignore_background=True)
    assert without[0].hex == "#c0392b" and without[0].share == pytest.approx(1 - 1600 / 40000, abs=0.02)
    assert any(c.hex == "#ffffff" for c in without)
    # Transparent surround (flattened by the decoder) goes the same way.
    rgba[:100, :, 3] = 0
    rgba[300:, :, 3] = 0
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    assert extract_palette(buf.getvalue(), 5, ignore_background=True)[0].hex == "#c0392b"


def test_an_all_white_image_still_has_a_palette_when_ignoring_the_background():
    buf = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(buf, "PNG")
    assert [c.hex for c in extract_palette(buf.getvalue(), 5, ignore_background=True)] == ["#ffffff"]


def test_colour_count_outside_5_to_8_and_junk_bytes_are_refused():
    with pytest.raises(ValueError):
        extract_palette(synthetic(), 4)
    with pytest.raises(ImageRejected):
        extract_palette(b"definitely not an image", 6)
