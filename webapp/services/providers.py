"""Platform provider settings and routing: which provider and whose key serves a request.

Routing rules (in this order): the producer's explicit choice, else the platform default; the
producer's own key when they opted in and have one for that provider, else the platform key.
Fallback candidates are the other ENABLED platform providers, in fallback order, that can do the
same operation — never a producer's own key unless they allowed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Provider, User
from webapp.providers import REGISTRY
from webapp.services import audit
from webapp.services.pricing import DEFAULT_PRICES, TIERS


class RoutingError(ValueError):
    """No provider can serve this request; the message says what to do."""


def ensure_providers() -> list[Provider]:
    """One row per registered provider; the offline generator is enabled and default on a fresh
    install so the whole app works without any key."""
    existing = {p.name: p for p in db.session.scalars(select(Provider))}
    order = {"local": 30, "openai": 10, "gemini": 20, "runway": 15, "huggingface": 25}
    for name, cls in REGISTRY.items():
        if name in existing:
            continue
        row = Provider(
            name=name,
            model=cls.spec.default_model,
            enabled=not cls.spec.needs_key,
            is_default=False,
            fallback_order=order.get(name, 50),
            price_table=DEFAULT_PRICES.get(name, {}),
            images_per_minute=600 if name == "local" else 60,
            user_images_per_hour=5,
            tier=TIERS.get(name, "premium"),
            options={"routing": "hf-inference"} if name == "huggingface" else None,
        )
        db.session.add(row)
        existing[name] = row
    if not any(p.is_default for p in existing.values()) and "local" in existing:
        existing["local"].is_default = True
    db.session.commit()
    return sorted(existing.values(), key=lambda p: (p.fallback_order, p.name))


def get_provider(name: str) -> Provider | None:
    return db.session.scalar(select(Provider).where(Provider.name == name))


def enabled_providers() -> list[Provider]:
    ensure_providers()
    rows = db.session.scalars(
        select(Provider).where(Provider.enabled.is_(True)).order_by(Provider.fallback_order)
    )
    return [p for p in rows if p.name in REGISTRY and REGISTRY[p.name].enabled()]


def set_default(provider: Provider, actor: User | None = None) -> None:
    """Exactly one default: cleared everywhere and set here in one transaction."""
    if not provider.enabled:
        raise RoutingError("Enable the provider before making it the default.")
    db.session.execute(update(Provider).values(is_default=False))
    provider.is_default = True
    audit.record("provider.set_default", f"provider:{provider.name}", {}, actor)
    db.session.commit()


def update_settings(provider: Provider, changes: dict, actor: User | None = None) -> bool:
    """Apply validated admin changes; the audit detail names the fields, never a key.

    A new base URL clears the stored platform key (returns True when it did): whoever moves the
    key's destination must prove they hold the key by entering it again, so a stolen admin
    session or admin-scope token cannot redirect a key it never saw."""
    allowed = {
        "model",
        "enabled",
        "fallback_order",
        "default_quality",
        "base_url",
        "images_per_minute",
        "user_images_per_hour",
        "price_table",
        "monthly_budget",
        "alert_percent",
        "tier",
        "options",
    }
    changed = {}
    for field, value in changes.items():
        if field in allowed and getattr(provider, field) != value:
            setattr(provider, field, value)
            changed[field] = str(value)[:60] if field not in ("price_table", "options") else "updated"
    key_cleared = "base_url" in changed and provider.encrypted_key is not None
    if key_cleared:
        changed["key_cleared"] = provider.key_suffix or "yes"
        provider.encrypted_key, provider.key_suffix = None, None
        provider.last_test_ok, provider.last_tested_at = None, None
        provider.last_test_message = "The base URL changed: enter the key again."
    if provider.is_default and not provider.enabled:
        # enabled_providers() -> ensure_providers() may itself mark "local" default once this one is
        # cleared, so clear every default first and then set exactly one.
        fallback = next((p for p in enabled_providers() if p.id != provider.id), None)
        db.session.execute(update(Provider).values(is_default=False))
        provider.is_default = False
        if fallback is not None:
            fallback.is_default = True
    audit.record("provider.update", f"provider:{provider.name}", changed, actor)
    db.session.commit()
    return key_cleared


@dataclass
class Route:
    provider_name: str
    model: str
    key_owner: str  # "platform" | "user"
    provider_row: Provider | None
    user_key_id: int | None = None

    @property
    def spec(self):
        return REGISTRY[self.provider_name].spec


def plan(
    user: User,
    provider_name: str | None,
    operation: str,
    use_own_key: bool | None = None,
    model: str | None = None,
) -> list[Route]:
    """The route to try first, then the allowed fallbacks."""
    from webapp.services.keys import user_keys

    enabled = enabled_providers()
    by_name = {p.name: p for p in enabled}
    own = user_keys(user)
    if provider_name:
        if provider_name not in REGISTRY:
            raise RoutingError(f"Unknown provider {provider_name!r}.")
        chosen = provider_name
    else:
        default = next((p for p in enabled if p.is_default), enabled[0] if enabled else None)
        if default is None:
            raise RoutingError("No AI provider is enabled. An admin can enable one at /admin/providers.")
        chosen = default.name
    key_row = own.get(chosen)
    wants_own = key_row is not None and (key_row.use_own if use_own_key is None else use_own_key)
    routes: list[Route] = []
    if wants_own:
        routes.append(
            Route(
                chosen,
                model
                or (by_name[chosen].model if chosen in by_name else REGISTRY[chosen].spec.default_model),
                "user",
                by_name.get(chosen),
                key_row.id,
            )
        )
        if not key_row.allow_fallback:
            return routes
    elif chosen not in by_name:
        raise RoutingError(
            f"{REGISTRY[chosen].spec.display_name} is not enabled on this platform. Choose another provider"
            + (", or add your own key in Settings." if REGISTRY[chosen].spec.needs_key else ".")
        )
    else:
        routes.append(Route(chosen, model or by_name[chosen].model, "platform", by_name[chosen]))
    for p in enabled:
        # The offline generator is never a silent stand-in for a real model the producer chose.
        if p.name == chosen or not REGISTRY[p.name].spec.needs_key:
            continue
        if operation == "edit" and not REGISTRY[p.name].spec.can_edit:
            continue
        routes.append(Route(p.name, p.model, "platform", p))
    return routes


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"${value:,.2f}"
