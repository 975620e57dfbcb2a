"""Benchmark: the autoformat pipeline vs a straightforward reference vs the decode+encode floor.

Run from the repository root:  .venv/bin/python benchmarks/autoformat.py [--quick] [--reps N]

Inputs are built from real photographs shipped with scikit-image (astronaut, coffee, chelsea, rocket), tiled
2x2 and upscaled: a 4000x3000 (12 MP) quality-90 JPEG with mild sensor-like noise, and a 4000x4000 PNG.

Contenders, timed interleaved (the order rotates every repetition; medians reported):
  ours       webapp.imaging.autoformat_bytes(data) -> poster, square, banner (JPEG).
  reference  the obvious implementation: full-resolution decode, Lanczos from full resolution for the
             foreground and for the cover-scaled backdrop at output size, GaussianBlur(BACKDROP_SIGMA) on the
             full canvas, the backdrop-calming rule (webapp/imaging/backdrop.py) with its strong blurs and
             mask at full canvas size (reference_calm), darkening after the blur as ours does, shadow as a
             full-canvas RGBA layer blurred at full size and alpha-composited. Same
             geometry (placement) and the same sigma/darken/shadow constants as ours, so the outputs are
             directly comparable.
  floor      work no implementation can avoid: a full decode of the input, plus encoding our three output
             canvases (pre-rendered outside the timing) with the same JPEG settings. Nothing else.

Also reported: SSIM of each of our outputs against the reference's (skimage, channel_axis=2, on the decoded
JPEGs), and the peak RSS of a fresh subprocess that imports only the imaging package (the app's Flask
package __init__ is not executed) and runs our pipeline once on the 12 MP JPEG, next to its RSS after imports.
Everything runs pinned to one CPU with BLAS/OpenMP threads at 1. Exit code is always 0.

--grain S adds Gaussian noise (sigma S) to the JPEG, standing in for sensor noise and fine texture that
upscaled 512 px sample photos lack; it makes decoding, encoding and the SSIM comparison harder.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

# numpy/scikit-image are imported lazily (inside functions), so this still takes effect for them.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

ROOT = Path(__file__).resolve().parent.parent

TARGET_SPEEDUP = 8.0
TARGET_FLOOR_RATIO = 1.5
TARGET_SSIM = 0.99
TARGET_RSS_MIB = 80.0


def _load_imaging() -> types.ModuleType:
    """Import webapp.imaging without running webapp/__init__.py (which builds the Flask app factory).

    The imaging package is pure; loading it alone keeps the RSS measurement about the pipeline.
    """
    if "webapp.imaging" in sys.modules:
        return sys.modules["webapp.imaging"]
    if "webapp" not in sys.modules:
        pkg = types.ModuleType("webapp")
        pkg.__path__ = [str(ROOT / "webapp")]
        sys.modules["webapp"] = pkg
    spec = importlib.util.spec_from_file_location(
        "webapp.imaging",
        ROOT / "webapp" / "imaging" / "__init__.py",
        submodule_search_locations=[str(ROOT / "webapp" / "imaging")],
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["webapp.imaging"] = module
    spec.loader.exec_module(module)
    return module


def _max_rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def _vm_hwm_mib() -> float:
    """Peak RSS of this process image from /proc (VmHWM).

    Preferred over ru_maxrss for the child: Linux carries the *parent's* high-water mark across fork/exec
    into ru_maxrss, so a child of this (large) benchmark process would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return _max_rss_mib(resource.RUSAGE_SELF)


def rss_child(path: str) -> None:
    """Child process mode: report RSS after imports and peak RSS after one pipeline run."""
    imaging = _load_imaging()
    baseline = _vm_hwm_mib()
    data = Path(path).read_bytes()
    imaging.autoformat_bytes(data)
    print(
        json.dumps(
            {
                "baseline_mib": baseline,
                "peak_mib": _vm_hwm_mib(),
                "ru_maxrss_mib": _max_rss_mib(resource.RUSAGE_SELF),
            }
        )
    )


# ---------------------------------------------------------------------------------------------------------
# Inputs


def make_photo(width: int, height: int, noise: float, seed: int = 1):
    """A photographic mosaic from scikit-image's sample photos, cover-fitted into 2x2 tiles."""
    import numpy as np
    import skimage.data
    from PIL import Image, ImageOps

    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    tw, th = width // 2, height // 2
    canvas = Image.new("RGB", (width, height))
    for i, arr in enumerate(photos):
        tile = ImageOps.fit(Image.fromarray(arr), (tw, th), Image.Resampling.BICUBIC)
        canvas.paste(tile, ((i % 2) * tw, (i // 2) * th))
    if noise > 0:
        rng = np.random.default_rng(seed)
        arr = np.asarray(canvas).astype(np.float32) + rng.normal(0.0, noise, (height, width, 3))
        canvas = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))
    return canvas


def make_inputs(grain: float, with_png: bool = True) -> dict[str, bytes]:
    jpeg = io.BytesIO()
    make_photo(4000, 3000, noise=grain).save(jpeg, "JPEG", quality=90)
    if not with_png:
        return {"12 MP JPEG": jpeg.getvalue()}
    png = io.BytesIO()
    make_photo(4000, 4000, noise=0.0).save(png, "PNG", compress_level=6)
    return {"12 MP JPEG": jpeg.getvalue(), "16 MP PNG": png.getvalue()}


# ---------------------------------------------------------------------------------------------------------
# Reference and floor


def reference_autoformat(data: bytes) -> list[bytes]:
    """The straightforward implementation (see module docstring); output must look like ours."""
    from PIL import Image, ImageDraw, ImageFilter, ImageOps

    imaging = _load_imaging()
    src = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    darken = imaging.AutoformatOptions().darken
    dx, dy = imaging.SHADOW_OFFSET
    outputs = []
    for fmt in imaging.FORMATS.values():
        cw, ch = fmt.width, fmt.height
        scale = max(cw / src.width, ch / src.height)
        vw, vh = cw / scale, ch / scale
        crop = ((src.width - vw) / 2, (src.height - vh) / 2, (src.width + vw) / 2, (src.height + vh) / 2)
        backdrop = src.resize((cw, ch), Image.Resampling.LANCZOS, box=crop)
        backdrop = backdrop.filter(ImageFilter.GaussianBlur(imaging.BACKDROP_SIGMA))
        backdrop = reference_calm(backdrop, imaging.BACKDROP_SIGMA)
        backdrop = backdrop.point(lambda v: round(v * (1 - darken)))
        left, top, right, bottom = imaging.placement(src.size, (cw, ch))
        layer = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
        ImageDraw.Draw(layer).rectangle(
            (left + dx, top + dy, right + dx - 1, bottom + dy - 1),
            fill=(0, 0, 0, round(255 * imaging.SHADOW_OPACITY)),
        )
        layer = layer.filter(ImageFilter.GaussianBlur(imaging.SHADOW_SIGMA))
        canvas = Image.alpha_composite(backdrop.convert("RGBA"), layer).convert("RGB")
        canvas.paste(src.resize((right - left, bottom - top), Image.Resampling.LANCZOS), (left, top))
        buf = io.BytesIO()
        canvas.save(buf, "JPEG", quality=90, progressive=True, optimize=True, subsampling="4:2:0")
        outputs.append(buf.getvalue())
    return outputs


def reference_calm(backdrop, sigma: float):
    """The backdrop-calming rule (webapp/imaging/backdrop.py) done the obvious way: everything at full size.

    detail = |blurred backdrop - a GHOST_BLUR x stronger blur of it|; where its luma passes GHOST_LOW..HIGH
    (smoothstep) the mask, softened by a 0.6 x strong blur and amplified by GHOST_GAIN, blends in the strong
    blur pulled GHOST_FLATTEN of the way to its mean colour.
    """
    from PIL import Image, ImageChops, ImageFilter, ImageStat

    from webapp.imaging import backdrop as rule

    def smoothstep(v: int) -> int:
        t = min(1.0, max(0.0, (v - rule.GHOST_LOW) / (rule.GHOST_HIGH - rule.GHOST_LOW)))
        return round(255 * t * t * (3 - 2 * t))

    strong = backdrop.filter(ImageFilter.GaussianBlur(sigma * rule.GHOST_BLUR))
    mask = ImageChops.difference(backdrop, strong).convert("L").point(smoothstep)
    mask = mask.filter(ImageFilter.GaussianBlur(sigma * rule.GHOST_BLUR * 0.6))
    mask = mask.point(lambda v: min(255, v * rule.GHOST_GAIN))
    mean = tuple(round(c) for c in ImageStat.Stat(strong).mean)
    calm = Image.blend(strong, Image.new("RGB", strong.size, mean), rule.GHOST_FLATTEN)
    return Image.composite(calm, backdrop, mask)


def floor(data: bytes, canvases: list) -> None:
    """Full decode of the input plus encoding of the three (pre-rendered) output canvases."""
    from PIL import Image

    Image.open(io.BytesIO(data)).load()
    for canvas in canvases:
        canvas.save(io.BytesIO(), "JPEG", quality=90, progressive=True, optimize=True, subsampling="4:2:0")


# ---------------------------------------------------------------------------------------------------------
# Measurement


def interleaved(contenders: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    names = list(contenders)
    for fn in contenders.values():  # warm-up: imports, lcms/profile caches, page faults
        fn()
    times: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(reps):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            gc.collect()
            t0 = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - t0)
    return {n: statistics.median(t) * 1000 for n, t in times.items()}


def ssim_scores(ours: list[bytes], reference: list[bytes]) -> list[float]:
    import numpy as np
    from PIL import Image
    from skimage.metrics import structural_similarity

    scores = []
    for a, b in zip(ours, reference, strict=True):
        x = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"))
        y = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))
        scores.append(float(structural_similarity(x, y, channel_axis=2, data_range=255)))
    return scores


def measure_rss(jpeg: bytes) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as fh:
        fh.write(jpeg)
        path = fh.name
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--rss-child", path],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        return result
    finally:
        os.unlink(path)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 7")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument(
        "--grain",
        type=float,
        default=0.0,
        help="Gaussian noise sigma (8-bit levels) added to the 12 MP JPEG; 0 = upscaled photos only",
    )
    parser.add_argument("--jpeg-only", action="store_true", help="no 16 MP PNG (targets: JPEG)")
    parser.add_argument("--rss-child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return

    try:
        os.sched_setaffinity(0, {0})
        pinned = "pinned to CPU 0"
    except (AttributeError, OSError):
        pinned = "not pinned (sched_setaffinity unavailable)"
    reps = args.reps or (3 if args.quick else 7)

    from PIL import Image, features

    imaging = _load_imaging()
    print(
        f"Pillow {Image.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}), {pinned}, "
        f"{reps} reps, JPEG grain sigma {args.grain:g}"
    )
    print("Generating inputs from scikit-image sample photos ...", flush=True)
    inputs = make_inputs(args.grain, with_png=not args.jpeg_only)

    summary: dict[str, dict[str, float]] = {}
    all_ssim: dict[str, list[float]] = {}
    names = [f.name for f in imaging.FORMATS.values()]
    for label, data in inputs.items():
        ours_out = [r.data for r in imaging.autoformat_bytes(data)]
        canvases = [Image.open(io.BytesIO(b)).convert("RGB") for b in ours_out]
        ref_out = reference_autoformat(data)
        medians = interleaved(
            {
                "ours": lambda data=data: imaging.autoformat_bytes(data),
                "reference": lambda data=data: reference_autoformat(data),
                "floor": lambda data=data, canvases=canvases: floor(data, canvases),
            },
            reps,
        )
        summary[label] = medians
        all_ssim[label] = ssim_scores(ours_out, ref_out)
        print(f"  {label}: {len(data) / 1e6:.1f} MB measured", flush=True)

    rss = measure_rss(inputs["12 MP JPEG"])

    print()
    header = f"{'input':<12} {'ours ms':>9} {'ref ms':>9} {'floor ms':>9} {'ref/ours':>9} {'ours/floor':>11}"
    print(header)
    print("-" * len(header))
    for label, m in summary.items():
        print(
            f"{label:<12} {m['ours']:>9.1f} {m['reference']:>9.1f} {m['floor']:>9.1f} "
            f"{m['reference'] / m['ours']:>9.2f} {m['ours'] / m['floor']:>11.2f}"
        )
    print()
    print(f"{'SSIM vs reference':<20}" + "".join(f"{n:>10}" for n in names))
    for label, scores in all_ssim.items():
        print(f"{label:<20}" + "".join(f"{s:>10.4f}" for s in scores))
    print()
    print(
        f"RSS (fresh subprocess, 12 MP JPEG, ours only, VmHWM): after imports {rss['baseline_mib']:.1f} MiB, "
        f"peak {rss['peak_mib']:.1f} MiB, pipeline adds {rss['peak_mib'] - rss['baseline_mib']:.1f} MiB "
        f"(child ru_maxrss {rss['ru_maxrss_mib']:.1f} MiB includes the parent's high-water mark)"
    )
    print()
    jm = summary["12 MP JPEG"]
    speedup = jm["reference"] / jm["ours"]
    floor_ratio = jm["ours"] / jm["floor"]
    min_ssim = min(all_ssim["12 MP JPEG"])
    print(f"{verdict(speedup >= TARGET_SPEEDUP)}  12 MP JPEG speed-up vs reference {speedup:.1f}x (>= 8x)")
    print(f"{verdict(floor_ratio <= TARGET_FLOOR_RATIO)}  12 MP JPEG ours/floor {floor_ratio:.2f} (<= 1.5)")
    print(f"{verdict(min_ssim >= TARGET_SSIM)}  12 MP JPEG min SSIM vs reference {min_ssim:.4f} (>= 0.99)")
    print(f"{verdict(rss['peak_mib'] <= TARGET_RSS_MIB)}  peak RSS {rss['peak_mib']:.1f} MiB (<= 80 MiB)")


if __name__ == "__main__":
    main()
