"""A worker killed mid-job is detected; the real `python worker.py` process runs jobs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from PIL import Image
from sqlalchemy import select, update

from tests.conftest import REDIS_URL, encode_image, worker_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("app")


def _worker_env(pg_url: str, media_root: Path, queue_prefix: str) -> dict:
    return worker_env(
        pg_url,
        media_root,
        queue_prefix,
        JOB_HEARTBEAT_SECONDS="1",
        JOB_STALE_SECONDS="3",
        UPLOAD_MAX_BYTES=str(80 * 1024 * 1024),
    )


def _kill_tree(pid: int) -> None:
    """SIGKILL a worker and its work horses (RQ puts each horse in its own process group).

    psutil lists the children from /proc, so the test needs no `ps` binary (procps is not on a
    minimal Debian)."""
    children = psutil.Process(pid).children(recursive=True)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
    os.killpg(pid, signal.SIGKILL)


def _status(app, job_id):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge_all()
        return job


def _big_png() -> bytes:
    from skimage import data

    photo = Image.fromarray(data.chelsea()).resize((4000, 4000), Image.Resampling.BICUBIC)
    return encode_image(photo, "PNG", compress_level=1)


def _start_job(app, user_id: int, payload_bytes: bytes, output: str = "png") -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import jobs as job_service
    from webapp.services.assets import ingest_upload

    with app.app_context():
        app.config["UPLOAD_MAX_BYTES"] = 80 * 1024 * 1024
        try:
            user = db.session.get(User, user_id)
            asset = ingest_upload(user, payload_bytes, "huge.png").asset
            job = job_service.start(
                user,
                "autoformat",
                {"asset_id": asset.id, "output": output, "formats": ["poster", "square", "banner"]},
            )
            return job.id
        finally:
            app.config["UPLOAD_MAX_BYTES"] = 10 * 1024 * 1024


def test_real_worker_process_runs_a_job(app, make_user, pg_url, media_root, queue_prefix, photo_jpeg):
    uid, _ = make_user()
    job_id = _start_job(app, uid, photo_jpeg, output="jpeg")
    proc = subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=_worker_env(pg_url, media_root, queue_prefix),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _status(app, job_id).status != "succeeded":
            time.sleep(0.1)
        assert _status(app, job_id).status == "succeeded"
    finally:
        proc.send_signal(signal.SIGTERM)  # warm shutdown
        assert proc.wait(timeout=30) == 0


def test_worker_killed_mid_job_is_detected_and_retry_succeeds(
    app, client, login, pg_url, media_root, queue_prefix, run_jobs
):
    from webapp.extensions import db
    from webapp.models import Asset, User

    uid, _ = login()
    job_id = _start_job(app, uid, _big_png())
    proc = subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=_worker_env(pg_url, media_root, queue_prefix),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _status(app, job_id).status == "queued":
            time.sleep(0.01)
        assert _status(app, job_id).status == "running", "the worker never picked the job up"
    finally:
        _kill_tree(proc.pid)  # the worker and its work horse (own process group) die mid-job
        proc.wait(timeout=10)

    # The page itself notices a job whose heartbeat is older than JOB_STALE_SECONDS (3 s here).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
        if "stopped unexpectedly" in page:
            break
        time.sleep(0.2)
    assert "stopped unexpectedly" in page and "Retry" in page
    assert _status(app, job_id).status == "failed"

    assert client.post(f"/jobs/{job_id}/retry").status_code == 302
    run_jobs()
    job = _status(app, job_id)
    assert job.status == "succeeded" and job.attempts == 2
    with app.app_context():
        assets = db.session.scalars(select(Asset)).all()
        assert sorted(a.kind for a in assets) == ["banner", "original", "poster", "square"]
        keys = {k for a in assets for k in (a.storage_key, a.thumb_key)}
        assert db.session.get(User, uid) is not None
    on_disk = {p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file()}
    assert on_disk == keys  # no orphans, no duplicates


def test_sweeper_marks_silent_running_jobs_failed_but_leaves_live_ones(app, make_user, photo_jpeg):
    from webapp.extensions import db
    from webapp.models import Job, utcnow
    from webapp.services.jobs import sweep

    uid, _ = make_user()
    old = _start_job(app, uid, photo_jpeg, output="jpeg")
    live = _start_job(app, uid, encode_image(Image.new("RGB", (300, 200), "navy"), "PNG"), output="jpeg")
    with app.app_context():
        now = utcnow()
        db.session.execute(
            update(Job)
            .where(Job.id == old)
            .values(
                status="running",
                started_at=now - timedelta(minutes=5),
                heartbeat_at=now - timedelta(minutes=4),
            )
        )
        db.session.execute(
            update(Job).where(Job.id == live).values(status="running", started_at=now, heartbeat_at=now)
        )
        db.session.commit()
        result = sweep()
    assert result["failed_stale"] == [old]
    assert _status(app, old).status == "failed"
    assert _status(app, live).status == "running"


def test_jobs_lost_from_redis_are_requeued_by_the_sweeper(app, make_user, photo_jpeg, run_jobs):
    import redis

    from webapp.extensions import db
    from webapp.models import Job, utcnow
    from webapp.services.jobs import sweep

    uid, _ = make_user()
    job_id = _start_job(app, uid, photo_jpeg, output="jpeg")
    job = _status(app, job_id)
    conn = redis.Redis.from_url(REDIS_URL)
    conn.delete(f"rq:job:{job.rq_id}")  # as if Redis restarted without persistence
    for key in conn.scan_iter("rq:queue:*"):
        conn.lrem(key, 0, job.rq_id)
    with app.app_context():
        db.session.execute(
            update(Job).where(Job.id == job_id).values(created_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        assert sweep()["requeued"] == [job_id]
    run_jobs()
    assert _status(app, job_id).status == "succeeded"
