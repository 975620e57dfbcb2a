"""Warn when an upload is too small for a format: it will be enlarged and look soft.

An 8x8 px upload used to become a 1200x1800 poster without a word. Enlarging up to 2x is hardly visible on
a poster viewed at arm's length or on a phone; beyond that edges go visibly soft, so past
:data:`MAX_UPSCALE` every door that shows results (results page, job result, API, CLI) gets a warning. It is
a warning, not a refusal: a small logo on a blurred backdrop may be exactly what the producer wants.

The factor is measured after the fill mode is resolved, the way the renderer will actually draw: crop
scales the artwork to *cover* the canvas, blur and solid scale it to *fit* inside (minus the shadow margin),
and a crop refused for losing too much falls back to blur (``compose.resolve_fill``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .compose import AutoformatOptions, resolve_fill
from .geometry import OutputFormat, cover_scale, placement

#: Largest enlargement (output px per source px) that passes without a warning.
MAX_UPSCALE = 2.0


@dataclass(frozen=True)
class UpscaleWarning:
    """One format the artwork is enlarged for by more than :data:`MAX_UPSCALE`."""

    format: str
    source: tuple[int, int]
    canvas: tuple[int, int]
    factor: float
    #: Smallest upload (same aspect ratio) that would be enlarged no more than MAX_UPSCALE.
    min_size: tuple[int, int]

    @property
    def message(self) -> str:
        sw, sh = self.source
        cw, ch = self.canvas
        mw, mh = self.min_size
        return (
            f"This image is {sw}×{sh} px; the {self.format} is {cw}×{ch}, so the artwork is enlarged "
            f"{format_factor(self.factor)} and will look soft. Upload at least {mw}×{mh} px for a sharp "
            f"{self.format}."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": list(self.source),
            "canvas": list(self.canvas),
            "factor": round(self.factor, 2),
            "factor_text": format_factor(self.factor),
            "min_size": list(self.min_size),
            "message": self.message,
        }


def format_factor(factor: float) -> str:
    """ "225x" for large factors, "2.4x" below 10 (a decimal matters there; rounded up so a factor just
    over the limit never reads as "2.0x"), with a multiplication sign."""
    return f"{factor:.0f}\u00d7" if factor >= 10 else f"{math.ceil(factor * 10) / 10:.1f}\u00d7"


def enlargement(src_size: tuple[int, int], target: OutputFormat, options: AutoformatOptions) -> float:
    """Output pixels per source pixel for ``target`` with ``options`` (the fill actually used)."""
    fill, _ = resolve_fill(src_size, target, options)
    if fill == "crop":
        return cover_scale(src_size, target.size)
    left, top, right, bottom = placement(src_size, target.size, shadow=options.shadow)
    return max((right - left) / src_size[0], (bottom - top) / src_size[1])


def upscale_warnings(
    src_size: tuple[int, int],
    targets: Iterable[OutputFormat],
    options: Mapping[str, AutoformatOptions] | AutoformatOptions | None = None,
) -> list[UpscaleWarning]:
    """A warning for every target the artwork (``src_size``, after EXIF orientation) is enlarged for by
    more than :data:`MAX_UPSCALE`, in the order given; empty when the upload is large enough."""
    sw, sh = src_size
    if sw < 1 or sh < 1:
        return []
    found = []
    for target in targets:
        if options is None:
            opts = AutoformatOptions()
        elif isinstance(options, AutoformatOptions):
            opts = options
        else:
            opts = options.get(target.name, AutoformatOptions())
        factor = enlargement(src_size, target, opts)
        if factor > MAX_UPSCALE:
            need = (math.ceil(sw * factor / MAX_UPSCALE), math.ceil(sh * factor / MAX_UPSCALE))
            found.append(UpscaleWarning(target.name, (sw, sh), target.size, factor, need))
    return found
