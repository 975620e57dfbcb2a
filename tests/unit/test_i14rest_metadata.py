"""The private-metadata filter (webapp.imaging.metadata): GPS, serials, owner names, maker notes,
XMP/IPTC, comments, PNG text and WebP EXIF/XMP go; ICC profile and orientation stay; pixels are
the same bytes (nothing is re-encoded)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.i14rest_samples import (
    ARTIST,
    EXIF_IFD,
    GPS_IFD,
    ORIENTATION,
    jpeg_with_private_metadata,
    leaks,
    picture,
    pixels,
    png_with_private_metadata,
    srgb_icc,
    webp_with_private_metadata,
)
from webapp.imaging.metadata import MetadataError, exif_orientation, orientation_tiff, strip_private


def _exif(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as im:
        return im.getexif()


def _icc(data: bytes) -> bytes | None:
    with Image.open(io.BytesIO(data)) as im:
        return im.info.get("icc_profile")


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_loses_private_fields_and_keeps_pixels_icc_and_orientation(progressive):
    data = jpeg_with_private_metadata(progressive=progressive)
    assert len(leaks(data)) >= 5 and _exif(data).get_ifd(GPS_IFD)
    out = strip_private(data, "jpeg")
    assert leaks(out) == []
    exif = _exif(out)
    assert dict(exif) == {ORIENTATION: 6}  # orientation only: no artist, no GPS/Exif sub-IFDs
    assert not exif.get_ifd(GPS_IFD) and not exif.get_ifd(EXIF_IFD)
    assert _icc(out) == srgb_icc()
    assert pixels(out) == pixels(data)
    assert out.endswith(b"\xff\xd9") and out.count(b"\xff\xd8") == 1  # the trailing picture is gone
    with Image.open(io.BytesIO(out)) as im:
        assert "comment" not in im.info and "xmp" not in im.info and "photoshop" not in im.info
    assert strip_private(out, "jpeg") == out  # idempotent


def test_png_loses_text_and_exif_chunks_and_keeps_pixels_and_icc():
    data = png_with_private_metadata()
    assert leaks(data)
    out = strip_private(data, "png")
    assert leaks(out) == []
    for kind in (b"tEXt", b"zTXt", b"iTXt", b"tIME", b"prVt"):
        assert kind not in out
    assert dict(_exif(out)) == {ORIENTATION: 6}
    assert _icc(out) == srgb_icc() and b"pHYs" in out
    assert pixels(out) == pixels(data)


def test_webp_loses_exif_and_xmp_and_keeps_pixels_and_icc():
    data = webp_with_private_metadata()
    assert leaks(data)
    out = strip_private(data, "webp")
    assert leaks(out) == []
    assert dict(_exif(out)) == {ORIENTATION: 6} and b"XMP " not in out
    assert _icc(out) == srgb_icc()
    assert pixels(out) == pixels(data)
    assert int.from_bytes(out[4:8], "little") == len(out) - 8


def test_files_without_private_metadata_come_back_unchanged():
    for fmt, kwargs in (("JPEG", {"quality": 90}), ("PNG", {}), ("WEBP", {"lossless": True})):
        buf = io.BytesIO()
        picture().save(buf, fmt, **kwargs)
        data = buf.getvalue()
        assert strip_private(data, fmt.lower()) is data


def test_normal_orientation_leaves_no_exif_at_all():
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[ARTIST] = "Jane Q. Photographer"
    exif[ORIENTATION] = 1
    picture().save(buf, "JPEG", exif=exif.tobytes())
    out = strip_private(buf.getvalue(), "jpeg")
    assert b"Exif" not in out and b"Jane" not in out


def test_orientation_block_round_trips():
    for value in range(1, 9):
        assert exif_orientation(orientation_tiff(value)) == value
    assert exif_orientation(b"junk") == 1


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("jpeg", b"\xff\xd8\xff\xe1\x00\x40Exif"),  # segment runs past the end
        ("jpeg", b"\x89PNG"),
        ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"),  # no IEND
        ("webp", b"RIFF\xff\xff\x00\x00WEBPVP8 "),
    ],
)
def test_malformed_structures_are_refused_not_guessed(fmt, data):
    with pytest.raises(MetadataError):
        strip_private(data, fmt)
