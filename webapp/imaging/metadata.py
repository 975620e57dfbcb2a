"""Removing private metadata from image files without touching their pixels.

Photos carry more than pictures: GPS position, camera and lens serial numbers, the owner's and
artist's names, maker notes, XMP/IPTC blocks, PNG text chunks — and a second, full-size picture
with its own EXIF after a phone JPEG's end. Marquee re-serves originals (downloads, ZIPs, the API),
so they are stored without any of it.

Why a segment filter rather than a re-encode: re-encoding a JPEG loses quality every time, and a
producer's original is the one file that must stay as good as it came. The filter copies the
compressed image data byte for byte and keeps only what rendering needs:

- JPEG: SOI, the JFIF APP0, the ICC profile (APP2 ``ICC_PROFILE``), Adobe APP14 (it decides how
  the colours decode) and every non-APP marker (tables, frame, scans); drops every other APPn
  (EXIF, XMP, IPTC/Photoshop, MPF, maker blocks…), comments and anything after EOI.
- PNG: critical chunks and the ancillary ones that affect rendering or animation (transparency,
  colour, gamma, ICC, physical size, APNG); drops text (tEXt/zTXt/iTXt), eXIf, tIME and unknown
  ancillary chunks, and anything after IEND.
- WebP: image, alpha, animation and ICCP chunks; drops EXIF, XMP and unknown chunks (the VP8X
  flags follow).

The EXIF orientation is the one EXIF field rendering needs: when it is not "normal" a minimal EXIF
block holding only it takes the old block's place. The Pillow-free parsing is deliberate: it never
decodes pixels (fast, no memory spike), and the caller has Pillow parse the result once more.

Bytes in, bytes out; no Flask. A file whose structure cannot be walked raises MetadataError.
"""

from __future__ import annotations

import struct
import zlib

ORIENTATION_TAG = 0x0112


class MetadataError(ValueError):
    """The file's structure could not be walked safely (truncated or malformed segments)."""


def strip_private(data: bytes, fmt: str) -> bytes:
    """`data` without private metadata; the same object when there was nothing to remove, so an
    upload without metadata keeps its exact bytes (and hash). `fmt`: jpeg, png or webp."""
    if fmt == "jpeg":
        return _strip_jpeg(data)
    if fmt == "png":
        return _strip_png(data)
    if fmt == "webp":
        return _strip_webp(data)
    raise MetadataError(f"no metadata filter for {fmt!r}")


# ------------------------------------------------------------------------------------------------
# EXIF orientation: read it from a TIFF block, write a block holding only it


def exif_orientation(tiff: bytes) -> int:
    """The orientation (1 to 8) in IFD0 of a TIFF/EXIF block, 1 when absent or unreadable."""
    if tiff.startswith(b"Exif\x00\x00"):
        tiff = tiff[6:]
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return 1
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd + 2 > len(tiff):
        return 1
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for i in range(count):
        at = ifd + 2 + 12 * i
        if at + 12 > len(tiff):
            return 1
        tag, typ, n = struct.unpack_from(order + "HHI", tiff, at)
        if tag == ORIENTATION_TAG and typ == 3 and n >= 1:
            (value,) = struct.unpack_from(order + "H", tiff, at + 8)
            return value if 1 <= value <= 8 else 1
    return 1


def orientation_tiff(orientation: int) -> bytes:
    """A big-endian TIFF block whose IFD0 holds the orientation tag and nothing else."""
    entry = struct.pack(">HHIHH", ORIENTATION_TAG, 3, 1, orientation, 0)
    return b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + entry + struct.pack(">I", 0)


# ------------------------------------------------------------------------------------------------
# JPEG


def _keep_jpeg_app(marker: int, payload: bytes) -> bool:
    if marker == 0xE0:
        return payload.startswith(b"JFIF\x00")
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return payload.startswith(b"Adobe")
    return False


def _strip_jpeg(data: bytes) -> bytes:
    n = len(data)
    if data[:2] != b"\xff\xd8":
        raise MetadataError("not a JPEG (no start-of-image marker)")
    out: list[bytes] = [b"\xff\xd8"]
    changed = False
    orientation_written = False
    pos = 2
    while True:
        if pos >= n or data[pos] != 0xFF:
            raise MetadataError("JPEG segment expected")
        while pos < n and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= n:
            raise MetadataError("JPEG ends inside a marker")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI: anything after it (a second picture, trailers) goes
            out.append(b"\xff\xd9")
            changed = changed or pos != n
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(bytes((0xFF, marker)))
            continue
        if pos + 2 > n:
            raise MetadataError("JPEG ends inside a segment header")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > n:
            raise MetadataError("JPEG segment runs past the end of the file")
        segment = bytes((0xFF, marker)) + data[pos : pos + length]
        payload = data[pos + 2 : pos + length]
        pos += length
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            if _keep_jpeg_app(marker, payload):
                out.append(segment)
                continue
            changed = True
            if marker == 0xE1 and payload.startswith(b"Exif\x00\x00") and not orientation_written:
                orientation_written = True
                value = exif_orientation(payload)
                if value != 1:
                    block = b"Exif\x00\x00" + orientation_tiff(value)
                    out.append(b"\xff\xe1" + (len(block) + 2).to_bytes(2, "big") + block)
            continue
        out.append(segment)
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            i = pos
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    raise MetadataError("JPEG scan data is truncated")
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    i = j + 1 if following == 0xFF else j + 2
                    continue
                break
            out.append(data[pos:j])
            pos = j
    return b"".join(out) if changed else data


# ------------------------------------------------------------------------------------------------
# PNG

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Ancillary chunks that change how the image looks (or animates). Everything else ancillary goes.
PNG_KEEP = {
    b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCv", b"cLLi",
    b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _strip_png(data: bytes) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise MetadataError("not a PNG (bad signature)")
    n = len(data)
    out: list[bytes] = [PNG_SIGNATURE]
    changed = False
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > n:
            raise MetadataError("PNG ends before its IEND chunk")
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > n:
            raise MetadataError("PNG chunk runs past the end of the file")
        chunk = data[pos:end]
        body = data[pos + 8 : pos + 8 + length]
        pos = end
        critical = kind[:1].isupper()
        if critical or kind in PNG_KEEP:
            out.append(chunk)
            if kind == b"IEND":
                changed = changed or pos != n
                break
            continue
        changed = True
        if kind == b"eXIf":
            value = exif_orientation(body)
            if value != 1:
                out.append(_png_chunk(b"eXIf", orientation_tiff(value)))
    return b"".join(out) if changed else data


# ------------------------------------------------------------------------------------------------
# WebP

WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}
VP8X_EXIF, VP8X_XMP = 0x08, 0x04


def _strip_webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MetadataError("not a WebP (bad RIFF header)")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end_of_riff = 8 + riff_size
    if end_of_riff > len(data) or riff_size < 4:
        raise MetadataError("WebP RIFF size runs past the end of the file")
    chunks: list[tuple[bytes, bytes]] = []
    changed = end_of_riff != len(data)
    orientation = 1
    pos = 12
    while pos < end_of_riff:
        if pos + 8 > end_of_riff:
            raise MetadataError("WebP chunk header truncated")
        kind = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body_end = pos + 8 + size
        if body_end > end_of_riff:
            raise MetadataError("WebP chunk runs past the end of the file")
        body = data[pos + 8 : body_end]
        pos = body_end + (size & 1)
        if kind in WEBP_KEEP:
            chunks.append((kind, body))
            continue
        changed = True
        if kind == b"EXIF" and orientation == 1:
            orientation = exif_orientation(body)
    if not changed:
        return data
    has_vp8x = bool(chunks) and chunks[0][0] == b"VP8X" and len(chunks[0][1]) >= 1
    if has_vp8x:
        flags = chunks[0][1][0] & ~(VP8X_EXIF | VP8X_XMP)
        if orientation != 1:
            flags |= VP8X_EXIF
            chunks.append((b"EXIF", orientation_tiff(orientation)))
        chunks[0] = (b"VP8X", bytes((flags,)) + chunks[0][1][1:])
    body = b"".join(
        kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")
        for kind, payload in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
