"""Bulk generation: dozens to hundreds of prompts in, a gallery out, publish the best.

All state lives in Postgres. Items are processed by "pump" jobs on RQ: each pump claims the next
pending item (by position, so "move to top" works while the batch runs), draws it through the
shared per-key rate limiter, records its images, and enqueues the next pump. Pausing stops pumps
from claiming; a restart or deploy loses nothing because a sweeper re-starts pumps for running
batches and returns items claimed by dead workers to the queue.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import Asset, BulkBatch, BulkImage, BulkItem, User, utcnow
from webapp.params import parse_int
from webapp.providers import REGISTRY
from webapp.services import budget, moderation, prompt_screen
from webapp.services.generation import (
    IMAGE_TYPES,
    QUALITIES,
    STYLES,
    GenerationError,
    GenerationRequest,
    quote,
)
from webapp.services.providers import RoutingError
from webapp.services.queue import get_queue, redis_down

MAX_PROMPTS = 500
MAX_PROMPT_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BulkError(ValueError):
    """A refusal with a message for the person at the form."""


@dataclass
class ParsedPrompt:
    line: int
    prompt: str
    image_type: str | None = None
    style: str | None = None
    variations: int | None = None


@dataclass
class ParseResult:
    prompts: list[ParsedPrompt] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # blocking: fix before starting
    notes: list[str] = field(default_factory=list)  # informational (blank lines ignored…)
    duplicates: int = 0  # how many of the problems are repeated prompts (offer "Remove duplicates")


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()


def parse_prompts(
    text: str = "", upload: bytes | None = None, filename: str = "", drop_duplicates: bool = False
) -> ParseResult:
    """One prompt per line, or a .txt / .csv file (a `prompt` column, optional `type`, `style`,
    `variations`). Blank lines are ignored; over-long lines, duplicates and lines that are only
    whitespace are flagged before anything is spent. With `drop_duplicates` (the producer pressed
    "Remove duplicates") a repeated prompt is left out and listed in the notes instead."""
    result = ParseResult()
    rows: list[tuple[int, dict[str, str]]] = []
    if upload is not None:
        try:
            content = upload.decode("utf-8-sig")
        except UnicodeDecodeError:
            result.problems.append(
                "The file is not UTF-8 text. Save it as UTF-8 (.txt or .csv) and upload again."
            )
            return result
        if filename.lower().endswith(".csv"):
            reader = csv.DictReader(io.StringIO(content))
            fields = [f.strip().lower() for f in (reader.fieldnames or [])]
            if "prompt" not in fields:
                result.problems.append("The CSV needs a header row with a `prompt` column.")
                return result
            for n, row in enumerate(reader, start=2):
                rows.append((n, {k.strip().lower(): (v or "") for k, v in row.items() if k}))
        else:
            rows = [(n, {"prompt": line}) for n, line in enumerate(content.splitlines(), start=1)]
    else:
        rows = [(n, {"prompt": line}) for n, line in enumerate((text or "").splitlines(), start=1)]

    seen: dict[str, int] = {}
    dropped: list[int] = []
    blank = 0
    for n, row in rows:
        raw = row.get("prompt", "")
        if raw == "":
            blank += 1
            continue
        prompt = _clean(raw)
        if not prompt:
            result.problems.append(f"Line {n} is only whitespace: delete it or write a prompt.")
            continue
        if len(prompt) > MAX_PROMPT_CHARS:
            result.problems.append(f"Line {n} is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}.")
            continue
        key = prompt.casefold()
        if key in seen:
            if drop_duplicates:
                dropped.append(n)
            else:
                result.problems.append(f"Line {n} repeats line {seen[key]}: remove the duplicate.")
                result.duplicates += 1
            continue
        seen[key] = n
        item = ParsedPrompt(n, prompt)
        kind = (row.get("type") or "").strip().lower()
        if kind:
            if kind not in IMAGE_TYPES:
                result.problems.append(f"Line {n}: type must be poster, square or banner (got {kind!r}).")
            item.image_type = kind
        style = (row.get("style") or "").strip().lower()
        if style:
            if style not in STYLES:
                result.problems.append(f"Line {n}: unknown style {style!r}; use one of {', '.join(STYLES)}.")
            item.style = style
        var = (row.get("variations") or "").strip()
        if var:
            count = parse_int(var, lo=1, hi=4)
            if count is None:
                result.problems.append(f"Line {n}: variations must be 1 to 4 (got {var!r}).")
            else:
                item.variations = count
        result.prompts.append(item)
    if blank:
        result.notes.append(f"{blank} blank line{'s' if blank != 1 else ''} ignored.")
    if dropped:
        plural = "s" if len(dropped) != 1 else ""
        lines = ", ".join(str(n) for n in dropped[:10]) + ("…" if len(dropped) > 10 else "")
        result.notes.append(f"{len(dropped)} repeated prompt{plural} left out (line{plural} {lines}).")
    if len(result.prompts) > MAX_PROMPTS:
        result.problems.append(f"{len(result.prompts)} prompts: a batch holds at most {MAX_PROMPTS}.")
    if not result.prompts and not result.problems:
        result.problems.append("Paste at least one prompt, one per line.")
    return result


@dataclass
class BatchSettings:
    provider: str | None
    model: str | None = None
    image_type: str = "poster"
    quality: str = "medium"
    variations: int = 1
    style: str | None = None
    show_id: int | None = None
    autoformat_on_publish: bool = False
    use_own_key: bool | None = None
    name: str = ""


@dataclass
class Summary:
    prompts: int
    images: int
    cost: Decimal
    minutes: float
    per_minute: int
    budget_left: Decimal | None
    key_owner: str
    provider: str
    model: str
    allowed: bool
    reason: str | None = None
    measured_per_minute: float | None = None  # None: no finished batch on this provider yet


def who_may_run(user: User, settings: BatchSettings) -> tuple[bool, str | None]:
    """Free offline work is open to every producer with the media assistant on; platform-paid
    bulk is for admins; producers pay through their own key."""
    from webapp.services.keys import user_keys

    if not user.media_assistant_enabled:
        return False, "The media assistant is switched off for your account; ask an admin to switch it on."
    name = settings.provider
    if name in REGISTRY and not REGISTRY[name].spec.needs_key:
        return True, None
    if user.is_admin:
        return True, None
    own = user_keys(user)
    if name and name in own:
        return True, None
    free = ", ".join(REGISTRY[n].spec.display_name for n in REGISTRY if not REGISTRY[n].spec.needs_key)
    if not own:
        return False, (
            f"Paid bulk generation runs on your own provider key (the platform key is for single "
            f"images). Choose the free generator ({free}), or add an OpenAI or Gemini key in "
            "Settings → Keys."
        )
    return False, (
        f"Choose a provider you have your own key for ({', '.join(sorted(own))}) or the free generator "
        f"({free})."
    )


def free_providers() -> list[str]:
    return [n for n in REGISTRY if not REGISTRY[n].spec.needs_key]


def summarize(user: User, parsed: ParseResult, settings: BatchSettings) -> Summary:
    """What the batch will cost and take, before anything is spent (the ledger's price function)."""
    prompt_screen.screen(*(p.prompt for p in parsed.prompts), error=BulkError)  # the admin's block list
    allowed, reason = who_may_run(user, settings)
    free = settings.provider in REGISTRY and not REGISTRY[settings.provider].spec.needs_key
    use_own = None if (user.is_admin and not settings.use_own_key) or free else True
    req = GenerationRequest(
        prompt="x",
        image_type=settings.image_type,
        provider=settings.provider,
        model=settings.model,
        quality=settings.quality,
        variations=1,
        use_own_key=use_own,
    )
    if not 1 <= int(settings.variations) <= 4:
        raise BulkError("Ask for 1 to 4 variations per prompt.")
    try:
        q = quote(user, req)
        # Rows of a CSV may ask for another image type (another size, so another price).
        unit = {settings.image_type: q.unit_price}
        for kind in {p.image_type for p in parsed.prompts if p.image_type} - set(unit):
            unit[kind] = quote(user, replace(req, image_type=kind)).unit_price
    except (GenerationError, RoutingError) as exc:
        # An unknown or disabled provider is a choice to correct, not a server error.
        raise BulkError(str(exc)) from None
    images = sum((p.variations or settings.variations) for p in parsed.prompts)
    cost = sum(
        (
            unit[p.image_type or settings.image_type] * (p.variations or settings.variations)
            for p in parsed.prompts
        ),
        Decimal(0),
    )
    per_minute = q.route.provider_row.images_per_minute if q.route.provider_row else 60
    measured = measured_per_minute(q.route.provider_name)
    speed = min(per_minute, measured) if measured else per_minute
    left = None
    if (
        q.route.key_owner == "platform"
        and q.route.provider_row
        and q.route.provider_row.monthly_budget is not None
    ):
        spent, reserved = budget.month_spend(q.route.provider_row.id)
        left = q.route.provider_row.monthly_budget - spent - reserved
        if allowed and left < cost:
            allowed, reason = (
                False,
                f"The estimated cost ${cost:.2f} is more than the ${left:.2f} left this month.",
            )
    return Summary(
        prompts=len(parsed.prompts),
        images=images,
        cost=cost.quantize(Decimal("0.01")),
        minutes=round(images / max(0.1, speed), 1),
        per_minute=per_minute,
        measured_per_minute=round(measured, 1) if measured else None,
        budget_left=left,
        key_owner=q.route.key_owner,
        provider=q.route.provider_name,
        model=q.route.model,
        allowed=allowed,
        reason=reason,
    )


def create_and_start(user: User, parsed: ParseResult, settings: BatchSettings) -> BulkBatch:
    if parsed.problems:
        raise BulkError("Fix the flagged lines first: " + "; ".join(parsed.problems[:3]))
    summary = summarize(user, parsed, settings)
    if not summary.allowed:
        raise BulkError(summary.reason or "This batch cannot run.")
    if settings.image_type not in IMAGE_TYPES or settings.quality not in QUALITIES:
        raise BulkError("Choose a valid image type and quality.")
    batch = BulkBatch(
        owner_id=user.id,
        name=(settings.name or f"{summary.prompts} prompts")[:120],
        status="running",
        provider=summary.provider,
        model=summary.model,
        key_owner=summary.key_owner,
        image_type=settings.image_type,
        quality=settings.quality,
        variations=settings.variations,
        style=settings.style if settings.style in STYLES else None,
        show_id=settings.show_id,
        autoformat_on_publish=settings.autoformat_on_publish,
        estimate=summary.cost,
        started_at=utcnow(),
        concurrency=int(current_app.config.get("BULK_CONCURRENCY", 2)),
    )
    db.session.add(batch)
    db.session.flush()
    for i, p in enumerate(parsed.prompts):
        db.session.add(
            BulkItem(
                batch_id=batch.id,
                position=float(i),
                prompt=p.prompt,
                image_type=p.image_type,
                style=p.style,
                variations=p.variations,
            )
        )
    db.session.commit()
    start_pumps(batch)
    return batch


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


def select_images(batch: BulkBatch, image_ids: list[int], selected: bool) -> None:
    db.session.execute(
        update(BulkImage)
        .where(BulkImage.batch_id == batch.id, BulkImage.id.in_(image_ids))
        .values(selected=selected)
    )
    db.session.commit()


def select_all(batch: BulkBatch, selected: bool) -> None:
    db.session.execute(update(BulkImage).where(BulkImage.batch_id == batch.id).values(selected=selected))
    db.session.commit()


def publish(batch: BulkBatch, user: User, report: moderation.Outcome | None = None) -> int:
    """Selected images become library assets (unhidden), optionally auto-formatted and attached
    to the show. Returns how many were published; raises PublishedWithRefusals (after
    publishing) when an auto-format the producer asked for was refused."""

    images = list(
        db.session.scalars(
            select(BulkImage).where(
                BulkImage.batch_id == batch.id,
                BulkImage.selected.is_(True),
                BulkImage.published.is_(False),
                BulkImage.asset_id.is_not(None),
            )
        )
    )
    if not images:
        return 0
    assets = list(db.session.scalars(select(Asset).where(Asset.id.in_([i.asset_id for i in images]))))
    try:  # drafts → published, or held by moderation; nothing changes when the check is refused
        held = moderation.publish_bulk(user, images, assets, batch.show_id, report)
    except moderation.ModerationError as exc:
        raise PublishedWithRefusals(0, 0, "", str(exc)) from None
    asset_ids = held.published
    if batch.autoformat_on_publish:
        from webapp.services import actions

        refused: list[str] = []
        for aid in asset_ids:
            try:
                actions.autoformat_asset(user, aid, idempotency_key=f"bulk-publish:{batch.id}:{aid}")
            except actions.ActionError as exc:
                refused.append(exc.message)
        if refused:
            # The images are published either way; say which auto-formats did not start and why.
            raise PublishedWithRefusals(len(asset_ids), len(refused), refused[0], held.note())
    if held.held:
        raise PublishedWithRefusals(len(asset_ids), 0, "", held.note())
    return len(asset_ids)


class PublishedWithRefusals(BulkError):
    """Images were published, but some auto-format jobs were refused (an allowance, say)."""

    def __init__(self, published: int, refused: int, reason: str, held: str = "") -> None:
        self.published, self.refused = published, refused
        done = f"Published {published} image{'s' if published != 1 else ''}"
        jobs = f"{refused} auto-format job{'s were' if refused != 1 else ' was'} not started: {reason}"
        rest = " ".join(x for x in (jobs if refused else "", held) if x)
        super().__init__(f"{done}; {rest}" if published or refused else held)


def close(batch: BulkBatch) -> int:
    """Close the batch: unselected, unpublished images are discarded (bytes removed)."""
    from webapp.services.library import delete_assets

    if batch.status in ("running", "paused"):
        raise BulkError("Pause or cancel the batch before closing it.")
    drop = list(
        db.session.scalars(
            select(Asset)
            .join(BulkImage, BulkImage.asset_id == Asset.id)
            .where(BulkImage.batch_id == batch.id, BulkImage.published.is_(False), Asset.hidden.is_(True))
        )
    )
    n = delete_assets(drop) if drop else 0
    batch.status, batch.closed_at = "closed", utcnow()
    db.session.commit()
    return n


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
