"""A poster that already carries its title, auto-formatted to a banner, leaves no ghost of the title behind.

The blurred backdrop cover-scales the poster: its title glyphs become several hundred pixels tall, and the
plain 18 px blur (the old behaviour, rebuilt here at full resolution as the reference) keeps them legible.
``imaging.backdrop.calm_backdrop`` dissolves glyph-scale, high-contrast structure. Measured in the banner's
side bands (beyond the drop shadow), at 1/4 scale: how much the *ghost* (backdrop of the poster with text
minus backdrop of the same poster without) looks like the letters, and the backdrop's edge energy.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.unit import imaging_samples as s
from webapp.imaging import BACKDROP_SIGMA, FORMATS, autoformat_bytes, placement
from webapp.imaging.backdrop import calm_backdrop

BANNER = FORMATS["banner"]
FONT = "webapp/imaging/fonts/LeagueSpartan-Black.otf"


def _poster(with_text: bool) -> Image.Image:
    img = s.photo((1024, 1536), "chelsea")
    if with_text:
        draw = ImageDraw.Draw(img)
        big = ImageFont.truetype(FONT, 210)
        for i, line in enumerate(["JAZZ", "NIGHT"]):
            width = draw.textlength(line, font=big)
            draw.text(((1024 - width) / 2, 560 + i * 220), line, font=big, fill=(255, 255, 255))
        draw.text((200, 1040), "FRI 12 MAY - 8PM", font=ImageFont.truetype(FONT, 60), fill=(255, 230, 0))
    return img


def _banner(poster: Image.Image) -> Image.Image:
    (result,) = autoformat_bytes(s.png(poster), [BANNER], out_format="png")
    return Image.open(io.BytesIO(result.data)).convert("RGB")


def _old_banner_backdrop(poster: Image.Image) -> Image.Image:
    """The previous backdrop: cover-scaled, darkened 15%, Gaussian blur BACKDROP_SIGMA, nothing else."""
    scale = max(BANNER.width / poster.width, BANNER.height / poster.height)
    vw, vh = BANNER.width / scale, BANNER.height / scale
    x0, y0 = (poster.width - vw) / 2, (poster.height - vh) / 2
    cover = poster.resize(BANNER.size, Image.Resampling.LANCZOS, box=(x0, y0, x0 + vw, y0 + vh))
    return cover.point(lambda v: round(v * 0.85)).filter(ImageFilter.GaussianBlur(BACKDROP_SIGMA))


def _bands(poster: Image.Image) -> list[tuple[int, int, int, int]]:
    left, _top, right, _bottom = placement(poster.size, BANNER.size)
    reach = 80  # beyond the drop shadow
    return [(0, 0, left - reach, BANNER.height), (right + reach, 0, BANNER.width, BANNER.height)]


def _luma(img: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    """Luma at 1/4 scale: glyph-sized structure, not pixel noise."""
    part = img.crop(box).convert("L")
    return np.asarray(part.reduce(4), dtype=np.float64)


def _edge_energy(img: Image.Image, bands) -> float:
    """Mean luma gradient magnitude in the side bands (glyph-scale edges)."""
    return float(np.mean([np.hypot(*np.gradient(_luma(img, box))).mean() for box in bands]))


def _glyph_likeness(with_text, without, text: Image.Image, plain: Image.Image, bands) -> float:
    """Correlation between what the title added to the backdrop and the cover-scaled glyph mask (1 = the
    letters themselves, 0 = no trace of their shape)."""
    drawn = np.abs(np.asarray(text, dtype=np.float64) - np.asarray(plain, dtype=np.float64)).sum(axis=2) > 60
    glyphs = Image.fromarray(drawn.astype(np.uint8) * 255)
    scale = max(BANNER.width / text.width, BANNER.height / text.height)
    vw, vh = BANNER.width / scale, BANNER.height / scale
    x0, y0 = (text.width - vw) / 2, (text.height - vh) / 2
    cover = glyphs.resize(BANNER.size, Image.Resampling.BILINEAR, box=(x0, y0, x0 + vw, y0 + vh))
    scores = []
    for box in bands:
        ghost = _luma(with_text, box) - _luma(without, box)
        mask = np.asarray(cover.crop(box).reduce(4), dtype=np.float64)
        scores.append(np.corrcoef(ghost.ravel(), mask.ravel())[0, 1])
    return float(np.mean(scores))


def test_the_title_leaves_no_legible_ghost_in_the_banner_backdrop():
    text, plain = _poster(True), _poster(False)
    bands = _bands(text)
    old_text, old_plain = _old_banner_backdrop(text), _old_banner_backdrop(plain)
    new_text, new_plain = _banner(text), _banner(plain)
    old_like = _glyph_likeness(old_text, old_plain, text, plain, bands)
    new_like = _glyph_likeness(new_text, new_plain, text, plain, bands)
    e_old_text, e_old_plain, e_new_text = (_edge_energy(i, bands) for i in (old_text, old_plain, new_text))
    print(
        f"glyph likeness old {old_like:.3f} new {new_like:.3f}; edge energy old text {e_old_text:.3f}, "
        f"old plain photo {e_old_plain:.3f}, new text {e_new_text:.3f}"
    )
    # The old backdrop was the letters, blurred: the ghost matched the glyph mask almost exactly and the
    # title added ~40% edge energy to the photo's own.
    assert old_like > 0.85
    assert e_old_text > e_old_plain * 1.3
    # Now the title's trace no longer has the letters' shape, and the backdrop carries fewer edges than the
    # plain photo's old backdrop: nothing of the title is left to read.
    assert new_like < 0.6
    assert e_new_text < e_old_plain


def test_a_backdrop_without_strong_structure_is_returned_untouched():
    ramp = Image.linear_gradient("L").resize((540, 272))  # soft light: 0..255 across the whole height
    soft = Image.merge("RGB", (ramp, ramp.point(lambda v: v // 2), Image.new("L", ramp.size, 90)))
    assert calm_backdrop(soft, 4.5) is soft
    flat = Image.new("RGB", (540, 272), (120, 80, 60))
    assert calm_backdrop(flat, 4.5) is flat


def test_calming_keeps_the_artworks_colours():
    text = _poster(True)
    new = _banner(text)
    old = _old_banner_backdrop(text)
    for box in _bands(text):
        a = np.asarray(new.crop(box), dtype=np.float64).reshape(-1, 3).mean(axis=0)
        b = np.asarray(old.crop(box), dtype=np.float64).reshape(-1, 3).mean(axis=0)
        # same palette: mean colour within a few percent (the calm area is pulled towards its own mean)
        assert np.abs(a - b).max() < 25
