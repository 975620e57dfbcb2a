"""Benchmark: start-up cost of the app against a bare Flask + Flask-SQLAlchemy + Pillow process.

Run from the repository root:  .venv/bin/python benchmarks/startup.py [--reps 7]

Every CLI call, web process and worker pays start-up, so it is measured as what the operating system
charges: CPU seconds (user + system) of a fresh child process, read from `os.wait4`'s rusage, which
does not depend on how busy the machine is the way wall-clock time does. The contenders run
interleaved (the order alternates every repetition) and medians are reported:

  app        `python -m flask --app webapp --help` (builds the app, lists every command), as the
             tree is: scripts/setup-venv (run by both README commands) compiles the app's bytecode
  bare       `python -c "import flask, flask_sqlalchemy, PIL.Image"`
  app-src    the same as app from a copy of the source tree without its bytecode, none written
             (PYTHONDONTWRITEBYTECODE=1): what every start costs where the tree was never compiled
  create_app `python -c "import webapp; webapp.create_app()"` (the app without the CLI machinery)

Why app-src: installed packages (everything `bare` imports) come with compiled bytecode, but the
app's ~200 modules are a source tree. When PYTHONDONTWRITEBYTECODE is set (it is on some machines
and in many container images) Python never caches their bytecode itself, and every start compiles
them again, ~0.2 CPU s; hence scripts/setup-venv compiles them ahead, as a deployed app would be.
The line "app bytecode" says how many of the app's modules had up-to-date bytecode for this run.

Also reported: which heavy modules (provider SDKs, scikit-learn, numpy) the app process loaded.
Target: app <= 2x bare. Always exits 0 (no timed assertions; the PASS/MISS line is for people).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.0
HEAVY = ("openai", "google.genai", "sklearn", "scipy", "numpy", "av")

APP = ["-m", "flask", "--app", "webapp", "--help"]
CONTENDERS: dict[str, list[str]] = {
    "app": [sys.executable, *APP],
    "bare": [sys.executable, "-c", "import flask, flask_sqlalchemy, PIL.Image"],
    "app-src": [sys.executable, *APP],
    "create_app": [sys.executable, "-c", "import webapp; webapp.create_app()"],
}


def source_copy() -> Path:
    """The app's files without any __pycache__, for app-src (removed by the caller)."""
    target = Path(tempfile.mkdtemp(prefix="marquee-src-"))
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("webapp", "templates", "static", "migrations"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name, ignore=skip)
    for name in ("worker.py", "pyproject.toml"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, target / name)
    return target


def cpu_seconds(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process running ``argv`` in ``cwd``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {proc.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def heavy_loaded(env: dict[str, str]) -> list[str]:
    code = (
        f"import sys, webapp; webapp.create_app(); print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def compiled_modules() -> tuple[int, int]:
    """(modules of webapp/ whose __pycache__ bytecode matches the source, all modules)."""
    import importlib.util

    fresh = total = 0
    for source in (ROOT / "webapp").rglob("*.py"):
        total += 1
        cached = Path(importlib.util.cache_from_source(str(source)))
        try:
            header = cached.read_bytes()[:16]
        except OSError:
            continue
        stat = source.stat()
        flags = int.from_bytes(header[4:8], "little")
        mtime = int.from_bytes(header[8:12], "little")
        size = int.from_bytes(header[12:16], "little")
        if flags == 0 and mtime == int(stat.st_mtime) & 0xFFFFFFFF and size == stat.st_size & 0xFFFFFFFF:
            fresh += 1
    return fresh, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions per contender (>= 5)")
    args = parser.parse_args()
    # A fixed secret: otherwise the first run writes instance/dev-secret-key and logs about it.
    env = {
        **os.environ,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "startup-benchmark"),
        "LOG_LEVEL": "WARNING",
    }

    def env_for(name: str) -> dict[str, str]:
        if name != "app-src":
            return env
        return {**env, "PYTHONDONTWRITEBYTECODE": "1"}

    names = list(CONTENDERS)
    src = source_copy()
    where = {name: src if name == "app-src" else ROOT for name in names}
    for name in names:  # warm-up: page cache
        cpu_seconds(CONTENDERS[name], env_for(name), where[name])
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(max(5, args.reps)):
        order = names if rep % 2 == 0 else names[::-1]
        for name in order:
            c, w = cpu_seconds(CONTENDERS[name], env_for(name), where[name])
            cpu[name].append(c)
            wall[name].append(w)
    shutil.rmtree(src, ignore_errors=True)
    load = os.getloadavg()
    print(
        f"{max(5, args.reps)} interleaved runs each, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"{'contender':<10} {'CPU s median':>13} {'min':>7} {'max':>7} {'wall s median':>14}")
    for name in names:
        print(
            f"{name:<10} {statistics.median(cpu[name]):>13.3f} {min(cpu[name]):>7.3f} {max(cpu[name]):>7.3f} "
            f"{statistics.median(wall[name]):>14.3f}"
        )
    loaded = heavy_loaded(env)
    print(f"heavy modules loaded by create_app(): {', '.join(loaded) if loaded else 'none'}")
    print(f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r} for app")
    bare = statistics.median(cpu["bare"])
    fresh, total = compiled_modules()
    print(f"app bytecode: {fresh} of {total} modules of webapp/ have up-to-date bytecode in __pycache__")
    for name in ("app", "app-src"):
        ratio = statistics.median(cpu[name]) / bare
        verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
        print(f"{verdict}  {name} (flask --help) / bare = {ratio:.2f} (<= {TARGET_RATIO:g})")


if __name__ == "__main__":
    main()
