"""The foreground's Lanczos step runs in libvips when it is installed (issue 18), Pillow otherwise.

These pin what the switch must not change: the exact size asked for, a picture that matches Pillow's
Lanczos to within a level or so, the same rendered formats either way, Pillow for anything libvips
is not used for (enlarging, other modes, MARQUEE_VIPS=0), and no libvips at import time.
"""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from webapp.imaging import autoformat_bytes, fastresize


def _photo(width: int = 1500, height: int = 1125, mode: str = "RGB") -> Image.Image:
    """Stripes, discs and noise: edges at every angle and fine texture, like a photograph's detail."""
    rng = np.random.default_rng(7)
    base = rng.normal(128, 40, (height, width, 3)).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(base)
    draw = ImageDraw.Draw(img)
    for i in range(0, width, 41):
        draw.line((i, 0, i + height // 3, height), fill=(250, 30, 30), width=5)
    for j in range(0, height, 97):
        draw.ellipse((j % width, j, j % width + 120, j + 80), fill=(20, 220, 250))
    return img.convert(mode)


@pytest.fixture
def with_vips():
    if not fastresize.vips_available():
        pytest.skip("libvips is not installed here (pyvips-binary has no wheel for this platform)")


@pytest.fixture
def pillow_only(monkeypatch):
    monkeypatch.setenv("MARQUEE_VIPS", "0")
    fastresize._vips.cache_clear()
    yield
    fastresize._vips.cache_clear()


@pytest.mark.parametrize("size", [(1335, 1001), (1112, 834), (200, 150), (701, 333)])
@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_vips_gives_the_exact_size_and_pillows_picture(with_vips, size, mode):
    img = _photo(mode=mode)
    ours = fastresize.lanczos_down(img, size, 2.0)
    pillow = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    assert ours.size == size and ours.mode == mode
    diff = np.abs(np.asarray(ours, dtype=np.int16) - np.asarray(pillow, dtype=np.int16))
    assert diff.mean() < 1.0, f"mean difference {diff.mean():.2f} levels"
    assert np.percentile(diff, 99.9) <= 12


@pytest.mark.parametrize("size", [(1499, 1), (1, 1124), (1, 1), (1500, 1124)])
def test_extreme_ratios_still_give_the_exact_size(with_vips, size):
    assert fastresize.lanczos_down(_photo(), size, 2.0).size == size


def test_one_source_is_copied_to_libvips_once_for_several_sizes(with_vips):
    img = _photo()
    shared: dict[int, object] = {}
    a = fastresize.lanczos_down(img, (1335, 1001), 2.0, shared)
    b = fastresize.lanczos_down(img, (1112, 834), 2.0, shared)
    assert len(shared) == 1 and a.size == (1335, 1001) and b.size == (1112, 834)
    other = _photo(800, 600)  # a different image never reuses the entry
    assert fastresize.lanczos_down(other, (400, 300), 2.0, shared).size == (400, 300)
    assert len(shared) == 2


def test_enlarging_and_other_modes_stay_with_pillow(with_vips):
    small = _photo(300, 200)
    assert np.array_equal(
        np.asarray(fastresize.lanczos_down(small, (600, 400), 2.0)),
        np.asarray(small.resize((600, 400), Image.Resampling.LANCZOS, reducing_gap=2.0)),
    )
    rgba = _photo(400, 300).convert("RGBA")
    assert np.array_equal(
        np.asarray(fastresize.lanczos_down(rgba, (200, 150), 2.0)),
        np.asarray(rgba.resize((200, 150), Image.Resampling.LANCZOS, reducing_gap=2.0)),
    )


def test_marquee_vips_0_resizes_with_pillow(pillow_only):
    assert not fastresize.vips_available()
    img = _photo(900, 600)
    assert np.array_equal(
        np.asarray(fastresize.lanczos_down(img, (450, 300), 2.0)),
        np.asarray(img.resize((450, 300), Image.Resampling.LANCZOS, reducing_gap=2.0)),
    )


def _renders() -> list[np.ndarray]:
    buf = io.BytesIO()
    _photo(4000, 3000).save(buf, "JPEG", quality=90)
    results = autoformat_bytes(buf.getvalue())
    return [np.asarray(Image.open(io.BytesIO(r.data)).convert("RGB")) for r in results]


def test_the_rendered_formats_look_the_same_with_or_without_libvips(with_vips, monkeypatch):
    from skimage.metrics import structural_similarity

    with_libvips = _renders()
    monkeypatch.setenv("MARQUEE_VIPS", "0")
    fastresize._vips.cache_clear()
    try:
        pillow = _renders()
    finally:
        fastresize._vips.cache_clear()
    for a, b in zip(with_libvips, pillow, strict=True):
        assert a.shape == b.shape
        # The bar for "looks the same" (benchmarks/autoformat.py); on this noisy test card
        # the two differ by less than a re-encode does.
        assert structural_similarity(a, b, channel_axis=2, data_range=255) > 0.99


def test_libvips_is_not_loaded_by_importing_the_app_or_the_imaging_package():
    code = "import sys, webapp, webapp.imaging; webapp.create_app(); print('pyvips' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"SECRET_KEY": "x", "LOG_LEVEL": "WARNING", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
