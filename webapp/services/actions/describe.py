"""The AI description action: alt text, title, description and tags from the image."""

from __future__ import annotations

from typing import Any

from webapp.models import Job, User
from webapp.services import budget, limits
from webapp.services import jobs as job_service
from webapp.services.actions.core import (
    ActionError,
    ActionSpec,
    _register,
    owned_image,
    require_feature,
)

# --------------------------------------------------------------------------------- AI descriptions


def describe_images(user: User, asset_ids: Any, *, idempotency_key: str | None = None) -> Job:
    """Write alt text, title, description and tags from the image with the admin's vision model
    (`services.describe_ai`): one paid call per image, priced, budgeted and allowance-counted like
    generation; a producer's own words are never overwritten."""
    from webapp.services import describe_ai

    require_feature(user)
    ids = asset_ids if isinstance(asset_ids, list | tuple) else [asset_ids]
    if not ids or len(ids) > describe_ai.MAX_ASSETS:
        message = f"Choose 1 to {describe_ai.MAX_ASSETS} images to describe."
        raise ActionError("invalid", message, {"asset_ids": [message]})
    assets = list(dict.fromkeys(owned_image(i, user).id for i in ids))
    try:
        q = describe_ai.quote(user, len(assets))
    except describe_ai.DescribeUnavailable as exc:
        raise ActionError("invalid", str(exc), {"provider": [str(exc)]}) from None
    claim = ("describe", len(assets), None) if q.route.key_owner == "platform" else None
    if q.platform_paid and q.route.provider_row is not None:
        try:
            budget.check(q.route.provider_row, q.total)
        except budget.BudgetExceeded as exc:
            raise ActionError("budget", exc.message) from None
    payload = {
        "asset_ids": assets,
        "provider": q.route.provider_name,
        "model": q.route.model,
        "key_owner": q.route.key_owner,
    }
    try:
        return job_service.start(user, "describe", payload, allowance=claim, idempotency_key=idempotency_key)
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


_register(
    ActionSpec(
        "describe_images",
        ("feature", "ownership", "validation", "allowance", "budget"),
        ("web:library.describe_ai", "api:api.describe_asset"),
        "describe",
    )
)
