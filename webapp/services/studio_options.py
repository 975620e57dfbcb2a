"""What the studio page offers: providers and models with their prices, the live estimate, the images
to edit and the palette colours to use.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Asset, Palette, Show, User
from webapp.providers import REGISTRY
from webapp.services import generation
from webapp.services.keys import user_keys
from webapp.services.pricing import PriceMissing, estimate
from webapp.services.providers import RoutingError, enabled_providers

RECENT_IMAGES = 48


# --------------------------------------------------------------------------- what the page offers


# "Let Marquee choose" entries of the provider select (services.tiers): value, label.
TIER_OPTIONS = (
    ("tier:auto", "Auto — best I can use"),
    ("tier:premium", "Premium — Runway, OpenAI, Gemini"),
    ("tier:budget", "Budget — Hugging Face"),
    ("tier:free", "Free — built-in, offline"),
)


@dataclass
class ModelOption:
    value: str  # "provider:model"
    provider: str
    model: str
    label: str
    unit_price: Decimal | None
    needs_key: bool
    can_edit: bool


def model_options(image_type: str, quality: str) -> list[ModelOption]:
    """Every model of every enabled provider with its price per image at this size and quality (from
    the provider's price table: the function the ledger uses)."""
    out = []
    for row in enabled_providers():
        cls = REGISTRY[row.name]
        size = generation.size_for(row.name, image_type)
        models = [row.model, *(m for m in cls.spec.models if m != row.model)]
        for model in models:
            try:
                price: Decimal | None = estimate(row, row.name, model, size, quality, 1)
            except PriceMissing:
                price = None
            out.append(
                ModelOption(
                    f"{row.name}:{model}",
                    row.name,
                    model,
                    # a provider with one model needs no model name (and fits a phone-width select)
                    f"{cls.spec.display_name} · {model}" if len(models) > 1 else cls.spec.display_name,
                    price,
                    cls.spec.needs_key,
                    cls.spec.can_edit,
                )
            )
    return out


def default_model(image_type: str = "poster") -> str:
    rows = enabled_providers()
    row = next((p for p in rows if p.is_default), rows[0] if rows else None)
    return f"{row.name}:{row.model}" if row else ""


def own_key_providers(user: User) -> list[str]:
    return sorted(user_keys(user))


@dataclass
class Estimate:
    quote: generation.Quote | None
    error: str | None
    allowance: str | None
    variations: int
    seconds: float | None = None  # expected time (services.estimates: measured, else typical)


def quote_for(user: User, req: generation.GenerationRequest) -> Estimate:
    """The live estimate: `generation.quote` exactly (which prices through `pricing.estimate`)."""
    try:
        q = generation.quote(user, req)
    except (generation.GenerationError, RoutingError, PriceMissing) as exc:
        return Estimate(None, str(exc), None, int(req.variations))
    allowance = q.allowance.describe() if q.allowance is not None else None
    from webapp.services.estimates import expected_seconds

    seconds = expected_seconds(q.route.provider_name, int(req.variations))[0]
    return Estimate(q, None, allowance, int(req.variations), seconds)


def recent_images(user: User, limit: int = RECENT_IMAGES, include: int | None = None) -> list[Asset]:
    """Images to edit: the producer's newest, any kind — and `include` (an older image the producer
    came from, `/studio?asset=ID` or "Edit in studio") first, so it is offered and selected."""
    chosen = db.session.get(Asset, include) if include else None
    if chosen is not None and (chosen.owner_id != user.id or chosen.media_kind != "image"):
        chosen = None
    rows = list(
        db.session.scalars(
            select(Asset)
            .where(Asset.owner_id == user.id, Asset.media_kind == "image")
            .order_by(Asset.id.desc())
            .limit(limit)
        )
    )
    if chosen is not None and chosen not in rows:
        rows = [chosen, *rows[: limit - 1]]
    return rows


def _palette_hexes(palette: Palette) -> list[str]:
    """The palettes feature's `palette_hexes` when it is installed; the raw colours otherwise."""
    try:
        from webapp.services.palettes import palette_hexes
    except ImportError:  # the palettes feature is optional for the studio
        return [c["hex"] if isinstance(c, dict) else str(c) for c in palette.colors or []]
    return palette_hexes(palette)


def palette_colours(user: User, show: Show | None, palette_id: int | None) -> tuple[list[str], str]:
    """("use these colours", where they come from): ?palette=<id> first, else the show's applied one."""
    palette = None
    source = ""
    if palette_id:
        palette = db.session.get(Palette, palette_id)
        if palette is None or palette.owner_id != user.id:
            palette = None
        else:
            source = palette.name or "your palette"
    if palette is None and show is not None and show.palette_id:
        palette = db.session.get(Palette, show.palette_id)
        source = f"the palette of {show.title}"
    if palette is None:
        return [], ""
    hexes = [h.lower() for h in _palette_hexes(palette) if isinstance(h, str) and len(h) == 7][:8]
    return hexes, source
