"""What every job entry point shares: claim the row, heartbeat, progress, cancel checks, and the
rule that a failure leaves no half-written records and no orphan files.

An entry point is a thin wrapper: `run(job_id)` -> `execute(job_id, body)`, where `body(ctx)` does
the work through the context. Progress and heartbeats go through short transactions of their own
so the page sees them at once and no lock is held while pixels are pushed around.

What a body is handed, `JobContext`, and the job exceptions live in `jobs.context` (imported
from here too, as before).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from flask import Flask, current_app, has_app_context
from rq import get_current_job
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from webapp.extensions import db
from webapp.imaging import ImageRejected

# Re-exported: job modules import these from the runner.
from webapp.jobs.context import JobCancelled, JobContext, JobError, RetryableJobError
from webapp.models import Asset, Job, JobStatus, utcnow
from webapp.storage import StorageError

log = logging.getLogger(__name__)

_worker_app: Flask | None = None


TRANSIENT = (StorageError, OperationalError, ConnectionError, TimeoutError)


def set_worker_app(app: Flask) -> None:
    """worker.py builds the app once before forking and registers it here."""
    global _worker_app
    _worker_app = app


def _app() -> Flask:
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        from webapp import create_app

        _worker_app = create_app()
    return _worker_app


def worker_name() -> str:
    """The RQ worker's own name when under RQ (a forked work horse has a pid of its own); the
    owning web process's name on the in-process pool (so a restart can tell its jobs were cut off)."""
    from webapp.services.inprocess import running_as

    in_process = running_as()
    if in_process:
        return in_process
    rq_job = get_current_job()
    if rq_job is not None and getattr(rq_job, "worker_name", None):
        return str(rq_job.worker_name)
    return f"{socket.gethostname()}:{os.getpid()}"


class _Heartbeat(threading.Thread):
    """Touches `heartbeat_at` every few seconds while the body runs, from its own connection."""

    def __init__(self, app: Flask, job_id: int, interval: float) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.app, self.job_id, self.interval = app, job_id, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                with self.app.app_context(), db.engine.begin() as conn:
                    conn.execute(
                        update(Job)
                        .where(Job.id == self.job_id, Job.status == JobStatus.RUNNING.value)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:
                log.warning("heartbeat for job %s failed", self.job_id, exc_info=True)

    def stop(self) -> None:
        self._stop_event.set()


def _message_for(exc: BaseException, job_id: int) -> tuple[str, bool]:
    """(message a producer can act on, whether retrying might help)."""
    if isinstance(exc, ImageRejected):
        return exc.message, False
    if isinstance(exc, RetryableJobError):
        return str(exc), True
    if isinstance(exc, JobError):
        return str(exc), False
    if isinstance(exc, FileNotFoundError):
        return "The source image is no longer in storage (it may have been deleted). Upload it again.", False
    if isinstance(exc, StorageError):
        return "Image storage could not be reached, so nothing was saved.", True
    if isinstance(exc, OperationalError):
        return "The database could not be reached, so nothing was saved.", True
    if isinstance(exc, ConnectionError | TimeoutError):
        return "A service this job needs did not answer in time, so nothing was saved.", True
    return (
        f"Something went wrong while processing ({type(exc).__name__}); nothing was saved. "
        f"Press Retry; if it fails again, tell support it was job #{job_id}.",
        False,
    )


_pool_pid = os.getpid()


def _fresh_pool_after_fork() -> None:
    """RQ forks a work horse per job: connections inherited from the parent must not be shared."""
    global _pool_pid
    if os.getpid() != _pool_pid:
        db.engine.dispose(close=False)
        _pool_pid = os.getpid()


def execute(job_id: int, body: Callable[[JobContext], None]) -> None:
    """Claim the job row, run `body`, and record the outcome. Re-raises failures under RQ."""
    from webapp.logging_setup import job_id_var, request_id_var

    app = _app()
    job_token = job_id_var.set(job_id)
    with app.app_context():
        _fresh_pool_after_fork()
        rid = db.session.scalar(select(Job.input).where(Job.id == job_id)) or {}
        request_token = request_id_var.set(rid.get("request_id") if isinstance(rid, dict) else None)
        try:
            _execute(app, job_id, body)
        finally:
            db.session.remove()
            request_id_var.reset(request_token)
            job_id_var.reset(job_token)


def _execute(app: Flask, job_id: int, body: Callable[[JobContext], None]) -> None:
    now = utcnow()
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
        .values(
            status=JobStatus.RUNNING.value,
            started_at=now,
            heartbeat_at=now,
            attempts=Job.attempts + 1,
            worker=worker_name(),
            stage="Starting",
            progress=1,
        )
    ).rowcount
    db.session.commit()
    if not claimed:
        # Cancelled while queued, already done, or claimed by another worker: nothing to do.
        log.info("job %s not claimable (not queued); skipping", job_id)
        return
    job = db.session.execute(select(Job).where(Job.id == job_id)).scalar_one()
    ctx = JobContext(
        job_id=job.id,
        owner_id=job.owner_id,
        kind=job.kind,
        input=dict(job.input or {}),
        attempt=job.attempts,
        app=app,
    )
    db.session.commit()  # end the read transaction: no session is held across slow work
    heartbeat = _Heartbeat(app, job_id, float(app.config.get("JOB_HEARTBEAT_SECONDS", 10)))
    heartbeat.start()
    try:
        body(ctx)
    except JobCancelled:
        db.session.rollback()
        ctx.discard_stored()
        _keep_finished_outputs(ctx, "finished before the cancel")
        log.info("job %s stopped (cancelled or taken over); unrecorded output removed", job_id)
    except BaseException as exc:
        db.session.rollback()
        ctx.discard_stored()
        _record_failure(ctx, exc)
        _keep_finished_outputs(ctx, "finished before the failure")
        raise
    finally:
        heartbeat.stop()
        _settle(job_id)
        _observe(job_id, ctx.kind)


def _observe(job_id: int, kind: str) -> None:
    """Count the attempt's outcome, run time and queue wait for /metrics (a no-op when off)."""
    from webapp import metrics

    if not metrics.enabled():
        return
    try:
        row = db.session.execute(
            select(Job.status, Job.created_at, Job.started_at, Job.finished_at).where(Job.id == job_id)
        ).first()
        db.session.commit()
    except Exception:
        db.session.rollback()
        return
    if row is None:
        return
    outcome = "retrying" if row.status == JobStatus.QUEUED.value else row.status
    end = row.finished_at or utcnow()
    run = (end - row.started_at).total_seconds() if row.started_at else None
    wait = (row.started_at - row.created_at).total_seconds() if row.started_at and row.created_at else None
    metrics.job_finished(kind, outcome, run, wait)


def _settle(job_id: int) -> None:
    """Settle the allowance reservation now that the attempt is over (a no-op while a retry is
    pending; the sweeper settles anything a dead process leaves open)."""
    from webapp.services import limits

    try:
        limits.settle_job(job_id)
    except Exception:
        db.session.rollback()
        log.exception("could not settle the allowance of job %s; the clock will", job_id)


def _keep_finished_outputs(ctx: JobContext, why: str) -> None:
    """Output this job recorded before it stopped (AI variations are committed, and paid for, as
    they arrive) stays in the library and on the job page, marked as such; nothing half-written
    remains because unrecorded files were removed just before."""
    ids = list(db.session.scalars(select(Asset.id).where(Asset.job_id == ctx.job_id).order_by(Asset.id)))
    db.session.commit()
    if not ids:
        return
    with db.engine.begin() as conn:
        row = conn.execute(select(Job.result, Job.status).where(Job.id == ctx.job_id)).first()
        if row is None or row.status not in (JobStatus.CANCELLED.value, JobStatus.FAILED.value):
            return
        result = {**(row.result or {}), "asset_ids": ids, "kept": why, "partial": False}
        conn.execute(
            update(Job)
            .where(Job.id == ctx.job_id, Job.status == row.status, Job.attempts == ctx.attempt)
            .values(result=result)
        )


def _record_failure(ctx: JobContext, exc: BaseException) -> None:
    job_id = ctx.job_id
    message, transient = _message_for(exc, job_id)
    rq_job = get_current_job()
    will_retry = bool(transient and rq_job is not None and rq_job.retries_left)
    if rq_job is not None and not transient:
        rq_job.retries_left = 0  # bad input or a bug: retrying would only fail again
    if will_retry:
        values = {
            "status": JobStatus.QUEUED.value,
            "stage": f"{message} Retrying automatically…"[:200],
            "error": None,
        }
        log.warning("job %s failed transiently (%s); RQ will retry", job_id, type(exc).__name__)
    else:
        values = {
            "status": JobStatus.FAILED.value,
            "error": message,
            "stage": "Failed",
            "finished_at": utcnow(),
        }
        log.error("job %s failed: %s", job_id, message, exc_info=exc)
    try:
        with db.engine.begin() as conn:
            conn.execute(update(Job).where(*ctx._mine()).values(**values))
    except Exception:
        log.exception("could not record failure of job %s; the sweeper will mark it", job_id)
