"""Generation, video and voice actions: AI artwork, clips and spoken promos."""

from __future__ import annotations

from typing import Any

from webapp.models import Asset, Job, Show, User
from webapp.services import budget, limits
from webapp.services import jobs as job_service
from webapp.services.actions.core import (
    ActionError,
    ActionSpec,
    _register,
    owned,
    owned_image,
    require_feature,
    screen_prompt,
)

# --------------------------------------------------------------------------------- generation


def generate(user: User, req: Any, *, idempotency_key: str | None = None, inline: bool = False) -> Job:
    """Create, edit or re-roll AI artwork (`services.generation.GenerationRequest`)."""
    from webapp.services import generation
    from webapp.services.providers import RoutingError

    require_feature(user)
    if req.show_id is not None:
        owned(Show, req.show_id, user, "show")
    if req.operation == "edit":
        owned_image(req.source_asset_id, user)
    screen_prompt(req.prompt, getattr(req, "negative", ""))
    try:
        q = generation.quote(user, req)
        payload = generation.payload_for(user, req, q)
    except (generation.GenerationError, RoutingError, LookupError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise ActionError("invalid", message, {"request": [message]}) from None
    claim = None
    if q.allowance is not None:
        claim = ("ai", int(req.variations), q.allowance.limit if q.allowance.limit is not None else None)
        if q.allowance.limit is None:
            claim = None  # not limited (admins)
    if q.route.key_owner == "platform" and q.route.provider_row is not None and q.total > 0:
        try:
            budget.check(q.route.provider_row, q.total)
        except budget.BudgetExceeded as exc:
            raise ActionError("budget", exc.message) from None
    try:
        return job_service.start(
            user, "generate", payload, inline=inline, allowance=claim, idempotency_key=idempotency_key
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


_register(
    ActionSpec(
        "generate",
        ("feature", "ownership", "validation", "allowance", "budget"),
        (
            "web:studio.generate",
            "web:studio.retry",
            "web:studio.regenerate",
            "web:studio.more",
            "api:api.start_generation",
            "cli:generate",
        ),
        "ai",
    )
)


# --------------------------------------------------------------------------------- video and voice


def animate(user: User, settings: Any, *, idempotency_key: str | None = None, inline: bool = False) -> Job:
    """A clip (`services.media.VideoSettings`) from a library image, or from a still drawn first from a
    prompt (``image_prompt``: exactly one of the two). ``local`` renders offline, free. The still of a
    fresh clip follows the generation rules — provider or tier, the hourly AI allowance, the monthly
    budget up front — and is drawn in the same job (`jobs.video_still`)."""
    from webapp.services import media

    require_feature(user)
    asset = None if settings.fresh else owned(Asset, settings.asset_id, user, "image")
    show = owned(Show, settings.show_id, user, "show") if settings.show_id not in (None, "") else None
    screen_prompt(getattr(settings, "prompt", ""))
    errors = settings.errors()
    if asset is not None and not asset.is_image:
        errors["asset_id"] = ["That is a video or audio file: choose an image to animate."]
    if not errors and not media.provider_can(settings.provider, "animate"):
        errors["provider"] = [
            f"{settings.provider} cannot make video. Choose local (free, offline) or Runway."
        ]
    if not errors and settings.provider != media.LOCAL and media.route_problem(user, settings.provider):
        errors["provider"] = [media.route_problem(user, settings.provider)]
    if errors:
        raise ActionError("invalid", next(iter(errors.values()))[0], errors)
    still, also = _still_for(user, settings, show) if settings.fresh else (None, None)
    try:
        return job_service.start(
            user,
            "video",
            settings.payload(asset, show, still),
            inline=inline,
            allowance=("media", 1, None),
            also=also,
            idempotency_key=idempotency_key,
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


def _still_for(user: User, settings: Any, show: Show | None) -> tuple[dict, tuple | None]:
    """The generation payload of a fresh clip's still and the AI allowance it takes (the rules of
    `generate`: validation and routing, the platform budget checked up front)."""
    from webapp.services import generation
    from webapp.services.providers import RoutingError

    req = settings.still_request(show)
    try:
        q = generation.quote(user, req)
        payload = generation.payload_for(user, req, q)
    except (generation.GenerationError, RoutingError, LookupError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise ActionError("invalid", message, {"image_prompt": [message]}) from None
    if q.route.key_owner == "platform" and q.route.provider_row is not None and q.total > 0:
        try:
            budget.check(q.route.provider_row, q.total)
        except budget.BudgetExceeded as exc:
            raise ActionError("budget", exc.message) from None
    also = None
    if q.allowance is not None and q.allowance.limit is not None:
        also = ("ai", 1, q.allowance.limit)
    return payload, also


def voiceover(user: User, settings: Any, *, idempotency_key: str | None = None, inline: bool = False) -> Job:
    """A spoken promo (`services.media.VoiceSettings`); needs a premium provider that can speak."""
    from webapp.services import media

    require_feature(user)
    show = owned(Show, settings.show_id, user, "show") if settings.show_id not in (None, "") else None
    screen_prompt(getattr(settings, "text", ""))
    errors = settings.errors()
    if errors:
        raise ActionError("invalid", next(iter(errors.values()))[0], errors)
    try:
        limits.check("media", user)  # the allowance is looked at before the provider question
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None
    provider = settings.provider or media.default_speech_provider()
    if not provider or not media.provider_can(provider, "speak"):
        raise ActionError("invalid", media.VOICE_NEEDS_PREMIUM, {"provider": [media.VOICE_NEEDS_PREMIUM]})
    problem = media.route_problem(user, provider)
    if problem:
        raise ActionError("invalid", problem, {"provider": [problem]})
    payload = {
        "text": settings.text.strip(),
        "voice": settings.voice or None,
        "provider": provider,
        "show_id": show.id if show is not None else None,
    }
    try:
        return job_service.start(
            user,
            "voice",
            payload,
            inline=inline,
            allowance=("media", 1, None),
            idempotency_key=idempotency_key,
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


_register(
    ActionSpec(
        "animate",
        ("feature", "ownership", "validation", "allowance", "budget"),
        ("web:studio.animate", "api:api.start_video", "cli:animate"),
        "media",
    )
)
_register(
    ActionSpec(
        "voiceover",
        ("feature", "ownership", "validation", "allowance"),
        ("web:studio.voiceover", "api:api.start_voiceover", "cli:voiceover"),
        "media",
    )
)
