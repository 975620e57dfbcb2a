"""Lanczos downscaling through libvips when it is installed, Pillow's otherwise.

Why: the auto-format foreground is the one full-detail resize left after the DCT-scaled decode, and
Pillow's resampler is plain scalar C: ~28 ms for 1500x1125 -> 1335x1001 on one core. libvips' lanczos3
(``vips_resize``: box shrink by an integer factor, then an antialiased Lanczos-3 reduce, SIMD) makes the
same picture in ~8 ms (mean absolute difference 0.15 levels; benchmarks/autoformat.py measures the
whole pipeline and its SSIM against the full-resolution Pillow reference). The two copies between the
libraries cost ~2 ms.

libvips comes from the ``pyvips`` + ``pyvips-binary`` wheels. It is imported on first use, not at
import time (start-up stays cheap), its operation cache is switched off (it would keep up to 100 MB of
results nobody asks for again), and nothing here runs a vips operation in a process that later forks:
libvips starts its worker threads on the first operation, so RQ's work horses each start their own.
Where the wheels are missing (a platform without a binary), Pillow does the work and the output is
the same to within a level.
"""

from __future__ import annotations

import functools
import logging
import os
from types import ModuleType
from typing import Any

from PIL import Image

log = logging.getLogger(__name__)

#: Set MARQUEE_VIPS=0 to resize with Pillow only (for comparison, or if libvips misbehaves somewhere).
_ENV = "MARQUEE_VIPS"


@functools.cache
def _vips() -> ModuleType | None:
    if os.environ.get(_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        import pyvips
    except (ImportError, OSError) as exc:  # no wheel for this platform, or libvips failed to load
        log.info("libvips unavailable (%s): resizing with Pillow", exc)
        return None
    pyvips.cache_set_max(0)
    return pyvips


def vips_available() -> bool:
    """Whether foregrounds are resized by libvips in this process."""
    return _vips() is not None


def lanczos_down(
    img: Image.Image, size: tuple[int, int], reducing_gap: float, shared: dict[int, Any] | None = None
) -> Image.Image:
    """``img`` (RGB or L) shrunk to exactly ``size`` with an antialiased Lanczos-3 filter.

    ``reducing_gap`` is what the Pillow path uses (box-reduce first while the remaining Lanczos step
    stays at least that large); libvips' resize does the same on its own. ``shared`` (a dict the
    caller keeps while ``img`` lives) lets several sizes made from one image copy it to libvips once.
    """
    vips = _vips()
    bands = {"RGB": 3, "L": 1}.get(img.mode)
    if vips is None or bands is None or size[0] > img.width or size[1] > img.height:
        return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)
    try:
        entry = shared.get(id(img)) if shared is not None else None
        if entry is None or entry[0] is not img:
            entry = (img, vips.Image.new_from_memory(img.tobytes(), img.width, img.height, bands, "uchar"))
            if shared is not None:
                shared[id(img)] = entry
        src = entry[1]
        out = src.resize(size[0] / img.width, vscale=size[1] / img.height, kernel="lanczos3")
        if (out.width, out.height) != size:  # rounding: never hand back a size nobody asked for
            out = out.crop(0, 0, min(out.width, size[0]), min(out.height, size[1]))
            if (out.width, out.height) != size:
                raise ValueError(f"libvips made {out.width}x{out.height}, not {size[0]}x{size[1]}")
        return Image.frombytes(img.mode, size, out.write_to_memory())
    except (vips.Error, ValueError) as exc:
        log.warning("libvips resize failed (%s); using Pillow", exc)
        return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)
