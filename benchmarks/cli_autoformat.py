"""Benchmark: whole processes auto-formatting 4 x 12 MP JPEGs — our CLI against libvips.

Run from the repository root:  .venv/bin/python benchmarks/cli_autoformat.py [--reps 5]

What a person waits for when they run the command, start-up included:

  ours     `python -m flask --app webapp autoformat a.jpg b.jpg c.jpg d.jpg --out DIR`
           (builds the app, validates each input, poster + square + banner, progressive JPEG q90)
  libvips  a fresh `python` process with pyvips: decode each input once with JPEG shrink-on-load,
           then per format a Lanczos foreground, a blurred, darkened cover backdrop built at 1/4 size and
           upscaled, composited, saved as progressive optimised JPEG q90 4:2:0 (no drop shadow — a little
           less work than ours). libvips runs its own thread pool, as it would in production.

Both run unpinned (all cores), interleaved, median of the repetitions; wall and CPU seconds (user +
system of the child, from `os.wait4`). pyvips is optional: `pip install pyvips pyvips-binary`
(the binary wheel carries libvips); without it only our figures are printed. Always exits 0.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

VIPS_SCRIPT = r"""
import sys
import pyvips

FORMATS = [("poster", 1200, 1800), ("square", 1200, 1200), ("banner", 2160, 1089)]
MARGIN = 44
out = sys.argv[1]
for path in sys.argv[2:]:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    head = pyvips.Image.new_from_file(path)
    need = max(min((cw - 2 * MARGIN) / head.width, (ch - 2 * MARGIN) / head.height) for _, cw, ch in FORMATS)
    shrink = next((s for s in (8, 4, 2) if 1 / s >= need), 1)
    src = pyvips.Image.new_from_file(path, shrink=shrink).copy_memory()  # decoded once
    for name, cw, ch in FORMATS:
        cover = max(cw / src.width, ch / src.height)
        small = src.resize(cover / 4, kernel="linear").gaussblur(18 / 4).linear(0.85, 0)
        back = small.resize(4, kernel="linear")
        back = back.crop((back.width - cw) // 2, (back.height - ch) // 2, cw, ch)
        fit = min((cw - 2 * MARGIN) / src.width, (ch - 2 * MARGIN) / src.height)
        fg = src.resize(fit, kernel="lanczos3")
        canvas = back.insert(fg, (cw - fg.width) // 2, (ch - fg.height) // 2).cast("uchar")
        canvas.jpegsave(f"{out}/{stem}-{name}.jpg", Q=90, interlace=True, optimize_coding=True,
                        subsample_mode="on", strip=True)
"""


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[:5])} … failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    from autoformat import make_photo

    try:
        import pyvips  # noqa: F401

        have_vips = True
    except (ImportError, OSError):
        have_vips = False
    work = Path(tempfile.mkdtemp(prefix="marquee-cli-bench-"))
    try:
        inputs = []
        for i in range(4):
            buf = io.BytesIO()
            make_photo(4000, 3000, noise=2.0, seed=i + 1).save(buf, "JPEG", quality=90)
            path = work / f"in{i}.jpg"
            path.write_bytes(buf.getvalue())
            inputs.append(str(path))
        (work / "vips.py").write_text(VIPS_SCRIPT)
        env = {**os.environ, "LOG_LEVEL": "WARNING"}
        env.setdefault("SECRET_KEY", "cli-benchmark")
        contenders = {
            "ours": [sys.executable, "-m", "flask", "--app", "webapp", "autoformat", *inputs, "--out"],
        }
        if have_vips:
            contenders["libvips"] = [sys.executable, str(work / "vips.py")]
        results: dict[str, list[tuple[float, float]]] = {n: [] for n in contenders}

        def once(name: str, rep: int) -> tuple[float, float]:
            out = work / f"out-{name}-{rep}"
            out.mkdir()
            argv = contenders[name] + [str(out)] if name == "ours" else [*contenders[name], str(out), *inputs]
            return run(argv, env)

        for name in contenders:  # warm-up (page cache, .pyc)
            once(name, -1)
        for rep in range(args.reps):
            names = list(contenders) if rep % 2 == 0 else list(contenders)[::-1]
            for name in names:
                results[name].append(once(name, rep))
        load = os.getloadavg()
        print(f"4 x 12 MP JPEG, {args.reps} interleaved runs, {os.cpu_count()} cores, load {load[0]:.2f}")
        print(f"{'contender':<10} {'wall s':>8} {'min':>7} {'max':>7} {'CPU s':>8}")
        for name, rows in results.items():
            walls = [w for w, _ in rows]
            print(
                f"{name:<10} {statistics.median(walls):>8.2f} {min(walls):>7.2f} {max(walls):>7.2f} "
                f"{statistics.median(c for _, c in rows):>8.2f}"
            )
        if have_vips:
            ours = statistics.median(w for w, _ in results["ours"])
            vips = statistics.median(w for w, _ in results["libvips"])
            print(f"{'PASS' if ours < vips else 'MISS'}  ours / libvips wall time = {ours / vips:.2f} (< 1)")
        else:
            print("pyvips is not installed (pip install pyvips pyvips-binary): libvips not measured")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
