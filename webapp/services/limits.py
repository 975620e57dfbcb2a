"""Per-user hourly allowances for platform-paid work (auto-format, AI generation, palettes).

Counted from the database (jobs and the ledger) over a sliding hour, so the number shown in the
page, the refusal and the reset time all come from the same rows. Work on a producer's own key
does not count; admins (who run the platform and the CLI) are not limited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Job, UsageEvent, User, utcnow

KINDS = {
    "autoformat": ("LIMIT_AUTOFORMAT_PER_HOUR", 10, "auto-format jobs"),
    "ai": ("LIMIT_AI_PER_HOUR", 5, "AI images"),
    "palette": ("LIMIT_PALETTE_PER_HOUR", 20, "palette extractions"),
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
            f"You have used your {self.limit} {label} for this hour. The next one frees up in "
            f"{self.minutes_to_reset} min, or add your own provider key in Settings to go past the limit."
        )


def limit_for(kind: str, user: User, override: int | None = None) -> int | None:
    if user.is_admin:
        return None
    key, default, _ = KINDS[kind]
    return override if override is not None else int(current_app.config.get(key, default))


def allowance(kind: str, user: User, override: int | None = None) -> Allowance:
    """How much of the hourly allowance is left, and when the oldest use leaves the window."""
    limit = limit_for(kind, user, override)
    since = utcnow() - timedelta(hours=1)
    if kind == "ai":
        rows = db.session.execute(
            select(UsageEvent.created_at, UsageEvent.images)
            .where(
                UsageEvent.user_id == user.id,
                UsageEvent.key_owner == "platform",
                UsageEvent.created_at >= since,
                UsageEvent.images > 0,
            )
            .order_by(UsageEvent.created_at)
        ).all()
        used = sum(r.images for r in rows)
        oldest = rows[0].created_at if rows else None
    else:
        query = select(func.count(), func.min(Job.created_at)).where(
            Job.owner_id == user.id, Job.kind == kind, Job.created_at >= since, Job.status != "cancelled"
        )
        used, oldest = db.session.execute(query).one()
    resets = oldest + timedelta(hours=1) if oldest else None
    return Allowance(kind, limit, int(used or 0), resets)


def check(kind: str, user: User, amount: int = 1, override: int | None = None) -> Allowance:
    """Raise LimitReached if `amount` more would pass the limit."""
    current = allowance(kind, user, override)
    if current.limit is not None and current.used + amount > current.limit:
        raise LimitReached(current)
    return current
