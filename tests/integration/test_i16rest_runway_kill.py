"""Clips and voice-overs on Runway survive a SIGKILLed worker: real `python worker.py` processes (RQ),
the official `runwayml` SDK against the fake, the job's task id on the row before the first poll.

The retried attempt resumes polling the SAME task (the fake sees one create per job), takes over the dead
attempt's budget reservation and writes one ledger row; a cancel during a task sends DELETE /v1/tasks/{id}
and is recorded once as possibly billed (a started Runway task is not refunded). The figures the fake drew
are printed (run with -s) for the report."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import worker_env
from tests.integration import test_i16providers_flow as flow
from tests.integration.test_budget_and_ledger import configure, ledger_rows, spend
from tests.integration.test_races import ROOT, Workers, _jobs, _wait

pytestmark = pytest.mark.usefixtures("app")
fast_polls, runway_fake = flow.fast_polls, flow.runway_fake  # fixtures: Runway fake, 10 ms polls
KEY = "key_platform_runway_kill_0005"
SCRIPT = "The Night Parade. One night only at the Blue Room. Tickets on sale now."


def live_workers(pg_url, media_root, queue_prefix, count: int = 2) -> Workers:
    """`count` real workers polling Runway every 20 ms, declared stale 3 s after their last heartbeat."""
    w = Workers.__new__(Workers)
    env = worker_env(
        pg_url,
        media_root,
        queue_prefix,
        JOB_HEARTBEAT_SECONDS="1",
        JOB_STALE_SECONDS="3",
        RUNWAY_POLL_SECONDS="0.02",
    )
    w.procs = [
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
    return w


def polls(fake, task_id: str) -> int:
    return sum(1 for r in fake.requests_to(f"/v1/tasks/{task_id}") if r.method == "GET")


def task_of(app, job_id: int) -> str | None:
    stored = _jobs(app, id=job_id)[0].provider_task_id
    return stored.split(":")[1] if stored and stored.startswith("clip:") else None


def _start_clip(app, uid: int, asset_id: int) -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import actions
    from webapp.services.media import VideoSettings

    with app.app_context():
        settings = VideoSettings(asset_id=asset_id, format="story", seconds=6, provider="runway")
        return actions.animate(db.session.get(User, uid), settings).id


def _start_voice(app, uid: int) -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import actions
    from webapp.services.media import VoiceSettings

    with app.app_context():
        settings = VoiceSettings(text=SCRIPT, voice="Maya", provider="runway")
        return actions.voiceover(db.session.get(User, uid), settings).id


def test_killed_worker_resumes_the_same_clip_and_voice_tasks_and_cancel_deletes_one(
    app,
    make_user,
    runway_fake,
    pg_url,
    media_root,
    queue_prefix,
    photo_jpeg,
):
    from webapp.extensions import db
    from webapp.models import Asset, Provider, User
    from webapp.services import actions
    from webapp.services import jobs as job_service
    from webapp.services.assets import ingest_upload
    from webapp.services.pricing import media_estimate

    pid = configure(app, "runway", key=KEY, base_url=runway_fake.url, monthly_budget=Decimal("5"))
    uid, _ = make_user()
    with app.app_context():
        asset_id = ingest_upload(db.session.get(User, uid), photo_jpeg, "parade.jpg").asset.id
        row = db.session.get(Provider, pid)
        clip_price = media_estimate(row, "runway", "gen4_turbo", seconds=5)  # gen4_turbo bills 5 s for 6
        voice_price = media_estimate(row, "runway", "eleven_multilingual_v2", chars=len(SCRIPT))
    runway_fake.hold = True  # every task stays RUNNING
    clip, voice = _start_clip(app, uid, asset_id), _start_voice(app, uid)

    w = live_workers(pg_url, media_root, queue_prefix)
    try:
        _wait(lambda: task_of(app, clip) and task_of(app, voice), "both task ids on their jobs")
        clip_task, voice_task = task_of(app, clip), task_of(app, voice)
        _wait(lambda: polls(runway_fake, clip_task) >= 2 and polls(runway_fake, voice_task) >= 2, "polling")
        # Mid-task: the budget holds both prices, nothing is spent or in the ledger yet.
        assert spend(app, pid) == (Decimal(0), clip_price + voice_price)
        assert ledger_rows(app) == []
    finally:
        w.kill()  # SIGKILL: the worker processes and their work horses
    before = {"creates": runway_fake.creates, "clip_polls": polls(runway_fake, clip_task)}
    before["voice_polls"] = polls(runway_fake, voice_task)
    assert runway_fake.creates == 2

    with app.app_context():
        _wait(
            lambda: (
                job_service.mark_stale_jobs_failed([clip, voice]) is not None
                and all(j.status == "failed" for j in _jobs(app) if j.id in (clip, voice))
            ),
            "the sweeper to mark both jobs failed",
        )
        user = db.session.get(User, uid)
        actions.retry_job(user, clip)
        actions.retry_job(user, voice)
    runway_fake.hold = False
    w2 = live_workers(pg_url, media_root, queue_prefix)
    try:
        _wait(
            lambda: all(j.status in ("succeeded", "failed") for j in _jobs(app) if j.id in (clip, voice)),
            "both retries to finish",
        )
        for job_id in (clip, voice):
            job = _jobs(app, id=job_id)[0]
            assert job.status == "succeeded", job.error
        # The SAME tasks were polled to the end: no second create, and they are flagged paid.
        assert runway_fake.creates == 2 and runway_fake.deleted == []
        assert _jobs(app, id=clip)[0].provider_task_id == f"clip:{clip_task}:paid"
        assert _jobs(app, id=voice)[0].provider_task_id == f"clip:{voice_task}:paid"
        with app.app_context():
            kinds = {
                a.job_id: a.media_kind
                for a in db.session.scalars(select(Asset).where(Asset.job_id.in_([clip, voice])))
            }
        assert kinds == {clip: "video", voice: "audio"}
        rows = ledger_rows(app)
        assert sorted((r.job_id, r.operation, r.outcome, r.cost) for r in rows) == sorted(
            [(clip, "video", "success", clip_price), (voice, "voice", "success", voice_price)]
        )
        # The retries took over the dead attempts' reservations: spent once, nothing left held.
        assert spend(app, pid) == (clip_price + voice_price, Decimal(0))
        resumed = {"clip_polls": polls(runway_fake, clip_task), "voice_polls": polls(runway_fake, voice_task)}

        # Cancel while a clip's task runs: DELETE /v1/tasks/{id}, recorded once as possibly billed.
        runway_fake.hold = True
        third = _start_clip(app, uid, asset_id)
        _wait(lambda: task_of(app, third), "the third task id on the job")
        third_task = task_of(app, third)
        _wait(lambda: polls(runway_fake, third_task) >= 1, "polling the third task")
        with app.app_context():
            actions.cancel_job(db.session.get(User, uid), third)
        _wait(lambda: runway_fake.deleted, "DELETE /v1/tasks/{id} at the fake")
        _wait(lambda: _jobs(app, id=third)[0].status == "cancelled", "the cancel")
        _wait(lambda: any(r.job_id == third for r in ledger_rows(app)), "the cancelled task's ledger row")

        # The same for a voice-over: cancelled while Runway speaks, its task is deleted there.
        fourth = _start_voice(app, uid)
        _wait(lambda: task_of(app, fourth), "the voice-over's task id on the job")
        fourth_task = task_of(app, fourth)
        _wait(lambda: polls(runway_fake, fourth_task) >= 1, "polling the voice-over's task")
        with app.app_context():
            actions.cancel_job(db.session.get(User, uid), fourth)
        _wait(lambda: fourth_task in runway_fake.deleted, "DELETE of the voice-over's task at the fake")
        _wait(lambda: _jobs(app, id=fourth)[0].status == "cancelled", "the voice-over's cancel")
        _wait(lambda: any(r.job_id == fourth for r in ledger_rows(app)), "the voice-over's ledger row")
    finally:
        w2.stop()
    assert runway_fake.deleted == [third_task, fourth_task]
    assert runway_fake.creates == 4
    rows = [r for r in ledger_rows(app) if r.job_id == third]
    assert [(r.operation, r.outcome, r.cost) for r in rows] == [
        ("video", "cancelled_maybe_billed", clip_price)
    ]
    rows = [r for r in ledger_rows(app) if r.job_id == fourth]
    assert [(r.operation, r.outcome, r.cost) for r in rows] == [
        ("voice", "cancelled_maybe_billed", voice_price)
    ]
    assert spend(app, pid) == (2 * clip_price + 2 * voice_price, Decimal(0))
    with app.app_context():
        assert db.session.scalars(select(Asset).where(Asset.job_id.in_([third, fourth]))).all() == []
    total = sum((r.cost for r in ledger_rows(app)), Decimal(0))
    print(
        f"\nFIGURES runway kill: creates={runway_fake.creates} deletes={len(runway_fake.deleted)} "
        f"polls before kill clip={before['clip_polls']} voice={before['voice_polls']}; "
        f"after resume clip={resumed['clip_polls']} voice={resumed['voice_polls']}; "
        f"cancelled task polls={polls(runway_fake, third_task)}; ledger rows={len(ledger_rows(app))} "
        f"sum=${total} (clip ${clip_price}, voice ${voice_price}); spend={spend(app, pid)}"
    )


def test_killed_worker_mid_runway_bulk_item_resumes_the_same_task_and_pays_once(
    app,
    make_user,
    runway_fake,
    pg_url,
    media_root,
    queue_prefix,
):
    """A bulk item drawn by Runway stores its task id on the item before polling; the worker is
    SIGKILLed mid-task, the bulk sweeper hands the item to a new pump, which resumes the same task."""
    from webapp.extensions import db
    from webapp.models import BulkBatch, BulkItem, User
    from webapp.services import bulk
    from webapp.services.bulk import sweep

    pid = configure(app, "runway", key=KEY, base_url=runway_fake.url, monthly_budget=Decimal("5"))
    uid, _ = make_user(role="admin")
    runway_fake.hold = True
    with app.app_context():
        settings = bulk.BatchSettings(provider="runway", image_type="square", variations=1)
        user = db.session.get(User, uid)
        batch_id = bulk.create_and_start(user, bulk.parse_prompts("a jazz poster"), settings).id

    def item() -> BulkItem:
        with app.app_context():
            row = db.session.scalar(select(BulkItem).where(BulkItem.batch_id == batch_id))
            db.session.expunge(row)
            return row

    w = live_workers(pg_url, media_root, queue_prefix, count=1)
    try:
        _wait(lambda: (item().provider_task_id or "").startswith("v0:task-"), "the task id on the item")
        task_id = item().provider_task_id.split(":")[1]
        _wait(lambda: polls(runway_fake, task_id) >= 3, "polling")
        assert spend(app, pid) == (Decimal(0), Decimal("0.08"))  # held for the task
    finally:
        w.kill()
    polls_before = polls(runway_fake, task_id)
    assert runway_fake.creates == 1 and item().status == "running"

    def reset() -> bool:
        with app.app_context():
            return bool(sweep(stale_seconds=1)["items_reset"])

    _wait(reset, "the bulk sweeper to hand the item back (its heartbeat stops with the worker)")
    runway_fake.hold = False
    w2 = live_workers(pg_url, media_root, queue_prefix, count=1)
    try:

        def finished() -> bool:
            with app.app_context():
                status = db.session.get(BulkBatch, batch_id).status
                db.session.commit()
            return status == "finished"

        _wait(finished, "the batch to finish")
    finally:
        w2.stop()
    done = item()
    assert done.status == "succeeded", done.error
    assert done.provider_task_id is None  # cleared once the image was recorded
    assert runway_fake.creates == 1 and runway_fake.deleted == []
    rows = ledger_rows(app)
    assert [(r.operation, r.outcome, r.images, r.cost) for r in rows] == [
        ("generate", "success", 1, Decimal("0.08"))
    ]
    assert spend(app, pid) == (Decimal("0.08"), Decimal(0))
    assert done.cost == Decimal("0.08")
    print(
        f"\nFIGURES runway bulk kill: creates={runway_fake.creates} deletes={len(runway_fake.deleted)} "
        f"polls before kill={polls_before} total={polls(runway_fake, task_id)}; ledger rows={len(rows)} "
        f"sum=${sum((r.cost for r in rows), Decimal(0))}; spend={spend(app, pid)}"
    )
