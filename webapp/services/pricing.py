"""Prices per image: ONE function used by the estimate shown before a generation, the budget
reservation and the ledger, so the three can never disagree.

Prices live in each Provider row's editable `price_table` ({model: {size: {quality: "0.05"}}}),
pre-filled from list prices. A missing entry is an error, never a silent $0.

Runway charges in credits, so its table is in credits and carries one more row, `credit`
(`{"usd": {quality: "0.01"}}`): the USD price of one credit. A model's price is its credits times
that rate, at the same `unit_price` every other provider uses. We price from the table, not from a
task's `estimatedCost.credits`, because the estimate must be known before anything is created (and
so before any charge); the ledger records the table figure, and the task's own credits are kept in
the asset's provenance for reconciliation. Video is priced per second (`per-second`) and speech
per 50 characters of script (`per-50-chars`), in credits, via `media_estimate`.

Tiers: every provider has one — free (the offline generator), budget (Hugging Face), premium
(Runway, OpenAI, Gemini). `TIERS` is the default; an admin can move a provider (`Provider.tier`).
"""

from __future__ import annotations

from decimal import Decimal

from webapp.models import Provider

OPENAI_SIZES = ("1024x1024", "1024x1536", "1536x1024")
QUALITIES = ("low", "medium", "high")


def _table(square: tuple[str, str, str], other: tuple[str, str, str]) -> dict[str, dict[str, str]]:
    return {
        size: dict(zip(QUALITIES, square if size == "1024x1024" else other, strict=True))
        for size in OPENAI_SIZES
    }


def _flat(price: str, sizes: tuple[str, ...]) -> dict[str, dict[str, str]]:
    return {size: dict.fromkeys(QUALITIES, price) for size in sizes}


GEMINI_ASPECTS = ("2:3", "1:1", "16:9", "3:2", "9:16")
RUNWAY_RATIOS = ("1080:1440", "1080:1080", "1920:1080")
HF_SIZES = ("832x1216", "1024x1024", "1344x768")
CREDIT_ROW = "credit"  # price-table row holding the USD price of one provider credit
SECOND_UNIT, CHARS_UNIT = "per-second", "per-50-chars"
CAPTION_UNIT = "per-caption"  # describing one image (alt text, title, tags) with a vision model

TIER_ORDER = ("free", "budget", "premium")
TIERS: dict[str, str] = {
    "local": "free",
    "huggingface": "budget",
    "runway": "premium",
    "openai": "premium",
    "gemini": "premium",
}

# List prices producers quoted (USD per image). Admins can edit them per provider.
DEFAULT_PRICES: dict[str, dict[str, dict[str, dict[str, str]]]] = {
    "openai": {
        "gpt-image-1.5": _table(("0.009", "0.034", "0.133"), ("0.013", "0.05", "0.20")),
        "gpt-image-1-mini": _table(("0.005", "0.011", "0.036"), ("0.006", "0.015", "0.052")),
        # One low-detail image + a short prompt in, about 200 tokens of JSON out (issue 17).
        "gpt-5.4-nano": _flat("0.0005", (CAPTION_UNIT,)),
        "gpt-5.4-mini": _flat("0.002", (CAPTION_UNIT,)),
        "gpt-5-nano": _flat("0.0003", (CAPTION_UNIT,)),
        "gpt-4.1-nano": _flat("0.0003", (CAPTION_UNIT,)),
    },
    "gemini": {
        "gemini-2.5-flash-image": _flat("0.039", GEMINI_ASPECTS),
        "gemini-3.1-flash-image": _flat("0.045", GEMINI_ASPECTS),
        "gemini-3-pro-image": _flat("0.134", GEMINI_ASPECTS),
        "gemini-2.5-flash": _flat("0.001", (CAPTION_UNIT,)),
    },
    # 2160x1089: the offline generator draws banners at the banner format; 1536x1024 stays for old jobs.
    "local": {"procedural-v1": _flat("0", ("1024x1024", "1024x1536", "1536x1024", "2160x1089"))},
    # Credits (Runway's list: gen4_image 1080p 8 credits; gen4_turbo 5 credits/s; gen4.5 12 credits/s;
    # speech about 1 credit per 50 characters) and the credit's USD price.
    "runway": {
        "gen4_image": _flat("8", RUNWAY_RATIOS),
        "gen4_turbo": _flat("5", (SECOND_UNIT,)),
        "gen4.5": _flat("12", (SECOND_UNIT,)),
        "eleven_multilingual_v2": _flat("1", (CHARS_UNIT,)),
        CREDIT_ROW: _flat("0.01", ("usd",)),
    },
    # USD per image through Hugging Face's inference providers; `*` prices any model the admin picks.
    "huggingface": {
        "stabilityai/stable-diffusion-xl-base-1.0": _flat("0.008", HF_SIZES),
        "black-forest-labs/FLUX.1-schnell": _flat("0.005", HF_SIZES),
        "*": _flat("0.01", HF_SIZES),
    },
}


class PriceMissing(LookupError):
    """No price for this model/size/quality: refuse rather than record $0."""


def tier_of(provider: Provider | None, provider_name: str) -> str:
    """The provider's tier: the admin's choice on its row, else the default."""
    tier = getattr(provider, "tier", None) if provider is not None else None
    return tier if tier in TIER_ORDER else TIERS.get(provider_name, "premium")


def _prices_of(provider: Provider | None, provider_name: str) -> dict:
    return (
        provider.price_table if provider is not None and provider.price_table else None
    ) or DEFAULT_PRICES.get(provider_name, {})


def credit_rate(provider: Provider | None, provider_name: str) -> Decimal | None:
    """USD per credit when this provider's table is in credits, else None (already USD)."""
    row = _prices_of(provider, provider_name).get(CREDIT_ROW)
    if not row:
        return None
    try:
        return Decimal(str(next(iter(row.values()))["medium"]))
    except (KeyError, TypeError, StopIteration, ArithmeticError) as exc:
        raise PriceMissing(f"The {provider_name} credit price is not set.") from exc


def _list_price(provider_name: str, model: str, size: str, quality: str, table: dict) -> Decimal | None:
    """A size added to a priced model after its row's table was saved (the offline banner at
    2160x1089) costs its list price until an admin edits it. A model missing from the table, or a
    size the table has without this quality, is a real gap and stays refused (None)."""
    try:
        if model not in table or size in table[model]:
            return None
        return Decimal(str(DEFAULT_PRICES[provider_name][model][size][quality]))
    except (KeyError, TypeError, ArithmeticError, AttributeError):
        return None


def unit_price(provider: Provider | None, provider_name: str, model: str, size: str, quality: str) -> Decimal:
    table = _prices_of(provider, provider_name)
    try:
        row = table[model] if model in table else table["*"]
        value = Decimal(str(row[size][quality]))
    except (KeyError, TypeError, ArithmeticError) as exc:
        listed = _list_price(provider_name, model, size, quality, table)
        if listed is None:
            raise PriceMissing(
                f"No price is set for {provider_name} {model} at {size} / {quality}. "
                "An admin can add it in the provider's price table."
            ) from exc
        value = listed
    rate = credit_rate(provider, provider_name)
    return value if rate is None else value * rate


def estimate(
    provider: Provider | None, provider_name: str, model: str, size: str, quality: str, images: int
) -> Decimal:
    """The cost of `images` images: the estimate, the reservation and the ledger all use this."""
    return (unit_price(provider, provider_name, model, size, quality) * max(0, images)).quantize(
        Decimal("0.0001")
    )


def media_estimate(
    provider: Provider | None, provider_name: str, model: str, *, seconds: int = 0, chars: int = 0
) -> Decimal:
    """The cost of a clip (`seconds`) or a voice-over (`chars` of script), from the same table."""
    if seconds:
        units = Decimal(seconds)
        price = unit_price(provider, provider_name, model, SECOND_UNIT, "medium")
    else:
        units = Decimal(max(1, -(-chars // 50)))
        price = unit_price(provider, provider_name, model, CHARS_UNIT, "medium")
    return (price * units).quantize(Decimal("0.0001"))
