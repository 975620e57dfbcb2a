"""AI generation requests: validate, quote (cost and allowance), and build the job input.

The estimate shown before a generation, the budget reservation and the ledger row all come from
`services.pricing.estimate`, so what a producer is told is what is recorded.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from webapp.models import User
from webapp.providers import REGISTRY
from webapp.services import limits
from webapp.services.pricing import estimate, tier_of
from webapp.services.providers import Route, plan
from webapp.text import with_article

IMAGE_TYPES = ("poster", "square", "banner")
QUALITIES = ("low", "medium", "high")
STYLES = (
    "realistic",
    "artistic",
    "modern",
    "vintage",
    "minimalist",
    "bold",
    "neon",
    "watercolor",
    "retro-print",
    "cinematic",
    "illustrated",
    "elegant",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class GenerationError(ValueError):
    """A request that cannot start; the message says what to change."""


def clean_prompt(text: str, limit: int) -> str:
    """Strip control characters (keep newlines), normalise, enforce the provider's limit."""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text or "")).strip()
    if not text:
        raise GenerationError("Describe the image you want: the prompt is empty.")
    if len(text) > limit:
        raise GenerationError(f"The prompt is {len(text)} characters; this provider accepts at most {limit}.")
    return text


@dataclass
class GenerationRequest:
    prompt: str
    image_type: str = "poster"
    provider: str | None = None
    model: str | None = None
    quality: str = "medium"
    variations: int = 1
    style: str | None = None
    negative: str = ""
    palette: list[str] = field(default_factory=list)
    use_own_key: bool | None = None
    seed: int | None = None
    show_id: int | None = None
    operation: str = "generate"
    source_asset_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    tier: str | None = None  # free | budget | premium | auto (services.tiers); ignored with a provider


@dataclass
class Quote:
    route: Route
    size: str
    unit_price: Decimal
    total: Decimal
    allowance: limits.Allowance | None
    tier: str = "free"
    reason: str = ""
    chosen: bool = False  # the provider was picked by tier, not named


def size_for(provider_name: str, image_type: str) -> str:
    """The adapter's size (a price-table key) without building a client: constructing an adapter
    that needs a key raises InvalidKey without one, and a quote must not need the key."""
    cls = REGISTRY[provider_name]
    return cls.size_for(cls.__new__(cls), image_type)


def quote(user: User, req: GenerationRequest) -> Quote:
    """What this request would cost and whether the hourly allowance covers it."""
    if req.image_type not in IMAGE_TYPES:
        raise GenerationError("Choose poster, square or banner.")
    if req.quality not in QUALITIES:
        raise GenerationError("Choose low, medium or high quality.")
    if not 1 <= int(req.variations) <= 4:
        raise GenerationError("Ask for 1 to 4 variations.")
    chosen = None
    if req.tier and not req.provider:
        from webapp.services import tiers

        try:
            chosen = tiers.choose(
                user, req.tier, req.image_type, req.quality, int(req.variations), req.operation
            )
        except tiers.TierError as exc:
            raise GenerationError(str(exc)) from None
        req = dataclasses.replace(
            req, provider=chosen.provider, use_own_key=chosen.use_own_key or req.use_own_key
        )
    routes = plan(user, req.provider, req.operation, req.use_own_key, req.model)
    route = routes[0]
    cls = REGISTRY[route.provider_name]
    if req.operation == "edit" and not cls.spec.can_edit:
        raise GenerationError(f"{cls.spec.display_name} cannot edit images; choose another provider.")
    if not cls.accepts_model(route.model):
        raise GenerationError(f"{route.model} is not {with_article(cls.spec.display_name)} image model.")
    size = size_for(route.provider_name, req.image_type)
    unit = estimate(route.provider_row, route.provider_name, route.model, size, req.quality, 1)
    total = estimate(
        route.provider_row, route.provider_name, route.model, size, req.quality, int(req.variations)
    )
    allowance = None
    if route.key_owner == "platform" and cls.spec.needs_key:
        override = route.provider_row.user_images_per_hour if route.provider_row else None
        allowance = limits.allowance("ai", user, override)
    tier = tier_of(route.provider_row, route.provider_name)
    if chosen is not None:
        reason = chosen.reason
    elif req.provider:
        reason = f"You chose {cls.spec.display_name} ({tier} tier)."
    else:
        reason = f"{cls.spec.display_name} is the platform's default provider ({tier} tier)."
    return Quote(route, size, unit, total, allowance, tier, reason, chosen is not None)


def payload_for(user: User, req: GenerationRequest, q: Quote) -> dict[str, Any]:
    """The job input for a validated request (prompt cleaned to the provider's limit).
    Starting the job — ownership, allowance, budget — is `services.actions.generate`'s."""
    spec = REGISTRY[q.route.provider_name].spec
    prompt = clean_prompt(req.prompt, spec.prompt_limit)
    negative = _CONTROL.sub("", req.negative or "").strip()[:500]
    return {
        "prompt": prompt,
        "negative": negative,
        "image_type": req.image_type,
        "provider": q.route.provider_name if q.chosen else req.provider,
        "use_own_key": True if q.chosen and q.route.key_owner == "user" else req.use_own_key,
        "model": req.model,
        "quality": req.quality,
        "variations": int(req.variations),
        "style": req.style if req.style in STYLES else None,
        "palette": [c for c in req.palette if re.fullmatch(r"#[0-9a-fA-F]{6}", c)][:8],
        "seed": req.seed,
        "show_id": req.show_id,
        "operation": req.operation,
        "source_asset_id": req.source_asset_id,
        "estimate": str(q.total),
        "tier": q.tier,
        "tier_asked": req.tier,
        "choice_reason": q.reason,
        **req.extra,
    }


def full_prompt(payload: dict[str, Any]) -> str:
    """The text sent to the model: prompt, style, colours, and the 'avoid' list folded in (the
    APIs have no negative-prompt field). Words on the poster are ours, so ask for none."""
    parts = [payload["prompt"].strip().rstrip(".") + "."]
    if payload.get("style"):
        parts.append(f"Style: {payload['style'].replace('-', ' ')}.")
    if payload.get("palette"):
        parts.append("Use these colours: " + ", ".join(payload["palette"]) + ".")
    avoid = payload.get("negative")
    parts.append("Do not include any text, letters or logos" + (f"; also avoid: {avoid}." if avoid else "."))
    return " ".join(parts)
