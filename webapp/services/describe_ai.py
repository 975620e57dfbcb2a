"""AI descriptions of images (issue 17): which provider describes, what it costs, and checking its answer.

The admin picks one describing provider and model (stored as ``options["describe_model"]`` on that
provider's row, so it is audited like every provider setting, see `set_describer`). Routing follows
generation: the producer's own key for that provider when they opted in, else the platform key;
never a silent fallback to another provider. Each image is one call, priced from the provider's
price table at the ``per-caption`` row (`pricing.CAPTION_UNIT`), reserved against the monthly
budget before the call and written to the ledger after it (`jobs.describe`).

What was done is stored on the asset (``provenance["ai_description"]``: job, provider, model, cost,
status) in the same commit as the words and the ledger row, so a retried job skips images it
already paid for. A model's answer is parsed and validated here (`clean_answer`); anything that is
not usable keeps the offline words and is recorded as a visible failure.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Asset, Job, Provider, Show, User
from webapp.providers import REGISTRY
from webapp.providers.vision import VISION_MODELS
from webapp.services import describe
from webapp.services.pricing import CAPTION_UNIT, DEFAULT_PRICES, PriceMissing, unit_price

OPTION = "describe_model"
QUALITY = "low"  # the price-table column (the image goes out at detail "low")
MAX_SIDE = 768  # the longest side of the image sent (detail low uses 512 px anyway)
MAX_ASSETS = 50  # images per describe job
STATUS_DESCRIBED, STATUS_MALFORMED, STATUS_SENT = "described", "malformed", "sent"


class DescribeUnavailable(ValueError):
    """No describing provider can serve this producer; the message says what to do."""


# ------------------------------------------------------------------------------ the admin's choice


def describer() -> tuple[Provider, str] | None:
    """(provider row, model) the admin chose for describing, if that provider is enabled."""
    from webapp.services.providers import enabled_providers

    for row in enabled_providers():
        model = (row.options or {}).get(OPTION)
        if model and row.name in VISION_MODELS:
            return row, model
    return None


def choices() -> list[tuple[str, str]]:
    """("provider:model", label) for the admin's select; "" means offline only."""
    out = [("", "Offline only (free: words composed from the prompt and show)")]
    for name, models in VISION_MODELS.items():
        if name not in REGISTRY:
            continue
        for model in models:
            out.append((f"{name}:{model}", f"{REGISTRY[name].spec.display_name} — {model}"))
    return out


def set_describer(choice: str, actor: User | None = None) -> Provider | None:
    """Make `choice` ("openai:gpt-5.4-nano", or "" for offline) the describing provider: the option
    is set on that row and removed from every other one (each change audited)."""
    from webapp.services.providers import ensure_providers, update_settings

    name, _, model = (choice or "").partition(":")
    if choice and (name not in VISION_MODELS or model not in VISION_MODELS[name]):
        raise DescribeUnavailable("Choose one of the listed describing models, or offline only.")
    chosen = None
    for row in ensure_providers():
        options = dict(row.options or {})
        if row.name == name:
            if options.get(OPTION) != model:
                update_settings(row, {"options": {**options, OPTION: model}}, actor)
            chosen = row
        elif OPTION in options:
            options.pop(OPTION)
            update_settings(row, {"options": options}, actor)
    return chosen


def current_choice() -> str:
    found = describer()
    if found is None:
        for row in db.session.scalars(select(Provider)):
            model = (row.options or {}).get(OPTION)
            if model:
                return f"{row.name}:{model}"
        return ""
    return f"{found[0].name}:{found[1]}"


# ------------------------------------------------------------------------------ price and route


def caption_price(provider: Provider | None, provider_name: str, model: str) -> Decimal:
    """One image described, from the price table; a row saved before captions were priced costs
    the list price until an admin edits it."""
    try:
        return unit_price(provider, provider_name, model, CAPTION_UNIT, QUALITY)
    except PriceMissing:
        listed = DEFAULT_PRICES.get(provider_name, {}).get(model, {}).get(CAPTION_UNIT, {}).get(QUALITY)
        if listed is None:
            raise
        return Decimal(listed)


@dataclass
class DescribeQuote:
    route: Any  # services.providers.Route
    each: Decimal
    total: Decimal
    count: int

    @property
    def platform_paid(self) -> bool:
        return self.route.key_owner == "platform" and self.total > 0

    def label(self) -> str:
        who = REGISTRY[self.route.provider_name].spec.display_name
        if self.route.key_owner == "user":
            return f"{who} {self.route.model}, on your own key (about ${self.total:.4f})"
        return f"{who} {self.route.model}, about ${self.total:.4f}"


def quote(user: User, count: int = 1) -> DescribeQuote:
    """Who describes for this producer and what `count` images cost (raises DescribeUnavailable)."""
    from webapp.services.providers import RoutingError, plan

    found = describer()
    if found is None:
        raise DescribeUnavailable(
            "No AI describer is set up, so the words are composed offline from the prompt and show. "
            "An admin can choose one at Admin → Providers → Image descriptions."
        )
    row, model = found
    try:
        route = plan(user, row.name, "describe", None, model)[0]
    except RoutingError as exc:
        raise DescribeUnavailable(str(exc)) from None
    route.model = model  # the describing model, not the provider's image model
    try:
        each = caption_price(route.provider_row, route.provider_name, model)
    except PriceMissing as exc:
        raise DescribeUnavailable(str(exc)) from None
    return DescribeQuote(route, each, (each * count).quantize(Decimal("0.0001")), count)


def quote_or_none(user: User) -> tuple[DescribeQuote | None, str | None]:
    """For pages: (quote, None) or (None, why there is none)."""
    try:
        return quote(user), None
    except DescribeUnavailable as exc:
        return None, str(exc)


# ------------------------------------------------------------------------------ what was done


def record_of(asset: Asset) -> dict[str, Any]:
    return dict((asset.provenance or {}).get("ai_description") or {})


def done_by_job(asset: Asset, job_id: int) -> bool:
    """This job already described (and paid for) this asset: a retry must not call again."""
    rec = record_of(asset)
    return rec.get("job_id") == job_id and rec.get("status") in (STATUS_DESCRIBED, STATUS_MALFORMED)


def retry_amount(job: Job) -> int:
    """Allowance a retry needs: the images this job has not described yet."""
    ids = [i for i in (job.input or {}).get("asset_ids") or [] if isinstance(i, int)]
    if not ids:
        return 0
    assets = db.session.scalars(select(Asset).where(Asset.id.in_(ids))).all()
    return max(0, len(ids) - sum(1 for a in assets if done_by_job(a, job.id)))


# ------------------------------------------------------------------------------ the call's input


def prompt_text(asset: Asset, show: Show | None) -> str:
    """What the model is told besides the image (the facts the offline words come from)."""
    lines = [
        "Describe this image for an events producer's media library. Answer in JSON with:",
        f"alt_text: what the image shows, for a screen-reader user (at most {describe.ALT_MAX} characters);",
        f"title: a short title (at most {describe.TITLE_MAX} characters);",
        f"description: one or two sentences (at most {describe.DESCRIPTION_MAX} characters);",
        f"tags: up to {describe.TAGS_MAX} short lowercase search words.",
        "Describe what is visible; do not invent text that is not in the image.",
    ]
    if asset.prompt:
        lines.append(f"The image was generated from this prompt: {asset.prompt[:1000]}")
    if show is not None:
        facts = show.title + (f", at {show.venue_name}" if show.venue_name else "")
        lines.append(f"It is for the show: {facts[:300]}")
    lines.append(f"Format: {asset.kind}, {asset.width}x{asset.height} pixels.")
    return "\n".join(lines)


def prepare_image(data: bytes) -> tuple[bytes, str]:
    """A downscaled JPEG (PNG when the image has transparency) of at most MAX_SIDE pixels."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size
        img = img.copy()
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if img.mode in ("RGBA", "LA", "P") and "A" in img.convert("RGBA").getbands():
        if img.mode != "RGBA":
            img = img.convert("RGBA")
        if img.getextrema()[3][0] < 255:
            img.save(out, "PNG", optimize=True)
            return out.getvalue(), "image/png"
    img.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue(), "image/jpeg"


# ------------------------------------------------------------------------------ the answer

_UNSAFE = re.compile(r"[<>{}`\\]")


def _safe(text: str, keep_newlines: bool = False) -> str:
    """No control or formatting characters (bidi overrides, zero-width), no markup characters."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(" ")
        else:
            out.append(ch)
    return _UNSAFE.sub("", "".join(out))


def clean_answer(raw: str) -> tuple[dict[str, Any] | None, str | None]:
    """(words ready to store, None) or (None, what was wrong). Over-long text is clipped, unsafe
    characters removed, tags cut to the limits; then `describe.validate_description` must pass."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None, "The model's answer was not valid JSON."
    if not isinstance(data, dict):
        return None, "The model's answer was not a JSON object."
    missing = [k for k in ("alt_text", "title", "description", "tags") if k not in data]
    if missing:
        return None, f"The model's answer had no {', '.join(missing)}."
    words: dict[str, Any] = {}
    for key, limit in (
        ("alt_text", describe.ALT_MAX),
        ("title", describe.TITLE_MAX),
        ("description", describe.DESCRIPTION_MAX),
    ):
        value = data[key]
        if not isinstance(value, str):
            return None, f"The model's {key} was not text."
        words[key] = describe.clip(_safe(value), limit)
    tags = data["tags"]
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list):
        return None, "The model's tags were not a list."
    cleaned = describe.parse_tags(
        [describe.clip(_safe(str(t)), describe.TAG_MAX).rstrip("…") for t in tags[:40]]
    )
    words["tags"] = [t[: describe.TAG_MAX] for t in cleaned][: describe.TAGS_MAX]
    try:
        return describe.validate_description(words), None
    except describe.DescriptionError as exc:
        return None, f"The model's answer did not fit: {exc}"
