"""Upload validation and decoding: what we accept, how odd files are normalised, what we refuse and why."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile

from tests.unit import imaging_samples as s
from webapp.imaging import ImageRejected, UploadLimits, decode, inspect_upload

LIMITS = UploadLimits()


def rejected(data: bytes, limits: UploadLimits = LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        inspect_upload(data, limits)
    return info.value


# ---------------------------------------------------------------------------------------------------------
# Accepted files


@pytest.mark.parametrize(
    ("encode", "fmt", "mime"),
    [(s.jpeg, "jpeg", "image/jpeg"), (s.png, "png", "image/png"), (s.webp, "webp", "image/webp")],
)
def test_jpeg_png_and_webp_are_accepted_and_described(encode, fmt, mime):
    info = inspect_upload(encode(s.photo((64, 48))), LIMITS)
    assert (info.format, info.mime_type, info.width, info.height) == (fmt, mime, 64, 48)
    assert info.has_alpha is False
    assert info.animated is False


def test_type_is_judged_by_content_not_by_any_name():
    # A PNG is a PNG whatever the user called it; we only ever see bytes.
    assert inspect_upload(s.png(s.photo((8, 8))), LIMITS).format == "png"


def test_decode_returns_rgb_of_the_right_size():
    img = decode(s.jpeg(s.photo((120, 80))))
    assert img.mode == "RGB"
    assert img.size == (120, 80)


def test_decode_with_min_size_drafts_the_jpeg_but_keeps_enough_pixels_to_fit():
    data = s.jpeg(s.photo((2400, 1600)))
    img = decode(data, min_size=(300, 300))  # fitted size is 300x200
    assert img.width >= 300 and img.height >= 200
    assert img.size == (300, 200)  # 1/8 DCT scaling is exactly enough here
    assert decode(data, min_size=(1000, 1000)).size == (1200, 800)  # needs 1000x667 -> 1/2
    assert decode(data).size == (2400, 1600)


# Where a red marker stored at the top-left and a green one stored at the top-right must appear after
# applying each EXIF orientation (EXIF 2.3 table; same semantics as ImageOps.exif_transpose).
ORIENTATION_CASES = {
    1: ("top-left", "top-right"),
    2: ("top-right", "top-left"),
    3: ("bottom-right", "bottom-left"),
    4: ("bottom-left", "bottom-right"),
    5: ("top-left", "bottom-left"),
    6: ("top-right", "bottom-right"),
    7: ("bottom-right", "top-right"),
    8: ("bottom-left", "top-left"),
}


def _corner(img: Image.Image, name: str) -> np.ndarray:
    w, h = img.size
    q = 8
    x = 0 if name.endswith("left") else w - q
    y = 0 if name.startswith("top") else h - q
    return s.mean_colour(img, (x, y, x + q, y + q))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_for_all_eight_values(orientation):
    stored = Image.new("RGB", (64, 32), (128, 128, 128))
    stored.paste((255, 0, 0), (0, 0, 8, 8))
    stored.paste((0, 255, 0), (56, 0, 64, 8))
    data = s.jpeg(stored, exif=s.exif_with_orientation(orientation), quality=95)

    img = decode(data)
    info = inspect_upload(data, LIMITS)

    expected_size = (32, 64) if orientation >= 5 else (64, 32)
    assert img.size == expected_size
    assert (info.width, info.height) == expected_size
    red_at, green_at = ORIENTATION_CASES[orientation]
    assert np.allclose(_corner(img, red_at), (255, 0, 0), atol=30)
    assert np.allclose(_corner(img, green_at), (0, 255, 0), atol=30)


def test_pixel_limits_apply_to_the_upright_image():
    # Stored 3000x4000 but displayed 4000x3000: fine for a 4000x3000 limit.
    data = s.jpeg(Image.new("RGB", (300, 400), "white"), exif=s.exif_with_orientation(6))
    limits = UploadLimits(max_width=400, max_height=300)
    assert inspect_upload(data, limits).width == 400
    err = rejected(s.jpeg(Image.new("RGB", (300, 400), "white")), limits)
    assert err.code == "too_many_pixels"
    assert err.message == "The image is 300x400 pixels; the largest allowed is 400x300."


def test_cmyk_jpeg_is_converted_to_rgb_without_inverting_colours():
    cmyk = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # pure red ink mix
    cmyk.paste((0, 0, 0, 255), (0, 0, 16, 32))  # black ink on the left half
    data = s.jpeg(cmyk, quality=95)
    assert b"Adobe" in data  # libjpeg writes Adobe-style (inverted) CMYK, like Photoshop does
    img = decode(data)
    assert img.mode == "RGB"
    assert np.allclose(s.mean_colour(img, (20, 4, 28, 28)), (255, 0, 0), atol=12)
    assert np.allclose(s.mean_colour(img, (2, 4, 12, 28)), (0, 0, 0), atol=12)


def test_16_bit_greyscale_png_is_scaled_to_8_bits_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (4, 1))
    grey16 = Image.fromarray(ramp)
    assert grey16.mode == "I;16"
    data = s.png(grey16)
    img = decode(data)
    row = np.asarray(img)[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255
    assert abs(row[128] - 128) <= 1
    assert np.all(np.diff(row) >= 0)


def test_48_bit_rgb_png_keeps_its_colours():
    pixel = (65535).to_bytes(2, "big") + (32896).to_bytes(2, "big") + (0).to_bytes(2, "big")
    data = s.raw_png(4, 3, 16, 2, [pixel * 4] * 3)
    img = decode(data)
    assert img.mode == "RGB"
    assert img.getpixel((1, 1)) == (255, 128, 0)


def test_palette_png_with_transparency_is_flattened_onto_white():
    pal = Image.new("P", (20, 20), 0)
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    pal.paste(1, (5, 5, 15, 15))
    data = s.png(pal, transparency=0)
    assert inspect_upload(data, LIMITS).has_alpha is True
    img = decode(data)
    assert img.getpixel((0, 0)) == (255, 255, 255)  # transparent index -> white, not palette black
    assert img.getpixel((10, 10)) == (200, 30, 30)


def test_palette_png_without_transparency_keeps_exact_colours():
    pal = Image.new("P", (10, 10), 1)
    pal.putpalette([0, 0, 0, 12, 34, 56] + [0] * 762)
    assert decode(s.png(pal)).getpixel((3, 3)) == (12, 34, 56)


def test_rgba_png_is_flattened_onto_white():
    rgba = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    rgba.paste((20, 40, 200, 255), (5, 5, 15, 15))
    rgba.paste((0, 0, 0, 128), (0, 0, 3, 3))
    img = decode(s.png(rgba))
    assert img.getpixel((19, 19)) == (255, 255, 255)
    assert img.getpixel((10, 10)) == (20, 40, 200)
    assert all(abs(c - 127) <= 1 for c in img.getpixel((1, 1)))  # 50% black over white


def test_light_artwork_on_transparency_is_flattened_onto_near_black_so_it_stays_visible():
    logo = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    logo.paste((255, 255, 255, 255), (5, 5, 35, 15))  # a white logo
    img = decode(s.png(logo))
    assert img.getpixel((0, 0)) == (24, 24, 24)
    assert img.getpixel((20, 10)) == (255, 255, 255)


def test_la_png_is_flattened_and_converted_to_rgb():
    la = Image.new("LA", (10, 10), (0, 0))
    la.paste((90, 255), (2, 2, 8, 8))
    img = decode(s.png(la))
    assert img.mode == "RGB"
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((5, 5)) == (90, 90, 90)


def test_1_bit_png_is_converted_to_black_and_white_rgb():
    bw = Image.new("1", (16, 16), 1)
    bw.paste(0, (0, 0, 8, 16))
    img = decode(s.png(bw))
    assert img.getpixel((2, 2)) == (0, 0, 0)
    assert img.getpixel((12, 2)) == (255, 255, 255)


def test_lossless_webp_with_alpha_is_flattened():
    rgba = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    rgba.paste((10, 200, 10, 255), (4, 4, 12, 12))
    data = s.webp(rgba, lossless=True)
    info = inspect_upload(data, LIMITS)
    assert info.has_alpha is True
    img = decode(data)
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((8, 8)) == (10, 200, 10)


def test_non_srgb_icc_profile_is_converted_to_srgb():
    icc = s.linear_rgb_icc()
    ImageCms.ImageCmsProfile(io.BytesIO(icc))  # the hand-made profile is valid for lcms
    data = s.png(Image.new("RGB", (8, 8), (128, 128, 128)), icc_profile=icc)
    r, g, b = decode(data).getpixel((4, 4))
    # linear 0.502 -> sRGB 0.735 (188); without conversion it would stay 128
    assert all(184 <= c <= 192 for c in (r, g, b))


def test_srgb_icc_profile_leaves_pixels_untouched():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = s.png(Image.new("RGB", (8, 8), (128, 64, 32)), icc_profile=srgb)
    assert decode(data).getpixel((0, 0)) == (128, 64, 32)


def test_broken_icc_profile_is_ignored_rather_than_failing_the_upload():
    data = s.png(Image.new("RGB", (8, 8), (128, 64, 32)), icc_profile=b"definitely not an ICC profile")
    assert inspect_upload(data, LIMITS).format == "png"
    assert decode(data).getpixel((0, 0)) == (128, 64, 32)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_png_and_webp_are_accepted_and_use_the_first_frame(fmt):
    frames = [Image.new("RGB", (16, 16), c) for c in ((220, 20, 20), (20, 20, 220))]
    buf = io.BytesIO()
    params = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **params)
    data = buf.getvalue()
    assert inspect_upload(data, LIMITS).animated is True
    assert np.allclose(decode(data).getpixel((8, 8)), (220, 20, 20), atol=3)


def test_one_pixel_image_is_accepted():
    info = inspect_upload(s.png(Image.new("RGB", (1, 1), (1, 2, 3))), LIMITS)
    assert (info.width, info.height) == (1, 1)


# ---------------------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    ("fmt", "what"), [("GIF", "a GIF image"), ("BMP", "a BMP image"), ("TIFF", "a TIFF image")]
)
def test_other_image_types_are_refused_by_name(fmt, what):
    err = rejected(s.to_bytes(Image.new("RGB", (8, 8)), fmt))
    assert err.code == "bad_type"
    assert err.message == f"This file is {what}. Upload a JPEG, PNG or WebP image."


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "an SVG image"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html><body>hi</body></html>", "an HTML page"),
        (b"just some notes\n", "a text file"),
    ],
)
def test_text_disguised_as_an_image_is_refused(data, what):
    err = rejected(data)  # even if the browser sent it as "poster.jpg"
    assert err.code == "bad_type"
    assert err.message == f"This file is {what}. Upload a JPEG, PNG or WebP image."


def test_unknown_binary_is_refused_as_unrecognised():
    err = rejected(bytes(range(256)) * 4)
    assert err.code == "bad_type"
    assert err.message == "This file is not a recognised image. Upload a JPEG, PNG or WebP image."


def test_empty_file_is_refused():
    err = rejected(b"")
    assert err.code == "empty"
    assert err.message.startswith("The file is empty.")


def test_file_over_the_byte_limit_is_refused_before_anything_else():
    err = rejected(b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024))
    assert err.code == "too_large"
    assert err.message == "The file is 10.1 MB; the largest allowed is 10 MB."
    err = rejected(b"\xff\xd8\xff" + b"\0" * 12_900_000)
    assert err.message == "The file is 12.4 MB; the largest allowed is 10 MB."


def test_image_wider_than_the_limit_is_refused():
    err = rejected(s.png(Image.new("RGB", (4001, 10))))
    assert err.code == "too_many_pixels"
    assert err.message == "The image is 4001x10 pixels; the largest allowed is 4000x4000."


def test_decompression_bomb_png_is_refused_from_its_header_without_decoding(monkeypatch):
    bomb = s.raw_png(50000, 50000, 8, 2)  # a few hundred bytes claiming 2.5 gigapixels
    assert len(bomb) < 1000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # the app may switch Pillow's own guard off
    err = rejected(bomb)
    assert err.code == "too_many_pixels"
    assert err.message == "The image is 50000x50000 pixels; the largest allowed is 4000x4000."
    with pytest.raises(ImageRejected) as info:
        decode(bomb)  # decode without limits still has a ceiling
    assert info.value.code == "too_many_pixels"


def test_webp_claiming_a_huge_canvas_is_refused_before_its_decoder_allocates():
    data = bytearray(s.webp(Image.new("RGBA", (4, 4), (1, 2, 3, 100)), lossless=True))
    # Rewrite the VP8L size fields to 16384x16384.
    bits = int.from_bytes(data[21:25], "little")
    bits = (bits & ~0xFFFFFFF) | 0x3FFF | (0x3FFF << 14)
    data[21:25] = bits.to_bytes(4, "little")
    err = rejected(bytes(data))
    assert err.code == "too_many_pixels"
    assert "16384x16384" in err.message


@pytest.mark.parametrize(
    ("encode", "label"), [(s.jpeg, "JPEG"), (s.png, "PNG"), (lambda im: s.webp(im, quality=80), "WebP")]
)
def test_truncated_files_are_refused_as_damaged(encode, label):
    data = encode(s.photo((96, 64)))
    err = rejected(data[: len(data) * 2 // 3])
    assert err.code == "corrupt"
    assert err.message.startswith("This file is not a valid image or is damaged (")
    assert label in err.message
    assert err.message.endswith("Re-export it and try again.")


def test_truncated_jpeg_is_refused_even_if_the_app_allows_truncated_images_globally(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = s.jpeg(s.photo((96, 64)))
    err = rejected(data[: len(data) // 2])
    assert err.code == "corrupt"
    assert "truncated JPEG data" in err.message
    with pytest.raises(ImageRejected):
        decode(data[: len(data) // 2])


def test_png_with_corrupt_compressed_data_is_refused():
    data = bytearray(s.raw_png(8, 8, 8, 2, [bytes(24)] * 8))
    idat = data.index(b"IDAT")
    data[idat + 4 : idat + 8] = b"\xde\xad\xbe\xef"  # garbage zlib header (CRC no longer matches either)
    err = rejected(bytes(data))
    assert err.code == "corrupt"


def test_image_rejected_is_a_value_error_with_message_and_code():
    err = rejected(b"GIF89a" + b"\0" * 20)
    assert isinstance(err, ValueError)
    assert str(err) == err.message


def test_png_exif_orientation_is_applied_too():
    stored = Image.new("RGB", (40, 20), (128, 128, 128))
    stored.paste((255, 0, 0), (0, 0, 8, 8))
    data = s.png(stored, exif=s.exif_with_orientation(6))
    img = decode(data)
    assert img.size == (20, 40)
    assert img.getpixel((17, 2)) == (255, 0, 0)  # stored top-left ends up top-right
