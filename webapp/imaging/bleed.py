"""Full-bleed fitting of generated artwork to a format: crop a little, or extend the art itself.

A provider draws at its own aspect ratio (OpenAI's widest is 3:2, Gemini's banner 16:9), but a banner is
2160x1089 (~1.98:1). The auto-format "blur" fill pads the art onto a blurred, darkened copy of itself with
a shadow: right for a producer's own upload (whose every pixel must stay visible), wrong for a backdrop
that type will be set on — the pad reads as a frame and the title runs across its edge. Generated art is
therefore composed *full-bleed*:

* when covering the format loses at most ``CROP_MAX_LOSS`` of the art, it is scaled to cover and
  centre-cropped (as before);
* otherwise it is scaled to the format's binding dimension (a landscape source into a banner fills the
  full height) and the missing margins are grown from the art's own edges: a mirror image of the strip
  next to each margin (continuous at the seam, so there is no edge), softened progressively outwards by a
  feathered blur of that same strip and gently toned towards the edge's mean colour. The margins keep the
  texture and light of the art, so no band of flat or blurred colour frames it.

Pillow only (no numpy): this runs in the worker for every stored AI image.
"""

from __future__ import annotations

from PIL import Image, ImageFilter, ImageOps

from .geometry import CROP_MAX_LOSS, crop_loss

#: How far (0..1) the outermost column of a margin is blended towards the blurred strip. Half keeps
#: texture up to the frame edge; the ramp hides the mirror's symmetry line where the eye would look.
OUTER_SOFTEN = 0.55
#: The feathered blur, as a fraction of the art's height.
SOFT_SIGMA = 0.012
#: How far the outer edge drifts towards the edge strip's average colour (calms mirrored detail).
OUTER_TONE = 0.18


def full_bleed(art: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``art`` filling ``size`` edge to edge: covered and cropped, or fitted and extended (see module)."""
    art = art.convert("RGB")
    width, height = size
    if art.size == size:
        return art.copy()
    if crop_loss(art.size, size) <= CROP_MAX_LOSS:
        return ImageOps.fit(art, size, Image.Resampling.LANCZOS)
    sw, sh = art.size
    if sw * height >= sh * width:  # relatively wider: width binds, grow top and bottom
        turned = art.transpose(Image.Transpose.TRANSPOSE)
        out = _extend_sideways(turned, (height, width))
        return out.transpose(Image.Transpose.TRANSPOSE)
    return _extend_sideways(art, size)


def _extend_sideways(art: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Fit the art to the full height, then grow left and right margins from its own edge strips."""
    width, height = size
    sw, sh = art.size
    inner_w = max(1, min(width, round(sw * height / sh)))
    fitted = art.resize((inner_w, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
    left = (width - inner_w) // 2
    right = width - inner_w - left
    canvas = Image.new("RGB", size)
    canvas.paste(fitted, (left, 0))
    if left:
        strip = _margin(fitted, left, side="left")
        canvas.paste(strip, (0, 0))
    if right:
        strip = _margin(fitted, right, side="right")
        canvas.paste(strip, (left + inner_w, 0))
    return canvas


def _mirrored(fitted: Image.Image, margin: int, side: str) -> Image.Image:
    """``margin`` columns continuing ``fitted`` past its ``side`` edge by reflection (repeated if needed)."""
    w, h = fitted.size
    flipped = fitted.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    # Reflection repeats with period 2w: original, mirror, original, ... outwards from the seam.
    tiles = [flipped, fitted]
    out = Image.new("RGB", (margin, h))
    filled = 0
    i = 0
    while filled < margin:
        tile = tiles[i % 2]
        take = min(w, margin - filled)
        if side == "left":  # grows right-to-left from the seam
            out.paste(tile.crop((w - take, 0, w, h)), (margin - filled - take, 0))
        else:
            out.paste(tile.crop((0, 0, take, h)), (filled, 0))
        filled += take
        i += 1
    return out


def _margin(fitted: Image.Image, margin: int, side: str) -> Image.Image:
    """A mirrored margin, softened and toned more the further it is from the art (a feathered ramp)."""
    h = fitted.height
    mirrored = _mirrored(fitted, margin, side)
    sigma = max(1.0, SOFT_SIGMA * h)
    # Blur a little beyond the margin (reflection padding) so the soft layer has no dark rim at its edge.
    soft = mirrored.filter(ImageFilter.GaussianBlur(sigma))
    edge_mean = mirrored.resize((1, 1), Image.Resampling.BOX).resize(mirrored.size)
    toned = Image.blend(soft, edge_mean, OUTER_TONE / max(OUTER_SOFTEN, 1e-6))
    ramp = _ramp(margin, h, side)
    return Image.composite(toned, mirrored, ramp)


def _ramp(margin: int, height: int, side: str) -> Image.Image:
    """An "L" mask: 0 at the seam, rising smoothly to OUTER_SOFTEN at the frame edge."""
    values = []
    for i in range(margin):
        t = (i + 0.5) / margin  # 0 at the seam .. 1 at the frame edge
        t = t * t * (3 - 2 * t)
        values.append(round(255 * OUTER_SOFTEN * t))
    if side == "left":
        values.reverse()
    row = Image.new("L", (margin, 1))
    row.putdata(values)
    return row.resize((margin, height), Image.Resampling.NEAREST)
