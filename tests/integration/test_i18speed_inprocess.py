"""Jobs without a job queue (issue 18): they run on the web process's background pool, never inside
the request, and a restarted process resumes what never started and fails what was cut off."""

from __future__ import annotations

import io
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from tests.conftest import PASSWORD, make_config
from tests.jobwait import wait_for_job

pytestmark = pytest.mark.usefixtures("app")


def _form(data: bytes, name: str = "show.jpg") -> dict:
    return {
        "image": (io.BytesIO(data), name),
        "output": "jpeg",
        "darken": "15",
        "shadow": "y",
        "fill_poster": "blur",
        "fill_square": "blur",
        "fill_banner": "blur",
    }


def _latest_job(app):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job = db.session.scalar(select(Job).order_by(Job.id.desc()))
        db.session.expunge_all()
        return job


def _dead_pid() -> int:
    """The pid of a process that has exited (the owner of rows left by a stopped web process)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_upload_without_redis_returns_the_polling_partial_and_the_pool_runs_the_job(
    pg_url, media_root, queue_prefix, make_user, photo_jpeg
):
    from webapp import create_app

    local = create_app(make_config(pg_url, media_root, queue_prefix, REDIS_URL=None))
    c = local.test_client()
    _, email = make_user()
    c.post("/login", data={"email": email, "password": PASSWORD})
    resp = c.post(
        "/autoformat",
        data=_form(photo_jpeg),
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200
    job = _latest_job(local)
    assert job.mode == "sync"
    assert f'id="job-{job.id}"' in resp.get_data(as_text=True)
    done = wait_for_job(local, job.id)
    assert done.status == "succeeded", done.error
    # It ran on the pool (the runner records the owning web process), not in the request.
    assert done.worker.startswith("web:")
    partial = c.get(f"/jobs/{job.id}/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Download all three" in partial and "runs in the web app itself" in partial


def test_a_restarted_process_resumes_queued_jobs_and_fails_interrupted_ones_with_retry(
    pg_url, media_root, queue_prefix, app, client, login, photo_jpeg, photo_png
):
    """Rows left by a web process that stopped: the next process's first request resumes the one
    that never started, marks the one that was running failed (Retry offered), and leaves a live
    process's rows alone."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Job
    from webapp.services.jobs import INTERRUPTED_MESSAGE

    _, email = login()
    ids = []
    for data, name in ((photo_jpeg, "a.jpg"), (photo_png, "b.png"), (photo_jpeg, "c.jpg")):
        resp = client.post("/autoformat", data=_form(data, name), content_type="multipart/form-data")
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        ids.append(int(resp.headers["Location"].rsplit("/", 1)[1]))
    host = socket.gethostname()
    gone = f"web:{host}:{_dead_pid()}:deadbeef"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = f"web:{host}:{sleeper.pid}:cafef00d"
        queued_id, running_id, other_id = ids
        with app.app_context():  # what the stopped process left behind (the RQ entries are ignored)
            db.session.execute(update(Job).where(Job.id == queued_id).values(mode="sync", worker=gone))
            db.session.execute(
                update(Job)
                .where(Job.id == running_id)
                .values(mode="sync", worker=gone, status="running", attempts=1, progress=40)
            )
            db.session.execute(update(Job).where(Job.id.in_([other_id])).values(mode="sync", worker=alive))
            db.session.commit()

        restarted = create_app(make_config(pg_url, media_root, queue_prefix, REDIS_URL=None))
        assert restarted.test_client().get("/healthz").status_code == 200  # first request

        resumed = wait_for_job(restarted, queued_id)
        assert resumed.status == "succeeded" and resumed.attempts == 1
        failed = wait_for_job(restarted, running_id)
        assert failed.status == "failed" and failed.error == INTERRUPTED_MESSAGE and failed.can_retry
        with restarted.app_context():
            untouched = db.session.get(Job, other_id)
            assert untouched.status == "queued" and untouched.worker == alive
    finally:
        sleeper.kill()
        sleeper.wait()

    # Retry runs the interrupted job again, on the restarted process's pool.
    c = restarted.test_client()
    c.post("/login", data={"email": email, "password": PASSWORD})
    assert c.post(f"/jobs/{running_id}/retry").status_code == 302
    again = wait_for_job(restarted, running_id)
    assert again.status == "succeeded" and again.attempts == 2
