"""Composition: geometry to the pixel, backdrop, shadow, fill modes and crop fallback."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter
from skimage.metrics import structural_similarity

from tests.unit import imaging_samples as s
from webapp.imaging import (
    BACKDROP_SIGMA,
    CROP_MAX_LOSS,
    FORMATS,
    SHADOW_MARGIN,
    AutoformatOptions,
    OutputFormat,
    crop_loss,
    placement,
    render,
    resolve_fill,
)

POSTER, SQUARE, BANNER = FORMATS["poster"], FORMATS["square"], FORMATS["banner"]
SOURCE_SIZES = [
    (2400, 1600),
    (1600, 2400),
    (1000, 1000),
    (300, 200),
    (1, 4000),
    (4000, 1),
    (1, 1),
    (1200, 1790),
]


def arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float64)


def ssim(a: Image.Image, b: Image.Image) -> float:
    return float(structural_similarity(np.asarray(a), np.asarray(b), channel_axis=2, data_range=255))


def test_formats_are_poster_square_banner_in_that_order():
    assert [(f.name, f.width, f.height) for f in FORMATS.values()] == [
        ("poster", 1200, 1800),
        ("square", 1200, 1200),
        ("banner", 2160, 1089),
    ]


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=lambda f: f.name)
@pytest.mark.parametrize("src", SOURCE_SIZES, ids=str)
def test_placement_fits_the_whole_artwork_centred_inside_the_shadow_margin(fmt, src):
    left, top, right, bottom = placement(src, fmt.size)
    w, h = right - left, bottom - top
    inner_w, inner_h = fmt.width - 2 * SHADOW_MARGIN, fmt.height - 2 * SHADOW_MARGIN
    assert left >= SHADOW_MARGIN and top >= SHADOW_MARGIN
    assert right <= fmt.width - SHADOW_MARGIN and bottom <= fmt.height - SHADOW_MARGIN
    assert w == inner_w or h == inner_h  # fitted: one dimension binds
    assert left == (fmt.width - w) // 2 and top == (fmt.height - h) // 2  # centred
    # Not stretched: the placed box has the source's aspect ratio to within 1 px of rounding.
    if w >= h:
        assert abs(h - max(1, src[1] * w / src[0])) <= 1
    else:
        assert abs(w - max(1, src[0] * h / src[1])) <= 1


def test_placement_without_shadow_fills_the_binding_dimension_edge_to_edge():
    assert placement((2400, 1600), POSTER.size, shadow=False) == (0, 500, 1200, 1300)
    assert placement((2400, 1600), BANNER.size, shadow=False) == (263, 0, 1897, 1089)


def test_placement_examples_to_the_pixel():
    assert placement((2400, 1600), POSTER.size) == (44, 529, 1156, 1270)  # 1112 x 741.3 -> 741
    assert placement((4000, 3000), BANNER.size) == (412, 44, 1747, 1045)  # 1334.7 x 1001 -> 1335
    assert placement((1000, 1000), SQUARE.size) == (44, 44, 1156, 1156)


@pytest.fixture(scope="module")
def landscape() -> Image.Image:
    return s.photo((2400, 1600), "astronaut")


@pytest.mark.parametrize("fill", ["blur", "solid", "crop"])
@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=lambda f: f.name)
def test_render_output_is_rgb_and_exactly_the_target_size(landscape, fmt, fill):
    out = render(landscape, fmt, AutoformatOptions(fill=fill))
    assert out.mode == "RGB"
    assert out.size == fmt.size


def test_foreground_is_the_lanczos_scaled_source_exactly(landscape):
    from webapp.imaging.compose import REDUCING_GAP
    from webapp.imaging.fastresize import lanczos_down

    out = render(landscape, POSTER)
    box = placement(landscape.size, POSTER.size)
    size = (box[2] - box[0], box[3] - box[1])
    # Exactly the one Lanczos step (libvips' when installed, see fastresize), and that step is
    # Pillow's Lanczos to within a level.
    assert np.array_equal(arr(out.crop(box)), arr(lanczos_down(landscape, size, REDUCING_GAP)))
    pillow = landscape.resize(size, Image.Resampling.LANCZOS)
    assert np.abs(arr(out.crop(box)).astype(int) - arr(pillow).astype(int)).mean() < 1.0


def test_small_artwork_is_enlarged_with_bicubic_not_stretched():
    small = s.photo((300, 200), "coffee")
    out = render(small, SQUARE)
    box = placement(small.size, SQUARE.size)
    assert (box[2] - box[0], box[3] - box[1]) == (1112, 741)
    expected = small.resize((1112, 741), Image.Resampling.BICUBIC)
    assert np.array_equal(arr(out.crop(box)), arr(expected))


def test_blur_backdrop_is_a_blurred_darkened_cover_of_the_artwork():
    # A photograph without large high-contrast shapes: the backdrop is exactly the blurred darkened cover.
    # (Glyph-scale, high-contrast structure such as a poster's own title is calmed further, see
    # imaging/backdrop.py and tests/unit/test_i19polish_ghost.py.)
    landscape = s.photo((2400, 1600), "chelsea")
    out = render(landscape, POSTER)
    top = placement(landscape.size, POSTER.size)[1]
    # Reference: cover-scale at full resolution, darken 15%, Gaussian blur with the documented sigma.
    scale = max(POSTER.width / landscape.width, POSTER.height / landscape.height)
    vw, vh = POSTER.width / scale, POSTER.height / scale
    cover_box = ((landscape.width - vw) / 2, (landscape.height - vh) / 2)
    cover = landscape.resize(
        POSTER.size, Image.Resampling.LANCZOS, box=(*cover_box, cover_box[0] + vw, cover_box[1] + vh)
    )
    expected = cover.point(lambda v: round(v * 0.85)).filter(ImageFilter.GaussianBlur(BACKDROP_SIGMA))
    band = (0, 0, POSTER.width, top - 80)  # above the artwork and beyond the shadow's reach
    got = out.crop(band)
    assert arr(got).std(axis=(0, 1)).min() > 8  # not a flat colour
    assert np.abs(arr(got) - arr(expected.crop(band))).mean() < 2.0
    assert ssim(got, expected.crop(band)) > 0.97
    # and it really is blurred: far smoother than the sharp cover image
    sharp = np.abs(np.diff(arr(cover.crop(band)), axis=1)).mean()
    assert np.abs(np.diff(arr(got), axis=1)).mean() < sharp / 2.5


def test_darken_option_darkens_the_backdrop(landscape):
    light = render(landscape, POSTER, AutoformatOptions(darken=0.0)).crop((0, 0, 1200, 300))
    dark = render(landscape, POSTER, AutoformatOptions(darken=0.5)).crop((0, 0, 1200, 300))
    ratio = arr(dark).mean() / arr(light).mean()
    assert 0.48 < ratio < 0.52


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=lambda f: f.name)
def test_shadow_darkens_below_and_right_of_the_artwork_and_stays_inside_the_canvas(fmt):
    grey = Image.new("RGB", (1600, 1200), (160, 160, 160))  # uniform: the backdrop is uniform 136
    out = arr(render(grey, fmt).convert("L"))
    backdrop = round(160 * 0.85)
    left, top, right, bottom = placement(grey.size, fmt.size)
    cx, cy = (left + right) // 2, (top + bottom) // 2
    below = out[bottom + 6, cx]
    right_of = out[cy, right + 6]
    above = out[top - 6, cx]
    assert below < backdrop * 0.8 and right_of < backdrop * 0.8  # clearly visible shadow
    assert above > below  # the shadow is offset down and right
    edges = np.concatenate([out[0, :], out[-1, :], out[:, 0], out[:, -1]])
    assert edges.min() >= backdrop * 0.975  # faded out before reaching any canvas edge


def test_no_shadow_option_leaves_the_backdrop_untouched_next_to_the_artwork():
    grey = Image.new("RGB", (1600, 1200), (160, 160, 160))
    out = arr(render(grey, POSTER, AutoformatOptions(shadow=False)).convert("L"))
    bottom = placement(grey.size, POSTER.size, shadow=False)[3]
    assert abs(out[bottom + 6, 600] - 136) <= 1


def test_solid_fill_uses_the_median_edge_colour():
    art = Image.new("RGB", (900, 600), (30, 90, 160))
    art.paste(s.photo((700, 400)), (100, 100))
    art.paste((255, 255, 0), (0, 0, 60, 6))  # a stray mark on the border must not win
    out = render(art, POSTER, AutoformatOptions(fill="solid", shadow=False))
    assert np.allclose(out.getpixel((5, 5)), (30, 90, 160), atol=2)
    assert np.allclose(out.getpixel((600, 1795)), (30, 90, 160), atol=2)


def test_crop_loss_is_the_fraction_of_artwork_area_cut_away():
    assert crop_loss((1200, 1800), POSTER.size) == 0
    assert crop_loss((4000, 3000), POSTER.size) == pytest.approx(0.5)
    assert crop_loss((1200, 1790), POSTER.size) == pytest.approx(10 / 1800, rel=1e-3)
    assert CROP_MAX_LOSS == 0.08


def test_crop_is_used_when_little_of_the_artwork_is_lost():
    art = s.photo((1200, 1790), "chelsea")
    fill, note = resolve_fill(art.size, POSTER, AutoformatOptions(fill="crop"))
    assert (fill, note) == ("crop", None)
    out = render(art, POSTER, AutoformatOptions(fill="crop"))
    assert out.size == POSTER.size
    # Scale to cover (1206.7 x 1800) and centre-crop: no backdrop anywhere, the artwork fills the canvas.
    expected = art.resize(POSTER.size, Image.Resampling.BICUBIC, box=(3.333, 0, 1196.667, 1790))
    assert ssim(out, expected) > 0.99


def test_crop_falls_back_to_blur_with_a_note_when_too_much_would_be_lost(landscape):
    fill, note = resolve_fill(landscape.size, POSTER, AutoformatOptions(fill="crop"))
    assert fill == "blur"
    assert note == (
        "Crop would lose 56% of the artwork (at most 8.0% is allowed); used the blurred backdrop instead."
    )
    out = render(landscape, POSTER, AutoformatOptions(fill="crop"))
    assert np.array_equal(arr(out), arr(render(landscape, POSTER)))


@pytest.mark.parametrize("src", [(1, 4000), (4000, 1), (1, 1)], ids=str)
def test_extreme_and_tiny_artwork_renders_every_format(src):
    art = Image.new("RGB", src, (200, 40, 40))
    for fmt in FORMATS.values():
        for fill in ("blur", "solid", "crop"):
            out = render(art, fmt, AutoformatOptions(fill=fill))
            assert out.size == fmt.size
        left, top, right, bottom = placement(src, fmt.size)
        centre = render(art, fmt).getpixel(((left + right) // 2, (top + bottom) // 2))
        assert np.allclose(centre, (200, 40, 40), atol=2)


def test_render_accepts_non_rgb_images():
    out = render(Image.new("L", (100, 50), 90), OutputFormat("tiny", 64, 64))
    assert out.mode == "RGB" and out.size == (64, 64)


@pytest.mark.parametrize("bad", [{"fill": "stretch"}, {"darken": 0.7}, {"darken": -0.1}])
def test_invalid_options_are_refused(bad):
    with pytest.raises(ValueError):
        AutoformatOptions(**bad)


def test_large_undrafted_image_shares_one_box_reduction_and_still_matches_lanczos():
    from webapp.imaging import Renderer

    big = s.photo((3400, 3400), "chelsea")
    renderer = Renderer(big)
    renderer.prepare_foregrounds([(1112, 1112), (1001, 1001)])
    assert (1700, 1700) in renderer._foregrounds  # the shared reduce(2)
    for size in ((1112, 1112), (1001, 1001)):
        assert ssim(renderer.foreground(size), big.resize(size, Image.Resampling.LANCZOS)) > 0.98
