"""Runway and Hugging Face end to end: real generation jobs (RQ), the official SDKs against the fake
servers, tiers and `auto`, the estimate against the ledger, and a worker killed mid-task."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import worker_env
from tests.fakes import FakeHF, FakeRunway
from tests.integration.test_budget_and_ledger import configure, job_state, ledger_rows, spend, start
from tests.integration.test_races import ROOT, Workers, _jobs, _wait

pytestmark = pytest.mark.usefixtures("app")

RUNWAY_KEY = "key_platform_runway_0001"
HF_KEY = "hf_platform_token_0002"


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setenv("RUNWAY_POLL_SECONDS", "0.01")


@pytest.fixture
def runway_fake():
    with FakeRunway(valid_key=None) as fake:
        yield fake


@pytest.fixture
def hf_fake():
    with FakeHF(valid_key=None) as fake:
        yield fake


def _estimate(app, uid, **body):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import estimates

    with app.app_context():
        return estimates.estimate(db.session.get(User, uid), body)


def test_runway_still_through_a_job_estimate_equals_ledger(app, make_user, run_jobs, runway_fake):
    pid = configure(app, "runway", key=RUNWAY_KEY, base_url=runway_fake.url, monthly_budget=Decimal("5"))
    uid, _ = make_user()
    est = _estimate(app, uid, prompt="a jazz night", image_type="poster", provider="runway", variations=2)
    assert est["cost"] == "0.1600" and est["tier"] == "premium"
    job_id = start(app, uid, image_type="poster", provider="runway", variations=2)
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "succeeded", error
    assert runway_fake.creates == 2 and runway_fake.deleted == []
    rows = ledger_rows(app)
    assert [(r.provider, r.outcome, r.images, r.size) for r in rows] == [
        ("runway", "success", 1, "1080:1440")
    ] * 2
    assert sum(r.cost for r in rows) == Decimal(est["cost"])
    assert spend(app, pid) == (Decimal("0.16"), Decimal(0))
    assert _jobs(app)[0].provider_task_id is None  # cleared once each image was recorded
    with app.app_context():
        from webapp.extensions import db
        from webapp.models import Asset

        tasks = [a.provenance["provider_task"] for a in db.session.query(Asset).filter_by(job_id=job_id)]
    assert len({t["id"] for t in tasks}) == 2 and {t["credits"] for t in tasks} == {8}


def test_huggingface_through_a_job_estimate_equals_ledger(app, make_user, run_jobs, hf_fake):
    from webapp.services import providers

    configure(app, "huggingface", key=HF_KEY, base_url=hf_fake.url)
    with app.app_context():
        row = providers.get_provider("huggingface")
        providers.update_settings(row, {"model": "black-forest-labs/FLUX.1-schnell"})
    uid, _ = make_user()
    est = _estimate(app, uid, prompt="a jazz night", image_type="banner", provider="huggingface")
    assert est["cost"] == "0.0050" and est["tier"] == "budget"
    job_id = start(app, uid, image_type="banner", provider="huggingface")
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "succeeded", error
    assert len(hf_fake.requests_to("/models/black-forest-labs/FLUX.1-schnell")) == 1
    rows = ledger_rows(app)
    assert [(r.provider, r.outcome, r.cost, r.size) for r in rows] == [
        ("huggingface", "success", Decimal(est["cost"]), "1344x768")
    ]


def test_tier_auto_picks_by_keys_and_budgets(app, make_user, run_jobs, runway_fake, hf_fake):
    uid, _ = make_user()
    # Fresh install: nothing but the offline generator.
    est = _estimate(app, uid, prompt="jazz", image_type="square", tier="auto")
    assert (est["provider"], est["tier"]) == ("local", "free")
    assert "Skipped premium" in est["reason_chosen"] and "not enabled" in est["reason_chosen"]
    # A Hugging Face key: budget.
    configure(app, "huggingface", key=HF_KEY, base_url=hf_fake.url)
    est = _estimate(app, uid, prompt="jazz", image_type="square", tier="auto")
    assert (est["provider"], est["tier"]) == ("huggingface", "budget")
    # Runway too: premium wins.
    rid = configure(app, "runway", key=RUNWAY_KEY, base_url=runway_fake.url)
    est = _estimate(app, uid, prompt="jazz", image_type="square", tier="auto")
    assert (est["provider"], est["tier"]) == ("runway", "premium")
    # Runway's month is spent: back to budget, and it says why.
    from webapp.extensions import db
    from webapp.models import Provider

    with app.app_context():
        row = db.session.get(Provider, rid)
        row.monthly_budget = Decimal("0.05")
        db.session.commit()
    est = _estimate(app, uid, prompt="jazz", image_type="square", tier="auto")
    assert (est["provider"], est["tier"]) == ("huggingface", "budget")
    assert "budget is spent" in est["reason_chosen"]
    # The job runs where the estimate said, and records the choice.
    job_id = start(app, uid, image_type="square", tier="auto")
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "succeeded", error
    job = _jobs(app)[0]
    assert job.input["provider"] == "huggingface" and job.input["tier"] == "budget"
    assert "budget is spent" in job.input["choice_reason"]
    assert runway_fake.creates == 0 and len(hf_fake.requests_to("/models/")) == 1
    # Naming a tier: the cheapest usable of that tier only.
    est = _estimate(app, uid, prompt="jazz", image_type="square", tier="free")
    assert est["provider"] == "local"


def test_worker_killed_mid_runway_task_resumes_it_and_cancel_deletes_a_task(
    app, make_user, runway_fake, pg_url, media_root, queue_prefix
):
    """SIGKILL the worker while Runway's task runs; the retry polls the same task: one create, one
    ledger row, nothing billed twice. Then (same worker, to save a start-up) a producer's cancel
    during a task sends DELETE /v1/tasks/{id}."""
    from webapp.extensions import db
    from webapp.models import UsageEvent, User
    from webapp.services import actions
    from webapp.services import jobs as job_service

    pid = configure(app, "runway", key=RUNWAY_KEY, base_url=runway_fake.url)
    runway_fake.hold = True
    uid, _ = make_user()
    job_id = start(app, uid, image_type="square", provider="runway")
    env = {"RUNWAY_POLL_SECONDS": "0.02"}
    w = _workers(pg_url, media_root, queue_prefix, env)
    try:
        _wait(lambda: _jobs(app)[0].provider_task_id, "the task id on the job")
        _wait(lambda: len(runway_fake.requests_to("/v1/tasks/")) >= 2, "polling")
    finally:
        w.kill()
    saved = _jobs(app)[0].provider_task_id
    assert saved.startswith("v0:task-") and runway_fake.creates == 1
    with app.app_context():
        _wait(
            lambda: job_service.mark_stale_jobs_failed([job_id]) or _jobs(app)[0].status == "failed", "stale"
        )
        actions.retry_job(db.session.get(User, uid), job_id)
    runway_fake.hold = False
    w2 = _workers(pg_url, media_root, queue_prefix, env)
    try:
        _wait(lambda: _jobs(app)[0].status in ("succeeded", "failed"), "the retry to finish")
        job = _jobs(app)[0]
        assert job.status == "succeeded", job.error
        assert runway_fake.creates == 1 and runway_fake.deleted == []
        with app.app_context():
            rows = db.session.scalars(select(UsageEvent).where(UsageEvent.job_id == job_id)).all()
            assert [(r.outcome, r.images) for r in rows] == [("success", 1)]
            assert db.session.scalar(select(func.count()).select_from(UsageEvent)) == 1
        # The retry took over the dead attempt's reservation: spent once, nothing left reserved.
        assert spend(app, pid) == (Decimal("0.08"), Decimal(0))
        assert job.provider_task_id is None

        # Cancel while a task runs.
        runway_fake.hold = True
        second = start(app, uid, image_type="poster", provider="runway")
        _wait(lambda: _jobs(app, id=second)[0].provider_task_id, "the second task id on the job")
        with app.app_context():
            actions.cancel_job(db.session.get(User, uid), second)
        _wait(lambda: runway_fake.deleted, "DELETE /v1/tasks/{id} at the fake")
        _wait(lambda: _jobs(app, id=second)[0].status == "cancelled", "the cancel")
    finally:
        w2.stop()
    assert runway_fake.deleted == [_jobs(app, id=second)[0].provider_task_id.split(":", 1)[1]]
    assert runway_fake.creates == 2
    rows = [r for r in ledger_rows(app) if r.job_id == second]
    assert [(r.outcome, r.images, r.cost) for r in rows] == [("cancelled_maybe_billed", 0, Decimal("0.08"))]


def _workers(pg_url, media_root, queue_prefix, extra: dict) -> Workers:
    w = Workers.__new__(Workers)
    env = worker_env(
        pg_url, media_root, queue_prefix, JOB_HEARTBEAT_SECONDS="1", JOB_STALE_SECONDS="3", **extra
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
    ]
    return w


def test_runway_task_timeout_keeps_the_task_and_retry_pays_once(
    app, make_user, run_jobs, runway_fake, monkeypatch
):
    """The job gives up waiting (the task keeps running at Runway): nothing is counted as spent, and
    Retry resumes the same task and pays for it once. A FAILED task is never resumed."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import actions

    pid = configure(app, "runway", key=RUNWAY_KEY, base_url=runway_fake.url)
    uid, _ = make_user()
    runway_fake.hold = True
    monkeypatch.setenv("RUNWAY_TASK_TIMEOUT_SECONDS", "1")
    job_id = start(app, uid, image_type="square", provider="runway")
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "failed" and "Retry resumes the same provider task" in error
    assert error.count("Retry") == 1, error  # the advice is given once, not by provider and job both
    assert spend(app, pid) == (Decimal(0), Decimal("0.08"))  # held for the task, not spent
    runway_fake.hold = False
    with app.app_context():
        actions.retry_job(db.session.get(User, uid), job_id)
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "succeeded", error
    assert runway_fake.creates == 1
    assert [(r.outcome, r.cost) for r in ledger_rows(app)] == [
        ("timeout_maybe_billed", Decimal(0)),
        ("success", Decimal("0.08")),
    ]
    assert spend(app, pid) == (Decimal("0.08"), Decimal(0))

    # A task that FAILED is over: the retry creates a new one.
    runway_fake.enqueue("task_failed")
    failed = start(app, uid, image_type="poster", provider="runway")
    run_jobs()
    assert job_state(app, failed)[0] == "failed"
    assert _jobs(app, id=failed)[0].provider_task_id is None
    with app.app_context():
        actions.retry_job(db.session.get(User, uid), failed)
    run_jobs()
    assert job_state(app, failed)[0] == "succeeded" and runway_fake.creates == 3
