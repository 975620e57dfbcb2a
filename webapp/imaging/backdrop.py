"""Calming the blurred backdrop where the artwork's own large, high-contrast shapes would survive the blur.

The auto-format "blur" fill cover-scales the artwork behind itself and blurs it with ``BACKDROP_SIGMA``
(18 px at output size). That is right for photographs, but a poster that already carries its title has
glyphs several hundred pixels tall once cover-scaled into a banner: an 18 px blur leaves them legible, a
giant ghost of the title beside the sharp poster. A stronger blur for every image would change every
photograph's backdrop too, so the treatment is local and driven by what would otherwise show:

* ``detail`` = |backdrop - a much stronger blur of it| is the structure at glyph scale that the normal blur
  keeps. Most photographs have little of it (soft light, textures the blur already removed); rendered type
  on a contrasting ground has a lot (a white stroke on a mid-dark photo differs from its surroundings by
  100+ levels).
* Where ``detail`` exceeds ``GHOST_LOW`` (ramping to full at ``GHOST_HIGH``), the backdrop is replaced by
  the strong blur, pulled ``GHOST_FLATTEN`` of the way towards the strong blur's own mean (lower contrast).
  The mask is itself blurred as strongly and then amplified, so the calmed area is a soft cloud that covers
  whole glyphs (not only their rims) and has no edge of its own. What remains is a glow in the artwork's
  colours with no glyph shapes. A photograph with equally strong large shapes (a white suit against black
  space) is calmed the same way there: its backdrop gets quieter, which is the point of a backdrop.

Cost: Pillow C routines only; the two extra Gaussian blurs run at 1/16 of the canvas (1/4 of the backdrop,
which is itself built at 1/4), the difference and lookup tables at 1/4, and an image whose backdrop has no
strong structure returns after the first blur and difference (the mask is empty). See ``tests/unit/
test_i19polish_ghost.py`` for the measurement.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter, ImageStat

#: The strong blur, as a multiple of the normal backdrop blur.
GHOST_BLUR: float = 7.0
#: Luma difference (0..255) between the normal and the strong blur where calming starts / is complete.
GHOST_LOW: int = 40
GHOST_HIGH: int = 70
#: How far the calmed area is pulled towards the mean colour of the strong blur (lower contrast).
GHOST_FLATTEN: float = 0.45
#: After softening, the mask is amplified so anything a sixth covered is fully calmed.
GHOST_GAIN: int = 3


def _smoothstep_lut(lo: int, hi: int) -> list[int]:
    out = []
    for v in range(256):
        t = min(1.0, max(0.0, (v - lo) / (hi - lo)))
        out.append(round(255 * t * t * (3 - 2 * t)))
    return out


_MASK_LUT = _smoothstep_lut(GHOST_LOW, GHOST_HIGH)
_GAIN_LUT = [min(255, v * GHOST_GAIN) for v in range(256)]
#: Scale of the strong blur and the mask softening relative to the backdrop (see calm_backdrop).
_REDUCE = 4
_UP = Image.Resampling.BILINEAR


def calm_backdrop(small: Image.Image, sigma: float) -> Image.Image:
    """``small`` (an RGB backdrop already blurred by ``sigma`` px) with glyph-scale ghosts dissolved.

    The strong blur and the mask's softening have no detail finer than several pixels of ``small``, so they
    are computed at 1/``_REDUCE`` of it (box-reduced, then bilinear back up): ~10x cheaper than blurring
    at full size, and indistinguishable after the blur.
    """
    f = _REDUCE if min(small.size) >= 4 * _REDUCE else 1
    quarter = small.reduce(f) if f > 1 else small
    strong_q = quarter.filter(ImageFilter.GaussianBlur(sigma * GHOST_BLUR / f))
    strong = strong_q.resize(small.size, _UP) if f > 1 else strong_q
    mask = ImageChops.difference(small, strong).convert("L").point(_MASK_LUT)
    if mask.getextrema()[1] == 0:
        return small
    mask_q = mask.reduce(f) if f > 1 else mask
    mask_q = mask_q.filter(ImageFilter.GaussianBlur(sigma * GHOST_BLUR * 0.6 / f)).point(_GAIN_LUT)
    mean = tuple(round(c) for c in ImageStat.Stat(strong_q).mean)
    calm_q = Image.blend(strong_q, Image.new("RGB", strong_q.size, mean), GHOST_FLATTEN)
    if f > 1:
        return Image.composite(calm_q.resize(small.size, _UP), small, mask_q.resize(small.size, _UP))
    return Image.composite(calm_q, small, mask_q)
