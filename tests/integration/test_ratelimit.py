"""The per-key images-per-minute limiter must hold where the provider counts: at arrival.

Against real Redis, real `python worker.py` processes and a fake OpenAI that enforces the same
limit over a sliding 60 s window of arrivals, answering 429 beyond it.
"""

from __future__ import annotations

import base64
import itertools
import signal
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import worker_env
from tests.fakes import FakeOpenAI, Reply, png
from tests.integration.test_budget_and_ledger import configure, job_state, ledger_rows, spend, start

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("app")


def max_in_window(stamps: list[float], window: float) -> int:
    """The most stamps inside any half-open window [t, t + window) that starts at a stamp."""
    stamps = sorted(stamps)
    best, j = 0, 0
    for i, begin in enumerate(stamps):
        j = max(j, i)
        while j < len(stamps) and stamps[j] < begin + window:
            j += 1
        best = max(best, j - i)
    return best


def _bodies(n: int) -> list[dict]:
    """Distinct images, as a real provider sends for different prompts."""
    return [
        {"created": 0, "data": [{"b64_json": base64.b64encode(png(1024, 1024, i)).decode()}]}
        for i in range(n)
    ]


def _unique_key() -> str:
    # The limiter's bucket is the key's fingerprint: a fresh key keeps other tests' calls out.
    return f"sk-ratelimit-{uuid.uuid4().hex}"


def test_racing_threads_never_get_more_than_the_limit_into_any_window(app):
    """Eight threads (as many workers would) take slots for one key and "send" at their slot."""
    from webapp.services import ratelimit

    limit, window, margin, calls_each = 5, 2.0, 0.5, 3
    bucket = f"marquee:rl:test:{uuid.uuid4().hex}"
    sent: list[float] = []
    refused: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            for _ in range(calls_each):
                ok, wait = ratelimit.reserve(bucket, limit, 1, 60.0, window=window, margin=margin)
                if not ok:
                    with lock:
                        refused.append(wait)
                    continue
                time.sleep(wait)
                with lock:
                    sent.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert refused == [] and len(sent) == 8 * calls_each  # every call got a slot in time
    # At most `limit` in any window of `window` seconds; and the first `limit` went at once.
    assert max_in_window(sent, window) == limit


def test_a_hold_after_a_429_delays_every_caller_on_that_key_only(app):
    from webapp.services import ratelimit

    held = ratelimit.fingerprint("openai", _unique_key())
    other = ratelimit.fingerprint("openai", _unique_key())
    with app.app_context():
        ratelimit.hold(held, 5.0)
        ok, wait = ratelimit.reserve(held, 60, 1, 120.0)
        assert ok and 4.0 < wait <= 5.0
        ok, wait = ratelimit.reserve(held, 60, 1, 1.0)  # further than this caller will wait
        assert not ok and wait > 1.0
        assert ratelimit.reserve(other, 60, 1, 120.0) == (True, 0.0)


def test_bulk_through_two_worker_processes_never_exceeds_the_providers_limit(
    app, make_user, pg_url, media_root, queue_prefix
):
    """70 prompts at 60 a minute through two `python worker.py` processes; the fake refuses any
    arrival beyond 60 in its last 60 s, as the provider does."""
    from webapp.extensions import db
    from webapp.models import BulkBatch, BulkItem, User
    from webapp.services import bulk

    limit, prompts = 60, 70
    key = _unique_key()
    with FakeOpenAI(valid_key=key) as fake:
        configure(app, "openai", key=key, base_url=fake.url, images_per_minute=limit, monthly_budget=None)
        fake.reset()
        fake.rate_limit_per_minute = limit
        fake.enqueue(*(Reply(body=b) for b in _bodies(prompts + 10)))
        uid, _ = make_user(role="admin")
        with app.app_context():
            user = db.session.get(User, uid)
            settings = bulk.BatchSettings(provider="openai", image_type="square", variations=1)
            text = "\n".join(f"poster {i}, neon lights" for i in range(prompts))
            batch_id = bulk.create_and_start(user, bulk.parse_prompts(text), settings).id
        workers = [
            subprocess.Popen(
                [sys.executable, "worker.py", "ai"],
                cwd=ROOT,
                env=worker_env(pg_url, media_root, queue_prefix),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 300
            status = None
            while time.monotonic() < deadline and status != "finished":
                time.sleep(0.5)
                assert all(w.poll() is None for w in workers), "a worker exited"
                with app.app_context():
                    status = db.session.get(BulkBatch, batch_id).status
                    db.session.commit()
            assert status == "finished"
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                w.wait(timeout=60)
        calls = fake.requests_to("/images/generations")

    with app.app_context():
        counts = dict(
            db.session.execute(
                select(BulkItem.status, func.count())
                .where(BulkItem.batch_id == batch_id)
                .group_by(BulkItem.status)
            ).all()
        )
        db.session.commit()
    assert counts == {"succeeded": prompts}
    refusals = [c for c in calls if c.reply is not None and c.reply.kind == "rate_limited"]
    worst = max_in_window([c.at for c in calls], 60.0)
    assert refusals == [], (
        f"{len(refusals)} of {len(calls)} calls refused; {worst} arrived in one 60 s window"
    )
    assert len(calls) == prompts  # nothing was drawn twice
    assert worst <= limit


def test_single_generation_retries_429s_in_the_job_and_pays_once(app, make_user, run_jobs):
    """Two 429s in a row: the job waits each Retry-After, tries again through the limiter, and
    settles its one budget reservation once, with one ledger row."""
    key = _unique_key()
    with FakeOpenAI(valid_key=key) as fake:
        pid = configure(app, "openai", key=key, base_url=fake.url, default=True, monthly_budget=Decimal("5"))
        fake.reset()
        fake.enqueue(Reply("rate_limited", retry_after=1), Reply("rate_limited", retry_after=1))
        uid, _ = make_user()
        job_id = start(app, uid, image_type="square", quality="low")
        run_jobs()
        calls = fake.requests_to("/v1/images/generations")
    status, error, _ = job_state(app, job_id)
    assert status == "succeeded", error
    assert [c.reply.kind for c in calls] == ["rate_limited", "rate_limited", "success"]
    assert all(b.at - a.at >= 0.9 for a, b in itertools.pairwise(calls))  # Retry-After kept
    assert [(r.outcome, r.images, r.cost) for r in ledger_rows(app)] == [("success", 1, Decimal("0.009"))]
    assert spend(app, pid) == (Decimal("0.009"), Decimal(0))  # paid once, reservation settled


def test_single_generation_waits_in_the_platform_keys_window_not_the_producers_own(
    app, make_user, run_jobs, monkeypatch
):
    """The platform key's window is full (another worker took its only slot): a single generation
    on it gets no slot, sends nothing, keeps no budget; the producer's own key is not held up."""
    from webapp.extensions import db
    from webapp.jobs import generate
    from webapp.models import User
    from webapp.services import keys, ratelimit

    platform, own = _unique_key(), _unique_key()
    monkeypatch.setattr(generate, "SLOT_WAIT_MAX", 3.0)
    with FakeOpenAI(valid_key=None) as fake:
        pid = configure(
            app,
            "openai",
            key=platform,
            base_url=fake.url,
            default=True,
            monthly_budget=Decimal("5"),
            images_per_minute=1,
        )
        fake.reset()
        # Own keys never follow the admin's base URL, only the operator's (issue 14).
        monkeypatch.setitem(app.config, "OPENAI_BASE_URL", fake.url)
        uid, _ = make_user()
        with app.app_context():
            ok, _ = ratelimit.reserve(ratelimit.fingerprint("openai", platform), 1)
            assert ok
            job_id = start(app, uid, image_type="square", quality="low")
        run_jobs()
        status, error, _ = job_state(app, job_id)
        assert status == "failed" and "limit of 1 images a minute" in error
        assert fake.requests_to("/v1/images/generations") == []
        assert ledger_rows(app) == []
        assert spend(app, pid) == (Decimal(0), Decimal(0))  # the reservation was released

        with app.app_context():
            keys.add_user_key(db.session.get(User, uid), "openai", own)
        job_id = start(app, uid, image_type="square", quality="low", use_own_key=True)
        run_jobs()
        status, error, _ = job_state(app, job_id)
        assert status == "succeeded", error
        assert len(fake.requests_to("/v1/images/generations")) == 1
