"""Two at once: allowances, budgets, files and cancels raced through real doors and real workers.

Every figure is measured where it matters: images drawn are counted at the fake provider (the
official SDK talks to it over HTTP), files are fetched back through the download route.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, worker_env
from tests.fakes.openai_server import FakeOpenAI
from tests.integration.test_budget_and_ledger import OPENAI_KEY, configure

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 90.0


@pytest.fixture
def openai_fake():
    with FakeOpenAI(valid_key=None) as fake:
        yield fake


def _wait(condition, what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {deadline:.0f} s waiting for {what}")


def _children(pid: int) -> list[int]:
    """Child pids from /proc (no `ps` needed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


class Workers:
    """Real `python worker.py` processes on this test's database, queues and storage."""

    def __init__(self, pg_url, media_root, queue_prefix, count: int = 2) -> None:
        env = worker_env(pg_url, media_root, queue_prefix, JOB_HEARTBEAT_SECONDS="1", JOB_STALE_SECONDS="3")
        self.procs = [
            subprocess.Popen(
                [sys.executable, "worker.py"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for _ in range(count)
        ]

    def kill(self) -> None:
        for proc in self.procs:
            for child in _children(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(pg_url, media_root, queue_prefix):
    started: list[Workers] = []

    def _start(count: int = 2) -> Workers:
        w = Workers(pg_url, media_root, queue_prefix, count)
        started.append(w)
        return w

    yield _start
    for w in started:
        w.stop()


def _jobs(app, **where):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        rows = db.session.scalars(select(Job).filter_by(**where).order_by(Job.id)).all()
        db.session.expunge_all()
        return rows


def _all_final(app) -> bool:
    return all(j.status in ("succeeded", "failed", "cancelled") for j in _jobs(app))


def _login(app, email: str):
    c = app.test_client()
    assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return c


def _fire(calls) -> list:
    """Run the calls at the same moment from separate threads; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_last_allowance_slots_web_and_api_at_once(app, make_user, openai_fake, workers):
    """12 generations (6 from the studio page, 6 from the API) race for an allowance of 3 platform
    images: exactly 3 are accepted, and the provider draws exactly 3."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    configure(app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, user_images_per_hour=3, default=True)
    uid, email = make_user()
    with app.app_context():
        _, token = tokens.create(db.session.get(User, uid), "race", "write")
    bearer = {"Authorization": f"Bearer {token}"}
    web_clients = [_login(app, email) for _ in range(6)]
    api_client = [app.test_client() for _ in range(6)]
    form = {
        "mode": "create",
        "image_type": "square",
        "model": "openai:gpt-image-1.5",
        "prompt": "a brass band in the rain",
        "quality": "low",
        "variations": "1",
    }

    def web(c):
        return lambda: c.post("/studio/generate", data=form, content_type="multipart/form-data").status_code

    def api(c):
        body = {
            "prompt": "a brass band in the rain",
            "image_type": "square",
            "quality": "low",
            "provider": "openai",
        }
        return lambda: c.post("/api/v1/ai-generate", json=body, headers=bearer).status_code

    calls = [web(c) for c in web_clients] + [api(c) for c in api_client]
    statuses = _fire(calls)
    accepted = [s for s in statuses if s in (202, 302)]
    refused = [s for s in statuses if s in (422, 429)]
    assert len(accepted) == 3, statuses
    assert len(refused) == 9, statuses
    w = workers(2)
    _wait(lambda: len(_jobs(app)) == 3 and _all_final(app), "the 3 accepted jobs to finish")
    w.stop()
    drawn = len(openai_fake.requests_to("/images/generations"))
    assert drawn == 3, f"the provider drew {drawn} images for an allowance of 3"
    assert all(j.status == "succeeded" for j in _jobs(app))
    with app.app_context():
        from webapp.services import limits

        allowance = limits.allowance("ai", db.session.get(User, uid), 3)
        assert (allowance.used, allowance.remaining) == (3, 0)
    print(f"\nrace figures: requests fired 12, accepted {len(accepted)}, images drawn {drawn}")


def test_double_submitted_autoformat_never_loses_files(app, client, login, photo_jpeg, workers):
    """The same auto-format posted twice at once, 4 rounds, two workers: every job that succeeded
    has downloadable outputs (before: the loser's cleanup deleted the winner's files)."""
    from webapp.extensions import db
    from webapp.models import Asset

    uid, email = login()
    resp = client.post(
        "/autoformat",
        data={"image": (io.BytesIO(photo_jpeg), "gala.jpg"), "output": "jpeg", "darken": "15", "shadow": "y"},
        content_type="multipart/form-data",
    )
    assert resp.status_code in (200, 302)
    with app.app_context():
        original = db.session.scalar(select(Asset).where(Asset.owner_id == uid, Asset.kind == "original"))
        original_id = original.id
    clients = [_login(app, email) for _ in range(2)]
    w = workers(2)
    for _ in range(4):  # 1 + 8 jobs: inside the 10-an-hour auto-format allowance
        _fire([lambda c=c: c.post(f"/assets/{original_id}/autoformat").status_code for c in clients])
    _wait(lambda: _all_final(app), "every job to finish")
    w.stop()
    jobs = _jobs(app, kind="autoformat")
    assert len(jobs) == 9
    lost = 0
    for job in jobs:
        assert job.status == "succeeded", (job.id, job.status, job.error)
        for asset_id in job.result["asset_ids"]:
            got = client.get(f"/assets/{asset_id}/download")
            if got.status_code != 200 or not got.data.startswith(b"\xff\xd8"):
                lost += 1
    assert lost == 0, f"{lost} output files of succeeded jobs could not be downloaded"


def test_idempotency_key_makes_one_job_from_a_double_submit(app, client, login, photo_jpeg, make_user):
    from webapp.services import tokens

    uid, _ = login()
    from webapp.extensions import db
    from webapp.models import User

    with app.app_context():
        _, token = tokens.create(db.session.get(User, uid), "idem", "write")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "order-42"}
    clients = [app.test_client() for _ in range(4)]

    def post(c):
        return lambda: c.post(
            "/api/v1/auto-format",
            data={"file": (io.BytesIO(photo_jpeg), "gala.jpg")},
            headers=headers,
            content_type="multipart/form-data",
        )

    answers = _fire([post(c) for c in clients])
    assert {a.status_code for a in answers} == {202}
    assert len({a.json["id"] for a in answers}) == 1
    assert len(_jobs(app, kind="autoformat")) == 1
    # The form door: the same rendered form posted twice is one job.
    form = {
        "image": (io.BytesIO(photo_jpeg), "gala.jpg"),
        "output": "jpeg",
        "darken": "15",
        "fill_poster": "blur",
        "fill_square": "blur",
        "fill_banner": "blur",
        "idempotency_key": "form-1",
    }
    first = client.post("/autoformat", data=dict(form), content_type="multipart/form-data")
    form["image"] = (io.BytesIO(photo_jpeg), "gala.jpg")
    second = client.post("/autoformat", data=form, content_type="multipart/form-data")
    assert first.status_code == 302, first.get_data(as_text=True)[:3000]
    assert first.headers.get("Location") == second.headers.get("Location")
    assert len(_jobs(app, kind="autoformat")) == 2


def test_cancel_while_the_provider_draws_keeps_the_paid_image(app, client, login, openai_fake, workers):
    """Cancel lands while the provider call is in flight: the image it drew (and we paid for) is
    kept, billed and counted, and the job page shows it as finished before the cancel."""
    from webapp.extensions import db
    from webapp.models import AllowanceReservation, Asset, UsageEvent

    configure(app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, default=True)
    openai_fake.enqueue("slow", delay=6)
    login()
    resp = _studio_generate(client, "a cello under a street lamp", 2)
    assert resp.status_code == 302
    job_id = _jobs(app)[0].id
    w = workers(1)
    _wait(lambda: openai_fake.requests_to("/images/generations"), "the provider call to start")
    assert client.post(f"/jobs/{job_id}/cancel").status_code == 302
    _wait(lambda: _jobs(app)[0].status == "cancelled" and (_jobs(app)[0].result or {}).get("kept"), "kept")
    _wait(lambda: _reservation_state(app, job_id) != "reserved", "the reservation to settle")
    w.stop()
    job = _jobs(app)[0]
    assert len(openai_fake.requests_to("/images/generations")) == 1  # the second was never drawn
    with app.app_context():
        assets = db.session.scalars(select(Asset).where(Asset.job_id == job_id)).all()
        assert len(assets) == 1 and job.result["asset_ids"] == [assets[0].id]
        ledger = db.session.scalars(select(UsageEvent).where(UsageEvent.job_id == job_id)).all()
        assert [(e.outcome, e.images) for e in ledger] == [("success", 1)]
        row = db.session.scalar(select(AllowanceReservation).where(AllowanceReservation.job_id == job_id))
        assert (row.state, row.amount) == ("used", 1)
        asset_id = assets[0].id
    assert client.get(f"/assets/{asset_id}/download").status_code == 200
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "finished before the cancel" in page and f"/assets/{asset_id}/file" in page


def _studio_generate(client, prompt: str, variations: int):
    """The studio form as a producer sends it: platform OpenAI, square, low quality."""
    return client.post(
        "/studio/generate",
        data={
            "mode": "create",
            "image_type": "square",
            "model": "openai:gpt-image-1.5",
            "prompt": prompt,
            "quality": "low",
            "variations": str(variations),
        },
        content_type="multipart/form-data",
    )


def _reservation_state(app, job_id):
    from webapp.extensions import db
    from webapp.models import AllowanceReservation

    with app.app_context():
        return db.session.scalar(
            select(AllowanceReservation.state).where(AllowanceReservation.job_id == job_id)
        )


def test_worker_killed_mid_generation_retry_does_not_pay_twice(app, client, login, openai_fake, workers):
    """Variation 1 is stored, the worker is SIGKILLed while variation 2 is drawn; the retry reuses
    variation 1 (no second charge, no duplicate asset) and draws only what is missing."""
    from webapp.extensions import db
    from webapp.models import Asset, UsageEvent
    from webapp.services import jobs as job_service

    configure(app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, default=True)
    openai_fake.enqueue("success", "slow", delay=30)
    login()
    resp = _studio_generate(client, "a harp in a greenhouse", 3)
    assert resp.status_code == 302
    job_id = _jobs(app)[0].id
    w = workers(1)
    _wait(lambda: len(openai_fake.requests_to("/images/generations")) == 2, "the second provider call")
    w.kill()
    with app.app_context():
        _wait(
            lambda: job_service.mark_stale_jobs_failed([job_id]) or _jobs(app)[0].status == "failed", "stale"
        )
    assert _jobs(app)[0].status == "failed"
    openai_fake.reset()
    assert client.post(f"/jobs/{job_id}/retry").status_code == 302
    w2 = workers(1)
    _wait(lambda: _jobs(app)[0].status in ("succeeded", "failed"), "the retry to finish")
    w2.stop()
    job = _jobs(app)[0]
    assert job.status == "succeeded", job.error
    assert [v["status"] for v in job.result["variations"]] == ["succeeded"] * 3, job.result
    assert len(openai_fake.requests_to("/images/generations")) == 2  # only variations 2 and 3
    with app.app_context():
        assets = db.session.scalars(select(Asset).where(Asset.job_id == job_id)).all()
        assert sorted(a.provenance["variation"] for a in assets) == [0, 1, 2]
        paid = db.session.scalar(
            select(func.sum(UsageEvent.images)).where(
                UsageEvent.job_id == job_id, UsageEvent.outcome == "success"
            )
        )
        assert paid == 3
    assert sorted(job.result["asset_ids"]) == sorted(a.id for a in assets)


def test_budget_hard_stop_holds_across_two_workers(app, make_user, openai_fake, workers):
    """Eight single-image jobs on two workers against a budget that covers three: the provider
    draws three, spend never passes the budget."""
    from webapp.extensions import db
    from webapp.models import ProviderSpend, User
    from webapp.services import actions, generation, pricing, providers

    with app.app_context():
        providers.ensure_providers()
        row = providers.get_provider("openai")
        unit = pricing.estimate(row, "openai", row.model, "1024x1024", "low", 1)
    pid = configure(
        app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, default=True, monthly_budget=unit * 3
    )
    admin_id, _ = make_user(role="admin")
    with app.app_context():
        admin = db.session.get(User, admin_id)
        for _ in range(8):
            actions.generate(
                admin,
                generation.GenerationRequest(
                    prompt="a choir", image_type="square", quality="low", provider="openai"
                ),
            )
    w = workers(2)
    _wait(lambda: _all_final(app), "every job to finish")
    w.stop()
    drawn = len(openai_fake.requests_to("/images/generations"))
    assert drawn == 3
    with app.app_context():
        spend = db.session.scalar(select(ProviderSpend).where(ProviderSpend.provider_id == pid))
        assert spend.spent == unit * 3 and spend.reserved == Decimal(0)
    statuses = sorted(j.status for j in _jobs(app))
    assert statuses.count("succeeded") == 3 and statuses.count("failed") == 5
