"""Fixtures that reach the real parts: Postgres, Redis + RQ, moto's S3 server, the app.

Unit tests (tests/unit) request none of these and need no services. Integration and browser
tests get a Postgres database created for this test session (schema built by the migrations,
as in production), Redis queues under a prefix unique to the session, and a temporary folder
for local storage.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import threading
import traceback
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib
from psycopg import sql

ADMIN_DB_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery staple"


BACKSTOP_GRACE = 120  # seconds past a test's pytest-timeout before the backstop ends the session


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Backstop for pytest-timeout, so CI never hangs.

    pytest-timeout's "signal" method fails the test gracefully (its finally blocks and teardowns run),
    but it fires once per test: a teardown that then blocks (a TRUNCATE behind a stuck transaction,
    a worker that ignores SIGTERM) would hang the session forever. If the test, its setup and its
    teardown together still run BACKSTOP_GRACE seconds after the timeout, print every thread's stack
    and end the session with exit status 1 — what pytest-timeout's "thread" method does.
    """
    marker = item.get_closest_marker("timeout")
    try:
        limit = float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout") or 0)
    except ValueError:  # pytest-timeout is not installed: nothing to back up
        limit = 0.0
    timer = None
    if limit > 0:
        timer = threading.Timer(limit + BACKSTOP_GRACE, _backstop, (item, limit + BACKSTOP_GRACE))
        timer.daemon = True
        timer.start()
    try:
        return (yield)
    finally:
        if timer is not None:
            timer.cancel()


def _backstop(item, seconds: float) -> None:
    try:
        capman = item.config.pluginmanager.getplugin("capturemanager")
        if capman:
            capman.suspend_global_capture(in_=True)
        out = item.config.get_terminal_writer()
        out.sep("+", f"{item.nodeid} still running after {seconds:.0f} s: ending the session")
        for thread_id, frame in sys._current_frames().items():
            out.write(f"\n--- thread {thread_id}\n" + "".join(traceback.format_stack(frame)))
        out.sep("+", "backstop timeout")
        out.flush()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh Postgres database for the whole session, dropped at the end."""
    name = f"marquee_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DB_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = ADMIN_DB_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(ADMIN_DB_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def queue_prefix() -> Iterator[str]:
    prefix = f"test-{uuid.uuid4().hex[:8]}-"
    yield prefix
    client = redis_lib.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"rq:*{prefix}*"):
        client.delete(key)


@pytest.fixture(scope="session")
def media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


def make_config(pg_url: str, media_root: Path, queue_prefix: str, **extra) -> dict:
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": pg_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": REDIS_URL,
        "QUEUE_PREFIX": queue_prefix,
        "STORAGE_URL": f"file://{media_root}",
        "WTF_CSRF_ENABLED": False,
        "JOB_RETRY_INTERVALS": (),
        "JOB_HEARTBEAT_SECONDS": 1,
        "JOB_STALE_SECONDS": 3,
        # Registration and reset requests all come from 127.0.0.1 here: per-client throttles are
        # off by default and switched on by the tests about them (test_sec_throttle).
        "THROTTLE_REGISTER_PER_HOUR": 0,
        "THROTTLE_RESET_PER_HOUR": 0,
        # The fake provider servers listen on 127.0.0.1 (any port); keys may go nowhere else.
        "PROVIDER_BASE_URL_ALLOWLIST": "http://127.0.0.1",
    }
    cfg.update(extra)
    return cfg


def worker_env(pg_url: str, media_root: Path, queue_prefix: str, **extra: str) -> dict:
    """Environment for a real `python worker.py` process sharing this session's services."""
    env = dict(os.environ)
    env.update(
        SECRET_KEY="test-secret-key",
        DATABASE_URL=pg_url,
        REDIS_URL=REDIS_URL,
        QUEUE_PREFIX=queue_prefix,
        STORAGE_URL=f"file://{media_root}",
        JOB_RETRY_INTERVALS="",
        PROVIDER_BASE_URL_ALLOWLIST="http://127.0.0.1",
        # Workers run at the test runner's priority. Production's default (15) lets pages win the
        # CPU; on a CI machine busy with other nice-0 work it would leave a test's worker under 3%
        # of a core, and the tests' deadlines would measure the scheduler, not the code. The
        # setting itself is tested in test_i18pages_worker_nice.py (which passes its own value).
        WORKER_NICE="0",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def app(pg_url, media_root, queue_prefix):
    """The app against real Postgres (schema from the migrations) and real Redis."""
    from flask_migrate import upgrade

    from webapp import create_app

    application = create_app(make_config(pg_url, media_root, queue_prefix))
    with application.app_context():
        upgrade()
    return application


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Empty every table and the media folder after each test that used the app.

    Runs after every other fixture of the test is torn down (it is set up first), so the workers a
    test started are stopped by then: the browser tests' `live_server` stops its worker in its own
    teardown, integration tests kill theirs in `finally`. Should anything still hold a lock, the
    TRUNCATE gives up after LOCK_TIMEOUT instead of hanging, the other connections to the test
    database are terminated, and it tries again (see _truncate_all).
    """
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    from webapp.extensions import db

    _empty_queues(request.getfixturevalue("queue_prefix"))
    with application.app_context():
        db.session.remove()
        _truncate_all(db.engine, [t.name for t in reversed(db.metadata.sorted_tables)])
        application.extensions.pop("marquee_storage", None)
    root = request.getfixturevalue("media_root")
    for child in root.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


LOCK_TIMEOUT = "10s"


def _truncate_all(engine, tables: list[str], attempts: int = 3) -> None:
    """TRUNCATE every table, never waiting on a lock for more than LOCK_TIMEOUT.

    TRUNCATE needs an exclusive lock on every table, so one forgotten transaction (a worker still
    mid-job after a failed test, a request still running in the live server) would make it wait
    forever and hang the session. On a lock timeout we name the connections that were in the way,
    terminate every other connection to this test database (only the test's own database, never
    another), and try again; the app's pools reconnect (pool_pre_ping).
    """
    from sqlalchemy.exc import OperationalError

    statement = "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
    blockers: list[tuple] = []
    for _ in range(attempts):
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                conn.exec_driver_sql(statement)
            return
        except OperationalError as exc:
            if not isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                raise
        with engine.begin() as conn:
            blockers = conn.exec_driver_sql(
                "SELECT pid, application_name, state, left(query, 200) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).all()
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        warnings.warn(
            f"cleanup: TRUNCATE waited {LOCK_TIMEOUT} for a lock; terminated {len(blockers)} other "
            f"connection(s) to the test database: {blockers}",
            stacklevel=1,
        )
    raise RuntimeError(
        f"cleanup could not empty the test database: TRUNCATE still waited more than {LOCK_TIMEOUT} for "
        f"a lock after terminating the other connections {attempts} times (last seen: {blockers}). "
        "Something keeps reconnecting and holding a transaction: a worker process the test did not stop?"
    )


def _empty_queues(prefix: str) -> None:
    """Jobs a test enqueued but never ran must not run in the next test (whose rows reuse ids)."""
    from rq import Queue
    from rq.job import Job as RQJob

    from webapp.services.queue import QUEUE_NAMES

    conn = redis_lib.Redis.from_url(REDIS_URL)
    for name in QUEUE_NAMES:
        queue = Queue(f"{prefix}{name}", connection=conn)
        queue.empty()
        # A worker SIGKILLed by an earlier test keeps RQ's scheduler lock on these queues until it
        # expires, and the next test's worker then waits up to two minutes to move a retry back.
        conn.delete(f"rq:scheduler-lock:{prefix}{name}")
        registries = (
            queue.scheduled_job_registry,
            queue.started_job_registry,
            queue.deferred_job_registry,
            queue.failed_job_registry,
            queue.finished_job_registry,
        )
        for registry in registries:
            for job_id in registry.get_job_ids():
                with contextlib.suppress(Exception):
                    RQJob.fetch(job_id, connection=conn).delete(remove_from_queue=False)
            conn.delete(registry.key)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create an account (committed) and return its id and e-mail."""

    def _make(email: str | None = None, role: str = "producer", password: str = PASSWORD):
        from webapp.models import Role
        from webapp.services.accounts import create_user

        with app.app_context():
            user = create_user(email or f"{uuid.uuid4().hex[:8]}@example.com", password, "Test", Role(role))
            return user.id, user.email

    return _make


@pytest.fixture
def login(client, make_user):
    """Log a fresh producer in through the real login form; returns (user id, email)."""

    def _login(role: str = "producer", the_client=None):
        uid, email = make_user(role=role)
        c = the_client or client
        resp = c.post("/login", data={"email": email, "password": PASSWORD})
        assert resp.status_code == 302, resp.data[:500]
        return uid, email

    return _login


@pytest.fixture
def run_jobs(app, queue_prefix):
    """Run every queued job with an RQ SimpleWorker in burst mode, in this process."""

    def _run() -> None:
        from rq import Queue, SimpleWorker

        from webapp.services.queue import QUEUE_NAMES

        conn = redis_lib.Redis.from_url(REDIS_URL)
        queues = [Queue(f"{queue_prefix}{n}", connection=conn) for n in QUEUE_NAMES]
        with app.app_context():
            SimpleWorker(queues, connection=conn).work(burst=True, with_scheduler=False)

    return _run


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a real HTTP server speaking the S3 API)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _photo(size: tuple[int, int] = (1600, 1067)):
    """A real photograph (scikit-image sample data), resized: content with texture and edges."""
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC)


def encode_image(img, fmt: str = "JPEG", **params) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


@pytest.fixture(scope="session")
def photo_jpeg() -> bytes:
    return encode_image(_photo(), "JPEG", quality=90)


@pytest.fixture(scope="session")
def photo_png() -> bytes:
    from PIL import Image
    from skimage import data

    return encode_image(Image.fromarray(data.coffee()), "PNG")


class _Inbox:
    """Collects what the real SMTP server receives."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server (aiosmtpd) on loopback; the app sends through it."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
    yield inbox
    controller.stop()


def provider_row(app, name: str):
    """The platform Provider row (created if needed), detached from the session."""
    from webapp.extensions import db
    from webapp.services.providers import ensure_providers, get_provider

    with app.app_context():
        ensure_providers()
        row = get_provider(name)
        db.session.expunge(row)
        return row
