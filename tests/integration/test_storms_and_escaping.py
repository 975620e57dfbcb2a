"""Provider storms from the fake servers, a worker killed in the middle of a paid generation, and
`<script>` in every field that pages show back."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import worker_env
from tests.fakes import FakeOpenAI
from tests.integration.test_budget_and_ledger import (
    OPENAI_KEY,
    configure,
    job_state,
    ledger_rows,
    spend,
    start,
)
from tests.integration.test_worker_faults import _kill_tree

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def openai_fake():
    with FakeOpenAI(valid_key=None) as fake:
        yield fake


def test_429_burst_backs_off_by_retry_after_and_succeeds(app, make_user, run_jobs, openai_fake):
    pid = configure(
        app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, default=True, monthly_budget=Decimal("5")
    )
    openai_fake.enqueue("rate_limited", retry_after=1)
    uid, _ = make_user()
    job_id = start(app, uid, image_type="square", quality="low")
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "succeeded", error
    calls = openai_fake.requests_to("/v1/images/generations")
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 0.9  # honoured Retry-After
    assert spend(app, pid) == (Decimal("0.009"), Decimal(0))  # paid once, reservation settled


def test_500_storm_fails_with_a_message_and_releases_every_reservation(app, make_user, run_jobs, openai_fake):
    pid = configure(
        app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, default=True, monthly_budget=Decimal("5")
    )
    for _ in range(6):
        openai_fake.enqueue("server_error")
    uid, _ = make_user()
    job_id = start(app, uid, image_type="poster", quality="high", variations=3)
    run_jobs()
    status, error, result = job_state(app, job_id)
    assert status == "failed"
    assert error and "OpenAI" in error  # a message a producer can act on, naming the provider
    # Every one of the three variations is reported failed, each with the provider's message.
    variations = result.get("variations", [])
    assert [v["index"] for v in variations] == [0, 1, 2], result
    assert all(v["status"] == "failed" and "OpenAI" in (v.get("error") or "") for v in variations), result
    assert not any(v.get("asset_id") for v in variations) and not result.get("asset_ids"), result
    assert spend(app, pid) == (Decimal(0), Decimal(0))  # nothing billed, nothing left reserved
    assert {r.outcome for r in ledger_rows(app)} == {"unavailable"}


def test_worker_killed_mid_generation_is_detected_and_reservations_reconciled(
    app, make_user, pg_url, media_root, queue_prefix, openai_fake, run_jobs
):
    from webapp.extensions import db
    from webapp.models import Job
    from webapp.services.maintenance import reconcile_reservations

    pid = configure(
        app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, default=True, monthly_budget=Decimal("5")
    )
    openai_fake.set_mode("slow", delay=30)
    uid, _ = make_user()
    job_id = start(app, uid, image_type="poster", quality="medium")
    env = worker_env(pg_url, media_root, queue_prefix, JOB_HEARTBEAT_SECONDS="1", JOB_STALE_SECONDS="3")
    proc = subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not openai_fake.requests_to("/v1/images/generations"):
            time.sleep(0.05)
        assert openai_fake.requests_to("/v1/images/generations"), "the worker never called the provider"
        assert spend(app, pid)[1] == Decimal("0.05")  # reserved while the call is in flight
    finally:
        _kill_tree(proc.pid)
        proc.wait(timeout=10)
    with app.app_context():
        from webapp.services.jobs import sweep

        # The sweeper marks the job failed once its heartbeat is older than JOB_STALE_SECONDS (3 s).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sweep()
            job = db.session.get(Job, job_id)
            db.session.commit()
            if job.status == "failed":
                break
            time.sleep(0.2)
        assert job.status == "failed" and "stopped unexpectedly" in job.error
        assert reconcile_reservations() >= 1
    assert spend(app, pid) == (Decimal(0), Decimal(0))
    openai_fake.set_mode("success")
    with app.app_context():
        from webapp.services import jobs as job_service

        job_service.retry(db.session.get(Job, job_id))
    run_jobs()
    assert job_state(app, job_id)[0] == "succeeded"


SCRIPT = "<script>alert('xss')</script>"
ESCAPED = "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;"  # as Jinja's autoescape writes it


def test_script_in_every_shown_field_is_escaped_everywhere(app, client, login, run_jobs, photo_jpeg):
    import io

    from webapp.extensions import db
    from webapp.models import Asset, BulkBatch, BulkImage, BulkItem, Job, User
    from webapp.services import actions, generation, shows

    uid, _ = login()
    client.post(
        "/autoformat",
        data={
            "image": (io.BytesIO(photo_jpeg), f"{SCRIPT}.jpg"),
            "output": "jpeg",
            "darken": "15",
            "fill_poster": "blur",
            "fill_square": "blur",
            "fill_banner": "blur",
        },
        content_type="multipart/form-data",
    )
    with app.app_context():
        user = db.session.get(User, uid)
        show = shows.create_show(
            user, {"title": SCRIPT, "venue_name": SCRIPT, "performers": [SCRIPT], "cta_text": SCRIPT}
        )
        gen = actions.generate(
            user,
            generation.GenerationRequest(
                prompt=f"poster {SCRIPT}", provider="local", negative=SCRIPT, show_id=show.id
            ),
        )
        show_id, gen_id = show.id, gen.id
    run_jobs()
    with app.app_context():
        generated = db.session.scalar(select(Asset).where(Asset.owner_id == uid, Asset.kind == "generated"))
        batch = BulkBatch(
            owner_id=uid,
            name=SCRIPT,
            status="finished",
            provider="local",
            model="procedural-v1",
            estimate=Decimal(0),
        )
        db.session.add(batch)
        db.session.flush()
        item = BulkItem(batch_id=batch.id, position=0, prompt=SCRIPT, status="failed", error=SCRIPT)
        db.session.add(item)
        db.session.flush()
        db.session.add(
            BulkImage(item_id=item.id, batch_id=batch.id, asset_id=generated.id, revised_prompt=SCRIPT)
        )
        # A provider's error message can quote the prompt back: the jobs pages show it.
        failed = Job(
            owner_id=uid,
            kind="autoformat",
            status="failed",
            error=f"The provider said: {SCRIPT}",
            stage="Failed",
            input={},
        )
        db.session.add(failed)
        db.session.commit()
        asset_id, batch_id, image_id, failed_id = generated.id, batch.id, None, failed.id
        image_id = db.session.scalar(select(BulkImage.id).where(BulkImage.batch_id == batch_id))
    pages = [
        "/library",
        f"/library?q={SCRIPT}",
        f"/assets/{asset_id}",
        f"/studio/assets/{asset_id}",
        f"/studio?job={gen_id}",
        f"/studio/jobs/{gen_id}",
        f"/shows/{show_id}",
        "/shows",
        "/jobs",
        f"/jobs/{failed_id}",
        "/bulk",
        f"/bulk/{batch_id}",
        f"/bulk/{batch_id}/images/{image_id}",
        f"/studio/assets/{asset_id}/overlay?show={show_id}",
    ]
    for url in pages:
        partial = url.startswith("/studio/jobs/")
        resp = client.get(url, headers={"HX-Request": "true"} if partial else {})
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200, url
        assert SCRIPT not in body, url
        assert ESCAPED in body, url  # the payload is shown, as text


def test_palette_job_of_a_dead_worker_is_failed_by_the_sweeper_and_retry_works(
    app, make_user, run_jobs, photo_jpeg
):
    """The same runner guarantees hold for palette jobs: a running row whose heartbeat stopped (its
    worker was killed) is marked failed with Retry, and the retry produces exactly one palette."""
    from datetime import timedelta

    from sqlalchemy import func, update

    from webapp.extensions import db
    from webapp.models import Job, Palette, User, utcnow
    from webapp.services import actions
    from webapp.services import jobs as job_service
    from webapp.services.assets import ingest_upload

    uid, _ = make_user()
    with app.app_context():
        user = db.session.get(User, uid)
        asset = ingest_upload(user, photo_jpeg, "art.jpg").asset
        job = actions.extract_palette(user, asset.id, n_colors=6)
        job_id = job.id
        past = utcnow() - timedelta(minutes=5)
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", started_at=past, heartbeat_at=past, worker="dead-worker:1", attempts=1)
        )
        db.session.commit()
        assert job_service.sweep()["failed_stale"] == [job_id]
        job = db.session.get(Job, job_id)
        assert job.status == "failed" and job.can_retry
        assert job_service.retry(job)
    run_jobs()
    with app.app_context():
        assert db.session.get(Job, job_id).status == "succeeded"
        assert db.session.scalar(select(func.count()).select_from(Palette)) == 1
