"""Benchmark: start-up cost of the app against a bare Flask + Flask-SQLAlchemy + Pillow process.

Run from the repository root:  .venv/bin/python benchmarks/startup.py [--reps 7]

Every CLI call, web process and worker pays start-up, so it is measured as what the operating system
charges: CPU seconds (user + system) of a fresh child process, read from `os.wait4`'s rusage, which
does not depend on how busy the machine is the way wall-clock time does. The contenders run
interleaved (the order alternates every repetition) and medians are reported:

  app        `python -m flask --app webapp --help` (builds the app, lists every command)
  bare       `python -c "import flask, flask_sqlalchemy, PIL.Image"`
  app-pyc    the same as app, with the app's own modules read from cached bytecode
  create_app `python -c "import webapp; webapp.create_app()"` (the app without the CLI machinery)

Why app-pyc: installed packages (everything `bare` imports) come with compiled bytecode, but the
app's ~120 modules run from the source tree. When PYTHONDONTWRITEBYTECODE is set (it is on some
machines and in many container images) every start compiles them again, ~0.1 CPU s. app-pyc keeps
their bytecode in a temporary `-X pycache_prefix` directory, as a deployed, compiled app would.

Also reported: which heavy modules (provider SDKs, scikit-learn, numpy) the app process loaded.
Target: app <= 2x bare. Always exits 0 (no timed assertions; the PASS/MISS line is for people).
"""

from __future__ import annotations

import argparse
import os
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
    "app-pyc": [sys.executable, "-X", f"pycache_prefix={tempfile.mkdtemp(prefix='marquee-pyc-')}", *APP],
    "create_app": [sys.executable, "-c", "import webapp; webapp.create_app()"],
}


def cpu_seconds(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process running ``argv``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        if name != "app-pyc":
            return env
        return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}

    names = list(CONTENDERS)
    for name in names:  # warm-up: .pyc files, page cache
        cpu_seconds(CONTENDERS[name], env_for(name))
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(max(5, args.reps)):
        order = names if rep % 2 == 0 else names[::-1]
        for name in order:
            c, w = cpu_seconds(CONTENDERS[name], env_for(name))
            cpu[name].append(c)
            wall[name].append(w)
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
    for name in ("app", "app-pyc"):
        ratio = statistics.median(cpu[name]) / bare
        verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
        print(f"{verdict}  {name} (flask --help) / bare = {ratio:.2f} (<= {TARGET_RATIO:g})")


if __name__ == "__main__":
    main()
