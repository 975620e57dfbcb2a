"""Runway clips without a job queue (no REDIS_URL: the web process's thread pool, issue 18 + 16).

- A web process SIGKILLed while its pool thread polls a Runway task: the restarted process marks the
  job failed with Retry, and Retry resumes the SAME task (the fake sees one create, one ledger row).
- A long Runway wait does not hold a pool thread for minutes: it is bounded by
  `IN_PROCESS_TASK_WAIT_SECONDS`; the job then fails with Retry (nothing charged, the budget stays held
  for the task) and Retry resumes the same task and pays once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.conftest import make_config
from tests.integration import test_i16providers_flow as flow
from tests.integration.test_budget_and_ledger import configure, ledger_rows, spend
from tests.integration.test_races import ROOT, _jobs, _wait
from tests.jobwait import wait_for_job

pytestmark = pytest.mark.usefixtures("app")
fast_polls, runway_fake = flow.fast_polls, flow.runway_fake  # fixtures
KEY = "key_platform_runway_inproc_0007"

# A stand-alone web process without Redis: starts one Runway clip on its pool, then idles.
WEB_PROCESS = """
import json, sys, threading
from webapp import create_app
from webapp.extensions import db
from webapp.models import User
from webapp.services import actions
from webapp.services.media import VideoSettings

cfg, uid, asset_id = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
app = create_app(cfg)
with app.app_context():
    settings = VideoSettings(asset_id=asset_id, format="story", seconds=6, provider="runway")
    job = actions.animate(db.session.get(User, uid), settings)
    print(job.id, job.mode, flush=True)
threading.Event().wait()
"""


def _polls(fake, task_id: str) -> int:
    return sum(1 for r in fake.requests_to(f"/v1/tasks/{task_id}") if r.method == "GET")


def test_in_process_runway_clip_survives_a_restart_and_a_long_wait_is_bounded(
    app, make_user, runway_fake, pg_url, media_root, queue_prefix, photo_jpeg
):
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Provider, User
    from webapp.services import actions
    from webapp.services.assets import ingest_upload
    from webapp.services.jobs import INTERRUPTED_MESSAGE
    from webapp.services.media import VideoSettings
    from webapp.services.pricing import media_estimate

    pid = configure(app, "runway", key=KEY, base_url=runway_fake.url, monthly_budget=Decimal("5"))
    uid, _ = make_user()
    with app.app_context():
        asset_id = ingest_upload(db.session.get(User, uid), photo_jpeg, "parade.jpg").asset.id
        price = media_estimate(db.session.get(Provider, pid), "runway", "gen4_turbo", seconds=5)
    runway_fake.hold = True
    cfg = make_config(pg_url, media_root, queue_prefix, REDIS_URL=None)
    cfg["STORAGE_URL"] = str(cfg["STORAGE_URL"])
    web = subprocess.Popen(
        [sys.executable, "-c", WEB_PROCESS, json.dumps(cfg), str(uid), str(asset_id)],
        cwd=ROOT,
        env={**os.environ, "RUNWAY_POLL_SECONDS": "0.02"},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        job_id, mode = web.stdout.readline().split()
        job_id = int(job_id)
        assert mode == "sync"  # no Redis: the web process's pool runs it
        _wait(lambda: (_jobs(app, id=job_id)[0].provider_task_id or "").startswith("clip:"), "the task id")
        task_id = _jobs(app, id=job_id)[0].provider_task_id.split(":")[1]
        _wait(lambda: _polls(runway_fake, task_id) >= 2, "the pool thread polling the task")
    finally:
        os.killpg(web.pid, signal.SIGKILL)
        web.wait(timeout=30)
    assert _jobs(app, id=job_id)[0].status == "running" and runway_fake.creates == 1
    polls_before_restart = _polls(runway_fake, task_id)

    # The restarted process (2 s cap on a task wait) recovers the row at its first request.
    restarted = create_app({**cfg, "IN_PROCESS_TASK_WAIT_SECONDS": 2})
    assert restarted.test_client().get("/healthz").status_code == 200
    failed = wait_for_job(restarted, job_id)
    assert failed.status == "failed" and failed.error == INTERRUPTED_MESSAGE and failed.can_retry
    assert spend(app, pid) == (Decimal(0), price)  # held for the task the retry will resume
    runway_fake.hold = False
    with restarted.app_context():
        actions.retry_job(db.session.get(User, uid), job_id)
    done = wait_for_job(restarted, job_id)
    assert done.status == "succeeded", done.error
    assert done.provider_task_id == f"clip:{task_id}:paid" and runway_fake.creates == 1
    assert [(r.job_id, r.outcome, r.cost) for r in ledger_rows(app)] == [(job_id, "success", price)]
    assert spend(app, pid) == (price, Decimal(0))

    # A task that runs longer than the cap gives the pool thread back: failed with Retry, $0 charged.
    runway_fake.hold = True
    with restarted.app_context():
        settings = VideoSettings(asset_id=asset_id, format="story", seconds=6, provider="runway")
        long_id = actions.animate(db.session.get(User, uid), settings).id
    slow = wait_for_job(restarted, long_id)
    assert slow.status == "failed" and "Retry resumes the same provider task" in slow.error, slow.error
    long_task = slow.provider_task_id.split(":")[1]
    assert runway_fake.creates == 2 and runway_fake.deleted == []
    assert spend(app, pid) == (price, price)  # the second task's price is held, not spent
    # The thread is free again: another clip (offline) runs on the same 2-thread pool meanwhile.
    with restarted.app_context():
        local = VideoSettings(asset_id=asset_id, format="square", seconds=2, provider="local")
        local_id = actions.animate(db.session.get(User, uid), local).id
    assert wait_for_job(restarted, local_id).status == "succeeded"
    runway_fake.hold = False
    with restarted.app_context():
        actions.retry_job(db.session.get(User, uid), long_id)
    again = wait_for_job(restarted, long_id)
    assert again.status == "succeeded", again.error
    assert runway_fake.creates == 2 and again.provider_task_id == f"clip:{long_task}:paid"
    rows = [(r.job_id, r.outcome, r.cost) for r in ledger_rows(app)]
    assert rows == [
        (job_id, "success", price),
        (long_id, "providerunavailable", Decimal(0)),
        (long_id, "success", price),
    ]
    assert spend(app, pid) == (2 * price, Decimal(0))
    print(
        f"\nFIGURES in-process runway: creates={runway_fake.creates} deletes={len(runway_fake.deleted)} "
        f"polls before the kill={polls_before_restart} after resume={_polls(runway_fake, task_id)} "
        f"bounded task polls={_polls(runway_fake, long_task)}; ledger={rows}; spend={spend(app, pid)}"
    )
