"""autoformat_bytes, the pipeline jobs and the CLI run: bytes in, encoded renditions out."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from tests.unit import imaging_samples as s
from webapp.imaging import (
    FORMATS,
    AutoformatOptions,
    ImageRejected,
    RenderResult,
    autoformat_bytes,
    decode,
    encode,
    render,
)


@pytest.fixture(scope="module")
def photo_jpeg() -> bytes:
    return s.jpeg(s.photo((1600, 1200), "coffee"), quality=90)


def open_result(result: RenderResult) -> Image.Image:
    img = Image.open(io.BytesIO(result.data))
    img.load()
    return img


@pytest.mark.parametrize("out_format", ["jpeg", "png", "webp"])
@pytest.mark.parametrize("fill", ["blur", "solid", "crop"])
def test_every_format_fill_and_encoding_has_the_exact_size(photo_jpeg, fill, out_format):
    results = autoformat_bytes(photo_jpeg, options=AutoformatOptions(fill=fill), out_format=out_format)
    assert [r.name for r in results] == ["poster", "square", "banner"]
    for result, fmt in zip(results, FORMATS.values(), strict=True):
        img = open_result(result)
        assert img.size == (fmt.width, fmt.height) == (result.width, result.height)
        assert img.format == {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[out_format]
        assert result.mime_type == f"image/{out_format}"
        assert img.mode == "RGB"  # no alpha in any output
        if out_format == "jpeg":
            assert img.info.get("progressive") == 1
            assert "exif" not in img.info


def test_crop_is_reported_per_format_with_a_note_when_it_falls_back(photo_jpeg):
    results = autoformat_bytes(photo_jpeg, options=AutoformatOptions(fill="crop"))
    by_name = {r.name: r for r in results}
    assert by_name["poster"].fill_used == "blur" and "Crop would lose 50%" in (by_name["poster"].note or "")
    assert by_name["square"].fill_used == "blur"  # 4:3 in a square loses 25%
    assert by_name["banner"].fill_used == "blur"  # 4:3 in 1.98:1 loses 33%
    near_square = s.jpeg(s.photo((1000, 1040)))
    result = autoformat_bytes(near_square, [FORMATS["square"]], AutoformatOptions(fill="crop"))[0]
    assert (result.fill_used, result.note) == ("crop", None)


def test_options_can_differ_per_format_and_missing_ones_use_defaults(photo_jpeg):
    results = autoformat_bytes(photo_jpeg, options={"banner": AutoformatOptions(fill="solid")})
    assert [r.fill_used for r in results] == ["blur", "blur", "solid"]


def test_only_the_requested_formats_are_rendered_in_the_given_order(photo_jpeg):
    results = autoformat_bytes(photo_jpeg, [FORMATS["banner"], FORMATS["poster"]])
    assert [r.name for r in results] == ["banner", "poster"]


def test_progress_is_reported_in_order_from_0_to_100(photo_jpeg):
    calls: list[tuple[int, str]] = []
    autoformat_bytes(photo_jpeg, progress=lambda pct, stage: calls.append((pct, stage)))
    percents = [p for p, _ in calls]
    assert percents[0] == 0 and percents[-1] == 100
    assert percents == sorted(percents)
    stages = [stage for _, stage in calls]
    assert stages[0] == "Decoding" and stages[-1] == "Done"
    assert "Rendering poster" in stages and "Encoding banner" in stages


def test_pipeline_output_matches_rendering_the_full_resolution_decode(photo_jpeg):
    # The pipeline decodes the JPEG at reduced scale; the result must look the same as the slow path.
    fast = autoformat_bytes(photo_jpeg, [FORMATS["poster"]], out_format="png")[0]
    slow = render(decode(photo_jpeg), FORMATS["poster"])
    a = np.asarray(open_result(fast))
    b = np.asarray(slow)
    assert structural_similarity(a, b, channel_axis=2, data_range=255) > 0.98


def test_exif_rotated_upload_is_rendered_upright():
    stored = s.photo((800, 600))
    data = s.jpeg(stored, exif=s.exif_with_orientation(6))
    result = autoformat_bytes(data, [FORMATS["poster"]], out_format="png")[0]
    img = open_result(result)
    # A portrait (600x800 upright) artwork fills the poster's height minus the margin.
    expected = render(stored.transpose(Image.Transpose.ROTATE_270), FORMATS["poster"])
    assert structural_similarity(np.asarray(img), np.asarray(expected), channel_axis=2, data_range=255) > 0.97


def test_undecodable_data_raises_image_rejected():
    with pytest.raises(ImageRejected) as info:
        autoformat_bytes(b"GIF89a" + b"\0" * 50)
    assert info.value.code == "bad_type"


def test_unknown_output_format_is_a_programming_error(photo_jpeg):
    with pytest.raises(ValueError, match="Unknown output format"):
        autoformat_bytes(photo_jpeg, out_format="gif")
    with pytest.raises(ValueError, match="Unknown output format"):
        encode(Image.new("RGB", (4, 4)), "tiff")


def test_encode_flattens_alpha_and_writes_progressive_jpeg():
    data = encode(Image.new("RGBA", (16, 16), (0, 0, 0, 0)))
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and img.mode == "RGB" and img.info.get("progressive") == 1
    assert np.allclose(img.getpixel((8, 8)), (255, 255, 255), atol=2)
