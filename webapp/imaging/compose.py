"""Compose one artwork onto a fixed-size canvas: fitted foreground, backdrop, drop shadow.

The result must look like the straightforward implementation (full-resolution Lanczos, full-canvas Gaussian
blur of the backdrop, full-canvas blurred shadow layer, alpha compositing; see benchmarks/autoformat.py) but
cost a fraction of it. What makes it fast, and why it still looks the same:

* The backdrop is blurred with sigma 18 px, so it has no detail a 1/4-scale image cannot carry: we build it at
  1/4 scale (from a box-reduced thumbnail), blur there with sigma/4, darken with a lookup table, and upscale
  (bilinear) only the bands of the canvas the foreground does not cover.
* The shadow is a Gaussian-blurred rectangle, which is separable and has a closed form (differences of the
  normal CDF), so we compute two 1-D profiles exactly and multiply them only in the visible bands around the
  artwork, then ``paste`` black through that mask (= multiply the backdrop by 1 - alpha). No RGBA layer.
* The foreground is resized once per distinct size (poster and square often share it) from an input that the
  decoder already reduced with JPEG DCT scaling, so Lanczos only does the last, small step, and that step
  runs in libvips' SIMD resampler when it is installed (``fastresize``; ~3x Pillow's, same picture).
* The canvas is allocated uninitialised: the backdrop bands plus the foreground write every pixel.
* Nothing is converted to numpy; every step is a Pillow C routine on the smallest region that needs it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal, get_args

from PIL import Image, ImageChops, ImageFilter, ImageStat

from .backdrop import calm_backdrop
from .fastresize import lanczos_down
from .geometry import (
    CROP_MAX_LOSS,
    SHADOW_OFFSET,
    SHADOW_OPACITY,
    SHADOW_SIGMA,
    OutputFormat,
    cover_box,
    cover_scale,
    crop_loss,
    placement,
    shadow_extent,
)

FillMode = Literal["blur", "solid", "crop"]
FILL_MODES: tuple[str, ...] = get_args(FillMode)

#: Backdrop blur as seen at output resolution (Gaussian standard deviation, px).
BACKDROP_SIGMA: float = 18.0
#: The backdrop is built at 1/BACKDROP_SCALE of the canvas and upscaled. 1/8 is ~1 ms cheaper per format
#: but its edge handling drifts further from a full-resolution blur (SSIM vs reference -0.001).
BACKDROP_SCALE: int = 4
MAX_DARKEN: float = 0.6

_LANCZOS = Image.Resampling.LANCZOS
_BICUBIC = Image.Resampling.BICUBIC
_NEAREST = Image.Resampling.NEAREST
#: Pillow's reducing_gap: box-reduce by an integer factor first while the remaining Lanczos step is >= 2x.
#: Measured SSIM against a pure Lanczos resize stays above 0.99; it matters for large PNGs (no DCT scaling).
REDUCING_GAP: float = 2.0
#: Minimum Lanczos ratio left after the shared box reduction of a large undrafted image (see
#: prepare_foregrounds). 1.5 keeps the box filter's softness well below what Lanczos then removes.
SHARED_REDUCE_GAP: float = 1.5
#: Derive a foreground from an already-made larger one only when it is at least this much larger. Close to
#: 1x a second Lanczos pass is mostly interpolation and visibly softens (measured: SSIM -0.001 at 1.2x).
CASCADE_MIN: float = 1.5
#: Upscaling filter for the small backdrop. It is blurred far below its sampling rate, so bilinear matches
#: the reference at least as well as bicubic (no overshoot) and is cheaper.
BACKDROP_UPSCALE = Image.Resampling.BILINEAR


@dataclass(frozen=True)
class AutoformatOptions:
    """Per-format rendering choices.

    ``darken`` (0..0.6) darkens the *blurred* backdrop so the sharp artwork stands out; a solid fill is not
    darkened because its point is to continue the artwork's own edge colour seamlessly. ``shadow`` also
    decides the margin (see ``geometry.SHADOW_MARGIN``). Crop never has a shadow; the artwork fills it all.
    """

    fill: FillMode = "blur"
    darken: float = 0.15
    shadow: bool = True

    def __post_init__(self) -> None:
        if self.fill not in FILL_MODES:
            raise ValueError(f"fill must be one of {', '.join(FILL_MODES)}, not {self.fill!r}")
        if not 0.0 <= self.darken <= MAX_DARKEN:
            raise ValueError(f"darken must be between 0 and {MAX_DARKEN}, not {self.darken!r}")


def _percent(fraction: float) -> str:
    value = fraction * 100
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def resolve_fill(
    src_size: tuple[int, int], target: OutputFormat, options: AutoformatOptions
) -> tuple[FillMode, str | None]:
    """The fill actually used, plus a note for the user when a requested crop was refused.

    Crop is only honoured when it loses at most ``CROP_MAX_LOSS`` of the artwork; otherwise we fall back to
    the blurred backdrop, which always shows the whole artwork.
    """
    if options.fill != "crop":
        return options.fill, None
    loss = crop_loss(src_size, target.size)
    if loss > CROP_MAX_LOSS:
        return "blur", (
            f"Crop would lose {_percent(loss)} of the artwork (at most {_percent(CROP_MAX_LOSS)} is "
            "allowed); used the blurred backdrop instead."
        )
    return "crop", None


@functools.lru_cache(maxsize=64)
def _erf_profile(length: int, start: float, end: float, scale: float) -> bytes:
    """8-bit samples (pixel centres) of ``scale`` x a unit box [start, end) blurred by a Gaussian.

    Only the two ramps (within ``4.5 * SHADOW_SIGMA`` of an edge) are evaluated; the plateau between them
    is one repeated byte. Cached: the formats are fixed, so most uploads repeat the same few geometries.
    """
    k = 1.0 / (SHADOW_SIGMA * math.sqrt(2.0))
    reach = 4.5 * SHADOW_SIGMA  # beyond this erf() is 1 to within 8-bit precision
    plateau = min(255, round(255 * scale * 0.5 * (math.erf((end - start) * 0.5 * k) * 2)))
    out = bytearray(length)
    # Pixel i (centre i + 0.5) is on the plateau when start + reach < i + 0.5 < end - reach.
    p0 = max(0, min(length, math.floor(start + reach - 0.5) + 1))
    p1 = max(p0, min(length, math.ceil(end - reach - 0.5)))
    out[p0:p1] = bytes([plateau]) * (p1 - p0)
    for i in (*range(p0), *range(p1, length)):
        c = i + 0.5
        value = 0.5 * (math.erf((c - start) * k) - math.erf((c - end) * k))
        out[i] = min(255, max(0, round(255 * scale * value)))
    return bytes(out)


def _bands(box: tuple[int, int, int, int], size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The canvas minus the foreground box, as up to four non-overlapping rectangles."""
    w, h = size
    left, top, right, bottom = box
    bands = [(0, 0, w, top), (0, bottom, w, h), (0, top, left, bottom), (right, top, w, bottom)]
    return [b for b in bands if b[2] > b[0] and b[3] > b[1]]


class Renderer:
    """Renders any number of formats from one decoded image, sharing intermediate work between them.

    ``source_size`` is the artwork's real (oriented) size when ``img`` was decoded at reduced scale; geometry
    and the crop decision use it so they do not depend on how the decoder rounded.
    """

    def __init__(
        self,
        img: Image.Image,
        source_size: tuple[int, int] | None = None,
        targets: list[OutputFormat] | None = None,
    ) -> None:
        self.img = img if img.mode == "RGB" else img.convert("RGB")
        self.source_size = source_size or self.img.size
        self._foregrounds: dict[tuple[int, int], Image.Image] = {}
        self._thumbs: dict[int, Image.Image] = {}
        self._vips_sources: dict[int, object] = {}  # see fastresize.lanczos_down
        self._edge_colour: tuple[int, int, int] | None = None
        self._thumb_factor: int | None = None
        if targets:
            self._thumb_factor = min(self._backdrop_reduction(t.size) for t in targets)

    # -- shared intermediates ---------------------------------------------------------------------------

    def _backdrop_reduction(self, canvas: tuple[int, int]) -> int:
        """Largest integer box reduction that keeps >= 1 thumbnail pixel per small-backdrop pixel.

        The box average plus the bilinear (antialiased) downscale and a blur of several small pixels leave
        no visible aliasing, and reading a thumbnail instead of the decoded image is ~5x cheaper.
        """
        per_small_px = BACKDROP_SCALE / cover_scale(self.img.size, canvas)
        return max(1, min(int(per_small_px), self.img.width, self.img.height))

    def _thumb(self, factor: int) -> Image.Image:
        if factor <= 1:
            return self.img
        if factor not in self._thumbs:
            self._thumbs[factor] = self.img.reduce(factor)
        return self._thumbs[factor]

    def foreground(self, size: tuple[int, int]) -> Image.Image:
        """The whole artwork resized to ``size``: Lanczos when shrinking, bicubic when enlarging.

        A smaller foreground is derived from the smallest larger one already made (e.g. poster from banner)
        when that is at least ``CASCADE_MIN`` times the size: resampling fewer input pixels roughly halves the
        cost, and a second Lanczos pass over an already band-limited image changes it imperceptibly.
        """
        if size not in self._foregrounds:
            source = self.img
            for made in sorted(self._foregrounds.values(), key=lambda im: im.width * im.height):
                if made.width >= size[0] * CASCADE_MIN and made.height >= size[1] * CASCADE_MIN:
                    source = made
                    break
            if size == source.size:
                fg = source
            elif size[0] > source.width or size[1] > source.height:
                fg = source.resize(size, _BICUBIC)
            else:
                fg = lanczos_down(source, size, REDUCING_GAP, self._vips_sources)
            self._foregrounds[size] = fg
        return self._foregrounds[size]

    def prepare_foregrounds(self, sizes: list[tuple[int, int]]) -> None:
        """Make the foregrounds largest first, so smaller ones can cascade from larger ones.

        When every foreground is much smaller than the image (a big PNG has no DCT-scaled decode), one shared
        integer box reduction is made first, leaving at least ``SHARED_REDUCE_GAP`` for Lanczos. Doing it
        once instead of per resize (Pillow's ``reducing_gap``) saves a full pass over the image per format.
        """
        unique = sorted(set(sizes), key=lambda s: s[0] * s[1], reverse=True)
        if unique:
            ratio = min(min(self.img.width / w, self.img.height / h) for w, h in unique)
            factor = int(ratio / SHARED_REDUCE_GAP)
            if factor >= 2:
                reduced = self._thumb(factor)
                self._foregrounds[reduced.size] = reduced
        for size in unique:
            self.foreground(size)

    def edge_colour(self) -> tuple[int, int, int]:
        """Per-channel median of the artwork's border pixels (robust to a stray logo or frame corner)."""
        if self._edge_colour is None:
            factor = max(1, min(self.img.width, self.img.height, max(self.img.size) // 256))
            small = self._thumb(factor)
            w, h = small.size
            t = max(1, round(0.03 * min(w, h)))
            hist = [0] * 768
            for box in ((0, 0, w, t), (0, h - t, w, h), (0, 0, t, h), (w - t, 0, w, h)):
                for i, n in enumerate(small.crop(box).histogram()):
                    hist[i] += n
            median = ImageStat.Stat(hist).median
            self._edge_colour = (int(median[0]), int(median[1]), int(median[2]))
        return self._edge_colour

    def small_backdrop(self, canvas: tuple[int, int], darken: float) -> Image.Image:
        """The cover-scaled, blurred, darkened backdrop at 1/BACKDROP_SCALE of ``canvas``."""
        cw, ch = canvas
        small_size = (max(1, round(cw / BACKDROP_SCALE)), max(1, round(ch / BACKDROP_SCALE)))
        factor = self._thumb_factor or self._backdrop_reduction(canvas)
        factor = min(factor, self._backdrop_reduction(canvas))
        thumb = self._thumb(factor)
        x0, y0, x1, y1 = cover_box(self.img.size, canvas)
        box = (
            x0 / factor,
            y0 / factor,
            min(thumb.width, x1 / factor),
            min(thumb.height, y1 / factor),
        )
        small = thumb.resize(small_size, Image.Resampling.BILINEAR, box=box)
        # Downscale (triangle filter k px wide) and the upscale already smooth a little; take that
        # variance off so the *effective* sigma at output resolution is BACKDROP_SIGMA.
        k = cw / small_size[0]
        sigma_out = math.sqrt(max(BACKDROP_SIGMA**2 - k * k / 6.0, 1.0))
        sigma_small = sigma_out * small_size[0] / cw
        small = calm_backdrop(small.filter(ImageFilter.GaussianBlur(sigma_small)), sigma_small)
        if darken > 0:
            keep = 1.0 - darken
            small = small.point([round(v * keep) for v in range(256)] * 3)
        return small

    # -- rendering --------------------------------------------------------------------------------------

    def render(
        self, target: OutputFormat, options: AutoformatOptions
    ) -> tuple[Image.Image, FillMode, str | None]:
        """Render one format; returns the image, the fill actually used and an optional note."""
        fill, note = resolve_fill(self.source_size, target, options)
        size = target.size
        if fill == "crop":
            box = cover_box(self.img.size, size)
            if cover_scale(self.img.size, size) > 1:
                return self.img.resize(size, _BICUBIC, box=box), fill, note
            return self.img.resize(size, _LANCZOS, box=box, reducing_gap=REDUCING_GAP), fill, note

        box = placement(self.source_size, size, shadow=options.shadow)
        bands = _bands(box, size)
        if fill == "solid":
            canvas = Image.new("RGB", size, self.edge_colour())
        else:
            canvas = Image.new("RGB", size, None)  # uninitialised: the bands plus the foreground cover it
            small = self.small_backdrop(size, options.darken)
            sx = small.width / size[0]
            sy = small.height / size[1]
            for bx0, by0, bx1, by1 in bands:
                part = small.resize(
                    (bx1 - bx0, by1 - by0), BACKDROP_UPSCALE, box=(bx0 * sx, by0 * sy, bx1 * sx, by1 * sy)
                )
                canvas.paste(part, (bx0, by0))
        if options.shadow:
            self._paste_shadow(canvas, box, bands)
        canvas.paste(self.foreground((box[2] - box[0], box[3] - box[1])), (box[0], box[1]))
        return canvas, fill, note

    @staticmethod
    def _paste_shadow(
        canvas: Image.Image, box: tuple[int, int, int, int], bands: list[tuple[int, int, int, int]]
    ) -> None:
        """Darken the visible parts of a blurred, offset copy of the foreground rectangle."""
        ex0, ey0, ex1, ey1 = shadow_extent(box, canvas.size)
        dx, dy = SHADOW_OFFSET
        xs = _erf_profile(ex1 - ex0, box[0] + dx - ex0, box[2] + dx - ex0, 1.0)
        ys = _erf_profile(ey1 - ey0, box[1] + dy - ey0, box[3] + dy - ey0, SHADOW_OPACITY)
        for bx0, by0, bx1, by1 in bands:
            x0, y0, x1, y1 = max(bx0, ex0), max(by0, ey0), min(bx1, ex1), min(by1, ey1)
            if x1 <= x0 or y1 <= y0:
                continue
            w, h = x1 - x0, y1 - y0
            row = Image.frombytes("L", (w, 1), xs[x0 - ex0 : x1 - ex0]).resize((w, h), _NEAREST)
            col = Image.frombytes("L", (1, h), ys[y0 - ey0 : y1 - ey0]).resize((w, h), _NEAREST)
            canvas.paste((0, 0, 0), (x0, y0, x1, y1), ImageChops.multiply(row, col))


def render(
    img: Image.Image, target: OutputFormat, options: AutoformatOptions = AutoformatOptions()
) -> Image.Image:
    """Render ``img`` (any mode; RGB expected) to exactly ``target``'s size in RGB."""
    return Renderer(img).render(target, options)[0]
