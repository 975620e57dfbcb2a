"""Operations: the queue dashboard against a real `python worker.py`, /metrics scraped and parsed
after real jobs, and each housekeeping task with --dry-run and for real."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import select, update

from tests.conftest import REDIS_URL, worker_env

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-test-token-0123456789"


def _wait(predicate, what: str, seconds: float = 90.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _job(app, job_id: int):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge_all()
        return job


_seq = 0


def _variant(photo: bytes, n: int) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.open(io.BytesIO(photo)).convert("RGB")
    ImageDraw.Draw(img).rectangle((0, 0, 40, 40), fill=(n * 37 % 256, n * 91 % 256, n * 13 % 256))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _start_autoformat(
    app, user_id: int, photo: bytes, *, lose_source: bool = False
) -> tuple[int, str, bytes]:
    """A queued auto-format job; with lose_source its original is removed from storage, so the job
    fails until the file is put back. Returns (job id, storage key, bytes)."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import jobs as job_service
    from webapp.services.assets import ingest_upload
    from webapp.storage import get_storage

    global _seq
    _seq += 1
    photo = _variant(photo, _seq)  # distinct bytes: uploads are de-duplicated per owner
    with app.app_context():
        user = db.session.get(User, user_id)
        asset = ingest_upload(user, photo, "show.jpg").asset
        key = asset.storage_key
        data = get_storage().get(key)
        if lose_source:
            get_storage().delete(key)
        job = job_service.start(
            user, "autoformat", {"asset_id": asset.id, "output": "jpeg", "formats": ["square"]}
        )
        return job.id, key, data


def _restore(app, key: str, data: bytes) -> None:
    from webapp.storage import get_storage

    with app.app_context():
        get_storage().put(key, data, "image/jpeg")


class _Worker:
    def __init__(self, pg_url, media_root, queue_prefix, **extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=ROOT,
            env=worker_env(pg_url, media_root, queue_prefix, **extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


def _audit_actions(app) -> list[tuple[str, str]]:
    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.target)).all()
        db.session.commit()
        return [(a, t) for a, t in rows]


# ------------------------------------------------------------------------------------------ queues


def test_queue_dashboard_is_admin_only(client, login):
    login()  # a producer
    assert client.get("/admin/queues").status_code == 404
    assert client.post("/admin/queues/action", data={"op": "requeue_failed"}).status_code == 404


def test_queue_dashboard_steers_jobs_of_a_real_worker(
    app, client, login, make_user, pg_url, media_root, queue_prefix, photo_jpeg
):
    login(role="admin")
    owner, _ = make_user()

    # No worker yet: two jobs wait. One is cancelled, one deleted, from the dashboard.
    waiting, _, _ = _start_autoformat(app, owner, photo_jpeg)
    doomed, _, _ = _start_autoformat(app, owner, photo_jpeg)
    page = client.get("/admin/queues").get_data(as_text=True)
    # (Workers that earlier tests SIGKILLed may still be listed, with their old heartbeat.)
    assert "Job queues" in page and f"Job {waiting}" in page and f"Job {doomed}" in page
    assert client.post(
        "/admin/queues/action", data={"op": "cancel", "rq_id": _job(app, waiting).rq_id}
    ).status_code in (302, 303)
    assert _job(app, waiting).status == "cancelled"
    doomed_rq = _job(app, doomed).rq_id
    client.post("/admin/queues/action", data={"op": "delete", "rq_id": doomed_rq})
    assert _job(app, doomed).status == "cancelled"  # nothing left "queued" for a job that is gone
    assert not redis_lib.Redis.from_url(REDIS_URL).exists(f"rq:job:{doomed_rq}")

    # Three jobs whose original is missing fail in the real worker and land in RQ's failed list.
    failing = [_start_autoformat(app, owner, photo_jpeg, lose_source=True) for _ in range(3)]
    worker = _Worker(pg_url, media_root, queue_prefix)
    try:
        for job_id, _, _ in failing:
            _wait(lambda j=job_id: _job(app, j).status == "failed", f"job {job_id} to fail")
        page = _wait(
            lambda: (
                (p := client.get("/admin/queues/panel").get_data(as_text=True))
                and "Requeue all failed" in p
                and p
            ),
            "the failed list",
        )
        for job_id, _, _ in failing:
            assert f"Job {job_id}" in page
        assert "idle" in page or "busy" in page  # the worker is listed with its state

        # The files come back: one is retried on its own, then the rest with "requeue all failed".
        for _, key, data in failing:
            _restore(app, key, data)
        first = failing[0][0]
        client.post("/admin/queues/action", data={"op": "retry", "rq_id": _job(app, first).rq_id})
        _wait(lambda: _job(app, first).status == "succeeded", "the retried job to succeed")
        resp = client.post("/admin/queues/action", data={"op": "requeue_failed"})
        assert resp.status_code in (302, 303)
        for job_id, _, _ in failing[1:]:
            _wait(lambda j=job_id: _job(app, j).status == "succeeded", f"job {job_id} to succeed")
    finally:
        worker.stop()

    audited = _audit_actions(app)
    assert ("job.cancel", f"job:{waiting}") in audited
    assert ("queue.delete", f"rq:{doomed_rq}") in audited
    assert ("job.retry", f"job:{first}") in audited
    assert sum(1 for a, _ in audited if a == "job.retry") == 3
    assert any(a == "queue.requeue_all_failed" for a, _ in audited)


# ----------------------------------------------------------------------------------------- metrics


@pytest.fixture
def metrics_on(app, tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "metrics"
    app.config.update(METRICS_TOKEN=TOKEN, METRICS_DIR=str(folder))
    try:
        yield folder
    finally:
        app.config.update(METRICS_TOKEN=None, METRICS_DIR=None)


def test_metrics_is_404_without_the_token(app, client, metrics_on):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def _samples(client) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    resp = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    out: dict = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples: dict, name: str, **labels) -> float:
    want = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and want <= set(lab))


def _form(photo: bytes, name: str) -> dict:
    fills = {f"fill_{f}": "blur" for f in ("poster", "square", "banner")}
    return {"image": (io.BytesIO(photo), name), "output": "jpeg", "darken": "15", **fills}


def test_metrics_after_real_jobs(
    app, client, login, pg_url, media_root, queue_prefix, photo_jpeg, metrics_on
):
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.models import Job, Provider
    from webapp.services.providers import ensure_providers

    with app.app_context():
        ensure_providers()
        db.session.execute(
            update(Provider).where(Provider.name == "openai").values(monthly_budget=Decimal(25))
        )
        db.session.commit()
    uid, _ = login()
    app.config["LIMIT_AUTOFORMAT_PER_HOUR"] = 1
    worker = _Worker(pg_url, media_root, queue_prefix, METRICS_TOKEN=TOKEN, METRICS_DIR=str(metrics_on))
    try:
        resp = client.post(
            "/autoformat",
            data=_form(photo_jpeg, "a.jpg"),
            content_type="multipart/form-data",
        )
        assert resp.status_code in (200, 302, 303)

        def _done():
            with app.app_context():
                status = db.session.scalar(select(Job.status).where(Job.owner_id == uid))
                db.session.commit()
                return status in ("succeeded", "failed") and status

        assert _wait(_done, "the upload's job") == "succeeded"
        # A second upload passes the hourly allowance of 1: refused, and counted.
        client.post(
            "/autoformat",
            data=_form(photo_jpeg, "b.jpg"),
            content_type="multipart/form-data",
        )
        samples = _wait(
            lambda: (
                (s := _samples(client))
                and _value(s, "marquee_jobs_total", kind="autoformat", outcome="succeeded") >= 1
                and s
            ),
            "the worker's job metrics",
        )
    finally:
        app.config["LIMIT_AUTOFORMAT_PER_HOUR"] = 10
        worker.stop()
    assert _value(samples, "marquee_job_duration_seconds_count", kind="autoformat", outcome="succeeded") >= 1
    assert _value(samples, "marquee_job_queue_wait_seconds_count", kind="autoformat") >= 1
    assert _value(samples, "marquee_allowance_refusals_total", kind="autoformat") >= 1
    assert (
        _value(samples, "marquee_http_request_duration_seconds_count", route="/autoformat", method="POST")
        >= 2
    )
    # Budget used per provider is read from the database at scrape time, budget set or not.
    assert ("marquee_provider_budget_used_usd", (("provider", "openai"),)) in samples
    assert samples[("marquee_provider_budget_usd", (("provider", "openai"),))] == 25.0


# ------------------------------------------------------------------------------------ housekeeping


def _cli(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["maintenance", "run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_purge_failed_jobs_dry_run_then_for_real(app, make_user, photo_jpeg):
    from webapp.extensions import db
    from webapp.models import Asset, Job, UsageEvent, utcnow

    owner, _ = make_user()
    old_failed, _, _ = _start_autoformat(app, owner, photo_jpeg)
    recent_failed, _, _ = _start_autoformat(app, owner, photo_jpeg)
    still_queued, _, _ = _start_autoformat(app, owner, photo_jpeg)
    with app.app_context():
        long_ago = utcnow() - timedelta(hours=30)
        db.session.execute(
            update(Job)
            .where(Job.id == old_failed)
            .values(status="cancelled", finished_at=long_ago, created_at=long_ago)
        )
        db.session.execute(
            update(Job).where(Job.id == recent_failed).values(status="failed", finished_at=utcnow())
        )
        db.session.execute(update(Job).where(Job.id == still_queued).values(created_at=long_ago))
        kept = db.session.scalar(select(Asset).where(Asset.owner_id == owner))
        kept.job_id = old_failed  # an image the cancelled job kept (paid for): it must stay
        db.session.add(
            UsageEvent(
                user_id=owner,
                provider="local",
                model="m",
                operation="generate",
                size="1x1",
                quality="low",
                images=1,
                cost=0,
                key_owner="platform",
                job_id=old_failed,
                outcome="success",
            )
        )
        db.session.commit()
        kept_id = kept.id

    out = _cli(app, "purge-failed-jobs", "--dry-run")
    assert "dry run" in out and str(old_failed) in out
    assert _job(app, old_failed) is not None

    _cli(app, "purge-failed-jobs")
    assert _job(app, old_failed) is None
    assert _job(app, recent_failed) is not None and _job(app, still_queued) is not None
    with app.app_context():
        asset = db.session.get(Asset, kept_id)
        assert asset is not None and asset.job_id is None
        assert db.session.scalar(select(UsageEvent.job_id).where(UsageEvent.user_id == owner)) is None
        db.session.commit()


def test_orphaned_objects_dry_run_then_for_real(app, media_root):
    from webapp.storage import get_storage

    with app.app_context():
        store = get_storage()
        store.put("users/999/ab/orphan-u1.jpg", b"left by a killed worker", "image/jpeg")
        store.put("users/999/ab/young-u2.jpg", b"a job in flight", "image/jpeg")
        path = store.local_path("users/999/ab/orphan-u1.jpg")
        old = time.time() - 2 * 86400
        os.utime(path, (old, old))

    out = _cli(app, "orphaned-objects", "--dry-run")
    assert "orphan-u1.jpg" in out and "young-u2.jpg" not in out
    assert path.exists()
    _cli(app, "orphaned-objects")
    assert not path.exists()
    with app.app_context():
        assert get_storage().exists("users/999/ab/young-u2.jpg")


def test_every_task_has_a_dry_run(app):
    out = _cli(app, "all", "--dry-run")
    for name in ("sweep-jobs", "purge-tombstones", "orphaned-objects", "purge-failed-jobs", "expire-bulk"):
        assert f"{name} (dry run):" in out


# -------------------------------------------------------------------------------------- API paging


def test_api_assets_honours_limit(app, client, login, photo_jpeg):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services.assets import ingest_upload

    uid, _ = login()
    with app.app_context():
        user = db.session.get(User, uid)
        for n in range(5):
            ingest_upload(user, _variant(photo_jpeg, 100 + n), f"art{n}.jpg")
    seen: list[int] = []
    url = "/api/v1/assets?limit=2"
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        url = f"/api/v1/assets?limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert len(seen) == len(set(seen)) == 5
    for bad in ("0", "101", "two"):
        resp = client.get(f"/api/v1/assets?limit={bad}")
        assert resp.status_code == 422 and "limit" in resp.get_json()["errors"]
