"""A live server (real Postgres, Redis and a `python worker.py` process) and headless Chromium.

Waits: every Playwright action, navigation and `expect` waits up to UI_TIMEOUT_MS for its condition
(not Playwright's default 5 s, which a busy CI machine overruns), and waits for a worker's job use
JOB_TIMEOUT_MS. A passing run never waits that long: these are deadlines, not sleeps.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import free_port, make_config, worker_env

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
UI_TIMEOUT_MS = 45_000  # clicks, fills, expect(...), downloads, responses
NAV_TIMEOUT_MS = 60_000  # page.goto / reload and the page loads a click starts
JOB_TIMEOUT_MS = 60_000  # a job run by the live worker reaching its final state
# The live server and its worker agree on the heartbeat (the worker writes it) and on when a job
# without one counts as dead (the served pages check it while they poll). The session's integration
# settings (stale after 3 s) are for tests that kill workers; with them here, any job that ran
# longer than 3 s on a busy machine was marked "stopped unexpectedly" by the page polling it.
LIVE_JOB_SETTINGS = {"JOB_HEARTBEAT_SECONDS": 5, "JOB_STALE_SECONDS": 90}


class LiveWorker:
    """The live server's `python worker.py`: started for each test, stopped in the test's teardown.

    Stopping it before the per-test cleanup (tests/conftest.py `_clean_state`) means no job of a
    failed test is still running, holding row locks, while the tables are truncated, and none of
    its jobs runs on into the next test (whose rows reuse the same ids).
    """

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "worker.py"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() can reach the scheduler
            )

    def stop(self, grace: float = 30) -> None:
        """SIGTERM (RQ's warm shutdown: an idle worker exits at once, a busy one finishes its job);
        after `grace` seconds, SIGKILL the worker, its work horse and its scheduler."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            proc.wait(timeout=30)


def _kill_tree(pid: int) -> None:
    """SIGKILL a worker, its children (RQ puts each work horse in its own process group) and its group."""
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    for child in children.split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(child), signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def live_http(pg_url, media_root, queue_prefix, app) -> Iterator[str]:
    """The app served over HTTP on loopback, with CSRF on."""
    from webapp import create_app

    served = create_app(
        make_config(
            pg_url, media_root, queue_prefix, WTF_CSRF_ENABLED=True, TESTING=False, **LIVE_JOB_SETTINGS
        )
    )
    port = free_port()
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="module")
def live_worker(pg_url, media_root, queue_prefix, tmp_path_factory) -> Iterator[LiveWorker]:
    worker = LiveWorker(
        worker_env(pg_url, media_root, queue_prefix, **{k: str(v) for k, v in LIVE_JOB_SETTINGS.items()}),
        tmp_path_factory.mktemp("worker") / "worker.log",
    )
    yield worker
    worker.stop()


@pytest.fixture
def live_server(live_http, live_worker) -> Iterator[str]:
    """The live server's URL, with a real RQ worker process running for this test only."""
    live_worker.start()
    yield live_http
    live_worker.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/test, which installs it")
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def new_context(browser, **options):
    """A browser context whose actions and navigations wait with the generous deadlines above."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAV_TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser):
    context = new_context(browser, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.js_errors = errors
    yield pg
    context.close()


def register(page, base: str, email: str) -> None:
    """Creates an account through the real form and logs in (registration itself never logs in: it
    answers alike whether or not the e-mail had an account)."""
    from tests.conftest import PASSWORD

    page.goto(base + "/register")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
