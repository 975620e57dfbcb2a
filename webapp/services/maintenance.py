"""Periodic housekeeping, run by the clock process (`python clock.py`) or `flask maintenance run`.

Each task is idempotent and bounded, so running it twice, or on two machines at once, is safe.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import Asset, BulkBatch, Job, StorageTombstone, utcnow
from webapp.storage import get_storage

log = logging.getLogger(__name__)

ORPHAN_MIN_AGE = timedelta(days=1)
BULK_EXPIRY = timedelta(days=14)


def sweep_jobs() -> dict:
    """Jobs of dead workers -> failed; jobs lost from Redis -> re-enqueued; stalled bulk batches."""
    from webapp.services.jobs import sweep

    return sweep()


def purge_tombstones() -> int:
    from webapp.services.library import purge_tombstones as purge

    return purge()


def orphaned_objects(dry_run: bool = False, limit: int = 10_000) -> list[str]:
    """Stored objects no asset refers to (e.g. a worker died between writing bytes and committing
    the row) are removed once they are a day old — young ones may belong to a job in flight."""
    store = get_storage()
    referenced = set(db.session.scalars(select(Asset.storage_key)))
    referenced |= {k for k in db.session.scalars(select(Asset.thumb_key)) if k}
    pending = set(db.session.scalars(select(StorageTombstone.storage_key)))
    cutoff = (utcnow() - ORPHAN_MIN_AGE).timestamp()
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
    if removed:
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


def expire_bulk_batches() -> list[int]:
    """Finished or cancelled batches nobody closed in two weeks: publish nothing, discard the
    unselected, unpublished images (the producer had the e-mail and the notice)."""
    from webapp.services.bulk import close

    cutoff = utcnow() - BULK_EXPIRY
    batches = db.session.scalars(
        select(BulkBatch).where(
            BulkBatch.status.in_(("finished", "cancelled")),
            or_(
                BulkBatch.finished_at < cutoff,
                BulkBatch.finished_at.is_(None) & (BulkBatch.created_at < cutoff),
            ),
        )
    ).all()
    for batch in batches:
        close(batch)
    return [b.id for b in batches]


def reconcile_reservations() -> int:
    """A worker killed between reserving and settling leaves money reserved. When no paid work is
    in flight, every reservation is stale: release them (the spent column is untouched)."""
    from sqlalchemy import func, update

    from webapp.models import BulkItem, ProviderSpend

    busy = db.session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.kind == "generate", Job.status.in_(("queued", "running")))
    ) or db.session.scalar(select(func.count()).select_from(BulkItem).where(BulkItem.status == "running"))
    if busy:
        return 0
    rows = db.session.execute(
        update(ProviderSpend).where(ProviderSpend.reserved != 0).values(reserved=0)
    ).rowcount
    db.session.commit()
    return rows


TASKS = {
    "sweep-jobs": (60, sweep_jobs),
    "purge-tombstones": (300, purge_tombstones),
    "orphaned-objects": (86_400, orphaned_objects),
    "expire-bulk": (3_600, expire_bulk_batches),
    "reconcile-reservations": (600, reconcile_reservations),
}


def run(name: str):
    _interval, fn = TASKS[name]
    result = fn()
    db.session.commit()
    return result
