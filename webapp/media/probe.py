"""Reading video and audio we did not make ourselves (a provider's download, an upload, a file read back
from storage) without trusting it.

The container format is always forced from the type we expect (PROVIDERS.md: without ``format=`` a PNG
renamed ``.mp4`` opens happily as an image pipe) and FFmpeg may only use the ``file`` protocol (a playlist
inside a hostile file cannot make it fetch URLs). Garbage, empty and truncated files raise inside ``open``
or only later while decoding, so both are wrapped: every failure becomes one ``MediaRejected`` with a
message a producer can act on. Declared dimensions and duration are checked before anything is decoded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, BinaryIO

MAX_SIDE = 4096
MAX_SECONDS = 120.0
THUMB_SIDE = 480

# content type -> (media kind, the demuxer to force, file extension)
MEDIA_TYPES: dict[str, tuple[str, str, str]] = {
    "video/mp4": ("video", "mp4", "mp4"),
    "audio/mpeg": ("audio", "mp3", "mp3"),
    "audio/wav": ("audio", "wav", "wav"),
    "audio/mp4": ("audio", "mp4", "m4a"),
}


class MediaRejected(ValueError):
    """A video or audio file we will not keep, with what to do about it."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "video" or "audio"
    content_type: str
    duration_s: float
    width: int | None
    height: int | None
    codec: str


def _source(data: bytes | str | BinaryIO) -> Any:
    return io.BytesIO(data) if isinstance(data, bytes | bytearray) else data


def _open(data: bytes | str | BinaryIO, content_type: str) -> Any:
    import av

    if content_type not in MEDIA_TYPES:
        raise MediaRejected(f"{content_type or 'This type'} is not a video or audio type Marquee keeps.")
    if isinstance(data, bytes | bytearray) and not data:
        raise MediaRejected("The file is empty.")
    fmt = MEDIA_TYPES[content_type][1]
    try:
        return av.open(_source(data), mode="r", format=fmt, options={"protocol_whitelist": "file"})
    except (av.error.FFmpegError, ValueError, OSError, EOFError) as exc:
        raise MediaRejected(
            f"This is not a readable {fmt.upper()} file ({type(exc).__name__}); export it again and retry."
        ) from None


def probe(
    data: bytes | str | BinaryIO,
    content_type: str,
    *,
    max_side: int = MAX_SIDE,
    max_seconds: float = MAX_SECONDS,
) -> MediaInfo:
    """Validate a video/audio file and return what we record about it (raises ``MediaRejected``).

    One frame (video) or one audio frame is decoded to prove the stream is real, not only its header."""
    import av

    kind = MEDIA_TYPES.get(content_type, ("", "", ""))[0]
    container = _open(data, content_type)
    try:
        streams = container.streams.video if kind == "video" else container.streams.audio
        if not streams:
            raise MediaRejected(f"The file has no {kind} track.")
        stream = streams[0]
        ctx = stream.codec_context
        width = height = None
        if kind == "video":
            width, height = int(ctx.width or 0), int(ctx.height or 0)
            if width <= 0 or height <= 0:
                raise MediaRejected("The video does not say how large its picture is.")
            if width > max_side or height > max_side:
                raise MediaRejected(
                    f"The video is {width}×{height}; Marquee keeps videos up to {max_side}×{max_side}."
                )
        duration = None
        if container.duration is not None:
            duration = container.duration / av.time_base
        elif stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        if duration is None or duration <= 0:
            raise MediaRejected("The file does not say how long it is.")
        if duration > max_seconds:
            raise MediaRejected(f"The file lasts {duration:.0f} s; Marquee keeps up to {max_seconds:.0f} s.")
        codec = ctx.name or "unknown"
        try:
            _check_complete(container, stream, duration)
        except (av.error.FFmpegError, ValueError, OSError, EOFError) as exc:
            if isinstance(exc, MediaRejected):
                raise
            raise MediaRejected(
                f"The {kind} could not be read ({type(exc).__name__}); it may be truncated or damaged."
            ) from None
        return MediaInfo(kind, content_type, round(duration, 3), width, height, codec)
    finally:
        container.close()


def _check_complete(container: Any, stream: Any, duration: float) -> None:
    """Every packet the header promises is in the file (demuxing reads no pixels, so this is cheap even
    for long files), and the first one decodes. A truncated MP4 with its index up front (+faststart)
    opens and decodes its first frames happily; only counting its packets shows half are missing."""
    count, last, first = 0, 0.0, None
    for packet in container.demux(stream):
        if not packet.size:
            continue
        count += 1
        if first is None:
            first = packet
        if packet.pts is not None and packet.time_base is not None:
            last = max(last, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    what = "picture" if stream.type == "video" else "sound"
    if first is None:
        raise MediaRejected(f"The {stream.type} track holds no {what}.")
    declared = int(stream.frames or 0)
    if (declared and count < declared) or last < duration * 0.9 - 0.25:
        raise MediaRejected(f"The file stops early ({last:.1f} s of {duration:.1f} s): it is truncated.")
    if not first.decode() and stream.type == "video":
        # The first packet of a video may need the next; decode from the start once more.
        container.seek(0, stream=stream)
        if next(iter(container.decode(stream)), None) is None:
            raise MediaRejected(f"The {stream.type} track holds no {what}.")


def _thumb_webp(image: Any) -> bytes:
    from PIL import Image

    image = image.convert("RGB")
    image.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, "WEBP", quality=80)
    return buf.getvalue()


def video_frame(data: bytes | str | BinaryIO, content_type: str = "video/mp4", at: float = 1.0) -> Any:
    """A PIL image of the frame shown ``at`` seconds in (or the last one, for shorter clips)."""
    import av

    container = _open(data, content_type)
    try:
        stream = container.streams.video[0]
        if at > 0 and stream.time_base is not None:
            container.seek(int(at / stream.time_base), stream=stream, backward=True, any_frame=False)
        last = None
        for frame in container.decode(stream):
            last = frame
            if frame.pts is not None and frame.time_base is not None and frame.pts * frame.time_base >= at:
                break
        if last is None:
            raise MediaRejected("The video holds no picture to make a thumbnail from.")
        return last.to_image()
    except av.error.FFmpegError as exc:
        raise MediaRejected(f"The video could not be decoded ({type(exc).__name__}).") from None
    finally:
        container.close()


def video_thumbnail(data: bytes | str | BinaryIO, content_type: str = "video/mp4", at: float = 1.0) -> bytes:
    """WebP thumbnail (fits in 480x480) from the frame about ``at`` seconds in."""
    return _thumb_webp(video_frame(data, content_type, at))


def waveform(data: bytes | str | BinaryIO, content_type: str, size: tuple[int, int] = (480, 160)) -> bytes:
    """A WebP picture of an audio file's loudness over time (peak per column), the audio's thumbnail."""
    import av
    import numpy as np
    from PIL import Image, ImageDraw

    w, h = size
    container = _open(data, content_type)
    chunks = []
    try:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            samples = frame.to_ndarray().astype(np.float32)
            if samples.dtype.kind != "f" or np.abs(samples).max(initial=0) > 1.5:
                samples = samples / 32768.0
            chunks.append(np.abs(samples).max(axis=0) if samples.ndim == 2 else np.abs(samples))
    except av.error.FFmpegError as exc:
        raise MediaRejected(f"The audio could not be decoded ({type(exc).__name__}).") from None
    finally:
        container.close()
    level = np.concatenate(chunks) if chunks else np.zeros(1, dtype=np.float32)
    cols = np.array_split(level, w) if level.size >= w else [level] * w
    peaks = np.array([c.max(initial=0) for c in cols])
    peaks = peaks / max(float(peaks.max(initial=0)), 1e-6)
    img = Image.new("RGB", (w, h), (24, 26, 33))
    draw = ImageDraw.Draw(img)
    mid = h / 2
    for x, p in enumerate(peaks):
        half = max(1.0, p * (h / 2 - 6))
        draw.line([(x, mid - half), (x, mid + half)], fill=(242, 178, 51))
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=85)
    return buf.getvalue()


def thumbnail(data: bytes | str | BinaryIO, info: MediaInfo) -> bytes:
    """The thumbnail the library shows: a frame ~1 s in (video), a waveform (audio)."""
    if info.kind == "video":
        return video_thumbnail(data, info.content_type, at=min(1.0, info.duration_s / 2))
    return waveform(data, info.content_type)
