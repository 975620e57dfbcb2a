"""Per-user hourly allowances for platform-paid work (auto-format, AI images, palettes).

An allowance is a set of **reservations** (`AllowanceReservation`), not a count of finished work:
a reservation is taken, atomically, when work is accepted (so queued work counts), and settled
when the work ends — `used` with what it actually drew when it succeeds (or, for AI, drew paid
images before failing or being cancelled), `released` when it drew nothing. Taking one locks the
producer's row first, so two requests racing for the last slot are serialised and one wins.
The number in Settings, the refusal and the reset time all come from the same rows.

Work on a producer's own key and free offline work take no reservation; admins (who run the
platform and the CLI) are not limited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import AllowanceReservation, Job, JobStatus, ReservationState, UsageEvent, User, utcnow

KINDS = {
    "autoformat": ("LIMIT_AUTOFORMAT_PER_HOUR", 10, "auto-format jobs"),
    "ai": ("LIMIT_AI_PER_HOUR", 5, "AI images"),
    "palette": ("LIMIT_PALETTE_PER_HOUR", 20, "palette extractions"),
    "media": ("LIMIT_MEDIA_PER_HOUR", 10, "video and voice clips"),
    "describe": ("LIMIT_DESCRIBE_PER_HOUR", 30, "AI image descriptions"),
    "moderation": ("LIMIT_MODERATION_PER_HOUR", 200, "moderation checks"),
}

# What the producer can do about each refusal.
REMEDY = {
    "autoformat": "Wait until then; jobs that fail or are cancelled do not count.",
    "ai": "Or add your own provider key in Settings (own-key and free offline images do not count).",
    "palette": "Wait until then; extractions that fail do not count.",
    "media": "Wait until then; clips and voice promos that fail or are cancelled do not count.",
    "describe": "Or add your own provider key in Settings; the offline words stay until then.",
    "moderation": "Wait until then to publish more images, or ask an admin to raise the limit.",
}


class LimitReached(Exception):
    def __init__(self, allowance: Allowance) -> None:
        self.allowance = allowance
        self.message = allowance.refusal()
        super().__init__(self.message)


@dataclass(frozen=True)
class Allowance:
    kind: str
    limit: int | None  # None: not limited
    used: int
    resets_at: datetime | None

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def minutes_to_reset(self) -> int:
        if self.resets_at is None:
            return 0
        return max(1, int((self.resets_at - utcnow()).total_seconds() // 60) + 1)

    def describe(self) -> str:
        label = KINDS[self.kind][2]
        if self.limit is None:
            return f"No hourly limit on {label} for your account."
        text = f"{self.remaining} of {self.limit} {label} left this hour"
        if self.used and self.resets_at:
            text += f"; the next one frees up in {self.minutes_to_reset} min"
        return text + "."

    def refusal(self) -> str:
        label = KINDS[self.kind][2]
        return (
            f"You have used your {self.limit} {label} for this hour (queued and running work counts). "
            f"The next one frees up in {self.minutes_to_reset} min. {REMEDY[self.kind]}"
        )


def limit_for(kind: str, user: User, override: int | None = None) -> int | None:
    if user.is_admin:
        return None
    key, default, _ = KINDS[kind]
    return override if override is not None else int(current_app.config.get(key, default))


def _counted(kind: str, user_id: int, since: datetime):
    return (
        AllowanceReservation.user_id == user_id,
        AllowanceReservation.kind == kind,
        AllowanceReservation.created_at >= since,
        AllowanceReservation.state.in_([ReservationState.RESERVED.value, ReservationState.USED.value]),
        AllowanceReservation.amount > 0,
    )


def allowance(kind: str, user: User, override: int | None = None) -> Allowance:
    """How much of the hourly allowance is left (queued and running work included), and when
    the oldest counted reservation leaves the window."""
    limit = limit_for(kind, user, override)
    since = utcnow() - timedelta(hours=1)
    used, oldest = db.session.execute(
        select(
            func.coalesce(func.sum(AllowanceReservation.amount), 0), func.min(AllowanceReservation.created_at)
        ).where(*_counted(kind, user.id, since))
    ).one()
    resets = oldest + timedelta(hours=1) if oldest else None
    return Allowance(kind, limit, int(used or 0), resets)


def check(kind: str, user: User, amount: int = 1, override: int | None = None) -> Allowance:
    """Raise LimitReached if `amount` more would pass the limit (a look, not a claim: quotes)."""
    current = allowance(kind, user, override)
    if current.limit is not None and current.used + amount > current.limit:
        raise LimitReached(current)
    return current


def _lock_user(user_id: int) -> None:
    """Serialise allowance claims of one producer: a row lock on Postgres; on SQLite the dummy
    write takes the database's write lock, which serialises the same way."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    else:
        db.session.execute(update(User).where(User.id == user_id).values(id=User.id))


def reserve(kind: str, user: User, amount: int, override: int | None = None) -> AllowanceReservation | None:
    """Claim `amount` of the allowance inside the caller's transaction (it commits together with
    the job it is for), or raise LimitReached. None when this producer is not limited."""
    limit = limit_for(kind, user, override)
    if limit is None or amount <= 0:
        return None
    _lock_user(user.id)
    current = allowance(kind, user, override)
    if current.used + amount > limit:
        db.session.rollback()  # let go of the lock at once
        raise LimitReached(current)
    row = AllowanceReservation(
        user_id=user.id, kind=kind, amount=amount, state=ReservationState.RESERVED.value
    )
    db.session.add(row)
    return row


def take_used(kind: str, user: User, amount: int) -> None:
    """Count `amount` of an allowance for work done at once, outside any job (a moderation check
    before publishing): the same lock and count as `reserve`, recorded as already used, committed.
    Raises LimitReached when it would pass the limit."""
    limit = limit_for(kind, user)
    if limit is None or amount <= 0:
        return
    _lock_user(user.id)
    current = allowance(kind, user)
    if current.used + amount > limit:
        db.session.rollback()
        raise LimitReached(current)
    db.session.add(
        AllowanceReservation(
            user_id=user.id, kind=kind, amount=amount, state=ReservationState.USED.value, settled_at=utcnow()
        )
    )
    db.session.commit()


def _drawn(job: Job, row: AllowanceReservation) -> int:
    """What the work behind a reservation actually drew."""
    if row.kind == "ai":
        drawn = db.session.scalar(
            select(func.coalesce(func.sum(UsageEvent.images), 0)).where(
                UsageEvent.job_id == job.id,
                UsageEvent.key_owner == "platform",
                UsageEvent.created_at >= row.created_at,
                UsageEvent.images > 0,
                UsageEvent.cost > 0,
            )
        )
        return min(int(drawn or 0), row.amount)  # a job draws at most the variations it reserved
    if row.kind == "describe":  # images actually sent to a paid model on the platform key
        paid = db.session.scalar(
            select(func.count()).where(
                UsageEvent.job_id == job.id,
                UsageEvent.key_owner == "platform",
                UsageEvent.operation == "describe",
                UsageEvent.created_at >= row.created_at,
                UsageEvent.cost > 0,
            )
        )
        return min(int(paid or 0), row.amount)
    return row.amount if job.status == JobStatus.SUCCEEDED.value else 0


def settle_job(job_id: int) -> None:
    """Settle the job's open reservations once it is final. Idempotent: each row is settled by a
    conditional UPDATE, so the runner, the canceller and the sweeper can all call it."""
    job = db.session.get(Job, job_id)
    if job is None or job.status not in (
        JobStatus.SUCCEEDED.value,
        JobStatus.FAILED.value,
        JobStatus.CANCELLED.value,
    ):
        return
    rows = list(
        db.session.scalars(
            select(AllowanceReservation).where(
                AllowanceReservation.job_id == job_id,
                AllowanceReservation.state == ReservationState.RESERVED.value,
            )
        )
    )
    for row in rows:
        used = _drawn(job, row)
        db.session.execute(
            update(AllowanceReservation)
            .where(
                AllowanceReservation.id == row.id,
                AllowanceReservation.state == ReservationState.RESERVED.value,
            )
            .values(
                state=ReservationState.USED.value if used else ReservationState.RELEASED.value,
                amount=used if used else row.amount,
                settled_at=utcnow(),
            )
        )
    db.session.commit()


def settle_finished() -> list[int]:
    """Safety net for the clock: reservations still open although their job is final (a worker
    died between finishing and settling) or whose job row is gone."""
    ids = list(
        db.session.scalars(
            select(AllowanceReservation.job_id)
            .join(Job, Job.id == AllowanceReservation.job_id)
            .where(
                AllowanceReservation.state == ReservationState.RESERVED.value,
                Job.status.in_(
                    [JobStatus.SUCCEEDED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value]
                ),
            )
            .distinct()
        )
    )
    for job_id in ids:
        settle_job(job_id)
    db.session.execute(
        update(AllowanceReservation)
        .where(
            AllowanceReservation.state == ReservationState.RESERVED.value,
            AllowanceReservation.job_id.is_(None),
        )
        .values(state=ReservationState.RELEASED.value, settled_at=utcnow())
    )
    db.session.commit()
    return ids
