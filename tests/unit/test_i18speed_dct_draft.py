"""JPEGs decode at libjpeg-turbo's 3/8 DCT scale when that covers every output (issue 18).

Pillow's own ``draft`` only offers 1/2, 1/4 and 1/8; ``decoding.dct_draft`` reaches 3/8 through the
decoder's scale denominator. These tests pin that it gives the size libjpeg-turbo promises, pixels that
match a full decode resized the same way, and the fall-backs.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from webapp.imaging import FORMATS, autoformat_bytes, decode
from webapp.imaging.decoding import dct_draft


def _photo(width: int, height: int, quality: int = 90) -> bytes:
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for i in range(0, width, 37):
        draw.rectangle((i, 0, i + 18, height), fill=(i % 255, (i * 3) % 255, 200 - i % 200))
    for j in range(0, height, 53):
        draw.ellipse((j % width, j, j % width + 90, j + 60), fill=(250, 240 - j % 200, 20))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("need", "expected"),
    [
        ((600, 450), (600, 450)),  # exactly 3/8 of 1600x1200
        ((590, 440), (600, 450)),
        ((700, 500), (800, 600)),  # more than 3/8: 1/2
        ((400, 300), (400, 300)),  # 1/4
        ((150, 100), (200, 150)),  # 1/8
        ((900, 700), (1600, 1200)),  # more than 1/2: full size
    ],
)
def test_the_smallest_dct_scale_that_covers_the_need_is_used(need, expected):
    im = Image.open(io.BytesIO(_photo(1600, 1200)))
    dct_draft(im, need)
    im.load()
    assert im.size == expected
    assert im.size[0] >= need[0] and im.size[1] >= need[1]


def test_three_eighths_matches_a_full_decode_resized():
    data = _photo(1600, 1200)
    scaled = Image.open(io.BytesIO(data))
    dct_draft(scaled, (600, 450))
    scaled.load()
    full = Image.open(io.BytesIO(data)).convert("RGB").resize((600, 450), Image.Resampling.LANCZOS)
    diff = ImageStat.Stat(ImageChops.difference(scaled.convert("RGB"), full)).mean
    assert max(diff) < 3.0, diff


def test_a_second_draft_is_left_alone():
    im = Image.open(io.BytesIO(_photo(1600, 1200)))
    im.draft(None, (800, 600))  # already drafted at 1/2: not drafted again
    dct_draft(im, (600, 450))
    im.load()
    assert im.size == (800, 600)


def test_decode_with_a_canvas_uses_three_eighths_and_autoformat_reports_the_source_size():
    data = _photo(4000, 3000)
    # banner foreground needs 1335x1001 of 4000x3000: 3/8 (1500x1125) covers it
    assert decode(data, (1335, 1001)).size == (1500, 1125)
    results = autoformat_bytes(data)
    assert [(r.width, r.height) for r in results] == [f.size for f in FORMATS.values()]
    assert {r.source_size for r in results} == {(4000, 3000)}
