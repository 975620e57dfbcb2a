"""TaskHooks for a still generated through a provider task (Runway): the job row remembers the task.

The task id is committed on ``Job.provider_task_id`` — as ``v<variation>:<task id>``, since a generate
job draws its variations one after another — right after the create and before the first poll. A
retried attempt (the worker was killed, the sweeper re-queued the job) finds it and resumes polling
the same task instead of creating and paying for a second one. Stored variations are reused by the
generate job before any of this, so a finished variation's id is never resumed for another. The id is
cleared once the variation's image is recorded.

Money: the attempt that created the task reserved its price before the create; a resuming attempt
takes that reservation over instead of reserving again. Once the ledger row is written the id gets a
``:paid`` suffix in the same transaction, so an attempt killed between the ledger and the stored image
is resumed for its image only — never recorded (or billed) twice.
"""

from __future__ import annotations

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Job, JobStatus
from webapp.providers.media import TaskHooks


def _tag(index: int) -> str:
    return f"v{index}:"


PAID = ":paid"


def hooks_for(ctx, index: int, start: float = 5.0, span: float = 85.0) -> tuple[TaskHooks | None, bool]:
    """Hooks for variation ``index`` of a JobContext's job (None outside a job: bulk items), and
    whether the task being resumed is already in the ledger. Progress maps 0..1 into
    [start, start + span] percent of the job's bar."""
    if getattr(ctx, "attempt", None) is None or not ctx.job_id:
        return None, False
    job_id = ctx.job_id
    stored = db.session.scalar(select(Job.provider_task_id).where(Job.id == job_id))
    resume = stored[len(_tag(index)) :] if stored and stored.startswith(_tag(index)) else None
    paid = bool(resume and resume.endswith(PAID))
    if resume and paid:
        resume = resume[: -len(PAID)]

    def save(task_id: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(
                update(Job).where(*ctx._mine()).values(provider_task_id=f"{_tag(index)}{task_id}"[:128])
            )

    def progress(fraction: float, stage: str) -> None:
        import contextlib

        from webapp.jobs.runner import JobCancelled

        # A cancel is noticed by ``cancelled`` (which also stops the provider's task); here only record.
        with contextlib.suppress(JobCancelled):
            ctx.progress(start + span * max(0.0, min(1.0, fraction)), stage)

    def cancelled() -> bool:
        with db.engine.connect() as conn:
            status = conn.execute(select(Job.status).where(Job.id == job_id)).scalar()
        return status != JobStatus.RUNNING.value

    hooks = TaskHooks(resume_task_id=resume, save_task_id=save, progress=progress, cancelled=cancelled)
    return hooks, paid


def mark_paid(ctx, index: int, task_id: str) -> None:
    """Flag the task as recorded in the ledger; NOT committed: the ledger row's commit carries it."""
    if getattr(ctx, "attempt", None) is None or not ctx.job_id:
        return
    db.session.execute(
        update(Job).where(Job.id == ctx.job_id).values(provider_task_id=f"{_tag(index)}{task_id}{PAID}"[:128])
    )


def pending(ctx, index: int) -> bool:
    """True while variation ``index`` has a task stored that is not yet in the ledger (resumable)."""
    if getattr(ctx, "attempt", None) is None or not ctx.job_id:
        return False
    stored = db.session.scalar(select(Job.provider_task_id).where(Job.id == ctx.job_id))
    return bool(stored and stored.startswith(_tag(index)) and not stored.endswith(PAID))


def clear(ctx) -> None:
    """Forget the task once its image is recorded (the next variation creates its own)."""
    if getattr(ctx, "attempt", None) is None or not ctx.job_id:
        return
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == ctx.job_id).values(provider_task_id=None))
