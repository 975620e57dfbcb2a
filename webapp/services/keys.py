"""Provider keys: set, replace, test, delete, decrypt — every operation validated and audited.

A key is tested with the provider's cheapest call before it is saved, stored encrypted (platform
and user keys in separate vaults), and never shown again beyond its last four characters. The
plaintext lives only in local variables on its way to the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from webapp import base_urls
from webapp.base_urls import BaseUrlRefused
from webapp.crypto import VaultError, platform_vault, user_vault
from webapp.extensions import db
from webapp.models import Provider, User, UserKey, utcnow
from webapp.providers import REGISTRY, InvalidKey, ProviderError, create_provider, key_suffix
from webapp.services import audit

KEY_PROVIDERS = ("openai", "gemini", "runway", "huggingface")


class KeyRefused(ValueError):
    """The key failed its test (or is malformed): nothing was saved."""


UNREADABLE = (
    "This key can no longer be decrypted — the encryption key it was stored under was rotated "
    "away; enter the key again."
)


class KeyUnreadable(RuntimeError):
    """A stored key cannot be decrypted with the configured Fernet keys (an old key was removed
    before `flask keys rotate` ran). Not the caller's or the provider's fault, and not a crash:
    the only fix is to enter the key again, so routes answer 409 with UNREADABLE."""

    def __init__(self) -> None:
        super().__init__(UNREADABLE)


def _clean(key: str) -> str:
    key = (key or "").strip()
    if (
        not key
        or len(key) < 8
        or len(key) > 512
        or not key.isascii()
        or not key.isprintable()
        or any(ch.isspace() for ch in key)
    ):
        raise KeyRefused("That does not look like an API key: paste the whole key, without spaces.")
    return key


def base_url_for(name: str, provider: Provider | None = None, *, own_key: bool = False) -> str | None:
    """Where a key for `name` goes, checked against the allow-list right before it is sent (a URL
    stored before the allow-list changed is refused with BaseUrlRefused, never used).

    The platform key follows the admin's base URL on the provider row, else the operator's
    `<NAME>_BASE_URL`. A producer's own key never follows the admin's choice: only the operator's
    deployment setting (itself on the allow-list), else the provider's own host (None)."""
    configured = current_app.config.get(f"{name.upper()}_BASE_URL") or None
    url = configured if own_key or provider is None or not provider.base_url else provider.base_url
    return check_base_url(url, name)


def check_base_url(url: str | None, name: str) -> str | None:
    """`url` when keys for `name` may go there (None: the provider's own host); else BaseUrlRefused."""
    return base_urls.check(url, name, current_app.config.get("PROVIDER_BASE_URL_ALLOWLIST", ""))


def _test(name: str, key: str, base_url: str | None) -> None:
    """Cheapest call the provider has; raises KeyRefused with the provider's reason."""
    try:
        base_url = check_base_url(base_url, name)
    except BaseUrlRefused as exc:
        raise KeyRefused(f"{exc} Nothing was sent.") from None
    timeout = float(current_app.config.get("KEY_TEST_TIMEOUT_SECONDS", 15))
    try:
        create_provider(name, key, base_url=base_url, timeout=timeout).validate_key()
    except InvalidKey as exc:
        raise KeyRefused(f"{REGISTRY[name].spec.display_name} refused the key: {exc.message}") from None
    except ProviderError as exc:
        raise KeyRefused(
            f"The key could not be checked right now ({exc.message}). Nothing was saved; try again shortly."
        ) from None


# Platform keys ---------------------------------------------------------------------------------


def set_platform_key(provider: Provider, key: str, actor: User | None = None) -> None:
    key = _clean(key)
    action = "platform_key.replace" if provider.encrypted_key else "platform_key.set"
    try:
        _test(provider.name, key, _platform_url(provider))
    except KeyRefused as exc:
        audit.record(f"{action}.refused", f"provider:{provider.name}", {"suffix": key_suffix(key)}, actor)
        db.session.commit()
        raise exc from None
    provider.encrypted_key = platform_vault().encrypt(key)
    provider.key_suffix = key_suffix(key)
    provider.last_test_ok, provider.last_tested_at = True, utcnow()
    provider.last_test_message = "Key accepted."
    audit.record(action, f"provider:{provider.name}", {"suffix": provider.key_suffix}, actor)
    db.session.commit()


def platform_key(provider: Provider, purpose: str, actor: User | None = None) -> str | None:
    """Decrypt for use (audited)."""
    if not provider.encrypted_key:
        return None
    key = platform_vault().decrypt(provider.encrypted_key)
    audit.record(
        "platform_key.decrypt",
        f"provider:{provider.name}",
        {"purpose": purpose, "suffix": provider.key_suffix},
        actor,
    )
    db.session.commit()
    return key


def test_platform_key(provider: Provider, actor: User | None = None) -> tuple[bool, str]:
    """(ok, message), recorded on the row and audited. Raises KeyUnreadable (after recording and
    auditing it) when the stored key cannot be decrypted any more."""
    spec = REGISTRY[provider.name].spec
    if not spec.needs_key:
        ok, message = True, "No key needed."
    else:
        try:
            key = platform_key(provider, "test", actor)
        except VaultError:
            provider.last_test_ok, provider.last_test_message = False, UNREADABLE[:300]
            provider.last_tested_at = utcnow()
            audit.record(
                "platform_key.test",
                f"provider:{provider.name}",
                {"ok": False, "reason": "undecryptable", "suffix": provider.key_suffix},
                actor,
            )
            db.session.commit()
            raise KeyUnreadable() from None
        if key is None:
            ok, message = False, "No key is set."
        else:
            try:
                _test(provider.name, key, _platform_url(provider))
                ok, message = True, "Key accepted."
            except KeyRefused as exc:
                ok, message = False, str(exc)
    provider.last_test_ok, provider.last_test_message, provider.last_tested_at = ok, message[:300], utcnow()
    audit.record(
        "platform_key.test", f"provider:{provider.name}", {"ok": ok, "suffix": provider.key_suffix}, actor
    )
    db.session.commit()
    return ok, message


# Producers' own keys ---------------------------------------------------------------------------


@dataclass
class KeyView:
    provider: str
    display_name: str
    key: UserKey | None


def user_keys(user: User) -> dict[str, UserKey]:
    return {k.provider: k for k in db.session.scalars(select(UserKey).where(UserKey.owner_id == user.id))}


def add_user_key(user: User, provider_name: str, key: str) -> UserKey:
    if provider_name not in KEY_PROVIDERS:
        raise KeyRefused("Choose OpenAI, Google Gemini, Runway or Hugging Face.")
    key = _clean(key)
    existing = user_keys(user).get(provider_name)
    action = "user_key.replace" if existing else "user_key.add"
    try:
        _test(provider_name, key, _own_key_url(provider_name))
    except KeyRefused:
        audit.record(
            f"{action}.refused", f"user_key:{provider_name}", {"suffix": key_suffix(key), "owner": user.id}
        )
        db.session.commit()
        raise
    row = existing or UserKey(owner_id=user.id, provider=provider_name, use_own=True)
    row.encrypted_key = user_vault().encrypt(key)
    row.key_suffix = key_suffix(key)
    row.last_validated_at, row.last_validation_ok, row.last_validation_message = (
        utcnow(),
        True,
        "Key accepted.",
    )
    db.session.add(row)
    audit.record(action, f"user_key:{provider_name}", {"suffix": row.key_suffix, "owner": user.id})
    db.session.commit()
    return row


def user_key_plaintext(row: UserKey, purpose: str) -> str:
    key = user_vault().decrypt(row.encrypted_key)
    audit.record(
        "user_key.decrypt",
        f"user_key:{row.provider}",
        {"purpose": purpose, "suffix": row.key_suffix, "owner": row.owner_id},
    )
    db.session.commit()
    return key


def test_user_key(row: UserKey) -> tuple[bool, str]:
    """Raises KeyUnreadable (after recording and auditing it) when the stored key cannot be
    decrypted any more."""
    try:
        key = user_key_plaintext(row, "test")
    except VaultError:
        row.last_validated_at, row.last_validation_ok = utcnow(), False
        row.last_validation_message = UNREADABLE[:300]
        audit.record(
            "user_key.test",
            f"user_key:{row.provider}",
            {"ok": False, "reason": "undecryptable", "suffix": row.key_suffix, "owner": row.owner_id},
        )
        db.session.commit()
        raise KeyUnreadable() from None
    try:
        _test(row.provider, key, _own_key_url(row.provider))
        ok, message = True, "Key accepted."
    except KeyRefused as exc:
        ok, message = False, str(exc)
    row.last_validated_at, row.last_validation_ok, row.last_validation_message = utcnow(), ok, message[:300]
    audit.record(
        "user_key.test",
        f"user_key:{row.provider}",
        {"ok": ok, "suffix": row.key_suffix, "owner": row.owner_id},
    )
    db.session.commit()
    return ok, message


def delete_user_key(row: UserKey) -> None:
    audit.record(
        "user_key.delete", f"user_key:{row.provider}", {"suffix": row.key_suffix, "owner": row.owner_id}
    )
    db.session.delete(row)
    db.session.commit()


def set_use_own(row: UserKey, use_own: bool, allow_fallback: bool | None = None) -> None:
    row.use_own = bool(use_own)
    if allow_fallback is not None:
        row.allow_fallback = bool(allow_fallback)
    audit.record(
        "user_key.preference",
        f"user_key:{row.provider}",
        {"use_own": row.use_own, "allow_fallback": row.allow_fallback, "owner": row.owner_id},
    )
    db.session.commit()


def _platform_url(provider: Provider) -> str | None:
    """The platform key's URL (unchecked here: `_test` checks it and turns a refusal into KeyRefused)."""
    return provider.base_url or current_app.config.get(f"{provider.name.upper()}_BASE_URL") or None


def _own_key_url(name: str) -> str | None:
    """The operator's URL (unchecked here: `_test` checks it and turns a refusal into KeyRefused)."""
    return current_app.config.get(f"{name.upper()}_BASE_URL") or None


def _platform_row(name: str) -> Provider | None:
    return db.session.scalar(select(Provider).where(Provider.name == name))


def rotate_all() -> dict[str, int]:
    """Re-encrypt every stored key under the newest Fernet key of its vault."""
    counts = {"platform": 0, "user": 0}
    pv, uv = platform_vault(), user_vault()
    try:
        for provider in db.session.scalars(select(Provider).where(Provider.encrypted_key.is_not(None))):
            provider.encrypted_key = pv.rotate(provider.encrypted_key)
            counts["platform"] += 1
        for row in db.session.scalars(select(UserKey)):
            row.encrypted_key = uv.rotate(row.encrypted_key)
            counts["user"] += 1
    except VaultError:
        db.session.rollback()  # all or nothing: a half-rotated vault is harder to recover
        raise
    audit.record("keys.rotate", "vaults", counts)
    db.session.commit()
    return counts
