"""Periodic housekeeping, run by the clock process (`python clock.py`) or
`flask --app webapp maintenance run TASK [--dry-run]`.

Each task is idempotent and bounded, so running it twice, or on two machines at once, is safe.
Each takes ``dry_run``: it then reports what it would do and changes nothing, so an operator can
look before a first real run (or after changing one of the ages below).

Schedule and ages (settings): failed and cancelled jobs are purged ``JOB_PURGE_HOURS`` (24) after
they ended; stored objects no row refers to are removed once ``ORPHAN_MIN_AGE_HOURS`` (24) old;
bulk batches nobody closed are closed (their unpublished drafts discarded) ``BULK_EXPIRY_DAYS``
(14) after they finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from webapp.extensions import db
from webapp.models import (
    AllowanceReservation,
    Asset,
    BulkBatch,
    Job,
    JobStatus,
    StorageTombstone,
    UsageEvent,
    utcnow,
)
from webapp.storage import get_storage

log = logging.getLogger(__name__)


def _hours(name: str, default: int) -> timedelta:
    return timedelta(hours=int(current_app.config.get(name, default) or default))


def sweep_jobs(dry_run: bool = False) -> dict:
    """Jobs of dead workers -> failed; jobs lost from Redis -> re-enqueued; stalled bulk batches."""
    from webapp.services.jobs import _stale_condition, sweep

    if dry_run:
        stale = list(db.session.scalars(select(Job.id).where(*_stale_condition(utcnow()))))
        return {"would_fail_stale": stale}
    return sweep()


def purge_tombstones(dry_run: bool = False) -> int | list[str]:
    """Delete the bytes of assets whose rows are already gone (deletes commit rows first)."""
    from webapp.services.library import purge_tombstones as purge

    if dry_run:
        return list(db.session.scalars(select(StorageTombstone.storage_key).limit(500)))
    return purge()


def orphaned_objects(dry_run: bool = False, limit: int = 10_000) -> list[str]:
    """Stored objects no asset refers to (e.g. a worker died between writing bytes and committing
    the row) are removed once they are ORPHAN_MIN_AGE_HOURS old — young ones may belong to a job
    in flight."""
    store = get_storage()
    referenced = set(db.session.scalars(select(Asset.storage_key)))
    referenced |= {k for k in db.session.scalars(select(Asset.thumb_key)) if k}
    pending = set(db.session.scalars(select(StorageTombstone.storage_key)))
    cutoff = (utcnow() - _hours("ORPHAN_MIN_AGE_HOURS", 24)).timestamp()
    removed: list[str] = []
    for key in store.list_keys(""):
        if key in referenced or key in pending:
            continue
        modified = _modified(store, key)
        if modified is not None and modified > cutoff:
            continue
        removed.append(key)
        if not dry_run:
            store.delete(key)
        if len(removed) >= limit:
            break
    if removed and not dry_run:
        log.warning("removed %d orphaned storage objects", len(removed))
    return removed


def _modified(store, key: str) -> float | None:
    path_fn = getattr(store, "local_path", None)
    if path_fn is not None:
        try:
            return path_fn(key).stat().st_mtime
        except OSError:
            return None
    try:
        head = store._client.head_object(Bucket=store.bucket, Key=store._key(key))
        return head["LastModified"].timestamp()
    except Exception:
        return None


def purge_failed_jobs(dry_run: bool = False, limit: int = 1_000) -> list[int]:
    """Failed and cancelled job rows JOB_PURGE_HOURS after they ended, with their leftovers in
    RQ (the failed-registry entry and the job hash). What the job made stays: images it kept
    are the producer's library; ledger and allowance rows keep their figures (their job link is
    cleared). Files a failing attempt wrote were already removed by the attempt itself; a killed
    worker's files are the orphaned-objects task's."""
    cutoff = utcnow() - _hours("JOB_PURGE_HOURS", 24)
    final = (JobStatus.FAILED.value, JobStatus.CANCELLED.value)
    rows = db.session.execute(
        select(Job.id, Job.rq_id)
        .where(
            Job.status.in_(final),
            or_(Job.finished_at < cutoff, Job.finished_at.is_(None) & (Job.created_at < cutoff)),
        )
        .order_by(Job.id)
        .limit(limit)
    ).all()
    ids = [r.id for r in rows]
    if dry_run or not ids:
        return ids
    for model in (Asset, UsageEvent, AllowanceReservation):
        db.session.execute(update(model).where(model.job_id.in_(ids)).values(job_id=None))
    # Only rows still final: one retried meanwhile is queued again and stays.
    db.session.execute(delete(Job).where(Job.id.in_(ids), Job.status.in_(final)))
    db.session.commit()
    _drop_rq_jobs([r.rq_id for r in rows if r.rq_id])
    log.info("purged %d failed/cancelled job(s)", len(ids))
    return ids


def _drop_rq_jobs(rq_ids: list[str]) -> None:
    from rq.job import Job as RQJob

    from webapp.services.queue import REDIS_DOWN, get_redis

    conn = get_redis()
    if conn is None:
        return
    for rq_id in rq_ids:
        try:
            RQJob.fetch(rq_id, connection=conn).delete()
        except REDIS_DOWN:
            return
        except Exception as exc:  # already expired from Redis
            log.debug("rq job %s already gone: %s", rq_id, exc)


def expire_bulk_batches(dry_run: bool = False) -> list[int]:
    """Finished or cancelled batches nobody closed in BULK_EXPIRY_DAYS: publish nothing, discard
    the unselected, unpublished images (the producer had the e-mail and the notice)."""
    from webapp.services.bulk import close

    days = int(current_app.config.get("BULK_EXPIRY_DAYS", 14) or 14)
    cutoff = utcnow() - timedelta(days=days)
    batches = db.session.scalars(
        select(BulkBatch).where(
            BulkBatch.status.in_(("finished", "cancelled")),
            or_(
                BulkBatch.finished_at < cutoff,
                BulkBatch.finished_at.is_(None) & (BulkBatch.created_at < cutoff),
            ),
        )
    ).all()
    if not dry_run:
        for batch in batches:
            close(batch)
    return [b.id for b in batches]


def reconcile_reservations(dry_run: bool = False) -> int:
    """A worker killed between reserving and settling leaves money reserved. When no paid work is
    in flight, every reservation is stale: release them (the spent column is untouched)."""
    from webapp.models import BulkItem, ProviderSpend

    busy = db.session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.kind.in_(("generate", "video", "voice")), Job.status.in_(("queued", "running")))
    ) or db.session.scalar(select(func.count()).select_from(BulkItem).where(BulkItem.status == "running"))
    if busy:
        return 0
    if dry_run:
        return int(
            db.session.scalar(
                select(func.count()).select_from(ProviderSpend).where(ProviderSpend.reserved != 0)
            )
            or 0
        )
    rows = db.session.execute(
        update(ProviderSpend).where(ProviderSpend.reserved != 0).values(reserved=0)
    ).rowcount
    db.session.commit()
    return rows


# name -> (interval in seconds, task)
TASKS: dict[str, tuple[int, Callable[..., Any]]] = {
    "sweep-jobs": (60, sweep_jobs),
    "purge-tombstones": (300, purge_tombstones),
    "orphaned-objects": (86_400, orphaned_objects),
    "purge-failed-jobs": (3_600, purge_failed_jobs),
    "expire-bulk": (3_600, expire_bulk_batches),
    "reconcile-reservations": (600, reconcile_reservations),
}


def run(name: str, dry_run: bool = False) -> Any:
    """Run one task now; a dry run changes nothing (its transaction is rolled back)."""
    _interval, fn = TASKS[name]
    result = fn(dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return result
