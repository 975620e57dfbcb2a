"""Encoding the rendered canvases for delivery.

JPEG is the default: progressive (renders coarse-to-fine on slow venue Wi-Fi), optimized Huffman tables
(smaller at no quality cost), quality 90, 4:2:0 chroma subsampling, no alpha. Output is sRGB because every
input is converted to sRGB on decode; the files are left untagged (untagged means sRGB on the web) and carry
no EXIF, so camera metadata such as GPS position never leaks into published artwork.
PNG uses zlib level 3 without ``optimize``: on a photographic 1200x1800 poster level 3 took 136 ms for 1.86 MB
versus 339 ms for 1.70 MB at level 6 (and ``optimize`` costs more again), so 2.5x faster for 9% larger files.
WebP uses quality 90 and method 4, libwebp's balanced speed/size setting.
"""

from __future__ import annotations

import io

from PIL import Image

ENCODINGS: dict[str, tuple[str, str]] = {
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
    "webp": ("image/webp", ".webp"),
}

JPEG_QUALITY = 90
WEBP_QUALITY = 90
WEBP_METHOD = 4
PNG_COMPRESS_LEVEL = 3


def encode(img: Image.Image, fmt: str = "jpeg") -> bytes:
    """Encode an image as "jpeg", "png" or "webp" bytes (RGB, any alpha is flattened onto white)."""
    fmt = fmt.lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in ENCODINGS:
        raise ValueError(f"Unknown output format {fmt!r}; use one of {', '.join(ENCODINGS)}.")
    if img.mode != "RGB":
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", img.size, (255, 255, 255))
            flat.paste(rgba, (0, 0), rgba)
            img = flat
        else:
            img = img.convert("RGB")
    buf = io.BytesIO()
    if fmt == "jpeg":
        img.save(buf, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True, subsampling="4:2:0")
    elif fmt == "png":
        img.save(buf, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        img.save(buf, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return buf.getvalue()
