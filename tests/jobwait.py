"""Waiting for a job row to reach a final state, for tests of in-process jobs (no job queue).

In-process jobs run on a background pool of the web process (`webapp.services.inprocess`), so the
request that starts one returns before the job finishes. Tests wait for the row — a condition with
a generous deadline, never a fixed sleep.
"""

from __future__ import annotations

import time

FINAL = ("succeeded", "failed", "cancelled")


def wait_for_job(app, job_id: int, timeout: float = 120.0, statuses: tuple[str, ...] = FINAL):
    """The job row (detached) once its status is one of `statuses`; fails after `timeout` s."""
    from webapp.extensions import db
    from webapp.models import Job

    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            job = db.session.get(Job, job_id)
            status = job.status if job is not None else None
            if status in statuses:
                db.session.expunge(job)
                return job
            db.session.remove()
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {status!r} after {timeout:.0f} s")
        time.sleep(0.05)
