"""Faults of the real backing services: Redis stopped and restarted (with its queue lost), Postgres
connections dropped under the app, and an S3 endpoint that fails."""

from __future__ import annotations

import http.server
import io
import shutil
import socket
import subprocess
import threading
import time

import psycopg
import pytest
from sqlalchemy import func, select

from tests.conftest import ADMIN_DB_URL, PASSWORD, free_port, make_config
from tests.jobwait import wait_for_job

pytestmark = pytest.mark.usefixtures("app")


def _form(data: bytes, name: str = "a.jpg") -> dict:
    return {
        "image": (io.BytesIO(data), name),
        "output": "jpeg",
        "darken": "15",
        "fill_poster": "blur",
        "fill_square": "blur",
        "fill_banner": "blur",
    }


def _start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
def test_redis_stopped_during_use_then_back_with_its_queue_lost(
    pg_url, media_root, queue_prefix, app, make_user, photo_jpeg, photo_png
):
    from rq import Queue, SimpleWorker

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Job
    from webapp.services.jobs import sweep

    port = free_port()
    redis_proc = _start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    own = create_app(make_config(pg_url, media_root, queue_prefix, REDIS_URL=url, JOB_STALE_SECONDS=0))
    c = own.test_client()
    _, email = make_user()
    c.post("/login", data={"email": email, "password": PASSWORD})
    try:
        # 1. Redis up: the job is queued on it.
        first = c.post("/autoformat", data=_form(photo_jpeg), content_type="multipart/form-data")
        first_id = int(first.headers["Location"].rsplit("/", 1)[1])
        with own.app_context():
            assert db.session.get(Job, first_id).mode == "async"
        # 2. Redis dies (its queue with it): pages still work, new jobs run in-process and say so.
        redis_proc.kill()
        redis_proc.wait()
        assert c.get("/library").status_code == 200
        assert c.get(f"/jobs/{first_id}").status_code == 200
        second = c.post("/autoformat", data=_form(photo_png, "b.png"), content_type="multipart/form-data")
        wait_for_job(own, int(second.headers["Location"].rsplit("/", 1)[1]))  # runs on the web pool
        page = c.get(second.headers["Location"]).get_data(as_text=True)
        assert "No separate job queue is in use, so this runs in the web app itself." in page
        assert 'data-job-status="succeeded"' in page
        assert own.test_client().get("/readyz").status_code == 503
        # 3. Redis is back, empty: the sweeper re-enqueues the job that was still queued in Postgres.
        redis_proc = _start_redis(port)
        with own.app_context():
            assert sweep()["requeued"] == [first_id]
            import redis

            conn = redis.Redis.from_url(url)
            SimpleWorker([Queue(f"{queue_prefix}images", connection=conn)], connection=conn).work(burst=True)
            assert db.session.get(Job, first_id).status == "succeeded"
    finally:
        redis_proc.kill()
        redis_proc.wait()


def test_postgres_connections_dropped_under_the_app_are_replaced(app, client, login, pg_url):
    login()
    assert client.get("/library").status_code == 200
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_DB_URL, autocommit=True) as conn:  # what a Postgres restart does to us
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        )
    resp = client.get("/library")  # a hang here is caught by pytest-timeout, not timed by the test
    assert resp.status_code == 200  # pool pre-ping replaced the dead connections
    assert client.get("/readyz").status_code == 200


class _BrokenS3(http.server.BaseHTTPRequestHandler):
    """Answers every S3 call with 500 InternalError, like an overloaded or broken endpoint."""

    def _fail(self) -> None:
        body = (
            b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
        )
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(500)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _fail

    def log_message(self, *args) -> None:
        pass


def test_s3_errors_fail_uploads_cleanly_with_nothing_recorded(
    pg_url, media_root, queue_prefix, app, make_user, photo_jpeg
):
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Asset, Job

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BrokenS3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        broken = create_app(
            make_config(
                pg_url,
                media_root,
                queue_prefix,
                STORAGE_URL="s3://bucket/x",
                S3_ENDPOINT_URL=f"http://127.0.0.1:{server.server_address[1]}",
            )
        )
        c = broken.test_client()
        _, email = make_user()
        c.post("/login", data={"email": email, "password": PASSWORD})
        resp = c.post(
            "/autoformat",
            data=_form(photo_jpeg),
            content_type="multipart/form-data",
            headers={"HX-Request": "true"},
        )
        assert resp.status_code == 503
        assert "Nothing was saved" in resp.get_data(as_text=True)
        with broken.app_context():
            assert db.session.scalar(select(func.count()).select_from(Asset)) == 0
            assert db.session.scalar(select(func.count()).select_from(Job)) == 0
        assert c.get("/readyz").status_code == 503
    finally:
        server.shutdown()
