"""RQ entry point for bulk batches: a "pump" claims the next pending item, draws it, and chains.

Claiming is one conditional UPDATE (`... WHERE id = :next AND status = 'pending'`), so two pumps
never take the same item; every later write about the item is conditional on the claim token,
so an item that was reset (its worker died) or cancelled is never written twice. Rate limits are
shared by all workers through `services.ratelimit` (keyed by the API key in use); a 429 puts the
item back with a not-before time instead of failing or duplicating it.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.jobs.runner import _app, _fresh_pool_after_fork
from webapp.models import BulkBatch, BulkImage, BulkItem, User, utcnow
from webapp.storage import get_storage

log = logging.getLogger(__name__)
MAX_IDLE_WAIT = 30.0
# A pump keeps claiming items for this long before handing over to a fresh pump job. One item per
# job paid RQ's fork and the provider SDK's import (1-3 s, the SDKs are imported lazily) for every
# 2-second image; a slice amortises that and still lets other queued jobs in between slices.
PUMP_SLICE_SECONDS = 60.0


@dataclass
class ItemContext:
    """What `generate_variation` needs, for a bulk item instead of a Job."""

    owner_id: int
    label: str
    job_id: int | None = None
    item_id: int | None = None  # the BulkItem row and this pump's claim on it: a provider task's id is
    token: str | None = None  # saved there before polling (jobs.provider_tasks), so a re-claim resumes it
    stored_keys: list[str] = field(default_factory=list)
    claim: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def writer(self) -> str:
        """This claim's name in storage keys (an item re-claimed after a crash writes elsewhere)."""
        return f"{self.label}-{self.claim}"

    def discard_keys(self, keys: list[str]) -> None:
        store = get_storage()
        for key in keys:
            if key in self.stored_keys:
                self.stored_keys.remove(key)
                try:
                    store.delete(key)
                except Exception:
                    log.exception("could not remove %s", key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        get_storage().put(key, data, content_type)
        self.stored_keys.append(key)

    def discard_stored(self) -> None:
        store = get_storage()
        for key in self.stored_keys:
            try:
                store.delete(key)
            except Exception:
                log.exception("could not remove %s", key)
        self.stored_keys.clear()


def pump(batch_id: int, chain: bool = True, drain: bool = False) -> None:
    """Process one item (chain=True: then enqueue the next pump) or all of them (drain=True)."""
    app = _app()
    with app.app_context():
        _fresh_pool_after_fork()
        try:
            _pump(batch_id, chain, drain)
        finally:
            db.session.remove()


def _pump(batch_id: int, chain: bool, drain: bool) -> None:
    from flask import current_app

    from webapp.services.bulk import start_pumps

    slice_seconds = float(current_app.config.get("BULK_PUMP_SLICE_SECONDS", PUMP_SLICE_SECONDS))
    slice_ends = time.monotonic() + slice_seconds
    while True:
        batch = db.session.get(BulkBatch, batch_id)
        if batch is None or batch.status != "running":
            return
        batch.last_pump_at = utcnow()
        db.session.commit()
        claimed = claim_next(batch_id)
        if claimed is None:
            wait = _next_wait(batch_id)
            if wait is None:
                _maybe_finish(batch_id)
                return
            time.sleep(min(wait, MAX_IDLE_WAIT))
            continue
        item_id, token = claimed
        try:
            process_item(item_id, token)
        except Exception:
            log.exception("bulk item %s failed unexpectedly", item_id)
            _release(item_id, token, "failed", "Something went wrong while drawing this prompt. Retry it.")
        if drain or (chain and time.monotonic() < slice_ends):
            continue
        if chain:
            batch = db.session.get(BulkBatch, batch_id)
            if batch is not None and batch.status == "running":
                start_pumps(batch, count=1)
        return


def claim_next(batch_id: int) -> tuple[int, str] | None:
    """Atomically take the first pending item (by position) whose not-before time has passed."""
    for _ in range(5):
        now = utcnow()
        next_id = db.session.scalar(
            select(BulkItem.id)
            .where(
                BulkItem.batch_id == batch_id,
                BulkItem.status == "pending",
                (BulkItem.not_before.is_(None)) | (BulkItem.not_before <= now),
            )
            .order_by(BulkItem.position, BulkItem.id)
            .limit(1)
        )
        if next_id is None:
            db.session.commit()
            return None
        token = uuid.uuid4().hex
        rows = db.session.execute(
            update(BulkItem)
            .where(BulkItem.id == next_id, BulkItem.status == "pending")
            .values(
                status="running",
                claim=token,
                heartbeat_at=now,
                started_at=now,
                attempts=BulkItem.attempts + 1,
                error=None,
            )
        ).rowcount
        db.session.commit()
        if rows:
            return next_id, token
    return None


def _next_wait(batch_id: int) -> float | None:
    """Seconds until a backed-off item may run, 0 if other pumps still work, None if all done."""
    pending_at = db.session.scalar(
        select(func.min(BulkItem.not_before)).where(
            BulkItem.batch_id == batch_id, BulkItem.status == "pending"
        )
    )
    has_pending = db.session.scalar(
        select(func.count())
        .select_from(BulkItem)
        .where(BulkItem.batch_id == batch_id, BulkItem.status == "pending")
    )
    db.session.commit()
    if has_pending:
        if pending_at is None:
            return 0.1
        return max(0.1, (pending_at - utcnow()).total_seconds())
    return None


def _maybe_finish(batch_id: int) -> None:
    running = db.session.scalar(
        select(func.count())
        .select_from(BulkItem)
        .where(BulkItem.batch_id == batch_id, BulkItem.status == "running")
    )
    if running:
        db.session.commit()
        return
    rows = db.session.execute(
        update(BulkBatch)
        .where(BulkBatch.id == batch_id, BulkBatch.status == "running")
        .values(status="finished", finished_at=utcnow())
    ).rowcount
    db.session.commit()
    if rows:
        notify_finished(batch_id)


def notify_finished(batch_id: int) -> None:
    """E-mail the owner once (the batch page shows the same notice in the app)."""
    from webapp.mail import send_mail
    from webapp.services.bulk import progress

    claimed = db.session.execute(
        update(BulkBatch)
        .where(BulkBatch.id == batch_id, BulkBatch.notified_at.is_(None))
        .values(notified_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return
    batch = db.session.get(BulkBatch, batch_id)
    owner = db.session.get(User, batch.owner_id)
    p = progress(batch)
    send_mail(
        [owner.email],
        f"Marquee: your batch “{batch.name}” is finished",
        f"{p.done} of {p.total} prompts drew {p.images} images (${p.cost:.2f}); {p.failed} failed.\n"
        f"Choose the ones to keep and publish them to your library from the batch page.\n",
    )


def _release(item_id: int, token: str, status: str, error: str | None, not_before=None) -> None:
    values = {"status": status, "error": error, "claim": None}
    if status in ("succeeded", "failed"):
        values["finished_at"] = utcnow()
    if not_before is not None:
        values["not_before"] = not_before
    db.session.execute(
        update(BulkItem).where(BulkItem.id == item_id, BulkItem.claim == token).values(**values)
    )
    db.session.commit()


def process_item(item_id: int, token: str) -> None:
    from webapp.jobs.generate import generate_variation
    from webapp.services.providers import plan

    item = db.session.get(BulkItem, item_id)
    batch = db.session.get(BulkBatch, item.batch_id)
    user = db.session.get(User, batch.owner_id)
    wanted = item.variations or batch.variations
    have = db.session.scalar(select(func.count()).select_from(BulkImage).where(BulkImage.item_id == item.id))
    routes = plan(user, batch.provider, "generate", batch.key_owner == "user", batch.model)[:1]  # no fallback
    payload = {
        "prompt": item.prompt,
        "negative": "",
        "image_type": item.image_type or batch.image_type,
        "quality": batch.quality,
        "style": item.style or batch.style,
        "palette": None,
        # A seed per item (the generic path derives it from the job id, and bulk items have none,
        # so every item's first variation would share one seed): a redraw after a crash gets the
        # same picture, and no two items collide on identical bytes.
        "seed": _item_seed(item.id),
        "show_id": batch.show_id,
        "hidden": True,
        "bulk_item_id": item.id,
        "bulk_batch_id": batch.id,
    }
    ctx = ItemContext(owner_id=user.id, label=f"bulk{batch.id}-{item.id}", item_id=item.id, token=token)
    db.session.commit()
    for index in range(have, wanted):
        beat = db.session.execute(
            update(BulkItem)
            .where(BulkItem.id == item_id, BulkItem.claim == token)
            .values(heartbeat_at=utcnow())
        ).rowcount
        db.session.commit()
        if not beat:
            return  # reset by the sweeper or cancelled: someone else owns it now
        outcome = generate_variation(ctx, user, routes, payload, index, [])
        if outcome["status"] == "succeeded":
            db.session.execute(
                update(BulkItem)
                .where(BulkItem.id == item_id)
                .values(cost=BulkItem.cost + Decimal(outcome.get("cost") or 0))
            )
            db.session.commit()
            continue
        if outcome.get("outcome") == "rate_limited":
            wait = float(outcome.get("retry_after") or 30.0)
            _release(item_id, token, "pending", None, utcnow() + timedelta(seconds=wait))
            return
        _release(item_id, token, "failed", outcome.get("error") or "The provider returned no image.")
        return
    _release(item_id, token, "succeeded", None)


def _item_seed(item_id: int) -> int:
    return int(hashlib.sha256(f"bulk-item:{item_id}".encode()).hexdigest()[:7], 16)
