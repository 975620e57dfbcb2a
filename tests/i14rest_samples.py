"""Images that carry private metadata, built with Pillow: the samples the metadata filter and the
upload tests share (issue 14: originals are stored without GPS, serials and owner names)."""

from __future__ import annotations

import functools
import io
import struct
import zlib

from PIL import Image, ImageCms, PngImagePlugin

GPS_IFD, EXIF_IFD = 0x8825, 0x8769
ARTIST, COPYRIGHT, MAKE, ORIENTATION = 0x013B, 0x8298, 0x010F, 0x0112
BODY_SERIAL, LENS_SERIAL, CAMERA_OWNER, MAKER_NOTE = 0xA431, 0xA435, 0xA430, 0x927C
SECRETS = [b"Jane Q. Photographer", b"SN-CAMERA-4242", b"SN-LENS-7777", b"Jane Owner", b"(c) Jane"]
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b"<rdf:Description><dc:creator>XMP Secret Creator</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
)


@functools.cache
def srgb_icc() -> bytes:
    """One profile per run (LittleCMS stamps each new profile with its creation time)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def picture(size: tuple[int, int] = (96, 64), mode: str = "RGB") -> Image.Image:
    """A picture with detail (so JPEG scans carry real entropy-coded data)."""
    im = Image.linear_gradient("L").resize(size)
    rgb = Image.merge("RGB", (im, im.rotate(90).resize(size), im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    return rgb.convert(mode)


def private_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ARTIST] = "Jane Q. Photographer"
    exif[COPYRIGHT] = "(c) Jane"
    exif[MAKE] = "Camera Maker"
    exif[ORIENTATION] = orientation
    sub = exif.get_ifd(EXIF_IFD)
    sub[BODY_SERIAL] = "SN-CAMERA-4242"
    sub[LENS_SERIAL] = "SN-LENS-7777"
    sub[CAMERA_OWNER] = "Jane Owner"
    sub[MAKER_NOTE] = b"maker secret blob"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (52.0, 22.0, 1.5)
    gps[3], gps[4] = "E", (4.0, 53.0, 30.0)
    return exif


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_private_metadata(progressive: bool = False, trailer: bool = True) -> bytes:
    """JFIF + EXIF (GPS, serials, artist, owner, maker note, orientation 6) + XMP + Photoshop/IPTC +
    a comment + an ICC profile, and a second JPEG after EOI (as phones store a depth/preview map)."""
    buf = io.BytesIO()
    picture().save(
        buf,
        "JPEG",
        quality=90,
        exif=private_exif().tobytes(),
        icc_profile=srgb_icc(),
        comment=b"shot at Jane's house",
        progressive=progressive,
    )
    data = buf.getvalue()
    extra = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP) + _segment(
        0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10\x1c\x02\x50\x00\x0cIPTC Byline!"
    )
    data = data[:2] + extra + data[2:]
    if trailer:
        second = io.BytesIO()
        picture((16, 16)).save(second, "JPEG", exif=private_exif().tobytes())
        data += second.getvalue()
    return data


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_private_metadata() -> bytes:
    """tEXt, zTXt, iTXt, eXIf (GPS + serial + orientation 6), tIME, an unknown private chunk, an
    ICC profile and pHYs."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Q. Photographer")
    info.add_text("Comment", "SN-CAMERA-4242 shot at home", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode(), lang="", tkey="")
    buf = io.BytesIO()
    picture(mode="RGBA").save(
        buf, "PNG", pnginfo=info, icc_profile=srgb_icc(), exif=private_exif().tobytes(), dpi=(300, 300)
    )
    data = buf.getvalue()
    at = data.index(b"IDAT") - 4
    extra = _png_chunk(b"tIME", b"\x07\xea\x0c\x03\x0c\x00\x00") + _png_chunk(b"prVt", b"Jane Owner")
    return data[:at] + extra + data[at:]


def webp_with_private_metadata() -> bytes:
    buf = io.BytesIO()
    picture().save(buf, "WEBP", lossless=True, exif=private_exif().tobytes(), xmp=XMP, icc_profile=srgb_icc())
    return buf.getvalue()


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    """What a decoder makes of the file, without applying orientation: mode, size, raw pixels."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.mode, im.size, im.tobytes()


def leaks(data: bytes) -> list[bytes]:
    """Which private strings are anywhere in the file's bytes (raw, so zTXt is checked decompressed
    by looking at the Pillow-decoded text too)."""
    found = [s for s in [*SECRETS, b"XMP Secret Creator", b"IPTC Byline", b"Jane's house"] if s in data]
    with Image.open(io.BytesIO(data)) as im:
        text = " ".join(str(v) for v in getattr(im, "text", {}).values()).encode()
    found += [s for s in SECRETS if s in text and s not in found]
    return found
