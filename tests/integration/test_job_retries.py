"""RQ's automatic retry, which every other test switches off: a real `python worker.py` (with its scheduler)
retries a transient provider failure by itself, and does not retry a permanent one.

The provider is the fake OpenAI server told to fail the first request, reached by the real ``openai`` SDK
from the worker process; nothing of ours is mocked. See docs/architecture-notes.md "Transient-only retries".
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import REDIS_URL, worker_env
from tests.fakes import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
OPENAI_KEY = "sk-retry-platform-0003"
RETRY_SECONDS = 3  # long enough for the poll below to see the row waiting, short enough for a test
pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def openai_fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as fake:
        yield fake


@pytest.fixture
def retrying_app(app, monkeypatch):
    """Jobs enqueued from here carry RQ's Retry (one retry after RETRY_SECONDS), as in production."""
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", (RETRY_SECONDS,))
    return app


@pytest.fixture
def worker(app, pg_url, media_root, queue_prefix):
    """A real worker process with RQ's scheduler, which is what moves a retried job back onto the queue."""
    proc = subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=worker_env(
            pg_url,
            media_root,
            queue_prefix,
            JOB_RETRY_INTERVALS=str(RETRY_SECONDS),
            JOB_HEARTBEAT_SECONDS="1",
            JOB_STALE_SECONDS="30",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    yield proc
    proc.send_signal(signal.SIGTERM)  # warm shutdown
    assert proc.wait(timeout=60) == 0


def configure_openai(app, base_url: str) -> None:
    from webapp.services import keys, providers

    with app.app_context():
        providers.ensure_providers()
        row = providers.get_provider("openai")
        providers.update_settings(row, {"enabled": True, "base_url": base_url})
        keys.set_platform_key(row, OPENAI_KEY)


def start_generation(client) -> int:
    import re

    resp = client.post(
        "/studio/generate",
        data={
            "mode": "create",
            "image_type": "square",
            "model": "openai:gpt-image-1.5",
            "prompt": "a brass band in the rain",
            "quality": "low",
            "variations": "1",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return int(re.search(r"job=(\d+)", resp.headers["Location"]).group(1))


def job_row(app, job_id: int):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        row = db.session.get(Job, job_id)
        db.session.expunge(row)
        return row


def watch(app, job_id: int, until: set[str], deadline_s: float = 90) -> tuple[object, list[tuple[str, str]]]:
    """Poll the row until its status is in ``until``; also return every (status, stage) seen on the way."""
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + deadline_s
    while True:
        row = job_row(app, job_id)
        if not seen or seen[-1] != (row.status, row.stage):
            seen.append((row.status, row.stage or ""))
        if row.status in until or time.monotonic() > deadline:
            return row, seen
        time.sleep(0.02)


def ledger(app, job_id: int) -> list[tuple[str, int, Decimal]]:
    from webapp.extensions import db
    from webapp.models import UsageEvent

    with app.app_context():
        rows = db.session.scalars(
            select(UsageEvent).where(UsageEvent.job_id == job_id).order_by(UsageEvent.id)
        ).all()
        return [(r.outcome, r.images, r.cost) for r in rows]


def job_assets(app, job_id: int) -> list:
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        rows = db.session.scalars(select(Asset).where(Asset.job_id == job_id)).all()
        db.session.expunge_all()
        return rows


def test_a_provider_500_is_retried_by_rq_and_succeeds_once(
    retrying_app, client, login, openai_fake, worker, media_root
):
    app = retrying_app
    configure_openai(app, openai_fake.url)
    openai_fake.fail_first(1, "server_error")
    login()
    job_id = start_generation(client)

    row, seen = watch(app, job_id, {"succeeded", "failed"})
    assert row.status == "succeeded", (row.error, seen)
    waiting = [stage for status, stage in seen if status == "queued" and "Retrying automatically" in stage]
    assert waiting, f"the row never showed the pending retry: {seen}"
    assert "OpenAI is having problems (HTTP 500)" in waiting[0]
    assert row.attempts == 2 and row.error is None

    calls = openai_fake.requests_to("/v1/images/generations")
    assert [c.reply.kind for c in calls] == ["server_error", "success"]
    outputs = job_assets(app, job_id)
    assert len(outputs) == 1 and row.result["asset_ids"] == [outputs[0].id]
    # One charge: the failed call is recorded at $0, the successful one at the table price.
    assert ledger(app, job_id) == [("unavailable", 0, Decimal(0)), ("success", 1, Decimal("0.0090"))]
    keys = {k for a in outputs for k in (a.storage_key, a.thumb_key) if k}
    on_disk = {p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file()}
    assert on_disk == keys  # no second copy and no orphan from the failed attempt


def test_a_permanent_failure_is_not_retried(retrying_app, client, login, openai_fake, worker):
    from redis import Redis
    from rq.job import Job as RQJob
    from rq.job import JobStatus as RQStatus

    app = retrying_app
    configure_openai(app, openai_fake.url)
    openai_fake.fail_first(1, "safety")  # a content refusal: trying again would only be refused again
    login()
    job_id = start_generation(client)

    row, seen = watch(app, job_id, {"succeeded", "failed"})
    assert row.status == "failed" and "safety system" in row.error, (row.error, seen)
    assert not any("Retrying automatically" in stage for _, stage in seen), seen
    # RQ itself settled the job as failed (a retry would show as scheduled, then queued).
    rq_job = RQJob.fetch(row.rq_id, connection=Redis.from_url(REDIS_URL))
    deadline = time.monotonic() + 30
    while rq_job.get_status(refresh=True) not in (RQStatus.FAILED, RQStatus.SCHEDULED, RQStatus.QUEUED):
        assert time.monotonic() < deadline, rq_job.get_status()
        time.sleep(0.02)
    # FAILED, not SCHEDULED: RQ decided at the failure not to retry (a retry is scheduled at once).
    # (`retries_left` in Redis is not a witness: RQ does not always persist the runner's change.)
    assert rq_job.get_status() == RQStatus.FAILED
    assert not RQJob.fetch(row.rq_id, connection=rq_job.connection).is_scheduled
    assert row.attempts == 1
    assert len(openai_fake.requests_to("/v1/images/generations")) == 1
    assert ledger(app, job_id) == [("blocked", 0, Decimal(0))]


# --------------------------------------------------------------------------- in-job handling (no RQ retry)


def test_a_429_without_retry_after_waits_the_default_once_and_succeeds(
    app, client, login, openai_fake, run_jobs, monkeypatch
):
    monkeypatch.setitem(app.config, "PROVIDER_RATE_LIMIT_WAIT_SECONDS", 0.2)
    configure_openai(app, openai_fake.url)
    openai_fake.fail_first(1, "rate_limited_bare")
    login()
    job_id = start_generation(client)
    run_jobs()
    row = job_row(app, job_id)
    assert row.status == "succeeded", row.error
    calls = openai_fake.requests_to("/v1/images/generations")
    assert [c.reply.kind for c in calls] == ["rate_limited_bare", "success"]
    assert ledger(app, job_id) == [("success", 1, Decimal("0.0090"))]


def test_a_model_the_provider_refuses_is_shown_to_the_producer_clearly(app, client, login, run_jobs):
    with FakeOpenAI(valid_key=OPENAI_KEY, models=("gpt-image-1.5",)) as fake:
        configure_openai(app, fake.url)
        login()
        resp = client.post(
            "/studio/generate",
            data={
                "mode": "create",
                "image_type": "square",
                "model": "openai:gpt-image-1-mini",
                "prompt": "a brass band in the rain",
                "quality": "low",
                "variations": "1",
            },
            content_type="multipart/form-data",
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        job_id = int(resp.headers["Location"].rsplit("job=", 1)[1].split("&")[0])
        run_jobs()
        (call,) = fake.requests_to("/v1/images/generations")
        assert call.json["model"] == "gpt-image-1-mini"
    row = job_row(app, job_id)
    assert row.status == "failed" and row.attempts == 1
    assert "OpenAI does not offer the model 'gpt-image-1-mini'" in row.error
    assert "Choose another model" in row.error
    page = client.get(f"/studio?job={job_id}").get_data(as_text=True)
    assert "OpenAI does not offer the model &#39;gpt-image-1-mini&#39;" in page
