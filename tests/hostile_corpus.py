"""A corpus of malformed and hostile upload files, generated on the fly (nothing binary is checked
in). Each entry: (name, bytes, expectation) where expectation is "refuse" (must be refused with
a message and nothing stored) or "either" (odd but legitimate images that may be accepted)."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image


def _photo(size=(320, 240), seed=0) -> Image.Image:
    rnd = random.Random(seed)
    img = Image.new("RGB", size)
    px = img.load()
    for y in range(size[1]):
        for x in range(size[0]):
            px[x, y] = ((x * 3 + seed) % 256, (y * 5) % 256, (x * y + rnd.randint(0, 40)) % 256)
    return img


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _png_header_only(width: int, height: int, color_type: int = 2, depth: int = 8) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _png_bomb() -> bytes:
    """A real, fully valid 20000x20000 greyscale PNG that compresses to a few hundred KB."""
    width, height = 20000, 20000
    raw = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * width
    data = b"".join(raw.compress(row) for _ in range(height)) + raw.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_with_huge_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "A" * 60000  # ImageDescription
    return _save(_photo(), "JPEG", exif=exif.tobytes())


def _gif_animated() -> bytes:
    frames = [_photo(seed=i).convert("P") for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def corpus() -> list[tuple[str, bytes, str]]:
    out: list[tuple[str, bytes, str]] = []
    photo = _photo()
    jpeg = _save(photo, "JPEG", quality=85)
    png = _save(photo, "PNG")
    webp = _save(photo, "WEBP", quality=80)

    out.append(("zero-byte.jpg", b"", "refuse"))
    out.append(("one-byte.png", b"\x89", "refuse"))
    out.append(("magic-only.jpg", b"\xff\xd8\xff", "refuse"))
    out.append(("png-signature-only.png", b"\x89PNG\r\n\x1a\n", "refuse"))
    out.append(("riff-only.webp", b"RIFF\x00\x00\x00\x00WEBP", "refuse"))
    # truncated files at many offsets
    for frac in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99):
        out.append((f"truncated-{int(frac * 100)}.jpg", jpeg[: int(len(jpeg) * frac)], "refuse"))
        out.append((f"truncated-{int(frac * 100)}.png", png[: int(len(png) * frac)], "refuse"))
        out.append((f"truncated-{int(frac * 100)}.webp", webp[: int(len(webp) * frac)], "refuse"))
    # corrupted bytes in the middle (bit flips) — may or may not decode; must never crash
    rnd = random.Random(7)
    for i in range(55):
        base = (jpeg, png, webp)[i % 3]
        data = bytearray(base)
        for _ in range(1 + i % 5):
            pos = rnd.randrange(20, len(data))
            data[pos] ^= 1 << rnd.randrange(8)
        out.append((f"bitflip-{i}.{('jpg', 'png', 'webp')[i % 3]}", bytes(data), "either"))
    # random garbage with image names
    for i in range(30):
        out.append((f"garbage-{i}.jpg", rnd.randbytes(rnd.randrange(1, 5000)), "refuse"))
    # disguised documents and polyglots
    disguised = {
        "svg.jpg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "svg-bare.png": b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
        "html.jpg": b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>",
        "html-upper.webp": b"<HTML><BODY onload=alert(1)>",
        "php.png": b"<?php system($_GET['c']); ?>",
        "pdf.jpg": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
        "zip.png": b"PK\x03\x04" + b"\x00" * 100,
        "exe.jpg": b"MZ\x90\x00" + b"\x00" * 200,
        "elf.webp": b"\x7fELF" + b"\x00" * 200,
        "json.png": b'{"not": "an image"}',
        "text.jpg": b"hello world\n" * 50,
        "bmp.jpg": _save(photo, "BMP"),
        "tiff.png": _save(photo, "TIFF"),
        "gif.jpg": _save(photo.convert("P"), "GIF"),
        "gif-animated.png": _gif_animated(),
        "ico.png": _save(photo.resize((32, 32)), "ICO"),
        "ppm.jpg": _save(photo, "PPM"),
    }
    for name, data in disguised.items():
        out.append((name, data, "refuse"))
    out.append(("polyglot-jpeg-zip.jpg", jpeg + b"PK\x03\x04" + b"\x00" * 200, "either"))
    out.append(("polyglot-jpeg-html.jpg", jpeg + b"<script>alert(1)</script>", "either"))
    out.append(("polyglot-png-js.png", png + b"/*<script>alert(1)</script>*/", "either"))
    out.append(("html-then-jpeg.jpg", b"<html>" + jpeg, "refuse"))
    # decompression bombs and absurd dimensions
    out.append(("bomb-header-50000.png", _png_header_only(50000, 50000), "refuse"))
    out.append(("bomb-header-65535x1.png", _png_header_only(65535, 1), "refuse"))
    out.append(("bomb-header-1x65535.png", _png_header_only(1, 65535), "refuse"))
    out.append(("bomb-20000-real.png", _png_bomb(), "refuse"))
    out.append(("zero-width.png", _png_header_only(0, 10), "refuse"))
    out.append(("zero-height.png", _png_header_only(10, 0), "refuse"))
    out.append(("strip-1x40000.png", _save(Image.new("L", (1, 40000), 128), "PNG"), "refuse"))
    out.append(("strip-40000x1.png", _save(Image.new("L", (40000, 1), 128), "PNG"), "refuse"))
    out.append(("strip-1x4000.png", _save(Image.new("RGB", (1, 4000), "red"), "PNG"), "either"))
    out.append(("huge-exif.jpg", _jpeg_with_huge_exif(), "either"))
    # odd but legitimate
    out.append(("cmyk.jpg", _save(photo.convert("CMYK"), "JPEG"), "either"))
    out.append(("grey16.png", _save(photo.convert("I;16"), "PNG"), "either"))
    out.append(("palette-alpha.png", _save(photo.convert("P"), "PNG", transparency=0), "either"))
    out.append(("rgba.png", _save(photo.convert("RGBA"), "PNG"), "either"))
    out.append(("la.png", _save(photo.convert("LA"), "PNG"), "either"))
    out.append(("one-bit.png", _save(photo.convert("1"), "PNG"), "either"))
    out.append(("webp-lossless-alpha.webp", _save(photo.convert("RGBA"), "WEBP", lossless=True), "either"))
    out.append(
        (
            "webp-animated.webp",
            _save(photo, "WEBP", save_all=True, append_images=[_photo(seed=3)], duration=100),
            "either",
        )
    )
    out.append(("apng.png", _save(photo, "PNG", save_all=True, append_images=[_photo(seed=4)]), "either"))
    out.append(("tiny-1x1.jpg", _save(Image.new("RGB", (1, 1), "blue"), "JPEG"), "either"))
    out.append(("progressive.jpg", _save(photo, "JPEG", progressive=True), "either"))
    # PNG with a bad CRC in IHDR, and chunk length lies
    bad_crc = bytearray(png)
    bad_crc[29] ^= 0xFF
    out.append(("bad-crc.png", bytes(bad_crc), "either"))
    lie = bytearray(png)
    lie[8:12] = struct.pack(">I", 0x7FFFFFFF)
    out.append(("chunk-length-lie.png", bytes(lie), "refuse"))
    # WebP with a RIFF size that lies
    riff = bytearray(webp)
    riff[4:8] = struct.pack("<I", 0x7FFFFFF0)
    out.append(("riff-size-lie.webp", bytes(riff), "refuse"))
    # JPEG with no SOF / only markers
    out.append(
        (
            "jpeg-markers-only.jpg",
            b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9",
            "refuse",
        )
    )
    # over the byte limit
    out.append(("eleven-megabytes.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (11 * 1024 * 1024), "refuse"))
    # more random structure-aware junk: valid headers + random bodies
    for i in range(30):
        head = (jpeg[:600], png[:100], webp[:60])[i % 3]
        out.append(
            (f"header-then-junk-{i}.{('jpg', 'png', 'webp')[i % 3]}", head + rnd.randbytes(2000), "refuse")
        )
    return out
