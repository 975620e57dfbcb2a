"""The second opinion on a near-duplicate: do two pictures share their colours *and* their structure?

Why it exists: the difference hash (``analysis.dhash``) only compares the brightness of neighbouring cells of
a 9x8 reduction. For flat, low-detail and text-heavy pictures those cells are nearly equal, so the hash bits
are noise (a solid green square hashes to all zeros, and so can a scanned text page). A hash match is
therefore only a *candidate*; :func:`same_picture` confirms it with two checks the hash knows nothing about:

* **colour** — mean CIELAB distance (ΔE*76) between 8x8 grids of cell colours. A different hue, or white
  paper against a grey flat, fails here however the hash looks.
* **structure** — SSIM (Wang et al. 2004, 7x7 windows, the usual K1 = 0.01, K2 = 0.03) of 32x32 greyscale
  reductions, lightly blurred (Gaussian sigma 1 px) so that a crop of a few percent, which shifts the
  content by about one cell, still lines up. SSIM compares local means, contrasts *and* correlation, so a
  flat picture never resembles a textured one (its contrast term collapses), which is what makes the check
  hold for low-detail images where a correlation alone would be undefined.

Both are computed from the 480 px thumbnail, after trimming a thin uniform frame (at most 1/25 of a side:
frames added on export are thin, and a wider cap made the trim flip on and off for text pages whose margins
are ~10% wide). The whole signature is 1,217 bytes, stored with the asset (``Asset.likeness``) so a check
costs no decode; older assets get theirs from their stored thumbnail on first use.

Measured on the images of ``tests/unit/test_i15dupes_likeness.py`` (true copies: 50%, 200%, JPEG q60,
PNG<->JPEG round trips, 3% crops off a corner, centred or of the width, of four photos, a shapes picture, a
gradient, a blank page and two text pages; distinct: flat colours of other hues, text pages, gradients,
noise, shapes, eight scikit-image photos): every true copy had SSIM >= 0.907 and ΔE <= 5.4 (crops are the
worst: edges move by a cell). Among distinct pairs whose hashes were within 14 bits, the closest was two
different text pages set in one layout (SSIM 0.876, ΔE 1.1 — their hashes, 14 bits apart, keep them apart
too); every other such pair had SSIM <= 0.70 or ΔE >= 44. Hence SSIM >= 0.88 and ΔE <= 6.5: when in
doubt the prompt stays away, since a missed prompt costs nothing (both images are kept). Known limit: two
posters built on one template that differ only in a small title look alike at 32 px.
Cost: signature ~1-2 ms per upload, comparison ~0.1 ms.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .color import srgb_to_lab

#: Signature layout version (first byte); a stored signature of another version is recomputed.
VERSION = 1
GREY_SIDE = 32
COLOUR_SIDE = 8
SIGNATURE_BYTES = 1 + GREY_SIDE * GREY_SIDE + COLOUR_SIDE * COLOUR_SIDE * 3

#: Confirmation thresholds (see the module docstring for the measurements behind them).
MIN_SSIM = 0.88
MAX_MEAN_DELTA_E = 6.5

_FRAME_MAX_FRACTION = 1 / 25
_BLUR_SIGMA = 1.0
_SSIM_WINDOW = 7
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


@dataclass(frozen=True)
class Likeness:
    """How alike two signatures are: ``ssim`` (-1..1, 1 = same structure) and ``delta_e`` (mean ΔE*76)."""

    ssim: float
    delta_e: float

    @property
    def same(self) -> bool:
        return self.ssim >= MIN_SSIM and self.delta_e <= MAX_MEAN_DELTA_E


def signature(thumb: Image.Image) -> bytes:
    """The bytes :func:`compare` needs, from an image of any size (normally the 480 px thumbnail)."""
    from .analysis import _content_box

    rgb = thumb.convert("RGB") if thumb.mode != "RGB" else thumb
    grey = rgb.convert("L")
    box = _content_box(np.asarray(grey.convert("F")), _FRAME_MAX_FRACTION)
    small_grey = grey.resize((GREY_SIDE, GREY_SIDE), Image.Resampling.BOX, box=box)
    cells = np.asarray(rgb.resize((COLOUR_SIDE, COLOUR_SIDE), Image.Resampling.BOX, box=box), dtype=np.uint8)
    lab = srgb_to_lab(cells.reshape(-1, 3))
    # L* 0..100 -> 0..250 (0.4 steps); a*, b* -> signed bytes (1 unit steps, clipped to +-127).
    packed = np.empty((lab.shape[0], 3), dtype=np.uint8)
    packed[:, 0] = np.clip(np.round(lab[:, 0] * 2.5), 0, 255).astype(np.uint8)
    packed[:, 1:] = (np.clip(np.round(lab[:, 1:]), -127, 127).astype(np.int16) & 0xFF).astype(np.uint8)
    return bytes([VERSION]) + np.asarray(small_grey, dtype=np.uint8).tobytes() + packed.tobytes()


def is_current(sig: bytes | None) -> bool:
    """True if ``sig`` is a signature :func:`compare` can use (else recompute it)."""
    return sig is not None and len(sig) == SIGNATURE_BYTES and sig[0] == VERSION


def _unpack(sig: bytes) -> tuple[np.ndarray, np.ndarray]:
    if not is_current(sig):
        raise ValueError("Not a current likeness signature; recompute it with signature().")
    body = np.frombuffer(sig, dtype=np.uint8, offset=1)
    grey = body[: GREY_SIDE * GREY_SIDE].astype(np.float64).reshape(GREY_SIDE, GREY_SIDE)
    packed = body[GREY_SIDE * GREY_SIDE :].reshape(-1, 3)
    lab = np.empty(packed.shape, dtype=np.float64)
    lab[:, 0] = packed[:, 0] / 2.5
    lab[:, 1:] = packed[:, 1:].view(np.int8).astype(np.float64)
    return grey, lab


@functools.cache
def _blur_matrix(n: int, sigma: float) -> np.ndarray:
    """``n`` x ``n`` matrix of a 1-D Gaussian blur with edge replication: ``M @ a @ M.T`` blurs ``a``."""
    radius = max(1, int(3 * sigma + 0.5))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-(x * x) / (2 * sigma * sigma))
    kernel /= kernel.sum()
    m = np.zeros((n, n))
    for i in range(n):
        for k, weight in zip(range(i - radius, i + radius + 1), kernel, strict=True):
            m[i, min(max(k, 0), n - 1)] += weight
    m.setflags(write=False)
    return m


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with edge replication, as two small matrix products (the arrays are 32x32)."""
    m = _blur_matrix(a.shape[0], sigma)
    return m @ a @ m.T


def _window_means(a: np.ndarray, window: int) -> np.ndarray:
    """Mean of each ``window`` x ``window`` window of ``a`` (valid positions), from a summed-area table."""
    table = np.zeros((a.shape[0] + 1, a.shape[1] + 1))
    table[1:, 1:] = a.cumsum(axis=0).cumsum(axis=1)
    w = window
    sums = table[w:, w:] - table[:-w, w:] - table[w:, :-w] + table[:-w, :-w]
    return sums / (w * w)


def ssim(a: np.ndarray, b: np.ndarray, window: int = _SSIM_WINDOW) -> float:
    """Mean SSIM of two equally sized greyscale arrays (0..255) over all ``window`` x ``window`` windows."""
    ma, mb = _window_means(a, window), _window_means(b, window)
    va = _window_means(a * a, window) - ma * ma
    vb = _window_means(b * b, window) - mb * mb
    cov = _window_means(a * b, window) - ma * mb
    num = (2 * ma * mb + _C1) * (2 * cov + _C2)
    den = (ma * ma + mb * mb + _C1) * (va + vb + _C2)
    return float((num / den).mean())


def compare(a: bytes, b: bytes) -> Likeness:
    """Structure (blurred SSIM) and colour (mean ΔE*76 of the cell grid) likeness of two signatures."""
    grey_a, lab_a = _unpack(a)
    grey_b, lab_b = _unpack(b)
    structure = ssim(_blur(grey_a, _BLUR_SIGMA), _blur(grey_b, _BLUR_SIGMA))
    colour = float(np.sqrt(((lab_a - lab_b) ** 2).sum(axis=1)).mean())
    return Likeness(round(structure, 4), round(colour, 2))


def same_picture(a: bytes, b: bytes) -> bool:
    """True when two signatures agree in colour and in structure (a hash match still has to come first)."""
    return compare(a, b).same
