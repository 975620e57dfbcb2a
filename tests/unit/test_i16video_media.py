"""The offline clip renderer and the untrusted-media probe (issue 16), on small real files."""

from __future__ import annotations

import io
import os
import tempfile

import pytest

from webapp.media.animate import ClipCancelled, ClipSpec, crop_box, ease, render_clip
from webapp.media.probe import MediaRejected, probe, thumbnail, video_frame, waveform

SMALL = (360, 640)


def _poster_png(size=(600, 900)) -> bytes:
    """A still with structure (so motion shows): a gradient with a grid of dots."""
    import numpy as np
    from PIL import Image

    h, w = size[1], size[0]
    yy, xx = np.mgrid[0:h, 0:w]
    arr = np.stack([xx * 255 // w, yy * 255 // h, ((xx // 40 + yy // 40) % 2) * 200], axis=2).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def clip() -> bytes:
    return render_clip(_poster_png(), ClipSpec(format="story", seconds=2, motion="push-in", size=SMALL))


def _frames(data: bytes):
    import av
    import numpy as np

    with av.open(io.BytesIO(data), format="mp4") as c:
        return [np.asarray(f.to_image().convert("L"), dtype=np.int16) for f in c.decode(video=0)]


def test_clip_is_h264_mp4_with_faststart_at_the_asked_size_and_length(clip):
    info = probe(clip, "video/mp4")
    assert (info.width, info.height, info.codec, info.kind) == (360, 640, "h264", "video")
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    assert clip.index(b"moov") < clip.index(b"mdat"), "+faststart puts the index before the media"
    frames = _frames(clip)
    assert len(frames) == 60  # 30 fps


def test_push_in_moves_and_is_eased(clip):
    frames = _frames(clip)
    step = [abs(frames[i + 1] - frames[i]).mean() for i in range(len(frames) - 1)]
    assert abs(frames[-1] - frames[0]).mean() > 5, "the picture must really move"
    # ease-in-out: slow at both ends, fastest in the middle
    assert step[0] < step[len(step) // 2] and step[-1] < step[len(step) // 2]


def test_ease_and_crop_geometry():
    assert ease(0) == 0 and ease(1) == 1 and ease(0.5) == pytest.approx(0.5)
    assert all(ease(a / 20) <= ease((a + 1) / 20) for a in range(20))
    src, out = (432, 768), (360, 640)
    assert crop_box("push-in", 0, src, out) == (0, 0, 432, 768)
    assert crop_box("push-in", 1, src, out)[2:] == out
    assert crop_box("pull-out", 0, src, out)[2:] == out
    left, right = crop_box("pan-left", 0, src, out), crop_box("pan-left", 1, src, out)
    assert left[0] > right[0] and left[2:] == right[2:]


@pytest.mark.parametrize("fmt", ["square", "landscape"])
def test_every_format_and_pan(fmt):
    w, h = {"square": (240, 240), "landscape": (384, 216)}[fmt]
    data = render_clip(_poster_png(), ClipSpec(format=fmt, seconds=2, motion="pan-right", size=(w, h)))
    info = probe(data, "video/mp4")
    assert (info.width, info.height) == (w, h)


def test_title_reveal_fades_in_over_the_bottom():
    import numpy as np

    png = _poster_png()
    plain = render_clip(png, ClipSpec(seconds=2, size=SMALL, motion="push-in"))
    titled = render_clip(
        png, ClipSpec(seconds=2, size=SMALL, motion="push-in", title="Jazz Night", subtitle="Fri 12 June")
    )
    a, b = _frames(plain), _frames(titled)
    top = slice(0, 300)
    assert abs(a[0] - b[0]).mean() < 1, "the title is not there at the start"
    assert abs(a[-1][top] - b[-1][top]).mean() < 2, "the top of the picture is untouched"
    assert np.abs(a[-1][500:] - b[-1][500:]).mean() > 10, "the title band is there at the end"


def test_cancel_between_batches_leaves_no_file(tmp_path, monkeypatch):
    # A private temp folder: another test process may be rendering a clip at the same moment.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) >= 2

    before = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("marquee-clip-")}
    with pytest.raises(ClipCancelled):
        render_clip(_poster_png(), ClipSpec(seconds=4, size=SMALL), cancelled=cancelled)
    after = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("marquee-clip-")}
    assert after <= before


def test_bad_spec_is_refused():
    with pytest.raises(ValueError, match="2 to 10 seconds"):
        render_clip(_poster_png(), ClipSpec(seconds=11, size=SMALL))
    with pytest.raises(ValueError, match="motion"):
        render_clip(_poster_png(), ClipSpec(seconds=2, motion="spin", size=SMALL))


def test_thumbnail_is_a_frame_about_a_second_in(clip):
    from PIL import Image

    info = probe(clip, "video/mp4")
    thumb = Image.open(io.BytesIO(thumbnail(clip, info)))
    assert thumb.format == "WEBP" and max(thumb.size) <= 480
    assert video_frame(clip, at=1.0).size == SMALL


# ------------------------------------------------------------------------------------ hostile files


def test_garbage_empty_and_text_are_refused():
    for data in (b"", os.urandom(4096), b"hello, this is not a video\n" * 50):
        with pytest.raises(MediaRejected):
            probe(data, "video/mp4")


def test_truncated_mp4_is_refused(clip):
    for cut in (len(clip) // 2, 600, 40):
        with pytest.raises(MediaRejected):
            probe(clip[:cut], "video/mp4")


def test_png_renamed_mp4_is_refused():
    with pytest.raises(MediaRejected):
        probe(_poster_png(), "video/mp4")


def test_unknown_type_is_refused(clip):
    with pytest.raises(MediaRejected, match="not a video or audio type"):
        probe(clip, "application/x-shockwave-flash")


def test_huge_declared_dimensions_are_refused_before_decoding():
    """An 8200-wide clip (tiny to encode: 16 px high, 2 frames) declares more than 4096."""
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 8200, 16, "yuv420p"
        for i in range(2):
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 8200, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(MediaRejected, match="8200×16"):
        probe(buf.getvalue(), "video/mp4")


def test_too_long_is_refused(clip):
    with pytest.raises(MediaRejected, match="lasts"):
        probe(clip, "video/mp4", max_seconds=1.5)


def _wav(seconds: float = 1.0) -> bytes:
    import av
    import numpy as np

    rate = 16000
    t = np.arange(int(rate * seconds)) / rate
    samples = (np.sin(2 * np.pi * 440 * t) * 12000 * np.linspace(0, 1, t.size)).astype(np.int16)
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def test_audio_probe_and_waveform():
    from PIL import Image

    data = _wav()
    info = probe(data, "audio/wav")
    assert info.kind == "audio" and info.width is None and info.duration_s == pytest.approx(1.0, abs=0.05)
    img = Image.open(io.BytesIO(waveform(data, "audio/wav")))
    assert img.size == (480, 160)
    with pytest.raises(MediaRejected):
        probe(_poster_png(), "audio/wav")
    with pytest.raises(MediaRejected):
        probe(data, "video/mp4")  # a WAV is not an MP4, whatever its name says
