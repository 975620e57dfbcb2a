"""Running a bulk batch: the pump jobs (or an in-process drain without Redis), pause, resume and
cancel, move to top, retry and edit a failed prompt, and the sweeper that restarts stalled batches.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import BulkBatch, BulkItem, utcnow
from webapp.services import prompt_screen
from webapp.services.bulk_errors import BulkError
from webapp.services.bulk_prompts import MAX_PROMPT_CHARS, _clean
from webapp.services.queue import get_queue, redis_down

# Entry points are named, not imported: the job layer sits above the services (it imports them).
PUMP_ENTRY_POINT = "webapp.jobs.bulk.pump"


def _entry_point(dotted: str):
    from importlib import import_module

    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


def start_pumps(batch: BulkBatch, count: int | None = None) -> None:
    """Enqueue pump jobs (or, without Redis, run the whole batch here, in-process)."""
    n = count or batch.concurrency
    queue = get_queue("ai")
    if queue is not None:
        try:
            for _ in range(n):
                queue.enqueue(
                    PUMP_ENTRY_POINT,
                    batch.id,
                    job_timeout=600,
                    result_ttl=60,
                    failure_ttl=86400,
                    description=f"bulk batch {batch.id} pump",
                )
            return
        except redis_down():
            pass
    # No queue (development without Redis): drain the batch on a thread of this process, so the
    # page returns at once and shows progress like it would with workers.
    import threading

    from flask import current_app as app_proxy

    app = app_proxy._get_current_object()  # type: ignore[attr-defined]

    pump = _entry_point(PUMP_ENTRY_POINT)

    def _drain() -> None:
        with app.app_context():
            pump(batch.id, chain=False, drain=True)

    threading.Thread(target=_drain, name=f"bulk-{batch.id}", daemon=True).start()


def set_status(batch: BulkBatch, status: str) -> None:
    allowed = {
        "paused": ("running",),
        "running": ("paused",),
        "cancelled": ("running", "paused"),
    }
    if batch.status not in allowed.get(status, ()):
        raise BulkError(f"A {batch.status} batch cannot be {status.replace('running', 'resumed')}.")
    batch.status = status
    if status == "cancelled":
        db.session.execute(
            update(BulkItem)
            .where(BulkItem.batch_id == batch.id, BulkItem.status == "pending")
            .values(status="cancelled", finished_at=utcnow())
        )
        batch.finished_at = utcnow()
    db.session.commit()
    if status == "running":
        start_pumps(batch)


def move_to_top(item: BulkItem) -> None:
    """Claimed by position, so the lowest position runs next (only a waiting item can move)."""
    if item.status != "pending":
        raise BulkError("Only a prompt that is still waiting can be moved to the top.")
    lowest = db.session.scalar(select(func.min(BulkItem.position)).where(BulkItem.batch_id == item.batch_id))
    item.position = (lowest or 0) - 1
    db.session.commit()


def retry_failed(batch: BulkBatch, item_ids: list[int] | None = None) -> int:
    """Failed items go back to the queue; a finished or cancelled batch runs again for them."""
    if batch.status == "closed":
        raise BulkError("This batch is closed; start a new batch for these prompts.")
    q = update(BulkItem).where(BulkItem.batch_id == batch.id, BulkItem.status == "failed")
    if item_ids is not None:
        q = q.where(BulkItem.id.in_(item_ids))
    n = db.session.execute(q.values(status="pending", error=None, claim=None, not_before=None)).rowcount
    if n and batch.status in ("finished", "cancelled"):
        batch.status, batch.finished_at = "running", None
    db.session.commit()
    if n and batch.status == "running":
        start_pumps(batch)
    return n


def edit_prompt(item: BulkItem, prompt: str) -> None:
    prompt = _clean(prompt)
    if not prompt or len(prompt) > MAX_PROMPT_CHARS:
        raise BulkError(f"Write a prompt of 1 to {MAX_PROMPT_CHARS} characters.")
    if item.status != "failed":
        raise BulkError("Only a failed prompt can be edited.")
    prompt_screen.screen(prompt, error=BulkError)
    item.prompt = prompt
    db.session.commit()


def sweep(stale_seconds: int = 120) -> dict[str, list[int]]:
    """Return items of dead workers to the queue; restart pumps of running batches that stalled."""
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    stale = list(
        db.session.scalars(
            select(BulkItem.id).where(BulkItem.status == "running", BulkItem.heartbeat_at < cutoff)
        )
    )
    if stale:
        db.session.execute(
            update(BulkItem)
            .where(BulkItem.id.in_(stale), BulkItem.status == "running", BulkItem.heartbeat_at < cutoff)
            .values(status="pending", claim=None)
        )
        db.session.commit()
    restarted = []
    for batch in db.session.scalars(select(BulkBatch).where(BulkBatch.status == "running")).all():
        if batch.last_pump_at is None or batch.last_pump_at < cutoff:
            start_pumps(batch)
            restarted.append(batch.id)
    return {"items_reset": stale, "batches_restarted": restarted}
