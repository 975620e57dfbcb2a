"""Prices per image: ONE function used by the estimate shown before a generation, the budget
reservation and the ledger, so the three can never disagree.

Prices live in each Provider row's editable `price_table` ({model: {size: {quality: "0.05"}}}),
pre-filled from list prices. A missing entry is an error, never a silent $0.
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

# List prices producers quoted (USD per image). Admins can edit them per provider.
DEFAULT_PRICES: dict[str, dict[str, dict[str, dict[str, str]]]] = {
    "openai": {
        "gpt-image-1.5": _table(("0.009", "0.034", "0.133"), ("0.013", "0.05", "0.20")),
        "gpt-image-1-mini": _table(("0.005", "0.011", "0.036"), ("0.006", "0.015", "0.052")),
    },
    "gemini": {
        "gemini-2.5-flash-image": _flat("0.039", GEMINI_ASPECTS),
        "gemini-3.1-flash-image": _flat("0.045", GEMINI_ASPECTS),
        "gemini-3-pro-image": _flat("0.134", GEMINI_ASPECTS),
    },
    # 2160x1089: the offline generator draws banners at the banner format; 1536x1024 stays for old jobs.
    "local": {"procedural-v1": _flat("0", ("1024x1024", "1024x1536", "1536x1024", "2160x1089"))},
}


class PriceMissing(LookupError):
    """No price for this model/size/quality: refuse rather than record $0."""


def unit_price(provider: Provider | None, provider_name: str, model: str, size: str, quality: str) -> Decimal:
    table = (
        provider.price_table if provider is not None and provider.price_table else None
    ) or DEFAULT_PRICES.get(provider_name, {})
    try:
        return Decimal(str(table[model][size][quality]))
    except (KeyError, TypeError, ArithmeticError):
        pass
    try:
        # A size added to a priced model after its row's table was saved (the offline banner at
        # 2160x1089) costs its list price until an admin edits it. A model missing from the table, or a
        # size the table has without this quality, is a real gap and stays refused.
        if size in table[model]:
            raise KeyError(size)
        return Decimal(str(DEFAULT_PRICES[provider_name][model][size][quality]))
    except (KeyError, TypeError, ArithmeticError, AttributeError) as exc:
        raise PriceMissing(
            f"No price is set for {provider_name} {model} at {size} / {quality}. "
            "An admin can add it in the provider's price table."
        ) from exc


def estimate(
    provider: Provider | None, provider_name: str, model: str, size: str, quality: str, images: int
) -> Decimal:
    """The cost of `images` images: the estimate, the reservation and the ledger all use this."""
    return (unit_price(provider, provider_name, model, size, quality) * max(0, images)).quantize(
        Decimal("0.0001")
    )
