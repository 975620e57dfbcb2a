"""Brand palettes: the main colours of an image (extraction); roles and contrast live in ``palette_roles``.

Why extraction works this way:

* **Decode small.** JPEGs are decoded with ``draft()`` at the smallest DCT scale that still gives a >=256 px
  picture (on a 12 MP photo that is 1/8 scale, where libjpeg only reads the DC coefficients: most of the cost
  of a full decode is skipped, and each decoded pixel is already an 8x8 average, so sensor noise is smoothed).
* **Sample.** A fixed-seed stratified sample of about :data:`SAMPLE_PIXELS` pixels (one random pixel per grid
  cell, gathered with numpy fancy indexing) bounds the cost whatever the upload's size, keeps shares within
  a fraction of a point, and makes the result the same for the same bytes.
* **Edges are not colours.** Along every edge between two flat colours there are pixels that are a blend of
  both: anti-aliasing, JPEG ringing, and the 8x8 averages of a reduced decode that straddle a boundary. Left
  in, they pull centres off the true colours and can win a cluster of their own (a muddy "#746565" between
  a navy and a beige, which then became the text colour). So each sampled pixel gets a *flatness weight*
  from the range of its 3x3 neighbourhood (:func:`flatness`): ~1 inside flat regions, ~0 on edges, scaled
  to the picture's own texture so photographs still count their detailed areas. Colours are *located* by
  a weighted k-means in CIELAB (``webapp.imaging.kmeans``: k-means++ seeding, best of several fixed-seed
  starts) and their final values are the weighted mean of their flat members in gamma-encoded RGB (where
  JPEG noise is additive, so the mean is unbiased).
* **Shares count every pixel.** Flat pixels count for their nearest colour; edge pixels are *unmixed*:
  split between the two colours whose blend explains them, in proportion (:func:`kmeans.unmix`). So a
  small region with a long outline keeps its full share, and no area is lost to a phantom blend colour.
* Clusters closer than CIEDE2000 :data:`MERGE_DELTA_E` are merged: people call such swatches "the same
  colour". Clusters with under :data:`MIN_SHARE` of the flat-weighted mass (specks, and whatever blend
  survived the weighting) are counted with their nearest colour. So a picture with fewer distinct colours
  than asked for honestly gets fewer colours.
* **Background removal** (optional) drops near-white / near-black regions connected to the image border: the
  paper around a logo, a studio backdrop, or transparency (the decoder flattens transparent pixels to white or
  near-black). Only border-connected regions go, so white lettering inside artwork still counts.

No scikit-learn here: the numpy k-means is faster on 10k points and saves a ~1 s import in fresh
processes. Roles, the contrast report and colour-vision previews are re-exported from ``palette_roles`` so
``webapp.imaging.palette`` stays the one import for callers.

Pure: bytes / numbers in, dataclasses and dicts out. No Flask, no database.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .color import delta_e_ciede2000, lab_to_srgb, rgb_to_hex, srgb_to_lab
from .decoding import UploadLimits, decode
from .kmeans import lloyd, unmix, weighted_kmeans
from .palette_color import PaletteColor
from .palette_limits import DEFAULT_COLORS, MAX_COLORS, MIN_COLORS
from .palette_roles import (  # noqa: F401  re-exported: callers import roles from here
    CVD_MATRICES,
    L_STEP,
    MERGE_DELTA_E,
    REQUIRED,
    ROLES,
    SATURATED_CHROMA,
    VERDICTS,
    Adjustment,
    Theme,
    assign_roles,
    build_theme,
    contrast_report,
    min_lightness_shift,
    on_color,
    shift_lightness,
    simulate_cvd,
    simulate_roles,
    verdict_text,
)

# ----------------------------------------------------------------------------------------------------------
# Tunables (each one was chosen for a reason given beside it)

#: Pixels clustered. 10k gives shares to within ~0.5 percentage point (binomial sd at 50% share) and keeps
#: k-means at a few milliseconds.
SAMPLE_PIXELS = 10_000
#: Smallest long side decoded. At 1/8 DCT scale a 12 MP photo decodes to 500x375, which is this or more.
WORK_SIDE = 256
#: Long side of the picture the background mask is computed on (connectivity needs little resolution).
MASK_SIDE = 512
#: Clusters with less of the flat-weighted mass than this are specks or edge blends, not dominant colours:
#: their pixels are counted with the nearest remaining colour (which keeps its exact value).
MIN_SHARE = 0.01
#: Flatness scale (8-bit units of 3x3 range, worst channel). JPEG noise inside a flat region stays well
#: under it; a blend pixel between two palette colours is far over it. A textured picture uses its own
#: median range instead when that is larger, so a photograph's detailed areas still count.
FLAT_RANGE = 12.0
#: Pixels whose range exceeds this many flatness scales are edge pixels: unmixed for the shares.
EDGE_FACTOR = 2.0
#: k-means++ starts; the best (lowest weighted inertia) wins. Each costs about a millisecond.
N_INIT = 4
#: Background detection: border-connected pixels this close to white or black (8-bit channels).
BG_WHITE_MIN, BG_BLACK_MAX, BG_MAX_SPREAD = 232, 28, 24


# ----------------------------------------------------------------------------------------------------------
# Extraction


def _working_image(data: bytes, limits: UploadLimits | None) -> Image.Image:
    """Decode (validated, upright, sRGB, opaque) at the smallest JPEG scale whose picture still covers
    WORK_SIDE; other formats decode at full size (they have no cheap reduced decode)."""
    return decode(data, (WORK_SIDE, WORK_SIDE), limits=limits)


def stratified_sample(height: int, width: int, sample: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of about ``sample`` pixels: one random pixel in each cell of a grid.

    Jittered-grid (stratified) sampling covers every region of the picture in proportion, so shares carry
    almost no sampling noise for coherent areas (pure random sampling of 10k pixels has a standard deviation
    of ~0.4 point at a 25% share), and the random offsets avoid aliasing with regular patterns.
    """
    cell = max(1.0, math.sqrt(height * width / sample))
    rows, cols = max(1, int(height / cell)), max(1, int(width / cell))
    y_edges = np.linspace(0, height, rows + 1)
    x_edges = np.linspace(0, width, cols + 1)
    rng = np.random.default_rng(seed)
    jitter = rng.random((2, rows, cols))
    ys = (y_edges[:-1, None] + jitter[0] * np.diff(y_edges)[:, None]).astype(np.intp)
    xs = (x_edges[None, :-1] + jitter[1] * np.diff(x_edges)[None, :]).astype(np.intp)
    return np.minimum(ys, height - 1).ravel(), np.minimum(xs, width - 1).ravel()


def background_mask(rgb: np.ndarray) -> np.ndarray:
    """Boolean (H, W) mask of near-white / near-black regions that touch the picture's border.

    Neutral means the channels are within BG_MAX_SPREAD of each other, so a pale yellow or a deep navy is
    never mistaken for paper or backdrop.
    """
    from scipy import ndimage  # scikit-learn's dependency; imported late like sklearn (import cost)

    hi = rgb.max(axis=2).astype(np.int16)
    lo = rgb.min(axis=2).astype(np.int16)
    neutral = (hi - lo) <= BG_MAX_SPREAD
    mask = np.zeros(rgb.shape[:2], dtype=bool)
    for candidate in (neutral & (lo >= BG_WHITE_MIN), neutral & (hi <= BG_BLACK_MAX)):
        labels, count = ndimage.label(candidate)
        if not count:
            continue
        edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        touching = np.unique(edge[edge > 0])
        if touching.size:
            mask |= np.isin(labels, touching)
    return mask


def _merge_close(centres: list[np.ndarray], weights: list[float]) -> tuple[list[np.ndarray], list[float]]:
    """Merge the closest pair (weighted mean in Lab) while it is closer than MERGE_DELTA_E."""
    while len(centres) > 1:
        lab = np.array(centres)
        dist = np.asarray(delta_e_ciede2000(lab[:, None, :], lab[None, :, :]))
        np.fill_diagonal(dist, np.inf)
        i, j = sorted(np.unravel_index(int(np.argmin(dist)), dist.shape))
        if dist[i, j] >= MERGE_DELTA_E:
            break
        total = weights[i] + weights[j]
        centres[i] = (centres[i] * weights[i] + centres[j] * weights[j]) / total
        weights[i] = total
        del centres[j], weights[j]
    return centres, weights


def _fold_specks(centres: list[np.ndarray], weights: list[float]) -> tuple[list[np.ndarray], list[float]]:
    """Give each cluster under MIN_SHARE (smallest first) to its nearest neighbour by CIEDE2000."""
    while len(centres) > 1:
        total = sum(weights)
        smallest = min(range(len(weights)), key=weights.__getitem__)
        if weights[smallest] / total >= MIN_SHARE:
            break
        others = [i for i in range(len(centres)) if i != smallest]
        dist = np.asarray(delta_e_ciede2000(np.array([centres[i] for i in others]), centres[smallest]))
        weights[others[int(np.argmin(dist))]] += weights[smallest]
        del centres[smallest], weights[smallest]
    return centres, weights


def flatness(rgb: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Range (max - min) of the 3x3 neighbourhood of each sampled pixel, worst channel, 8-bit units.

    Computed only at the sampled positions (nine gathers), never over the whole picture, so it costs the
    same on a 12 MP PNG as on a thumbnail.
    """
    height, width = rgb.shape[:2]
    lo = np.full((len(ys), 3), 255, dtype=np.int16)
    hi = np.zeros((len(ys), 3), dtype=np.int16)
    for dy in (-1, 0, 1):
        yy = np.clip(ys + dy, 0, height - 1)
        for dx in (-1, 0, 1):
            px = rgb[yy, np.clip(xs + dx, 0, width - 1)].astype(np.int16)
            np.minimum(lo, px, out=lo)
            np.maximum(hi, px, out=hi)
    return (hi - lo).max(axis=1).astype(np.float64)


def _centres_rgb(pixels: np.ndarray, labels: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Each cluster's weighted mean in gamma-encoded RGB (float, (k, 3))."""
    mass = np.maximum(np.bincount(labels, weights=weights, minlength=k), 1e-12)
    return (
        np.stack([np.bincount(labels, weights=weights * pixels[:, c], minlength=k) for c in range(3)], axis=1)
        / mass[:, None]
    )


def cluster_pixels(
    pixels: np.ndarray, n_colors: int, seed: int = 0, ranges: np.ndarray | None = None
) -> list[PaletteColor]:
    """(N, 3) uint8 pixels -> at most ``n_colors`` colours, largest share first.

    ``ranges`` (from :func:`flatness`) marks edge pixels; without it every pixel counts as flat.
    """
    if len(pixels) == 0:
        raise ValueError("No pixels to take colours from.")
    if ranges is None:
        ranges = np.zeros(len(pixels))
    # One int per colour: np.unique on 1-D keys is ~10x faster than on (N, 3) rows.
    keys = (pixels[:, 0].astype(np.int32) << 16) | (pixels[:, 1].astype(np.int32) << 8) | pixels[:, 2]
    distinct_keys, counts = np.unique(keys, return_counts=True)
    if len(distinct_keys) <= n_colors:  # flat artwork: the exact colours
        distinct = np.stack([distinct_keys >> 16, (distinct_keys >> 8) & 255, distinct_keys & 255], 1)
        centres = list(srgb_to_lab(distinct.astype(np.uint8)))
        weights = [float(c) for c in counts]
        return _as_colours(*_fold_specks(*_merge_close(centres, weights)))

    scale = max(FLAT_RANGE, float(np.median(ranges)))
    flat_weight = 1.0 / (1.0 + (ranges / scale) ** 4)
    lab = srgb_to_lab(pixels)
    centres, labels = weighted_kmeans(lab, flat_weight, n_colors, seed=seed, n_init=N_INIT)
    mass = np.bincount(labels, weights=flat_weight, minlength=len(centres))
    kept, _ = _fold_specks(*_merge_close(list(centres), [float(m) for m in mass]))
    # Settle the surviving centres on the pixels (a merge or fold leaves them between their members).
    centres, labels, _ = lloyd(lab, flat_weight, np.array(kept), max_iter=20)
    k = len(centres)
    rgb = pixels.astype(np.float64)
    # Colour values: the mean of the flat members only (weight ~1), unless a cluster has too few of them.
    core = flat_weight**4
    values = _centres_rgb(rgb, labels, core, k)
    thin = np.bincount(labels, weights=core, minlength=k) < 5.0
    if thin.any():
        values[thin] = _centres_rgb(rgb, labels, flat_weight, k)[thin]
    # Shares: flat pixels by nearest colour, edge pixels split between the two colours they blend.
    edge = ranges > EDGE_FACTOR * scale
    share = np.bincount(labels[~edge], minlength=k).astype(np.float64)
    if edge.any():
        i, j, alpha = unmix(rgb[edge], values)
        share += np.bincount(i, weights=alpha, minlength=k) + np.bincount(j, weights=1.0 - alpha, minlength=k)
    values_lab = srgb_to_lab(np.clip(values, 0.0, 255.0))
    return _as_colours(list(values_lab), [float(s) for s in share])


def _as_colours(centres: list[np.ndarray], weights: list[float]) -> list[PaletteColor]:
    total = float(sum(weights))
    colours = [
        PaletteColor.from_hex(rgb_to_hex(lab_to_srgb(centre)), weight / total)
        for centre, weight in zip(centres, weights, strict=True)
    ]
    colours.sort(key=lambda c: (-c.share, c.hex))
    return colours


def extract_palette(
    data: bytes,
    n_colors: int = DEFAULT_COLORS,
    *,
    ignore_background: bool = False,
    seed: int = 0,
    sample: int = SAMPLE_PIXELS,
    limits: UploadLimits | None = None,
) -> list[PaletteColor]:
    """The dominant colours of an encoded image (JPEG/PNG/WebP bytes), most prominent first.

    Deterministic for the same bytes and arguments. Raises :class:`ImageRejected` for data that is not an
    acceptable image. With ``ignore_background`` the border-connected plain white/black (or transparent)
    surround is left out; if that would leave nothing, the whole picture is used.
    """
    if not MIN_COLORS <= n_colors <= MAX_COLORS:
        raise ValueError(f"Choose between {MIN_COLORS} and {MAX_COLORS} colours.")
    return palette_of_image(_working_image(data, limits), n_colors, ignore_background, seed, sample)


def palette_of_image(
    img: Image.Image,
    n_colors: int = DEFAULT_COLORS,
    ignore_background: bool = False,
    seed: int = 0,
    sample: int = SAMPLE_PIXELS,
) -> list[PaletteColor]:
    """As :func:`extract_palette`, for an already decoded picture (any size: it is sampled, never resized,
    so no in-between colours are invented along hard edges)."""
    rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"), dtype=np.uint8)
    height, width = rgb.shape[:2]
    ys, xs = stratified_sample(height, width, sample, seed)
    if ignore_background:
        # The mask is computed on a nearest-neighbour copy of at most MASK_SIDE: connectivity does not need
        # more, and labelling a 16 MP PNG would cost more than the rest of the extraction.
        scale = min(1.0, MASK_SIDE / max(height, width))
        small = (
            img
            if scale >= 1
            else img.resize(
                (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.NEAREST
            )
        )
        small_rgb = np.asarray(small if small.mode == "RGB" else small.convert("RGB"), dtype=np.uint8)
        mask = background_mask(small_rgb)
        mh, mw = mask.shape
        keep = ~mask[ys * mh // height, xs * mw // width]
        if keep.any():
            ys, xs = ys[keep], xs[keep]
    return cluster_pixels(rgb[ys, xs], n_colors, seed, flatness(rgb, ys, xs))
