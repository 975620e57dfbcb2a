"""RQ entry point: AI generation (create or edit), one variation at a time.

For every variation: pick the route (provider + whose key), reserve the estimated cost against
the provider's budget (platform keys only), wait for a slot in that key's images-per-minute window
and send at once (the window is counted at the provider's arrival, so nothing may sit between the
slot and the call), call the provider with no database session open, settle the reservation to
the actual cost, write the ledger row, store the image at the exact target size, and commit — so
each variation appears as soon as it is ready and a paid image is never lost to a later failure.
A provider 429 with a short Retry-After holds the key for every worker and is retried in the job,
through the limiter again, keeping the one budget reservation and writing one ledger row.

Fallback to the next provider happens only when the first certainly produced nothing
(rate-limited, or down before anything was sent); never after a timeout that may have been
billed, never after a safety block, never away from a producer's own key unless they allowed it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from decimal import Decimal
from typing import Any

from flask import current_app

from webapp import metrics
from webapp.base_urls import BaseUrlRefused
from webapp.extensions import db
from webapp.jobs import money, provider_tasks
from webapp.jobs.runner import JobCancelled, JobContext, JobError, RetryableJobError, execute
from webapp.jobs.still_store import store_still
from webapp.models import Asset, User, UserKey, utcnow
from webapp.providers import (
    ContentBlocked,
    ImageRequest,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    create_provider,
)
from webapp.providers.media import TaskCancelled
from webapp.services import budget, ratelimit
from webapp.services.generation import full_prompt
from webapp.services.jobs import stored_outputs
from webapp.services.keys import base_url_for, platform_key, user_key_plaintext
from webapp.services.pricing import estimate
from webapp.services.providers import Route, plan
from webapp.storage import get_storage

log = logging.getLogger(__name__)
RATE_LIMIT_WAIT_MAX = 20.0  # seconds we are willing to wait on a provider's Retry-After in-job
RATE_LIMIT_RETRIES = 3  # provider 429s retried in-job per variation before giving up
# A 429 without Retry-After (OpenAI often sends only x-ratelimit-* headers): back off this long
# (config PROVIDER_RATE_LIMIT_WAIT_SECONDS) instead of hammering the provider or giving up at once.
RATE_LIMIT_DEFAULT_WAIT = 5.0
SLOT_WAIT_MAX = 120.0  # seconds a variation waits for a slot in its key's window


class _NoSlot(Exception):
    """No slot in the key's window within SLOT_WAIT_MAX: nothing was sent, nothing to bill."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"no slot for {wait:.0f} s")
        self.wait = wait


def run(job_id: int) -> None:
    """Entry point enqueued by `services.generation.start`."""
    execute(job_id, _generate)


def _generate(ctx: JobContext) -> None:
    p = ctx.input
    user = db.session.get(User, ctx.owner_id)
    if user is None:
        raise JobError("The account that asked for this generation no longer exists.")
    routes = plan(
        user, p.get("provider"), p.get("operation", "generate"), p.get("use_own_key"), p.get("model")
    )
    source_bytes: list[bytes] = []
    if p.get("operation") == "edit":
        src = db.session.get(Asset, p.get("source_asset_id"))
        if src is None or src.owner_id != ctx.owner_id:
            raise JobError("The image to edit was deleted. Choose another image.")
        source_bytes = [get_storage().get(src.storage_key)]
    db.session.commit()

    wanted = int(p.get("variations", 1))
    previous: dict[int, Any] = {v["index"]: v for v in (p.get("previous_variations") or [])}
    # Variations an earlier attempt of THIS job stored (and paid for) before it crashed, failed or
    # was cancelled are reused, never drawn again.
    for asset in stored_outputs(ctx.job_id):
        index = (asset.provenance or {}).get("variation")
        if isinstance(index, int) and index not in previous:
            previous[index] = _variation_of(asset, index)
    db.session.commit()
    variations: list[dict[str, Any]] = []
    asset_ids: list[int] = []
    for i in range(wanted):
        if i in previous and previous[i].get("status") == "succeeded":
            variations.append(previous[i])  # retrying only the failed ones
            asset_ids.append(previous[i]["asset_id"])
            continue
        ctx.progress(5 + 90 * i / wanted, f"Drawing variation {i + 1} of {wanted}")
        outcome = generate_variation(ctx, user, routes, p, i, source_bytes)
        variations.append(outcome)
        if outcome.get("asset_id"):
            asset_ids.append(outcome["asset_id"])
        _publish_partial(ctx, variations, asset_ids)
    if not asset_ids:
        reasons = {v.get("error") for v in variations if v.get("error")}
        message = " ".join(sorted(reasons)) or "No image came back from the provider."
        if variations and all(v.get("retryable") for v in variations):
            # Every call failed in a way a later attempt may not (and none may have billed): RQ retries.
            raise RetryableJobError(message)
        raise JobError(message)
    ctx.finish({"variations": variations, "asset_ids": asset_ids, "kind": "generate"}, [])


def _variation_of(asset: Asset, index: int) -> dict[str, Any]:
    prov = asset.provenance or {}
    return {
        "index": index,
        "status": "succeeded",
        "asset_id": asset.id,
        "provider": prov.get("provider"),
        "model": prov.get("model"),
        "cost": prov.get("cost"),
        "key_owner": prov.get("key_owner"),
        "revised_prompt": prov.get("revised_prompt"),
        "fell_back": False,
        "reused": True,
    }


def _publish_partial(ctx: JobContext, variations: list[dict], asset_ids: list[int]) -> None:
    """Let the page show finished variations while the rest are drawn."""
    from sqlalchemy import update

    from webapp.models import Job, JobStatus

    with db.engine.begin() as conn:
        conn.execute(
            update(Job)
            .where(Job.id == ctx.job_id, Job.status == JobStatus.RUNNING.value)
            .values(
                result={"variations": variations, "asset_ids": asset_ids, "kind": "generate", "partial": True}
            )
        )


def _key_for(route: Route, user: User) -> str | None:
    if route.key_owner == "user":
        row = db.session.get(UserKey, route.user_key_id)
        if row is None:
            raise JobError("Your own key was removed. Add it again in Settings, or use the platform key.")
        row.last_used_at = utcnow()
        key = user_key_plaintext(row, "generate")
        return key
    if route.provider_row is None:
        return None
    return platform_key(route.provider_row, "generate") if route.spec.needs_key else None


def generate_variation(
    ctx,
    user,
    routes: list[Route],
    p: dict,
    index: int,
    source_bytes: list[bytes],
    progress: tuple[float, float] = (5.0, 85.0),
) -> dict:
    """Draw one variation through `routes` (first, then allowed fallbacks). `ctx` needs owner_id,
    job_id (or None), label (for filenames), put(key, data, type) and stored_keys — a JobContext,
    or the bulk runner's item context. A provider task's progress fills `progress` = (start, span)
    percent of the job's bar."""
    last_error: ProviderError | None = None
    for attempt, route in enumerate(routes):
        try:
            # Checked against the allow-list right before the key leaves; an own key never
            # follows the admin's base URL.
            base_url = base_url_for(
                route.provider_name, route.provider_row, own_key=route.key_owner == "user"
            )
        except BaseUrlRefused as exc:
            raise JobError(f"{exc} Nothing was sent; an admin must fix the provider's base URL.") from None
        key = _key_for(route, user)
        provider = create_provider(
            route.provider_name,
            key,
            base_url=base_url,
            timeout=float(current_app.config.get("PROVIDER_TIMEOUT_SECONDS", 90)),
        )
        provider.configure(route.provider_row.options if route.provider_row is not None else None)
        hooks, already_paid = (
            provider_tasks.hooks_for(ctx, index, *progress)
            if hasattr(provider, "task_hooks")
            else (None, False)
        )
        if hooks is not None:
            provider.task_hooks = hooks  # a task-based provider: the job row remembers the task
        size = provider.size_for(p["image_type"])
        quality = p.get("quality", "medium")
        price = estimate(route.provider_row, route.provider_name, route.model, size, quality, 1)
        per_minute = route.provider_row.images_per_minute if route.provider_row else 60
        bucket = ratelimit.fingerprint(route.provider_name, key)
        resumed = bool(hooks is not None and hooks.resume_task_id)
        charge = money.Charge(user.id, route, p.get("operation", "generate"), size, quality, ctx.job_id)
        try:
            charge.reservation = money.hold(route, price, resumed=resumed, paid=already_paid)
        except budget.BudgetExceeded as exc:
            charge.operation = "generate"
            charge.settle(Decimal(0), "budget_refused", exc.message)
            return {"index": index, "status": "failed", "error": exc.message, "provider": route.provider_name}
        seed = p.get("seed")
        request = ImageRequest(
            prompt=full_prompt(p),
            image_type=p["image_type"],
            quality=quality,
            n=1,
            style=p.get("style"),
            seed=(seed + index) if seed is not None else _seed(ctx.job_id, index),
            palette=p.get("palette") or None,
            model=route.model,
        )
        db.session.commit()  # no transaction open while we wait on the provider
        sent_at = time.monotonic()
        try:
            images = _send(provider, request, p.get("operation"), source_bytes, bucket, per_minute)
            metrics.provider_latency(route.provider_name, "success", time.monotonic() - sent_at)
        except TaskCancelled:
            # The provider was asked to stop its task, but a started task is not refunded (Runway):
            # count it as possibly billed, like a timeout after sending, never as a silent $0.
            # (A task already in the ledger is not recorded again.)
            if not already_paid:
                charge.settle(price, "cancelled_maybe_billed", money.CANCELLED_TASK)
            raise JobCancelled from None
        except _NoSlot as exc:
            charge.release()  # never sent: nothing spent
            last_error = RateLimited(
                f"{route.spec.display_name} is at its limit of {per_minute} images a minute; "
                "try again shortly.",
                retry_after=exc.wait,
            )
            continue
        except ProviderError as exc:
            metrics.provider_latency(route.provider_name, _outcome(exc), time.monotonic() - sent_at)
            billed_maybe = bool(getattr(exc, "may_have_billed", False))
            task_over = bool(getattr(exc, "task_finished", False))
            if hooks is not None and task_over:
                provider_tasks.clear(ctx)  # a retry must start a new task, not resume this one
            if already_paid or (hooks is not None and not task_over and provider_tasks.pending(ctx, index)):
                # The provider's task lives on (a retry of this job resumes it, and pays then, with
                # the reservation held now) or is already in the ledger: record nothing as spent.
                charge.note(_outcome(exc), f"{exc.message} {money.TASK_CONTINUES}")
                return {
                    "index": index,
                    "status": "failed",
                    "error": money.resume_advice(exc.message),
                    "provider": route.provider_name,
                    "outcome": _outcome(exc),
                    "retry_after": getattr(exc, "retry_after", None),
                    "retryable": True,
                }
            # A timeout after sending may have been billed: count it, never silently $0.
            charge.settle(price if billed_maybe else Decimal(0), _outcome(exc), exc.message)
            last_error = exc
            can_fall_back = isinstance(exc, RateLimited | ProviderUnavailable) and not billed_maybe
            if can_fall_back and attempt + 1 < len(routes):
                log.warning(
                    "job %s: %s failed (%s); falling back", ctx.job_id, route.provider_name, _outcome(exc)
                )
                continue
            return {
                "index": index,
                "status": "failed",
                "error": exc.message,
                "provider": route.provider_name,
                "outcome": _outcome(exc),
                "retry_after": getattr(exc, "retry_after", None),
                "retryable": exc.retryable and not billed_maybe,
            }
        actual = estimate(route.provider_row, route.provider_name, route.model, size, quality, len(images))
        if not already_paid:
            task_id = images[0].usage.get("task_id") if images and hooks is not None else None
            if task_id:
                provider_tasks.mark_paid(ctx, index, str(task_id))  # committed with the ledger row
            charge.settle(actual, "success", None, count=len(images))
        if not images:
            return {
                "index": index,
                "status": "failed",
                "error": "The provider returned no image.",
                "provider": route.provider_name,
            }
        asset = store_still(ctx, images[0], p, route, index, actual, size)
        if hooks is not None:
            provider_tasks.clear(ctx)
        return {
            "index": index,
            "status": "succeeded",
            "asset_id": asset.id,
            "provider": route.provider_name,
            "model": route.model,
            "cost": str(actual),
            "key_owner": route.key_owner,
            "revised_prompt": images[0].revised_prompt,
            "fell_back": attempt > 0,
        }
    message = last_error.message if last_error else "No provider could take the request."
    return {
        "index": index,
        "status": "failed",
        "error": message,
        "outcome": _outcome(last_error) if last_error else "unavailable",
        "retry_after": getattr(last_error, "retry_after", None),
        "retryable": bool(last_error and last_error.retryable and not last_error.may_have_billed),
    }


def _send(
    provider,
    request: ImageRequest,
    operation: str | None,
    sources: list[bytes],
    bucket: str,
    per_minute: int,
):
    """Call the provider in a slot of the key's window; on a 429 with a short wait, hold the key
    (every worker backs off) and try again through the limiter — a retry is another arrival."""
    refused: RateLimited | None = None
    for _ in range(RATE_LIMIT_RETRIES + 1):
        ok, wait = ratelimit.reserve(bucket, per_minute, request.n, max_wait=SLOT_WAIT_MAX)
        if not ok:
            raise refused if refused is not None else _NoSlot(wait)
        time.sleep(wait)  # until the slot, then send at once: the slot is the call's start
        try:
            if operation == "edit":
                return provider.edit(request, sources)
            return provider.generate(request)
        except RateLimited as exc:
            backoff = exc.retry_after
            if backoff is None:
                backoff = float(
                    current_app.config.get("PROVIDER_RATE_LIMIT_WAIT_SECONDS", RATE_LIMIT_DEFAULT_WAIT)
                )
            if not exc.retryable or backoff > RATE_LIMIT_WAIT_MAX:
                raise
            ratelimit.hold(bucket, backoff)
            refused = exc
    assert refused is not None
    raise refused


def _outcome(exc: ProviderError) -> str:
    if isinstance(exc, ContentBlocked):
        return "blocked"
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, ProviderUnavailable):
        return "timeout_maybe_billed" if exc.may_have_billed else "unavailable"
    return type(exc).__name__.lower()


def _seed(job_id: int, index: int) -> int:
    return int(hashlib.sha256(f"{job_id}:{index}".encode()).hexdigest()[:8], 16)
