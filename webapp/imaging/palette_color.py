"""One colour of a palette, in the notations people and the code use (hex, RGB, HSL, CIELAB) with its share.

Its own module so extraction (``palette``) and role assignment (``palette_roles``) can both use it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .color import hex_to_rgb, rgb_to_hex, rgb_to_hsl, srgb_to_lab


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
