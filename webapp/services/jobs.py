"""Starting, cancelling, retrying and sweeping jobs.

The rule that keeps work from being lost: the Job row is committed BEFORE anything is enqueued,
and if the queue cannot be reached (or none is configured) the same entry point runs on a small
background pool in this web process (mode "sync", `services.inprocess`); the request never waits
for it. Postgres holds the truth; the RQ id is kept for cancel and debugging only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from importlib import import_module
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Asset, Job, JobMode, JobStatus, User, utcnow
from webapp.services import inprocess, limits
from webapp.services.queue import get_queue, get_redis, redis_down

log = logging.getLogger(__name__)

# kind -> (dotted entry point, queue purpose). Entry points take a single job id.
JOB_KINDS: dict[str, tuple[str, str]] = {
    "autoformat": ("webapp.jobs.autoformat.run", "images"),
    "generate": ("webapp.jobs.generate.run", "ai"),
    "palette": ("webapp.jobs.palette.run", "images"),
    "video": ("webapp.jobs.video.run", "images"),
    "voice": ("webapp.jobs.video.run_voice", "ai"),
    "describe": ("webapp.jobs.describe.run", "ai"),
}

STALE_MESSAGE = (
    "The worker processing this job stopped unexpectedly (it was restarted or ran out of memory). "
    "Nothing was saved. Press Retry to run it again."
)


def _entry_point(kind: str) -> Callable[[int], Any]:
    dotted, _ = JOB_KINDS[kind]
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


def start(
    owner: User,
    kind: str,
    payload: dict[str, Any],
    batch_id: int | None = None,
    inline: bool = False,
    *,
    allowance: tuple[str, int, int | None] | None = None,
    also: tuple[str, int, int | None] | None = None,
    idempotency_key: str | None = None,
) -> Job:
    """Create the job row (with its allowance reservation, in ONE transaction), commit, then
    enqueue it (or run it here if the queue is down). Called only by `services.actions`.

    `allowance=(kind, amount, override)` reserves that much of the producer's hourly allowance
    (raises limits.LimitReached); `also` reserves a second kind with the same row (a clip drawn from a
    fresh AI still takes one media and one AI image). `idempotency_key`: a second submission with the
    same key gets the first job back instead of a new one (double clicks, retried API calls).
    `inline=True` runs it in this process right away (the CLI: an operator waits for the result
    and no worker may be running)."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    from webapp.logging_setup import request_id_var

    if idempotency_key:
        existing = _by_idempotency_key(owner.id, idempotency_key)
        if existing is not None:
            return existing
    payload = {**payload, "request_id": request_id_var.get()}  # follow the request into the worker
    if allowance is not None:
        payload["allowance"] = {"kind": allowance[0], "override": allowance[2]}
    if also is not None:
        payload["allowance_also"] = {"kind": also[0], "override": also[2]}
    reservation = limits.reserve(allowance[0], owner, allowance[1], allowance[2]) if allowance else None
    second = limits.reserve(also[0], owner, also[1], also[2]) if also else None
    job = Job(
        owner_id=owner.id,
        kind=kind,
        input=payload,
        queue=JOB_KINDS[kind][1],
        batch_id=batch_id,
        idempotency_key=idempotency_key or None,
    )
    db.session.add(job)
    try:
        db.session.flush()
        for row in (reservation, second):
            if row is not None:
                row.job_id = job.id
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the reservation goes with it
        existing = _by_idempotency_key(owner.id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing
    if inline:
        run_in_process(job)
    else:
        enqueue(job)
    return job


def _by_idempotency_key(owner_id: int, key: str) -> Job | None:
    return db.session.scalar(select(Job).where(Job.owner_id == owner_id, Job.idempotency_key == key))


def enqueue(job: Job) -> None:
    """Put an already committed, queued job on its RQ queue; fall back to in-process."""
    queue = get_queue(JOB_KINDS[job.kind][1])
    if queue is not None:
        rq_id = f"marquee-job-{job.id}-{uuid.uuid4().hex[:8]}"
        job.rq_id = rq_id
        job.mode = JobMode.ASYNC.value
        job.stage = "Waiting for a worker"
        db.session.commit()
        from rq import Retry

        intervals = list(current_app.config.get("JOB_RETRY_INTERVALS", (5, 30, 120)))
        try:
            queue.enqueue(
                JOB_KINDS[job.kind][0],
                job.id,
                job_id=rq_id,
                job_timeout=current_app.config.get("JOB_TIMEOUT_SECONDS", 300),
                retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                description=f"{job.kind} job {job.id}",
            )
            return
        except redis_down() as exc:
            log.warning("queue unreachable (%s); running job %s in-process", type(exc).__name__, job.id)
    submit_in_process(job)


#: Stages of a job run without a separate job queue; calm, one wording with _partials/_no_queue.html.
STAGE_WAITING_IN_APP = "Waiting to run in the web app"
STAGE_RUNNING_IN_APP = "Running in the web app"


def submit_in_process(job: Job) -> None:
    """No queue: hand the committed job to this web process's background pool and return at once
    (`services.inprocess`). The row names this process as its owner, so a restart can tell a job
    that never started (run it) from one that was cut off (failed, with Retry)."""
    job.mode = JobMode.SYNC.value
    job.rq_id = None
    job.worker = inprocess.identity()
    job.stage = STAGE_WAITING_IN_APP
    db.session.commit()
    inprocess.submit(current_app._get_current_object(), _entry_point(job.kind), job.id)  # type: ignore[attr-defined]


INTERRUPTED_MESSAGE = (
    "The web process running this job stopped (it was restarted) before the job finished. "
    "Press Retry to run it again."
)


def recover_in_process_jobs(job_ids: list[int] | None = None, resume: bool = True) -> dict[str, list[int]]:
    """Rows of in-process jobs whose owning process is gone: running ones are marked failed with
    Retry (and their allowance settled); queued ones, which never started, are enqueued again
    (`resume`: on RQ when it is reachable, else on this process's pool). Web processes call it at
    their first request and when such a job is displayed; the sweep (worker, `flask jobs sweep`)
    only fails the interrupted ones, as a short-lived process must not take jobs over."""
    query = select(Job).where(
        Job.mode == JobMode.SYNC.value,
        Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
        Job.worker.is_not(None),
    )
    if job_ids is not None:
        query = query.where(Job.id.in_(job_ids))
    resumed: list[int] = []
    failed: list[int] = []
    for job in list(db.session.scalars(query)):
        if inprocess.owner_alive(job.worker) is not False:
            continue
        previous = job.worker
        if job.status == JobStatus.QUEUED.value:
            if not resume:
                continue
            taken = db.session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == JobStatus.QUEUED.value, Job.worker == previous)
                .values(worker=inprocess.identity())
            ).rowcount
            db.session.commit()
            if taken:
                db.session.refresh(job)
                enqueue(job)
                resumed.append(job.id)
            continue
        lost = db.session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.RUNNING.value, Job.worker == previous)
            .values(
                status=JobStatus.FAILED.value,
                error=INTERRUPTED_MESSAGE,
                stage="Interrupted",
                finished_at=utcnow(),
            )
        ).rowcount
        db.session.commit()
        if lost:
            limits.settle_job(job.id)
            failed.append(job.id)
    if resumed or failed:
        log.warning("in-process jobs of a stopped process: resumed %s, marked failed %s", resumed, failed)
    return {"resumed": resumed, "failed_interrupted": failed}


def run_in_process(job: Job) -> None:
    """Run the job's entry point in this process, now, and return when it is done (the CLI: an
    operator waits for the result). Failures are recorded on the row, not raised."""
    job.mode = JobMode.SYNC.value
    job.rq_id = None
    job.stage = STAGE_RUNNING_IN_APP
    db.session.commit()
    job_id = job.id
    try:
        _entry_point(job.kind)(job_id)
    except Exception:  # the runner has already recorded the failure on the row
        log.info("in-process job %s failed; the row says why", job_id)
    db.session.expire_all()


def cancel(job: Job) -> bool:
    """Cancel a queued or running job.

    A queued job never starts and its allowance reservation is released now. A running job stops
    at its next checkpoint: files it wrote for output not yet recorded are removed; output that
    was already finished and recorded before the cancel landed (an AI image the provider had
    drawn and we had paid for) is kept, billed, counted, and shown on the job page as "finished
    before the cancel" — the runner settles its reservation when it stops."""
    if not job.can_cancel:
        return False
    was = job.status
    rows = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
        .values(
            status=JobStatus.CANCELLED.value,
            stage="Cancelled",
            finished_at=utcnow(),
        )
    ).rowcount
    db.session.commit()
    db.session.refresh(job)
    if rows and was == JobStatus.QUEUED.value:
        limits.settle_job(job.id)
    if rows and was == JobStatus.QUEUED.value and job.rq_id:
        conn = get_redis()
        if conn is not None:
            from rq.job import Job as RQJob

            try:
                RQJob.fetch(job.rq_id, connection=conn).cancel()
            except Exception as exc:  # the row is the truth; RQ cleanup is best effort
                log.info("could not cancel rq job %s: %s", job.rq_id, exc)
    return bool(rows)


def retry(job: Job) -> bool:
    """Run a failed or cancelled job again with the same input. The allowance is taken again,
    atomically with the status change (raises limits.LimitReached); outputs the earlier attempts
    already stored are reused by the job, not drawn (and paid for) again."""
    if not job.can_retry:
        return False
    claim = (job.input or {}).get("allowance")
    reservation = None
    if claim:
        owner = db.session.get(User, job.owner_id)
        amount = retry_amount(job)
        reservation = limits.reserve(claim["kind"], owner, amount, claim.get("override"))
    also = (job.input or {}).get("allowance_also")
    second = None
    if also and not stored_outputs(job.id):  # a fresh clip's still not drawn yet: its AI image again
        second = limits.reserve(also["kind"], db.session.get(User, job.owner_id), 1, also.get("override"))
    rows = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.in_([JobStatus.FAILED.value, JobStatus.CANCELLED.value]))
        .values(
            status=JobStatus.QUEUED.value,
            progress=0,
            stage="Waiting for a worker",
            error=None,
            result={},
            started_at=None,
            finished_at=None,
            heartbeat_at=None,
            worker=None,
        )
    ).rowcount
    if not rows:
        db.session.rollback()
        return False
    for row in (reservation, second):
        if row is not None:
            row.job_id = job.id
    db.session.commit()
    db.session.refresh(job)
    enqueue(job)
    return True


def stored_outputs(job_id: int) -> list[Asset]:
    """Assets earlier attempts of this job already recorded (generation commits each variation
    as it arrives, so a crash or cancel can leave some)."""
    return list(db.session.scalars(select(Asset).where(Asset.job_id == job_id).order_by(Asset.id)))


def retry_amount(job: Job) -> int:
    """How much allowance a retry needs: AI jobs only the variations not yet stored."""
    if job.kind == "describe":
        from webapp.services.describe_ai import retry_amount as describe_retry_amount

        return describe_retry_amount(job)
    if job.kind != "generate":
        return 1
    wanted = int((job.input or {}).get("variations", 1))
    done = {(a.provenance or {}).get("variation") for a in stored_outputs(job.id)}
    return max(0, wanted - len(done - {None}))


def _stale_condition(now):
    cutoff = now - timedelta(seconds=int(current_app.config.get("JOB_STALE_SECONDS", 90)))
    return (
        Job.status == JobStatus.RUNNING.value,
        or_(Job.heartbeat_at < cutoff, (Job.heartbeat_at.is_(None)) & (Job.started_at < cutoff)),
    )


def mark_stale_jobs_failed(job_ids: list[int] | None = None) -> list[int]:
    """Running jobs whose heartbeat stopped belong to a dead worker: mark them failed.

    The heartbeat is written by a thread beside every running job, so a silent row means the
    process is gone (SIGKILL, out of memory, a deploy). The row then offers Retry.
    """
    now = utcnow()
    cond = _stale_condition(now)
    query = select(Job.id).where(*cond)
    if job_ids is not None:
        query = query.where(Job.id.in_(job_ids))
    ids = list(db.session.scalars(query))
    if not ids:
        return []
    db.session.execute(
        update(Job)
        .where(Job.id.in_(ids), *cond)
        .values(status=JobStatus.FAILED.value, error=STALE_MESSAGE, stage="Worker lost", finished_at=now)
    )
    db.session.commit()
    for job_id in ids:
        limits.settle_job(job_id)
    log.warning("marked %d stale job(s) failed: %s", len(ids), ids)
    return ids


def requeue_lost_jobs() -> list[int]:
    """Queued async jobs whose RQ entry vanished (Redis restarted without persistence) are
    enqueued again. Safe: the runner only claims a row that is still queued."""
    conn = get_redis()
    if conn is None:
        return []
    cutoff = utcnow() - timedelta(seconds=int(current_app.config.get("JOB_STALE_SECONDS", 90)))
    candidates = list(
        db.session.scalars(
            select(Job).where(
                Job.status == JobStatus.QUEUED.value,
                Job.mode == JobMode.ASYNC.value,
                Job.created_at < cutoff,
            )
        )
    )
    from rq.job import Job as RQJob

    requeued = []
    for job in candidates:
        try:
            if job.rq_id and RQJob.exists(job.rq_id, connection=conn):
                continue
        except redis_down():
            return requeued
        enqueue(job)
        requeued.append(job.id)
    return requeued


def sweep() -> dict[str, list[int]]:
    """One pass of housekeeping, run by the worker on a timer and by `flask jobs sweep`."""
    from webapp.services.bulk import sweep as bulk_sweep

    interrupted = recover_in_process_jobs(resume=False)
    return {
        "failed_stale": mark_stale_jobs_failed(),
        "failed_interrupted": interrupted["failed_interrupted"],
        "resumed_in_process": interrupted["resumed"],
        "requeued": requeue_lost_jobs(),
        "reservations_settled": limits.settle_finished(),
        **bulk_sweep(),
    }


def outputs_of(job: Job) -> list[Asset]:
    """The job's output assets, in the order the job recorded them. A cancelled or failed job
    shows the output it finished (and paid for) before it stopped (`result.kept`)."""
    result = job.result or {}
    ids = result.get("asset_ids") or []
    shown = job.status == JobStatus.SUCCEEDED.value or (
        job.status in (JobStatus.CANCELLED.value, JobStatus.FAILED.value) and result.get("kept")
    )
    if not shown or not ids:
        return []
    found = {a.id: a for a in db.session.scalars(select(Asset).where(Asset.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def job_view(job: Job) -> dict[str, Any]:
    """Everything the job partial renders: the job (stale check done), its source and outputs."""
    refresh_if_stale(job)
    source_id = (job.input or {}).get("asset_id")
    source = db.session.get(Asset, source_id) if source_id else None
    waiting = (
        job.status == JobStatus.QUEUED.value
        and job.mode == JobMode.ASYNC.value
        and (utcnow() - job.created_at).total_seconds() > 20
    )
    return {"job": job, "source": source, "outputs": outputs_of(job), "waiting_long": waiting}


def refresh_if_stale(job: Job) -> Job:
    """Cheap check used when a job is displayed, so a dead worker shows up without waiting for
    the sweeper."""
    if job.status == JobStatus.RUNNING.value and mark_stale_jobs_failed([job.id]):
        db.session.refresh(job)
    if job.mode == JobMode.SYNC.value and not job.is_final and inprocess.owner_alive(job.worker) is False:
        recover_in_process_jobs([job.id])
        db.session.refresh(job)
    return job
