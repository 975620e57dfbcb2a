"""Output formats and the integer geometry of where things go.

Kept separate and side-effect free so tests (and the reference implementation in the benchmark) can check
the layout to the pixel without rendering anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Drop shadow, in output pixels. Shared by the renderer and the benchmark's reference so both look the same.
SHADOW_OFFSET: tuple[int, int] = (10, 10)
SHADOW_SIGMA: float = 20.0
SHADOW_OPACITY: float = 0.45
#: With a shadow, the artwork fits inside the canvas minus this margin on every side. The binding dimension
#: (the one the artwork would otherwise fill edge to edge) then leaves room for the shadow: on the far side
#: the shadow rectangle ends MARGIN - OFFSET = 34 px (1.7 sigma) before the canvas edge, where it has faded to
#: about 2% darkening, so the shadow is visible on all sides and never looks cut off. Without a shadow there
#: is no margin and the artwork touches the canvas edges in its binding dimension.
SHADOW_MARGIN: int = 44

#: Crop-to-fill is only used when it discards at most this fraction of the artwork's area.
CROP_MAX_LOSS: float = 0.08


@dataclass(frozen=True)
class OutputFormat:
    """A named output canvas in pixels."""

    name: str
    width: int
    height: int

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


FORMATS: dict[str, OutputFormat] = {
    "poster": OutputFormat("poster", 1200, 1800),
    "square": OutputFormat("square", 1200, 1200),
    "banner": OutputFormat("banner", 2160, 1089),
}


def crop_loss(src_size: tuple[int, int], target: tuple[int, int]) -> float:
    """Fraction (0..1) of the artwork's area cut away by scale-to-cover plus centre crop.

    Only the aspect ratios matter: the covered artwork keeps ``min(a, b) / max(a, b)`` of its area where a and
    b are the two aspect ratios.
    """
    sw, sh = src_size
    tw, th = target
    a = sw * th
    b = sh * tw
    if a <= 0 or b <= 0:
        return 1.0
    return 1.0 - min(a, b) / max(a, b)


def fit_size(src_size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """Largest size with the source's aspect ratio that fits in ``box``.

    The binding dimension is exactly the box's; the other is rounded (never below 1 px, never above the box),
    so the aspect ratio is preserved to within 1 px of rounding.
    """
    sw, sh = src_size
    bw, bh = box
    if sw * bh >= sh * bw:  # relatively wider than the box: width binds
        return bw, min(bh, max(1, round(sh * bw / sw)))
    return min(bw, max(1, round(sw * bh / sh))), bh


def placement(
    src_size: tuple[int, int], canvas_size: tuple[int, int], shadow: bool = True
) -> tuple[int, int, int, int]:
    """Box (left, top, right, bottom) of the whole, unstretched artwork on the canvas in blur/solid modes.

    Fitted inside the canvas minus ``SHADOW_MARGIN`` on each side when a shadow is drawn (see the constant for
    why), centred; rounding puts any odd pixel on the right/bottom.
    """
    cw, ch = canvas_size
    margin = SHADOW_MARGIN if shadow else 0
    margin = min(margin, max(0, (cw - 1) // 2), max(0, (ch - 1) // 2))
    fw, fh = fit_size(src_size, (cw - 2 * margin, ch - 2 * margin))
    left = (cw - fw) // 2
    top = (ch - fh) // 2
    return left, top, left + fw, top + fh


def cover_box(src_size: tuple[int, int], canvas_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Region of the source (float coordinates) that scale-to-cover plus centre crop shows on the canvas."""
    sw, sh = src_size
    cw, ch = canvas_size
    scale = max(cw / sw, ch / sh)
    vw = min(sw, cw / scale)
    vh = min(sh, ch / scale)
    x0 = (sw - vw) / 2
    y0 = (sh - vh) / 2
    return x0, y0, x0 + vw, y0 + vh


def cover_scale(src_size: tuple[int, int], canvas_size: tuple[int, int]) -> float:
    return max(canvas_size[0] / src_size[0], canvas_size[1] / src_size[1])


def shadow_extent(box: tuple[int, int, int, int], canvas_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Canvas region where the shadow is non-negligible (shadow rectangle grown by 3 sigma), clipped."""
    reach = math.ceil(3 * SHADOW_SIGMA)
    dx, dy = SHADOW_OFFSET
    return (
        max(0, box[0] + dx - reach),
        max(0, box[1] + dy - reach),
        min(canvas_size[0], box[2] + dx + reach),
        min(canvas_size[1], box[3] + dy + reach),
    )
