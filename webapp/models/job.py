"""Background work. Postgres is the single source of truth for a job's state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class JobMode(enum.StrEnum):
    ASYNC = "async"  # enqueued on Redis, run by an RQ worker
    SYNC = "sync"  # Redis unreachable or not configured: run in the web process


class Job(db.Model):
    __tablename__ = "job"
    # A double-submitted form or a retried API call carries the same key: one job, not two.
    __table_args__ = (UniqueConstraint("owner_id", "idempotency_key", name="uq_job_owner_idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(200), default="Waiting for a worker")
    input: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    mode: Mapped[str] = mapped_column(String(8), default=JobMode.ASYNC.value)
    queue: Mapped[str] = mapped_column(String(64), default="default")
    rq_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_batch.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # The provider task (Runway) this job's current call waits on, committed before the first poll so
    # a retried attempt resumes it instead of paying for a second one.
    provider_task_id: Mapped[str | None] = mapped_column(String(128), nullable=True)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def can_cancel(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def can_retry(self) -> bool:
        return self.status in (JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status} {self.progress}%>"


class JobBatch(db.Model):
    """Jobs started together (several files uploaded at once): one progress view, one ZIP."""

    __tablename__ = "job_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReservationState(enum.StrEnum):
    RESERVED = "reserved"  # work accepted, not finished: counts against the allowance
    USED = "used"  # work finished and drew `amount`
    RELEASED = "released"  # work failed, was cancelled or drew nothing: counts for nothing


class AllowanceReservation(db.Model):
    """One claim on a producer's hourly allowance, taken when work is accepted.

    Counting reservations (not finished work) is what makes the allowance hold when twenty
    requests arrive at once: each is inserted under a lock on the producer's row, after counting
    what is already reserved or used in the last hour. Settled when the job ends."""

    __tablename__ = "allowance_reservation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default=ReservationState.RESERVED.value, index=True)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("job.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
