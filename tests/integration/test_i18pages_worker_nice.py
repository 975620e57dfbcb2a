"""Issue 18: a real `python worker.py` lowers its own CPU priority (read from /proc/<pid>/stat),
and still runs jobs — including the analysis an upload left to its job."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import worker_env
from tests.jobwait import wait_for_job

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("app")


def _nice_of(pid: int) -> int:
    """Field 19 of /proc/<pid>/stat (after the parenthesised command name) is the nice value."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def test_real_worker_runs_at_worker_nice_and_runs_the_upload_job(
    app, client, login, pg_url, media_root, queue_prefix, photo_jpeg
):
    from webapp.extensions import db
    from webapp.models import Asset, Job

    uid, _ = login()
    proc = subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=worker_env(pg_url, media_root, queue_prefix, WORKER_NICE="13"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while _nice_of(proc.pid) != 13 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert _nice_of(proc.pid) == 13
        form = {
            "image": (io.BytesIO(photo_jpeg), "nice.jpg"),
            "output": "jpeg",
            "darken": "15",
            "shadow": "y",
        }
        form.update({"fill_poster": "blur", "fill_square": "blur", "fill_banner": "blur"})
        assert client.post("/autoformat", data=form, content_type="multipart/form-data").status_code == 302
        with app.app_context():
            job_id = db.session.scalar(select(Job.id).where(Job.owner_id == uid).order_by(Job.id.desc()))
        job = wait_for_job(app, job_id, timeout=180)
        assert job.status == "succeeded", job.error
        with app.app_context():
            original = db.session.scalar(select(Asset).where(Asset.owner_id == uid, Asset.kind == "original"))
            assert original.thumb_key and (media_root / original.thumb_key).is_file()
            assert original.dominant_colors
        assert _nice_of(proc.pid) == 13
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
