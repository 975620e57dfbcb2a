"""Moderation before publishing (issue 17): draft → published, or held for a staff decision.

Bulk publish and the studio's "use as" call `services.publishing.publish_assets`, which asks this
module for the checks (`check_many`). With a moderation provider chosen in
Admin → Moderation (OpenAI's ``omni-moderation-latest``, through the OpenAI provider's key rules: the
producer's own key when they use it, else the platform key), every draft is checked over its image
and its words: clean → published; flagged → held with the categories; a failed check (timeout, 429,
unreadable answer, no key) → held as "check failed, retry" — never silently published. Without a
provider the verdict is "not checked": when `required()` publishing is refused with what to do,
otherwise it goes ahead marked so.

Every call is costed like generation: the price comes from the OpenAI provider's price table
(``omni-moderation-latest`` / ``moderation`` / ``medium``; free — $0 — when the admin has not priced
it), the platform budget is checked and reserved, the allowance (``moderation`` checks per hour) is
taken up front, and each call is one ledger row (operation ``moderate``), whatever its outcome.

Staff decisions (`decide`) are one conditional UPDATE ``… WHERE status = 'held'``: of two staff
deciding at once, one wins, and only the winner audits and e-mails the producer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app

from webapp.extensions import db
from webapp.models import Asset, AssetStatus, User, utcnow
from webapp.services import audit, settings_store

log = logging.getLogger(__name__)

MODEL = "omni-moderation-latest"
OPERATION = "moderate"
PRICE_SIZE, PRICE_QUALITY = "moderation", "medium"
DEFAULT_PRICE = Decimal("0")  # OpenAI does not charge for moderation; an admin can price it
PROVIDERS = {"openai": "OpenAI omni-moderation-latest"}

CLEAN, FLAGGED, ERROR, NOT_CHECKED = "clean", "flagged", "error", "not_checked"
STATE_LABELS = {
    CLEAN: "checked: nothing flagged",
    FLAGGED: "flagged by moderation",
    ERROR: "check failed, retry",
    NOT_CHECKED: "not checked (no moderation provider)",
}
STATUS_LABELS = {
    AssetStatus.DRAFT.value: "Draft",
    AssetStatus.HELD.value: "Held for review",
    AssetStatus.PUBLISHED.value: "Published",
    AssetStatus.REJECTED.value: "Rejected",
}

REQUIRED_NO_PROVIDER = (
    "Publishing needs a moderation check, and no moderation provider is set up. "
    "Ask an admin to choose one in Admin → Moderation (or to stop requiring the check); "
    "nothing was published."
)


UNREACHABLE = "Check failed, retry: the moderation service failed for the images before this one."


class ModerationError(ValueError):
    """A refusal before anything changed; the message says what to do."""


class AlreadyDecided(ModerationError):
    pass


@dataclass
class Verdict:
    state: str
    categories: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    message: str = ""
    provider: str | None = None

    def as_json(self) -> dict[str, Any]:
        top = dict(sorted(self.scores.items(), key=lambda kv: -kv[1])[:6])
        return {
            "state": self.state,
            "categories": self.categories,
            "scores": {k: round(v, 4) for k, v in top.items()},
            "message": self.message or STATE_LABELS[self.state],
            "provider": self.provider,
            "model": MODEL if self.provider else None,
            "checked_at": utcnow().isoformat(timespec="seconds"),
        }


@dataclass
class Outcome:
    published: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    not_checked: bool = False
    held_notes: list[str] = field(default_factory=list)
    describe_note: str = ""  # "Descriptions are being written…" when an AI describer took them

    def note(self) -> str:
        """What to tell the producer about the held images ('' when none)."""
        if not self.held:
            return ""
        n = len(self.held)
        why = "; ".join(self.held_notes)
        return f"{n} image{'s are' if n != 1 else ' is'} held for a staff decision ({why})."


# --------------------------------------------------------------------------------- admin settings


def provider_name() -> str | None:
    name = settings_store.get("moderation.provider")
    return name if name in PROVIDERS else None


def required() -> bool:
    value = settings_store.get("moderation.required")
    return bool(current_app.config.get("MODERATION_REQUIRED", False)) if value is None else bool(value)


def update_settings(actor: User, provider: str | None, must_check: bool) -> None:
    """Choose the moderation provider (or none) and whether publishing requires a check; audited."""
    provider = provider or None
    if provider is not None and provider not in PROVIDERS:
        raise ModerationError("Choose OpenAI or no moderation provider.")
    before = {"provider": provider_name(), "required": required()}
    settings_store.put("moderation.provider", provider)
    settings_store.put("moderation.required", bool(must_check))
    audit.record(
        "moderation.settings",
        "moderation",
        {"before": before, "after": {"provider": provider, "required": must_check}},
        actor,
    )
    db.session.commit()


# --------------------------------------------------------------------------------- routing and cost


def _route(user: User):
    """(route, key, base_url) for a check, or raise ModerationError saying why none can run."""
    from webapp.services import keys
    from webapp.services.providers import Route, get_provider

    name = provider_name()
    row = get_provider(name)
    own = keys.user_keys(user).get(name)
    if own is not None and own.use_own:
        route = Route(name, MODEL, "user", row, own.id)
        return route, keys.user_key_plaintext(own, "moderation"), keys.base_url_for(name, row, own_key=True)
    if row is None or not row.enabled or not row.encrypted_key:
        raise ModerationError(
            f"The {name} provider has no platform key or is switched off, so images cannot be checked. "
            "An admin can add the key in Admin → Providers."
        )
    route = Route(name, MODEL, "platform", row)
    return route, keys.platform_key(row, "moderation"), keys.base_url_for(name, row)


def price(row: Any) -> Decimal:
    """One check's price from the provider's table; $0 when the admin has not priced moderation."""
    from webapp.services import pricing

    table = (row.price_table if row is not None else None) or {}
    if MODEL not in table:
        return DEFAULT_PRICE
    return pricing.estimate(row, row.name, MODEL, PRICE_SIZE, PRICE_QUALITY, 1)


def take_allowance_and_budget(user: User, n: int) -> None:
    """Up front, before anything changes: the hourly allowance and the month's budget for n checks."""
    from webapp.services import budget, keys, limits
    from webapp.services.providers import get_provider

    name = provider_name()
    own = keys.user_keys(user).get(name)
    if own is not None and own.use_own:
        return  # own-key work takes no allowance and no platform budget
    row = get_provider(name)
    if row is not None:
        try:
            budget.check(row, price(row) * n)
        except budget.BudgetExceeded as exc:
            raise ModerationError(f"{exc.message} Nothing was published.") from None
    try:
        limits.take_used("moderation", user, n)
    except limits.LimitReached as exc:
        raise ModerationError(f"{exc.message} Nothing was published.") from None


def _image_bytes(asset: Asset) -> bytes | None:
    from webapp.storage import get_storage

    try:
        return get_storage().get(asset.thumb_key or asset.storage_key)
    except Exception:
        return get_storage().get(asset.storage_key)


def _text_of(asset: Asset) -> str:
    """The words checked with the image: its own, and the prompt it was drawn from. A format or a
    render made from a generated image carries no prompt of its own, so its source's (the parent's,
    else the original's) is checked with it, as it was when the source itself was published."""
    prompt = asset.prompt
    for source_id in (asset.parent_id, asset.group_id):
        if prompt or not source_id:
            continue
        source = db.session.get(Asset, source_id)
        prompt = source.prompt if source is not None else None
    return " \n".join(t for t in (prompt, asset.title, asset.alt_text, asset.description) if t)[:4000]


def resolve(user: User) -> tuple[Any, str, str | None] | Verdict:
    """The route, key and URL for this publish (decrypted once), or the ERROR verdict saying why not."""
    try:
        return _route(user)
    except Exception as exc:  # no key, a key that cannot be read, a refused base URL
        message = str(exc) if isinstance(exc, ModerationError) else "The moderation key could not be used."
        return Verdict(ERROR, message=f"Check failed, retry: {message}", provider=provider_name())


def check(user: User, asset: Asset, resolved: Any = None) -> Verdict:
    """One moderation call (ledgered, budgeted). A failure is a verdict (ERROR), never a pass."""
    return check_many(user, [asset], resolved)[0]


def check_many(user: User, assets: list[Asset], resolved: Any = None) -> list[Verdict]:
    """One moderation call per asset, ``MODERATION_CONCURRENCY`` of them in flight at once.

    Why concurrent: a bulk publish of 40 images checked one after another kept the producer's
    request open for 40 round trips (~0.5-1.5 s each at OpenAI, up to the 20 s timeout), which could
    outlast the web server's own timeout. Only the HTTP calls run in threads (each builds its own
    client from the key); the budget reservation before and the settlement and ledger row after each
    call stay in this thread, in order, so money is handled exactly as for one call. After two
    failed calls in a row the service is taken as down: the rest are held as "check failed, retry"
    without calling it (and without a ledger row, since nothing was asked).
    """
    from concurrent.futures import ThreadPoolExecutor

    from webapp.providers.base import ProviderError, ProviderUnavailable
    from webapp.providers.moderation_openai import moderate
    from webapp.services import budget

    name = provider_name()
    if name is None:
        return [Verdict(NOT_CHECKED) for _ in assets]
    resolved = resolved if resolved is not None else resolve(user)
    if isinstance(resolved, Verdict):
        return [resolved for _ in assets]
    route, key, base_url = resolved
    cost = price(route.provider_row)
    timeout = float(current_app.config.get("MODERATION_TIMEOUT_SECONDS", 20))
    width = max(1, int(current_app.config.get("MODERATION_CONCURRENCY", 4)))
    verdicts: list[Verdict] = []
    unreachable = 0
    with ThreadPoolExecutor(max_workers=min(width, len(assets)) or 1, thread_name_prefix="moderate") as pool:
        for first in range(0, len(assets), width):
            wave = assets[first : first + width]
            if unreachable >= 2:  # the service is down: do not make the producer wait for every image
                verdicts += [Verdict(ERROR, message=UNREACHABLE, provider=name) for _ in wave]
                continue
            calls: list[tuple[Any, Any]] = []  # (reservation, future) or (None, Verdict) per asset
            for asset in wave:
                reservation = None
                if route.key_owner == "platform" and route.provider_row is not None and cost > 0:
                    try:
                        reservation = budget.reserve(route.provider_row, cost)
                    except budget.BudgetExceeded as exc:
                        calls.append(
                            (
                                None,
                                Verdict(ERROR, message=f"Check failed, retry: {exc.message}", provider=name),
                            )
                        )
                        continue
                text, image = _text_of(asset), _image_bytes(asset)
                calls.append(
                    (reservation, pool.submit(moderate, key, text, image, base_url=base_url, timeout=timeout))
                )
            for reservation, pending in calls:
                if isinstance(pending, Verdict):
                    verdict = pending
                else:
                    try:
                        result: Any = pending.result()
                    except ProviderError as exc:
                        result = exc
                    except Exception as exc:  # never a pass, and never a reservation left held
                        log.exception("moderation call failed unexpectedly")
                        result = ProviderUnavailable(
                            "The moderation service could not be asked.", detail=type(exc).__name__
                        )
                    verdict = _settle(user, route, name, cost, reservation, result)
                verdicts.append(verdict)
                unreachable = unreachable + 1 if verdict.state == ERROR else 0
    return verdicts


def _settle(user: User, route: Any, name: str, cost: Decimal, reservation: Any, result: Any) -> Verdict:
    """The call's money and ledger row (whatever its outcome), and its verdict."""
    from webapp.providers.base import ProviderError, RateLimited
    from webapp.providers.moderation_openai import MalformedAnswer
    from webapp.services import budget, ledger

    if isinstance(result, ProviderError):
        exc = result
        outcome = (
            "rate_limited"
            if isinstance(exc, RateLimited)
            else "malformed"
            if isinstance(exc, MalformedAnswer)
            else "unavailable"
        )
        if reservation is not None:
            budget.release(reservation)
        ledger.record(
            user.id, route, OPERATION, PRICE_SIZE, PRICE_QUALITY, 0, Decimal(0), None, outcome, exc.detail
        )
        return Verdict(ERROR, message=f"Check failed, retry: {exc.message}", provider=name)
    if reservation is not None:
        budget.settle(reservation, cost)
    ledger.record(
        user.id,
        route,
        OPERATION,
        PRICE_SIZE,
        PRICE_QUALITY,
        0,
        cost,
        None,
        "flagged" if result.flagged else "success",
        ", ".join(result.categories) or None,
    )
    if result.flagged:
        return Verdict(FLAGGED, result.categories, result.scores, provider=name)
    return Verdict(CLEAN, [], result.scores, provider=name)
