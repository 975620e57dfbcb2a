"""Ingest-time analysis of an upload: perceptual hash, dominant colours and a small WebP thumbnail.

Why it looks like this:

* It runs for every upload, so :func:`analyze` decodes once, and JPEGs are decoded with ``draft()`` at the
  smallest DCT scale that still covers the 480 px thumbnail; the hash and the colours need far less than
  that, so they reuse the same small picture. Decoding is :func:`decoding.decode`, with all its validation,
  so undecodable data raises the usual :class:`ImageRejected`.
* The near-duplicate check uses a difference hash (dHash): it compares neighbouring brightness on a 9x8
  greyscale reduction, so it survives resizing, recompression and global brightness/colour shifts, is cheap,
  and a 64-bit hex string is easy to store and compare. Thin uniform borders (a frame or letterbox added on
  export) are trimmed before hashing because they would otherwise shift every cell of the grid; only a flat
  band that ends in a clear step within 1/8 of the side counts, so a sky or a backdrop is never trimmed.
* Dominant colours are k-means in CIELAB (perceptually uniform) on a bounded box-downscale of the image, so
  the cost does not depend on the upload's size; clusters closer than CIEDE2000 5 are merged because people
  see them as one colour. Fixed seeds make the result reproducible, which matters for caching and tests.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .color import delta_e_ciede2000, lab_to_srgb, rgb_to_hex, srgb_to_lab
from .decoding import UploadLimits, decode
from .likeness import signature

#: Largest dHash Hamming distance (of 64 bits) still treated as "the same picture".
#:
#: Measured with ``dhash()`` (8x8) on scikit-image's photos. Colour: astronaut, coffee, chelsea, rocket,
#: retina, immunohistochemistry, stereo_motorcycle (left) and hubble_deep_field; grey/texture: camera, moon,
#: coins, grass, brick, gravel, clock, page, text, cell, microaneurysms. Distance original -> altered copy,
#: max over the colour photos (max over the grey/texture ones in brackets):
#:
#: * resized to 60% + JPEG q70: 1 (6); resized to 25% + JPEG q50: 3 (10, microaneurysms, a faint texture)
#: * brightness +10%: 1 (1); brightness -10%: 0 (2); contrast +20%: 1 (1); warmer (R x1.06, B x0.94): 1 (1)
#: * 8 px white frame added: 3 (4); 4 px black frame: 2 (8)
#: * frame + brighter + warmer + 60% + q70 all at once: 5 (8)
#:
#: Different photos, all 171 pairs of the 19: min 13 (rocket vs retina: both a bright blob on dark), then
#: 20, 21, 22; mean 32.7. So 8 covers every alteration of a real colour photo with room to spare and stays
#: 5 bits below the closest pair of different pictures; going higher would gain little and raise the risk of
#: pairing up different posters built on one layout (not measured here).
#: Before border trimming, a white frame alone cost up to 16 bits; before taking the 9x8 averages in floating
#: point, -10% brightness cost up to 23 bits on low-contrast images.
#:
#: A hash match is only a candidate: ``likeness.same_picture`` must confirm it (flat, low-detail and text
#: pages hash to near-constant bits, so the hash alone paired a text page with a green square). With that
#: second check in place the gate is 10, not 8, so a 3% crop of a photo (coffee: 9 bits) is still caught.
NEAR_DUPLICATE_MAX_DISTANCE = 10

#: Thumbnail delivered to the library grid (fits in THUMBNAIL_MAX_SIDE squared, never upscaled).
THUMBNAIL_MAX_SIDE = 480
THUMBNAIL_WEBP_QUALITY = 80

#: Colours closer than this (CIEDE2000) are reported as one: below ~5 most people call two swatches the same.
MERGE_DELTA_E = 5.0

_HASH_WORK_SIDE = 256  # greyscale working size for border trimming; more detail than 9x8 ever uses
_BORDER_MAX_FRACTION = 1 / 8
_BORDER_STD = 4.0  # a border line is this flat (grey levels, std) ...
_BORDER_TOLERANCE = 8.0  # ... and within this many grey levels of the outermost line


@dataclass(frozen=True)
class DominantColor:
    """One colour of an image's palette; ``share`` is the fraction of the picture it covers (0..1).

    ``hex``, ``rgb`` and ``lab`` describe the same (8-bit sRGB) colour.
    """

    hex: str
    rgb: tuple[int, int, int]
    lab: tuple[float, float, float]
    share: float


@dataclass(frozen=True)
class Analysis:
    """Everything ingest stores about an upload's content; ``thumbnail`` is WebP bytes."""

    dhash: str
    colors: list[DominantColor]
    thumbnail: bytes
    thumb_width: int
    thumb_height: int
    #: ``likeness.signature`` of the thumbnail: what confirms a hash match (colour and structure).
    likeness: bytes = b""


# ----------------------------------------------------------------------------------------------------------
# Perceptual hash


def _shrink(img: Image.Image, max_side: int) -> Image.Image:
    """Cheap, aliasing-free reduction to fit ``max_side`` (integer ``reduce`` then BOX); never upscales."""
    scale = max_side / max(img.size)
    if scale >= 1:
        return img
    factor = int(1 / scale) // 2
    if factor > 1:
        img = img.reduce(factor)
        scale = max_side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.BOX)


def _border_width(lines_mean: np.ndarray, lines_std: np.ndarray, limit: int) -> int:
    """How many leading lines (from an edge) form a thin uniform border, or 0 if there is none.

    A border is a flat band that *ends in a step*: the next line is textured or clearly another brightness.
    A flat band that fades into the picture (a sky gradient) or reaches ``limit`` (a studio backdrop) is
    picture; trimming it would make the original and a framed copy hash different regions.
    """
    if limit <= 0 or lines_std[0] >= _BORDER_STD:
        return 0
    head = slice(0, limit + 1)
    ok = (lines_std[head] < _BORDER_STD) & (np.abs(lines_mean[head] - lines_mean[0]) < _BORDER_TOLERANCE)
    if ok.all():
        return 0
    run = int(np.argmin(ok))
    step = lines_std[run] >= 2 * _BORDER_STD or abs(lines_mean[run] - lines_mean[0]) >= 2 * _BORDER_TOLERANCE
    if not step:
        return 0
    # One more line: where the border did not fall on a pixel boundary of the reduction, the next line is a
    # blend of border and picture, enough to flip bits of a dark, low-contrast image.
    return min(run + 1, limit)


def _content_box(grey: np.ndarray, max_fraction: float = _BORDER_MAX_FRACTION) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of ``grey`` without thin uniform borders (each at most ``max_fraction``)."""
    h, w = grey.shape
    cap_y = int(h * max_fraction)
    cap_x = int(w * max_fraction)
    row_mean, row_std = grey.mean(axis=1), grey.std(axis=1)
    col_mean, col_std = grey.mean(axis=0), grey.std(axis=0)
    top = _border_width(row_mean, row_std, cap_y)
    bottom = _border_width(row_mean[::-1], row_std[::-1], cap_y)
    left = _border_width(col_mean, col_std, cap_x)
    right = _border_width(col_mean[::-1], col_std[::-1], cap_x)
    return left, top, w - right, h - bottom


def dhash(img: Image.Image, hash_size: int = 8) -> str:
    """Difference hash: ``hash_size**2`` bits as lowercase hex (16 characters for the default 8).

    Each bit says whether a cell of a ``(hash_size + 1) x hash_size`` area-averaged greyscale reduction is
    brighter than its right-hand neighbour; the bits are read row by row, most significant first. Compare two
    hashes with :func:`hamming` and :data:`NEAR_DUPLICATE_MAX_DISTANCE`.
    """
    if hash_size < 2:
        raise ValueError("hash_size must be at least 2.")
    # The final averages are taken in floating point ("F"): rounded to 8 bits, the cells of a flat or
    # low-contrast picture tie, and a 10% brightness change then flips a third of the bits.
    grey = _shrink(img.convert("L") if img.mode != "L" else img, _HASH_WORK_SIDE).convert("F")
    box = _content_box(np.asarray(grey))
    cells = np.asarray(grey.resize((hash_size + 1, hash_size), Image.Resampling.BOX, box=box))
    bits = (cells[:, :-1] > cells[:, 1:]).ravel()
    value = int("".join("1" if bit else "0" for bit in bits), 2)
    return f"{value:0{math.ceil(bits.size / 4)}x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hex hashes of the same length (e.g. two :func:`dhash` values)."""
    if len(a) != len(b):
        raise ValueError(f"Hashes differ in length ({len(a)} vs {len(b)}); were they made with one size?")
    return (int(a, 16) ^ int(b, 16)).bit_count()


# ----------------------------------------------------------------------------------------------------------
# Dominant colours


def _sample_pixels(img: Image.Image, sample: int) -> np.ndarray:
    """At most ``sample`` RGB pixels (N, 3 uint8): an area-averaged downscale to ~``sample`` pixels.

    Area averaging keeps every part of the picture represented in proportion (shares stay honest) and is
    deterministic, unlike random sampling; 4096 pixels is about 64x64.
    """
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    scale = math.sqrt(sample / (rgb.width * rgb.height))
    if scale < 1:
        target = (max(1, math.floor(rgb.width * scale)), max(1, math.floor(rgb.height * scale)))
        factor = min(rgb.width // target[0], rgb.height // target[1]) // 2
        if factor > 1:
            rgb = rgb.reduce(factor)
        rgb = rgb.resize(target, Image.Resampling.BOX)
    return np.asarray(rgb, dtype=np.uint8).reshape(-1, 3)


def _merge_close(centres: list[np.ndarray], counts: list[float]) -> tuple[list[np.ndarray], list[float]]:
    """Greedily merge the closest pair of clusters while it is below MERGE_DELTA_E (count-weighted mean)."""
    centres, counts = list(centres), list(counts)
    while len(centres) > 1:
        lab = np.array(centres)
        dist = np.asarray(delta_e_ciede2000(lab[:, None, :], lab[None, :, :]))
        np.fill_diagonal(dist, np.inf)
        i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
        if dist[i, j] >= MERGE_DELTA_E:
            break
        i, j = min(i, j), max(i, j)
        total = counts[i] + counts[j]
        centres[i] = (centres[i] * counts[i] + centres[j] * counts[j]) / total
        counts[i] = total
        del centres[j], counts[j]
    return centres, counts


def dominant_colors(img: Image.Image, k: int = 5, sample: int = 4096, seed: int = 0) -> list[DominantColor]:
    """The image's main colours, largest share first (shares sum to 1); at most ``k`` of them.

    k-means in CIELAB over an area-averaged ~``sample``-pixel reduction, then near-identical clusters
    (CIEDE2000 < 5) are merged. Deterministic for a given image, ``k``, ``sample`` and ``seed``. The cost is
    bounded by ``sample``, not the image size (about 5-12 ms). Pixels straddling a hard edge between two flat
    colours average into an in-between colour, which can surface as a small extra entry (~1% per edge).
    """
    if k < 1:
        raise ValueError("k must be at least 1.")
    if sample < 1:
        raise ValueError("sample must be at least 1.")
    pixels = _sample_pixels(img, sample)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    if len(colours) <= k:
        # Few distinct colours (flat artwork): exact answer, and KMeans would warn about empty clusters.
        centres = list(srgb_to_lab(colours))
        weights = [float(c) for c in counts]
    else:
        lab = srgb_to_lab(colours)  # cluster distinct colours weighted by frequency: same result, less work
        # Two seeded k-means++ starts. Measured on 7 skimage photos against n_init=10: palettes agree within
        # dE00 0.4 except on a near-black, ambiguous one (hubble_deep_field), for 7.4 ms vs 14.5 ms per image
        # (n_init=1: 6.2 ms, up to dE00 0.9 off).
        # Imported here: scikit-learn costs ~100 MB of RSS and ~1 s at import, and most users of
        # webapp.imaging (the auto-format pipeline, the CLI) never cluster. worker.py preloads it.
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters=k, n_init=2, random_state=seed, algorithm="lloyd")
        labels = model.fit_predict(lab, sample_weight=counts.astype(np.float64))
        weights_all = np.bincount(labels, weights=counts, minlength=k)
        centres = [model.cluster_centers_[i] for i in range(k) if weights_all[i] > 0]
        weights = [float(weights_all[i]) for i in range(k) if weights_all[i] > 0]
    centres, weights = _merge_close(centres, weights)

    total = float(sum(weights))
    result = []
    for centre, weight in zip(centres, weights, strict=True):
        rgb8 = lab_to_srgb(centre)
        rgb = (int(rgb8[0]), int(rgb8[1]), int(rgb8[2]))
        l_, a_, b_ = (round(float(v), 2) for v in srgb_to_lab(rgb8))
        result.append(DominantColor(rgb_to_hex(rgb), rgb, (l_, a_, b_), weight / total))
    result.sort(key=lambda c: (-c.share, c.hex))
    return result


# ----------------------------------------------------------------------------------------------------------
# Thumbnail


def _thumbnail_image(img: Image.Image, max_side: int) -> Image.Image:
    thumb = img.convert("RGB") if img.mode != "RGB" else img.copy()
    # reducing_gap=3: a fast integer reduce first, then Lanczos over >= 3x the output, visually identical to a
    # full Lanczos resample at a fraction of the cost on large images.
    thumb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return thumb


def _webp(img: Image.Image) -> bytes:
    """Encode with libwebp's default effort (method 4), as ``encoding`` does.

    At 480x360, method 2 would save ~8 ms per upload but gives ~4% larger files; a thumbnail is encoded once
    and downloaded on every view of the library grid, so the bytes matter more.
    """
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=THUMBNAIL_WEBP_QUALITY, method=4)
    return buf.getvalue()


def thumbnail(img: Image.Image, max_side: int = THUMBNAIL_MAX_SIDE) -> bytes:
    """WebP (quality 80, RGB) of ``img`` fitted inside ``max_side`` x ``max_side``; never upscaled."""
    if max_side < 1:
        raise ValueError("max_side must be at least 1.")
    return _webp(_thumbnail_image(img, max_side))


# ----------------------------------------------------------------------------------------------------------
# All at once


def analyze(data: bytes, *, limits: UploadLimits | None = None) -> Analysis:
    """Decode an upload once (small) and compute its hash, likeness signature, dominant colours and thumbnail.

    Raises :class:`ImageRejected` for data that is not an acceptable image (see ``decoding``); ``limits``
    defaults to the decoder's generous pixel ceiling, as uploads are normally validated before this runs.
    """
    img = decode(data, (THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), limits=limits)
    thumb = _thumbnail_image(img, THUMBNAIL_MAX_SIDE)
    return Analysis(
        dhash=dhash(img),
        colors=dominant_colors(thumb),
        thumbnail=_webp(thumb),
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        likeness=signature(thumb),
    )


def near_duplicate_keys(data: bytes, *, limits: UploadLimits | None = None) -> tuple[str, bytes]:
    """Just the (dhash, likeness signature) :func:`analyze` would give, without colours or WebP encoding."""
    img = decode(data, (THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), limits=limits)
    return dhash(img), signature(_thumbnail_image(img, THUMBNAIL_MAX_SIDE))
