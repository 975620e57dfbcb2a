"""TaskHooks for a still generated through a provider task (Runway): the row doing the work remembers it.

The task id is committed — as ``v<variation>:<task id>``, since variations are drawn one after another —
right after the create and before the first poll, on the row that owns the work: ``Job.provider_task_id``
for a generate job (and the still of a fresh clip), ``BulkItem.provider_task_id`` for a bulk item. A
retried attempt (the worker was killed, the sweeper re-queued the job or reset the item) finds it and
resumes polling the same task instead of creating and paying for a second one. Stored variations are
reused before any of this, so a finished variation's id is never resumed for another. The id is cleared
once the variation's image is recorded.

Money (`jobs.money`): the attempt that created the task reserved its price before the create; a resuming
attempt takes that reservation over instead of reserving again. Once the ledger row is written the id
gets a ``:paid`` suffix in the same transaction, so an attempt killed between the ledger and the stored
image is resumed for its image only — never recorded (or billed) twice.

A bulk item's hooks also beat its heartbeat while the task runs (a Runway clip can take minutes; the
bulk sweeper must not hand a live item to another pump), and stop the pump — without cancelling the
task — if the item was handed over anyway (`ClaimLost`): the new claimant resumes the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import BulkItem, Job, JobStatus, utcnow
from webapp.providers.media import TaskHooks

PAID = ":paid"


class ClaimLost(Exception):
    """The bulk item was handed to another pump while this one waited on its task: stop quietly."""


def _tag(index: int) -> str:
    return f"v{index}:"


@dataclass
class _Owner:
    """The row a task id lives on and the conditions under which this attempt still owns it."""

    model: Any
    row_id: int
    mine: list
    bulk: bool


def _owner(ctx) -> _Owner | None:
    if getattr(ctx, "attempt", None) is not None and ctx.job_id:
        return _Owner(Job, ctx.job_id, list(ctx._mine()), False)
    item_id, token = getattr(ctx, "item_id", None), getattr(ctx, "token", None)
    if item_id and token:
        return _Owner(BulkItem, item_id, [BulkItem.id == item_id, BulkItem.claim == token], True)
    return None


def _stored(owner: _Owner) -> str | None:
    return db.session.scalar(select(owner.model.provider_task_id).where(owner.model.id == owner.row_id))


def hooks_for(ctx, index: int, start: float = 5.0, span: float = 85.0) -> tuple[TaskHooks | None, bool]:
    """Hooks for variation ``index`` of a JobContext's job or a bulk item's context (None when the work
    has no row: then the task cannot be resumed), and whether the task being resumed is already in the
    ledger. Progress maps 0..1 into [start, start + span] percent of the job's bar."""
    owner = _owner(ctx)
    if owner is None:
        return None, False
    stored = _stored(owner)
    resume = stored[len(_tag(index)) :] if stored and stored.startswith(_tag(index)) else None
    paid = bool(resume and resume.endswith(PAID))
    if resume and paid:
        resume = resume[: -len(PAID)]

    def save(task_id: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(
                update(owner.model)
                .where(*owner.mine)
                .values(provider_task_id=f"{_tag(index)}{task_id}"[:200])
            )

    def progress(fraction: float, stage: str) -> None:
        if owner.bulk:
            with db.engine.begin() as conn:
                beat = conn.execute(
                    update(BulkItem).where(*owner.mine).values(heartbeat_at=utcnow())
                ).rowcount
            if not beat and not cancelled():
                raise ClaimLost(f"bulk item {owner.row_id} was handed to another pump")
            return
        import contextlib

        from webapp.jobs.runner import JobCancelled

        # A cancel is noticed by ``cancelled`` (which also stops the provider's task); here only record.
        with contextlib.suppress(JobCancelled):
            ctx.progress(start + span * max(0.0, min(1.0, fraction)), stage)

    def cancelled() -> bool:
        with db.engine.connect() as conn:
            status = conn.execute(select(owner.model.status).where(owner.model.id == owner.row_id)).scalar()
            if owner.bulk:
                from webapp.models import BulkBatch

                batch = conn.execute(
                    select(BulkBatch.status)
                    .join(BulkItem, BulkItem.batch_id == BulkBatch.id)
                    .where(BulkItem.id == owner.row_id)
                ).scalar()
                return status == "cancelled" or batch == "cancelled"
        return status != JobStatus.RUNNING.value

    from webapp.services.inprocess import task_wait_limit

    hooks = TaskHooks(
        resume_task_id=resume,
        save_task_id=save,
        progress=progress,
        cancelled=cancelled,
        wait_limit=task_wait_limit(),
    )
    return hooks, paid


def mark_paid(ctx, index: int, task_id: str) -> None:
    """Flag the task as recorded in the ledger; NOT committed: the ledger row's commit carries it."""
    owner = _owner(ctx)
    if owner is None:
        return
    db.session.execute(
        update(owner.model)
        .where(owner.model.id == owner.row_id)
        .values(provider_task_id=f"{_tag(index)}{task_id}{PAID}"[:200])
    )


def pending(ctx, index: int) -> bool:
    """True while variation ``index`` has a task stored that is not yet in the ledger (resumable)."""
    owner = _owner(ctx)
    if owner is None:
        return False
    stored = _stored(owner)
    return bool(stored and stored.startswith(_tag(index)) and not stored.endswith(PAID))


def clear(ctx) -> None:
    """Forget the task once its image is recorded (the next variation creates its own)."""
    owner = _owner(ctx)
    if owner is None:
        return
    with db.engine.begin() as conn:
        conn.execute(update(owner.model).where(owner.model.id == owner.row_id).values(provider_task_id=None))
