"""Load test: gunicorn (as configured by gunicorn.conf.py) + 2 RQ workers on this machine, 50 simulated
producers for 45 s while their uploads saturate the machine.

Everything runs on loopback against a throwaway Postgres database and a unique Redis queue
prefix, and is torn down at the end. In production web and worker processes run on separate
machines; here they share two cores, so the workers run at a lower priority (`--job-nice`, 15 as in
the Procfile) to stand in for that isolation.
Producers behave like people: they register and sign in through the real forms (CSRF on) and look
at the library and jobs pages once; then, after a first think time of 0-5 s (people do not click in
step), a click every 2-5 s: a quarter of the clicks upload an image (at most 4 each, ~3 uploads/s in
all, enough to keep both cores busy with jobs), the rest open the library, the jobs page or a job.
While a job page is open its partial is polled once a second until it is final (as htmx does).
Reported: requests/s, how busy the machine was in the window (and how much of it the niced job
workers took), p50/p95/p99 latency per route type (with /healthz measured in the same run as the
floor, and each p95 as a ratio to it), auto-format jobs completed per minute, and whether every job
finished exactly once. `--drain-jobs N` then enqueues N auto-format jobs at once and reports how fast
2 workers drain them and that none was lost.

    .venv/bin/python benchmarks/load.py            # the issue-18 measurement: 3 runs of 45 s, spread
    .venv/bin/python benchmarks/load.py [--producers 50] [--seconds 45] [--runs 3] [--drain-jobs 1000]
        [--web-class sync|gthread] [--web-workers N] [--web-threads N] [--web-arg=--keep-alive=5 ...]
        [--job-workers N] [--job-nice N] [--upload-share 0.25] [--max-uploads 4]

Targets: p95 <= 50 ms for pages and partials; no errors. Always exits 0 (no timed assertions).
On a shared machine read every p95 next to the /healthz p95 of the same run (printed as a ratio);
`uptime` is printed before and after each run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg
import requests
from PIL import Image
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_DB = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "load test password 123"  # noqa: S105 - throwaway accounts in a throwaway database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def artwork(seed: int) -> bytes:
    """A distinct 800x600 JPEG per seed. Big random blocks give every image its own perceptual hash:
    near-identical artworks would get the near-duplicate question instead of a job."""
    from PIL import ImageDraw

    rnd = random.Random(seed)
    img = Image.new("RGB", (800, 600), (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = rnd.randrange(800), rnd.randrange(600)
        w, h = rnd.randrange(80, 400), rnd.randrange(60, 300)
        draw.rectangle(
            (x, y, x + w, y + h), fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        )
    px = img.load()
    for _ in range(400):
        x, y = rnd.randrange(800), rnd.randrange(600)
        px[x, y] = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


class Stack:
    """Throwaway database + gunicorn + RQ workers, all on loopback."""

    def __init__(self, web_args: list[str], job_workers: int, job_nice: int) -> None:
        self.web_args = web_args
        self.job_workers = job_workers
        self.job_nice = job_nice
        self.db = f"marquee_load_{uuid.uuid4().hex[:8]}"
        self.media = Path(tempfile.mkdtemp(prefix="marquee-load-"))
        self.port = free_port()
        self.prefix = f"load-{uuid.uuid4().hex[:6]}-"
        base = ADMIN_DB.rsplit("/", 1)[0]
        self.env = {
            **os.environ,
            "DATABASE_URL": f"{base}/{self.db}",
            "REDIS_URL": REDIS_URL,
            "QUEUE_PREFIX": self.prefix,
            "STORAGE_URL": f"file://{self.media}",
            "SECRET_KEY": "load-test",
            "LOG_LEVEL": "WARNING",
            "LIMIT_AUTOFORMAT_PER_HOUR": "100000",
            "JOB_RETRY_INTERVALS": "",
            # Every simulated producer comes from 127.0.0.1: per-client throttles would refuse them.
            "THROTTLE_REGISTER_PER_HOUR": "0",
            "THROTTLE_LOGIN_PER_IP": "0",
        }
        self.procs: list[subprocess.Popen] = []
        self.upload_share = 0.25  # share of clicks that upload (set from --upload-share)
        self.max_uploads = 4

    def __enter__(self) -> Stack:
        with psycopg.connect(ADMIN_DB, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.db)))
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "webapp", "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.procs.append(
            subprocess.Popen(
                [
                    gunicorn,
                    "webapp:create_app()",  # the rest from gunicorn.conf.py, as in the Procfile
                    *self.web_args,
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for _ in range(self.job_workers):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "worker.py"],
                    cwd=ROOT,
                    env={**self.env, "WORKER_NICE": str(self.job_nice)},  # worker.py lowers itself
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url("/healthz"), timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        return self

    def web_cpu_seconds(self) -> list[float]:
        """CPU seconds (user + system) used so far by each gunicorn worker process: how evenly the
        web processes share the requests."""
        master = self.procs[0].pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            return []
        tick = os.sysconf("SC_CLK_TCK")
        out = []
        for pid in children:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out.append((int(fields[11]) + int(fields[12])) / tick)
        return out

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def app(self):
        from webapp import create_app

        return create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.env["DATABASE_URL"].replace(
                    "postgresql://", "postgresql+psycopg://"
                ),
                "REDIS_URL": REDIS_URL,
                "QUEUE_PREFIX": self.prefix,
                "STORAGE_URL": self.env["STORAGE_URL"],
                "JOB_RETRY_INTERVALS": (),
            }
        )

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        with psycopg.connect(ADMIN_DB, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.db)))
        shutil.rmtree(self.media, ignore_errors=True)


class Window:
    """The measured window starts when every producer has logged in (password hashing for 50
    log-ins is not what is measured), and lasts `seconds`."""

    def __init__(self, parties: int, seconds: float) -> None:
        self.until = float("inf")
        self.barrier = threading.Barrier(parties, action=self._start, timeout=900)
        self.seconds = seconds

    def _start(self) -> None:
        self.started = time.monotonic()
        self.until = self.started + self.seconds


def producer(stack: Stack, n: int, window: Window, lat: dict, errors: list, started_jobs: list, lock) -> None:
    s = requests.Session()
    email = f"load{n}@example.com"
    token = ""
    try:
        page = s.get(stack.url("/register"), timeout=300).text
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        s.post(
            stack.url("/register"),
            data={"csrf_token": csrf, "email": email, "password": PASSWORD, "confirm": PASSWORD},
            timeout=300,
        )
        # Registering does not log in (issue 14): log in through the real form, as a person would.
        page = s.get(stack.url("/login"), timeout=300).text
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        resp = s.post(
            stack.url("/login"), data={"csrf_token": csrf, "email": email, "password": PASSWORD}, timeout=300
        )
        html = s.get(stack.url("/autoformat"), timeout=300).text
        # A producer who just signed in has looked around: every page's template is compiled in
        # every web process before the window opens, as on a server that has been up a while.
        for warm in ("/library", "/jobs"):
            s.get(stack.url(warm), timeout=300)
        if "/login" not in resp.url:
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    except Exception as exc:  # a producer that cannot start is reported, and does not hold the others
        errors.append(f"producer {n} setup: {type(exc).__name__}")
    finally:
        window.barrier.wait()
    if not token:
        errors.append(f"producer {n} could not log in")
        return
    until = window.until
    rnd = random.Random(n)
    jobs: list[int] = []
    polling: list[int] = []  # jobs whose page is open: htmx polls them about once a second
    uploads = 0
    # People do not click in step: each producer's first click comes at a random moment of a
    # first think time, not all fifty at the instant the window opens.
    next_click = time.monotonic() + rnd.uniform(0.0, 5.0)
    while time.monotonic() < until:
        now = time.monotonic()
        if now < next_click and not polling:
            # Reading the page, nothing to poll: the next click comes at next_click. (Before this,
            # an idle producer clicked again after 0.5 s instead of its 2-5 s think time.)
            time.sleep(min(next_click - now, 0.5))
            continue
        if now < next_click:
            kind, method, path = "partial", "get", f"/jobs/{polling[-1]}/status"
            kwargs = {"headers": {"HX-Request": "true"}}
            wait = 1.0
        else:
            r = rnd.random()
            # The other clicks keep the original mix: library 45 : jobs 25 : a job or the form 15.
            x = (r - stack.upload_share) / (1.0 - stack.upload_share)
            if r < stack.upload_share and uploads < stack.max_uploads:
                kind, method, path = "upload", "post", "/autoformat"
                files = {"image": (f"art{n}-{uploads}.jpg", artwork(n * 100 + uploads), "image/jpeg")}
                data = {
                    "csrf_token": token,
                    "output": "jpeg",
                    "darken": "15",
                    "shadow": "y",
                    "fill_poster": "blur",
                    "fill_square": "blur",
                    "fill_banner": "blur",
                }
                kwargs = {
                    "files": files,
                    "data": data,
                    "headers": {"HX-Request": "true", "X-CSRFToken": token},
                }
                uploads += 1
            elif x < 45 / 85:
                kind, method, path = "page", "get", "/library"
                kwargs = {}
            elif x < 70 / 85:
                kind, method, path = "page", "get", "/jobs"
                kwargs = {}
            else:
                kind, method, path = "page", "get", f"/jobs/{rnd.choice(jobs)}" if jobs else "/autoformat"
                kwargs = {}
            wait = 0.0
            next_click = now + rnd.uniform(2.0, 5.0)  # a person reads the page before the next click
        t0 = time.perf_counter()
        try:
            resp = getattr(s, method)(stack.url(path), timeout=30, **kwargs)
            elapsed = time.perf_counter() - t0
            if resp.status_code >= 400:
                errors.append(f"{kind} {path}: {resp.status_code}")
            elif kind == "upload":
                m = re.search(r'id="job-(\d+)"', resp.text)
                if m:
                    jobs.append(int(m.group(1)))
                    polling.append(int(m.group(1)))
                    with lock:
                        started_jobs.append(int(m.group(1)))
            elif kind == "partial" and "hx-trigger" not in resp.text:
                polling.remove(polling[-1])  # final state: the page stops polling, like htmx does
        except requests.RequestException as exc:
            elapsed = time.perf_counter() - t0
            errors.append(f"{kind} {path}: {type(exc).__name__}")
        with lock:
            lat[kind].append(elapsed * 1000)
            if kind == "page":  # which page is slow: /jobs/<id> counted as one route
                lat["route " + re.sub(r"/\d+$", "/<id>", path)].append(elapsed * 1000)
        time.sleep(wait if wait else max(0.0, min(next_click - time.monotonic(), 0.5)))


def health_probe(stack: Stack, window: Window, lat: dict, lock) -> None:
    """The floor, measured in the same run: /healthz does no database or template work."""
    s = requests.Session()
    window.barrier.wait()
    until = window.until
    while time.monotonic() < until:
        t0 = time.perf_counter()
        with contextlib.suppress(requests.RequestException):  # counted at its full wait
            s.get(stack.url("/healthz"), timeout=30)
        with lock:
            lat["health"].append((time.perf_counter() - t0) * 1000)
        time.sleep(0.2)


def wait_for_jobs(app, ids: list[int], timeout: float) -> dict:
    from webapp.extensions import db

    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            rows = db.session.execute(select_jobs(ids)).all()
            db.session.commit()
            if all(r.status in ("succeeded", "failed", "cancelled") for r in rows):
                break
            time.sleep(0.5)
        rows = db.session.execute(select_jobs(ids)).all()
        counts: dict = defaultdict(int)
        for r in rows:
            counts[r.status] += 1
        return {
            "counts": dict(counts),
            "max_attempts": max((r.attempts for r in rows), default=0),
            "first_start": min((r.started_at for r in rows if r.started_at), default=None),
            "last_finish": max((r.finished_at for r in rows if r.finished_at), default=None),
            "workers": defaultdict(
                int, {w: sum(1 for x in rows if x.worker == w) for w in {x.worker for x in rows}}
            ),
            "n": len(rows),
        }


def select_jobs(ids):
    from sqlalchemy import select

    from webapp.models import Job

    return select(Job.id, Job.status, Job.attempts, Job.started_at, Job.finished_at, Job.worker).where(
        Job.id.in_(ids)
    )


def drain_phase(stack: Stack, count: int) -> None:
    from webapp.extensions import db
    from webapp.models import Asset, Role
    from webapp.services import jobs as job_service
    from webapp.services.accounts import create_user
    from webapp.services.assets import ingest_upload

    app = stack.app()
    with app.app_context():
        user = create_user(f"drain-{uuid.uuid4().hex[:6]}@example.com", PASSWORD, "drain", Role.ADMIN)
        sources = [ingest_upload(user, artwork(10_000 + i), f"d{i}.jpg").asset.id for i in range(20)]
        t0 = time.monotonic()
        ids = [
            job_service.start(user, "autoformat", {"asset_id": sources[i % 20], "output": "jpeg"}).id
            for i in range(count)
        ]
        enqueue_s = time.monotonic() - t0
        db.session.remove()
    result = wait_for_jobs(app, ids, timeout=1800)
    span = (
        (result["last_finish"] - result["first_start"]).total_seconds()
        if result["last_finish"]
        else float("nan")
    )
    print(f"\nDrain: {count} auto-format jobs enqueued in {enqueue_s:.1f} s (each committed, then enqueued)")
    print(
        f"  finished: {result['counts']}  (lost: {count - result['n']}, "
        f"max attempts: {result['max_attempts']})"
    )
    print(
        f"  drained in {span:.1f} s by 2 workers: {count / span * 60:.0f} jobs/min in total, "
        f"{count / span * 60 / 2:.0f} jobs/min per worker"
    )
    for worker, n in sorted(result["workers"].items(), key=lambda kv: -kv[1]):
        print(f"    {worker}: {n} jobs")
    with app.app_context():
        from sqlalchemy import func, select

        print(
            f"  assets in the database: {db.session.scalar(select(func.count()).select_from(Asset))} "
            "(identical outputs are stored once per producer)"
        )
    ok = result["counts"].get("succeeded", 0) == count
    print(f"{'PASS' if ok else 'MISS'}  all {count} drained jobs succeeded exactly once")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--producers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument(
        "--drain-jobs", type=int, default=0, help="after the last run, enqueue this many jobs at once"
    )
    parser.add_argument("--runs", type=int, default=3, help="repeat the load phase on fresh stacks")
    parser.add_argument("--web-class", help="gunicorn worker class (default: gunicorn.conf.py's)")
    parser.add_argument("--web-workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--web-threads", type=int, help="threads per gthread worker")
    parser.add_argument(
        "--web-arg",
        action="append",
        default=[],
        help="any other gunicorn argument, e.g. --web-arg=--keep-alive=5",
    )
    parser.add_argument(
        "--job-wait", type=float, default=300, help="seconds to wait for the uploads' jobs after a run"
    )
    parser.add_argument("--job-workers", type=int, default=2)
    parser.add_argument(
        "--upload-share", type=float, default=0.25, help="share of clicks that upload an image (0-0.4)"
    )
    parser.add_argument("--max-uploads", type=int, default=4, help="uploads per producer at most")
    parser.add_argument("--job-nice", type=int, default=15, help="nice level of the job workers (Procfile)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the stack is torn down on timeout/kill
    web_args: list[str] = []
    if args.web_class:
        web_args += ["--worker-class", args.web_class]
    if args.web_workers:
        web_args += ["--workers", str(args.web_workers)]
    if args.web_threads:
        web_args += ["--threads", str(args.web_threads)]
    elif args.web_class == "sync":
        web_args += ["--threads", "1"]  # gunicorn runs "sync" with gunicorn.conf.py's 8 threads as gthread
    web_args += args.web_arg
    summary: list[dict[str, float]] = []
    for run in range(args.runs):
        print(
            f"\nRun {run + 1}/{args.runs}. Load test: gunicorn {' '.join(web_args) or '(gunicorn.conf.py)'}"
            " + "
            f"{args.job_workers} RQ workers at nice {args.job_nice}, {args.producers} producers for "
            f"{args.seconds:.0f} s, {os.cpu_count()} cores"
        )
        print(f"  uptime before: {uptime()}")
        summary.append(one_run(args, web_args, drain=args.drain_jobs if run == args.runs - 1 else 0))
    print_spread(summary)
    return 0


#: The figures of one run that the summary compares (issue 18's table).
FIGURES = (
    ("health_p95", "/healthz p95 ms (floor)"),
    ("page_p50", "page p50 ms"),
    ("page_p95", "page p95 ms"),
    ("page_p99", "page p99 ms"),
    ("partial_p95", "partial p95 ms"),
    ("upload_p95", "upload p95 ms"),
    ("page_ratio", "page p95 / floor"),
    ("partial_ratio", "partial p95 / floor"),
    ("errors", "errors"),
    ("uploads", "uploads done"),
    ("jobs_ok", "jobs succeeded once"),
    ("busy", "machine CPU busy % (window)"),
    ("load1", "load average (1 min) before"),
)


def print_spread(summary: list[dict[str, float]]) -> None:
    print(f"\nSummary of {len(summary)} run(s), each figure per run, then min-max:")
    for key, label in FIGURES:
        values = [r.get(key, float("nan")) for r in summary]
        cells = "  ".join(f"{v:9.1f}" for v in values)
        print(f"  {label:<28} {cells}   [{min(values):.1f} - {max(values):.1f}]")
    for kind in ("page", "partial"):
        worst = max(r[f"{kind}_p95"] for r in summary)
        print(f"{'PASS' if worst <= 50 else 'MISS'}  {kind} p95 <= 50 ms in every run (worst {worst:.1f} ms)")


def machine_cpu() -> list[int]:
    """The machine's CPU counters from /proc/stat (clock ticks): user nice system idle iowait ..."""
    try:
        with open("/proc/stat") as fh:
            return [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return []


def machine_cpu_since(before: list[int]) -> tuple[float, float, float]:
    """(busy ticks, niced ticks, total ticks) since ``before``: how saturated the window was."""
    after = machine_cpu()
    if not before or not after:
        return float("nan"), float("nan"), 1.0
    delta = [a - b for a, b in zip(after, before, strict=False)]
    total = sum(delta[:8]) or 1
    idle = delta[3] + delta[4]
    return float(total - idle), float(delta[1]), float(total)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def one_run(args, web_args: list[str], drain: int) -> dict[str, float]:
    p95s: dict[str, float] = {"load1": os.getloadavg()[0]}
    with Stack(web_args, args.job_workers, args.job_nice) as stack:
        stack.upload_share, stack.max_uploads = args.upload_share, args.max_uploads
        lat: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        started: list[int] = []
        lock = threading.Lock()
        window = Window(args.producers + 1, args.seconds)
        threads = [
            threading.Thread(
                target=producer, args=(stack, n, window, lat, errors, started, lock), daemon=True
            )
            for n in range(args.producers)
        ]
        health = threading.Thread(target=health_probe, args=(stack, window, lat, lock), daemon=True)
        health.start()
        for t in threads:
            t.start()
        cpu_before: list[float] = []
        while not hasattr(window, "started") and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        cpu_before = stack.web_cpu_seconds()
        machine_before = machine_cpu()
        for t in threads:
            t.join()
        health.join()
        cpu_after = stack.web_cpu_seconds()
        busy, niced, span = machine_cpu_since(machine_before)
        print(
            f"machine CPU in the window: {busy / span:.0%} of {os.cpu_count()} cores busy, "
            f"{niced / span:.0%} of all CPU time went to niced processes (the job workers)"
        )
        p95s["busy"] = 100 * busy / span
        if len(cpu_after) == len(cpu_before):
            shares = [a - b for a, b in zip(cpu_after, cpu_before, strict=True)]
            print("web processes' CPU seconds in the window: " + " / ".join(f"{x:.1f}" for x in shares))
            served = sum(len(v) for k, v in lat.items() if not k.startswith("route "))
            print(f"  {sum(shares) / max(served, 1) * 1000:.1f} ms of web CPU per request on average")
        elapsed = time.monotonic() - window.started
        total = sum(len(v) for k, v in lat.items() if not k.startswith("route "))
        print(
            f"\n{total} requests in {elapsed:.1f} s = {total / elapsed:.0f} requests/s; errors: {len(errors)}"
        )
        floor = percentile(lat["health"], 95)
        print(f"{'route type':<10} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p95/health':>11}")
        for kind in ("health", "page", "partial", "upload"):
            v = lat[kind]
            p95 = percentile(v, 95)
            print(
                f"{kind:<10} {len(v):>6} {percentile(v, 50):>8.1f} {p95:>8.1f} {percentile(v, 99):>8.1f} "
                f"{p95 / floor:>11.1f}"
            )
            p95s[f"{kind}_p50"] = percentile(v, 50)
            p95s[f"{kind}_p95"] = p95
            p95s[f"{kind}_p99"] = percentile(v, 99)
        p95s["page_ratio"] = p95s["page_p95"] / floor
        p95s["partial_ratio"] = p95s["partial_p95"] / floor
        p95s["errors"] = len(errors)
        p95s["uploads"] = len(started)
        print("  pages by route: count, p50 ms, p95 ms")
        for route in sorted(k for k in lat if k.startswith("route ")):
            v = lat[route]
            print(f"  {route[6:]:<14} {len(v):>6} {percentile(v, 50):>8.1f} {percentile(v, 95):>8.1f}")
        for e in sorted(set(errors))[:10]:
            print("  error:", e)
        app = stack.app()
        result = wait_for_jobs(app, started, timeout=args.job_wait)
        print(
            f"\nUploads started {len(started)} auto-format jobs: {result['counts']}, "
            f"max attempts {result['max_attempts']}"
        )
        if result["first_start"] and result["last_finish"]:
            span = (result["last_finish"] - result["first_start"]).total_seconds()
            print(f"  {len(started) / max(span, 1e-9) * 60:.0f} jobs completed per minute")
        for kind in ("page", "partial"):
            p95 = percentile(lat[kind], 95)
            print(f"{'PASS' if p95 <= 50 else 'MISS'}  p95 {kind} {p95:.1f} ms (<= 50 ms)")
        print(f"{'PASS' if not errors else 'MISS'}  no errors ({len(errors)})")
        exactly_once = result["counts"].get("succeeded", 0) == len(started) and result["max_attempts"] <= 1
        print(f"{'PASS' if exactly_once else 'MISS'}  every job finished exactly once")
        p95s["jobs_ok"] = result["counts"].get("succeeded", 0)
        print(f"  uptime after: {uptime()}")
        if drain:
            drain_phase(stack, drain)
    return p95s


if __name__ == "__main__":
    sys.exit(main())
