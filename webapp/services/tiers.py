"""Tiers: free (offline), budget (Hugging Face), premium (Runway, OpenAI, Gemini) — and `auto`.

A generation may name a provider, a tier, or `auto`. A tier picks the cheapest provider of that tier
the producer can actually use now; `auto` tries premium, then budget, then free, and takes the first
tier with a usable provider. "Usable" is the same set of rules the action applies afterwards, looked
at (never reserved) here: the provider is enabled and has a key (the platform's, or the producer's
own with "use my key" on), the producer's hourly allowance covers the request on a platform key, and
the provider's monthly budget covers its estimate. The reason names the provider chosen and why each
better tier was passed over, so the studio, the API and the CLI can say it in one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from webapp.models import Provider, User
from webapp.providers import REGISTRY
from webapp.services import budget, limits
from webapp.services.pricing import TIER_ORDER, PriceMissing, estimate, tier_of

CHOICES = ("auto", *TIER_ORDER)


class TierError(ValueError):
    """No provider of the asked tier can take the request; the message says why."""


@dataclass(frozen=True)
class Choice:
    provider: str
    tier: str
    reason: str
    use_own_key: bool | None = None


def _size(name: str, image_type: str) -> str:
    cls = REGISTRY[name]
    return cls.size_for(cls.__new__(cls), image_type)


def _candidate(
    user: User, row: Provider, own: dict, image_type: str, quality: str, images: int
) -> tuple[Decimal | None, str | None]:
    """(cost, None) when `row` can take the request now, else (None, why not)."""
    cls = REGISTRY.get(row.name)
    if cls is None or not cls.enabled():
        return None, "not installed"
    key_row = own.get(row.name)
    own_key = key_row is not None and key_row.use_own
    if not own_key and not row.enabled:
        return None, "not enabled"
    if cls.spec.needs_key and not own_key and not row.encrypted_key:
        return None, "no key set"
    try:
        cost = estimate(row, row.name, row.model, _size(row.name, image_type), quality, images)
    except PriceMissing:
        return None, "no price set"
    if own_key or not cls.spec.needs_key:
        return (Decimal(0) if own_key else cost), None
    allowance = limits.allowance("ai", user, row.user_images_per_hour)
    if allowance.remaining is not None and allowance.remaining < images:
        return None, "your hourly allowance is used up"
    try:
        budget.check(row, cost)
    except budget.BudgetExceeded:
        return None, "this month's budget is spent"
    return cost, None


def choose(user: User, tier: str, image_type: str, quality: str, images: int, operation: str) -> Choice:
    """The cheapest usable provider of `tier` (or, for `auto`, of the highest tier that has one)."""
    from webapp.services.keys import user_keys
    from webapp.services.providers import ensure_providers

    if tier not in CHOICES:
        raise TierError(f"Choose a tier: {', '.join(CHOICES)}.")
    own = user_keys(user)
    rows = [p for p in ensure_providers() if p.name in REGISTRY]
    if operation == "edit":
        rows = [p for p in rows if REGISTRY[p.name].spec.can_edit]
    wanted = list(reversed(TIER_ORDER)) if tier == "auto" else [tier]
    passed: list[str] = []
    for level in wanted:
        options: list[tuple[Decimal, str, Provider]] = []
        why_not: list[str] = []
        for row in rows:
            if tier_of(row, row.name) != level:
                continue
            cost, problem = _candidate(user, row, own, image_type, quality, images)
            if problem:
                why_not.append(f"{REGISTRY[row.name].spec.display_name}: {problem}")
            else:
                options.append((cost, row.fallback_order, row))
        if options:
            cost, _order, row = min(options, key=lambda o: (o[0], o[1]))
            name = REGISTRY[row.name].spec.display_name
            own_key = row.name in own and own[row.name].use_own
            reason = f"{name} is the cheapest {level} provider you can use (${cost:.4f}"
            reason += " on your own key)." if own_key else ")."
            if passed:
                reason += " Skipped " + "; ".join(passed) + "."
            return Choice(row.name, level, reason, True if own_key else None)
        passed.append(f"{level} ({', '.join(why_not) or 'no provider'})")
    raise TierError(
        "No provider can take this request: " + "; ".join(passed) + ". Add a key, ask an admin, or try later."
    )


def status_for(user: User) -> list[dict]:
    """What a producer may see about each provider: enabled, tier, prices of the model in use (USD),
    whether their own key is set and used. Never a platform key, its suffix or a base URL."""
    from webapp.services.keys import user_keys
    from webapp.services.pricing import unit_price
    from webapp.services.providers import ensure_providers

    own = user_keys(user)
    out = []
    for row in ensure_providers():
        cls = REGISTRY.get(row.name)
        if cls is None:
            continue
        spec = cls.spec
        prices: dict[str, dict[str, str]] = {}
        for image_type in ("poster", "square", "banner"):
            size = _size(row.name, image_type)
            for quality in ("low", "medium", "high"):
                try:
                    value = unit_price(row, row.name, row.model, size, quality)
                except PriceMissing:
                    continue
                prices.setdefault(image_type, {})[quality] = str(value.quantize(Decimal("0.0001")))
        key_row = own.get(row.name)
        out.append(
            {
                "name": row.name,
                "display_name": spec.display_name,
                "tier": tier_of(row, row.name),
                "enabled": bool(
                    row.enabled and cls.enabled() and (not spec.needs_key or row.encrypted_key is not None)
                ),
                "is_default": row.is_default,
                "model": row.model,
                "can_edit": spec.can_edit,
                "video": hasattr(cls, "animate"),
                "voice": hasattr(cls, "speak"),
                "needs_key": spec.needs_key,
                "prices": prices,
                "currency": "USD",
                "own_key_set": key_row is not None,
                "own_key_in_use": bool(key_row is not None and key_row.use_own),
            }
        )
    return out
