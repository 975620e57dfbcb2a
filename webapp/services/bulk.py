"""Bulk generation: dozens to hundreds of prompts in, a gallery out, publish the best.

All state lives in Postgres. Items are processed by "pump" jobs on RQ: each pump claims the next
pending item (by position, so "move to top" works while the batch runs), draws it through the
shared per-key rate limiter, records its images, and enqueues the next pump. Pausing stops pumps
from claiming; a restart or deploy loses nothing because a sweeper re-starts pumps for running
batches and returns items claimed by dead workers to the queue.

The module is split by idea: `bulk_prompts` (parsing), `bulk_control` (pumps, controls, sweeper),
`bulk_progress`, `bulk_errors`; this module holds the batch's settings, summary and start, and its
review and publish, and re-exports the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from flask import current_app
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Asset, BulkBatch, BulkImage, BulkItem, User, utcnow
from webapp.providers import REGISTRY
from webapp.services import budget, moderation, prompt_screen, publishing

# The parts of bulk generation, one idea each; callers keep writing `bulk.<name>` for all of them.
from webapp.services.bulk_control import (
    PUMP_ENTRY_POINT,
    edit_prompt,
    move_to_top,
    retry_failed,
    set_status,
    start_pumps,
    sweep,
)
from webapp.services.bulk_errors import BulkError
from webapp.services.bulk_progress import Progress, measured_per_minute, progress, provider_label
from webapp.services.bulk_prompts import (
    MAX_PROMPT_CHARS,
    MAX_PROMPTS,
    ParsedPrompt,
    ParseResult,
    parse_prompts,
)
from webapp.services.generation import (
    IMAGE_TYPES,
    QUALITIES,
    STYLES,
    GenerationError,
    GenerationRequest,
    quote,
)
from webapp.services.providers import RoutingError

__all__ = [
    "MAX_PROMPTS",
    "MAX_PROMPT_CHARS",
    "PUMP_ENTRY_POINT",
    "BatchSettings",
    "BulkError",
    "ParseResult",
    "ParsedPrompt",
    "Progress",
    "PublishedWithRefusals",
    "Summary",
    "close",
    "create_and_start",
    "edit_prompt",
    "free_providers",
    "measured_per_minute",
    "move_to_top",
    "parse_prompts",
    "progress",
    "provider_label",
    "publish",
    "retry_failed",
    "select_all",
    "select_images",
    "set_status",
    "start_pumps",
    "summarize",
    "sweep",
    "who_may_run",
]


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
        held = publishing.publish_bulk(user, images, assets, batch.show_id, report)
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
