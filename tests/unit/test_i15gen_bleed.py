"""Studio banners are full-bleed: generated art is extended from its own edges, never padded."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from webapp.imaging import AutoformatOptions, render
from webapp.imaging.bleed import full_bleed
from webapp.imaging.geometry import FORMATS
from webapp.providers.local_render import render as draw

BANNER = FORMATS["banner"].size  # 2160 x 1089
HALF = (1080, 545)  # the banner's aspect ratio at half size: the same geometry, four times cheaper


def textured_art(size: tuple[int, int]) -> Image.Image:
    """Art with detail everywhere, up to its edges (as generated art has)."""
    return draw("festive city night with confetti", size, style="bold", seed=3)


def detail(arr: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels (luminance), a plain measure of detail."""
    return float(np.abs(np.diff(arr, axis=0)).mean() + np.abs(np.diff(arr, axis=1)).mean())


def luma(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float32)


def edge_to_centre_detail(img: Image.Image, band: int = 60) -> float:
    lum = luma(img)
    w = lum.shape[1]
    edges = (detail(lum[:, :band]) + detail(lum[:, -band:])) / 2
    centre = detail(lum[:, w // 2 - band : w // 2 + band])
    return edges / centre


@pytest.mark.parametrize("source", [(768, 512), (960, 540)])  # OpenAI 3:2, Gemini 16:9 (half size)
def test_banner_keeps_the_art_at_full_height_and_detail_up_to_the_edges(source):
    art = textured_art(source)
    out = full_bleed(art, HALF)
    assert out.size == HALF
    inner = round(source[0] * HALF[1] / source[1])
    left = (HALF[0] - inner) // 2
    fitted = art.resize((inner, HALF[1]), Image.Resampling.LANCZOS, reducing_gap=2.0)
    # the whole art, at the full banner height, untouched in the middle
    assert np.array_equal(np.asarray(out.crop((left, 0, left + inner, HALF[1]))), np.asarray(fitted))
    # no flat or blurred band at the frame's edges: they carry detail like the art
    assert edge_to_centre_detail(out) > 0.35
    # no seam: the jump across the joins is no larger than between the art's own neighbouring columns
    lum = luma(out)
    steps = np.abs(np.diff(lum, axis=1)).mean(axis=0)
    typical = float(np.median(steps))
    for x in (left - 1, left + inner - 1):
        assert steps[x] <= max(3 * typical, 2.0)


def test_the_old_padded_backdrop_would_fail_the_edge_test():
    """The check above is a real one: the auto-format blur fill (a pad) has flat, blurred edges."""
    art = textured_art((1536, 1024))  # the real sizes here: the pad's blur is in output pixels
    padded = render(art, FORMATS["banner"], AutoformatOptions(fill="blur", darken=0.1))
    assert edge_to_centre_detail(padded) < 0.35 * edge_to_centre_detail(full_bleed(art, BANNER))


def test_small_aspect_differences_are_cropped_and_tall_art_grows_top_and_bottom():
    near = textured_art((1100, 545))  # 2 % wider: cropping loses little
    assert full_bleed(near, HALF).size == HALF
    wide = textured_art((768, 256))
    out = full_bleed(wide, (600, 600))  # width binds: margins grow above and below
    assert out.size == (600, 600)
    lum = luma(out)
    assert detail(lum[:30]) > 0.3 * detail(lum[285:315])


def test_the_local_generator_draws_banners_at_the_banner_format():
    from webapp.providers import ImageRequest, LocalProvider

    provider = LocalProvider()
    assert provider.size_for("banner") == "2160x1089"
    (img,) = provider.generate(ImageRequest("harbour lights", "banner", seed=2))
    assert (img.width, img.height) == BANNER
