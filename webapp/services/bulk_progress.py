"""A bulk batch's progress: counts, images a minute (live and measured per provider), ETA and cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import BulkBatch, BulkImage, BulkItem, utcnow
from webapp.providers import REGISTRY


@dataclass
class Progress:
    total: int
    done: int
    failed: int
    running: int
    pending: int
    cancelled: int
    images: int
    rate_per_minute: float
    eta_minutes: float | None
    cost: Decimal

    @property
    def percent(self) -> int:
        """Share of the batch's prompts that were drawn (or failed): a batch cancelled at 94 of 500
        says 18 %, not 100 % — cancelled prompts were never drawn."""
        return int(100 * (self.done + self.failed) / self.total) if self.total else 100


def _rate(batch: BulkBatch, images: int, live: bool) -> float:
    """Images a minute. While the batch runs: over the last five minutes (what the ETA needs).
    Once it stopped: over its whole run, first start to last image — a fixed figure that does not
    keep falling as the clock moves on."""
    if live:
        since = utcnow() - timedelta(minutes=5)
        recent = db.session.scalar(
            select(func.count())
            .select_from(BulkImage)
            .where(BulkImage.batch_id == batch.id, BulkImage.created_at >= since)
        )
        started = batch.started_at or utcnow()
        window = min(5.0, max(0.25, (utcnow() - started).total_seconds() / 60))
        return recent / window if recent else 0.0
    if not images or batch.started_at is None:
        return 0.0
    last = db.session.scalar(select(func.max(BulkImage.created_at)).where(BulkImage.batch_id == batch.id))
    end = last or batch.finished_at or batch.started_at
    minutes = max(0.25, (end - batch.started_at).total_seconds() / 60)
    return images / minutes


def measured_per_minute(provider: str, days: int = 30) -> float | None:
    """Throughput this deployment actually reached with `provider` in bulk (images a minute over
    the stopped batches of the last `days`), or None before the first one. Estimates use it:
    a key's limit is a ceiling, not a speed."""
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        select(BulkBatch.started_at, func.max(BulkImage.created_at), func.count(BulkImage.id))
        .join(BulkImage, BulkImage.batch_id == BulkBatch.id)
        .where(
            BulkBatch.provider == provider,
            BulkBatch.status.in_(("finished", "cancelled", "closed")),
            BulkBatch.started_at.is_not(None),
            BulkBatch.started_at >= since,
        )
        .group_by(BulkBatch.id, BulkBatch.started_at)
    ).all()
    images = sum(n for _s, _e, n in rows if n >= 2)
    minutes = sum((e - s).total_seconds() / 60 for s, e, n in rows if n >= 2 and e and e > s)
    if images < 2 or minutes <= 0:
        return None
    return images / minutes


def progress(batch: BulkBatch) -> Progress:
    counts = dict(
        db.session.execute(
            select(BulkItem.status, func.count())
            .where(BulkItem.batch_id == batch.id)
            .group_by(BulkItem.status)
        ).all()
    )
    images = db.session.scalar(
        select(func.count()).select_from(BulkImage).where(BulkImage.batch_id == batch.id)
    )
    cost = db.session.scalar(
        select(func.coalesce(func.sum(BulkItem.cost), 0)).where(BulkItem.batch_id == batch.id)
    )
    rate = _rate(batch, int(images or 0), live=batch.status == "running" or counts.get("running", 0) > 0)
    total = sum(counts.values())
    remaining_images = sum(
        (it.variations or batch.variations)
        for it in db.session.scalars(
            select(BulkItem).where(BulkItem.batch_id == batch.id, BulkItem.status.in_(("pending", "running")))
        )
    )
    eta = round(remaining_images / rate, 1) if rate > 0 else None
    return Progress(
        total=total,
        done=counts.get("succeeded", 0),
        failed=counts.get("failed", 0),
        running=counts.get("running", 0),
        pending=counts.get("pending", 0),
        cancelled=counts.get("cancelled", 0),
        images=int(images or 0),
        rate_per_minute=round(rate, 1),
        eta_minutes=eta,
        cost=Decimal(cost or 0),
    )


def provider_label(name: str) -> str:
    return REGISTRY[name].spec.display_name if name in REGISTRY else name
