"""Builders for the imaging tests: real photos (scikit-image samples), odd encodings, hand-made files.

Everything is generated in memory and small, so the imaging tests need no fixtures on disk.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from typing import Any

import numpy as np
import skimage.data
from PIL import Image, ImageOps


@functools.cache
def _sample(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)())


def photo(size: tuple[int, int], name: str = "astronaut") -> Image.Image:
    """A real photograph cover-fitted to ``size`` (RGB)."""
    return ImageOps.fit(_sample(name), size, Image.Resampling.LANCZOS)


def to_bytes(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg(img: Image.Image, **params: Any) -> bytes:
    params.setdefault("quality", 92)
    return to_bytes(img, "JPEG", **params)


def png(img: Image.Image, **params: Any) -> bytes:
    return to_bytes(img, "PNG", **params)


def webp(img: Image.Image, **params: Any) -> bytes:
    return to_bytes(img, "WEBP", **params)


def mean_colour(img: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    return np.asarray(img.crop(box).convert("RGB"), dtype=np.float64).reshape(-1, 3).mean(axis=0)


def _chunk(ctype: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(ctype + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def raw_png(
    width: int, height: int, bit_depth: int, colour_type: int, rows: list[bytes] | None = None
) -> bytes:
    """A PNG written by hand (for 48-bit RGB, and for headers that lie about their size)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    raw = b"".join(b"\0" + row for row in rows) if rows is not None else b"\0" * 64
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def linear_rgb_icc(description: str = "Linear RGB (test)") -> bytes:
    """A valid ICC v2 matrix/TRC RGB profile: sRGB primaries but a *linear* (gamma 1.0) tone curve.

    Pillow's ImageCms cannot create RGB profiles other than sRGB, so we write one. Converting from it to sRGB
    brightens mid-grey a lot (linear 0.5 -> sRGB ~188), which makes "was the profile applied?" easy to test.
    """
    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", 256) + b"\0\0"
    ascii_desc = description.encode("ascii") + b"\0"
    desc = (
        b"desc"
        + b"\0" * 4
        + struct.pack(">I", len(ascii_desc))
        + ascii_desc
        + struct.pack(">II", 0, 0)
        + struct.pack(">HB", 0, 0)
        + b"\0" * 67
    )
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", _xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", _xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\0" * 4 + b"No copyright\0"),
    ]
    start = 128 + 4 + 12 * len(tags)
    table = struct.pack(">I", len(tags))
    body = b""
    for sig, data in tags:
        body += b"\0" * (-(start + len(body)) % 4)
        table += sig + struct.pack(">II", start + len(body), len(data))
        body += data
    size = start + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntr"
        + b"RGB "
        + b"XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + table + body


def exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()
