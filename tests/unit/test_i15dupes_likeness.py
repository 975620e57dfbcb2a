"""Near-duplicates: a hash match must be confirmed by colour and structure (issue 15).

The matrix runs the real ingest analysis (``analyze`` on encoded bytes) over distinct pictures — flat
colours of different hues (one 8x8, as in the report), text pages drawn with Pillow, gradients, noise,
shapes and photos — and asserts that no pair is reported, then over true copies (resized, recompressed,
re-encoded, cropped by 3%) and asserts that every one is.
"""

from __future__ import annotations

import functools
import io
import itertools

import numpy as np
import pytest
import skimage.data
from PIL import Image

from tests.unit.likeness_samples import gradient, noise, shapes, text_page
from webapp.imaging import NEAR_DUPLICATE_MAX_DISTANCE, analyze, hamming
from webapp.imaging.analysis import near_duplicate_keys
from webapp.imaging.likeness import SIGNATURE_BYTES, compare, is_current, same_picture, signature


@functools.cache
def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "retina", "immunohistochemistry", "camera", "page"]

DISTINCT = {
    "flat green 8x8": lambda: Image.new("RGB", (8, 8), (0, 160, 60)),
    "flat red": lambda: Image.new("RGB", (400, 300), (210, 30, 40)),
    "flat blue": lambda: Image.new("RGB", (400, 300), (30, 60, 200)),
    "flat yellow": lambda: Image.new("RGB", (400, 300), (240, 220, 40)),
    "flat paper": lambda: Image.new("RGB", (850, 1100), (250, 250, 246)),
    "flat grey": lambda: Image.new("RGB", (400, 300), (128, 128, 128)),
    "flat black": lambda: Image.new("RGB", (400, 300), (0, 0, 0)),
    "text page": lambda: text_page(1),
    "other text page": lambda: text_page(2),
    "scanned text page": lambda: text_page(3, scanned=True),
    "grey gradient": lambda: gradient((0, 0, 0), (255, 255, 255), "h"),
    "red-blue gradient": lambda: gradient((200, 20, 20), (20, 20, 200), "h"),
    "vertical gradient": lambda: gradient((0, 0, 0), (255, 255, 255), "v"),
    "radial gradient": lambda: gradient((250, 200, 220), (60, 0, 60), "r"),
    "grey noise": lambda: noise(1, False),
    "colour noise": lambda: noise(2, True),
    "shapes": lambda: shapes(1),
    "other shapes": lambda: shapes(2),
    **{f"photo {name}": functools.partial(photo, name) for name in PHOTOS},
}


def encoded(img: Image.Image, fmt: str = "PNG", **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


@functools.cache
def keys_of(name: str) -> tuple[str, bytes]:
    return near_duplicate_keys(encoded(DISTINCT[name]()))


def flagged(a: tuple[str, bytes], b: tuple[str, bytes]) -> bool:
    """What ingest reports: a hash candidate that the likeness check confirms."""
    return hamming(a[0], b[0]) <= NEAR_DUPLICATE_MAX_DISTANCE and same_picture(a[1], b[1])


def test_no_pair_of_different_pictures_is_a_near_duplicate():
    matched = [
        (a, b, compare(keys_of(a)[1], keys_of(b)[1]))
        for a, b in itertools.combinations(DISTINCT, 2)
        if flagged(keys_of(a), keys_of(b))
    ]
    assert matched == []


def test_the_reported_case_text_page_against_a_green_square():
    page, square = keys_of("scanned text page"), keys_of("flat green 8x8")
    assert not flagged(page, square)
    assert compare(page[1], square[1]).delta_e > 20  # refused on colour whatever the hash says


def test_a_flat_picture_never_matches_a_textured_one_of_its_own_colour():
    page = text_page(4)
    paper = Image.new("RGB", page.size, tuple(int(v) for v in np.asarray(page).reshape(-1, 3).mean(axis=0)))
    likeness = compare(near_duplicate_keys(encoded(page))[1], near_duplicate_keys(encoded(paper))[1])
    assert not likeness.same and likeness.ssim < 0.85


def scaled(img: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    return img.resize(size, Image.Resampling.LANCZOS)


def cropped(img: Image.Image, fraction: float, centred: bool) -> Image.Image:
    w, h = img.size
    if centred:
        dx, dy = round(w * fraction / 2), round(h * fraction / 2)
        return img.crop((dx, dy, w - dx, h - dy))
    return img.crop((0, 0, round(w * (1 - fraction)), round(h * (1 - fraction))))


COPIES = {
    "50%": lambda im: encoded(scaled(im, 0.5), "JPEG", quality=90),
    "200%": lambda im: encoded(scaled(im, 2.0), "PNG"),
    "JPEG q60": lambda im: encoded(im, "JPEG", quality=60),
    "50% + q60": lambda im: encoded(scaled(im, 0.5), "JPEG", quality=60),
    "PNG -> JPEG": lambda im: encoded(decoded(encoded(im, "PNG")), "JPEG", quality=85),
    "JPEG -> PNG": lambda im: encoded(decoded(encoded(im, "JPEG", quality=85)), "PNG"),
    "3% crop off one corner": lambda im: encoded(cropped(im, 0.03, centred=False), "JPEG", quality=90),
    "3% crop centred": lambda im: encoded(cropped(im, 0.03, centred=True), "JPEG", quality=90),
    "3% crop of the width": lambda im: encoded(im.crop((0, 0, round(im.width * 0.97), im.height)), "PNG"),
}
ORIGINALS = ["photo astronaut", "photo coffee", "photo chelsea", "photo rocket", "shapes", "radial gradient"]


@pytest.mark.parametrize("original", ORIGINALS)
def test_true_copies_are_near_duplicates(original):
    img = DISTINCT[original]()
    missed = {}
    for name, make in COPIES.items():
        copy = near_duplicate_keys(make(img))
        if not flagged(keys_of(original), copy):
            missed[name] = (hamming(keys_of(original)[0], copy[0]), compare(keys_of(original)[1], copy[1]))
    assert missed == {}


@pytest.mark.parametrize("name", ["flat paper", "text page", "scanned text page"])
def test_low_detail_copies_still_match_each_other(name):
    img = DISTINCT[name]()
    # Not the 3% crop of the width: on a text page it moves the hash by up to 12 bits, past the gate, although
    # the likeness agrees (SSIM 0.99). Missing that prompt is harmless: both images are simply kept.
    copies = {k: v for k, v in COPIES.items() if k != "3% crop of the width"}
    missed = [
        copy for copy, make in copies.items() if not flagged(keys_of(name), near_duplicate_keys(make(img)))
    ]
    assert missed == []


def test_signature_is_small_versioned_and_symmetric():
    sig = signature(photo("coffee"))
    assert len(sig) == SIGNATURE_BYTES < 1300 and is_current(sig)
    assert not is_current(None) and not is_current(b"\x00" + sig[1:]) and not is_current(sig[:-1])
    other = signature(photo("astronaut"))
    assert compare(sig, other) == compare(other, sig)
    assert compare(sig, sig).ssim == pytest.approx(1.0) and compare(sig, sig).delta_e == 0
    with pytest.raises(ValueError):
        compare(sig, b"nope")


def test_analyze_stores_the_same_keys_as_the_quick_path():
    data = encoded(photo("coffee"), "JPEG", quality=90)
    result = analyze(data)
    assert (result.dhash, result.likeness) == near_duplicate_keys(data)
