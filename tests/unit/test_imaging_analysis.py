"""Ingest analysis: near-duplicate hash, dominant colours, thumbnail, and the one-decode ``analyze``."""

from __future__ import annotations

import functools
import io
import itertools

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageEnhance, ImageOps

from tests.unit import imaging_samples as s
from webapp.imaging import (
    NEAR_DUPLICATE_MAX_DISTANCE,
    Analysis,
    DominantColor,
    ImageRejected,
    analyze,
    delta_e_ciede2000,
    dhash,
    dominant_colors,
    hamming,
    rgb_to_hex,
    srgb_to_lab,
    thumbnail,
)

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "retina", "immunohistochemistry", "hubble_deep_field"]


@functools.cache
def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def recompressed(img: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(s.jpeg(img, quality=quality))).convert("RGB")


def scaled(img: Image.Image, factor: float) -> Image.Image:
    size = (round(img.width * factor), round(img.height * factor))
    return img.resize(size, Image.Resampling.LANCZOS)


def warmer(img: Image.Image) -> Image.Image:
    a = np.asarray(img, dtype=np.float64) * [1.06, 1.0, 0.94]
    return Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))


# ---------------------------------------------------------------------------------------------------------
# dHash


def test_dhash_is_16_lowercase_hex_digits_and_stable():
    h = dhash(photo("astronaut"))
    assert len(h) == 16 and h == h.lower() and int(h, 16) >= 0
    assert dhash(photo("astronaut")) == h
    assert dhash(photo("astronaut").copy()) == h
    assert len(dhash(photo("astronaut"), hash_size=16)) == 64


def test_dhash_of_a_flat_image_is_all_zero_bits():
    assert dhash(Image.new("RGB", (300, 200), (40, 90, 200))) == "0" * 16


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_resized_and_recompressed_copy_is_a_near_duplicate(name):
    original = photo(name)
    copy = recompressed(scaled(original, 0.6), 70)
    assert hamming(dhash(original), dhash(copy)) <= NEAR_DUPLICATE_MAX_DISTANCE


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
@pytest.mark.parametrize(
    "alter",
    [
        lambda im: ImageEnhance.Brightness(im).enhance(1.1),
        lambda im: ImageEnhance.Brightness(im).enhance(0.9),
        lambda im: ImageEnhance.Contrast(im).enhance(1.2),
        warmer,
    ],
    ids=["brighter", "darker", "more-contrast", "warmer"],
)
def test_tonal_and_colour_shifts_are_near_duplicates(name, alter):
    original = photo(name)
    assert hamming(dhash(original), dhash(alter(original))) <= NEAR_DUPLICATE_MAX_DISTANCE


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 0)])
def test_a_thin_frame_added_on_export_is_ignored(name, colour):
    original = photo(name)
    framed = ImageOps.expand(original, border=8, fill=colour)
    assert hamming(dhash(original), dhash(framed)) <= 4


def test_everything_at_once_is_still_a_near_duplicate():
    original = photo("coffee")
    copy = ImageOps.expand(ImageEnhance.Brightness(warmer(original)).enhance(1.1), border=8, fill="white")
    copy = recompressed(scaled(copy, 0.6), 70)
    assert hamming(dhash(original), dhash(copy)) <= NEAR_DUPLICATE_MAX_DISTANCE


def test_different_photos_are_far_apart():
    hashes = {name: dhash(photo(name)) for name in PHOTOS}
    for a, b in itertools.combinations(PHOTOS, 2):
        assert hamming(hashes[a], hashes[b]) > NEAR_DUPLICATE_MAX_DISTANCE, (a, b)


def test_hamming():
    assert hamming("0000000000000000", "0000000000000000") == 0
    assert hamming("ffffffffffffffff", "0000000000000000") == 64
    assert hamming("8000000000000001", "0000000000000000") == 2
    with pytest.raises(ValueError):
        hamming("00", "000")


# ---------------------------------------------------------------------------------------------------------
# Dominant colours

REGIONS = [((200, 30, 40), 0.4), ((20, 60, 160), 0.3), ((240, 220, 80), 0.2), ((40, 140, 70), 0.1)]


def four_colour_image(size: tuple[int, int] = (800, 600)) -> Image.Image:
    """Vertical bands of the REGIONS colours, 40/30/20/10 % of the width."""
    w, h = size
    a = np.zeros((h, w, 3), dtype=np.uint8)
    x = 0
    for colour, share in REGIONS:
        width = round(w * share)
        a[:, x : x + width] = colour
        x += width
    return Image.fromarray(a)


def quadrants_image() -> Image.Image:
    """Same colours as blocks (more edges): 50 % red, 25 % blue, 15 % yellow, 10 % green."""
    a = np.zeros((600, 800, 3), dtype=np.uint8)
    a[:, :] = REGIONS[0][0]
    a[:300, :400] = REGIONS[1][0]
    a[300:, 400:640] = REGIONS[2][0]
    a[300:, 640:] = REGIONS[3][0]
    return Image.fromarray(a)


def assert_recovers(colours: list[DominantColor], expected: list[tuple[tuple[int, int, int], float]]) -> None:
    for rgb, share in expected:
        lab = srgb_to_lab(rgb)
        match = min(colours, key=lambda c: delta_e_ciede2000(c.lab, lab))
        assert delta_e_ciede2000(match.lab, lab) < 2, (rgb, match)
        assert match.share == pytest.approx(share, abs=0.02), (rgb, match)
    # Anything else is a sliver of blended pixels along the band edges.
    found = {
        min(colours, key=lambda c: delta_e_ciede2000(c.lab, srgb_to_lab(rgb))).hex for rgb, _ in expected
    }
    assert sum(c.share for c in colours if c.hex not in found) < 0.03


@pytest.mark.parametrize("quality", [None, 85, 70])
def test_dominant_colours_recover_flat_regions_even_after_jpeg(quality):
    img = four_colour_image()
    if quality is not None:
        img = recompressed(img, quality)
    assert_recovers(dominant_colors(img), REGIONS)


def test_dominant_colours_of_blocks_after_jpeg():
    img = recompressed(quadrants_image(), 80)
    expected = [(REGIONS[0][0], 0.5), (REGIONS[1][0], 0.25), (REGIONS[2][0], 0.15), (REGIONS[3][0], 0.10)]
    assert_recovers(dominant_colors(img), expected)


def test_dominant_colours_are_sorted_sum_to_one_and_self_consistent():
    colours = dominant_colors(photo("astronaut"))
    assert 1 <= len(colours) <= 5
    assert sum(c.share for c in colours) == pytest.approx(1.0, abs=1e-9)
    assert [c.share for c in colours] == sorted((c.share for c in colours), reverse=True)
    for c in colours:
        assert c.hex == rgb_to_hex(c.rgb)
        assert all(isinstance(v, int) for v in c.rgb)
        np.testing.assert_allclose(c.lab, srgb_to_lab(c.rgb), atol=0.01)
        assert 0 < c.share <= 1
    # merged: no two reported colours are the same to the eye
    for a, b in itertools.combinations(colours, 2):
        assert delta_e_ciede2000(a.lab, b.lab) >= 5


def test_dominant_colours_are_deterministic():
    for name in ("astronaut", "coffee"):
        img = photo(name)
        assert dominant_colors(img) == dominant_colors(img.copy())
    data = s.jpeg(photo("chelsea"))
    assert analyze(data).colors == analyze(data).colors


def test_k_bounds_the_number_of_colours():
    assert len(dominant_colors(photo("coffee"), k=3)) <= 3
    assert len(dominant_colors(photo("coffee"), k=1)) == 1
    with pytest.raises(ValueError):
        dominant_colors(photo("coffee"), k=0)


def test_flat_artwork_is_exact():
    img = Image.new("RGB", (400, 100), (255, 255, 255))
    img.paste((10, 20, 30), (0, 0, 100, 100))
    colours = dominant_colors(img)
    assert [(c.hex, c.share) for c in colours] == [("#ffffff", 0.75), ("#0a141e", 0.25)]
    assert dominant_colors(Image.new("RGB", (10, 10), (1, 2, 3)))[0].share == 1.0


def test_nearly_identical_colours_are_merged():
    a = np.zeros((100, 200, 3), dtype=np.uint8)
    a[:, :100] = (120, 60, 60)
    a[:, 100:] = (123, 62, 60)  # dE00 ~ 1: one colour to anyone
    colours = dominant_colors(Image.fromarray(a))
    assert len(colours) == 1 and colours[0].share == 1.0


def test_dominant_colours_accept_other_modes():
    grey = photo("astronaut").convert("L")
    assert all(c.rgb[0] == c.rgb[1] == c.rgb[2] for c in dominant_colors(grey))
    assert dominant_colors(photo("coffee").convert("RGBA"))


# ---------------------------------------------------------------------------------------------------------
# Thumbnail


def open_webp(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "WEBP"
    return im


@pytest.mark.parametrize(("size", "expected"), [((1200, 800), (480, 320)), ((600, 1800), (160, 480))])
def test_thumbnail_fits_480_and_keeps_the_aspect_ratio(size, expected):
    im = open_webp(thumbnail(s.photo(size)))
    assert im.size == expected
    assert im.mode == "RGB"


def test_thumbnail_is_never_upscaled():
    assert open_webp(thumbnail(s.photo((300, 200)))).size == (300, 200)


def test_thumbnail_custom_size_and_odd_aspect():
    im = open_webp(thumbnail(s.photo((1000, 333)), max_side=200))
    assert im.size[0] == 200 and abs(im.size[1] - 67) <= 1


def test_thumbnail_of_rgba_and_palette_images_is_rgb():
    assert open_webp(thumbnail(s.photo((640, 480)).convert("RGBA"))).mode == "RGB"
    assert open_webp(thumbnail(s.photo((640, 480)).convert("P"))).mode == "RGB"


def test_thumbnail_looks_like_the_image():
    original = s.photo((1200, 800), "coffee")
    thumb = open_webp(thumbnail(original)).convert("RGB")
    reference = original.resize(thumb.size, Image.Resampling.BOX)
    diff = np.abs(np.asarray(thumb, dtype=np.int16) - np.asarray(reference, dtype=np.int16))
    assert diff.mean() < 6


# ---------------------------------------------------------------------------------------------------------
# analyze()


@functools.cache
def twelve_megapixel_jpeg() -> bytes:
    """A 4000x3000 photo with sensor-like noise (so it is as costly to entropy-decode as a real one)."""
    big = photo("astronaut").resize((4000, 3000), Image.Resampling.BILINEAR)
    noise = np.random.default_rng(0).normal(0, 6, (3000, 4000, 3))
    pixels = np.clip(np.asarray(big, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return s.jpeg(Image.fromarray(pixels), quality=90)


def test_analyze_a_12_megapixel_jpeg():
    data = twelve_megapixel_jpeg()
    result = analyze(data)
    assert isinstance(result, Analysis)
    assert (result.thumb_width, result.thumb_height) == (480, 360)
    thumb = open_webp(result.thumbnail)
    assert thumb.size == (480, 360)
    assert len(result.dhash) == 16
    # The hash of the small decode matches the hash of the picture itself.
    assert hamming(result.dhash, dhash(photo("astronaut"))) <= 2
    assert 1 <= len(result.colors) <= 5
    assert sum(c.share for c in result.colors) == pytest.approx(1.0)
    # Same palette as the original photo (measured: every colour within dE00 1.1, shares within 0.5 points).
    reference = dominant_colors(photo("astronaut"))
    assert len(result.colors) == len(reference)
    for got, want in zip(result.colors, reference, strict=True):
        assert delta_e_ciede2000(got.lab, want.lab) < 3
        assert got.share == pytest.approx(want.share, abs=0.02)


def test_analysis_decodes_a_12_megapixel_jpeg_at_reduced_size():
    """analyze() decodes through decode(data, (480, 480)): the JPEG is drafted at 1/4 scale or less,
    never decoded at full size (the speed is measured in benchmarks/, not asserted here)."""
    from webapp.imaging import decode

    img = decode(twelve_megapixel_jpeg(), (480, 480))
    assert img.width <= 1000 and img.height <= 750
    assert min(img.size) >= 480 * 3 // 4


def test_analyze_honours_exif_orientation():
    img = s.photo((640, 480))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    result = analyze(s.jpeg(img, exif=exif.tobytes()))
    assert (result.thumb_width, result.thumb_height) == (360, 480)


@pytest.mark.parametrize("encode", [s.png, s.webp])
def test_analyze_png_and_webp(encode):
    result = analyze(encode(s.photo((900, 600), "chelsea")))
    assert (result.thumb_width, result.thumb_height) == (480, 320)
    assert hamming(result.dhash, dhash(s.photo((900, 600), "chelsea"))) <= 2


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "empty"), (b"not an image at all", "bad_type"), (b"GIF89a" + b"\0" * 20, "bad_type")],
)
def test_analyze_rejects_what_is_not_an_image(data, code):
    with pytest.raises(ImageRejected) as info:
        analyze(data)
    assert info.value.code == code


def test_analyze_rejects_a_truncated_jpeg():
    data = s.jpeg(s.photo((400, 300)))
    with pytest.raises(ImageRejected) as info:
        analyze(data[: len(data) // 2])
    assert info.value.code == "corrupt"


def test_analysis_values_are_frozen():
    result = analyze(s.jpeg(s.photo((200, 100))))
    with pytest.raises(AttributeError):
        result.dhash = "0"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.colors[0].share = 1.0  # type: ignore[misc]
