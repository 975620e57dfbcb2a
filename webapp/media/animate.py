"""The free offline video engine: one still image -> an MP4 with real motion (Ken Burns).

Why it is built this way (the benchmark in ``benchmarks/animate.py`` holds it to it): a first attempt
spent half its time making frames with a PIL resize per frame. Here the image is covered/cropped to the
clip's aspect and scaled ONCE to the largest crop the motion needs (output size x ``MARGIN``); each frame is
then a numpy slice of that array, and ``VideoFrame.reformat`` scales it straight into the encoder's
yuv420p in one libswscale pass. The optional title reveal is drawn once with Pillow, converted once to
Y/U/V planes with an alpha, and blended per frame with integer numpy over its own bounding box only.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp.providers.media import MAX_SECONDS, MIN_SECONDS, MOTIONS, VIDEO_FORMATS

FPS = 30
CRF = 23
PRESET = "veryfast"
MARGIN = 1.2  # the source is prepared this much larger than the output, for the motion to travel in
BATCH = 15  # frames between progress reports and cancel checks (half a second of clip)
TITLE_START, TITLE_FADE = 0.6, 0.9  # seconds: when the title starts to appear and how long it takes


class ClipCancelled(Exception):
    """The caller's ``cancelled()`` said stop, between two frame batches."""


@dataclass(frozen=True)
class ClipSpec:
    """What to render: output format (a key of VIDEO_FORMATS or an explicit size), length, motion, title."""

    format: str = "story"
    seconds: float = 6
    motion: str = "push-in"
    title: str = ""
    subtitle: str = ""
    size: tuple[int, int] | None = None  # overrides the format's size (tests make 360-wide clips)
    fps: int = FPS
    threads: int = 0  # 0: the encoder decides; the benchmark pins 1

    def dimensions(self) -> tuple[int, int]:
        if self.size is not None:
            w, h = self.size
        else:
            w, h = VIDEO_FORMATS[self.format]
        return w - w % 2, h - h % 2

    def errors(self) -> list[str]:
        found = []
        if self.size is None and self.format not in VIDEO_FORMATS:
            found.append(f"Choose a format from {', '.join(VIDEO_FORMATS)}.")
        if not MIN_SECONDS <= self.seconds <= MAX_SECONDS:
            found.append(f"A clip lasts {MIN_SECONDS} to {MAX_SECONDS} seconds.")
        if self.motion not in MOTIONS:
            found.append(f"Choose a motion from {', '.join(MOTIONS)}.")
        return found


def ease(t: float) -> float:
    """Ease-in-out (smoothstep of a cosine): starts and ends at rest, no jolt at either end."""
    t = min(1.0, max(0.0, t))
    return 0.5 - 0.5 * math.cos(math.pi * t)


def prepare_source(image: Any, size: tuple[int, int]) -> Any:
    """Cover-crop ``image`` (PIL, RGB) to the clip's aspect and scale it once to size x MARGIN: an
    (H, W, 3) uint8 array every frame is sliced from."""
    import numpy as np
    from PIL import Image

    w, h = size
    sw, sh = round(w * MARGIN), round(h * MARGIN)
    iw, ih = image.size
    target = sw / sh
    if iw / ih > target:  # too wide: crop the sides
        cw = round(ih * target)
        box = ((iw - cw) // 2, 0, (iw - cw) // 2 + cw, ih)
    else:
        ch = round(iw / target)
        box = (0, (ih - ch) // 2, iw, (ih - ch) // 2 + ch)
    src = image.convert("RGB").resize((sw, sh), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    return np.asarray(src)


def crop_box(motion: str, t: float, src: tuple[int, int], out: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the crop at eased time ``t`` in [0, 1], in source pixels.

    Push-in goes from the whole prepared source (zoomed out) to an output-sized centre crop (1:1, never
    upscaled); pull-out is the reverse; pans hold a crop between the two and travel across the margin."""
    sw, sh = src
    w, h = out
    e = ease(t)
    if motion in ("push-in", "pull-out"):
        z = e if motion == "push-in" else 1 - e
        cw, ch = sw + (w - sw) * z, sh + (h - sh) * z
        x, y = (sw - cw) / 2, (sh - ch) / 2
    else:
        cw, ch = (sw + w) / 2, (sh + h) / 2  # halfway zoom leaves room to travel
        span_x, span_y = sw - cw, sh - ch
        x, y = span_x / 2, span_y / 2
        if motion == "pan-left":  # the view moves left: the crop travels from right to left
            x = span_x * (1 - e)
        elif motion == "pan-right":
            x = span_x * e
        elif motion == "pan-up":
            y = span_y * (1 - e)
        elif motion == "pan-down":
            y = span_y * e
    cw_i, ch_i = max(2, round(cw)), max(2, round(ch))
    x_i = min(max(0, round(x)), sw - cw_i)
    y_i = min(max(0, round(y)), sh - ch_i)
    return x_i, y_i, cw_i, ch_i


class TitleOverlay:
    """The show's title and date line, drawn once over a soft scrim, kept as Y/U/V planes and an alpha
    (BT.601 limited range, what libswscale produces for yuv420p) to blend into each frame."""

    def __init__(self, title: str, subtitle: str, size: tuple[int, int]) -> None:
        import numpy as np
        from PIL import Image, ImageDraw

        from webapp.imaging import fonts

        w, h = size
        fam = fonts.family(None)
        band = max(4, (round(h * 0.34) // 2) * 2)
        img = Image.new("RGBA", (w, band), (0, 0, 0, 0))
        scrim = np.linspace(0, 170, band, dtype=np.float32)[:, None].repeat(w, axis=1)
        img.putalpha(Image.fromarray(scrim.astype(np.uint8), "L"))
        draw = ImageDraw.Draw(img)
        title = (title.upper() if fam.display_upper else title).strip()
        size_px = max(12, round(min(w, h) * 0.11))
        font = fonts.load(fam.display, size_px)
        while size_px > 12 and fonts.width(font, title) > w * 0.88:
            size_px = round(size_px * 0.92)
            font = fonts.load(fam.display, size_px)
        sub_px = max(10, round(size_px * 0.36))
        sub_font = fonts.load(fam.strong, sub_px)
        y_sub = band - round(band * 0.12) - sub_px
        y_title = y_sub - round(size_px * 1.05)
        if title:
            draw.text((w / 2, y_title), title, font=font, fill=(255, 255, 255, 255), anchor="mt")
        if subtitle:
            draw.text((w / 2, y_sub), subtitle.strip(), font=sub_font, fill=(255, 255, 255, 235), anchor="mt")
        rgba = np.asarray(img).astype(np.int32)
        r, g, b, a = rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3]
        y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16
        u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128
        v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128

        def quarter(x: Any) -> Any:  # 2x2 box average to chroma resolution
            return (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) // 4

        a_c = quarter(a)
        # chroma is averaged premultiplied by alpha, so text edges keep their colour
        u_c = quarter(u * a) // np.maximum(a_c, 1)
        v_c = quarter(v * a) // np.maximum(a_c, 1)
        self.planes = [(y, a), (u_c, a_c), (v_c, a_c)]
        self.planes = [(p.astype(np.uint16), al.astype(np.uint16)) for p, al in self.planes]
        self.band, self.width, self.height = band, w, h

    def blend(self, frame: Any, opacity: float, slide: int) -> None:
        """Blend into a yuv420p ``VideoFrame`` in place; ``slide`` (px) pushes the band down."""
        import numpy as np

        if opacity <= 0:
            return
        slide = min(self.band - 2, max(0, slide - slide % 2))
        k = round(opacity * 256)
        for index, (over, alpha) in enumerate(self.planes):
            plane = frame.planes[index]
            div = 1 if index == 0 else 2
            rows = (self.band - slide) // div
            view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: plane.height, : plane.width]
            target = view[plane.height - rows :]
            a = (alpha[:rows] * k) >> 8
            target[:] = (target * (256 - a) + over[:rows] * a) >> 8


def _open_output(path: str, size: tuple[int, int], spec: ClipSpec) -> tuple[Any, Any]:
    import av

    container = av.open(path, "w", format="mp4", options={"movflags": "+faststart"})
    stream = container.add_stream("libx264", rate=spec.fps, options={"crf": str(CRF), "preset": PRESET})
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    if spec.threads:
        stream.codec_context.thread_count = spec.threads
    return container, stream


def to_yuv_planes(src: Any) -> tuple[Any, Any, Any]:
    """The prepared RGB source as yuv420p planes (one libswscale conversion for the whole clip)."""
    import numpy as np
    from av import VideoFrame

    h, w = src.shape[:2]
    src = np.ascontiguousarray(src[: h - h % 4, : w - w % 4])  # to_ndarray stacks U, V as h/4 rows
    yuv = VideoFrame.from_ndarray(src, format="rgb24").reformat(format="yuv420p").to_ndarray()
    h, w = src.shape[:2]
    y = yuv[:h]
    u = yuv[h : h + h // 4].reshape(h // 2, w // 2)
    v = yuv[h + h // 4 :].reshape(h // 2, w // 2)
    return y, u, v


def _crop_frame(planes: tuple[Any, Any, Any], box: tuple[int, int, int, int]) -> Any:
    """A yuv420p VideoFrame holding the crop (even coordinates), copied plane by plane into the frame's
    own buffers: no RGB round trip, no intermediate array."""
    import numpy as np
    from av import VideoFrame

    x, y, cw, ch = (v - v % 2 for v in box)
    frame = VideoFrame(cw, ch, "yuv420p")
    for index, plane_src in enumerate(planes):
        div = 1 if index == 0 else 2
        plane = frame.planes[index]
        view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        view[: ch // div, : cw // div] = plane_src[y // div : (y + ch) // div, x // div : (x + cw) // div]
    return frame


def render_frames(src: Any, spec: ClipSpec) -> Any:
    """Yield each frame as an ``av.VideoFrame`` (yuv420p at the output size)."""
    w, h = spec.dimensions()
    planes = to_yuv_planes(src)
    sh, sw = planes[0].shape
    n = max(1, round(spec.seconds * spec.fps))
    overlay = TitleOverlay(spec.title, spec.subtitle, (w, h)) if (spec.title or spec.subtitle) else None
    for i in range(n):
        box = crop_box(spec.motion, i / max(1, n - 1), (sw, sh), (w, h))
        frame = _crop_frame(planes, box).reformat(w, h, format="yuv420p")
        if overlay is not None:
            t = (i / spec.fps - TITLE_START) / TITLE_FADE
            if t > 0:
                overlay.blend(frame, ease(t), round((1 - ease(t)) * overlay.band * 0.25))
        frame.pts = i
        yield frame


def encode_frames(
    frames: Any, path: str, size: tuple[int, int], spec: ClipSpec, on_frame: Any = None
) -> None:
    """Encode frames (yuv420p ``VideoFrame``s) to an H.264 MP4 with +faststart at ``path``."""
    container, stream = _open_output(path, size, spec)
    try:
        for i, frame in enumerate(frames):
            container.mux(stream.encode(frame))
            if on_frame is not None:
                on_frame(i)
        container.mux(stream.encode(None))
    finally:
        container.close()


def render_clip(
    image_bytes: bytes,
    spec: ClipSpec,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> bytes:
    """Animate an encoded still (PNG/JPEG/WebP, already validated) into MP4 bytes.

    ``progress(fraction, stage)`` and ``cancelled()`` are called every ``BATCH`` frames; a cancel raises
    ``ClipCancelled`` and leaves no file behind."""
    from webapp.imaging import decode

    errors = spec.errors()
    if errors:
        raise ValueError(" ".join(errors))
    size = spec.dimensions()
    image = decode(image_bytes, (round(size[0] * MARGIN), round(size[1] * MARGIN)))
    src = prepare_source(image, size)
    total = max(1, round(spec.seconds * spec.fps))

    def on_frame(i: int) -> None:
        if (i + 1) % BATCH:
            return
        if cancelled is not None and cancelled():
            raise ClipCancelled
        if progress is not None:
            progress((i + 1) / total, f"Rendering frame {i + 1} of {total}")

    fd, path = tempfile.mkstemp(suffix=".mp4", prefix="marquee-clip-")
    os.close(fd)
    try:
        encode_frames(render_frames(src, spec), path, size, spec, on_frame)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def render_clip_image(image: Any, spec: ClipSpec) -> bytes:
    """The same for a PIL image (the benchmark and tests start from one)."""
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return render_clip(buf.getvalue(), spec)
