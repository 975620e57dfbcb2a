"""RQ entry point: describe images with the admin's vision model (issue 17), one call per image.

For each image: skip it when a producer wrote its words (theirs are never overwritten) or when an
earlier attempt of THIS job already described it (stored on the asset: a retry never pays twice);
reserve the caption price against the provider's budget (platform key), send the downscaled image
with no database transaction open, then write the words, the record of what was done and the
ledger row in ONE commit, and settle the reservation. A malformed answer keeps the offline words,
is recorded on the asset and in the job result, and is paid for (the model answered). A 429 or an
unreachable provider stops the job (retryable; images already described stay done); a timeout
after sending is counted as possibly billed, like generation.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from flask import current_app

from webapp.base_urls import BaseUrlRefused
from webapp.extensions import db
from webapp.jobs.runner import JobContext, JobError, RetryableJobError, execute
from webapp.models import Asset, Show, User, UserKey, utcnow
from webapp.providers import ProviderError, ProviderUnavailable, RateLimited, create_provider
from webapp.providers.vision import describe as vision_describe
from webapp.services import budget, describe_ai, ledger
from webapp.services.describe import PRODUCER
from webapp.services.keys import base_url_for, platform_key, user_key_plaintext
from webapp.services.providers import plan
from webapp.storage import get_storage

log = logging.getLogger(__name__)
SIZE = "per-caption"


def run(job_id: int) -> None:
    """Entry point enqueued by `actions.describe_images`."""
    execute(job_id, _describe)


def _describe(ctx: JobContext) -> None:
    p = ctx.input
    user = db.session.get(User, ctx.owner_id)
    if user is None:
        raise JobError("The account that asked for these descriptions no longer exists.")
    routes = plan(user, p["provider"], "describe", None, p["model"])
    route = routes[0]
    route.model = p["model"]
    if route.provider_name != p["provider"]:
        raise JobError("The describing provider changed meanwhile. Press Describe with AI again.")
    if p.get("key_owner") == "user" and route.key_owner != "user":
        # Accepted on the producer's own key (no allowance taken): never switch to the platform's.
        raise JobError("Your own key was removed or switched off meanwhile. Press Describe with AI again.")
    ids = list(p.get("asset_ids") or [])
    results: list[dict[str, Any]] = []
    provider = None
    for i, asset_id in enumerate(ids):
        ctx.progress(5 + 90 * i / max(1, len(ids)), f"Describing image {i + 1} of {len(ids)}")
        asset = db.session.get(Asset, asset_id)
        if asset is None or asset.owner_id != ctx.owner_id or not asset.is_image:
            results.append({"asset_id": asset_id, "status": "skipped", "reason": "deleted"})
            continue
        if asset.described_by == PRODUCER:
            results.append({"asset_id": asset_id, "status": "skipped", "reason": "your own words are kept"})
            continue
        if describe_ai.done_by_job(asset, ctx.job_id):
            rec = describe_ai.record_of(asset)
            results.append({"asset_id": asset_id, "status": rec["status"], "reused": True})
            continue
        rec = describe_ai.record_of(asset)
        if rec.get("status") == describe_ai.STATUS_SENT and rec.get("job_id") == ctx.job_id:
            _interrupted(ctx, user, route, asset, rec)
        if provider is None:
            provider = _provider(route, user)
        outcome = _describe_one(ctx, user, route, provider, asset)
        results.append(outcome)
        if outcome.get("stop"):
            message = outcome["error"]
            if outcome.get("retryable"):
                raise RetryableJobError(message)
            raise JobError(message)
    db.session.commit()
    described = [r["asset_id"] for r in results if r.get("status") == describe_ai.STATUS_DESCRIBED]
    result = {"kind": "describe", "images": results, "asset_ids": ids, "described": described}
    ctx.finish(result, [])


def _provider(route, user: User):
    try:
        base_url = base_url_for(route.provider_name, route.provider_row, own_key=route.key_owner == "user")
    except BaseUrlRefused as exc:
        raise JobError(f"{exc} Nothing was sent; an admin must fix the provider's base URL.") from None
    if route.key_owner == "user":
        row = db.session.get(UserKey, route.user_key_id)
        if row is None:
            raise JobError("Your own key was removed. Add it again in Settings, or use the platform key.")
        row.last_used_at = utcnow()
        key = user_key_plaintext(row, "describe")
    else:
        key = platform_key(route.provider_row, "describe") if route.provider_row is not None else None
    db.session.commit()
    return create_provider(
        route.provider_name,
        key,
        base_url=base_url,
        timeout=float(current_app.config.get("PROVIDER_TIMEOUT_SECONDS", 90)),
    )


def _describe_one(ctx: JobContext, user: User, route, provider, asset: Asset) -> dict[str, Any]:
    asset_id = asset.id
    price = describe_ai.caption_price(route.provider_row, route.provider_name, route.model)
    show = db.session.get(Show, asset.show_id) if asset.show_id else None
    text = describe_ai.prompt_text(asset, show)
    image, mime = describe_ai.prepare_image(get_storage().get(asset.storage_key))
    reservation = None
    if route.key_owner == "platform" and price > 0:
        try:
            reservation = budget.reserve(route.provider_row, price)
        except budget.BudgetExceeded as exc:
            ledger.record(
                user.id, route, "describe", SIZE, describe_ai.QUALITY, 0, Decimal(0), ctx.job_id,
                "budget_refused", exc.message,
            )  # fmt: skip
            return {"asset_id": asset_id, "status": "failed", "error": exc.message, "stop": True}
    base = {
        "job_id": ctx.job_id,
        "provider": route.provider_name,
        "model": route.model,
        "cost": str(price),
        "key_owner": route.key_owner,
    }
    held = None
    if reservation is not None:
        held = {"provider_id": reservation.provider_id, "month": reservation.month, "amount": str(price)}
    # Committed before sending: if this process dies during the call, the retry knows the call was
    # made (and may have been billed) and settles its reservation instead of leaking it.
    _mark(asset, {**base, "status": describe_ai.STATUS_SENT, "attempt": ctx.attempt, "reserved": held})
    db.session.commit()  # no transaction open while the provider answers
    try:
        raw = vision_describe(provider, route.model, image, mime, text)
    except ProviderError as exc:
        billed = bool(getattr(exc, "may_have_billed", False))
        cost = price if billed else Decimal(0)
        outcome = "rate_limited" if isinstance(exc, RateLimited) else type(exc).__name__.lower()
        _mark(
            db.session.get(Asset, asset_id),
            {**base, "cost": str(cost), "status": "failed", "error": exc.message},
        )
        ledger.record(
            user.id, route, "describe", SIZE, describe_ai.QUALITY, 0, cost, ctx.job_id, outcome, exc.message
        )
        if reservation is not None:
            budget.settle(reservation, cost)
        retryable = isinstance(exc, RateLimited | ProviderUnavailable) or bool(
            getattr(exc, "retryable", False)
        )
        return {
            "asset_id": asset_id,
            "status": "failed",
            "error": exc.message,
            "outcome": outcome,
            "stop": True,
            "retryable": retryable,
        }
    words, problem = describe_ai.clean_answer(raw)
    asset = db.session.get(Asset, asset_id)
    db.session.refresh(asset)  # a producer's edit made during the call wins
    record = {**base, "at": utcnow().isoformat(timespec="seconds")}
    if words is None:
        record.update(status=describe_ai.STATUS_MALFORMED, error=f"{problem} The offline words were kept.")
    else:
        record["status"] = describe_ai.STATUS_DESCRIBED
        if asset.described_by == PRODUCER:
            record["kept"] = "producer"
        else:
            for key, value in words.items():
                setattr(asset, key, value)
            asset.described_by = route.provider_name
    _mark(asset, record)
    # The words, what was done and the ledger row commit together (ledger.record commits).
    ledger.record(
        user.id, route, "describe", SIZE, describe_ai.QUALITY, 0, price, ctx.job_id,
        "success" if words is not None else "malformed", problem,
    )  # fmt: skip
    if reservation is not None:
        budget.settle(reservation, price)
    if problem:
        log.warning(
            "job %s: the model's description of asset %s was unusable: %s", ctx.job_id, asset_id, problem
        )
    return {
        "asset_id": asset_id,
        "status": record["status"],
        "error": record.get("error"),
        "cost": str(price),
    }


def _mark(asset: Asset, record: dict[str, Any]) -> None:
    """What was done for this asset (`describe_ai.record_of`), committed by the caller."""
    asset.provenance = {**(asset.provenance or {}), "ai_description": record}


def _interrupted(ctx: JobContext, user: User, route, asset: Asset, rec: dict[str, Any]) -> None:
    """An earlier attempt of this job died while the provider was answering for `asset`: the call
    may have been billed. Record it once (ledger at its price) and settle its reservation, then
    the image is described again."""
    cost = Decimal(str(rec.get("cost") or "0"))
    _mark(asset, {**rec, "status": "interrupted"})
    detail = f"Attempt {rec.get('attempt')} stopped during the provider's answer; it may have been billed."
    ledger.record(
        user.id,
        route,
        "describe",
        SIZE,
        describe_ai.QUALITY,
        0,
        cost,
        ctx.job_id,
        "interrupted_maybe_billed",
        detail,
    )
    held = rec.get("reserved")
    if held:
        budget.settle(budget.Reservation(held["provider_id"], held["month"], Decimal(held["amount"])), cost)
