"""Bulk throughput against the rate limit: 50 prompts, FakeOpenAI answering in 2 s, a platform
provider limited to 60 images a minute, two real `python worker.py` processes.

    .venv/bin/python benchmarks/bulk.py [--prompts 50] [--delay 2] [--workers 2] [--per-minute 60]

Everything is throwaway: a Postgres database created and migrated here, a unique QUEUE_PREFIX,
local storage in a temp dir, the fake on a random port. All are removed at the end, also on error.

The fake enforces the same limit the way a provider does: a sliding 60 s window counted at
arrival, 429 beyond it. The run reports those refusals (there must be none) and the most calls
that arrived in any 60 s window.

The bound: the limiter starts call k + L at least one window plus its safety margin after call k
(60 + 2 s, see webapp/services/ratelimit.py), and a worker starts a call no sooner than `delay`
after its previous one, so call k + W starts at least `delay` after call k. The earliest schedule
under both, s_k = max(s_(k-W) + delay, s_(k-L) + 62), ends at s_N + delay: the batch cannot finish
sooner. Printed beside it: the limit alone (the first L at once, then one window per further L:
floor((N-1)/L) * 62 + delay) and the workers alone (ceil(N/W) * delay).
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_DB_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SLACK = 0.10  # within 10% of the bound


def bound(n: int, per_minute: int, delay: float, workers: int) -> tuple[float, float, float]:
    """(limit alone, workers alone, both together) in seconds; see the module docstring."""
    from webapp.services.ratelimit import MARGIN, WINDOW

    span = WINDOW + MARGIN
    limit_bound = math.floor((n - 1) / per_minute) * span + delay
    worker_bound = math.ceil(n / workers) * delay
    starts: list[float] = []
    for k in range(n):
        begin = starts[k - workers] + delay if k >= workers else 0.0
        if k >= per_minute:
            begin = max(begin, starts[k - per_minute] + span)
        starts.append(begin)
    return limit_bound, worker_bound, starts[-1] + delay


def max_in_window(stamps: list[float], window: float = 60.0) -> int:
    """The most requests inside any half-open window [t, t + window) starting at a request."""
    stamps = sorted(stamps)
    best, j = 0, 0
    for i, start in enumerate(stamps):
        j = max(j, i)
        while j < len(stamps) and stamps[j] < start + window:
            j += 1
        best = max(best, j - i)
    return best


def _reply_bodies(n: int) -> list[dict]:
    """Distinct images (real providers never return identical bytes for different prompts)."""
    from tests.fakes import png

    bodies = []
    for i in range(n):
        data = base64.b64encode(png(1024, 1024, i)).decode()  # the colour follows i
        bodies.append(
            {"created": int(time.time()), "data": [{"b64_json": data, "revised_prompt": f"image {i}"}]}
        )
    return bodies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=50)
    ap.add_argument("--delay", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--per-minute", type=int, default=60)
    args = ap.parse_args(argv)

    import psycopg
    import redis
    from cryptography.fernet import Fernet
    from psycopg import sql

    from tests.fakes import FakeOpenAI

    run = uuid.uuid4().hex[:8]
    db_name = f"marquee_bench_{run}"
    prefix = f"bench-{run}-"
    media = Path(tempfile.mkdtemp(prefix="marquee-bench-"))
    api_key = f"sk-bench-{run}-key"
    base = ADMIN_DB_URL.rsplit("/", 1)[0]
    db_url = f"{base}/{db_name}".replace("postgresql://", "postgresql+psycopg://", 1)
    env = dict(
        os.environ,
        SECRET_KEY=uuid.uuid4().hex,
        DATABASE_URL=db_url,
        REDIS_URL=REDIS_URL,
        QUEUE_PREFIX=prefix,
        STORAGE_URL=f"file://{media}",
        PLATFORM_KEYS_FERNET=Fernet.generate_key().decode(),
        USER_KEYS_FERNET=Fernet.generate_key().decode(),
        JOB_RETRY_INTERVALS="",
        LOG_LEVEL="WARNING",
    )
    workers: list[subprocess.Popen] = []
    fake = FakeOpenAI(valid_key=api_key).start()
    with psycopg.connect(ADMIN_DB_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
    app = None
    try:
        os.environ.update({k: env[k] for k in ("PLATFORM_KEYS_FERNET", "USER_KEYS_FERNET")})
        from flask_migrate import upgrade

        from webapp import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": db_url,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
                "SECRET_KEY": env["SECRET_KEY"],
                "REDIS_URL": REDIS_URL,
                "QUEUE_PREFIX": prefix,
                "STORAGE_URL": env["STORAGE_URL"],
                "PLATFORM_KEYS_FERNET": env["PLATFORM_KEYS_FERNET"],
                "USER_KEYS_FERNET": env["USER_KEYS_FERNET"],
                "BULK_CONCURRENCY": args.workers,
            }
        )
        with app.app_context():
            upgrade()
            batch_id = _prepare_and_start(app, fake, api_key, args)
        for _ in range(args.workers):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "worker.py", "ai"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        elapsed, result = _wait(app, batch_id, workers)
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait()
        fake.stop()
        if app is not None:
            with app.app_context():
                from webapp.extensions import db

                db.session.remove()
                db.engine.dispose()
        with psycopg.connect(ADMIN_DB_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        shutil.rmtree(media, ignore_errors=True)

    requests = fake.requests_to("/images/generations")
    calls = [r.at for r in requests]
    refused = sum(1 for r in requests if r.reply is not None and r.reply.kind == "rate_limited")
    limit_b, worker_b, b = bound(args.prompts, args.per_minute, args.delay, args.workers)
    window_max = max_in_window(calls)
    ratio = elapsed / b
    print(f"prompts={args.prompts} workers={args.workers} delay={args.delay:g}s limit={args.per_minute}/min")
    print(f"items: {result}")
    print(f"provider calls: {len(calls)} ({refused} refused with 429 by the provider's own count)")
    print(
        f"bound: limit {limit_b:.1f} s (floor(({args.prompts}-1)/{args.per_minute})*62 + {args.delay:g}), "
        f"workers {worker_b:.1f} s (ceil({args.prompts}/{args.workers})*{args.delay:g}), "
        f"both -> {b:.1f} s"
    )
    print(f"elapsed: {elapsed:.1f} s   ratio: {ratio:.3f}")
    print(f"max calls in any 60 s window: {window_max} (limit {args.per_minute})")
    speed_ok = ratio <= 1 + SLACK
    limit_ok = window_max <= args.per_minute and refused == 0
    done_ok = result.get("succeeded") == args.prompts
    print(f"{'PASS' if speed_ok else 'MISS'}  finished within {SLACK:.0%} of the bound")
    print(
        f"{'PASS' if limit_ok else 'MISS'}  never more than {args.per_minute} calls in any 60 s window, "
        "no 429 from the provider"
    )
    print(f"{'PASS' if done_ok else 'MISS'}  every prompt succeeded")
    return 0 if (speed_ok and limit_ok and done_ok) else 1


def _prepare_and_start(app, fake, api_key: str, args) -> int:
    from tests.fakes import Reply
    from webapp.extensions import db
    from webapp.models import Role
    from webapp.services import bulk
    from webapp.services.accounts import create_user
    from webapp.services.keys import set_platform_key
    from webapp.services.providers import ensure_providers, get_provider

    ensure_providers()
    provider = get_provider("openai")
    provider.enabled, provider.base_url = True, fake.url
    provider.images_per_minute, provider.monthly_budget = args.per_minute, None
    db.session.commit()
    set_platform_key(provider, api_key)  # tested against the fake, as an admin would
    for body in _reply_bodies(args.prompts + 10):
        fake.enqueue(Reply(kind="success", delay=args.delay, body=body))
    fake.set_mode("slow", delay=args.delay)
    fake.rate_limit_per_minute = args.per_minute  # refuses beyond it, counted at arrival
    admin = create_user(
        f"bench-{uuid.uuid4().hex[:6]}@example.com", "correct horse battery staple", "", Role.ADMIN
    )
    prompts = "\n".join(f"benchmark poster number {i}, neon lights" for i in range(args.prompts))
    parsed = bulk.parse_prompts(prompts)
    # Enqueued before the workers start: the clock runs from the first claim (batch.started_at
    # is reset below when the first worker is up), not from Python start-up.
    batch = bulk.create_and_start(admin, parsed, bulk.BatchSettings(provider="openai", image_type="square"))
    return batch.id


def _wait(app, batch_id: int, workers) -> tuple[float, dict]:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import BulkBatch, BulkItem

    deadline = time.monotonic() + 600
    first_claim = None
    with app.app_context():
        while time.monotonic() < deadline:
            db.session.expire_all()
            batch = db.session.get(BulkBatch, batch_id)
            first_claim = first_claim or db.session.scalar(
                select(func.min(BulkItem.started_at)).where(BulkItem.batch_id == batch_id)
            )
            if batch.status == "finished":
                break
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker exited early")
            db.session.commit()
            time.sleep(0.2)
        counts = dict(
            db.session.execute(
                select(BulkItem.status, func.count())
                .where(BulkItem.batch_id == batch_id)
                .group_by(BulkItem.status)
            ).all()
        )
        elapsed = (batch.finished_at - first_claim).total_seconds() if batch.finished_at else float("inf")
        db.session.commit()
    return elapsed, counts


if __name__ == "__main__":
    sys.exit(main())
