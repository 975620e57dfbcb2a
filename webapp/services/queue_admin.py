"""What an operator sees and steers on /admin/queues, read from RQ's own registries.

Why not mount `rq-dashboard`: it is a separate Flask app with its own routes, templates and inline
scripts. It would need our CSP loosened, our admin and two-factor gates re-implemented around it,
and its actions (requeue, delete) would bypass our job rows — a requeued RQ job whose row says
"failed" is skipped by our runner, so the button would silently do nothing. Reading the registries
here is ~150 lines, shows each RQ job next to the job row it belongs to, and sends retry and cancel
through the same actions a producer's button uses (allowance, audit), so the two cannot disagree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Job, User

if TYPE_CHECKING:  # rq and redis load when the dashboard is used, not at start-up
    from rq import Queue
    from rq.job import Job as RQJob

log = logging.getLogger(__name__)

REGISTRY_LIMIT = 50  # rows shown per registry; the counts are exact


@dataclass
class Entry:
    """One RQ job, with the job row (and owner) it runs, when it has one."""

    rq_id: str
    queue: str
    description: str
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    error: str | None
    row: Job | None = None
    owner: str | None = None


@dataclass
class QueueView:
    name: str  # purpose: images, ai, default
    depth: int
    oldest_age_s: float | None
    counts: dict[str, int] = field(default_factory=dict)  # registry -> count


@dataclass
class WorkerView:
    name: str
    state: str
    queues: list[str]
    current: Entry | None
    heartbeat_age_s: float | None


@dataclass
class Snapshot:
    available: bool
    reason: str = ""
    queues: list[QueueView] = field(default_factory=list)
    workers: list[WorkerView] = field(default_factory=list)
    lists: dict[str, list[Entry]] = field(default_factory=dict)  # queued/running/scheduled/failed


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _age(value: datetime | None) -> float | None:
    value = _aware(value)
    return max(0.0, (_now() - value).total_seconds()) if value else None


def _queues(conn) -> list[tuple[str, Queue]]:
    from rq import Queue

    from webapp.services.queue import QUEUE_NAMES, queue_name

    return [(purpose, Queue(queue_name(purpose), connection=conn)) for purpose in QUEUE_NAMES]


def _error_of(job: RQJob) -> str | None:
    try:
        text = job.exc_info or ""
    except Exception:
        return None
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else None


def _entries(conn, purpose: str, ids: list[str]) -> list[Entry]:
    from rq.job import Job as RQJob

    jobs = [j for j in RQJob.fetch_many(ids, connection=conn) if j is not None]
    out = [
        Entry(
            rq_id=j.id,
            queue=purpose,
            description=j.description or j.func_name or "",
            enqueued_at=_aware(j.enqueued_at),
            started_at=_aware(j.started_at),
            ended_at=_aware(j.ended_at),
            error=_error_of(j) if j.is_failed else None,
        )
        for j in jobs
    ]
    _attach_rows(out)
    return out


def _attach_rows(entries: list[Entry]) -> None:
    """Match RQ jobs to job rows by the RQ id the row keeps (`Job.rq_id`)."""
    ids = [e.rq_id for e in entries]
    if not ids:
        return
    rows = db.session.execute(
        select(Job, User.email).join(User, User.id == Job.owner_id).where(Job.rq_id.in_(ids))
    )
    by_rq = {job.rq_id: (job, email) for job, email in rows}
    for entry in entries:
        if entry.rq_id in by_rq:
            entry.row, entry.owner = by_rq[entry.rq_id]


def snapshot() -> Snapshot:
    """Queues (depth, oldest waiting job), workers (current job, heartbeat) and the four lists."""
    from rq import Worker
    from rq.job import Job as RQJob

    from webapp.services.queue import REDIS_DOWN, get_redis, queue_name

    conn = get_redis()
    if conn is None:
        return Snapshot(
            False, "No job queue is configured (REDIS_URL is not set): jobs run inside the web process."
        )
    try:
        conn.ping()
    except REDIS_DOWN as exc:
        return Snapshot(False, f"The job queue (Redis) is not answering ({type(exc).__name__}).")
    snap = Snapshot(True)
    lists: dict[str, list[Entry]] = {"queued": [], "running": [], "scheduled": [], "failed": []}
    for purpose, queue in _queues(conn):
        registries = {
            "running": queue.started_job_registry,
            "scheduled": queue.scheduled_job_registry,
            "failed": queue.failed_job_registry,
        }
        waiting = queue.get_job_ids(0, REGISTRY_LIMIT - 1)
        view = QueueView(purpose, queue.count, None, {"queued": queue.count})
        if waiting:
            first = RQJob.fetch_many(waiting[:1], connection=conn)[0]
            view.oldest_age_s = _age(first.enqueued_at) if first is not None else None
        lists["queued"] += _entries(conn, purpose, waiting)
        for name, registry in registries.items():
            view.counts[name] = registry.count
            lists[name] += _entries(conn, purpose, registry.get_job_ids(0, REGISTRY_LIMIT - 1))
        snap.queues.append(view)
    prefix = queue_name("")
    for worker in Worker.all(connection=conn):
        names = [q.name for q in worker.queues]
        if not any(n.startswith(prefix) for n in names):
            continue  # another deployment's (or test run's) worker on the same Redis
        current = worker.get_current_job()
        entry = None
        if current is not None:
            entry = Entry(
                current.id, "", current.description or "", None, _aware(current.started_at), None, None
            )
            _attach_rows([entry])
        snap.workers.append(
            WorkerView(
                worker.name,
                str(worker.get_state()),
                [n.removeprefix(prefix) for n in names],
                entry,
                _age(worker.last_heartbeat),
            )
        )
    snap.lists = lists
    db.session.rollback()  # read-only: end the transaction the row lookups opened
    return snap


def find(rq_id: str) -> tuple[str, RQJob] | None:
    """The RQ job with this id if it belongs to one of this deployment's queues."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RQJob

    from webapp.services.queue import get_redis

    conn = get_redis()
    if conn is None or not rq_id or len(rq_id) > 200:
        return None
    try:
        job = RQJob.fetch(rq_id, connection=conn)
    except NoSuchJobError:
        return None
    for purpose, queue in _queues(conn):
        if job.origin == queue.name:
            return purpose, job
    return None


def row_for(rq_id: str) -> Job | None:
    return db.session.scalar(select(Job).where(Job.rq_id == rq_id))


def failed_ids() -> list[str]:
    from webapp.services.queue import get_redis

    conn = get_redis()
    if conn is None:
        return []
    ids: list[str] = []
    for _purpose, queue in _queues(conn):
        ids += queue.failed_job_registry.get_job_ids()
    return ids


def requeue_orphan(rq_id: str) -> bool:
    """Requeue a failed RQ job that no job row owns (a bulk pump, say) on its own queue."""
    found = find(rq_id)
    if found is None:
        return False
    from rq import Queue

    from webapp.services.queue import get_redis

    _purpose, job = found
    queue = Queue(job.origin, connection=get_redis())
    try:
        queue.failed_job_registry.requeue(job)
    except Exception as exc:  # not in the failed registry (any more)
        log.info("could not requeue %s: %s", rq_id, exc)
        return False
    return True


def delete(rq_id: str) -> dict[str, Any] | None:
    """Remove the RQ job from its queue and registries. The row (if any) is not touched here:
    the caller cancels it first, so no row is left 'queued' for a job that no longer exists."""
    found = find(rq_id)
    if found is None:
        return None
    purpose, job = found
    info = {"rq_id": rq_id, "queue": purpose, "description": job.description or ""}
    job.delete()
    return info
