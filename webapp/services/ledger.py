"""The usage ledger: one row per provider call, priced with `services.pricing.estimate`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select

from webapp import metrics
from webapp.extensions import db
from webapp.models import UsageEvent, User
from webapp.services.pricing import TIERS, tier_of

MEDIA_OF_OPERATION = {"video": "video", "voice": "audio"}  # everything else made stills


def media_of(operation: str | None) -> str:
    """The media type a ledger row paid for: image, video or audio (from its operation)."""
    return MEDIA_OF_OPERATION.get(operation or "", "image")


def tier_of_event(event: UsageEvent) -> str:
    """The tier recorded on a ledger row, else the provider's default tier."""
    return event.tier or TIERS.get(event.provider, "premium")


def record(
    user_id: int | None,
    route: Any,
    operation: str,
    size: str,
    quality: str,
    images: int,
    cost: Decimal,
    job_id: int | None,
    outcome: str,
    detail: str | None,
) -> UsageEvent:
    event = UsageEvent(
        user_id=user_id,
        provider=route.provider_name,
        model=route.model,
        operation=operation,
        size=size,
        quality=quality,
        images=images,
        cost=cost,
        key_owner=route.key_owner,
        job_id=job_id,
        outcome=outcome,
        detail=(detail or None) and detail[:300],
        tier=tier_of(getattr(route, "provider_row", None), route.provider_name),
    )
    db.session.add(event)
    db.session.commit()
    metrics.provider_call(route.provider_name, outcome, cost)
    return event


def daily(start: datetime, end: datetime, provider: str | None = None) -> list[dict[str, Any]]:
    """Spend and images per provider per day (one query)."""
    day = func.date(UsageEvent.created_at)
    q = (
        select(
            day.label("day"),
            UsageEvent.provider,
            func.sum(UsageEvent.cost),
            func.sum(UsageEvent.images),
            func.sum(case((UsageEvent.key_owner == "user", UsageEvent.cost), else_=0)),
        )
        .where(UsageEvent.created_at >= start, UsageEvent.created_at < end)
        .group_by(day, UsageEvent.provider)
        .order_by(day)
    )
    if provider:
        q = q.where(UsageEvent.provider == provider)
    return [
        {
            "day": str(d),
            "provider": p,
            "cost": Decimal(c or 0),
            "images": int(i or 0),
            "own_key_cost": Decimal(o or 0),
        }
        for d, p, c, i, o in db.session.execute(q).all()
    ]


def totals(start: datetime, end: datetime, user_id: int | None = None) -> dict[str, Any]:
    q = select(
        UsageEvent.provider,
        UsageEvent.key_owner,
        func.sum(UsageEvent.cost),
        func.sum(UsageEvent.images),
        func.count(),
        UsageEvent.tier,
        UsageEvent.operation,
    ).where(UsageEvent.created_at >= start, UsageEvent.created_at < end)
    if user_id is not None:
        q = q.where(UsageEvent.user_id == user_id)
    rows = db.session.execute(
        q.group_by(UsageEvent.provider, UsageEvent.key_owner, UsageEvent.tier, UsageEvent.operation)
    ).all()
    out: dict[str, Any] = {
        "by_tier": {},
        "by_media": {},
        "by_provider": {},
        "platform": Decimal(0),
        "own_key": Decimal(0),
        "images": 0,
        "requests": 0,
    }
    for provider, owner, cost, images, count, tier, operation in rows:
        by_media = out["by_media"].setdefault(
            media_of(operation), {"cost": Decimal(0), "items": 0, "requests": 0}
        )
        by_media["cost"] += Decimal(cost or 0)
        by_media["items"] += int(images or 0)
        by_media["requests"] += int(count)
        tier = tier or TIERS.get(provider, "premium")
        by_tier = out["by_tier"].setdefault(tier, {"cost": Decimal(0), "images": 0, "requests": 0})
        by_tier["cost"] += Decimal(cost or 0)
        by_tier["images"] += int(images or 0)
        by_tier["requests"] += int(count)
        entry = out["by_provider"].setdefault(
            provider,
            {
                "cost": Decimal(0),
                "images": 0,
                "requests": 0,
                "platform": Decimal(0),
                "own_key": Decimal(0),
            },
        )
        entry["cost"] += Decimal(cost or 0)
        entry["platform" if owner == "platform" else "own_key"] += Decimal(cost or 0)
        entry["images"] += int(images or 0)
        entry["requests"] += int(count)
        out["platform" if owner == "platform" else "own_key"] += Decimal(cost or 0)
        out["images"] += int(images or 0)
        out["requests"] += int(count)
    return out


def top_users(start: datetime, end: datetime, limit: int = 10) -> list[tuple[str, Decimal, int]]:
    q = (
        select(User.email, func.sum(UsageEvent.cost), func.sum(UsageEvent.images))
        .join(User, User.id == UsageEvent.user_id)
        .where(UsageEvent.created_at >= start, UsageEvent.created_at < end)
        .group_by(User.email)
        .order_by(func.sum(UsageEvent.cost).desc())
        .limit(limit)
    )
    return [(e, Decimal(c or 0), int(i or 0)) for e, c, i in db.session.execute(q).all()]


def events(start: datetime, end: datetime, limit: int | None = None):
    q = (
        select(UsageEvent, User.email)
        .outerjoin(User, User.id == UsageEvent.user_id)
        .where(UsageEvent.created_at >= start, UsageEvent.created_at < end)
        .order_by(UsageEvent.created_at)
    )
    if limit:
        q = q.limit(limit)
    return db.session.execute(q).all()


def key_usage(user_id: int, provider: str) -> tuple[int, Decimal, datetime | None]:
    """Requests, estimated cost and last use of a producer's own key for one provider."""
    row = db.session.execute(
        select(func.count(), func.sum(UsageEvent.cost), func.max(UsageEvent.created_at)).where(
            UsageEvent.user_id == user_id, UsageEvent.provider == provider, UsageEvent.key_owner == "user"
        )
    ).one()
    return int(row[0] or 0), Decimal(row[1] or 0), row[2]


def month_range(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[first instant of this UTC month, now): the window of "this month" figures."""
    now = now or datetime.now(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0), now + timedelta(seconds=1)


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """Inclusive calendar days (UTC) as the half-open datetime window the queries take."""
    return datetime.combine(first, time.min, UTC), datetime.combine(last + timedelta(days=1), time.min, UTC)


def daily_series(first: date, last: date) -> dict[str, Any]:
    """Every day in [first, last] (zeros included, so gaps show) with cost and images per provider,
    shaped for the charts: {"days": [...], "cost": {provider: [...]}, "images": [...]}."""
    start, end = day_range(first, last)
    rows = daily(start, end)
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    providers = sorted({r["provider"] for r in rows})
    cost = {p: [Decimal(0)] * len(days) for p in providers}
    images = [0] * len(days)
    for r in rows:
        i = index.get(r["day"])
        if i is None:
            continue
        cost[r["provider"]][i] += r["cost"]
        images[i] += r["images"]
    return {"days": days, "cost": cost, "images": images}
