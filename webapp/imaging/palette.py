"""Brand palettes: the main colours of an image, and a theme (roles) built from them with legible contrast.

Why it works this way:

* **Extraction** decodes JPEGs with ``draft()`` at the smallest DCT scale that still gives a >=256 px picture
  (on a 12 MP photo that is 1/8 scale, where libjpeg only reads the DC coefficients: most of the cost of a
  full decode is skipped, and each decoded pixel is already an 8x8 average, so sensor noise is smoothed).
  A fixed-seed stratified sample of about :data:`SAMPLE_PIXELS` pixels (one random pixel per grid cell) is
  clustered with k-means in CIELAB, so the cost is bounded whatever the upload's size and the result is the
  same for the same bytes. Stratifying keeps shares within a fraction of a point; the random offset in each
  cell keeps it from aliasing with regular patterns such as halftone dots or stripes.
* Clusters closer than CIEDE2000 :data:`MERGE_DELTA_E` are merged: people call such swatches "the same
  colour", and a palette of two near-identical blues is useless. Clusters under :data:`MIN_SHARE` (specks,
  and the blend along hard edges) are counted with their nearest colour. So a picture with fewer distinct
  colours than asked for honestly gets fewer colours.
* **Background removal** (optional) drops near-white / near-black regions connected to the image border: the
  paper around a logo, a studio backdrop, or transparency (the decoder flattens transparent pixels to white or
  near-black). Only border-connected regions go, so white lettering inside artwork still counts.
* **Roles** (primary, secondary, accent, background, text) are picked from the extracted colours with rules
  a designer would use, and the two pairs people read are *guaranteed*: text on background >= 4.5:1 (WCAG AA
  body text) and accent on background >= 3:1 (WCAG non-text contrast). Primary is never altered: it is the
  brand colour. When no extracted colour meets a rule, the closest one is moved in lightness only (hue and
  chroma kept in CIELCh where the sRGB gamut allows, chroma reduced where it does not) by the smallest
  lightness step that passes, found by binary search on a 0.01 L* grid, and the change is reported.
* **Colour-vision previews** use Machado, Oliveira & Fernandes (2009) matrices at severity 1.0, applied to
  linear RGB as the paper prescribes.

Pure: bytes / numbers in, dataclasses and dicts out. No Flask, no database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from .color import (
    _compand,
    _linearize,
    contrast_ratio,
    delta_e_ciede2000,
    hex_to_rgb,
    lab_to_srgb,
    rgb_to_hex,
    rgb_to_hsl,
    srgb_to_lab,
)
from .decoding import UploadLimits, decode

# ----------------------------------------------------------------------------------------------------------
# Tunables (each one was chosen for a reason given beside it)

#: Number of colours a producer may ask for; 6 is the default (enough for a theme plus two spares).
MIN_COLORS, MAX_COLORS, DEFAULT_COLORS = 5, 8, 6
#: Pixels clustered. 10k gives shares to within ~0.5 percentage point (binomial sd at 50% share) and keeps
#: k-means at a few milliseconds.
SAMPLE_PIXELS = 10_000
#: Smallest long side decoded. At 1/8 DCT scale a 12 MP photo decodes to 500x375, which is this or more.
WORK_SIDE = 256
#: Long side of the picture the background mask is computed on (connectivity needs little resolution).
MASK_SIDE = 512
#: Below this CIEDE2000 two clusters are reported as one colour.
MERGE_DELTA_E = 6.0
#: Clusters smaller than this share are specks or the blend along hard edges, not dominant colours: their
#: pixels are counted with the nearest remaining colour (which keeps its exact value).
MIN_SHARE = 0.01
#: A colour needs at least this chroma (C*ab) to be a brand colour (primary/accent) rather than a neutral.
SATURATED_CHROMA = 20.0
#: Palette colours at least this light (L*) / at most this dark can serve as a page background as they are.
LIGHT_BACKGROUND_L, DARK_BACKGROUND_L = 90.0, 15.0
#: Background made from the primary when the palette has no very light or very dark colour.
TINT_L, TINT_MAX_CHROMA, SHADE_L, SHADE_MAX_CHROMA = 96.0, 8.0, 12.0, 12.0
#: Background detection: border-connected pixels this close to white or black (8-bit channels).
BG_WHITE_MIN, BG_BLACK_MAX, BG_MAX_SPREAD = 232, 28, 24

ROLES = ("primary", "secondary", "accent", "background", "text")
#: The pairs a theme must pass, and the minimum ratio: (foreground, background, ratio).
REQUIRED = (("text", "background", 4.5), ("accent", "background", 3.0))
#: WCAG 2.x thresholds reported for every pair.
VERDICTS = {"aa": 4.5, "aaa": 7.0, "aa_large": 3.0, "aaa_large": 4.5, "ui": 3.0}
#: Search resolution for lightness adjustments (L* units).
L_STEP = 0.01

# Machado, Oliveira & Fernandes 2009, "A Physiologically-based Model for Simulation of Color Vision
# Deficiency", severity 1.0 (dichromacy). They act on linear RGB.
CVD_MATRICES: dict[str, np.ndarray] = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}


# ----------------------------------------------------------------------------------------------------------
# Extraction


@dataclass(frozen=True)
class PaletteColor:
    """One extracted colour. ``share`` is the fraction (0..1) of the (non-background) picture it covers."""

    hex: str
    rgb: tuple[int, int, int]
    hsl: tuple[float, float, float]
    lab: tuple[float, float, float]
    share: float

    @classmethod
    def from_hex(cls, hex_value: str, share: float = 0.0) -> PaletteColor:
        rgb = hex_to_rgb(hex_value)
        lab = srgb_to_lab(np.array(rgb, dtype=np.uint8))
        h, s, light = rgb_to_hsl(rgb)
        return cls(
            rgb_to_hex(rgb),
            rgb,
            (round(h, 1), round(s, 1), round(light, 1)),
            (round(float(lab[0]), 2), round(float(lab[1]), 2), round(float(lab[2]), 2)),
            share,
        )

    @property
    def chroma(self) -> float:
        return math.hypot(self.lab[1], self.lab[2])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (lists, share rounded to 4 places) for the Palette row and the CLI."""
        d = asdict(self)
        d.update(rgb=list(self.rgb), hsl=list(self.hsl), lab=list(self.lab), share=round(self.share, 4))
        return d


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


def cluster_pixels(pixels: np.ndarray, n_colors: int, seed: int = 0) -> list[PaletteColor]:
    """k-means in CIELAB over (N, 3) uint8 pixels -> at most ``n_colors`` colours, largest share first."""
    if len(pixels) == 0:
        raise ValueError("No pixels to take colours from.")
    distinct, counts = np.unique(pixels, axis=0, return_counts=True)
    lab = srgb_to_lab(distinct)
    if len(distinct) <= n_colors:  # flat artwork: the exact colours; k-means would warn about empty clusters
        centres = list(lab)
        weights = [float(c) for c in counts]
    else:
        from sklearn.cluster import KMeans  # ~1 s import; the worker preloads it

        # One k-means++ start with a fixed seed: on 10k points in Lab a second start changed no hex in our
        # sample photos and costs as much again.
        model = KMeans(n_clusters=n_colors, n_init=1, random_state=seed, algorithm="lloyd", max_iter=100)
        labels = model.fit_predict(lab, sample_weight=counts.astype(np.float64))
        totals = np.bincount(labels, weights=counts, minlength=n_colors)
        # Recompute each centre as the weighted mean of its members (sklearn's centres are from the
        # iteration before the final assignment, a hair off when it stopped on tolerance).
        sums = np.zeros((n_colors, 3))
        np.add.at(sums, labels, lab * counts[:, None])
        keep = totals > 0
        centres = list(sums[keep] / totals[keep, None])
        weights = [float(w) for w in totals[keep]]
    centres, weights = _merge_close(centres, weights)
    centres, weights = _fold_specks(centres, weights)
    total = float(sum(weights))
    colours = []
    for centre, weight in zip(centres, weights, strict=True):
        rgb8 = lab_to_srgb(centre)
        colours.append(PaletteColor.from_hex(rgb_to_hex(rgb8), weight / total))
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
    pixels = rgb[ys, xs]
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
            pixels = pixels[keep]
    return cluster_pixels(pixels, n_colors, seed)


# ----------------------------------------------------------------------------------------------------------
# Lightness adjustment in CIELCh


def _lab_of(hex_value: str) -> np.ndarray:
    return srgb_to_lab(np.array(hex_to_rgb(hex_value), dtype=np.uint8))


def _in_gamut_hex(lightness: float, chroma: float, hue: float) -> str:
    """The colour at (L, C, h) as hex; where it is outside sRGB, the largest in-gamut chroma at that L and h.

    Chroma is searched on 64 steps at once (one vectorised conversion); an 8-bit round trip within 1.5 dE76
    counts as in gamut (8-bit rounding alone is below ~0.7).
    """
    lightness = min(max(lightness, 0.0), 100.0)
    fractions = np.linspace(1.0, 0.0, 65)
    c = chroma * fractions
    lab = np.stack([np.full_like(c, lightness), c * math.cos(hue), c * math.sin(hue)], axis=1)
    rgb = lab_to_srgb(lab)
    back = srgb_to_lab(rgb)
    ok = np.linalg.norm(back - lab, axis=1) < 1.5
    index = int(np.argmax(ok)) if ok.any() else len(fractions) - 1
    return rgb_to_hex(rgb[index])


def shift_lightness(hex_value: str, delta_l: float) -> str:
    """``hex_value`` with its CIELAB lightness moved by ``delta_l``, hue and chroma kept where possible."""
    lab = _lab_of(hex_value)
    if delta_l == 0:
        return rgb_to_hex(hex_to_rgb(hex_value))
    chroma = math.hypot(lab[1], lab[2])
    hue = math.atan2(lab[2], lab[1])
    return _in_gamut_hex(float(lab[0]) + delta_l, chroma, hue)


@dataclass(frozen=True)
class Adjustment:
    """A role colour that had to move to pass its contrast rule: from -> to, and by how much L*."""

    original: str
    adjusted: str
    delta_l: float

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.original, "to": self.adjusted, "delta_l": round(self.delta_l, 2)}


def min_lightness_shift(hex_value: str, against: str, ratio: float) -> Adjustment | None:
    """Smallest L* change (on the :data:`L_STEP` grid) that gives ``ratio`` against ``against``.

    Both directions are tried (darker and lighter); the smaller passing change wins. ``None`` only when
    neither black nor white reaches the ratio (never for ratios up to 4.58, the best a mid grey allows).
    Binary search keeps "step k passes, step k-1 fails", so no smaller change on the grid passes next to
    the answer, whatever 8-bit rounding does to monotonicity.
    """
    original = rgb_to_hex(hex_to_rgb(hex_value))
    if contrast_ratio(original, against) >= ratio:
        return Adjustment(original, original, 0.0)
    start = float(_lab_of(original)[0])
    best: Adjustment | None = None
    for sign, room in ((-1.0, start), (1.0, 100.0 - start)):
        top = math.ceil(room / L_STEP)
        if top <= 0 or contrast_ratio(shift_lightness(original, sign * top * L_STEP), against) < ratio:
            continue
        lo, hi = 0, top  # lo fails, hi passes
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if contrast_ratio(shift_lightness(original, sign * mid * L_STEP), against) >= ratio:
                hi = mid
            else:
                lo = mid
        delta = round(sign * hi * L_STEP, 2)
        if best is None or abs(delta) < abs(best.delta_l):
            best = Adjustment(original, shift_lightness(original, delta), delta)
    return best


# ----------------------------------------------------------------------------------------------------------
# Roles


@dataclass(frozen=True)
class Theme:
    """Role -> hex, plus the adjustments made to reach the contrast rules (role -> Adjustment)."""

    roles: dict[str, str]
    adjustments: dict[str, Adjustment]

    def adjustments_dict(self) -> dict[str, dict[str, Any]]:
        return {role: adj.as_dict() for role, adj in self.adjustments.items()}


def _colours(colors: Iterable[PaletteColor | Mapping[str, Any] | str]) -> list[PaletteColor]:
    out = []
    for c in colors:
        if isinstance(c, PaletteColor):
            out.append(c)
        elif isinstance(c, str):
            out.append(PaletteColor.from_hex(c))
        else:
            out.append(PaletteColor.from_hex(c["hex"], float(c.get("share", 0.0))))
    return out


def _distinct(a: PaletteColor, b: PaletteColor) -> bool:
    return float(delta_e_ciede2000(a.lab, b.lab)) >= MERGE_DELTA_E


def _pick_background(colours: list[PaletteColor], primary: PaletteColor) -> tuple[str, Adjustment | None]:
    """A very light or very dark palette colour (the most prominent), else a tint or shade of the primary."""
    for c in colours:  # by prominence
        if c is not primary and (c.lab[0] >= LIGHT_BACKGROUND_L or c.lab[0] <= DARK_BACKGROUND_L):
            return c.hex, None
    hue = math.atan2(primary.lab[2], primary.lab[1])
    tint = _in_gamut_hex(TINT_L, min(primary.chroma, TINT_MAX_CHROMA), hue)
    shade = _in_gamut_hex(SHADE_L, min(primary.chroma, SHADE_MAX_CHROMA), hue)
    # Whichever sets the brand colour off better: a light page for a dark primary and vice versa.
    chosen = tint if contrast_ratio(primary.hex, tint) >= contrast_ratio(primary.hex, shade) else shade
    return chosen, Adjustment(primary.hex, chosen, round(float(_lab_of(chosen)[0]) - primary.lab[0], 2))


def _fit(candidates: list[PaletteColor], background: str, ratio: float) -> tuple[str, Adjustment | None]:
    """The first candidate (caller's preference order) passing ``ratio`` on ``background``; else the
    candidate needing the smallest lightness change, changed by exactly that."""
    for c in candidates:
        if contrast_ratio(c.hex, background) >= ratio:
            return c.hex, None
    options = [a for a in (min_lightness_shift(c.hex, background, ratio) for c in candidates) if a]
    if not options:  # unreachable for ratio <= 4.58 (black or white always passes); keep a safe answer
        black_wins = contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background)
        colour = "#000000" if black_wins else "#ffffff"
        return colour, Adjustment(candidates[0].hex, colour, 0.0)
    best = min(options, key=lambda a: abs(a.delta_l))
    return best.adjusted, best


def assign_roles(colors: Sequence[PaletteColor | Mapping[str, Any] | str]) -> Theme:
    """Primary, secondary, accent, background and text from extracted colours (most prominent first).

    * primary: the most prominent colour with chroma >= SATURATED_CHROMA (else the most prominent), exact.
    * background: the most prominent very light (L* >= 90) or very dark (L* <= 15) colour, else a tint or a
      shade of the primary, whichever contrasts more with it.
    * text: the most neutral colour (the primary included) reaching 4.5:1 on the background; else the one
      needing the smallest L* change, changed by that much.
    * secondary: the most prominent saturated colour left that is distinct from the primary (else any
      colour left); no contrast rule, it decorates.
    * accent: of the saturated colours left (else any left, else the primary), the most saturated reaching
      3:1 on the background; else the one needing the smallest L* change, changed by that much.
    """
    colours = _colours(colors)
    if not colours:
        raise ValueError("A palette needs at least one colour.")
    saturated = [c for c in colours if c.chroma >= SATURATED_CHROMA]
    primary = saturated[0] if saturated else colours[0]
    adjustments: dict[str, Adjustment] = {}

    background, bg_adj = _pick_background(colours, primary)
    if bg_adj:
        adjustments["background"] = bg_adj
    rest = [c for c in colours if c is not primary and c.hex != background]

    # The primary may carry text too (navy headings on cream are a classic), so it is a candidate as well.
    by_neutrality = sorted([*rest, primary], key=lambda c: (c.chroma, -c.share))
    text, text_adj = _fit(by_neutrality, background, 4.5)
    if text_adj and text_adj.delta_l:
        adjustments["text"] = text_adj
    text_source = text_adj.original if text_adj else text

    pool = [c for c in rest if c.hex != text_source]
    vivid = [c for c in pool if c.chroma >= SATURATED_CHROMA]
    secondary = next(
        iter(
            [c for c in vivid if _distinct(c, primary)] or [c for c in pool if _distinct(c, primary)] or pool
        ),
        None,
    ) or (rest[0] if rest else primary)

    # An accent has to pop: the saturated leftovers if there are any, adjusted before a dull one is taken.
    leftovers = [c for c in pool if c is not secondary]
    accent_pool = [c for c in leftovers if c.chroma >= SATURATED_CHROMA] or leftovers or [primary]
    by_chroma = sorted(accent_pool, key=lambda c: (-c.chroma, -c.share))
    accent, accent_adj = _fit(by_chroma, background, 3.0)
    if accent_adj and accent_adj.delta_l:
        adjustments["accent"] = accent_adj

    roles = {
        "primary": primary.hex,
        "secondary": secondary.hex,
        "accent": accent,
        "background": background,
        "text": text,
    }
    return Theme(roles, adjustments)


# ----------------------------------------------------------------------------------------------------------
# Contrast report


def contrast_report(roles: Mapping[str, str]) -> dict[str, Any]:
    """Every pair of roles with its WCAG ratio and verdicts, and whether the required pairs pass.

    ``pairs``: [{"a", "b", "ratio" (2 places), "aa", "aaa", "aa_large", "aaa_large", "ui",
    "required" (minimum or None), "ok" (None when not required)}]; ``failures``: the required pairs that
    miss, as "text on background"; ``passes``: no failures. Verdicts use the exact ratio, never the
    rounded one (the printed ratio is truncated, so a failing 4.499 never reads "4.50").
    """
    required = {(a, b): r for a, b, r in REQUIRED}
    present = [r for r in ROLES if r in roles] + [r for r in roles if r not in ROLES]
    pairs = []
    failures = []
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            key = (a, b) if (a, b) in required else (b, a)
            ratio = contrast_ratio(roles[a], roles[b])
            minimum = required.get(key)
            ok = None if minimum is None else ratio >= minimum
            if ok is False:
                failures.append(f"{key[0]} on {key[1]}")
            entry = {"a": key[0], "b": key[1], "ratio": math.floor(ratio * 100) / 100}
            entry.update({name: ratio >= threshold for name, threshold in VERDICTS.items()})
            entry.update(required=minimum, ok=ok)
            pairs.append(entry)
    pairs.sort(key=lambda p: (p["required"] is None, -(p["required"] or 0), -p["ratio"]))
    return {"pairs": pairs, "failures": failures, "passes": not failures}


def verdict_text(pair: Mapping[str, Any]) -> str:
    """ "AAA", "AA", "AA large only" or "Fails" for body text: the verdict people look for first."""
    if pair["aaa"]:
        return "AAA"
    if pair["aa"]:
        return "AA"
    if pair["aa_large"]:
        return "AA large only"
    return "Fails"


# ----------------------------------------------------------------------------------------------------------
# Colour-vision deficiency


def simulate_cvd(hexes: Sequence[str], kind: str) -> list[str]:
    """How ``hexes`` look with protanopia, deuteranopia or tritanopia (Machado 2009, severity 1.0)."""
    matrix = CVD_MATRICES[kind]
    rgb = np.array([hex_to_rgb(h) for h in hexes], dtype=np.float64) / 255.0
    simulated = _compand(_linearize(rgb) @ matrix.T)
    return [rgb_to_hex(np.rint(c * 255.0)) for c in simulated]


def simulate_roles(roles: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """{"deuteranopia": {role: hex}, "protanopia": ..., "tritanopia": ...}."""
    names = list(roles)
    return {
        kind: dict(zip(names, simulate_cvd([roles[n] for n in names], kind), strict=True))
        for kind in ("deuteranopia", "protanopia", "tritanopia")
    }


def on_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (labels on swatches and buttons)."""
    return (
        "#000000"
        if contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background)
        else "#ffffff"
    )


def build_theme(colors: Sequence[PaletteColor]) -> dict[str, Any]:
    """Everything the CLI and the job store for a fresh extraction: colours, roles, adjustments, contrast."""
    theme = assign_roles(colors)
    return {
        "colors": [c.as_dict() for c in colors],
        "roles": theme.roles,
        "adjustments": theme.adjustments_dict(),
        "contrast": contrast_report(theme.roles),
    }
