"""Colour science for the imaging library: sRGB <-> CIELAB, CIEDE2000, WCAG contrast, hex/HSL helpers.

Why these and why this way:

* Dominant colours are clustered and compared in CIELAB because Euclidean distance in sRGB is badly
  non-uniform (a step in dark blue looks nothing like the same step in yellow). Lab is D65-referenced
  because sRGB is defined against D65, so no chromatic adaptation step is needed (and none is done).
* Colour *difference* uses CIEDE2000 rather than plain Lab distance (CIE76): it corrects the blue region and
  the over-weighting of saturated colours, so one threshold ("dE00 < 5 is the same colour") behaves the same
  for greys, skin tones and saturated stage lighting. The implementation follows Sharma, Wu & Dalal (2005),
  including their notes on hue angles at the 180-degree wrap and zero chroma, and is tested on their data.
* Contrast follows WCAG 2.x exactly (relative luminance, (L1 + 0.05) / (L2 + 0.05)) because palettes will be
  used to pick legible text colours and people will check our numbers with standard contrast checkers.
* Everything is vectorised with numpy and accepts any leading shape (``(3,)``, ``(N, 3)``, ``(H, W, 3)``), so
  a whole pixel sample converts in one call at ingest.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

#: Anything that describes an sRGB colour: "#rrggbb"/"#rgb" text, or three 0-255 channel values.
ColorLike = str | Sequence[float] | npt.NDArray[np.generic]

# IEC 61966-2-1 (sRGB) linear RGB -> CIE XYZ, D65.
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
# The reference white is the image of sRGB white under the matrix (0.95047, 1.0, 1.08883 to 5 places), so
# #ffffff lands on exactly L*=100, a*=b*=0 instead of a hair off neutral.
_WHITE = _RGB_TO_XYZ.sum(axis=1)

_EPSILON = (6 / 29) ** 3  # CIE constant: below this the cube root is replaced by a line (dark colours)
_KAPPA_INV = 1 / (3 * (6 / 29) ** 2)


def _linearize(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """sRGB companding inverse, channel values in 0..1 (IEC 61966-2-1 threshold 0.04045)."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _compand(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Linear 0..1 -> sRGB-encoded 0..1 (negative values from out-of-gamut Lab are clipped first)."""
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


# 8-bit input is the common case (pixels straight from Pillow); a 256-entry table avoids the power function.
_LINEAR_LUT = _linearize(np.arange(256, dtype=np.float64) / 255.0)


def _as_rgb_array(rgb: npt.ArrayLike) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.shape[-1:] != (3,):
        raise ValueError(f"Expected RGB values with a last dimension of 3, got shape {arr.shape}.")
    return arr


def srgb_to_lab(rgb: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Convert sRGB (0-255, uint8 or float, shape ``(..., 3)``) to CIELAB (D65) as float64 ``(..., 3)``."""
    arr = _as_rgb_array(rgb)
    if arr.dtype == np.uint8:
        linear = _LINEAR_LUT[arr]
    else:
        linear = _linearize(np.clip(arr.astype(np.float64) / 255.0, 0.0, 1.0))
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), xyz * _KAPPA_INV + 4 / 29)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_srgb(lab: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """Convert CIELAB (D65, shape ``(..., 3)``) to 8-bit sRGB, clipping colours outside the sRGB gamut.

    Clipping per channel (rather than gamut mapping) is deliberate: callers feed it cluster centres of real
    sRGB pixels, which are at most a rounding error outside the gamut.
    """
    arr = np.asarray(lab, dtype=np.float64)
    if arr.shape[-1:] != (3,):
        raise ValueError(f"Expected Lab values with a last dimension of 3, got shape {arr.shape}.")
    fy = (arr[..., 0] + 16) / 116
    f = np.stack([fy + arr[..., 1] / 500, fy, fy - arr[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, (f - 4 / 29) / _KAPPA_INV) * _WHITE
    encoded = _compand(xyz @ _XYZ_TO_RGB.T)
    return np.rint(encoded * 255.0).astype(np.uint8)


def delta_e_ciede2000(
    lab1: npt.ArrayLike, lab2: npt.ArrayLike, k_l: float = 1.0, k_c: float = 1.0, k_h: float = 1.0
) -> npt.NDArray[np.float64] | float:
    """CIEDE2000 colour difference between Lab colours (broadcasting over leading dimensions).

    Returns a float for two single colours, otherwise an array. ``k_l``/``k_c``/``k_h`` are the parametric
    weights (1 for the reference conditions; graphic arts sometimes uses ``k_l=2``).
    Follows Sharma, Wu & Dalal, "The CIEDE2000 Color-Difference Formula: Implementation Notes...", 2005.
    """
    a = np.asarray(lab1, dtype=np.float64)
    b = np.asarray(lab2, dtype=np.float64)
    if a.shape[-1:] != (3,) or b.shape[-1:] != (3,):
        raise ValueError("Lab colours must have a last dimension of 3.")
    l1, a1, b1 = a[..., 0], a[..., 1], a[..., 2]
    l2, a2, b2 = b[..., 0], b[..., 1], b[..., 2]

    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    c_bar7 = c_bar**7
    g = 0.5 * (1 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p = (1 + g) * a1
    a2p = (1 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    # atan2(0, 0) is 0, which is the hue Sharma prescribes for achromatic colours.
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360

    chroma_product = c1p * c2p
    achromatic = chroma_product == 0
    dlp = l2 - l1
    dcp = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(achromatic, 0.0, dh)
    dhp = 2 * np.sqrt(chroma_product) * np.sin(np.radians(dh / 2))

    lp_bar = (l1 + l2) / 2
    cp_bar = (c1p + c2p) / 2
    h_sum = h1p + h2p
    hp_bar = np.where(
        np.abs(h1p - h2p) <= 180,
        h_sum / 2,
        np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2),
    )
    hp_bar = np.where(achromatic, h_sum, hp_bar)

    t = (
        1
        - 0.17 * np.cos(np.radians(hp_bar - 30))
        + 0.24 * np.cos(np.radians(2 * hp_bar))
        + 0.32 * np.cos(np.radians(3 * hp_bar + 6))
        - 0.20 * np.cos(np.radians(4 * hp_bar - 63))
    )
    d_theta = 30 * np.exp(-(((hp_bar - 275) / 25) ** 2))
    cp_bar7 = cp_bar**7
    r_c = 2 * np.sqrt(cp_bar7 / (cp_bar7 + 25.0**7))
    lp50 = (lp_bar - 50) ** 2
    s_l = 1 + 0.015 * lp50 / np.sqrt(20 + lp50)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c

    term_l = dlp / (k_l * s_l)
    term_c = dcp / (k_c * s_c)
    term_h = dhp / (k_h * s_h)
    de = np.sqrt(term_l**2 + term_c**2 + term_h**2 + r_t * term_c * term_h)
    return float(de) if de.ndim == 0 else de


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    """Parse "#rrggbb" or "#rgb" (the "#" is optional, case-insensitive) into a (r, g, b) tuple."""
    text = value.strip().removeprefix("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    if len(text) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in text):
        raise ValueError(f"{value!r} is not a hex colour like #1a2b3c.")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def rgb_to_hex(rgb: Sequence[float] | npt.NDArray[np.generic]) -> str:
    """Format (r, g, b) 0-255 as lowercase "#rrggbb" (floats are rounded; out-of-range is an error)."""
    arr = _as_rgb_array(rgb)
    if arr.ndim != 1:
        raise ValueError("rgb_to_hex takes a single colour.")
    channels = [round(float(v)) for v in arr]
    if any(not 0 <= v <= 255 for v in channels):
        raise ValueError(f"RGB channels must be within 0-255, got {tuple(channels)}.")
    return "#{:02x}{:02x}{:02x}".format(*channels)


def _rgb_tuple(color: ColorLike) -> tuple[float, float, float]:
    if isinstance(color, str):
        return hex_to_rgb(color)
    arr = _as_rgb_array(color)
    if arr.ndim != 1:
        raise ValueError("Expected a single colour.")
    r, g, b = (float(v) for v in arr)
    return r, g, b


def rgb_to_hsl(rgb: ColorLike) -> tuple[float, float, float]:
    """(r, g, b) 0-255 (or hex) -> (hue 0-360, saturation 0-100, lightness 0-100), as CSS ``hsl()`` uses.

    Palettes are shown to people and edited in CSS, where HSL is the familiar notation; hue is 0 for greys.
    """
    r, g, b = (min(max(v, 0.0), 255.0) / 255.0 for v in _rgb_tuple(rgb))
    h, light, s = colorsys.rgb_to_hls(r, g, b)
    return (h * 360.0) % 360.0, s * 100.0, light * 100.0


def relative_luminance(rgb: ColorLike) -> float:
    """WCAG 2.x relative luminance (0 for black .. 1 for white) of an sRGB colour (0-255 tuple or hex).

    WCAG 2.0 printed the linearisation threshold as 0.03928 rather than sRGB's 0.04045; no 8-bit value lies
    between the two (10/255 = 0.0392, 11/255 = 0.0431), so using the sRGB constant changes no result.
    """
    channels = np.clip(np.array(_rgb_tuple(rgb), dtype=np.float64), 0.0, 255.0) / 255.0
    r, g, b = _linearize(channels)
    return float(0.2126 * r + 0.7152 * g + 0.0722 * b)


def contrast_ratio(rgb1: ColorLike, rgb2: ColorLike) -> float:
    """WCAG 2.x contrast ratio, 1 (identical) .. 21 (black on white); order of the colours does not matter.

    WCAG AA asks for >= 4.5 for body text and >= 3 for large text. Do not round before comparing: WCAG
    compares the exact ratio (#777777 on white is 4.48, a fail, even though it is often printed as "4.5").
    """
    l1 = relative_luminance(rgb1)
    l2 = relative_luminance(rgb2)
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)
