"""Benchmark: the offline clip renderer vs the encode-only floor.

Run from the repository root:  .venv/bin/python benchmarks/animate.py [--reps N] [--seconds S]

Input: a 3000x2000 synthetic "poster" (gradients, shapes and noise, so the encoder has real detail to
code) as a quality-90 JPEG. Contenders, both pinned to one CPU with the encoder at one thread:

  ours   webapp.media.animate.render_clip(jpeg, story 1080x1920, 6 s, push-in, title reveal): decode,
         cover-crop + one scale to the prepared source, per frame a numpy crop + libswscale reformat to
         yuv420p + the title blend, libx264 veryfast crf 23, +faststart.
  floor  the very same yuv420p frames, computed beforehand and held in memory, encoded with the same
         settings into the same kind of file: what nobody can avoid.

Target: ours <= 1.5x the floor. Medians of --reps runs; exit code always 0 (PASS/MISS is for people).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _poster() -> bytes:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(7)
    w, h = 3000, 2000
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([xx / w * 255, yy / h * 200, (1 - xx / w) * 180 + 40], axis=2)
    img = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(40, 300))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(2))
    arr = np.asarray(img).astype(np.int16) + rng.normal(0, 4, (h, w, 3)).astype(np.int16)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})

    from webapp.imaging import decode
    from webapp.media.animate import (
        MARGIN,
        ClipSpec,
        encode_frames,
        prepare_source,
        render_clip,
        render_frames,
    )

    jpeg = _poster()
    spec = ClipSpec(
        format="story",
        seconds=args.seconds,
        motion="push-in",
        title="The Night Parade",
        subtitle="Fri 12 June",
        threads=1,
    )
    size = spec.dimensions()
    src = prepare_source(decode(jpeg, (round(size[0] * MARGIN), round(size[1] * MARGIN))), size)
    frames = list(render_frames(src, spec))  # the floor's input: the same frames, already made

    def ours() -> int:
        return len(render_clip(jpeg, spec))

    def floor() -> int:
        fd, path = tempfile.mkstemp(suffix=".mp4")
        os.close(fd)
        try:
            encode_frames(iter(frames), path, size, spec)
            return os.path.getsize(path)
        finally:
            os.unlink(path)

    times: dict[str, list[float]] = {"ours": [], "floor": []}
    sizes: dict[str, int] = {}
    for rep in range(args.reps):
        order = [("ours", ours), ("floor", floor)]
        if rep % 2:
            order.reverse()
        for name, fn in order:
            t0 = time.perf_counter()
            sizes[name] = fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["ours"] / med["floor"]
    print(f"clip: {size[0]}x{size[1]} {args.seconds:g} s @ {spec.fps} fps, libx264 veryfast crf 23, 1 thread")
    for name in ("ours", "floor"):
        runs = [round(t, 2) for t in times[name]]
        print(f"{name:5}: {med[name]:.2f} s  ({sizes[name] / 1e6:.2f} MB)  runs {runs}")
    print(f"ratio: {ratio:.2f}x  target <= 1.5x  {'PASS' if ratio <= 1.5 else 'MISS'}")


if __name__ == "__main__":
    main()
