"""What makes each style of the local artwork look like itself, and space for the title.

``calm_space`` quiets the part of the picture where the overlay sets the title (the lower band of a poster
or square, the left of a banner), so type has a calm ground and the motifs form the focal area elsewhere.

``guard_style`` enforces, on every image, the measurable look a style promises, because motifs, palettes
and seeds vary too much for a recipe alone to hold it (a bold image with pale shapes on a pale ground is
not bold). Each guard measures a reduced copy and corrects only as far as needed:

* neon — dark ground (mean luminance <= 0.22) and saturated highlights (its colours are pushed);
* bold — saturated (mean HSV saturation >= 0.5) and contrasted (luminance spread >= 0.2);
* vintage — muted (mean saturation <= 0.38, a sepia cast) and faded (lifted blacks), grain after;
* minimalist — calm (its calm space covers most of the picture, set in ``calm_space``);
* cinematic — dark edges around a lit centre (the vignette), contrast at least 0.14;
* realistic, artistic, modern — saturation kept in a natural band (0.15..0.75).

Pillow C routines on the full image; statistics on a copy reduced 8x.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageEnhance, ImageFilter, ImageOps, ImageStat

# Fraction of the short side the calm ramp takes to go from busy to calm.
_CALM_FEATHER = 0.16


def title_side(size: tuple[int, int]) -> str:
    """Where the overlay sets the title: a banner's left part, the lower band of a poster or square."""
    width, height = size
    return "left" if width > 1.4 * height else "bottom"


def calm_space(img: Image.Image, style: str, ground: np.ndarray, density: float = 1.0) -> Image.Image:
    """Blend the title area towards a heavily blurred, slightly grounded copy of the picture itself."""
    W, H = img.size
    share = 0.46 if style == "minimalist" else 0.4 if density < 0.8 else 0.34
    strength = 0.9 if style == "minimalist" else 0.8
    small = img.reduce(8) if min(W, H) >= 128 else img.copy()
    radius = max(2.0, min(small.size) * 0.08)
    blurred = small.filter(ImageFilter.GaussianBlur(radius))
    tone = Image.new("RGB", blurred.size, tuple(int(c * 255 + 0.5) for c in ground))
    blurred = Image.blend(blurred, tone, 0.25).resize(img.size, Image.Resampling.BILINEAR)
    side = title_side(img.size)
    n = 64
    t = (np.arange(n, dtype=np.float32) + 0.5) / n
    if side == "left":
        edge, feather = share * H / W * 1.4, _CALM_FEATHER * H / W
        ramp = np.clip((edge - t) / max(feather, 1e-3) + 0.5, 0, 1)
    else:
        edge, feather = 1 - share, _CALM_FEATHER
        ramp = np.clip((t - edge) / feather + 0.5, 0, 1)
    ramp = ramp * ramp * (3 - 2 * ramp) * strength
    line = Image.fromarray((ramp * 255 + 0.5).astype(np.uint8)[None, :] if side == "left" else
                           (ramp * 255 + 0.5).astype(np.uint8)[:, None])  # fmt: skip
    mask = line.resize(img.size, Image.Resampling.BILINEAR)
    return Image.composite(blurred, img, mask)


def _stats(img: Image.Image) -> tuple[float, float, float]:
    """Mean luminance (0..1), luminance spread (std), mean HSV saturation (0..1) of a reduced copy."""
    factor = max(1, min(img.size) // 256)  # ~256 px: per-pixel statistics, not those of local means
    small = img.reduce(factor) if factor > 1 else img
    luma = ImageStat.Stat(small.convert("L"))
    sat = ImageStat.Stat(small.convert("HSV").getchannel("S"))
    return luma.mean[0] / 255, luma.stddev[0] / 255, sat.mean[0] / 255


def _gamma(img: Image.Image, gamma: float) -> Image.Image:
    lut = [round(255 * (i / 255) ** gamma) for i in range(256)]
    return img.point(lut * 3)


def _spread(img: Image.Image, factor: float, pivot: float) -> Image.Image:
    lut = [int(np.clip((i / 255 - pivot) * factor + pivot, 0, 1) * 255 + 0.5) for i in range(256)]
    return img.point(lut * 3)


def _corner_ratio(img: Image.Image) -> float:
    """Mean luminance of the four corner patches (1/8 of the height) over the central ninth's."""
    lum = np.asarray(img.convert("L").reduce(4) if min(img.size) >= 256 else img.convert("L"), np.float32)
    h, w = lum.shape
    k = max(1, h // 8)
    corners = np.concatenate([lum[:k, :k], lum[:k, -k:], lum[-k:, :k], lum[-k:, -k:]]).mean()
    centre = lum[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].mean()
    return float(corners / max(float(centre), 1.0))


def _deepen_vignette(img: Image.Image, target: float) -> Image.Image:
    """Darken towards the corners until their luminance is at most ``target`` x the centre's."""
    for _ in range(3):
        ratio = _corner_ratio(img)
        if ratio <= target:
            break
        depth = min(0.85, 1 - target / ratio + 0.1)
        W, H = img.size
        w, h = max(8, W // 16), max(8, H // 16)
        ys = (np.arange(h, dtype=np.float32) + 0.5) / h - 0.5
        xs = (np.arange(w, dtype=np.float32) + 0.5) / w - 0.5
        d = np.clip(np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2) * 2 - 0.35, 0, 1) / 0.65
        mask = Image.fromarray(((1 - depth * d * d * (3 - 2 * d)) * 255).astype(np.uint8)).resize(
            img.size, Image.Resampling.BILINEAR
        )
        img = ImageChops.multiply(img, Image.merge("RGB", (mask,) * 3))
    return img


def _equalise_luma(img: Image.Image, amount: float) -> Image.Image:
    """Blend towards a histogram-equalised luminance, keeping each pixel's hue and saturation."""
    grey = img.convert("L")
    eq = np.asarray(ImageOps.equalize(grey), dtype=np.float32)
    lum = np.maximum(np.asarray(grey, dtype=np.float32), 1.0)
    ratio = 1 + amount * (eq / lum - 1)
    arr = np.asarray(img, dtype=np.float32) * ratio[..., None]
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))


def _saturate(img: Image.Image, current: float, target: float, limit: float = 3.0) -> Image.Image:
    if current <= 1e-3:
        return img
    return ImageEnhance.Color(img).enhance(min(limit, target / current))


def guard_style(img: Image.Image, style: str) -> Image.Image:
    """Correct ``img`` until it has the measurable look of ``style`` (see the module docstring)."""
    mean, spread, sat = _stats(img)
    if style == "neon":
        if mean > 0.17:
            img = _gamma(img, float(np.clip(np.log(0.15) / np.log(max(mean, 1e-3)), 1.0, 4.0)))
        img = ImageEnhance.Color(img).enhance(1.35)
        mean, spread, sat = _stats(img)
        if sat < 0.6:
            img = _saturate(img, sat, 0.65)
            mean, spread, sat = _stats(img)
        if mean > 0.17:  # saturating can lift the luminance again
            img = _gamma(img, float(np.clip(np.log(0.15) / np.log(max(mean, 1e-3)), 1.0, 4.0)))
    elif style == "bold":
        if sat < 0.55:
            img = _saturate(img, sat, 0.6)
        img = ImageOps.autocontrast(img, cutoff=1, preserve_tone=True)
        mean, spread, sat = _stats(img)
        if spread < 0.2:  # a pale or murky picture: spread its tones over the whole range
            img = _equalise_luma(img, 0.7)
    elif style == "vintage":
        if sat > 0.38:  # muted, but warm like old ink on cream paper rather than grey
            img = _saturate(img, sat, 0.36)
        sepia = ImageOps.colorize(img.convert("L"), black="#33231b", white="#f7eed8", mid="#b08d68")
        img = Image.blend(img, sepia, 0.2)
        mean, spread, sat = _stats(img)
        if sat > 0.38:  # deep warm colours keep a high saturation through the sepia: settle it
            img = _saturate(img, sat, 0.36)
    if style == "cinematic":  # the lit centre and dark edges of a film frame, whatever the motifs did
        img = _deepen_vignette(img, 0.5)
        mean, spread, sat = _stats(img)
    if style in ("cinematic", "modern") and spread < 0.15:
        img = _spread(img, min(2.5, 0.16 / max(spread, 1e-3)), mean)
    if style in ("realistic", "artistic", "modern", "minimalist", "cinematic"):
        mean, spread, sat = _stats(img)
        if sat > 0.72:
            img = _saturate(img, sat, 0.68)
        elif sat < 0.15 and style != "minimalist":
            img = _saturate(img, sat, 0.18)
    return img
