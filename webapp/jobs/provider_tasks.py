"""TaskHooks for a still generated through a provider task (Runway): the job row remembers the task.

The task id is committed on ``Job.provider_task_id`` — as ``v<variation>:<task id>``, since a generate
job draws its variations one after another — right after the create and before the first poll. A
retried attempt (the worker was killed, the sweeper re-queued the job) finds it and resumes polling
the same task instead of creating and paying for a second one. Stored variations are reused by the
generate job before any of this, so a finished variation's id is never resumed for another. The id is
cleared once the variation's image is recorded.
"""

from __future__ import annotations

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Job, JobStatus
from webapp.providers.media import TaskHooks


def _tag(index: int) -> str:
    return f"v{index}:"


def hooks_for(ctx, index: int) -> TaskHooks | None:
    """Hooks for variation ``index`` of a JobContext's job; None outside a job (bulk items)."""
    if getattr(ctx, "attempt", None) is None or not ctx.job_id:
        return None
    job_id = ctx.job_id
    stored = db.session.scalar(select(Job.provider_task_id).where(Job.id == job_id))
    resume = stored[len(_tag(index)) :] if stored and stored.startswith(_tag(index)) else None

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
            ctx.progress(5 + 85 * max(0.0, min(1.0, fraction)), stage)

    def cancelled() -> bool:
        with db.engine.connect() as conn:
            status = conn.execute(select(Job.status).where(Job.id == job_id)).scalar()
        return status != JobStatus.RUNNING.value

    return TaskHooks(resume_task_id=resume, save_task_id=save, progress=progress, cancelled=cancelled)


def clear(ctx) -> None:
    """Forget the task once its image is recorded (the next variation creates its own)."""
    if getattr(ctx, "attempt", None) is None or not ctx.job_id:
        return
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == ctx.job_id).values(provider_task_id=None))
