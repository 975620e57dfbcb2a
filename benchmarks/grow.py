"""Benchmark: how auto-format, palette and animate grow with input size and with concurrent workers.

Run from the repository root:  .venv/bin/python benchmarks/grow.py [--runs 3] [--quick]

Every job runs in a worker *process* (like an RQ work horse), started before the clock with its
imports done (the real worker preloads them before forking), on JPEG photos built from scikit-image's
sample pictures with mild grain (see benchmarks/autoformat.py):

  autoformat  webapp.imaging.autoformat_bytes(data): poster, square, banner (progressive JPEG q90)
  palette     webapp.imaging.palette.extract_palette(data): six colours
  animate     webapp.media.animate.render_clip(data, story 1080x1920, --clip-seconds, 1 encoder thread)

1. Input size (1, 4, 12, 16 MP), one worker: latency (median of the worker's jobs) and the worker's
   peak RSS (VmHWM from /proc, minus nothing: what the process needed). Ratio = latency / the 1 MP
   latency *measured in the same run*.
2. Concurrent workers (1, 2, 4, 8 processes started together, each doing --jobs jobs on the 12 MP
   photo): jobs per second for the whole machine and per worker, job latency p50, and the sum of the
   workers' peak RSS. Ratio = throughput / the 1-worker throughput of the same run.

The whole measurement is repeated --runs times (default 3); each figure is printed as the median of
the runs with their spread (min-max), never the best run. The load average is printed with each run:
on a shared machine only ratios from the same run mean much. Always exits 0.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

KINDS = ("autoformat", "palette", "animate")
SIZES_MP = {1: (1155, 866), 4: (2309, 1732), 12: (4000, 3000), 16: (4619, 3464)}
WORKERS = (1, 2, 4, 8)


# ---------------------------------------------------------------------------------------------------------
# Worker process


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def _job(kind: str, clip_seconds: float):
    """Import what the job needs (before the clock, as a preloaded worker has) and return the job."""
    if kind == "autoformat":
        from webapp.imaging import autoformat_bytes

        return lambda data: autoformat_bytes(data)
    if kind == "palette":
        from webapp.imaging.palette import extract_palette

        return lambda data: extract_palette(data)
    from webapp.media.animate import ClipSpec, render_clip

    spec = ClipSpec(format="story", seconds=clip_seconds, motion="push-in", title="Night Parade", threads=1)
    return lambda data: render_clip(data, spec)


def child(kind: str, path: str, jobs: int, clip_seconds: float, go_file: str | None) -> None:
    job = _job(kind, clip_seconds)
    data = Path(path).read_bytes()
    baseline = _vm_hwm_mib()
    print("ready", flush=True)
    if go_file:  # wait until every worker of this round is ready, so they really run together
        while not Path(go_file).exists():
            time.sleep(0.005)
    latencies, cpu = [], []
    for _ in range(jobs):
        t0, c0 = time.perf_counter(), time.process_time()
        job(data)
        latencies.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out = {"latencies": latencies, "cpu": cpu, "baseline_mib": baseline, "peak_mib": _vm_hwm_mib()}
    print(json.dumps(out), flush=True)


# ---------------------------------------------------------------------------------------------------------
# Driver


def spawn(kind: str, path: Path, jobs: int, clip_seconds: float, go_file: Path) -> subprocess.Popen:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path), str(jobs)]
    argv += ["--clip-seconds", str(clip_seconds), "--go", str(go_file)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pipe = subprocess.PIPE
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=pipe, stderr=pipe, text=True)


def run_round(kind: str, path: Path, workers: int, jobs: int, clip_seconds: float, tmp: Path) -> dict:
    """Start ``workers`` processes, wait until all are ready, release them together, time to the last."""
    go_file = tmp / f"go-{time.monotonic_ns()}"
    procs = [spawn(kind, path, jobs, clip_seconds, go_file) for _ in range(workers)]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"{kind} worker failed to start: {line} {proc.stderr.read()[-2000:]}")
    t0 = time.perf_counter()
    go_file.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"{kind} worker failed: {err[-2000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.perf_counter() - t0
    go_file.unlink()
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "wall": wall,
        "throughput": workers * jobs / wall,
        "latency_p50": statistics.median(latencies),
        "cpu_per_job": statistics.median(x for r in results for x in r["cpu"]),
        "latency_max": latencies[-1],
        "peak_mib": max(r["peak_mib"] for r in results),
        "peak_sum_mib": sum(r["peak_mib"] for r in results),
    }


def make_inputs(tmp: Path, sizes: list[int]) -> dict[int, Path]:
    from autoformat import make_photo

    paths = {}
    for mp in sizes:
        w, h = SIZES_MP[mp]
        buf = io.BytesIO()
        make_photo(w, h, noise=2.0, seed=mp).save(buf, "JPEG", quality=90)
        paths[mp] = tmp / f"photo-{mp}mp.jpg"
        paths[mp].write_bytes(buf.getvalue())
    return paths


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of the whole measurement")
    parser.add_argument("--jobs", type=int, default=3, help="jobs per worker (animate: 1)")
    parser.add_argument("--clip-seconds", type=float, default=2.0, help="clip length for animate")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--quick", action="store_true", help="1 run, 2 jobs per worker, workers 1,2,4")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "JOBS"), help=argparse.SUPPRESS)
    parser.add_argument("--go", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, jobs = args.child
        child(kind, path, int(jobs), args.clip_seconds, args.go)
        return

    runs, jobs, workers = args.runs, args.jobs, WORKERS
    if args.quick:
        runs, jobs, workers = 1, 2, (1, 2, 4)
    kinds = [k for k in args.kinds.split(",") if k]
    sizes = list(SIZES_MP)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{cores} cores; {runs} runs; {jobs} jobs per worker (animate 1, {args.clip_seconds:g} s clips)")
    tmp = Path(tempfile.mkdtemp(prefix="marquee-grow-"))
    inputs = make_inputs(tmp, sizes)
    by_size: dict[str, dict[int, list[dict]]] = {k: {mp: [] for mp in sizes} for k in kinds}
    by_workers: dict[str, dict[int, list[dict]]] = {k: {w: [] for w in workers} for k in kinds}
    for run in range(runs):
        print(f"run {run + 1}: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        for kind in kinds:
            n = 1 if kind == "animate" else jobs
            for mp in sizes:
                by_size[kind][mp].append(run_round(kind, inputs[mp], 1, n, args.clip_seconds, tmp))
            for w in workers:
                by_workers[kind][w].append(run_round(kind, inputs[12], w, n, args.clip_seconds, tmp))
    print(f"done: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    print("\n## Latency and peak memory vs input size (one worker): median of runs (min-max)")
    print(f"{'job':<11}{'MP':>4} {'latency s':>22} {'x 1 MP':>22} {'CPU s/job':>22} {'peak RSS MiB':>22}")
    for kind in kinds:
        for mp in sizes:
            rows = by_size[kind][mp]
            ratios = [r["latency_p50"] / by_size[kind][1][i]["latency_p50"] for i, r in enumerate(rows)]
            print(
                f"{kind:<11}{mp:>4} {spread([r['latency_p50'] for r in rows], '{:.3f}'):>22} "
                f"{spread(ratios):>22} {spread([r['cpu_per_job'] for r in rows], '{:.3f}'):>22} "
                f"{spread([r['peak_mib'] for r in rows], '{:.0f}'):>22}"
            )

    print("\n## Throughput vs concurrent workers (12 MP): median of runs (min-max)")
    print(
        f"{'job':<11}{'workers':>8} {'jobs/s':>20} {'jobs/s/worker':>20} {'x 1 worker':>20} "
        f"{'latency p50 s':>20} {'CPU s/job':>20} {'sum peak RSS MiB':>20}"
    )
    for kind in kinds:
        for w in workers:
            rows = by_workers[kind][w]
            ratios = [r["throughput"] / by_workers[kind][1][i]["throughput"] for i, r in enumerate(rows)]
            print(
                f"{kind:<11}{w:>8} {spread([r['throughput'] for r in rows]):>20} "
                f"{spread([r['throughput'] / w for r in rows], '{:.3f}'):>20} {spread(ratios):>20} "
                f"{spread([r['latency_p50'] for r in rows], '{:.3f}'):>20} "
                f"{spread([r['cpu_per_job'] for r in rows], '{:.3f}'):>20} "
                f"{spread([r['peak_sum_mib'] for r in rows], '{:.0f}'):>20}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps({"by_size": by_size, "by_workers": by_workers}, indent=1))
    for path in inputs.values():
        path.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
